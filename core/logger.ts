import { createRequire } from 'node:module'
import { pino, type Logger, type DestinationStream } from 'pino'

export type { Logger }

/** Anything that looks like a credential inside free text: URL user-info and token query params. */
const SECRET_IN_TEXT = [
  /(\b[a-z][a-z0-9+.-]*:\/\/)([^/@\s:"']*):([^/@\s"']+)@/gi,
  // input_token: the token Graph's debug_token inspects travels in the query (ingest/auth/expiry.ts).
  /([?&](?:access_token|input_token|token|key|password|client_secret|appsecret_proof)=)[^&\s"']+/gi,
]
/** A Bearer credential (RFC 6750 §2.1 b64token, or URL-encoded as X's app tokens often are). */
const BEARER = /(\bBearer\s+)([A-Za-z0-9._~+/%-]+=*)/gi

/**
 * Whether the word after "Bearer" is a token, not a word of a sentence ("an app-only Bearer Token
 * does not expire"): tokens carry a digit or an inner separator (`ya29.…`, JWTs, `…%2B…`), or are
 * longer than words are.
 */
function looksLikeToken(word: string): boolean {
  return /\d/.test(word) || /[A-Za-z0-9][._~+/%-]+[A-Za-z0-9]/.test(word) || word.replace(/=+$/, '').length >= 24
}

/** Removes credentials from a string (URLs with user:password, token query parameters, Bearer tokens). */
export function scrubSecrets(text: string): string {
  return text
    .replace(SECRET_IN_TEXT[0]!, '$1$2:***@')
    .replace(SECRET_IN_TEXT[1]!, '$1***')
    .replace(BEARER, (whole, prefix: string, word: string) => (looksLikeToken(word) ? `${prefix}***` : whole))
}

/**
 * Takes credentials out of text before it leaves the process (logs, stored errors, job data,
 * emails). `learn` adds a secret met at run time (a renewed access token, a rotated refresh token).
 */
export interface Scrubber {
  (text: string): string
  learn?(secret: string | undefined): void
}

/** What a known secret is replaced with. */
export const REDACTED = '[redacted]'
/** Shorter values would redact ordinary words wherever they appear; such a value is scrubbed only by pattern. */
const MIN_SECRET_LENGTH = 4

/**
 * The one scrubber: every secret value the process knows (account tokens, passwords, OAuth
 * secrets, and tokens renewed since start), as it is and as it reads JSON- or URL-encoded,
 * becomes [redacted], wherever it appears, since an API may echo a token in its error text; then
 * the patterns of scrubSecrets catch credentials we were never told about. Built once in the
 * composition root and passed in.
 */
export function createScrubber(secrets: Iterable<string | undefined> = []): Scrubber {
  const forms = new Set<string>()
  let known: RegExp | undefined
  const learn = (secret: string | undefined) => {
    if (!secret || secret.length < MIN_SECRET_LENGTH || forms.has(secret)) return
    for (const form of [secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)]) forms.add(form)
    known = undefined
  }
  for (const secret of secrets) learn(secret)
  const scrub: Scrubber = (text) => {
    if (forms.size === 0) return scrubSecrets(text)
    // Longest first, so a secret that contains another is replaced whole.
    known ??= new RegExp(
      [...forms]
        .sort((a, b) => b.length - a.length)
        .map((form) => form.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('|'),
      'g',
    )
    return scrubSecrets(text.replace(known, REDACTED))
  }
  scrub.learn = learn
  return scrub
}

const REDACT_PATHS = [
  'password',
  '*.password',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'access_token',
  '*.access_token',
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
  '*.headers["Access-Token"]',
  'smtpUrl',
  'clickhouseUrl',
  '*.config',
  '*.request',
  '*.response',
]

function errorSerializer(scrub: Scrubber) {
  const serializeError = (err: unknown): Record<string, unknown> => {
    if (!(err instanceof Error)) return { message: scrub(String(err)) }
    const out: Record<string, unknown> = {
      type: err.name,
      message: scrub(err.message),
      stack: err.stack ? scrub(err.stack) : undefined,
    }
    const code = (err as { code?: unknown }).code
    if (code !== undefined) out.code = code
    if (err.cause !== undefined) out.cause = serializeError(err.cause)
    return out
  }
  return serializeError
}

/**
 * The one pino logger. Modules take `logger.child({ module })`. Secrets are redacted by path and
 * errors are serialised by hand so that foreign error objects (axios keeps the request config,
 * headers included) never reach the output; `scrub` (the process's scrubber, which knows its
 * secret values; by default the patterns only) then cleans every line written. `pretty`
 * (LOG_PRETTY) turns each scrubbed JSON line into pino-pretty's text before it is written, in
 * this process and at once (no transport thread, so no line is lost at exit); in colour only on a
 * terminal.
 */
export function createLogger(options: { level: string; pretty?: boolean; destination?: DestinationStream; scrub?: Scrubber }): Logger {
  const scrub = options.scrub ?? scrubSecrets
  const serializeError = errorSerializer(scrub)
  const destination = options.destination ?? pino.destination(2)
  return pino(
    {
      level: options.level,
      base: undefined,
      redact: { paths: REDACT_PATHS, censor: '***' },
      serializers: { err: serializeError, error: serializeError },
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
      // The last line of defence: whatever field a credential hides in, it is scrubbed from the output.
      hooks: { streamWrite: scrub },
    },
    options.pretty ? prettyDestination(destination, options.destination === undefined && process.stderr.isTTY === true) : destination,
  )
}

/**
 * LOG_PRETTY: each line as pino-pretty's text, the time as logged; `flush` still reaches the
 * stream. pino-pretty is loaded only then, so a process that logs JSON does not pay for it.
 */
function prettyDestination(destination: DestinationStream & { flush?(cb: (err?: Error) => void): void }, colorize: boolean) {
  const { prettyFactory } = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty')
  const prettify = prettyFactory({ colorize, singleLine: true, translateTime: false })
  return {
    write: (line: string) => destination.write(prettify(line)),
    flush: (cb: (err?: Error) => void) => (destination.flush ? destination.flush(cb) : cb()),
  }
}
