import axios, { type AxiosResponse } from 'axios'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../core/config.ts'
import { ConfigError, ApiRateLimitError, TokenError } from '../../core/errors.ts'
import { meta_ads } from '../../core/networks/meta_ads.ts'
import { createMetaAdsCollector } from '../../ingest/collectors/meta-ads.ts'
import type { CollectContext } from '../../ingest/collectors/types.ts'
import type { ObservationRow } from '../../core/tables.ts'
import { graphUsage } from '../../ingest/graph-api.ts'
import type { PlanAccount } from '../../plan/plan.ts'
import { DEMO_AD_ACCOUNTS } from '../../simulator/graph-ads.ts'
import { simulatorEnvironment, type RunningSimulator } from '../../simulator/index.ts'
import { silentLogger } from '../helpers/runtime.ts'
import { useSimulatorHarness } from '../helpers/simulator-harness.ts'
import { speaker } from '../../core/i18n/index.ts'

/** The advice these tests read is the English one (an English plan's). */
const ENGLISH = speaker('en', 'UTC')

/**
 * The Meta ads collector against the Marketing API part of the Graph simulator (social-apis.md
 * §7.1). Expected values come from plain insights calls; day boundaries are worked out here: the
 * demo ad account reports in Asia/Jakarta (UTC+7, no daylight saving), so its days start at 17:00
 * UTC the day before.
 */

const NOW = new Date('2026-11-26T09:00:00Z') // 16:00 in Jakarta
const DAY = 86_400_000
const PURCHASE = 'offsite_conversion.fb_pixel_purchase'
const ADS: PlanAccount = {
  id: 'kopi-ads',
  name: 'Kopi Nusantara ads',
  apiId: DEMO_AD_ACCOUNTS[0]!.id,
  tokenEnv: 'META_ADS_TOKEN',
  network: 'meta_ads',
  settings: { purchaseActionType: PURCHASE },
}
const SECRET = 'ads-system-user-token-0c4d'
const RETRY = { maxRetries: 3, baseDelayMs: 10, maxInlineWaitMs: 2_000 }
/** The demo account delivers nothing on these local days (today − 12 to today − 10). */
const PAUSED = ['2026-11-14', '2026-11-15', '2026-11-16']

type Json = any

let clock = NOW
const harness = useSimulatorHarness('ads_collector', () => clock)

function collector(options: { url?: string; pageSize?: number } = {}) {
  const config = loadConfig({ ...simulatorEnvironment(options.url ?? harness.sim.url), QUEUE_PREFIX: 'ads-test' })
  return createMetaAdsCollector({ config, retry: RETRY, sleep: async () => undefined }, { pageSize: options.pageSize })
}

function context(options: { account?: PlanAccount; token?: string; sink?: ObservationRow[]; at?: Date; lookbackDays?: number } = {}): CollectContext {
  const at = options.at ?? NOW
  const sink = options.sink ?? []
  return {
    account: options.account ?? ADS,
    token: options.token ?? SECRET,
    roundAt: at,
    now: () => at,
    lookbackDays: options.lookbackDays ?? 28,
    logger: silentLogger,
    emit: async (rows) => {
      sink.push(...rows)
      await harness.writers.observations.write(rows)
    },
  }
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  )

async function graph(path: string, params: Record<string, unknown> = {}, options: { token?: string; target?: RunningSimulator } = {}): Promise<AxiosResponse<Json>> {
  const url = path.startsWith('http') ? path : `${(options.target ?? harness.sim).url}/v25.0/${path}`
  return axios.get(url, { params, headers: { Authorization: `Bearer ${options.token ?? 'check'}` }, validateStatus: () => true })
}

/** All daily account rows of [since, until], read straight from the simulator. */
async function insightRows(since: string, until: string): Promise<Json[]> {
  const rows: Json[] = []
  let url: string | undefined = `${harness.sim.url}/v25.0/${ADS.apiId}/insights`
  let params: Record<string, unknown> = { level: 'account', time_increment: 1, time_range: JSON.stringify({ since, until }), fields: 'actions,action_values,inline_link_clicks,spend', limit: 50 }
  while (url) {
    const page: Json = (await graph(url, params)).data
    rows.push(...page.data)
    url = page.paging?.next
    params = {}
  }
  return rows
}

