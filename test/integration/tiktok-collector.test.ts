import axios from 'axios'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../core/config.ts'
import { ApiRateLimitError, TokenError } from '../../core/errors.ts'
import { tiktok } from '../../core/networks/tiktok.ts'
import { createTikTokCollector } from '../../ingest/collectors/tiktok.ts'
import type { CollectContext } from '../../ingest/collectors/types.ts'
import type { ObservationRow } from '../../core/tables.ts'
import type { PlanAccount } from '../../plan/plan.ts'
import { simulatorEnvironment, startSimulator } from '../../simulator/index.ts'
import { displayTokenFor, TIKTOK_DEMO_ACCOUNTS } from '../../simulator/tiktok-api.ts'
import { useSimulatorHarness } from '../helpers/simulator-harness.ts'
import { speaker } from '../../core/i18n/index.ts'

/** The advice these tests read is the English one (an English plan's). */
const ENGLISH = speaker('en', 'UTC')

const NOW = new Date('2026-11-26T09:00:00Z')
const DAY = 86_400_000
const PERSONAL: PlanAccount = { id: 'kopi-tiktok', name: 'Kopi Nusantara', apiId: TIKTOK_DEMO_ACCOUNTS.display.id, tokenEnv: 'TIKTOK_TOKEN', network: 'tiktok' }
const BUSINESS: PlanAccount = {
  id: 'kopi-bandung-tiktok',
  name: 'Kopi Nusantara Bandung',
  apiId: TIKTOK_DEMO_ACCOUNTS.business.id,
  tokenEnv: 'TIKTOK_BUSINESS_TOKEN',
  network: 'tiktok',
  settings: { accountType: 'business' },
}
const SECRET = 'act.tiktok-secret-7d1e'
const RETRY = { maxRetries: 3, baseDelayMs: 10, maxInlineWaitMs: 2_000 }

/** The simulator's clock; one test moves it to see late data arrive. */
let clock = NOW
const harness = useSimulatorHarness('tiktok_collector', () => clock)

function collector(url = harness.sim.url, waits: number[] = []) {
  const config = loadConfig({ ...simulatorEnvironment(url), QUEUE_PREFIX: 'tiktok-test' })
  return createTikTokCollector({ config, retry: RETRY, sleep: async (ms) => void waits.push(ms) })
}

function context(account: PlanAccount, token: string, sink: ObservationRow[] = [], at = NOW, lookbackDays = 28): CollectContext {
  return harness.context({ account, token, at, sink, lookbackDays })
}

async function collect(account: PlanAccount, token = SECRET, sink: ObservationRow[] = [], options: { url?: string; waits?: number[]; at?: Date } = {}) {
  return collector(options.url, options.waits).collect(context(account, token, sink, options.at))
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  )

// --- the raw APIs, called directly (what the collector's values are checked against) ------------

interface DisplayVideo {
  id: string
  create_time: number
  like_count: number
  comment_count: number
  share_count: number
  view_count: number
}

const displayUser = async (token = 'check') =>
  (
    await axios.get<{ data: { user: Record<string, number | string> } }>(`${harness.sim.url}/tiktok/v2/user/info/`, {
      params: { fields: 'open_id,follower_count,likes_count,video_count' },
      headers: { Authorization: `Bearer ${token}` },
    })
  ).data.data.user

const displayPage = async (cursor?: number, token = 'check') =>
  (
    await axios.post<{ data: { videos: DisplayVideo[]; cursor: number; has_more: boolean } }>(
      `${harness.sim.url}/tiktok/v2/video/list/`,
      cursor === undefined ? { max_count: 20 } : { max_count: 20, cursor },
      { params: { fields: 'id,create_time,like_count,comment_count,share_count,view_count' }, headers: { Authorization: `Bearer ${token}` } },
    )
  ).data.data

const business = async <T>(path: string, params: Record<string, unknown>, token = 'check') =>
  (await axios.get<{ code: number; message: string; data: T }>(`${harness.sim.url}/tiktok-business/v1.3/${path}`, { params, headers: { 'Access-Token': token } })).data

