/**
 * The Marketing API's ad account node and Ads Insights (`/act_{id}/insights`, social-apis.md §7.1)
 * inside the Graph simulator. The world is a pure function of (seed, ad account id, time), anchored
 * to `today`; days are the ad account's own time-zone days, as in Meta's reports.
 *
 * | ad account                                        | currency | time zone    | campaigns | impressions/day | link clicks/day | spend/day   | purchases/day |
 * |---------------------------------------------------|----------|--------------|----------:|----------------:|----------------:|------------:|--------------:|
 * | act_1000000000000001 Kopi Nusantara — Iklan (demo) | IDR      | Asia/Jakarta |         3 |         ≈ 43,000 |           ≈ 800 | ≈ Rp 1.5 M  |          ≈ 26 |
 * | any other act_N                                   | USD      | hashed       |       1–3 |   2,000–12,000 each | 1–2 % of those | $20–120 each | 0–6 each      |
 *
 * Demo campaigns (means; each day varies by the seed): "Promo Kopi Susu" 24,000 impressions, 480
 * link clicks, Rp 850,000, 18 purchases of ≈ Rp 95,000; "Biji Kopi Gayo" 15,000, 300, Rp 550,000,
 * 8 purchases of ≈ Rp 180,000; "Kunjungan Gerai" (Friday–Sunday only) 9,000, 60, Rp 200,000, no
 * purchases. The whole account delivers nothing from today − 12 to today − 10 (3 days): those days
 * have no rows. Per 30 days (seed 42; other seeds differ by a few %): ≈ 650 purchases
 * (`offsite_conversion.fb_pixel_purchase`, also reported as `purchase`, `omni_purchase` and
 * `onsite_web_purchase` with the same count), ≈ Rp 75 M purchase value, ≈ 21,000 link clicks,
 * ≈ 1.15 M impressions, ≈ Rp 40 M spend (a 30-day window holding the 3 paused days).
 *
 * Modelled behaviour:
 *  - Numbers are strings; rows with no delivery are left out; `actions` lists only non-zero types.
 *  - Late data: a day's purchase-type actions (and their values) are reported at 60 % when the
 *    day ends and reach 100 % 28 days later (most of it within a week); delivery numbers are final
 *    when the day ends. Today is reported so far (pro rata of the elapsed day).
 *  - `time_range` (or `date_preset`, default last_30d), `time_increment` (1..90 or all_days),
 *    `level` account or campaign, `fields`, cursor paging (`limit` default 25, `after`). A page of
 *    more than 60 rows answers HTTP 500, code 1, "Please reduce the amount of data you're asking
 *    for, then retry your request". A start beyond 37 months answers code 3018.
 *  - Budget: per token and ad account, `callsPerHour` calls in any hour; every answer carries
 *    `X-Business-Use-Case-Usage` (type ads_insights or ads_management), `X-Ad-Account-Usage`, and
 *    on insights `X-FB-Ads-Insights-Throttle`; over budget: HTTP 400, code 80000, subcode 2446079.
 *  - A token starting with `noscope` lacks ads_read: code 200 on every ad account request.
 */
import { DateTime } from 'luxon'
import { createCallWindow } from './call-window.ts'
import { GraphError, invalidParameter, linkWith, nonexistingField, parseFields, unsupportedRequest, type GraphFamily, type GraphFamilyRequest } from './graph-common.ts'
import { intBetween, unit } from './random.ts'
import { HISTORY_DAYS } from './scenario.ts'
import { DAY_MS, HOUR_MS } from './time.ts'
import type { SimulatorModule } from './network.ts'

export const DEMO_AD_ACCOUNTS: ReadonlyArray<{ id: string; name: string; currency: string; timezone: string }> = [
  { id: 'act_1000000000000001', name: 'Kopi Nusantara — Iklan', currency: 'IDR', timezone: 'Asia/Jakarta' },
]

const AD_ACCOUNT = /^act_(\d{1,20})$/
const DEFAULT_LIMIT = 25
/** Pages holding more rows than this are refused with "Please reduce the amount of data…". */
const MAX_ROWS_PER_PAGE = 60
/** Insights reach back 37 months. */
const MAX_HISTORY_MONTHS = 37
const LATE_DAYS = 28
const ACCESS_TIER = 'standard_access'

