import type { AxiosResponse } from 'axios'
import type { Speaker } from '../core/i18n/index.ts'
import { retryAfterMs, type ApiDialect, type Failure } from './http.ts'

/**
 * The two TikTok dialects (social-apis.md §6).
 *
 * Display API v2 (open.tiktokapis.com): every answer, success included, is
 * `{"data":{…},"error":{"code":"ok","message":"","log_id":"…"}}`; failures carry a readable
 * `error.code` and an HTTP status (developers.tiktok.com/doc/tiktok-api-v2-error-handling):
 * access_token_invalid 401, scope_not_authorized 401, scope_permission_missed 400, invalid_params
 * 400, rate_limit_exceeded 429, internal_error 500.
 *
 * TikTok API for Business (business-api.tiktok.com/open_api/v1.3): HTTP 200 with
 * `{"code":<int>,"message":…,"request_id":…,"data":{…}}`; any code other than 0 is an error.
 */

interface DisplayBody {
  data?: unknown
  error?: { code?: string; message?: string; log_id?: string }
}

interface BusinessBody {
  code?: number
  message?: string
  request_id?: string
}

/**
 * Display API limits are 600 requests per endpoint in a one-minute sliding window, answered with
 * HTTP 429 `rate_limit_exceeded` and no documented Retry-After (tiktok-api-v2-rate-limit). Within
 * a minute the oldest call has left the window, so we come back after one.
 */
const DISPLAY_THROTTLE_WAIT_MS = 60_000

const DISPLAY_TOKEN_CODES = new Set(['access_token_invalid', 'scope_not_authorized', 'scope_permission_missed'])

function displayMessage(response: AxiosResponse, body: DisplayBody | undefined): string {
  const error = body?.error
  if (!error?.code) return `TikTok Display API answered HTTP ${response.status}`
  return `TikTok Display API error ${error.code} (HTTP ${response.status}): ${error.message || 'no message'}${error.log_id ? ` [log_id ${error.log_id}]` : ''}`
}

export const displayDialect: ApiDialect = {
  network: 'tiktok',
  classify(response, now): Failure | null {
    const body = isObject(response.data) ? (response.data as DisplayBody) : undefined
    const code = typeof body?.error?.code === 'string' ? body.error.code : undefined
    const ok = response.status >= 200 && response.status < 300
    if (ok && code === 'ok') return null
    const message = displayMessage(response, body)
    if (code === undefined) {
      // A success without the envelope is not a TikTok answer (a proxy page, a truncated body).
      if (ok) return { kind: 'transient', message: `${message} without the data/error envelope` }
      if (response.status === 429) return { kind: 'throttled', waitMs: retryAfterMs(response, now) ?? DISPLAY_THROTTLE_WAIT_MS, message }
      if (response.status === 401) return { kind: 'token', apiCode: 'http_401', message }
      if (response.status >= 500) return { kind: 'transient', message }
      return { kind: 'permanent', message, apiCode: `http_${response.status}` }
    }
    if (DISPLAY_TOKEN_CODES.has(code)) return { kind: 'token', apiCode: code, message }
    if (code === 'rate_limit_exceeded' || response.status === 429) {
      return { kind: 'throttled', waitMs: retryAfterMs(response, now) ?? DISPLAY_THROTTLE_WAIT_MS, message }
    }
    if (code === 'internal_error' || response.status >= 500) return { kind: 'transient', message, apiCode: code }
    return { kind: 'permanent', message, apiCode: code }
  },
  pauseAfter: () => 0,
}

/** `40100`: too many requests. TikTok limits calls per second, minute and day per app. */
const BUSINESS_RATE_LIMIT_CODE = 40100
/**
 * Token codes: 40102 the access token has expired, 40104 none was sent, 40105 it is incorrect or
 * revoked; 40001 no permission to operate this account (a scope or the account's own setting).
 */
