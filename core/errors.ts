/**
 * Our errors: a stable `code` for programs, a plain message for people, and the original `cause`.
 * Foreign errors are classified by type and code where they enter (see ingest/http.ts), never by
 * message text.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'ARGUMENT_INVALID'
  | 'STOPPED_BY_SIGNAL'
  | 'EVALUATION_FAILED'
  | 'NOT_RUNNING'
  | 'NO_DATA'
  | 'TIMED_OUT'
  | 'PLAN_INVALID'
  | 'PLAN_UNREADABLE'
  | 'API_TOKEN_INVALID'
  | 'API_RATE_LIMITED'
  | 'API_REQUEST_FAILED'
  | 'API_RESPONSE_INVALID'
  | 'API_PAGING_ENDLESS'
  | 'API_ANSWER_TOO_LARGE'
  | 'CLICKHOUSE_WRITE_FAILED'
  | 'REDIS_UNAVAILABLE'
  | 'MIGRATION_FAILED'
  | 'EMAIL_DELIVERY_FAILED'
  | 'NOTIFICATION_DELIVERY_FAILED'
  | 'LOCK_TIMEOUT'
  | 'CONNECTION_ENDED'
  | 'TOKEN_STORE_UNREADABLE'
  | 'CLICKHOUSE_UNAVAILABLE'
  | 'DATA_DIR_IN_USE'
  | 'PORT_UNAVAILABLE'
  | 'SQL_REFUSED'
  | 'SQL_FAILED'
  | 'PLAN_TOO_LARGE'
  | 'SMTP_UNAVAILABLE'

export class SocialKpiError extends Error {
  readonly code: ErrorCode

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

export class ConfigError extends SocialKpiError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONFIG_INVALID', message, options)
  }
}

/** A command-line argument or option that cannot be used: names the option (`--at: ...`). */
export class ArgumentError extends SocialKpiError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ARGUMENT_INVALID', message, options)
  }
}

/** One problem in an input file, located by its path inside the document (`kpis[2].target`). */
export interface InputIssue {
  path: string
  /** The path as a person reads it, naming the item's id beside its index: `kpis[5] (fb-likes-month).target`; `path` when absent. */
  where?: string
  message: string
}

export class PlanError extends SocialKpiError {
  readonly file: string
  readonly issues: InputIssue[]

  constructor(file: string, issues: InputIssue[], options?: { cause?: unknown; code?: 'PLAN_INVALID' | 'PLAN_UNREADABLE' | 'PLAN_TOO_LARGE' }) {
    const lines = issues.map((issue) => {
      const where = issue.where ?? issue.path
      return `  ${where ? `${where}: ` : ''}${issue.message}`
    })
    super(options?.code ?? 'PLAN_INVALID', `${file}: the plan is not valid:\n${lines.join('\n')}`, options)
    this.file = file
    this.issues = issues
  }
}

/** The API refused the credentials: the account needs a new token, retrying will not help. */
export class TokenError extends SocialKpiError {
  readonly network: string
  readonly apiCode: string

  constructor(network: string, apiCode: string, message: string) {
    super('API_TOKEN_INVALID', message)
    this.network = network
    this.apiCode = apiCode
  }
}

/**
 * The API asked us to slow down; `retryAfterMs` is its own estimate of when to come back. (Named
 * apart from BullMQ's `RateLimitError`, which a processor throws to pause its own worker.)
 */
export class ApiRateLimitError extends SocialKpiError {
  readonly retryAfterMs: number

  constructor(message: string, retryAfterMs: number) {
    super('API_RATE_LIMITED', message)
    this.retryAfterMs = retryAfterMs
  }
}

/**
 * A request that failed for another reason; `retryable` says whether trying again may help. Its
 * code is API_RESPONSE_INVALID when the API answered, but not with JSON of the documented shape.
 */
export class ApiError extends SocialKpiError {
  readonly status: number | undefined
  readonly apiCode: string | undefined
  readonly retryable: boolean

  constructor(message: string, details: { status?: number; apiCode?: string; retryable: boolean; code?: 'API_RESPONSE_INVALID' | 'API_PAGING_ENDLESS' | 'API_ANSWER_TOO_LARGE' }) {
    super(details.code ?? 'API_REQUEST_FAILED', message)
    this.status = details.status
    this.apiCode = details.apiCode
    this.retryable = details.retryable
  }
}

/**
 * A paged walk that does not end: still a next page at its cap, or a cursor sent twice. Not
 * retried within the round (it would walk the same way); the pages read before stay stored.
 */
export class ApiPagingError extends ApiError {
  constructor(message: string) {
    super(message, { retryable: false, code: 'API_PAGING_ENDLESS' })
  }
}

/** An answer larger than HTTP_MAX_ANSWER_BYTES: cut off unread, not retried within the round. */
export class ApiAnswerTooLargeError extends ApiError {
  constructor(message: string) {
    super(message, { retryable: false, code: 'API_ANSWER_TOO_LARGE' })
  }
}

/** Turns zod issues into located, plain-worded problems. */
export function issuePath(path: ReadonlyArray<PropertyKey>): string {
  let out = ''
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`
    else out += out ? `.${String(part)}` : String(part)
  }
  return out
}

/** The `code` of a Node.js system error (`ECONNREFUSED`, `EACCES`, `ERR_SSL_…`), if `error` carries one. */
export function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code
  return typeof code === 'string' && code !== '' ? code : undefined
}

const TLS_CODE = /^(EPROTO|ERR_SSL_|ERR_TLS_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_)/

/**
 * Why a connection failed, in plain words, from the socket's error code: what Redis, ClickHouse
 * and SMTP failures say after the variable that names the server. Undefined without a code.
 */
export function connectionProblem(code: string | undefined): string | undefined {
  if (code === undefined) return undefined
  if (code === 'ECONNREFUSED') return `nothing answers (${code})`
  if (['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL'].includes(code)) return `the host name does not resolve (${code})`
  if (['ETIMEDOUT', 'ESOCKETTIMEDOUT'].includes(code)) return `no answer in time (${code})`
  if (['ECONNRESET', 'EPIPE', 'ECONNABORTED'].includes(code)) return `the connection was cut (${code})`
  if (['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EADDRNOTAVAIL'].includes(code)) return `the host cannot be reached (${code})`
  if (TLS_CODE.test(code)) return `the TLS handshake failed (${code}): is the scheme right for this port (with TLS or without)?`
  return `the connection failed (${code})`
}

/** Why a file or directory cannot be used, in plain words, from the system error's code. */
export function fileProblem(code: string | undefined): string {
  if (code === 'EACCES' || code === 'EPERM') return `permission denied (${code})`
  if (code === 'EROFS') return `the file system is read-only (${code})`
  if (code === 'ENOTDIR') return `a part of the path is a file, not a directory (${code})`
  if (code === 'EEXIST') return `it is a file, not a directory (${code})`
  if (code === 'ENOSPC' || code === 'EDQUOT') return `no space left (${code})`
  if (code === 'ENOENT') return `it does not exist (${code})`
  return code ? `error ${code}` : 'unknown error'
}