interface Campaign {
  id: string
  name: string
  impressions: number
  linkClicks: number
  spend: number
  purchases: number
  valuePerPurchase: number
  /** ISO weekdays (1 = Monday) with delivery; all days when absent. */
  weekdays?: readonly number[]
}

interface AdAccountProfile {
  id: string
  accountId: string
  name: string
  currency: string
  timezone: string
  campaigns: Campaign[]
  /** No delivery for `days` days from `dayOffset` days before today. */
  pause?: { dayOffset: number; days: number }
}

const DEMO_CAMPAIGNS: Record<string, Pick<AdAccountProfile, 'campaigns' | 'pause'>> = {
  act_1000000000000001: {
    campaigns: [
      { id: '120210000000000101', name: 'Promo Kopi Susu — Konversi', impressions: 24_000, linkClicks: 480, spend: 850_000, purchases: 18, valuePerPurchase: 95_000 },
      { id: '120210000000000102', name: 'Biji Kopi Gayo — Katalog', impressions: 15_000, linkClicks: 300, spend: 550_000, purchases: 8, valuePerPurchase: 180_000 },
      { id: '120210000000000103', name: 'Kunjungan Gerai — Jangkauan', impressions: 9_000, linkClicks: 60, spend: 200_000, purchases: 0, valuePerPurchase: 0, weekdays: [5, 6, 7] },
    ],
    pause: { dayOffset: -12, days: 3 },
  },
}

const HASHED_ZONES = ['America/New_York', 'America/Los_Angeles', 'Europe/London', 'Asia/Jakarta']

/** Purchase action types that all count the same purchases (summing them double counts). */
const PURCHASE_TYPES = ['offsite_conversion.fb_pixel_purchase', 'onsite_web_purchase', 'purchase', 'omni_purchase'] as const

const FIELDS = [
  'account_id',
  'account_name',
  'account_currency',
  'campaign_id',
  'campaign_name',
  'impressions',
  'clicks',
  'inline_link_clicks',
  'spend',
  'cpc',
  'ctr',
  'actions',
  'action_values',
  'date_start',
  'date_stop',
] as const
const ACCOUNT_FIELDS = ['id', 'account_id', 'name', 'currency', 'timezone_name', 'timezone_offset_hours_utc', 'account_status'] as const

/** One day's numbers for one campaign (or summed for the account). */
interface DayNumbers {
  impressions: number
  clicks: number
  inlineLinkClicks: number
  spend: number
  actions: Map<string, number>
  actionValues: Map<string, number>
}

export interface AdsGraphOptions {
  seed: number
  today: number
  callsPerHour: number
}

