import axios from 'axios'
import { beforeEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../core/config.ts'
import { ApiRateLimitError, TokenError } from '../../core/errors.ts'
import { ga4 } from '../../core/networks/ga4.ts'
import { createGa4Collector, type Ga4CollectorTuning } from '../../ingest/collectors/ga4.ts'
import type { CollectContext } from '../../ingest/collectors/types.ts'
import type { ObservationRow } from '../../core/tables.ts'
import type { PlanAccount } from '../../plan/plan.ts'
import { simulatorEnvironment, startSimulator, type RunningSimulator } from '../../simulator/index.ts'
import { silentLogger } from '../helpers/runtime.ts'
import { useSimulatorHarness } from '../helpers/simulator-harness.ts'
import { speaker } from '../../core/i18n/index.ts'

/** The advice these tests read is the English one (an English plan's). */
const ENGLISH = speaker('en', 'UTC')

// 09:20 UTC on 26 Nov 2026 is 16:20 in Jakarta, the demo property's time zone.
const START = new Date('2026-11-26T09:20:00Z')
const PROPERTY = '412345678'
const SOCIAL = { channelGroups: ['Organic Social', 'Paid Social'] }
/** An account as the plan hands it to the collector: its settings parsed by the GA4 schema. */
const account = (id: string, settings: Record<string, unknown>): PlanAccount => ({ id, name: id, apiId: PROPERTY, tokenEnv: 'GA4_TOKEN', network: 'ga4', settings: ga4.settings.parse(settings) })
const MAIN = account('kopi-ga4', SOCIAL)
const SECRET = 'ya29.ga4-token-31c7'
const RETRY = { maxRetries: 3, baseDelayMs: 10, maxInlineWaitMs: 2_000 }

let now = START
const harness = useSimulatorHarness('ga4_collector', () => now)
let slept: number[] = []

beforeEach(() => {
  now = START
  slept = []
})

function collector(options: Ga4CollectorTuning = {}) {
  const config = loadConfig({ ...simulatorEnvironment(harness.sim.url), QUEUE_PREFIX: 'test-ga4', HTTP_TIMEOUT_MS: '5000' })
  return createGa4Collector({ config, retry: RETRY, sleep: async (ms) => void slept.push(ms) }, options)
}

function context(target: PlanAccount, token: string, sink: ObservationRow[]): CollectContext {
  return {
    account: target,
    token,
    roundAt: now,
    now: () => now,
    lookbackDays: 28,
    logger: silentLogger,
    emit: async (rows) => {
      sink.push(...rows)
      await harness.writers.observations.write(rows)
    },
  }
}

async function collect(target: PlanAccount, token = SECRET, sink: ObservationRow[] = [], c = collector()) {
  return c.collect(context(target, token, sink))
}

interface Report {
  metricHeaders: Array<{ name: string }>
  rows?: Array<{ dimensionValues: Array<{ value: string }>; metricValues: Array<{ value: string }> }>
  rowCount?: number
  propertyQuota?: Record<string, { consumed: number; remaining: number }>
}

/** The simulator's raw runReport answer. */
async function runReport(body: Record<string, unknown>, token = 'direct-check'): Promise<Report> {
  return (await axios.post<Report>(`${harness.sim.url}/ga4/v1beta/properties/${PROPERTY}:runReport`, body, { headers: { Authorization: `Bearer ${token}` } })).data
}

/** GA4's own per-day totals for a filter: one dimension (date), so GA4 sums, not us. */
async function perDay(fieldName: string, values: string[], metric = 'keyEvents') {
  const report = await runReport({
    dateRanges: [{ startDate: '28daysAgo', endDate: 'today' }],
    dimensions: [{ name: 'date' }],
    metrics: [{ name: 'sessions' }, { name: metric }],
    dimensionFilter: { filter: { fieldName, inListFilter: { values } } },
  })
  return new Map((report.rows ?? []).map((row) => [row.dimensionValues[0]!.value, row.metricValues.map((v) => Number(v.value))]))
}

/** The Jakarta midnight that starts `yyyymmdd`, as ClickHouse writes it (UTC). */
const jakartaStart = (date: string) => {
  const utc = Date.UTC(Number(date.slice(0, 4)), Number(date.slice(4, 6)) - 1, Number(date.slice(6, 8))) - 7 * 3_600_000
  return new Date(utc).toISOString().replace('T', ' ').replace('Z', '')
}

let marks = 0
/** The requests made after this call (a marked request says where "after" begins). */
async function requestsFromNow(): Promise<() => ReturnType<RunningSimulator['requests']>> {
  const label = `mark-${++marks}`
  await axios.get(`${harness.sim.url}/ga4/mark`, { params: { label }, validateStatus: () => true })
  return () => {
    const log = harness.sim.requests()
    return log.slice(log.findLastIndex((r) => r.query.label === label) + 1)
  }
}

describe('GA4 collector against the GA4 Data API simulator', () => {
  it("stores daily social sessions and key events equal to GA4's own totals, at midnight of the property's time zone", async () => {
    const rows: ObservationRow[] = []
    const summary = await collect(MAIN, SECRET, rows)
    // the property's currency, from the report's metadata
    expect(summary.facts).toEqual([{ fact: 'currency', value: 'IDR', sourceField: 'runReport.metadata.currencyCode' }])
    const expected = await perDay('sessionDefaultChannelGroup', SOCIAL.channelGroups)
    const sessions = rows.filter((r) => r.metric === 'sessions')
    const conversions = rows.filter((r) => r.metric === 'conversions')
    expect(sessions).toHaveLength(29) // 28 days ago through today
    expect(sessions).toHaveLength(expected.size)
    for (const [date, [daySessions, dayKeyEvents]] of expected) {
      expect(sessions.find((r) => r.observed_at === jakartaStart(date))?.value).toBe(daySessions)
      expect(conversions.find((r) => r.observed_at === jakartaStart(date))?.value).toBe(dayKeyEvents)
    }
    expect(sessions.map((r) => r.observed_at)).toContain('2026-11-24 17:00:00.000') // 25 Nov in Jakarta
    expect(sessions.every((r) => r.shape === 'daily' && r.object_id === PROPERTY)).toBe(true)
    expect(conversions[0]!.source_field).toBe('runReport.keyEvents[sessionDefaultChannelGroup=Organic Social|Paid Social]')
  })

  it('asks with an inListFilter and pages with limit and offset until rowCount is reached', async () => {
    const since = await requestsFromNow()
    const paged: ObservationRow[] = []
    await collect(MAIN, SECRET, paged, collector({ pageSize: 7 }))
    const whole: ObservationRow[] = []
    await collect(MAIN, SECRET, whole)
    const calls = since().filter((r) => r.path.endsWith(':runReport'))
    const pagedCalls = calls.length - 1
    const full = await runReport({
      dateRanges: [{ startDate: '28daysAgo', endDate: 'today' }],
      dimensions: [{ name: 'date' }, { name: 'sessionDefaultChannelGroup' }],
      metrics: [{ name: 'sessions' }, { name: 'keyEvents' }],
      dimensionFilter: { filter: { fieldName: 'sessionDefaultChannelGroup', inListFilter: { values: SOCIAL.channelGroups, caseSensitive: false } } },
    })
    expect(full.rowCount).toBeGreaterThan(40)
    expect(pagedCalls).toBe(Math.ceil(full.rowCount! / 7))
    const values = (rows: ObservationRow[]) => rows.map((r) => `${r.metric} ${r.observed_at} ${r.value}`).sort()
    expect(values(paged)).toEqual(values(whole))
  })

  it('filters on sessionSource when the plan names sources, and counts one key event when asked', async () => {
    const sources = ['facebook.com', 'm.facebook.com']
    const rows: ObservationRow[] = []
    await collect(account('kopi-ga4-fb', { source: sources, keyEvent: 'purchase' }), SECRET, rows)
    const expected = await perDay('sessionSource', sources, 'keyEvents:purchase')
    expect(rows.filter((r) => r.metric === 'sessions')).toHaveLength(expected.size)
    for (const [date, [daySessions, purchases]] of expected) {
      expect(rows.find((r) => r.metric === 'sessions' && r.observed_at === jakartaStart(date))?.value).toBe(daySessions)
      expect(rows.find((r) => r.metric === 'conversions' && r.observed_at === jakartaStart(date))?.value).toBe(purchases)
    }
    expect(rows.find((r) => r.metric === 'conversions')!.source_field).toBe('runReport.keyEvents:purchase[sessionSource=facebook.com|m.facebook.com]')
  })

  it('reads the older metric name `conversions` for properties configured that way', async () => {
    const older: ObservationRow[] = []
    const current: ObservationRow[] = []
    await collect(account('kopi-ga4-old', { ...SOCIAL, conversionMetric: 'conversions' }), SECRET, older)
    await collect(MAIN, SECRET, current)
    const conversions = (rows: ObservationRow[]) => rows.filter((r) => r.metric === 'conversions').map((r) => `${r.observed_at} ${r.value}`)
    expect(conversions(older)).toEqual(conversions(current))
    expect(older.find((r) => r.metric === 'conversions')!.source_field).toMatch(/^runReport\.conversions\[/)
  })

  it('stores nothing when GA4 sends no rows: no data is not zero', async () => {
    const rows: ObservationRow[] = []
    const summary = await collect(account('kopi-ga4-none', { source: 'nosuchsource.example' }), SECRET, rows)
    const report = await runReport({
      dateRanges: [{ startDate: '28daysAgo', endDate: 'today' }],
      dimensions: [{ name: 'date' }],
      metrics: [{ name: 'sessions' }],
      dimensionFilter: { filter: { fieldName: 'sessionSource', stringFilter: { value: 'nosuchsource.example' } } },
    })
    expect(report.rows).toBeUndefined()
    expect(report.rowCount).toBeUndefined()
    expect(rows).toEqual([])
    expect(summary.observations).toBe(0)
  })

  it('parses metric values by their declared type and skips one that is not a number', async () => {
    const body = {
      dimensionHeaders: [{ name: 'date' }, { name: 'sessionDefaultChannelGroup' }],
      metricHeaders: [
        { name: 'sessions', type: 'TYPE_INTEGER' },
        { name: 'keyEvents', type: 'TYPE_FLOAT' },
      ],
      rows: [
        { dimensionValues: [{ value: '20261125' }, { value: 'Organic Social' }], metricValues: [{ value: '120' }, { value: '3.5' }] },
        { dimensionValues: [{ value: '20261125' }, { value: 'Paid Social' }], metricValues: [{ value: '80' }, { value: '1' }] },
        { dimensionValues: [{ value: '20261126' }, { value: 'Paid Social' }], metricValues: [{ value: '12.5' }, { value: '2' }] },
      ],
      rowCount: 3,
      metadata: { timeZone: 'Asia/Jakarta' },
      kind: 'analyticsData#runReport',
    }
    harness.sim.injectFault({ path: /:runReport$/, times: 1, status: 200, body: JSON.stringify(body), headers: { 'Content-Type': 'application/json; charset=UTF-8' } })
    const rows: ObservationRow[] = []
    const summary = await collect(account('kopi-ga4-typed', SOCIAL), SECRET, rows)
    const at = (metric: string, date: string) => rows.find((r) => r.metric === metric && r.observed_at === jakartaStart(date))?.value
    expect(at('sessions', '20261125')).toBe(200)
    expect(at('conversions', '20261125')).toBe(4.5)
    expect(at('sessions', '20261126')).toBeUndefined()
    expect(at('conversions', '20261126')).toBe(2)
    expect(summary.skipped).toHaveLength(1)
    expect(summary.skipped[0]).toContain('12.5')
  })

  it('re-reads recent days: a growing day is replaced by its later value, never added', async () => {
    const read = async (date: string) =>
      (
        await harness.db.ch.rows<{ n: string; value: number }>(
          `SELECT count() AS n, sum(value) AS value FROM observations FINAL WHERE account_id = 'kopi-ga4' AND metric = 'sessions' AND observed_at = '${jakartaStart(date)}'`,
        )
      )[0]!
    await collect(MAIN)
    await harness.writers.flush()
    const first = await read('20261126')
    now = new Date(START.getTime() + 86_400_000)
    await collect(MAIN)
    await harness.writers.flush()
    const second = await read('20261126')
    const expected = await perDay('sessionDefaultChannelGroup', SOCIAL.channelGroups)
    expect(Number(second.n)).toBe(1)
    expect(second.value).toBe(expected.get('20261126')![0])
    expect(second.value).toBeGreaterThan(first.value)
    const all = (
      await harness.db.ch.rows<{ n: string; total: number }>(
        `SELECT count() AS n, sum(value) AS total FROM observations FINAL WHERE account_id = 'kopi-ga4' AND metric = 'sessions' AND observed_at >= '${jakartaStart('20261030')}'`,
      )
    )[0]!
    expect(Number(all.n)).toBe(expected.size)
    expect(all.total).toBe([...expected.values()].reduce((sum, [s]) => sum + s!, 0))
  })

  it("backfills a past window by the property's days", async () => {
    const rows: ObservationRow[] = []
    const c = collector()
    await c.history!.backfill(context(MAIN, SECRET, rows), { from: '2026-05-01', to: '2026-07-01' })
    const report = await runReport({
      dateRanges: [{ startDate: '2026-05-01', endDate: '2026-06-30' }],
      dimensions: [{ name: 'date' }],
      metrics: [{ name: 'sessions' }, { name: 'keyEvents' }],
      dimensionFilter: { filter: { fieldName: 'sessionDefaultChannelGroup', inListFilter: { values: SOCIAL.channelGroups } } },
    })
    const sessions = rows.filter((r) => r.metric === 'sessions')
    expect(sessions).toHaveLength(61)
    expect(sessions.map((r) => r.observed_at)).toContain(jakartaStart('20260501'))
    expect(sessions.reduce((sum, r) => sum + r.value, 0)).toBe(report.rows!.reduce((sum, row) => sum + Number(row.metricValues[0]!.value), 0))
  })

  it('waits until the next hour when a token bucket is spent, remembers it, and calls again after', async () => {
    const token = 'ga4-burner'
    const big = {
      dateRanges: [{ startDate: '400daysAgo', endDate: 'today' }],
      dimensions: [{ name: 'date' }, { name: 'sessionSourceMedium' }],
      metrics: [{ name: 'sessions' }],
      returnPropertyQuota: true,
      limit: 1,
    }
    let remaining = Infinity
    while (remaining > 0) remaining = (await runReport(big, token)).propertyQuota!.tokensPerProjectPerHour!.remaining
    const refused = await axios.post(`${harness.sim.url}/ga4/v1beta/properties/${PROPERTY}:runReport`, big, { headers: { Authorization: `Bearer ${token}` }, validateStatus: () => true })
    expect(refused.status).toBe(429)
    expect(refused.data.error.status).toBe('RESOURCE_EXHAUSTED')

    const c = collector()
    const since = await requestsFromNow()
    const error = await collect(MAIN, token, [], c).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiRateLimitError)
    expect((error as ApiRateLimitError).retryAfterMs).toBe(40 * 60_000) // 09:20 → 10:00
    expect(since().filter((r) => r.path.endsWith(':runReport'))).toHaveLength(1)

    // The next round, still inside the hour, does not call in vain.
    now = new Date('2026-11-26T09:35:00Z')
    const again = await collect(MAIN, token, [], c).catch((e: unknown) => e)
    expect((again as ApiRateLimitError).retryAfterMs).toBe(25 * 60_000)
    expect(since().filter((r) => r.path.endsWith(':runReport'))).toHaveLength(1)

    now = new Date('2026-11-26T10:00:30Z')
    const summary = await collect(MAIN, token, [], c)
    expect(summary.observations).toBeGreaterThan(50)
  })

  it('pauses before the next call when propertyQuota shows too few tokens left for another request', async () => {
    const token = 'ga4-edge'
    const big = {
      dateRanges: [{ startDate: '400daysAgo', endDate: 'today' }],
      dimensions: [{ name: 'date' }, { name: 'sessionSourceMedium' }],
      metrics: [{ name: 'sessions' }],
      returnPropertyQuota: true,
      limit: 1,
    }
    const small = { dateRanges: [{ startDate: 'today', endDate: 'today' }], metrics: [{ name: 'sessions' }], returnPropertyQuota: true }
    let remaining = Infinity
    while (remaining > 500) remaining = (await runReport(big, token)).propertyQuota!.tokensPerProjectPerHour!.remaining
    while (remaining > 6) remaining = (await runReport(small, token)).propertyQuota!.tokensPerProjectPerHour!.remaining
    expect(remaining).toBeGreaterThan(0)

    const c = collector()
    const since = await requestsFromNow()
    const summary = await collect(MAIN, token, [], c)
    expect(summary.observations).toBeGreaterThan(50)
    const error = await collect(MAIN, token, [], c).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiRateLimitError)
    expect((error as ApiRateLimitError).retryAfterMs).toBe(40 * 60_000)
    expect(since().filter((r) => r.path.endsWith(':runReport'))).toHaveLength(1)
  })

  it('honours RetryInfo in a 429 and waits for the next hour when a 429 says nothing', async () => {
    const retryInfo = {
      error: { code: 429, message: 'Exhausted concurrent requests quota.', status: 'RESOURCE_EXHAUSTED', details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1.5s' }] },
    }
    harness.sim.injectFault({ path: /:runReport$/, times: 1, status: 429, body: JSON.stringify(retryInfo), headers: { 'Content-Type': 'application/json; charset=UTF-8' } })
    const summary = await collect(MAIN)
    expect(summary.observations).toBeGreaterThan(50)
    expect(slept).toEqual([1_500])

    harness.sim.injectFault({ path: /:runReport$/, times: 1, status: 429, error: { code: 429, message: 'Resource has been exhausted (e.g. check quota).' } })
    const error = await collect(MAIN).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiRateLimitError)
    expect((error as ApiRateLimitError).retryAfterMs).toBe(40 * 60_000)
  })

  it('stops with a TokenError and plain advice when the token is refused, lacks the scope or the property access', async () => {
    const c = collector()
    const cases = [
      ['expired-ya29-9', 'ACCESS_TOKEN_EXPIRED', /re-authorise.*analytics\.readonly/is],
      ['noscope-ya29-9', 'ACCESS_TOKEN_SCOPE_INSUFFICIENT', /without the scope .*analytics\.readonly/i],
      ['noaccess-ya29-9', 'PERMISSION_DENIED', /Viewer role/],
    ] as const
    for (const [token, apiCode, advice] of cases) {
      const error = await collect(MAIN, token, [], c).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(TokenError)
      expect((error as TokenError).apiCode).toBe(apiCode)
      expect((error as Error).message).not.toContain(token)
      expect(c.tokenAdvice(ENGLISH, apiCode, 'GA4_TOKEN')).toMatch(advice)
      expect(c.tokenAdvice(ENGLISH, apiCode, 'GA4_TOKEN')).toContain('GA4_TOKEN')
    }
  })

  it('sends the token only in the Authorization header and a JSON body; the API refuses anything else', async () => {
    const token = 'ya29.ga4-header-only'
    const rows: ObservationRow[] = []
    await collect(MAIN, token, rows)
    const mine = harness.sim.requests().filter((r) => r.token === token)
    expect(mine.length).toBeGreaterThan(0)
    expect(mine.every((r) => r.method === 'POST' && Object.keys(r.query).length === 0)).toBe(true)
    expect(JSON.stringify(rows)).not.toContain(token)

    const url = `${harness.sim.url}/ga4/v1beta/properties/${PROPERTY}:runReport`
    const body = { dateRanges: [{ startDate: 'today', endDate: 'today' }], metrics: [{ name: 'sessions' }] }
    const bare = await axios.post(url, body, { validateStatus: () => true })
    expect(bare.status).toBe(401)
    expect(bare.data.error.status).toBe('UNAUTHENTICATED')
    const text = await axios.post(url, JSON.stringify(body), { headers: { Authorization: 'Bearer x', 'Content-Type': 'text/plain' }, validateStatus: () => true })
    expect(text.status).toBe(400)
    expect(text.data.error.status).toBe('INVALID_ARGUMENT')
  })

  it('validates the plan settings in plain words', () => {
    const parse = (settings: unknown) => ga4.settings!.safeParse(settings)
    expect(parse({}).data).toEqual({ dimension: 'sessionDefaultChannelGroup', values: ['Organic Social', 'Paid Social'], conversionMetric: 'keyEvents' })
    expect(parse({ channelGroups: ['organic social'] }).data).toMatchObject({ values: ['Organic Social'] })
    expect(parse({ source: 'facebook.com', keyEvent: 'purchase' }).data).toEqual({ dimension: 'sessionSource', values: ['facebook.com'], conversionMetric: 'keyEvents:purchase' })
    const both = parse({ channelGroups: ['Paid Social'], source: 'facebook.com' })
    expect(both.error?.issues[0]).toMatchObject({ path: ['source'], message: 'give either channelGroups or source, not both' })
    expect(parse({ channelGroups: ['Social'] }).error?.issues[0]?.message).toContain('not a GA4 default channel group')
    expect(parse({ conversionMetric: 'goals' }).success).toBe(false)
    expect(parse({ channelGroup: ['Paid Social'] }).success).toBe(false)
  })

  it('answers the same bodies for the same seed and clock', async () => {
    const other = await startSimulator({ now: () => START, seed: 42 })
    try {
      const body = {
        dateRanges: [{ startDate: '10daysAgo', endDate: 'today' }],
        dimensions: [{ name: 'date' }, { name: 'sessionSourceMedium' }],
        metrics: [{ name: 'sessions' }, { name: 'keyEvents' }],
      }
      const post = async (base: string) =>
        (await axios.post(`${base}/ga4/v1beta/properties/${PROPERTY}:runReport`, body, { headers: { Authorization: 'Bearer same' }, responseType: 'text' })).data as string
      expect(await post(other.url)).toBe(await post(harness.sim.url))
    } finally {
      await other.close()
    }
  })
})
