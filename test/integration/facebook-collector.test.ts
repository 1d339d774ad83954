import axios from 'axios'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../core/config.ts'
import { ApiRateLimitError, TokenError } from '../../core/errors.ts'
import { createFacebookPagesCollector } from '../../ingest/collectors/facebook-pages.ts'
import type { CollectContext } from '../../ingest/collectors/types.ts'
import type { ObservationRow } from '../../core/tables.ts'
import type { PlanAccount } from '../../plan/plan.ts'
import { simulatorEnvironment } from '../../simulator/index.ts'
import { useSimulatorHarness } from '../helpers/simulator-harness.ts'

const NOW = new Date('2026-11-26T09:00:00Z')
const ROUND = new Date('2026-11-26T09:00:00Z')
const MAIN: PlanAccount = { id: 'kopi-nusantara', name: 'Kopi Nusantara', apiId: '104729384756102', tokenEnv: 'FB_PAGE_TOKEN', network: 'facebook' }
const SECRET = 'page-token-4f9a1c'

const harness = useSimulatorHarness('fb_collector', () => NOW)

function context(account: PlanAccount, token: string, sink: ObservationRow[] = []): CollectContext {
  return harness.context({ account, token, at: ROUND, sink })
}

async function collect(account: PlanAccount, token = SECRET, sink: ObservationRow[] = []) {
  const config = loadConfig({ ...simulatorEnvironment(harness.sim.url), FACEBOOK_GRAPH_VERSION: 'v25.0', HTTP_TIMEOUT_MS: '5000', QUEUE_PREFIX: 'fb-test' })
  const c = createFacebookPagesCollector({ config, retry: { maxRetries: 3, baseDelayMs: 10, maxInlineWaitMs: 2_000 } })
  return c.collect(context(account, token, sink))
}

const graph = async <T>(path: string, params: Record<string, unknown> = {}) => (await axios.get<T>(`${harness.sim.url}/v25.0/${path}`, { params, headers: { Authorization: 'Bearer check' } })).data

