import type { AxiosResponse } from 'axios'
import { DateTime } from 'luxon'
import { z } from 'zod'
import type { Speaker } from '../core/i18n/index.ts'
import { retryAfterMs, type ApiDialect, type Failure } from './http.ts'

/**
 * The Meta Graph API dialect, shared by Facebook Pages, Instagram and the Marketing API: errors
 * are `{"error":{message,type,code,error_subcode,fbtrace_id}}` whatever the HTTP status, so we key
 * on `error.code`, never on the status or the message text.
 */
export interface GraphErrorBody {
  error?: { message?: string; type?: string; code?: number; error_subcode?: number; is_transient?: boolean; fbtrace_id?: string }
}

/**
 * Throttling codes: app (4), user (17), Pages with user token (32), custom (613), and the Business
 * Use Case limits 80000–80014 (80000 ads insights, 80001 Pages, 80002 Instagram, 80004 ads management).
 */
const THROTTLE_CODES = new Set([4, 17, 32, 341, 613, 80000, 80001, 80002, 80003, 80004, 80005, 80006, 80008, 80009, 80014])
/** The token is expired or invalid (190), missing (104), or the session is gone (102). */
const TOKEN_CODES = new Set([102, 104, 190])
/** Permission errors: the token works but lacks a permission or a Page role; a person must act. */
const isPermissionCode = (code: number) => code === 10 || (code >= 200 && code <= 299)
/** Unknown (1) and service (2) errors are temporary by Meta's guide. */
const TRANSIENT_CODES = new Set([1, 2])

/** When nothing says how long to wait, a throttled call waits this long. */
const DEFAULT_THROTTLE_WAIT_MS = 20_000
/** Usage at or above this percentage pauses further calls (Meta throttles at 100). */
const USAGE_PAUSE_PERCENT = 95
const USAGE_PAUSE_MS = 60_000

interface Usage {
  maxPercent: number
  regainAccessMs: number
}

/**
 * Reads the usage headers (JSON strings): `X-App-Usage`, `X-Business-Use-Case-Usage` (any `type`:
 * pages, instagram, ads_insights, ...), and the Marketing API's `X-Ad-Account-Usage` and
 * `X-FB-Ads-Insights-Throttle` (`app_id_util_pct`, `acc_id_util_pct`). Percentages are 0–100.
 */
export function graphUsage(headers: AxiosResponse['headers']): Usage {
  const usage: Usage = { maxPercent: 0, regainAccessMs: 0 }
  const read = (name: string): Record<string, unknown> | undefined => {
    const raw = headers[name]
    if (typeof raw !== 'string') return undefined
    try {
      const parsed: unknown = JSON.parse(raw)
      return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined
    } catch {
      return undefined
    }
  }
  const percent = (value: unknown) => {
    if (typeof value === 'number' && Number.isFinite(value)) usage.maxPercent = Math.max(usage.maxPercent, value)
  }
  const note = (entry: unknown) => {
    if (!entry || typeof entry !== 'object') return
    for (const [key, value] of Object.entries(entry as Record<string, unknown>)) {
      if (typeof value !== 'number') continue
      if (key === 'estimated_time_to_regain_access') usage.regainAccessMs = Math.max(usage.regainAccessMs, value * 60_000)
      else if (key === 'reset_time_duration') continue
      else percent(value)
    }
  }
  note(read('x-app-usage'))
  const adAccount = read('x-ad-account-usage')
  if (adAccount) {
    percent(adAccount.acc_id_util_pct)
    // `reset_time_duration` (seconds) says when a full ad-account budget comes back.
    if (typeof adAccount.acc_id_util_pct === 'number' && adAccount.acc_id_util_pct >= 100 && typeof adAccount.reset_time_duration === 'number') {
      usage.regainAccessMs = Math.max(usage.regainAccessMs, adAccount.reset_time_duration * 1000)
    }
  }
  const insightsThrottle = read('x-fb-ads-insights-throttle')
  if (insightsThrottle) {
    percent(insightsThrottle.app_id_util_pct)
    percent(insightsThrottle.acc_id_util_pct)
  }
  const buc = read('x-business-use-case-usage')
  if (buc) {
    for (const entries of Object.values(buc)) {
      if (Array.isArray(entries)) entries.forEach(note)
    }
  }
  return usage
}