function createAdsGraph(options: AdsGraphOptions): GraphFamily {
  const { seed, today } = options
  const profiles = new Map<string, AdAccountProfile>()
  const calls = createCallWindow(options.callsPerHour, HOUR_MS)

  function profile(id: string): AdAccountProfile {
    let p = profiles.get(id)
    if (!p) {
      const named = DEMO_AD_ACCOUNTS.find((a) => a.id === id)
      const demo = DEMO_CAMPAIGNS[id]
      if (named && demo) p = { id, accountId: id.slice(4), name: named.name, currency: named.currency, timezone: named.timezone, ...demo }
      else p = derivedProfile(id)
      profiles.set(id, p)
    }
    return p
  }

  function derivedProfile(id: string): AdAccountProfile {
    const count = intBetween(1, 3, seed, id, 'campaigns')
    const campaigns: Campaign[] = []
    for (let i = 0; i < count; i++) {
      const impressions = intBetween(20, 120, seed, id, i, 'impressions') * 100
      campaigns.push({
        id: `12021${id.slice(-8).padStart(8, '0')}${String(i + 1).padStart(4, '0')}`,
        name: `Campaign ${i + 1}`,
        impressions,
        linkClicks: Math.round(impressions * (0.01 + 0.01 * unit(seed, id, i, 'ctr'))),
        spend: intBetween(20, 120, seed, id, i, 'spend'),
        purchases: intBetween(0, 6, seed, id, i, 'purchases'),
        valuePerPurchase: intBetween(15, 90, seed, id, i, 'value'),
      })
    }
    return {
      id,
      accountId: id.slice(4),
      name: `Ad account ${id.slice(-4)}`,
      currency: 'USD',
      timezone: HASHED_ZONES[intBetween(0, HASHED_ZONES.length - 1, seed, id, 'zone')]!,
      campaigns,
    }
  }

  /** The account's local day `date` (YYYY-MM-DD) as [start, end) in ms. */
  function dayBounds(p: AdAccountProfile, date: string): { start: number; end: number } {
    const start = DateTime.fromISO(date, { zone: p.timezone })
    return { start: start.toMillis(), end: start.plus({ days: 1 }).toMillis() }
  }

  function localToday(p: AdAccountProfile, nowMs: number): DateTime {
    return DateTime.fromMillis(nowMs, { zone: p.timezone }).startOf('day')
  }

  /** What the API reports now for one campaign on one local day, or undefined for no delivery. */
  function campaignDay(p: AdAccountProfile, c: Campaign, date: string, nowMs: number): DayNumbers | undefined {
    const { start, end } = dayBounds(p, date)
    if (start > nowMs || start < today - HISTORY_DAYS * DAY_MS) return undefined
    const day = DateTime.fromISO(date, { zone: p.timezone })
    if (c.weekdays && !c.weekdays.includes(day.weekday)) return undefined
    if (p.pause) {
      // Days from the world's today (its UTC date, read as a local date).
      const anchor = DateTime.fromISO(DateTime.fromMillis(today, { zone: 'UTC' }).toISODate()!, { zone: p.timezone })
      const offset = Math.round(day.diff(anchor, 'days').days)
      if (offset >= p.pause.dayOffset && offset < p.pause.dayOffset + p.pause.days) return undefined
    }
    const draw = (label: string) => unit(seed, p.id, c.id, date, label)
    // Today is reported so far; past days in full.
    const elapsed = Math.min(1, (nowMs - start) / (end - start))
    const delivered = (value: number) => Math.floor(value * elapsed)
    const age = nowMs - end
    const late = age <= 0 ? 0.6 : age >= LATE_DAYS * DAY_MS ? 1 : Math.min(1, 0.6 + (0.4 * (1 - Math.exp(-age / (2 * DAY_MS)))) / (1 - Math.exp(-14)))
    const conversions = (value: number) => (late === 1 ? Math.floor(value * elapsed) : Math.floor(value * elapsed * late))

    const impressions = delivered(Math.round(c.impressions * (0.7 + 0.6 * draw('impressions'))))
    if (impressions === 0) return undefined
    const linkClicks = delivered(Math.round(c.linkClicks * (0.7 + 0.6 * draw('link-clicks'))))
    const spendFinal = c.spend * (0.85 + 0.3 * draw('spend')) * elapsed
    const purchasesFinal = Math.round(c.purchases * (0.5 + draw('purchases')))
    const purchases = conversions(purchasesFinal)
    const value = purchases * Math.round(c.valuePerPurchase * (0.8 + 0.4 * draw('value')))
    const actions = new Map<string, number>()
    const actionValues = new Map<string, number>()
    const add = (type: string, count: number) => count > 0 && actions.set(type, count)
    add('link_click', linkClicks)
    add('landing_page_view', Math.floor(linkClicks * (0.7 + 0.15 * draw('landing'))))
    add('post_engagement', linkClicks + Math.round(impressions * 0.004 * (0.5 + draw('engagement'))))
    add('offsite_conversion.fb_pixel_add_to_cart', conversions(Math.round(purchasesFinal * (2.5 + draw('cart')))))
    add('offsite_conversion.fb_pixel_initiate_checkout', conversions(Math.round(purchasesFinal * (1.4 + 0.4 * draw('checkout')))))
    for (const type of PURCHASE_TYPES) {
      add(type, purchases)
      if (value > 0) actionValues.set(type, value)
    }
    return {
      impressions,
      clicks: Math.floor(linkClicks * (1.3 + 0.2 * draw('clicks'))),
      inlineLinkClicks: linkClicks,
      spend: p.currency === 'IDR' ? Math.round(spendFinal) : Math.round(spendFinal * 100) / 100,
      actions,
      actionValues,
    }
  }

  function sum(parts: DayNumbers[]): DayNumbers | undefined {
    if (parts.length === 0) return undefined
    const out: DayNumbers = { impressions: 0, clicks: 0, inlineLinkClicks: 0, spend: 0, actions: new Map(), actionValues: new Map() }
    for (const part of parts) {
      out.impressions += part.impressions
      out.clicks += part.clicks
      out.inlineLinkClicks += part.inlineLinkClicks
      out.spend = Math.round((out.spend + part.spend) * 100) / 100
      for (const [type, n] of part.actions) out.actions.set(type, (out.actions.get(type) ?? 0) + n)
      for (const [type, n] of part.actionValues) out.actionValues.set(type, (out.actionValues.get(type) ?? 0) + n)
    }
    return out
  }

  // --- HTTP answers --------------------------------------------------------------------------

  function usageHeaders(p: AdAccountProfile, type: 'ads_insights' | 'ads_management', percent: number, regainMs: number): Record<string, string> {
    const regainMinutes = regainMs > 0 ? Math.max(1, Math.ceil(regainMs / 60_000)) : 0
    const headers: Record<string, string> = {
      'X-Business-Use-Case-Usage': JSON.stringify({
        [p.accountId]: [{ type, call_count: percent, total_cputime: percent, total_time: percent, estimated_time_to_regain_access: regainMinutes, ads_api_access_tier: ACCESS_TIER }],
      }),
      'X-Ad-Account-Usage': JSON.stringify({ acc_id_util_pct: percent, reset_time_duration: Math.ceil(regainMs / 1000), ads_api_access_tier: ACCESS_TIER }),
    }
    if (type === 'ads_insights') headers['X-FB-Ads-Insights-Throttle'] = JSON.stringify({ app_id_util_pct: percent, acc_id_util_pct: percent, ads_api_access_tier: ACCESS_TIER })
    return headers
  }

  /** Per token and ad account, `callsPerHour` calls in any hour. */
  function admit(token: string, segments: string[], nowMs: number): Record<string, string> {
    const p = profile(segments[0] ?? '')
    const type = segments[1] === 'insights' ? 'ads_insights' : 'ads_management'
    const decision = calls.take(`${token}|${p.id}`, nowMs)
    if (!decision.allowed) {
      throw new GraphError(
        {
          message:
            '(#80000) There have been too many calls from this ad-account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.',
          type: 'OAuthException',
          code: 80000,
          error_subcode: 2446079,
        },
        { headers: usageHeaders(p, type, 100, decision.regainMs) },
      )
    }
    return usageHeaders(p, type, Math.min(100, Math.floor((decision.used * 100) / options.callsPerHour)), 0)
  }

  function route(request: GraphFamilyRequest, segments: string[], token: string, nowMs: number): unknown {
    const [id = '', edge, ...rest] = segments
    if (token.startsWith('noscope')) {
      throw new GraphError({ message: '(#200) Ad account owner has NOT grant ads_management or ads_read permission', type: 'OAuthException', code: 200 }, { status: 403 })
    }
    if (rest.length > 0) throw unsupportedRequest(request.method, id)
    const p = profile(id)
    if (edge === undefined) return accountNode(p, request.query, nowMs)
    if (edge === 'insights') return insights(request, p, nowMs)
    throw nonexistingField(edge, 'AdAccount')
  }

  function accountNode(p: AdAccountProfile, query: URLSearchParams, nowMs: number): unknown {
    const fields = parseFields(query.get('fields'), 'AdAccount') ?? parseFields('account_id,id', 'AdAccount')!
    for (const field of fields) if (!(ACCOUNT_FIELDS as readonly string[]).includes(field.name)) throw nonexistingField(field.name, 'AdAccount')
    const out: Record<string, unknown> = {}
    for (const { name } of fields) {
      if (name === 'id') out.id = p.id
      else if (name === 'account_id') out.account_id = p.accountId
      else if (name === 'name') out.name = p.name
      else if (name === 'currency') out.currency = p.currency
      else if (name === 'timezone_name') out.timezone_name = p.timezone
      else if (name === 'timezone_offset_hours_utc') out.timezone_offset_hours_utc = DateTime.fromMillis(nowMs, { zone: p.timezone }).offset / 60
      else if (name === 'account_status') out.account_status = 1
    }
    if (!('id' in out)) out.id = p.id
    return out
  }

  function insights(request: GraphFamilyRequest, p: AdAccountProfile, nowMs: number): unknown {
    const { query } = request
    const level = query.get('level')?.trim() || 'account'
    if (level === 'adset' || level === 'ad') throw invalidParameter(`(#100) level=${level} is not modelled by the simulator: use account or campaign`)
    if (level !== 'account' && level !== 'campaign') throw invalidParameter('(#100) level must be one of the following values: ad, adset, campaign, account')
    const fieldList = parseFields(query.get('fields'), 'AdsInsights')?.map((f) => f.name) ?? ['impressions', 'spend']
    for (const name of fieldList) if (!(FIELDS as readonly string[]).includes(name)) throw nonexistingField(name, 'AdsInsights')
    const { since, until } = timeRange(p, query, nowMs)
    const oldest = localToday(p, nowMs).minus({ months: MAX_HISTORY_MONTHS })
    if (since < oldest) throw new GraphError({ message: '(#3018) The start date of the time range cannot be beyond 37 months from the current date', type: 'OAuthException', code: 3018 })
    const increment = timeIncrement(query.get('time_increment'), since, until)
    const limit = parseLimit(query.get('limit'))
    const offset = query.get('after') ? decodeCursor(query.get('after')!) : 0

    // Every row of the report, by bucket then campaign.
    const rows: Array<Record<string, unknown>> = []
    for (let bucketStart = since; bucketStart <= until; bucketStart = bucketStart.plus({ days: increment })) {
      const bucketStop = DateTime.min(bucketStart.plus({ days: increment - 1 }), until)
      const dates: string[] = []
      for (let d = bucketStart; d <= bucketStop; d = d.plus({ days: 1 })) dates.push(d.toISODate()!)
      const perCampaign = p.campaigns.map((c) => ({ c, numbers: sum(dates.flatMap((date) => campaignDay(p, c, date, nowMs) ?? [])) }))
      const units = level === 'campaign' ? perCampaign.filter((u) => u.numbers) : [{ c: undefined, numbers: sum(perCampaign.flatMap((u) => u.numbers ?? [])) }]
      for (const u of units) {
        if (!u.numbers) continue
        rows.push(renderRow(p, u.c, u.numbers, fieldList, bucketStart.toISODate()!, bucketStop.toISODate()!))
      }
    }
    const page = rows.slice(offset, offset + limit)
    if (page.length > MAX_ROWS_PER_PAGE) {
      // UNCONFIRMED: the reference gives HTTP 500 and code 1 for this message; whether Meta adds a subcode is unknown.
      throw new GraphError({ message: "Please reduce the amount of data you're asking for, then retry your request", type: 'OAuthException', code: 1 }, { status: 500 })
    }
    if (page.length === 0) return { data: [] }
    const paging: Record<string, unknown> = { cursors: { before: encodeCursor(offset), after: encodeCursor(offset + page.length) } }
    if (offset + page.length < rows.length) {
      paging.next = linkWith(request.baseUrl, request.pathname, query, { limit: String(limit), after: encodeCursor(offset + page.length) })
    }
    return { data: page, paging }
  }

  function renderRow(p: AdAccountProfile, c: Campaign | undefined, n: DayNumbers, fields: string[], dateStart: string, dateStop: string): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    const money = (value: number) => (p.currency === 'IDR' ? String(Math.round(value)) : value.toFixed(2))
    const list = (entries: Map<string, number>, format: (v: number) => string) => [...entries].map(([action_type, value]) => ({ action_type, value: format(value) }))
    // Each field's value in the answer; a field left out (no campaign, no clicks, no actions) is undefined.
    const values: Record<string, () => unknown> = {
      account_id: () => p.accountId,
      account_name: () => p.name,
      account_currency: () => p.currency,
      campaign_id: () => c?.id,
      campaign_name: () => c?.name,
      impressions: () => String(n.impressions),
      clicks: () => String(n.clicks),
      inline_link_clicks: () => String(n.inlineLinkClicks),
      spend: () => money(n.spend),
      cpc: () => (n.clicks > 0 ? (n.spend / n.clicks).toFixed(6) : undefined),
      ctr: () => ((n.clicks * 100) / n.impressions).toFixed(6),
      actions: () => (n.actions.size > 0 ? list(n.actions, String) : undefined),
      action_values: () => (n.actionValues.size > 0 ? list(n.actionValues, (v) => v.toFixed(2)) : undefined),
    }
    for (const name of fields) {
      const value = Object.hasOwn(values, name) ? values[name]!() : undefined
      if (value !== undefined) out[name] = value
    }
    out.date_start = dateStart
    out.date_stop = dateStop
    return out
  }

  /** `time_range={"since","until"}` (inclusive local dates), else `date_preset` (default last_30d). */
  function timeRange(p: AdAccountProfile, query: URLSearchParams, nowMs: number): { since: DateTime; until: DateTime } {
    const todayLocal = localToday(p, nowMs)
    const raw = query.get('time_range')
    if (raw) {
      let parsed: { since?: unknown; until?: unknown }
      try {
        parsed = JSON.parse(raw) as { since?: unknown; until?: unknown }
      } catch {
        // UNCONFIRMED wording.
        throw invalidParameter('(#100) param time_range must be a JSON object with since and until')
      }
      const since = typeof parsed.since === 'string' ? DateTime.fromISO(parsed.since, { zone: p.timezone }) : undefined
      const until = typeof parsed.until === 'string' ? DateTime.fromISO(parsed.until, { zone: p.timezone }) : undefined
      if (!since?.isValid || !until?.isValid || !/^\d{4}-\d{2}-\d{2}$/.test(String(parsed.since)) || !/^\d{4}-\d{2}-\d{2}$/.test(String(parsed.until))) {
        throw invalidParameter('(#100) param time_range must be a JSON object with since and until')
      }
      // UNCONFIRMED wording.
      if (since > until) throw invalidParameter('(#100) time_range: since must not be after until')
      return { since, until }
    }
    const preset = query.get('date_preset')?.trim() || 'last_30d'
    const lastN = /^last_(\d+)d$/.exec(preset)
    if (preset === 'today') return { since: todayLocal, until: todayLocal }
    if (preset === 'yesterday') return { since: todayLocal.minus({ days: 1 }), until: todayLocal.minus({ days: 1 }) }
    if (lastN && [3, 7, 14, 28, 30, 90].includes(Number(lastN[1]))) return { since: todayLocal.minus({ days: Number(lastN[1]) }), until: todayLocal.minus({ days: 1 }) }
    throw invalidParameter('(#100) date_preset must be one of the following values: today, yesterday, last_3d, last_7d, last_14d, last_28d, last_30d, last_90d')
  }

  return { owns: (objectId) => AD_ACCOUNT.test(objectId), admit, route }
}

