export { CATALOGUES, type Catalogue, isLanguage, LANGUAGES } from './catalogue.ts'
export { MessageError, type MessageValues, type NumberDisplay, Speaker, speaker } from './speaker.ts'
