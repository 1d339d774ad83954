import axios, { type AxiosResponse } from 'axios'
import { DateTime } from 'luxon'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../core/config.ts'
import { ApiRateLimitError, TokenError } from '../../core/errors.ts'
import { createInstagramCollector } from '../../ingest/collectors/instagram.ts'
import type { CollectContext } from '../../ingest/collectors/types.ts'
import type { ObservationRow } from '../../core/tables.ts'
import type { PlanAccount } from '../../plan/plan.ts'
import { DEMO_INSTAGRAM_ACCOUNTS } from '../../simulator/graph-instagram.ts'
import { simulatorEnvironment, type RunningSimulator } from '../../simulator/index.ts'
import { silentLogger } from '../helpers/runtime.ts'
import { useSimulatorHarness } from '../helpers/simulator-harness.ts'
import { speaker } from '../../core/i18n/index.ts'

/** The advice these tests read is the English one (an English plan's). */
const ENGLISH = speaker('en', 'UTC')

/**
 * The Instagram collector against the Graph simulator (social-apis.md §2). Expected values are
 * read from the simulator with plain HTTP calls, and day boundaries are worked out here: Instagram
 * insights days are Pacific days (ingest/graph-api.ts), which end at 08:00 UTC in winter and
 * 07:00 UTC in summer; the collector stores each day's row at 07:00 UTC of its date all year.
 */

const NOW = new Date('2026-11-26T09:00:00Z')
const DAY = 86_400_000
const PACIFIC = 'America/Los_Angeles'
/** The Instagram day containing NOW: Pacific standard time, so it starts at 08:00 UTC. */
const CURRENT_DAY = Date.parse('2026-11-26T08:00:00Z')
/** The start of the Pacific day `days` before CURRENT_DAY (the 28-day window crosses the clock change of 1 November). */
const dayBefore = (days: number) => DateTime.fromMillis(CURRENT_DAY, { zone: PACIFIC }).minus({ days }).toMillis()
const KOPI: PlanAccount = { id: 'kopi-ig', name: 'Kopi Nusantara IG', apiId: DEMO_INSTAGRAM_ACCOUNTS[0]!.id, tokenEnv: 'IG_TOKEN', network: 'instagram' }
const SECRET = 'ig-user-token-5b2e'
const RETRY = { maxRetries: 3, baseDelayMs: 10, maxInlineWaitMs: 2_000 }

type Json = any

let clock = NOW
const harness = useSimulatorHarness('ig_collector', () => clock)

function collector(url = harness.sim.url) {
  const config = loadConfig({ ...simulatorEnvironment(url), QUEUE_PREFIX: 'ig-test' })
  return createInstagramCollector({ config, retry: RETRY, sleep: async () => undefined })
}

function context(token: string, sink: ObservationRow[], at: Date, lookbackDays: number): CollectContext {
  return {
    account: KOPI,
    token,
    roundAt: at,
    now: () => at,
    lookbackDays,
    logger: silentLogger,
    emit: async (rows) => {
      sink.push(...rows)
      await harness.writers.observations.write(rows)
    },
  }
}

async function collect(options: { token?: string; sink?: ObservationRow[]; at?: Date; lookbackDays?: number; url?: string } = {}) {
  return collector(options.url).collect(context(options.token ?? SECRET, options.sink ?? [], options.at ?? NOW, options.lookbackDays ?? 28))
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  )

async function graph(path: string, params: Record<string, unknown> = {}, options: { token?: string | null; target?: RunningSimulator } = {}): Promise<AxiosResponse<Json>> {
  const token = options.token === undefined ? 'check' : options.token
  const url = path.startsWith('http') ? path : `${(options.target ?? harness.sim).url}/v25.0/${path}`
  return axios.get(url, { params, headers: token ? { Authorization: `Bearer ${token}` } : {}, validateStatus: () => true })
}

const unix = (ms: number) => ms / 1000
/** Where the collector stores the row of the Pacific day that starts at `dayStart`: 07:00 UTC of its date. */
const rowOf = (dayStart: number) => `${DateTime.fromMillis(dayStart, { zone: PACIFIC }).toISODate()} 07:00:00.000`
/** The Pacific day a value's end_time closes. */
const dayEnding = (endTime: string) => DateTime.fromISO(endTime.replace('+0000', 'Z'), { zone: PACIFIC }).minus({ days: 1 }).toMillis()

