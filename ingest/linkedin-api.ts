import type { AxiosResponse } from 'axios'
import type { Speaker } from '../core/i18n/index.ts'
import type { ApiDialect, Failure } from './http.ts'

/**
 * The LinkedIn Marketing API dialect (social-apis.md §4): versioned `/rest/` paths with the
 * `LinkedIn-Version: YYYYMM` and `X-Restli-Protocol-Version: 2.0.0` headers; errors are
 * `{message, serviceErrorCode, status[, code]}`. Token errors are 401 (EXPIRED_ACCESS_TOKEN
 * 65602, REVOKED_ACCESS_TOKEN 65601, invalid 65600, empty token), permission errors 403
 * ACCESS_DENIED; a sunset version is 426. Limits are daily per application and member, reset at
 * midnight UTC, and a 429 carries no header saying so: we wait until the next UTC midnight.
 */
export interface LinkedInErrorBody {
  message?: string
  serviceErrorCode?: number
  status?: number
  code?: string
}

const DAY_MS = 86_400_000

/** The headers every Community Management API request carries besides its Bearer token. */
export function linkedInHeaders(version: string): Record<string, string> {
  return { 'LinkedIn-Version': version, 'X-Restli-Protocol-Version': '2.0.0' }
}

/** Milliseconds from the server's `Date` (or ours, `now`) to the next 00:00 UTC, when LinkedIn's daily limits reset. */
function untilUtcMidnight(response: AxiosResponse, now: Date): number {
  const date = Date.parse(String(response.headers['date'] ?? ''))
  const at = Number.isFinite(date) ? date : now.getTime()
  return (Math.floor(at / DAY_MS) + 1) * DAY_MS - at
}

export function linkedInDialect(version: string): ApiDialect {
  return {
    network: 'linkedin',
    classify(response, now): Failure | null {
      const status = response.status
      if (status >= 200 && status < 300) return null
      const body = (response.data && typeof response.data === 'object' ? response.data : {}) as LinkedInErrorBody
      const service = typeof body.serviceErrorCode === 'number' ? body.serviceErrorCode : undefined
      const apiCode = body.code ?? (service !== undefined ? String(service) : `http_${status}`)
      const message = `LinkedIn API ${status}${body.code ? ` ${body.code}` : ''}${service !== undefined ? ` (serviceErrorCode ${service})` : ''}: ${body.message ?? 'no message'}`
      if (status === 429) return { kind: 'throttled', waitMs: untilUtcMidnight(response, now), message: `${message}; LinkedIn's daily limits reset at 00:00 UTC` }
      if (status === 401 || status === 403) return { kind: 'token', apiCode, message }
      if (status === 426) {
        return { kind: 'permanent', apiCode, message: `${message}. LinkedIn no longer serves API version ${version}: set LINKEDIN_VERSION to a version LinkedIn currently supports (YYYYMM).` }
      }
      if (status >= 500) return { kind: 'transient', apiCode, message }
      return { kind: 'permanent', apiCode, message }
    },
    // No usage headers: LinkedIn publishes its limits only in the developer portal.
    pauseAfter: () => 0,
  }
}

/** The LinkedIn error codes of a refused token, by the advice they get (`advice.linkedin.*`). */
const LINKEDIN_REFUSALS: Record<string, string> = {
  EXPIRED_ACCESS_TOKEN: 'expired',
  '65602': 'expired',
  REVOKED_ACCESS_TOKEN: 'revoked',
  '65601': 'revoked',
  '65600': 'unrecognised',
  '401': 'no_token',
  ACCESS_DENIED: 'denied',
  '100': 'denied',
}

/** What the Page admin must do when LinkedIn refuses the token, in words for the alert email. */
export function linkedInTokenAdvice(speaker: Speaker, apiCode: string, tokenEnv: string): string {
  return speaker.t(`advice.linkedin.${LINKEDIN_REFUSALS[apiCode] ?? 'refused'}`, { apiCode, tokenEnv, permission: 'rw_organization_admin' })
}

/** `urn:li:organization:123` for a plan's apiId given as `123` or as the URN itself. */
export function organizationUrn(apiId: string): string {
  return apiId.startsWith('urn:li:') ? apiId : `urn:li:organization:${apiId}`
}

/**
 * A Rest.li 2.0 time-bound `timeIntervals` parameter. Its structure (`(`, `)`, `:`, `,`) must
 * reach LinkedIn unencoded, so it is appended to the query string by hand rather than through
 * a URL encoder.
 */
export function timeIntervalsParam(startMs: number, endMs: number, granularity: 'DAY' | 'MONTH' = 'DAY'): string {
  return `timeIntervals=(timeRange:(start:${startMs},end:${endMs}),timeGranularityType:${granularity})`
}