const at = (date: Date) => date.toISOString().replace('T', ' ').replace('Z', '')
const values = (rows: ObservationRow[], metric: string) => rows.filter((r) => r.metric === metric)

describe('TikTok Display API (personal accounts)', () => {
  it('stores follower, like and video totals as /v2/user/info/ gives them, at the round time', async () => {
    const rows: ObservationRow[] = []
    await collect(PERSONAL, SECRET, rows)
    const user = await displayUser()
    expect(user.open_id).toBe(PERSONAL.apiId)
    for (const [metric, field] of [
      ['followers', 'follower_count'],
      ['total_likes', 'likes_count'],
      ['videos', 'video_count'],
    ] as const) {
      const row = values(rows, metric)
      expect(row).toHaveLength(1)
      expect(row[0]).toMatchObject({ value: user[field], observed_at: at(NOW), shape: 'gauge', object_type: 'account', source_field: field, api_version: 'v2' })
    }
    // the demo account's steady growth: about 30 followers a day
    expect(Number(user.follower_count)).toBeGreaterThan(30_000)
  })

  it('walks every video of the 90-day window exactly once, across empty pages that still have has_more', async () => {
    const rows: ObservationRow[] = []
    await collect(PERSONAL, SECRET, rows)
    const likes = values(rows, 'likes')
    const ids = likes.map((r) => r.object_id)
    expect(new Set(ids).size).toBe(ids.length)

    // an independent walk with the raw API, following the cursor until has_more is false
    const windowStart = NOW.getTime() / 1000 - 90 * 86_400
    const expected: DisplayVideo[] = []
    let emptyPagesWithMore = 0
    let cursor: number | undefined
    for (;;) {
      const page = await displayPage(cursor)
      if (page.videos.length === 0 && page.has_more) emptyPagesWithMore++
      expected.push(...page.videos.filter((v) => v.create_time >= windowStart))
      if (!page.has_more) break
      cursor = page.cursor
    }
    expect(emptyPagesWithMore).toBeGreaterThan(0)
    expect(expected.length).toBeGreaterThan(80)
    expect([...ids].sort()).toEqual(expected.map((v) => v.id).sort())

    const sample = expected[3]!
    const byMetric = (metric: string) => rows.find((r) => r.metric === metric && r.object_id === sample.id)
    expect(byMetric('likes')?.value).toBe(sample.like_count)
    expect(byMetric('comments')?.value).toBe(sample.comment_count)
    expect(byMetric('shares')?.value).toBe(sample.share_count)
    expect(byMetric('views')?.value).toBe(sample.view_count)
    expect(byMetric('views')?.object_created_at).toBe(at(new Date(sample.create_time * 1000)))
    expect(likes.every((r) => r.shape === 'counter' && r.object_type === 'post' && r.observed_at === at(NOW))).toBe(true)
  })

  it('an empty video list writes no counters (no data is not zero)', async () => {
    harness.sim.injectFault({
      path: /\/tiktok\/v2\/video\/list\/$/,
      times: 1,
      status: 200,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ data: { videos: [], cursor: 0, has_more: false }, error: { code: 'ok', message: '', log_id: '20261126090000ABCDEF0123456789ABCD' } }),
    })
    const rows: ObservationRow[] = []
    const summary = await collect(PERSONAL, SECRET, rows)
    expect(rows.filter((r) => r.object_type === 'post')).toHaveLength(0)
    expect(values(rows, 'followers')).toHaveLength(1)
    expect(summary.observations).toBe(3)
  })

  it('sends the token only as a Bearer header; the simulator refuses a request without one', async () => {
    const rows: ObservationRow[] = []
    const before = harness.sim.requests().length
    await collect(PERSONAL, SECRET, rows)
    const mine = harness.sim.requests().slice(before)
    expect(mine.length).toBeGreaterThan(5)
    expect(mine.every((r) => r.token === SECRET && !JSON.stringify(r.query).includes(SECRET))).toBe(true)
    expect(mine.filter((r) => r.path === '/tiktok/v2/video/list/').every((r) => r.method === 'POST')).toBe(true)
    expect(JSON.stringify(rows)).not.toContain(SECRET)

    const bare = await axios.get(`${harness.sim.url}/tiktok/v2/user/info/`, { params: { fields: 'open_id' }, validateStatus: () => true })
    expect(bare.status).toBe(401)
    expect(bare.data.error.code).toBe('access_token_invalid')
    const notJson = await axios.post(`${harness.sim.url}/tiktok/v2/video/list/`, 'max_count=20', {
      params: { fields: 'id' },
      headers: { Authorization: 'Bearer check', 'Content-Type': 'text/plain' },
      validateStatus: () => true,
    })
    expect(notJson.status).toBe(400)
    expect(notJson.data.error.code).toBe('invalid_params')
  })

  it('stops with a TokenError on refused tokens and scopes, and on a token of another account', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['expired-x', 'access_token_invalid', /Login Kit/],
      ['invalid-x', 'access_token_invalid', /refresh token/],
      ['noscope-x', 'scope_not_authorized', /user\.info\.stats/],
      ['nostats-x', 'scope_permission_missed', /user\.info\.stats/],
      ['novideo-x', 'scope_not_authorized', /video\.list/],
      [displayTokenFor('tt-someone-else-0042', 'other'), 'open_id_mismatch', /another TikTok account/],
    ]
    for (const [token, code, advice] of cases) {
      const error = await failure(collect(PERSONAL, token))
      expect(error, token).toBeInstanceOf(TokenError)
      expect((error as TokenError).apiCode).toBe(code)
      expect((error as Error).message).not.toContain(token)
      const words = collector().tokenAdvice(ENGLISH, code, 'TIKTOK_TOKEN')
      expect(words).toContain('TIKTOK_TOKEN')
      expect(words).toMatch(advice)
    }
  })

  it('hands a 429 rate_limit_exceeded back as a one-minute ApiRateLimitError; a Retry-After is honoured inline', async () => {
    const throttle = { message: 'The API rate limit was exceeded. Please try again later.', type: 'rate_limit_exceeded', code: 429 }
    harness.sim.injectFault({ path: /\/user\/info\/$/, times: 1, status: 429, error: throttle })
    const error = await failure(collect(PERSONAL))
    expect(error).toBeInstanceOf(ApiRateLimitError)
    expect((error as ApiRateLimitError).retryAfterMs).toBe(60_000)

    harness.sim.injectFault({ path: /\/video\/list\/$/, times: 1, status: 429, error: throttle, headers: { 'Retry-After': '1' } })
    const waits: number[] = []
    const rows: ObservationRow[] = []
    await collect(PERSONAL, SECRET, rows, { waits })
    expect(waits).toContain(1_000)
    expect(values(rows, 'likes').length).toBeGreaterThan(80)
  })

  it('keeps the documented budget of 600 calls a minute per endpoint and token', async () => {
    const token = 'budget-display'
    const statuses: number[] = []
    for (let batch = 0; batch < 12; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 50 }, () =>
          axios.get(`${harness.sim.url}/tiktok/v2/user/info/`, { params: { fields: 'open_id' }, headers: { Authorization: `Bearer ${token}` }, validateStatus: () => true }),
        ),
      )
      statuses.push(...answers.map((a) => a.status))
    }
    expect(statuses.every((s) => s === 200)).toBe(true)
    const over = await axios.get(`${harness.sim.url}/tiktok/v2/user/info/`, { params: { fields: 'open_id' }, headers: { Authorization: `Bearer ${token}` }, validateStatus: () => true })
    expect(over.status).toBe(429)
    expect(over.data.error.code).toBe('rate_limit_exceeded')
    // another endpoint keeps its own budget
    expect((await displayPage(undefined, token)).videos.length).toBeGreaterThan(0)

    const error = await failure(collect(PERSONAL, token))
    expect(error).toBeInstanceOf(ApiRateLimitError)
    expect((error as ApiRateLimitError).retryAfterMs).toBe(60_000)
  })

  it('retries server errors, then collects everything', async () => {
    harness.sim.injectFault({ path: /^\/tiktok\/v2\//, times: 2, status: 502, body: '<html>Bad gateway</html>' })
    const rows: ObservationRow[] = []
    await collect(PERSONAL, SECRET, rows)
    expect(values(rows, 'followers')).toHaveLength(1)
    expect(values(rows, 'likes').length).toBeGreaterThan(80)
  })

  it('serves any other open_id from a profile derived from it', async () => {
    const other: PlanAccount = { ...PERSONAL, id: 'other-tiktok', apiId: 'tt-warungsenja-0042' }
    const token = displayTokenFor(other.apiId)
    const rows: ObservationRow[] = []
    await collect(other, token, rows)
    const user = await displayUser(token)
    expect(user.open_id).toBe(other.apiId)
    expect(values(rows, 'followers')[0]?.value).toBe(user.follower_count)
    expect(values(rows, 'likes').length).toBeGreaterThan(50)
  })
})