/** Every media item of the account, by walking /media until `next` is absent. */
async function walkMedia(limit = 100): Promise<{ media: Json[]; emptyPagesWithNext: number }> {
  const media: Json[] = []
  let emptyPagesWithNext = 0
  let url: string | undefined = `${harness.sim.url}/v25.0/${KOPI.apiId}/media?fields=id,timestamp,like_count,comments_count&limit=${limit}`
  while (url) {
    const page: Json = (await graph(url)).data
    if (page.data.length === 0 && page.paging?.next) emptyPagesWithNext++
    media.push(...page.data)
    url = page.paging?.next
  }
  return { media, emptyPagesWithNext }
}

describe('Instagram collector against the Graph simulator', () => {
  it('stores the follower level from the IG user node at the round time', async () => {
    const rows: ObservationRow[] = []
    await collect({ sink: rows })
    const user = (await graph(KOPI.apiId, { fields: 'followers_count' })).data
    const followers = rows.filter((r) => r.metric === 'followers')
    expect(followers).toHaveLength(1)
    expect(followers[0]).toMatchObject({ value: user.followers_count, observed_at: '2026-11-26 09:00:00.000', shape: 'gauge', object_type: 'account' })
    // 21,000 a year ago + 30/day × 365 days (± a 7-follower wobble).
    expect(user.followers_count).toBeGreaterThan(31_900)
    expect(user.followers_count).toBeLessThan(32_000)
  })

  it('reads every post of the last 90 days once, across an empty page that still has `next`, and skips hidden like counts', async () => {
    const rows: ObservationRow[] = []
    await collect({ sink: rows })
    const { media, emptyPagesWithNext } = await walkMedia()
    expect(emptyPagesWithNext).toBeGreaterThan(0)
    const recent = media.filter((m) => Date.parse(m.timestamp.replace('+0000', 'Z')) >= NOW.getTime() - 90 * DAY)
    expect(recent.length).toBeGreaterThanOrEqual(89)

    const comments = rows.filter((r) => r.metric === 'comments')
    expect(comments.map((r) => r.object_id).sort()).toEqual(recent.map((m) => m.id).sort())
    for (const m of recent) expect(comments.find((r) => r.object_id === m.id)?.value).toBe(m.comments_count)

    const hidden = recent.filter((m) => !('like_count' in m))
    expect(hidden.length).toBeGreaterThan(0)
    const likes = rows.filter((r) => r.metric === 'likes')
    expect(likes).toHaveLength(recent.length - hidden.length)
    for (const m of hidden) expect(likes.some((r) => r.object_id === m.id)).toBe(false)
    for (const r of likes) expect(r.value).toBe(recent.find((m) => m.id === r.object_id)!.like_count)
    expect(likes.every((r) => r.shape === 'counter' && r.object_created_at !== null && r.object_type === 'post')).toBe(true)
  })

  it('stores new followers per day (not a level) for each ended Instagram day, across the November clock change', async () => {
    const rows: ObservationRow[] = []
    const summary = await collect({ sink: rows })
    expect(summary.skipped).toEqual([])
    const daily = rows.filter((r) => r.metric === 'new_followers')
    expect(daily).toHaveLength(28)
    const answer = (await graph(`${KOPI.apiId}/insights`, { metric: 'follower_count', period: 'day', since: unix(dayBefore(28)), until: unix(CURRENT_DAY) })).data
    const values: Array<{ value: number; end_time: string }> = answer.data[0].values
    expect(values).toHaveLength(28)
    // Days that end before the clock change on Sunday 1 November end at 07:00 UTC, the later ones at 08:00.
    expect(values[0]!.end_time).toBe('2026-10-30T07:00:00+0000')
    expect(values.map((v) => v.end_time)).toContain('2026-11-01T07:00:00+0000')
    expect(values.map((v) => v.end_time)).toContain('2026-11-02T08:00:00+0000')
    expect(values.at(-1)!.end_time).toBe('2026-11-26T08:00:00+0000')
    for (const point of values) expect(daily.find((r) => r.observed_at === rowOf(dayEnding(point.end_time)))?.value).toBe(point.value)
    expect(daily.map((r) => r.api_day)).toEqual(Array.from({ length: 28 }, (_, i) => DateTime.fromISO('2026-10-29').plus({ days: i }).toISODate()))
    expect(daily.every((r) => r.shape === 'daily' && r.observed_at.endsWith(' 07:00:00.000') && r.api_day_zone === 'Etc/GMT+7')).toBe(true)
    // New follows per day, a few dozen, not a level of ~32,000.
    expect(Math.max(...daily.map((r) => r.value))).toBeLessThan(100)
  })

  it('labels the days right in summer and across the March clock change, each day asked from its Pacific midnight', async () => {
    for (const [instant, first, firstEnd, lastEnd] of [
      ['2026-07-15T09:00:00Z', '2026-06-17', '2026-06-18T07:00:00+0000', '2026-07-15T07:00:00+0000'],
      // Sunday 14 March 2027 has 23 hours: 08:00 UTC to 07:00 UTC the next morning.
      ['2027-03-16T09:00:00Z', '2027-02-16', '2027-02-17T08:00:00+0000', '2027-03-16T07:00:00+0000'],
    ] as const) {
      const at = new Date(instant)
      clock = at
      try {
        const sim = await harness.start()
        const rows: ObservationRow[] = []
        const before = sim.requests().length
        const summary = await collect({ sink: rows, at, url: sim.url })
        expect(summary.skipped, instant).toEqual([])
        const days = Array.from({ length: 28 }, (_, i) => DateTime.fromISO(first).plus({ days: i }).toISODate())
        const daily = rows.filter((r) => r.metric === 'new_followers')
        expect(
          daily.map((r) => r.api_day),
          instant,
        ).toEqual(days)
        expect(
          daily.every((r) => r.observed_at.endsWith(' 07:00:00.000')),
          instant,
        ).toBe(true)
        for (const metric of ['clicks', 'views'])
          expect(
            rows.filter((r) => r.metric === metric).map((r) => r.api_day),
            `${instant} ${metric}`,
          ).toEqual(days)
        const series = (
          await graph(`${sim.url}/v25.0/${KOPI.apiId}/insights?metric=follower_count&period=day&since=${DateTime.fromISO(first, { zone: PACIFIC }).toSeconds()}&until=${at.getTime() / 1000}`)
        ).data.data[0].values as Array<{ value: number; end_time: string }>
        expect([series[0]!.end_time, series.at(-1)!.end_time], instant).toEqual([firstEnd, lastEnd])
        for (const point of series) expect(daily.find((r) => r.observed_at === rowOf(dayEnding(point.end_time)))?.value, point.end_time).toBe(point.value)
        // Each day's totals are asked from its Pacific midnight to the next: 14 March 2027 is 23 hours long.
        const asked = sim
          .requests()
          .slice(before)
          .filter((r) => r.query.metric_type === 'total_value')
          .map((r) => [DateTime.fromSeconds(Number(r.query.since), { zone: PACIFIC }).toISO(), Number(r.query.until) - Number(r.query.since)])
        expect(
          asked.every(([start]) => String(start).includes('T00:00:00.000')),
          instant,
        ).toBe(true)
        if (instant.startsWith('2027')) expect(asked).toContainEqual(['2027-03-14T00:00:00.000-08:00', 23 * 3600])
      } finally {
        clock = NOW
      }
    }
  })

  it('reads days that end at 07:00 UTC in winter too, and skips only the values whose end_time ends no day', async () => {
    // Instagram's "periods ending on UTC−07:00", taken literally in November: still the same days.
    const fixed = [
      { value: 31, end_time: '2026-11-24T07:00:00+0000' },
      { value: 29, end_time: '2026-11-25T07:00:00+0000' },
      { value: 40, end_time: '2026-11-25T12:00:00+0000' },
      { value: 33, end_time: '2026-11-26T07:00:00+0000' },
    ]
    const body = JSON.stringify({ data: [{ name: 'follower_count', period: 'day', values: fixed, id: `${KOPI.apiId}/insights/follower_count/day` }] })
    harness.sim.injectFault({ path: new RegExp(`^/v25\\.0/${KOPI.apiId}/insights$`), times: 1, status: 200, headers: { 'Content-Type': 'application/json; charset=UTF-8' }, body })
    const rows: ObservationRow[] = []
    const summary = await collect({ sink: rows })
    const daily = rows.filter((r) => r.metric === 'new_followers')
    expect(daily.map((r) => [r.api_day, r.observed_at, r.value])).toEqual([
      ['2026-11-23', '2026-11-23 07:00:00.000', 31],
      ['2026-11-24', '2026-11-24 07:00:00.000', 29],
      ['2026-11-25', '2026-11-25 07:00:00.000', 33],
    ])
    // The 12:00 value is left out, in words, as a part that starves new_followers; the rest of the account is collected.
    const reason = '1 of 4 daily values left out: end_time "2026-11-25T12:00:00+0000" is not the end of a day (a Pacific or UTC−07:00 midnight)'
    expect(summary.skipped).toEqual([`follower_count: ${reason}`])
    expect(summary.refused).toEqual([{ part: 'follower_count', metrics: ['new_followers'], reason }])
    expect(rows.filter((r) => r.metric === 'clicks')).toHaveLength(28)
  })

  it('reads the total_value insights one day at a time, and writes nothing for a day with no data yet', async () => {
    const rows: ObservationRow[] = []
    await collect({ sink: rows })
    const byMetric = (metric: string) => rows.filter((r) => r.metric === metric)
    for (const metric of ['clicks', 'contact_taps', 'views', 'reach', 'engagements']) expect(byMetric(metric), metric).toHaveLength(28)
    for (const days of [1, 10, 28]) {
      const answer = (
        await graph(`${KOPI.apiId}/insights`, { metric: 'website_clicks,views', metric_type: 'total_value', period: 'day', since: unix(dayBefore(days)), until: unix(dayBefore(days - 1)) })
      ).data
      const clicks = answer.data.find((d: Json) => d.name === 'website_clicks').total_value.value
      expect(byMetric('clicks').find((r) => r.observed_at === rowOf(dayBefore(days)))?.value).toBe(clicks)
      expect(byMetric('views').find((r) => r.observed_at === rowOf(dayBefore(days)))?.value).toBe(answer.data.find((d: Json) => d.name === 'views').total_value.value)
    }
    // The current day has not ended: Instagram answers an empty data set, and nothing is stored.
    const today = (await graph(`${KOPI.apiId}/insights`, { metric: 'website_clicks', metric_type: 'total_value', period: 'day', since: unix(CURRENT_DAY), until: unix(CURRENT_DAY + DAY) })).data
    expect(today.data).toEqual([])
    expect(rows.some((r) => r.observed_at === rowOf(CURRENT_DAY) && r.shape === 'daily')).toBe(false)
    // Demo volumes: ≈ 55 website clicks and ≈ 9,000 views a day.
    const mean = (metric: string) => byMetric(metric).reduce((s, r) => s + r.value, 0) / 28
    expect(mean('clicks')).toBeGreaterThan(40)
    expect(mean('clicks')).toBeLessThan(70)
    expect(mean('views')).toBeGreaterThan(7_500)
    expect(mean('views')).toBeLessThan(10_500)
  })

  it('sends the token only in the Authorization header, never in a URL or a row', async () => {
    const token = 'ig-only-in-header-91c3'
    const rows: ObservationRow[] = []
    await collect({ token, sink: rows })
    const requests = harness.sim.requests().filter((r) => r.token === token)
    expect(requests.length).toBeGreaterThan(30)
    expect(requests.every((r) => !('access_token' in r.query) && !JSON.stringify(r.query).includes(token))).toBe(true)
    expect(JSON.stringify(rows)).not.toContain(token)
  })

  it('re-reads revised days without double counting: the same round adds nothing, a later round replaces', async () => {
    const snapshot = async () =>
      (await harness.db.ch.rows<{ n: string; total: number }>("SELECT count() AS n, sum(value) AS total FROM observations FINAL WHERE account_id = 'kopi-ig' AND metric = 'views'"))[0]
    const raw = async () => (await harness.db.ch.rows<{ n: string }>("SELECT count() AS n FROM observations WHERE account_id = 'kopi-ig'"))[0]!.n
    await collect()
    await harness.writers.flush()
    const before = await snapshot()
    const rawBefore = await raw()
    await collect()
    await harness.writers.flush()
    expect(await snapshot()).toEqual(before)
    expect(await raw()).toBe(rawBefore)

    // Six hours later the most recent day is reported more completely; it keeps one row.
    const later = new Date(NOW.getTime() + 6 * 3_600_000)
    clock = later
    try {
      const rows: ObservationRow[] = []
      await collect({ sink: rows, at: later })
      await harness.writers.flush()
    } finally {
      clock = NOW
    }
    const yesterday = rowOf(dayBefore(1))
    const stored = await harness.db.ch.rows<{ value: number }>(`SELECT value FROM observations FINAL WHERE account_id = 'kopi-ig' AND metric = 'views' AND observed_at = '${yesterday}'`)
    expect(stored).toHaveLength(1)
    const after = await snapshot()
    expect(after!.n).toBe(before!.n)
    expect(after!.total).toBeGreaterThan(before!.total)
  })

  it('waits and retries on throttle codes 4, 17 and 80002', async () => {
    for (const code of [4, 17, 80002]) {
      harness.sim.injectFault({ path: /\/media$/, times: 1, error: { message: `(#${code}) throttled`, type: 'OAuthException', code }, headers: { 'Retry-After': '0' } })
      const before = harness.sim.requests().length
      const summary = await collect()
      expect(summary.observations).toBeGreaterThan(300)
      const media = harness.sim
        .requests()
        .slice(before)
        .filter((r) => r.path.endsWith('/media'))
      expect(media[0]!.query.after).toBeUndefined()
      expect(media[1]!.query.after).toBeUndefined() // the throttled first page was asked again
    }
  })

  it('pauses when the Instagram usage header passes 95 %, and hands the 24-hour budget back as a ApiRateLimitError', async () => {
    // 1 call an hour = 24 calls in any 24 hours for Instagram's Business Use Case.
    const small = await harness.start({ callsPerHour: 1 })
    const first = await failure(collect({ url: small.url }))
    expect(first).toBeInstanceOf(ApiRateLimitError)
    // Paused by the usage header (a minute on the collector's clock, which stands still), before being refused.
    expect((first as ApiRateLimitError).retryAfterMs).toBe(60_000)
    // The collector stopped at 23 of 24 calls; the 24th is the last one the token gets today.
    expect((await graph(KOPI.apiId, { fields: 'id' }, { target: small, token: SECRET })).status).toBe(200)
    const answer = await graph(KOPI.apiId, { fields: 'id' }, { target: small, token: SECRET })
    expect(answer.data.error).toMatchObject({ code: 80002, type: 'OAuthException' })
    const usage = JSON.parse(answer.headers['x-business-use-case-usage'])[KOPI.apiId][0]
    expect(usage).toMatchObject({ type: 'instagram', call_count: 100 })
    // The clock stands still: the first call leaves the 24-hour window in 24 hours.
    expect(usage.estimated_time_to_regain_access).toBe(24 * 60)
    const second = await failure(collect({ url: small.url }))
    expect(second).toBeInstanceOf(ApiRateLimitError)
    expect((second as ApiRateLimitError).retryAfterMs).toBe(24 * 60 * 60_000)
  })

  it('skips a refused metric and keeps the rest', async () => {
    // The first insights request (follower_count) is refused; then every total_value metric works.
    harness.sim.injectFault({ path: /\/insights$/, times: 1, error: { message: '(#100) metric[0] must be one of the following values: reach', type: 'OAuthException', code: 100 } })
    const rows: ObservationRow[] = []
    const summary = await collect({ sink: rows })
    expect(summary.skipped).toHaveLength(1)
    expect(summary.skipped[0]).toMatch(/^follower_count: /)
    expect(rows.some((r) => r.metric === 'new_followers')).toBe(false)
    expect(rows.filter((r) => r.metric === 'clicks')).toHaveLength(28)
  })

  it('stops with a TokenError on an expired token or a missing permission, with advice naming the scope', async () => {
    const c = collector()
    for (const [token, code] of [
      ['expired-ig', '190/463'],
      ['invalid-ig', '190/467'],
      ['noscope-ig', '10'],
    ] as const) {
      const error = await failure(c.collect(context(token, [], NOW, 28)))
      expect(error).toBeInstanceOf(TokenError)
      expect((error as TokenError).apiCode).toBe(code)
      expect((error as Error).message).not.toContain(token)
    }
    expect(c.tokenAdvice(ENGLISH, '10', 'IG_TOKEN')).toMatch(/instagram_manage_insights.*IG_TOKEN/)
    expect(c.tokenAdvice(ENGLISH, '190/463', 'IG_TOKEN')).toMatch(/has expired.*IG_TOKEN/)
  })

  it('backfills daily insights for a past window, with new followers only inside the last 30 days', async () => {
    const rows: ObservationRow[] = []
    const c = collector()
    const summary = await c.history!.backfill(context(SECRET, rows, NOW, 28), { from: '2026-09-01', to: '2026-10-01' })
    expect(summary.skipped).toEqual([])
    expect(rows.filter((r) => r.metric === 'views')).toHaveLength(30)
    expect(rows.filter((r) => r.metric === 'new_followers')).toHaveLength(0)
    expect(rows.find((r) => r.metric === 'views')!.observed_at).toBe('2026-09-01 07:00:00.000')
  })
})