describe('Facebook Pages collector against the Graph API simulator', () => {
  it('stores follower and fan counts as read from the Page node', async () => {
    const rows: ObservationRow[] = []
    await collect(MAIN, SECRET, rows)
    const page = await graph<{ followers_count: number; fan_count: number }>(MAIN.apiId, { fields: 'followers_count,fan_count' })
    const followers = rows.find((r) => r.metric === 'followers' && r.observed_at === '2026-11-26 09:00:00.000')
    expect(followers?.value).toBe(page.followers_count)
    expect(rows.find((r) => r.metric === 'fans')?.value).toBe(page.fan_count)
    expect(followers?.api_version).toBe('v25.0')
  })

  it('walks every post of the window exactly once, across empty pages that still have `next`', async () => {
    const rows: ObservationRow[] = []
    await collect(MAIN, SECRET, rows)
    const likes = rows.filter((r) => r.metric === 'likes')
    const ids = likes.map((r) => r.object_id)
    expect(new Set(ids).size).toBe(ids.length)
    // independent walk with the raw API, following `next` to the end
    const since = Math.floor(NOW.getTime() / 1000) - 90 * 86_400
    const expected: string[] = []
    let emptyPagesWithNext = 0
    let url: string | undefined = `${harness.sim.url}/v25.0/${MAIN.apiId}/posts?fields=id&limit=100&since=${since}`
    while (url) {
      const page: { data: Array<{ id: string }>; paging?: { next?: string } } = (await axios.get(url, { headers: { Authorization: 'Bearer check' } })).data
      if (page.data.length === 0 && page.paging?.next) emptyPagesWithNext++
      expected.push(...page.data.map((p) => p.id))
      url = page.paging?.next
    }
    expect(emptyPagesWithNext).toBeGreaterThan(0)
    expect(ids.sort()).toEqual(expected.sort())
    expect(likes.every((r) => r.object_created_at !== null && r.shape === 'counter')).toBe(true)
  })

  it('sends the token only in the Authorization header, never in a URL or a row', async () => {
    const rows: ObservationRow[] = []
    await collect(MAIN, SECRET, rows)
    const requests = harness.sim.requests().filter((r) => r.token === SECRET)
    expect(requests.length).toBeGreaterThan(10)
    expect(requests.every((r) => !('access_token' in r.query))).toBe(true)
    expect(JSON.stringify(rows)).not.toContain(SECRET)
  })

  it('reads daily insights with Pacific-day buckets and follower levels at end_time', async () => {
    const rows: ObservationRow[] = []
    await collect(MAIN, SECRET, rows)
    const engagements = rows.filter((r) => r.metric === 'engagements')
    expect(engagements.length).toBe(28)
    // a day bucket ends at local midnight Pacific: 08:00 UTC in winter; it starts one day before
    expect(engagements.map((r) => r.observed_at)).toContain('2026-11-24 08:00:00.000')
    const levels = rows.filter((r) => r.metric === 'followers' && r.source_field === 'insights.page_follows')
    expect(levels.length).toBeGreaterThan(80)
  })

  it('reads a day that ends at 07:00 UTC in winter as the same Pacific day, and skips only a value whose end_time ends no day', async () => {
    const page = new RegExp(`^/v25\\.0/${MAIN.apiId}/insights$`)
    const series = (name: string, values: Array<{ value: number; end_time: string }>) => JSON.stringify({ data: [{ name, period: 'day', values }] })
    const json = { 'Content-Type': 'application/json; charset=UTF-8' }
    // The Page's insights are asked metric by metric: page_follows first, then page_post_engagements.
    harness.sim.injectFault({ path: page, times: 1, status: 200, headers: json, body: series('page_follows', [{ value: 10_450, end_time: '2026-11-25T08:00:00+0000' }]) })
    const engagements = [
      { value: 300, end_time: '2026-11-25T07:00:00+0000' },
      { value: 310, end_time: '2026-11-25T12:00:00+0000' },
      { value: 320, end_time: '2026-11-26T08:00:00+0000' },
    ]
    harness.sim.injectFault({ path: page, times: 1, status: 200, headers: json, body: series('page_post_engagements', engagements) })
    const rows: ObservationRow[] = []
    const summary = await collect(MAIN, SECRET, rows)
    expect(rows.filter((r) => r.metric === 'engagements').map((r) => [r.api_day, r.observed_at, r.value])).toEqual([
      ['2026-11-24', '2026-11-24 08:00:00.000', 300],
      ['2026-11-25', '2026-11-25 08:00:00.000', 320],
    ])
    const reason = '1 of 3 daily values left out: end_time "2026-11-25T12:00:00+0000" is not the end of a day (a Pacific or UTC−07:00 midnight)'
    expect(summary.refused).toEqual([{ part: 'page_post_engagements', metrics: ['engagements'], reason }])
    expect(rows.some((r) => r.metric === 'views')).toBe(true)
  })

  it('re-running the same round adds no rows', async () => {
    await collect(MAIN)
    await harness.writers.flush()
    const snapshot = async () => (await harness.db.ch.rows<{ n: string; total: number }>("SELECT count() AS n, sum(value) AS total FROM observations FINAL WHERE account_id = 'kopi-nusantara'"))[0]
    const raw = async () => (await harness.db.ch.rows<{ n: string }>("SELECT count() AS n FROM observations WHERE account_id = 'kopi-nusantara'"))[0]!.n
    const before = await snapshot()
    const rawBefore = await raw()
    await collect(MAIN)
    await harness.writers.flush()
    expect(await snapshot()).toEqual(before)
    expect(await raw()).toBe(rawBefore)
  })

  it('waits and retries on throttle codes and honours Retry-After', async () => {
    for (const code of [4, 17, 32, 613, 80001]) {
      harness.sim.injectFault({ path: /\/posts$/, times: 1, error: { message: `(#${code}) throttled`, type: 'OAuthException', code }, headers: { 'Retry-After': '0' } })
      const before = harness.sim.requests().length
      const summary = await collect(MAIN)
      expect(summary.observations).toBeGreaterThan(100)
      const posts = harness.sim
        .requests()
        .slice(before)
        .filter((r) => r.path.endsWith('/posts'))
      expect(posts.length).toBeGreaterThan(1)
      expect(posts[0]!.query.after).toBeUndefined()
      expect(posts[1]!.query.after).toBeUndefined() // the throttled first page was asked again
    }
  })

  it('hands a long throttle back as a ApiRateLimitError with the wait the API asked for', async () => {
    harness.sim.injectFault({
      times: 1,
      error: { message: '(#80001) There have been too many calls to this Page account.', type: 'OAuthException', code: 80001 },
      headers: { 'X-Business-Use-Case-Usage': JSON.stringify({ [MAIN.apiId]: [{ type: 'pages', call_count: 100, total_cputime: 10, total_time: 10, estimated_time_to_regain_access: 5 }] }) },
    })
    const error = await collect(MAIN).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiRateLimitError)
    expect((error as ApiRateLimitError).retryAfterMs).toBe(5 * 60_000)
  })

  it('retries server errors, then collects everything', async () => {
    harness.sim.injectFault({ times: 2, status: 500, body: '<html>Internal error</html>' })
    const summary = await collect(MAIN)
    expect(summary.observations).toBeGreaterThan(100)
  })

  it('skips a retired metric and keeps the rest', async () => {
    harness.sim.injectFault({ path: /\/insights$/, times: 1, error: { message: '(#100) The value must be a valid insights metric', type: 'OAuthException', code: 100 } })
    const rows: ObservationRow[] = []
    const summary = await collect(MAIN, SECRET, rows)
    expect(summary.skipped).toHaveLength(1)
    expect(rows.some((r) => r.metric === 'views')).toBe(true)
  })

  it('stops with a TokenError on an expired (190/463) or invalid (190/467) token', async () => {
    for (const [token, code] of [
      ['expired-x', '190/463'],
      ['invalid-x', '190/467'],
    ]) {
      const error = await collect(MAIN, token!).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(TokenError)
      expect((error as TokenError).apiCode).toBe(code)
      expect((error as Error).message).not.toContain(token)
    }
  })
})
