import type { AxiosResponse } from 'axios'
import { DateTime } from 'luxon'
import { retryAfterMs, type ApiDialect, type Failure } from './http.ts'

/**
 * The Google API dialect, shared by the YouTube Data API, the YouTube Analytics API and the GA4
 * Data API (social-apis.md §5.4, §7.2). Errors come as
 * `{"error":{"code":403,"message":…,"errors":[{"domain":…,"reason":"quotaExceeded"}],"status":"PERMISSION_DENIED","details":[…]}}`:
 * the older APIs name a `reason` in `errors[]`, the newer ones a `status` and, sometimes, an
 * `ErrorInfo` or `RetryInfo` in `details[]`. We classify on those codes, never on the message.
 */
export const PACIFIC_ZONE = 'America/Los_Angeles'

interface GoogleErrorBody {
  error?: {
    code?: number
    message?: string
    status?: string
    errors?: Array<{ message?: string; domain?: string; reason?: string }>
    details?: Array<{ '@type'?: string; reason?: string; retryDelay?: string }>
  }
}

/** A Google error, reduced to what decides what to do. */
export interface GoogleError {
  httpStatus: number
  /** `UNAUTHENTICATED`, `PERMISSION_DENIED`, `RESOURCE_EXHAUSTED`, … (absent on some older bodies). */
  status?: string
  /** `errors[].reason` and `ErrorInfo.reason`, in the order given. */
  reasons: string[]
  message: string
  /** `RetryInfo.retryDelay`, when the API says how long to wait. */
  retryDelayMs?: number
}

/** The daily quota is spent; it comes back at the quota's reset time. */
const DAILY_QUOTA_REASONS = new Set(['quotaExceeded', 'dailyLimitExceeded'])
/** Per-second or per-minute limits: a short wait is enough. */
const RATE_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'RATE_LIMIT_EXCEEDED'])
/**
 * The credentials were refused, lack a scope, lack access to the channel or property, or the API
 * is not enabled for the OAuth client's project: a person must act, retrying will not help.
 * (`required` is not here: it also names a missing query parameter; a missing credential comes
 * with HTTP 401.)
 */
const REFUSAL_REASONS = new Set([
  'authError',
  'insufficientPermissions',
  'forbidden',
  'accessNotConfigured',
  'keyInvalid',
  'ACCESS_TOKEN_EXPIRED',
  'ACCESS_TOKEN_SCOPE_INSUFFICIENT',
  'ACCESS_TOKEN_TYPE_UNSUPPORTED',
  'CREDENTIALS_MISSING',
  'SERVICE_DISABLED',
  'API_KEY_INVALID',
])
const TRANSIENT_REASONS = new Set(['backendError', 'internalError'])
const TRANSIENT_STATUSES = new Set(['INTERNAL', 'UNAVAILABLE', 'DEADLINE_EXCEEDED'])

/** A short rate limit without a stated wait waits this long. */
const DEFAULT_RATE_WAIT_MS = 10_000

/** Reads the Google error envelope; undefined for a success or a body that is not one. */
function readGoogleError(response: AxiosResponse): GoogleError | undefined {
  const body = response.data as GoogleErrorBody | undefined
  const error = body && typeof body === 'object' ? body.error : undefined
  if (!error || typeof error !== 'object') return undefined
  const reasons: string[] = []
  for (const item of error.errors ?? []) if (typeof item?.reason === 'string') reasons.push(item.reason)
  let retryDelayMs: number | undefined
  for (const detail of error.details ?? []) {
    const type = detail?.['@type'] ?? ''
    if (type.endsWith('google.rpc.ErrorInfo') && typeof detail.reason === 'string') reasons.push(detail.reason)
    if (type.endsWith('google.rpc.RetryInfo')) retryDelayMs = parseProtoDuration(detail.retryDelay)
  }
  return {
    httpStatus: response.status,
    status: typeof error.status === 'string' ? error.status : undefined,
    reasons,
    // YouTube's quota message carries an HTML link; people read these in alert emails.
    message: typeof error.message === 'string' ? error.message.replace(/<[^>]*>/g, '') : 'no message',
    retryDelayMs,
  }
}

/** `"30s"`, `"1.5s"` (a protobuf Duration in JSON) in milliseconds. */
function parseProtoDuration(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined
  const match = /^(\d+(?:\.\d+)?)s$/.exec(value.trim())
  return match ? Math.round(Number(match[1]) * 1000) : undefined
}