/** The Graph dialect, named after the network whose collector uses it (for errors and logs). */
export function createGraphDialect(network: string): ApiDialect {
  return { network, classify: classifyGraph, pauseAfter: graphPauseAfter }
}

/** Facebook Pages' dialect. */
export const graphDialect: ApiDialect = createGraphDialect('facebook')

/** The error in a Graph answer, if there is one. */
export function graphError(response: AxiosResponse): GraphErrorBody['error'] | undefined {
  const body = response.data as GraphErrorBody | undefined
  return body && typeof body === 'object' ? body.error : undefined
}

function classifyGraph(response: AxiosResponse, now: Date): Failure | null {
  const error = graphError(response)
  const ok = response.status >= 200 && response.status < 300
  if (ok && !error) return null
  if (!error || typeof error.code !== 'number') {
    if (response.status === 429) return { kind: 'throttled', waitMs: retryAfterMs(response, now) ?? DEFAULT_THROTTLE_WAIT_MS, message: `Graph API answered HTTP 429` }
    if (response.status >= 500) return { kind: 'transient', message: `Graph API answered HTTP ${response.status}` }
    return { kind: 'permanent', message: `Graph API answered HTTP ${response.status} without an error body`, apiCode: `http_${response.status}` }
  }
  const code = error.code
  const apiCode = error.error_subcode ? `${code}/${error.error_subcode}` : String(code)
  const message = `Graph API error ${apiCode} (${error.type ?? 'error'}): ${error.message ?? 'no message'}${error.fbtrace_id ? ` [fbtrace_id ${error.fbtrace_id}]` : ''}`
  if (TOKEN_CODES.has(code) || isPermissionCode(code)) return { kind: 'token', apiCode, message }
  if (THROTTLE_CODES.has(code)) {
    const usage = graphUsage(response.headers)
    const waitMs = usage.regainAccessMs > 0 ? usage.regainAccessMs : (retryAfterMs(response, now) ?? DEFAULT_THROTTLE_WAIT_MS)
    return { kind: 'throttled', waitMs, message }
  }
  if (TRANSIENT_CODES.has(code) || error.is_transient === true || response.status >= 500) return { kind: 'transient', message, apiCode }
  return { kind: 'permanent', message, apiCode }
}

function graphPauseAfter(response: AxiosResponse): number {
  const usage = graphUsage(response.headers)
  if (usage.regainAccessMs > 0) return usage.regainAccessMs
  return usage.maxPercent >= USAGE_PAUSE_PERCENT ? USAGE_PAUSE_MS : 0
}

/** A Graph product whose token can be refused: its advice is `advice.<network>.*` in the catalogue. */
export interface GraphTokenKind {
  network: 'facebook' | 'instagram' | 'meta_ads'
  /** The permissions the token needs, as Meta names them. */
  permissions: readonly string[]
}

/** Why Graph refused a token (error 190's subcode), for `advice.<network>.refused`. */
const REFUSAL: Record<string, string> = { '463': 'expired', '460': 'password', '467': 'invalid' }

/** Builds `tokenAdvice` for one Graph product: what the owner must do after Graph refused its token. */
export function graphTokenAdviceFor(kind: GraphTokenKind): (speaker: Speaker, apiCode: string, tokenEnv: string) => string {
  return (speaker, apiCode, tokenEnv) => {
    const [code, subcode] = apiCode.split('/')
    const permissions = speaker.list(kind.permissions)
    if (code === '104') return speaker.t(`advice.${kind.network}.no_token`, { tokenEnv })
    if (code === '10' || Number(code) >= 200) return speaker.t(`advice.${kind.network}.permission`, { permissions, tokenEnv })
    return speaker.t(`advice.${kind.network}.refused`, { why: REFUSAL[subcode ?? ''] ?? 'refused', permissions, tokenEnv })
  }
}

