export { CATALOGUES, type Catalogue, isLanguage, LANGUAGES } from './catalogue.ts'
export { ENGLISH_ON_UTC, MessageError, type MessageValues, type NumberDisplay, Speaker, speaker } from './speaker.ts'