describe('the Instagram part of the Graph simulator', () => {
  const insights = (params: Record<string, unknown>) => graph(`${KOPI.apiId}/insights`, params)

  it('answers the time-series shape with `values` and the total_value shape with `total_value`', async () => {
    const series = (await insights({ metric: 'reach', period: 'day', since: unix(dayBefore(3)), until: unix(CURRENT_DAY) })).data
    expect(series.data[0]).toMatchObject({ name: 'reach', period: 'day', id: `${KOPI.apiId}/insights/reach/day` })
    // Pacific standard time: November days end at 08:00 UTC.
    expect(series.data[0].values.map((v: Json) => v.end_time)).toEqual(['2026-11-24T08:00:00+0000', '2026-11-25T08:00:00+0000', '2026-11-26T08:00:00+0000'])
    const total = (await insights({ metric: 'reach', metric_type: 'total_value', period: 'day', since: unix(dayBefore(3)), until: unix(CURRENT_DAY) })).data
    expect(Object.keys(total.data[0])).toEqual(['name', 'period', 'title', 'description', 'total_value', 'id'])
    expect(total.data[0].total_value.value).toBe(series.data[0].values.reduce((s: number, v: Json) => s + v.value, 0))
  })

  it('refuses what Instagram refuses', async () => {
    const expectError = (res: AxiosResponse<Json>, message: string) => {
      expect(res.status).toBe(400)
      expect(res.data.error).toMatchObject({ code: 100, type: 'OAuthException', message })
    }
    expectError(
      await insights({ metric: 'reach', period: 'day', since: unix(CURRENT_DAY - 31 * DAY), until: unix(CURRENT_DAY) }),
      '(#100) There cannot be more than 30 days (2592000 s) between since and until',
    )
    expectError(
      await insights({ metric: 'follower_count', period: 'day', since: unix(CURRENT_DAY - 40 * DAY), until: unix(CURRENT_DAY - 20 * DAY) }),
      '(#100) (follower_count) metric only supports querying data for the last 30 days excluding the current day',
    )
    expectError(await insights({ metric: 'website_clicks', period: 'day' }), '(#100) The following metrics (website_clicks) should be specified with parameter metric_type=total_value')
    expect((await insights({ metric: 'reach,impressions', period: 'day' })).data.error.message).toMatch(/^\(#100\) metric\[1\] must be one of the following values: /)
    const noToken = await graph(KOPI.apiId, {}, { token: null })
    expect(noToken.data.error.code).toBe(104)
  })

  it('serves media nodes consistent with the /media edge, and any other 17841… id with a hashed profile', async () => {
    const page = (await graph(`${KOPI.apiId}/media`, { fields: 'id,like_count,comments_count,timestamp', limit: 5 })).data
    const first = page.data[0]
    const node = (await graph(first.id, { fields: 'comments_count,timestamp' })).data
    expect(node).toEqual({ comments_count: first.comments_count, timestamp: first.timestamp, id: first.id })
    const other = (await graph('17841499999990001', { fields: 'username,followers_count,media_count' })).data
    expect(other.username).toMatch(/0001$/)
    expect(other.followers_count).toBeGreaterThan(500)
    expect(other.media_count).toBeGreaterThan(300)
  })

  it('is deterministic: the same seed and clock give the same bodies; another seed does not', async () => {
    const paths = [
      `${KOPI.apiId}?fields=id,username,followers_count,media_count`,
      `${KOPI.apiId}/media?fields=id,timestamp,like_count,comments_count&limit=50`,
      `${KOPI.apiId}/insights?metric=views,website_clicks&metric_type=total_value&period=day&since=${unix(CURRENT_DAY - 7 * DAY)}&until=${unix(CURRENT_DAY)}`,
    ]
    const bodies = async (target: RunningSimulator) => Promise.all(paths.map(async (p) => JSON.stringify((await graph(p, {}, { target })).data).replaceAll(target.url, 'SIM')))
    const a = await bodies(await harness.start({ seed: 7 }))
    const b = await bodies(await harness.start({ seed: 7 }))
    const c = await bodies(await harness.start({ seed: 8 }))
    expect(b).toEqual(a)
    expect(c[1]).not.toBe(a[1])
    expect(c[2]).not.toBe(a[2])
  })
})
