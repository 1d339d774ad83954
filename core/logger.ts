import { pino, type Logger, type DestinationStream } from 'pino'

export type { Logger }

/** Anything that looks like a credential inside free text: URL user-info and token query params. */
const SECRET_IN_TEXT = [
  /(\b[a-z][a-z0-9+.-]*:\/\/)([^/@\s:"']*):([^/@\s"']+)@/gi,
  /([?&](?:access_token|token|key|password|client_secret|appsecret_proof)=)[^&\s"']+/gi,
  /(\bBearer\s+)[A-Za-z0-9._~+/=-]+/gi,
]

/** Removes credentials from a string (URLs with user:password, token query parameters, Bearer values). */
export function scrubSecrets(text: string): string {
  return text
    .replace(SECRET_IN_TEXT[0]!, '$1$2:***@')
    .replace(SECRET_IN_TEXT[1]!, '$1***')
    .replace(SECRET_IN_TEXT[2]!, '$1***')
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

function serializeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: scrubSecrets(String(err)) }
  const out: Record<string, unknown> = {
    type: err.name,
    message: scrubSecrets(err.message),
    stack: err.stack ? scrubSecrets(err.stack) : undefined,
  }
  const code = (err as { code?: unknown }).code
  if (code !== undefined) out.code = code
  if (err.cause !== undefined) out.cause = serializeError(err.cause)
  return out
}

/**
 * The one pino logger. Modules take `logger.child({ module })`. Secrets are redacted by path and
 * errors are serialised by hand so that foreign error objects (axios keeps the request config,
 * headers included) never reach the output.
 */
export function createLogger(options: { level: string; pretty?: boolean; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      base: undefined,
      redact: { paths: REDACT_PATHS, censor: '***' },
      serializers: { err: serializeError, error: serializeError },
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
      // The last line of defence: whatever field a credential hides in, it is scrubbed from the output.
      hooks: { streamWrite: scrubSecrets },
    },
    options.destination ?? pino.destination(2),
  )
}