/** Jakarta midnight of a local date, as stored. */
const jakartaMidnight = (date: string) => new Date(Date.parse(`${date}T00:00:00+07:00`)).toISOString().replace('T', ' ').replace('Z', '')
const actionValue = (list: Json[] | undefined, type: string) => Number(list?.find((a) => a.action_type === type)?.value ?? 0)

describe('Meta ads collector against the Marketing API simulator', () => {
  it('counts only the purchase action type the plan names, per Jakarta day', async () => {
    const rows: ObservationRow[] = []
    const summary = await collector().collect(context({ sink: rows }))
    // the ad account's currency, read with its time zone: spend and purchase values are in it
    expect(summary.facts).toEqual([{ fact: 'currency', value: 'IDR', sourceField: 'adaccount.currency' }])
    const expected = await insightRows('2026-10-29', '2026-11-26')
    expect(expected).toHaveLength(29 - PAUSED.length)
    const conversions = rows.filter((r) => r.metric === 'conversions')
    expect(conversions).toHaveLength(expected.length)
    let chosen = 0
    let allPurchaseTypes = 0
    for (const row of expected) {
      const stored = conversions.find((r) => r.observed_at === jakartaMidnight(row.date_start))
      expect(stored?.value, row.date_start).toBe(actionValue(row.actions, PURCHASE))
      expect(rows.find((r) => r.metric === 'conversion_value' && r.observed_at === jakartaMidnight(row.date_start))?.value).toBe(actionValue(row.action_values, PURCHASE))
      expect(rows.find((r) => r.metric === 'clicks' && r.observed_at === jakartaMidnight(row.date_start))?.value).toBe(Number(row.inline_link_clicks))
      expect(rows.find((r) => r.metric === 'spend' && r.observed_at === jakartaMidnight(row.date_start))?.value).toBe(Number(row.spend))
      chosen += actionValue(row.actions, PURCHASE)
      allPurchaseTypes += ['purchase', 'omni_purchase', PURCHASE].reduce((s, t) => s + actionValue(row.actions, t), 0)
    }
    // The same purchases under three names: adding them up would have tripled the count.
    expect(allPurchaseTypes).toBe(3 * chosen)
    expect(conversions.reduce((s, r) => s + r.value, 0)).toBe(chosen)
    // ≈ 26 purchases a day; today (16:00 in Jakarta) is counted so far.
    expect(chosen).toBeGreaterThan(17 * 26)
    expect(chosen).toBeLessThan(30 * 26)
    expect(conversions.every((r) => r.shape === 'daily' && r.object_id === ADS.apiId && r.source_field === `actions.${PURCHASE}`)).toBe(true)
  })

  it('writes nothing for days without delivery, and reads 28 days back even with a shorter look-back', async () => {
    const rows: ObservationRow[] = []
    await collector().collect(context({ sink: rows, lookbackDays: 7 }))
    const days = new Set(rows.filter((r) => r.metric === 'impressions').map((r) => r.observed_at))
    expect(days.size).toBe(29 - PAUSED.length)
    for (const date of PAUSED) expect(rows.some((r) => r.observed_at === jakartaMidnight(date))).toBe(false)
    expect(days.has(jakartaMidnight('2026-10-29'))).toBe(true)
    expect(days.has('2026-11-25 17:00:00.000')).toBe(true) // today in Jakarta
    // A paused window answers an empty data set, and a backfill of it stores nothing.
    const empty = (await graph(`${ADS.apiId}/insights`, { level: 'account', time_increment: 1, time_range: JSON.stringify({ since: PAUSED[0], until: PAUSED[2] }) })).data
    expect(empty).toEqual({ data: [] })
    const backfilled: ObservationRow[] = []
    const summary = await collector().history!.backfill(context({ sink: backfilled }), { from: '2026-11-14', to: '2026-11-17' })
    expect(summary.observations).toBe(0)
    expect(backfilled).toEqual([])
  })

  it('pages by cursor until `next` is absent, every day exactly once', async () => {
    const rows: ObservationRow[] = []
    const before = harness.sim.requests().length
    await collector({ pageSize: 7 }).collect(context({ sink: rows }))
    const requests = harness.sim
      .requests()
      .slice(before)
      .filter((r) => r.path.endsWith('/insights'))
    expect(requests).toHaveLength(Math.ceil(26 / 7))
    expect(requests[0]!.query.after).toBeUndefined()
    expect(requests.slice(1).every((r) => r.query.after)).toBe(true)
    expect(requests.every((r) => r.query.level === 'account' && r.query.time_increment === '1' && r.query.limit === '7')).toBe(true)
    const days = rows.filter((r) => r.metric === 'conversions').map((r) => r.observed_at)
    expect(new Set(days).size).toBe(days.length)
    expect(days).toHaveLength(26)
  })

  it('halves the page size when Meta says the request is too much data (HTTP 500, code 1)', async () => {
    harness.sim.injectFault({ path: /\/insights$/, times: 1, status: 500, error: { message: "Please reduce the amount of data you're asking for, then retry your request", code: 1 } })
    const before = harness.sim.requests().length
    const rows: ObservationRow[] = []
    await collector().collect(context({ sink: rows }))
    const limits = harness.sim
      .requests()
      .slice(before)
      .filter((r) => r.path.endsWith('/insights'))
      .map((r) => r.query.limit)
    expect(limits).toEqual(['100', '50'])
    expect(rows.filter((r) => r.metric === 'conversions')).toHaveLength(26)

    // The simulator refuses pages of more than 60 rows by itself: 90 days back need 88 rows.
    const longBefore = harness.sim.requests().length
    const long: ObservationRow[] = []
    await collector().collect(context({ sink: long, lookbackDays: 90 }))
    const longLimits = harness.sim
      .requests()
      .slice(longBefore)
      .filter((r) => r.path.endsWith('/insights'))
      .map((r) => r.query.limit)
    expect(longLimits).toEqual(['100', '50', '50'])
    expect(long.filter((r) => r.metric === 'conversions')).toHaveLength(91 - PAUSED.length)
  })

  it('splits the time range once the page size is down to its minimum', async () => {
    harness.sim.injectFault({ path: /\/insights$/, times: 4, status: 500, error: { message: "Please reduce the amount of data you're asking for, then retry your request", code: 1 } })
    const before = harness.sim.requests().length
    const rows: ObservationRow[] = []
    await collector({ pageSize: 20 }).collect(context({ sink: rows }))
    const asked = harness.sim
      .requests()
      .slice(before)
      .filter((r) => r.path.endsWith('/insights'))
      .map((r) => `${r.query.limit} ${r.query.time_range}`)
    expect(asked.slice(0, 4)).toEqual([
      '20 {"since":"2026-10-29","until":"2026-11-26"}',
      '10 {"since":"2026-10-29","until":"2026-11-26"}',
      '20 {"since":"2026-10-29","until":"2026-11-11"}',
      '10 {"since":"2026-10-29","until":"2026-11-11"}',
    ])
    const days = rows.filter((r) => r.metric === 'conversions').map((r) => r.observed_at)
    expect(new Set(days).size).toBe(26)
  })

  it('re-reads the late-data window without double counting: the same round adds nothing, later rounds replace', async () => {
    const snapshot = async () =>
      (await harness.db.ch.rows<{ n: string; total: number }>("SELECT count() AS n, sum(value) AS total FROM observations FINAL WHERE account_id = 'kopi-ads' AND metric = 'conversions'"))[0]
    const raw = async () => (await harness.db.ch.rows<{ n: string }>("SELECT count() AS n FROM observations WHERE account_id = 'kopi-ads'"))[0]!.n
    await collector().collect(context())
    await harness.writers.flush()
    const before = await snapshot()
    const rawBefore = await raw()
    await collector().collect(context())
    await harness.writers.flush()
    expect(await snapshot()).toEqual(before)
    expect(await raw()).toBe(rawBefore)

    // Three days later, late conversions have arrived for days already stored.
    const later = new Date(NOW.getTime() + 3 * DAY)
    const day = jakartaMidnight('2026-11-24')
    const readValue = async () =>
      (await harness.db.ch.rows<{ value: number }>(`SELECT value FROM observations FINAL WHERE account_id = 'kopi-ads' AND metric = 'conversions' AND observed_at = '${day}'`)).map((r) => r.value)
    const [early] = await readValue()
    clock = later
    try {
      await collector().collect(context({ at: later }))
      await harness.writers.flush()
    } finally {
      clock = NOW
    }
    const now = await readValue()
    expect(now).toHaveLength(1)
    expect(now[0]).toBeGreaterThan(early!)
  })

  it('accepts an apiId without act_, and refuses to run without the purchase action type', async () => {
    const rows: ObservationRow[] = []
    await collector().collect(context({ sink: rows, account: { ...ADS, apiId: '1000000000000001' } }))
    expect(rows.filter((r) => r.metric === 'conversions')).toHaveLength(26)
    const error = await failure(collector().collect(context({ account: { ...ADS, settings: {} } })))
    expect(error).toBeInstanceOf(ConfigError)
    expect(meta_ads.settings!.safeParse({ purchaseActionType: 'purchase' }).success).toBe(true)
    expect(meta_ads.settings!.safeParse({ purchaseActionType: 'offsite_conversion.custom.123456' }).success).toBe(true)
    expect(meta_ads.settings!.safeParse({ purchaseActionType: 'purchase,omni_purchase' }).success).toBe(false)
    expect(meta_ads.settings!.safeParse({}).success).toBe(false)
  })

  it('waits and retries on the ads insights throttle (80000/2446079) and other throttle codes', async () => {
    for (const [code, subcode] of [
      [80000, 2446079],
      [17, 2446079],
      [4, undefined],
    ] as const) {
      harness.sim.injectFault({ path: /\/insights$/, times: 1, error: { message: `(#${code}) throttled`, type: 'OAuthException', code, error_subcode: subcode }, headers: { 'Retry-After': '0' } })
      const rows: ObservationRow[] = []
      await collector().collect(context({ sink: rows }))
      expect(rows.filter((r) => r.metric === 'conversions')).toHaveLength(26)
    }
  })

  it('reads the ads usage headers, and hands an exhausted ad-account budget back as a ApiRateLimitError', async () => {
    expect(graphUsage({ 'x-fb-ads-insights-throttle': '{"app_id_util_pct":96.5,"acc_id_util_pct":10,"ads_api_access_tier":"standard_access"}' }).maxPercent).toBe(96.5)
    expect(graphUsage({ 'x-ad-account-usage': '{"acc_id_util_pct":100,"reset_time_duration":420,"ads_api_access_tier":"standard_access"}' })).toEqual({ maxPercent: 100, regainAccessMs: 420_000 })

    const small = await harness.start({ callsPerHour: 2 })
    const page = await graph(`${ADS.apiId}/insights`, { fields: 'spend' }, { target: small, token: 'other-token' })
    expect(JSON.parse(page.headers['x-fb-ads-insights-throttle'])).toEqual({ app_id_util_pct: 50, acc_id_util_pct: 50, ads_api_access_tier: 'standard_access' })
    expect(JSON.parse(page.headers['x-business-use-case-usage'])['1000000000000001'][0]).toMatchObject({ type: 'ads_insights', call_count: 50 })

    // Two calls (the account node, one insights page) use the hour's budget; the next round is refused.
    await collector({ url: small.url }).collect(context())
    const error = await failure(collector({ url: small.url }).collect(context()))
    expect(error).toBeInstanceOf(ApiRateLimitError)
    expect((error as ApiRateLimitError).retryAfterMs).toBe(60 * 60_000)
    const refused = await graph(ADS.apiId, {}, { target: small, token: SECRET })
    expect(refused.data.error).toMatchObject({ code: 80000, error_subcode: 2446079, type: 'OAuthException' })
  })

  it('stops calling once X-FB-Ads-Insights-Throttle reaches 95 %, before Meta refuses', async () => {
    const budget = await harness.start({ callsPerHour: 20 })
    const error = await failure(collector({ url: budget.url, pageSize: 1 }).collect(context()))
    expect(error).toBeInstanceOf(ApiRateLimitError)
    expect((error as ApiRateLimitError).retryAfterMs).toBe(60_000) // a minute on the collector's clock, which stands still
    // 19 calls (95 %) were made; the budget still has room for one.
    expect(budget.requests().filter((r) => r.token === SECRET)).toHaveLength(19)
    expect((await graph(`${ADS.apiId}/insights`, { fields: 'spend' }, { target: budget, token: SECRET })).status).toBe(200)
  })

  it('stops with a TokenError on an expired token or a missing ads_read, with advice naming the scope', async () => {
    const c = collector()
    for (const [token, code] of [
      ['expired-ads', '190/463'],
      ['noscope-ads', '200'],
    ] as const) {
      const error = await failure(c.collect(context({ token })))
      expect(error).toBeInstanceOf(TokenError)
      expect((error as TokenError).apiCode).toBe(code)
      expect((error as Error).message).not.toContain(token)
    }
    expect(c.tokenAdvice(ENGLISH, '200', 'META_ADS_TOKEN')).toMatch(/ads_read.*META_ADS_TOKEN/)
  })
})

