import axios from 'axios'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Config } from '../../core/config.ts'
import { ApiError, ApiRateLimitError, TokenError } from '../../core/errors.ts'
import { createXCollector, type XCollectorTuning } from '../../ingest/collectors/x.ts'
import type { CollectContext, CollectSummary } from '../../ingest/collectors/types.ts'
import type { ObservationRow } from '../../core/tables.ts'
import type { PlanAccount } from '../../plan/plan.ts'
import { simulatorEnvironment, startSimulator, type RunningSimulator } from '../../simulator/index.ts'
import { DEMO_X_USERS } from '../../simulator/x-api.ts'
import { testConfig } from '../helpers/runtime.ts'
import { useSimulatorHarness } from '../helpers/simulator-harness.ts'
import { speaker } from '../../core/i18n/index.ts'

/** The advice these tests read is the English one (an English plan's). */
const ENGLISH = speaker('en', 'UTC')

const NOW = new Date('2026-11-26T09:00:00Z')
const DAY = 86_400_000
const MAIN: PlanAccount = { id: 'kopi-x', name: 'Kopi Nusantara on X', apiId: DEMO_X_USERS[0]!.id, tokenEnv: 'X_TOKEN', network: 'x' }
const SECRET = 'user-token-7d2e1b'
const RETRY = { maxRetries: 3, baseDelayMs: 10, maxInlineWaitMs: 2_000 }

const harness = useSimulatorHarness('x_collector', () => NOW)
let config: Config
let cleanupConfig: () => void
const slept: number[] = []

beforeAll(() => {
  const test = testConfig('x_collector', simulatorEnvironment(harness.sim.url))
  config = test.config
  cleanupConfig = test.cleanup
})
afterAll(() => cleanupConfig?.())

function context(account: PlanAccount, token: string, sink: ObservationRow[]): CollectContext {
  return harness.context({ account, token, at: NOW, sink })
}

async function collect(options: { token?: string; sink?: ObservationRow[]; tuning?: XCollectorTuning; against?: RunningSimulator } = {}): Promise<CollectSummary> {
  const cfg = options.against ? { ...config, X_API_URL: `${options.against.url}/x` } : config
  const collector = createXCollector({ config: cfg, retry: RETRY, sleep: async (ms) => void slept.push(ms) }, options.tuning)
  return collector.collect(context(MAIN, options.token ?? SECRET, options.sink ?? []))
}

const x = async <T>(path: string, params: Record<string, unknown> = {}, token = 'check-token') =>
  (await axios.get<T>(`${harness.sim.url}/x${path}`, { params, headers: { Authorization: `Bearer ${token}` } })).data

interface Page {
  data?: Array<{ id: string; text: string; created_at: string; public_metrics: { like_count: number }; non_public_metrics?: { url_link_clicks: number } }>
  meta: { next_token?: string; result_count: number }
}

/** Every own post created since `since`, walked with the raw API. */
async function ownPostsSince(since: number, fields = 'created_at,public_metrics'): Promise<{ posts: NonNullable<Page['data']>; emptyPagesWithNext: number }> {
  const posts: NonNullable<Page['data']> = []
  let emptyPagesWithNext = 0
  let token: string | undefined
  do {
    const page = await x<Page>(`/2/users/${MAIN.apiId}/tweets`, {
      max_results: 100,
      exclude: 'retweets',
      start_time: new Date(since).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      'tweet.fields': fields,
      pagination_token: token,
    })
    if (!page.data && page.meta.next_token) emptyPagesWithNext++
    posts.push(...(page.data ?? []))
    token = page.meta.next_token
  } while (token)
  return { posts, emptyPagesWithNext }
}