function timeIncrement(value: string | null, since: DateTime, until: DateTime): number {
  const span = Math.round(until.diff(since, 'days').days) + 1
  if (value === null || value.trim() === '' || value === 'all_days') return span
  const n = Number(value)
  // UNCONFIRMED wording.
  if (!Number.isInteger(n) || n < 1 || n > 90) throw invalidParameter('(#100) time_increment must be all_days, monthly, or an integer from 1 to 90')
  return n
}

function parseLimit(value: string | null): number {
  if (value === null || value.trim() === '') return DEFAULT_LIMIT
  const limit = Number(value)
  if (!Number.isInteger(limit) || limit < 1) throw invalidParameter('(#100) The parameter limit must be a positive integer')
  return limit
}

function encodeCursor(offset: number): string {
  return Buffer.from(`row:${offset}`).toString('base64url')
}

function decodeCursor(cursor: string): number {
  const match = /^row:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'))
  if (!match) throw invalidParameter('(#100) The After Cursor specified is invalid')
  return Number(match[1])
}

/** Ad accounts: a Graph node family at the simulator's root, for the registry (simulator/networks.ts). */
export const metaAdsSimulator: SimulatorModule<'meta_ads'> = {
  network: 'meta_ads',
  mounts: { graph: '' },
  serve: (context) => ({ graphFamily: createAdsGraph(context) }),
}