describe('the Marketing API part of the Graph simulator', () => {
  it('sends numbers as strings, in the ad account currency and time zone', async () => {
    const account = (await graph('act_42', { fields: 'id,currency,timezone_name' })).data
    expect(account).toMatchObject({ id: 'act_42', currency: 'USD' })
    const rows = (await graph('act_42/insights', { level: 'campaign', time_increment: 1, date_preset: 'last_7d', fields: 'campaign_id,impressions,spend,actions' })).data.data
    expect(rows.length).toBeGreaterThan(0)
    for (const row of rows) {
      expect(typeof row.impressions).toBe('string')
      expect(row.spend).toMatch(/^\d+\.\d{2}$/)
      expect(row.date_start).toBe(row.date_stop)
      expect(typeof row.campaign_id).toBe('string')
    }
    const demo = (await graph(`${ADS.apiId}/insights`, { time_range: JSON.stringify({ since: '2026-11-01', until: '2026-11-07' }), fields: 'spend' })).data.data
    expect(demo).toHaveLength(1) // no time_increment: one row for the range
    expect(demo[0]).toMatchObject({ date_start: '2026-11-01', date_stop: '2026-11-07' })
    expect(demo[0].spend).toMatch(/^\d+$/) // rupiah have no minor unit
  })

  it('refuses a start beyond 37 months (3018) and a page of too many rows (HTTP 500, code 1)', async () => {
    const old = await graph(`${ADS.apiId}/insights`, { time_range: JSON.stringify({ since: '2023-01-01', until: '2023-01-31' }) })
    expect(old.status).toBe(400)
    expect(old.data.error).toMatchObject({ code: 3018, message: '(#3018) The start date of the time range cannot be beyond 37 months from the current date' })
    const big = await graph(`${ADS.apiId}/insights`, { level: 'campaign', time_increment: 1, time_range: JSON.stringify({ since: '2026-09-01', until: '2026-11-20' }), limit: 500 })
    expect(big.status).toBe(500)
    expect(big.data.error).toMatchObject({ code: 1, message: "Please reduce the amount of data you're asking for, then retry your request" })
  })

  it('is deterministic: the same seed and clock give the same bodies; another seed does not', async () => {
    const path = `${ADS.apiId}/insights?level=campaign&time_increment=1&time_range=${encodeURIComponent('{"since":"2026-11-01","until":"2026-11-20"}')}&fields=campaign_id,impressions,actions&limit=60`
    const body = async (target: RunningSimulator) => JSON.stringify((await graph(path, {}, { target })).data).replaceAll(target.url, 'SIM')
    const a = await body(await harness.start({ seed: 7 }))
    expect(await body(await harness.start({ seed: 7 }))).toBe(a)
    expect(await body(await harness.start({ seed: 8 }))).not.toBe(a)
  })
})
