import type { AxiosResponse } from 'axios'
import { retryAfterMs, type ApiDialect, type Failure } from './http.ts'

/**
 * The Meta Graph API dialect, shared by Facebook Pages (and later Instagram and the Marketing
 * API): errors are `{"error":{message,type,code,error_subcode,fbtrace_id}}` whatever the HTTP
 * status, so we key on `error.code`, never on the status or the message text.
 */
interface GraphErrorBody {
  error?: { message?: string; type?: string; code?: number; error_subcode?: number; is_transient?: boolean; fbtrace_id?: string }
}

/** Throttling codes: app (4), user (17), Pages with user token (32), custom (613), BUC 80000–80014. */
const THROTTLE_CODES = new Set([4, 17, 32, 341, 613, 80000, 80001, 80002, 80003, 80004, 80005, 80006, 80008, 80009, 80014])
/** The token is expired or invalid (190), missing (104), or the session is gone (102). */
const TOKEN_CODES = new Set([102, 104, 190])
/** Permission errors: the token works but lacks a permission or a Page role; a person must act. */
const isPermissionCode = (code: number) => code === 10 || (code >= 200 && code <= 299)
/** Unknown (1) and service (2) errors are temporary by Meta's guide. */
const TRANSIENT_CODES = new Set([1, 2])

/** When nothing says how long to wait, a throttled call waits this long. */
export const DEFAULT_THROTTLE_WAIT_MS = 20_000
/** Usage at or above this percentage pauses further calls (Meta throttles at 100). */
const USAGE_PAUSE_PERCENT = 95
const USAGE_PAUSE_MS = 60_000

interface Usage {
  maxPercent: number
  regainAccessMs: number
}

/** Reads `X-App-Usage`, `X-Ad-Account-Usage` and `X-Business-Use-Case-Usage` (JSON strings). */
export function graphUsage(headers: AxiosResponse['headers']): Usage {
  const usage: Usage = { maxPercent: 0, regainAccessMs: 0 }
  const read = (name: string): unknown => {
    const raw = headers[name]
    if (typeof raw !== 'string') return undefined
    try {
      return JSON.parse(raw)
    } catch {
      return undefined
    }
  }
  const note = (entry: unknown) => {
    if (!entry || typeof entry !== 'object') return
    for (const [key, value] of Object.entries(entry as Record<string, unknown>)) {
      if (typeof value !== 'number') continue
      if (key === 'estimated_time_to_regain_access') usage.regainAccessMs = Math.max(usage.regainAccessMs, value * 60_000)
      else if (key === 'reset_time_duration') continue
      else usage.maxPercent = Math.max(usage.maxPercent, value)
    }
  }
  note(read('x-app-usage'))
  const adAccount = read('x-ad-account-usage') as Record<string, unknown> | undefined
  if (adAccount && typeof adAccount.acc_id_util_pct === 'number') usage.maxPercent = Math.max(usage.maxPercent, adAccount.acc_id_util_pct)
  const buc = read('x-business-use-case-usage')
  if (buc && typeof buc === 'object') {
    for (const entries of Object.values(buc as Record<string, unknown>)) {
      if (Array.isArray(entries)) entries.forEach(note)
    }
  }
  return usage
}

export const graphDialect: ApiDialect = {
  network: 'facebook',
  classify(response): Failure | null {
    const body = response.data as GraphErrorBody | undefined
    const error = body && typeof body === 'object' ? body.error : undefined
    const ok = response.status >= 200 && response.status < 300
    if (ok && !error) return null
    if (!error || typeof error.code !== 'number') {
      if (response.status === 429) return { kind: 'throttled', waitMs: retryAfterMs(response) ?? DEFAULT_THROTTLE_WAIT_MS, message: `Graph API answered HTTP 429` }
      if (response.status >= 500) return { kind: 'transient', message: `Graph API answered HTTP ${response.status}` }
      return { kind: 'permanent', message: `Graph API answered HTTP ${response.status} without an error body`, apiCode: `http_${response.status}` }
    }
    const code = error.code
    const apiCode = error.error_subcode ? `${code}/${error.error_subcode}` : String(code)
    const message = `Graph API error ${apiCode} (${error.type ?? 'error'}): ${error.message ?? 'no message'}${error.fbtrace_id ? ` [fbtrace_id ${error.fbtrace_id}]` : ''}`
    if (TOKEN_CODES.has(code) || isPermissionCode(code)) return { kind: 'token', apiCode, message }
    if (THROTTLE_CODES.has(code)) {
      const usage = graphUsage(response.headers)
      const waitMs = usage.regainAccessMs > 0 ? usage.regainAccessMs : (retryAfterMs(response) ?? DEFAULT_THROTTLE_WAIT_MS)
      return { kind: 'throttled', waitMs, message }
    }
    if (TRANSIENT_CODES.has(code) || error.is_transient === true || response.status >= 500) return { kind: 'transient', message, apiCode }
    return { kind: 'permanent', message, apiCode }
  },
  pauseAfter(response) {
    const usage = graphUsage(response.headers)
    if (usage.regainAccessMs > 0) return usage.regainAccessMs
    return usage.maxPercent >= USAGE_PAUSE_PERCENT ? USAGE_PAUSE_MS : 0
  },
}

/** What the account owner must do when Graph refuses the token, in words for the alert email. */
export function graphTokenAdvice(apiCode: string, tokenEnv: string): string {
  const [code, subcode] = apiCode.split('/')
  if (code === '104') return `No token was sent: set the environment variable ${tokenEnv} to a Page access token.`
  if (code === '10' || Number(code) >= 200) {
    return `The token lacks a permission or the user lacks a role on the Page. Re-authorise with the permissions pages_read_engagement and read_insights (by a person who can perform the ANALYZE task on the Page), then update ${tokenEnv}.`
  }
  const why = subcode === '463' ? 'has expired' : subcode === '460' ? 'was invalidated by a password change' : subcode === '467' ? 'is invalid' : 'was refused'
  return `The Page access token ${why}. Generate a new Page access token (permissions pages_read_engagement and read_insights) and set it in ${tokenEnv}; the next round picks it up.`
}