describe('X collector against the X API v2 simulator', () => {
  it('stores the follower count read from the user lookup', async () => {
    const rows: ObservationRow[] = []
    await collect({ sink: rows })
    const user = await x<{ data: { public_metrics: { followers_count: number } } }>(`/2/users/${MAIN.apiId}`, { 'user.fields': 'public_metrics' })
    const followers = rows.filter((r) => r.metric === 'followers')
    expect(followers).toHaveLength(1)
    expect(followers[0]!.value).toBe(user.data.public_metrics.followers_count)
    expect(followers[0]!.observed_at).toBe('2026-11-26 09:00:00.000')
    expect(followers[0]!.api_version).toBe('2')
  })

  it('walks every own post of the 90-day window once, across empty pages that still carry next_token', async () => {
    const rows: ObservationRow[] = []
    await collect({ sink: rows })
    const { posts, emptyPagesWithNext } = await ownPostsSince(NOW.getTime() - 90 * DAY)
    expect(emptyPagesWithNext).toBeGreaterThan(0)
    const likes = rows.filter((r) => r.metric === 'likes')
    const ids = likes.map((r) => r.object_id)
    expect(new Set(ids).size).toBe(ids.length)
    expect(ids.sort()).toEqual(posts.map((p) => p.id).sort())
    expect(posts.some((p) => p.text.startsWith('RT @'))).toBe(false)
    const sample = posts[posts.length - 1]!
    const row = likes.find((r) => r.object_id === sample.id)!
    expect(row.value).toBe(sample.public_metrics.like_count)
    expect(row.shape).toBe('counter')
    expect(row.object_created_at).toBe(sample.created_at.replace('T', ' ').replace('Z', ''))
  })

  it('reads link clicks only for posts up to 30 days old and never asks X for older ones', async () => {
    const rows: ObservationRow[] = []
    const before = harness.sim.requests().length
    const summary = await collect({ sink: rows })
    expect(summary.skipped).toEqual([])
    const clicks = rows.filter((r) => r.metric === 'clicks')
    const { posts: recent } = await ownPostsSince(NOW.getTime() - 30 * DAY + 3_600_000, 'created_at,non_public_metrics')
    expect(clicks.map((r) => r.object_id).sort()).toEqual(recent.map((p) => p.id).sort())
    expect(clicks.reduce((sum, r) => sum + r.value, 0)).toBe(recent.reduce((sum, p) => sum + p.non_public_metrics!.url_link_clicks, 0))
    expect(clicks.reduce((sum, r) => sum + r.value, 0)).toBeGreaterThan(0)
    const asked = harness.sim
      .requests()
      .slice(before)
      .filter((r) => r.path.endsWith('/tweets') && r.query['tweet.fields']?.includes('non_public_metrics'))
    expect(asked.length).toBeGreaterThan(0)
    for (const request of asked) expect(Date.parse(request.query.start_time!)).toBeGreaterThan(NOW.getTime() - 30 * DAY)
  })

  it('keeps every post when X refuses non-public metrics to an app-only token (errors[] in a 200)', async () => {
    const userRows: ObservationRow[] = []
    const appRows: ObservationRow[] = []
    await collect({ sink: userRows })
    const before = harness.sim.requests().length
    const summary = await collect({ token: 'app-only-bearer', sink: appRows })
    const ids = (rows: ObservationRow[]) =>
      rows
        .filter((r) => r.metric === 'likes')
        .map((r) => `${r.object_id}=${r.value}`)
        .sort()
    expect(ids(appRows)).toEqual(ids(userRows))
    expect(appRows.some((r) => r.metric === 'clicks')).toBe(false)
    expect(summary.skipped).toHaveLength(1)
    expect(summary.skipped[0]).toMatch(/non_public_metrics/)
    const lookups = harness.sim
      .requests()
      .slice(before)
      .filter((r) => r.path === '/x/2/tweets')
    expect(lookups.length).toBeGreaterThan(0)
    // After the first refusal the collector stops asking for what X refuses.
    const timeline = harness.sim
      .requests()
      .slice(before)
      .filter((r) => r.path.endsWith('/tweets') && r.path !== '/x/2/tweets')
    expect(timeline.filter((r) => r.query['tweet.fields']!.includes('non_public_metrics'))).toHaveLength(1)
  })

  it('writes no post rows when the window holds no post (meta only, no data)', async () => {
    const rows: ObservationRow[] = []
    // 08:45–09:00 UTC: the demo account posts around 02:00, 06:00 and 12:00.
    const summary = await collect({ sink: rows, tuning: { postWindowDays: 15 / 1440 } })
    expect(rows.map((r) => r.metric)).toEqual(['followers'])
    expect(summary.observations).toBe(1)
  })

  it('sends the token only in the Authorization header, never in a URL or a row', async () => {
    const rows: ObservationRow[] = []
    const before = harness.sim.requests().length
    await collect({ sink: rows })
    const requests = harness.sim.requests().slice(before)
    expect(requests.length).toBeGreaterThan(2)
    expect(requests.every((r) => r.token === SECRET)).toBe(true)
    expect(requests.every((r) => !JSON.stringify(r.query).includes(SECRET) && !r.path.includes(SECRET))).toBe(true)
    expect(JSON.stringify(rows)).not.toContain(SECRET)
  })

  it('re-running the same round adds no rows and changes no value', async () => {
    await collect()
    await harness.writers.flush()
    const snapshot = async () => (await harness.db.ch.rows<{ n: string; total: number }>("SELECT count() AS n, sum(value) AS total FROM observations FINAL WHERE account_id = 'kopi-x'"))[0]
    const before = await snapshot()
    await collect()
    await harness.writers.flush()
    expect(await snapshot()).toEqual(before)
    expect(Number(before!.n)).toBeGreaterThan(500)
  })

  it('waits out a short 429 until x-rate-limit-reset, in both body forms', async () => {
    const resetIn = (seconds: number) => ({ 'x-rate-limit-limit': '900', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(NOW.getTime() / 1000 + seconds), Date: NOW.toUTCString() })
    harness.sim.injectFault({ path: /\/tweets$/, times: 1, status: 429, error: { message: 'Too Many Requests', type: 'about:blank', code: 429 }, headers: resetIn(1) })
    slept.length = 0
    expect((await collect()).observations).toBeGreaterThan(500)
    expect(slept).toContain(1_000)
    harness.sim.injectFault({ path: /\/tweets$/, times: 1, status: 429, error: { message: 'Rate limit exceeded', code: 88 }, headers: resetIn(2) })
    slept.length = 0
    expect((await collect()).observations).toBeGreaterThan(500)
    expect(slept).toContain(2_000)
  })

  it('hands a long wait back as a ApiRateLimitError with the time until x-rate-limit-reset', async () => {
    harness.sim.injectFault({
      path: /\/tweets$/,
      times: 1,
      status: 429,
      body: JSON.stringify({ title: 'Too Many Requests', detail: 'Too Many Requests', type: 'about:blank', status: 429 }),
      headers: { 'Content-Type': 'application/json', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': String(NOW.getTime() / 1000 + 600), Date: NOW.toUTCString() },
    })
    const error = await collect().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiRateLimitError)
    expect((error as ApiRateLimitError).retryAfterMs).toBe(600_000)
  })

  it('treats a monthly usage cap as a long throttle', async () => {
    harness.sim.injectFault({
      times: 1,
      status: 429,
      body: JSON.stringify({
        title: 'UsageCapExceeded',
        detail: 'Usage cap exceeded: Monthly product cap',
        type: 'https://api.twitter.com/2/problems/usage-capped',
        period: 'Monthly',
        scope: 'Product',
      }),
      headers: { 'Content-Type': 'application/json' },
    })
    const error = await collect().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiRateLimitError)
    expect((error as ApiRateLimitError).retryAfterMs).toBe(24 * 3_600_000)
  })

  it('pauses when x-rate-limit-remaining reaches 0 and surfaces the wait until the window resets', async () => {
    // 8 calls an hour → 2 per 15-minute window and endpoint.
    const tight = await startSimulator({ now: () => NOW, seed: 42, callsPerHour: 8 })
    try {
      const error = await collect({ against: tight }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ApiRateLimitError)
      // The window opened at NOW and resets 15 minutes later, measured on the collector's clock (NOW).
      expect((error as ApiRateLimitError).retryAfterMs).toBe(15 * 60_000)
      const timeline = tight.requests().filter((r) => r.path.endsWith('/tweets'))
      expect(timeline).toHaveLength(2) // the third call was never sent
      const over = await axios.get(`${tight.url}/x/2/users/${MAIN.apiId}/tweets`, { headers: { Authorization: `Bearer ${SECRET}` }, validateStatus: () => true })
      expect(over.status).toBe(429)
      expect(over.data).toEqual({ title: 'Too Many Requests', type: 'about:blank', status: 429, detail: 'Too Many Requests' })
      expect(over.headers['x-rate-limit-remaining']).toBe('0')
      expect(Number(over.headers['x-rate-limit-reset'])).toBe(NOW.getTime() / 1000 + 900)
    } finally {
      await tight.close()
    }
  })

  it('retries server errors, then collects everything', async () => {
    harness.sim.injectFault({
      times: 2,
      status: 503,
      body: JSON.stringify({ title: 'Service Unavailable', detail: 'Service Unavailable', type: 'about:blank', status: 503 }),
      headers: { 'Content-Type': 'application/json' },
    })
    expect((await collect()).observations).toBeGreaterThan(500)
  })

  it('stops with a TokenError whose code tells the owner what to do', async () => {
    for (const [token, code] of [
      ['expired-token-1', 'unauthorized'],
      ['invalid-token-2', 'unauthorized'],
      ['unenrolled-app-3', 'client-forbidden'],
    ] as const) {
      const error = await collect({ token }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(TokenError)
      expect((error as TokenError).apiCode).toBe(code)
      expect((error as Error).message).not.toContain(token)
    }
    harness.sim.injectFault({ times: 1, status: 401, error: { message: 'Invalid or expired token.', code: 89 } })
    const legacy = await collect().catch((e: unknown) => e)
    expect((legacy as TokenError).apiCode).toBe('89')
    const advice = createXCollector({ config, retry: RETRY }).tokenAdvice(ENGLISH, 'client-forbidden', 'X_TOKEN')
    expect(advice).toMatch(/Project/)
    expect(advice).toContain('X_TOKEN')
  })

  it('fails plainly when X answers only errors (an unknown user id)', async () => {
    harness.sim.injectFault({
      path: /\/2\/users\/\d+$/,
      times: 1,
      status: 200,
      body: JSON.stringify({
        errors: [
          {
            value: MAIN.apiId,
            detail: `Could not find user with id: [${MAIN.apiId}].`,
            title: 'Not Found Error',
            resource_type: 'user',
            parameter: 'id',
            resource_id: MAIN.apiId,
            type: 'https://api.x.com/2/problems/resource-not-found',
          },
        ],
      }),
      headers: { 'Content-Type': 'application/json' },
    })
    const error = await collect().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect((error as ApiError).apiCode).toBe('resource-not-found')
    expect((error as ApiError).retryable).toBe(false)
  })

  it('answers the same bodies for the same seed and clock', async () => {
    const other = await startSimulator({ now: () => NOW, seed: 42 })
    try {
      const path = `/x/2/users/${MAIN.apiId}/tweets?max_results=100&tweet.fields=created_at,public_metrics`
      const read = async (s: RunningSimulator) => JSON.stringify((await axios.get(`${s.url}${path}`, { headers: { Authorization: 'Bearer a' } })).data)
      expect(await read(other)).toBe(await read(harness.sim))
    } finally {
      await other.close()
    }
  })
})