/** What the account owner must do when Graph refuses a Page token, in words for the alert email. */
export const graphTokenAdvice = graphTokenAdviceFor({ network: 'facebook', permissions: ['pages_read_engagement', 'read_insights'] })

/** Parses Graph times such as `2024-06-28T07:00:00+0000` (offset without a colon). */
export function parseGraphTime(value: string): Date {
  return new Date(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'))
}

/**
 * Graph's insights day (Facebook Pages and Instagram, period=day) is the Pacific day, daylight
 * saving time included: Meta's Page insights guide says a range from 1 January 2018 has its first
 * `end_time` on 2 January 2018 "at 08:00 GMT", and its sample answer, of March 2020 (after the
 * change to summer time), ends days at 07:00 (developers.facebook.com/docs/platforminsights/page).
 * The Instagram reference says days are "periods ending on UTC−07:00" (IG User Insights), which
 * is Pacific summer time; whether Instagram keeps 07:00 UTC in winter is UNCONFIRMED, so both are
 * read (graphDayEnded).
 */
export const GRAPH_DAY_ZONE = 'America/Los_Angeles'
/** The fixed-offset reading of the Instagram reference: days that end at 07:00 UTC all year. */
const FIXED_DAY_ZONE = 'Etc/GMT+7'

/**
 * The day a period=day value covers, from its `end_time`: the `YYYY-MM-DD` before the midnight it
 * ends at, whether that is a Pacific midnight (07:00 UTC in summer, 08:00 UTC in winter) or a
 * UTC−07:00 one (07:00 UTC all year). Undefined for any other time, or text that is no time: the
 * caller then skips the value and says so, rather than guess a day.
 */
export function graphDayEnded(endTime: string): string | undefined {
  const end = parseGraphTime(endTime)
  if (!Number.isFinite(end.getTime())) return undefined
  for (const zone of [GRAPH_DAY_ZONE, FIXED_DAY_ZONE]) {
    const local = DateTime.fromJSDate(end, { zone })
    if (+local.startOf('day') === +local) return local.minus({ days: 1 }).toISODate()!
  }
  return undefined
}

/**
 * The days of a period=day series. Values whose `end_time` is absent or no day's end are left out,
 * and `unusable` says so in one line, for the collector to note as a skipped part.
 */
export function graphDays<V extends { end_time?: string }>(values: readonly V[]): { days: Array<{ day: string; end: Date; point: V }>; unusable?: string } {
  const days: Array<{ day: string; end: Date; point: V }> = []
  const bad: string[] = []
  for (const point of values) {
    const day = point.end_time === undefined ? undefined : graphDayEnded(point.end_time)
    if (day === undefined) bad.push(point.end_time === undefined ? 'no end_time' : `end_time ${JSON.stringify(point.end_time.slice(0, 40))}`)
    else days.push({ day, end: parseGraphTime(point.end_time!), point })
  }
  if (bad.length === 0) return { days }
  return { days, unusable: `${bad.length} of ${values.length} daily values left out: ${bad[0]} is not the end of a day (a Pacific or UTC−07:00 midnight)` }
}

/** The Pacific midnight that starts a `YYYY-MM-DD` Graph insights day (since/until of a request). */
export function graphDayStart(date: string): Date {
  return DateTime.fromISO(date, { zone: GRAPH_DAY_ZONE }).toJSDate()
}

/** A Graph edge's cursor paging, as every list answer (posts, media, ad insights) carries it. */
export const graphPaging = z.object({ cursors: z.object({ after: z.string().optional() }).optional(), next: z.string().optional() }).optional()
