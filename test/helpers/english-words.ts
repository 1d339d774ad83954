/**
 * English that must never reach a reader of another language: the glossary's status words, the
 * labels and subject words of the English messages, UTC and ISO times. One list for the tests that
 * read rendered Indonesian (docs/messages samples, the Indonesian demo's emails).
 */
export const ENGLISH_WORDS: readonly RegExp[] = [
  /\bon track\b/i,
  /\bat risk\b/i,
  /\bachieved\b/i,
  /\bmissed\b/i,
  /\bno verdict\b/i,
  /\bno data\b/i,
  /\bRESOLVED\b/,
  /\bACTION NEEDED\b/,
  /\bSTALE DATA\b/,
  /\bDEGRADED\b/,
  /\bCRISIS\b/,
  /\bSince\b/,
  /\bWhat to do\b/,
  /\bObjective\b/,
  /\bForecast\b/i,
  /\bExpected\b/i,
  /\bper day\b|\/day\b/,
  /\bof at least\b|\bat most\b/,
  /\bRound\b/,
  /\bUTC\b/,
  /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/,
]