export interface GoogleDialectOptions {
  network: string
  /** The API's name in messages, e.g. `YouTube Data API`. */
  api: string
  /** How long until a spent daily quota (`quotaExceeded`, `dailyLimitExceeded`) comes back. */
  dailyQuotaWaitMs(): number
  /** For HTTP 429 / `RESOURCE_EXHAUSTED` that say nothing about when to come back. */
  exhaustedWaitMs?(): number
  /** After a success: a pause the answer itself asks for (GA4's `propertyQuota`). */
  pauseAfter?(response: AxiosResponse): number
}

export function googleDialect(options: GoogleDialectOptions): ApiDialect {
  return {
    network: options.network,
    classify(response, now): Failure | null {
      const ok = response.status >= 200 && response.status < 300
      const error = readGoogleError(response)
      if (ok && !error) return null
      if (!error) {
        const message = `${options.api} answered HTTP ${response.status}`
        if (response.status === 429) return { kind: 'throttled', waitMs: retryAfterMs(response, now) ?? exhaustedWait(), message }
        if (response.status === 401) return { kind: 'token', apiCode: 'http_401', message }
        if (response.status >= 500) return { kind: 'transient', message }
        return { kind: 'permanent', message: `${message} without an error body`, apiCode: `http_${response.status}` }
      }
      const apiCode = error.reasons[0] ?? error.status ?? `http_${error.httpStatus}`
      const message = `${options.api} error ${error.httpStatus} ${apiCode}: ${error.message}`
      if (error.reasons.some((r) => DAILY_QUOTA_REASONS.has(r))) {
        return { kind: 'throttled', waitMs: options.dailyQuotaWaitMs(), message }
      }
      if (error.reasons.some((r) => RATE_REASONS.has(r))) {
        return { kind: 'throttled', waitMs: error.retryDelayMs ?? retryAfterMs(response, now) ?? DEFAULT_RATE_WAIT_MS, message }
      }
      if (error.httpStatus === 429 || error.status === 'RESOURCE_EXHAUSTED') {
        return { kind: 'throttled', waitMs: error.retryDelayMs ?? retryAfterMs(response, now) ?? exhaustedWait(), message }
      }
      if (error.httpStatus === 401 || error.status === 'UNAUTHENTICATED' || error.reasons.some((r) => REFUSAL_REASONS.has(r)) || (error.httpStatus === 403 && error.status === 'PERMISSION_DENIED')) {
        return { kind: 'token', apiCode, message }
      }
      if (error.httpStatus >= 500 || (error.status && TRANSIENT_STATUSES.has(error.status)) || error.reasons.some((r) => TRANSIENT_REASONS.has(r))) {
        return { kind: 'transient', message, apiCode }
      }
      return { kind: 'permanent', message, apiCode }
    },
    pauseAfter: (response) => options.pauseAfter?.(response) ?? 0,
  }

  function exhaustedWait(): number {
    return options.exhaustedWaitMs?.() ?? DEFAULT_RATE_WAIT_MS
  }
}

/** Milliseconds from `now` to the next midnight in `zone` (DST-correct). */
export function msUntilNextMidnight(now: Date, zone: string): number {
  const next = DateTime.fromJSDate(now, { zone }).startOf('day').plus({ days: 1 })
  return next.toMillis() - now.getTime()
}

/** Milliseconds from `now` to the next whole hour. */
export function msUntilNextHour(now: Date): number {
  return 3_600_000 - (now.getTime() % 3_600_000)
}

/** What kind of refusal a token error is, so each collector can word its advice. */
export type GoogleRefusal = 'credentials' | 'scope' | 'access' | 'api_disabled'

export function googleRefusal(apiCode: string): GoogleRefusal {
  if (apiCode === 'insufficientPermissions' || apiCode === 'ACCESS_TOKEN_SCOPE_INSUFFICIENT') return 'scope'
  if (apiCode === 'accessNotConfigured' || apiCode === 'SERVICE_DISABLED') return 'api_disabled'
  if (apiCode === 'forbidden' || apiCode === 'PERMISSION_DENIED') return 'access'
  return 'credentials'
}

/**
 * A count sent as a string (`"1520"`), as the YouTube Data API and GA4 send them. Undefined when
 * absent or not a whole number, so a malformed value is never stored as a number.
 */
export function parseCount(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined
  if (typeof value !== 'string' || !/^\d+$/.test(value)) return undefined
  const parsed = Number(value)
  return Number.isSafeInteger(parsed) ? parsed : undefined
}