describe('TikTok API for Business (business accounts)', () => {
  it('stores totals from business/get and video counters from business/video/list', async () => {
    const rows: ObservationRow[] = []
    await collect(BUSINESS, SECRET, rows)
    const account = await business<Record<string, number>>('business/get/', { business_id: BUSINESS.apiId, fields: JSON.stringify(['followers_count', 'total_likes', 'videos_count']) })
    expect(account.code).toBe(0)
    for (const [metric, field] of [
      ['followers', 'followers_count'],
      ['total_likes', 'total_likes'],
      ['videos', 'videos_count'],
    ] as const) {
      const row = rows.filter((r) => r.metric === metric && r.observed_at === at(NOW))
      expect(row).toHaveLength(1)
      expect(row[0]).toMatchObject({ value: account.data[field], source_field: field, api_version: 'v1.3' })
    }

    // independent walk of the video list; create_time arrives as a string of Unix seconds
    const windowStart = NOW.getTime() / 1000 - 90 * 86_400
    const expected: Array<{ item_id: string; create_time: string; likes: number; video_views: number }> = []
    let cursor: number | undefined
    let emptyPagesWithMore = 0
    for (;;) {
      const page = await business<{ videos: typeof expected; cursor: number; has_more: boolean }>('business/video/list/', {
        business_id: BUSINESS.apiId,
        fields: JSON.stringify(['item_id', 'create_time', 'likes', 'video_views']),
        max_count: 20,
        cursor,
      })
      if (page.data.videos.length === 0 && page.data.has_more) emptyPagesWithMore++
      expected.push(...page.data.videos.filter((v) => Number(v.create_time) >= windowStart))
      if (!page.data.has_more) break
      cursor = page.data.cursor
    }
    expect(emptyPagesWithMore).toBeGreaterThan(0)
    const likes = values(rows, 'likes')
    expect(likes.map((r) => r.object_id).sort()).toEqual(expected.map((v) => v.item_id).sort())
    const sample = expected[5]!
    const row = likes.find((r) => r.object_id === sample.item_id)
    expect(row?.value).toBe(sample.likes)
    expect(row?.object_created_at).toBe(at(new Date(Number(sample.create_time) * 1000)))
    expect(rows.find((r) => r.metric === 'views' && r.object_id === sample.item_id)?.value).toBe(sample.video_views)
  })

  it("reads bio link clicks and profile views per UTC day, and the follower level at each day's end", async () => {
    const rows: ObservationRow[] = []
    const before = harness.sim.requests().length
    await collect(BUSINESS, SECRET, rows)
    const daily = harness.sim
      .requests()
      .slice(before)
      .filter((r) => r.query.start_date)
    // 60 days in two requests of at most 30, ending yesterday (UTC)
    expect(daily.map((r) => [r.query.start_date, r.query.end_date])).toEqual([
      ['2026-09-27', '2026-10-26'],
      ['2026-10-27', '2026-11-25'],
    ])
    const clicks = values(rows, 'clicks')
    expect(clicks).toHaveLength(60)
    expect(clicks.every((r) => r.shape === 'daily' && r.observed_at.endsWith(' 00:00:00.000'))).toBe(true)

    const raw = await business<{ metrics: Array<{ date: string; bio_link_clicks: number; profile_views: number; daily_total_followers: number }> }>('business/get/', {
      business_id: BUSINESS.apiId,
      fields: JSON.stringify(['bio_link_clicks', 'profile_views', 'daily_total_followers']),
      start_date: '2026-11-20',
      end_date: '2026-11-25',
    })
    expect(raw.data.metrics).toHaveLength(6)
    for (const day of raw.data.metrics) {
      const start = `${day.date} 00:00:00.000`
      expect(clicks.find((r) => r.observed_at === start)?.value).toBe(day.bio_link_clicks)
      expect(rows.find((r) => r.metric === 'profile_views' && r.observed_at === start)?.value).toBe(day.profile_views)
      const end = at(new Date(Date.parse(`${day.date}T00:00:00Z`) + DAY))
      const level = rows.find((r) => r.metric === 'followers' && r.observed_at === end)
      expect(level).toMatchObject({ value: day.daily_total_followers, source_field: 'metrics.daily_total_followers' })
    }
  })

  it('sends the token only in Access-Token; the simulator answers 40104 without it', async () => {
    const rows: ObservationRow[] = []
    const before = harness.sim.requests().length
    await collect(BUSINESS, SECRET, rows)
    const mine = harness.sim.requests().slice(before)
    expect(mine.length).toBeGreaterThan(5)
    expect(mine.every((r) => r.token === SECRET && !JSON.stringify(r.query).includes(SECRET))).toBe(true)
    expect(JSON.stringify(rows)).not.toContain(SECRET)

    for (const headers of [{}, { Authorization: `Bearer ${SECRET}` }]) {
      const answer = await axios.get(`${harness.sim.url}/tiktok-business/v1.3/business/get/`, { params: { business_id: BUSINESS.apiId }, headers })
      expect(answer.status).toBe(200)
      expect(answer.data.code).toBe(40104)
    }
  })

  it('stops with a TokenError on expired, revoked, missing and unauthorised tokens', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['expired-x', '40102', /expired/],
      ['invalid-x', '40105', /revoked/],
      ['', '40104', /No token was sent/],
      ['noperm-x', '40001', /business_id/],
    ]
    for (const [token, code, advice] of cases) {
      const error = await failure(collect(BUSINESS, token))
      expect(error, code).toBeInstanceOf(TokenError)
      expect((error as TokenError).apiCode).toBe(code)
      if (token) expect((error as Error).message).not.toContain(token)
      expect(collector().tokenAdvice(ENGLISH, code, 'TIKTOK_BUSINESS_TOKEN')).toMatch(advice)
    }
  })

  it('waits a second on 40100 and retries; repeated throttling hands back a one-minute ApiRateLimitError', async () => {
    const throttled = { message: 'Too many requests. Please retry in some time.', code: 40100 }
    harness.sim.injectFault({ path: /\/business\/video\/list\/$/, times: 1, status: 200, error: throttled })
    const waits: number[] = []
    const rows: ObservationRow[] = []
    await collect(BUSINESS, SECRET, rows, { waits })
    expect(waits).toEqual([1_000])
    expect(values(rows, 'likes').length).toBeGreaterThan(80)

    harness.sim.injectFault({ path: /\/business\/get\/$/, times: 3, status: 200, error: throttled })
    const longer: number[] = []
    const error = await failure(collect(BUSINESS, SECRET, [], { waits: longer }))
    expect(error).toBeInstanceOf(ApiRateLimitError)
    expect((error as ApiRateLimitError).retryAfterMs).toBe(60_000)
    expect(longer).toEqual([1_000, 1_000])
  })

  it('answers 40100 when a token spends its hourly budget', async () => {
    const small = await startSimulator({ now: () => NOW, seed: 42, callsPerHour: 2 })
    try {
      const error = await failure(collect(BUSINESS, 'budget-business', [], { url: small.url }))
      expect(error).toBeInstanceOf(ApiRateLimitError)
      expect((error as ApiRateLimitError).retryAfterMs).toBe(60_000)
      const answer = await axios.get(`${small.url}/tiktok-business/v1.3/business/get/`, { params: { business_id: BUSINESS.apiId }, headers: { 'Access-Token': 'budget-business' } })
      expect(answer.data.code).toBe(40100)
    } finally {
      await small.close()
    }
  })

  it('retries code 50002 and HTTP 5xx', async () => {
    harness.sim.injectFault({ path: /\/business\/get\/$/, times: 1, status: 200, error: { message: 'Internal service error', code: 50002 } })
    harness.sim.injectFault({ path: /^\/tiktok-business\//, times: 1, status: 504, body: '<html>Gateway Timeout</html>' })
    const rows: ObservationRow[] = []
    const summary = await collect(BUSINESS, SECRET, rows)
    expect(summary.skipped).toEqual([])
    expect(values(rows, 'clicks')).toHaveLength(60)
  })

  it('re-reads late days: a revised day replaces its value; re-running a round adds nothing', async () => {
    const snapshot = async () =>
      (
        await harness.db.ch.rows<{ n: string; total: number }>(
          "SELECT count() AS n, sum(value) AS total FROM observations FINAL WHERE account_id = {account:String} AND metric IN ('clicks', 'profile_views', 'likes', 'followers')",
          { account: BUSINESS.id },
        )
      )[0]!

    const first: ObservationRow[] = []
    await collect(BUSINESS, SECRET, first)
    await harness.writers.flush()
    const before = await snapshot()
    await collect(BUSINESS)
    await harness.writers.flush()
    expect(await snapshot()).toEqual(before)

    // a day later: the last days were first reported at 85 % and have grown since
    const later = new Date(NOW.getTime() + DAY)
    clock = later
    try {
      const rows: ObservationRow[] = []
      await collect(BUSINESS, SECRET, rows, { at: later })
      await harness.writers.flush()
      const recent = rows.filter((r) => r.metric === 'profile_views' && r.observed_at >= '2026-11-20')
      expect(recent.map((r) => r.observed_at.slice(0, 10))).toEqual(['2026-11-20', '2026-11-21', '2026-11-22', '2026-11-23', '2026-11-24', '2026-11-25', '2026-11-26'])
      const revisedDays = recent.filter((r) => {
        const earlier = first.find((e) => e.metric === r.metric && e.observed_at === r.observed_at)
        return earlier !== undefined && r.value > earlier.value
      })
      expect(revisedDays.length).toBeGreaterThan(0)

      const stored = await harness.db.ch.rows<{ day: string; n: string; value: number }>(
        "SELECT toString(observed_at) AS day, count() AS n, any(value) AS value FROM observations FINAL WHERE account_id = {account:String} AND metric = 'profile_views' AND observed_at >= {from:DateTime64(3)} GROUP BY observed_at ORDER BY observed_at",
        { account: BUSINESS.id, from: '2026-11-20 00:00:00.000' },
      )
      expect(stored.map((r) => [r.day, Number(r.n), r.value])).toEqual(recent.map((r) => [r.observed_at, 1, r.value]))
      const direct = await business<{ metrics: Array<{ profile_views: number }> }>('business/get/', {
        business_id: BUSINESS.apiId,
        fields: JSON.stringify(['profile_views']),
        start_date: '2026-11-25',
        end_date: '2026-11-25',
      })
      expect(recent.find((r) => r.observed_at.startsWith('2026-11-25'))?.value).toBe(direct.data.metrics[0]!.profile_views)

      // a period's sum counts each day once, with its latest value
      const sum = await harness.db.ch.rows<{ total: number }>(
        "SELECT sum(value) AS total FROM observations FINAL WHERE account_id = {account:String} AND metric = 'clicks' AND observed_at >= {from:DateTime64(3)}",
        { account: BUSINESS.id, from: '2026-10-28 00:00:00.000' },
      )
      const latest = values(rows, 'clicks').filter((r) => r.observed_at >= '2026-10-28')
      expect(sum[0]!.total).toBe(latest.reduce((total, r) => total + r.value, 0))
    } finally {
      clock = NOW
    }
  })

  it('backfills daily history in windows for business accounts; old windows have no data, personal accounts no history', async () => {
    const history = collector().history!
    expect(history.maxWindowDays).toBe(30)

    const rows: ObservationRow[] = []
    const summary = await history.backfill(context(BUSINESS, SECRET, rows), { from: '2026-10-01', to: '2026-10-31' })
    expect(values(rows, 'clicks').map((r) => r.observed_at)).toEqual(Array.from({ length: 30 }, (_, i) => at(new Date(Date.parse('2026-10-01T00:00:00Z') + i * DAY))))
    expect(summary.observations).toBe(90)

    const old: ObservationRow[] = []
    expect((await history.backfill(context(BUSINESS, SECRET, old), { from: '2026-01-01', to: '2026-01-31' })).observations).toBe(0)
    expect(old).toEqual([])

    const before = harness.sim.requests().length
    expect((await history.backfill(context(PERSONAL, SECRET), { from: '2026-10-01', to: '2026-10-31' })).observations).toBe(0)
    expect(harness.sim.requests().length).toBe(before)
  })

  it('skips a window of daily values refused permanently and keeps the rest', async () => {
    harness.sim.injectFault({ path: /\/business\/get\/$/, times: 1, status: 200, error: { message: 'start_date: Not a valid date.', code: 40002 } })
    const rows: ObservationRow[] = []
    const summary = await collector().history!.backfill(context(BUSINESS, SECRET, rows), { from: '2026-09-28', to: '2026-11-26' })
    expect(summary.skipped).toHaveLength(1)
    expect(summary.skipped[0]).toContain('40002')
    expect(values(rows, 'clicks')).toHaveLength(29)
  })
})

