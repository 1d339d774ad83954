import type { AxiosResponse } from 'axios'
import type { Speaker } from '../core/i18n/index.ts'
import type { ApiDialect, Failure } from './http.ts'

/**
 * The X API v2 dialect (social-apis.md §3). Errors come in two shapes: RFC 7807 problems
 * (`{"title","detail","type","status"}`, type URLs under api.x.com or api.twitter.com) and the
 * legacy `{"errors":[{"code","message"}]}`. A 200 may carry per-item `errors[]` beside `data`;
 * that is a partial success the collector handles, and only an answer with `errors` and nothing
 * else is a failure. Every answer carries `x-rate-limit-limit/remaining/reset` (reset in epoch
 * seconds), so throttling waits until the reset, measured against the server's own `Date`.
 */
interface ProblemItem {
  type?: string
  title?: string
  detail?: string
  code?: number
  message?: string
  resource_type?: string
  field?: string
  value?: string
  resource_id?: string
  parameter?: string
}

export interface XErrorBody {
  title?: string
  detail?: string
  type?: string
  status?: number
  reason?: string
  errors?: ProblemItem[]
}

/** A 429 without a reset header waits one 15-minute window, X's usual rate-limit window. */
const DEFAULT_X_THROTTLE_WAIT_MS = 15 * 60_000
/** A monthly usage cap has no published reset time; try again a day later. */
const USAGE_CAP_WAIT_MS = 24 * 3_600_000
/** Legacy error codes: 88 rate limit; 32 could not authenticate; 89 invalid or expired token; 453 access level. */
const LEGACY_THROTTLE = new Set([88])
const LEGACY_TOKEN = new Set([32, 89, 215, 453])

/** `https://api.x.com/2/problems/usage-capped` → `usage-capped` (both hosts), `about:blank` → undefined. */
export function problemKind(type: string | undefined): string | undefined {
  if (!type) return undefined
  const match = /\/2\/problems\/([\w-]+)$/.exec(type)
  return match?.[1]
}

/** The server's clock from its `Date` header; ours (`now`) when it sends none. */
function serverNow(response: AxiosResponse, now: Date): number {
  const date = Date.parse(String(response.headers['date'] ?? ''))
  return Number.isFinite(date) ? date : now.getTime()
}

/** Milliseconds until `x-rate-limit-reset`, as the server's clock sees it; undefined without the header. */
function untilReset(response: AxiosResponse, now: Date): number | undefined {
  const reset = Number(response.headers['x-rate-limit-reset'])
  if (!Number.isFinite(reset) || reset <= 0) return undefined
  return Math.max(0, reset * 1000 - serverNow(response, now))
}

function describe(body: XErrorBody | undefined, status: number): string {
  if (!body || typeof body !== 'object') return `X API answered HTTP ${status}`
  const legacy = body.errors?.find((e) => typeof e.code === 'number')
  if (!body.title && legacy) return `X API error ${legacy.code}: ${legacy.message ?? 'no message'} (HTTP ${status})`
  const detail = body.detail && body.detail !== body.title ? `: ${body.detail}` : ''
  return `X API ${body.title ?? `HTTP ${status}`}${detail}${body.reason ? ` (${body.reason})` : ''} (HTTP ${status})`
}

export const xDialect: ApiDialect = {
  network: 'x',
  classify(response, now): Failure | null {
    const status = response.status
    const body = (response.data && typeof response.data === 'object' ? response.data : undefined) as (XErrorBody & { data?: unknown; meta?: unknown }) | undefined
    if (status >= 200 && status < 300) {
      if (!body || body.data !== undefined || body.meta !== undefined || !Array.isArray(body.errors)) return null
      // Only errors: the object itself was refused or not found.
      const first = body.errors[0]
      const kind = problemKind(first?.type) ?? 'error'
      return { kind: 'permanent', apiCode: kind, message: `X API ${first?.title ?? 'error'}: ${first?.detail ?? first?.message ?? 'no detail'}` }
    }
    const kind = problemKind(body?.type)
    const legacy = body?.errors?.find((e) => typeof e.code === 'number')?.code
    const message = describe(body, status)
    if (status === 429 || (legacy !== undefined && LEGACY_THROTTLE.has(legacy))) {
      if (kind === 'usage-capped' || body?.title === 'UsageCapExceeded') return { kind: 'throttled', waitMs: USAGE_CAP_WAIT_MS, message }
      return { kind: 'throttled', waitMs: untilReset(response, now) ?? DEFAULT_X_THROTTLE_WAIT_MS, message }
    }
    if (status === 401 || (legacy !== undefined && LEGACY_TOKEN.has(legacy))) {
      return { kind: 'token', apiCode: legacy !== undefined ? String(legacy) : (kind ?? 'unauthorized'), message }
    }
    // For reads, every 403 needs a person: an app outside a Project, an app-only token where a
    // user is needed, an account the token may not see.
    if (status === 403) return { kind: 'token', apiCode: kind ?? 'forbidden', message }
    if (status >= 500) return { kind: 'transient', message, apiCode: kind }
    return { kind: 'permanent', message, apiCode: kind ?? `http_${status}` }
  },
  pauseAfter(response, now) {
    const remaining = Number(response.headers['x-rate-limit-remaining'])
    if (!Number.isFinite(remaining) || remaining > 0) return 0
    return untilReset(response, now) ?? 0
  },
}

/** X's codes of a refused token, by the advice they get (`advice.x.*`). */
const X_REFUSALS: Record<string, string> = {
  'client-forbidden': 'client_forbidden',
  'unsupported-authentication': 'user_context',
  '453': 'access_level',
  'not-authorized-for-resource': 'not_authorized',
}

/** What the account owner must do when X refuses the token, in words for the alert email. */
export function xTokenAdvice(speaker: Speaker, apiCode: string, tokenEnv: string): string {
  return speaker.t(`advice.x.${X_REFUSALS[apiCode] ?? 'refused'}`, { tokenEnv, scopes: speaker.list(['tweet.read', 'users.read']) })
}