const BUSINESS_TOKEN_CODES = new Set([40001, 40102, 40104, 40105])
/** Server-side failures worth another try (Airbyte retries 50002 too). */
const BUSINESS_TRANSIENT_CODES = new Set([50000, 50002])
/** A 40100 says nothing about which limit was hit: the first retries wait for a per-second limit. */
const BUSINESS_SHORT_WAIT_MS = 1_000
const BUSINESS_SHORT_WAITS = 2
/** After that, a per-minute limit: longer than a job should sleep, so the queue waits instead. */
const BUSINESS_LONG_WAIT_MS = 60_000

/**
 * The Business API dialect for one collection. It keeps one piece of state: how many 40100s came
 * in a row, so that repeated throttling backs off from the per-second to the per-minute window.
 */
export function createBusinessDialect(): ApiDialect {
  let throttledInARow = 0
  return {
    network: 'tiktok',
    classify(response, now): Failure | null {
      const body = isObject(response.data) ? (response.data as BusinessBody) : undefined
      const code = typeof body?.code === 'number' ? body.code : undefined
      if (code === BUSINESS_RATE_LIMIT_CODE || response.status === 429) {
        throttledInARow++
        const told = retryAfterMs(response, now)
        const waitMs = told ?? (throttledInARow <= BUSINESS_SHORT_WAITS ? BUSINESS_SHORT_WAIT_MS : BUSINESS_LONG_WAIT_MS)
        return { kind: 'throttled', waitMs, message: businessMessage(response, body) }
      }
      throttledInARow = 0
      const ok = response.status >= 200 && response.status < 300
      if (ok && code === 0) return null
      const message = businessMessage(response, body)
      if (code === undefined) {
        if (response.status >= 500 || ok) return { kind: 'transient', message: ok ? `${message} without a code` : message }
        return { kind: 'permanent', message, apiCode: `http_${response.status}` }
      }
      if (BUSINESS_TOKEN_CODES.has(code)) return { kind: 'token', apiCode: String(code), message }
      if (BUSINESS_TRANSIENT_CODES.has(code) || response.status >= 500) return { kind: 'transient', message, apiCode: String(code) }
      return { kind: 'permanent', message, apiCode: String(code) }
    },
    pauseAfter: () => 0,
  }
}

function businessMessage(response: AxiosResponse, body: BusinessBody | undefined): string {
  if (body?.code === undefined) return `TikTok API for Business answered HTTP ${response.status}`
  return `TikTok API for Business error ${body.code}: ${body.message || 'no message'}${body.request_id ? ` [request_id ${body.request_id}]` : ''}`
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

const DISPLAY_SCOPES = ['user.info.basic', 'user.info.stats', 'video.list']
const BUSINESS_SCOPES = ['user.info.basic', 'user.info.stats', 'user.insights', 'video.list']

/** TikTok's codes of a refused token, by the advice they get (`advice.tiktok.*`). */
const TIKTOK_REFUSALS: Record<string, string> = {
  access_token_invalid: 'display_refused',
  http_401: 'display_refused',
  scope_not_authorized: 'display_scope',
  scope_permission_missed: 'display_scope',
  open_id_mismatch: 'open_id_mismatch',
  '40104': 'business_no_token',
  '40102': 'business_expired',
  '40105': 'business_invalid',
  '40001': 'business_access',
}

/** What the account owner must do after TikTok refused the token, in words for the alert email. */
export function tiktokTokenAdvice(speaker: Speaker, apiCode: string, tokenEnv: string): string {
  const kind = TIKTOK_REFUSALS[apiCode] ?? 'refused'
  const scopes = speaker.list(kind.startsWith('business_') ? BUSINESS_SCOPES : DISPLAY_SCOPES)
  return speaker.t(`advice.tiktok.${kind}`, { apiCode, tokenEnv, scopes, statsScope: 'user.info.stats', refreshPath: 'tt_user/oauth2/refresh_token/' })
}