describe('TikTok settings and simulator', () => {
  it('accepts personal (the default) and business accounts, and names a wrong setting', () => {
    const settings = tiktok.settings!
    expect(settings.parse({})).toEqual({ accountType: 'personal' })
    expect(settings.parse({ accountType: 'business' })).toEqual({ accountType: 'business' })
    expect(settings.safeParse({ accountType: 'corporate' }).success).toBe(false)
    expect(settings.safeParse({ acountType: 'business' }).success).toBe(false)
    expect(Object.keys(tiktok.metrics).sort()).toEqual(['clicks', 'comments', 'followers', 'likes', 'profile_views', 'shares', 'total_likes', 'videos', 'views'])
  })

  it('is deterministic: the same seed and clock give the same bodies', async () => {
    const a = await startSimulator({ now: () => NOW, seed: 7 })
    const b = await startSimulator({ now: () => NOW, seed: 7 })
    try {
      const bodies = async (url: string) => [
        (await axios.get(`${url}/tiktok/v2/user/info/`, { params: { fields: 'open_id,follower_count,likes_count' }, headers: { Authorization: 'Bearer same' } })).data,
        (await axios.post(`${url}/tiktok/v2/video/list/`, { max_count: 20 }, { params: { fields: 'id,create_time,like_count' }, headers: { Authorization: 'Bearer same' } })).data,
        (
          await axios.get(`${url}/tiktok-business/v1.3/business/get/`, {
            params: { business_id: BUSINESS.apiId, fields: JSON.stringify(['followers_count', 'bio_link_clicks']), start_date: '2026-11-01', end_date: '2026-11-25' },
            headers: { 'Access-Token': 'same' },
          })
        ).data,
      ]
      const first = await bodies(a.url)
      expect(await bodies(b.url)).toEqual(first)
      expect(JSON.stringify(first)).not.toEqual(JSON.stringify(await bodies(harness.sim.url)))
    } finally {
      await a.close()
      await b.close()
    }
  })
})
