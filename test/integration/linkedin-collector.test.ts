import axios from 'axios'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Config } from '../../core/config.ts'
import { ApiError, ApiRateLimitError, TokenError } from '../../core/errors.ts'
import { createLinkedInCollector, type LinkedInCollectorTuning } from '../../ingest/collectors/linkedin.ts'
import type { CollectContext, CollectSummary } from '../../ingest/collectors/types.ts'
import type { ObservationRow } from '../../core/tables.ts'
import type { PlanAccount } from '../../plan/plan.ts'
import { simulatorEnvironment, startSimulator, type RunningSimulator } from '../../simulator/index.ts'
import { DEMO_LINKEDIN_ORGANIZATIONS } from '../../simulator/linkedin-api.ts'
import { silentLogger, testConfig } from '../helpers/runtime.ts'
import { useSimulatorHarness } from '../helpers/simulator-harness.ts'
import { speaker } from '../../core/i18n/index.ts'

/** The advice these tests read is the English one (an English plan's). */
const ENGLISH = speaker('en', 'UTC')

const NOW = new Date('2026-11-26T09:00:00Z')
const DAY = 86_400_000
const TODAY = Date.UTC(2026, 10, 26)
/** Active at NOW: released June 2026, sunset mid-June 2027. */
const VERSION = '202606'
const ORG = DEMO_LINKEDIN_ORGANIZATIONS[0]!.id
const MAIN: PlanAccount = { id: 'kopi-linkedin', name: 'Kopi Nusantara on LinkedIn', apiId: ORG, tokenEnv: 'LINKEDIN_TOKEN', network: 'linkedin' }
const SECRET = 'li-token-93c1aa'
const RETRY = { maxRetries: 3, baseDelayMs: 10, maxInlineWaitMs: 2_000 }
const SHARE_METRICS = ['likes', 'clicks', 'comments', 'shares', 'impressions']

let clock = NOW
const harness = useSimulatorHarness('linkedin_collector', () => clock)
let config: Config
let cleanupConfig: () => void

beforeAll(() => {
  const test = testConfig('linkedin_collector', { ...simulatorEnvironment(harness.sim.url), LINKEDIN_VERSION: VERSION })
  config = test.config
  cleanupConfig = test.cleanup
})
afterAll(() => cleanupConfig?.())

interface Options {
  token?: string
  sink?: ObservationRow[]
  tuning?: LinkedInCollectorTuning
  at?: Date
  config?: Partial<Config>
}

async function collect(options: Options = {}): Promise<CollectSummary> {
  const at = options.at ?? NOW
  const collector = createLinkedInCollector({ config: { ...config, ...options.config }, retry: RETRY, sleep: async () => undefined }, options.tuning)
  const context: CollectContext = {
    account: MAIN,
    token: options.token ?? SECRET,
    roundAt: at,
    now: () => at,
    lookbackDays: 28,
    logger: silentLogger,
    emit: async (rows) => {
      options.sink?.push(...rows)
      await harness.writers.observations.write(rows)
    },
  }
  return collector.collect(context)
}

const linkedin = axios.create({ validateStatus: () => true })
const headers = { Authorization: 'Bearer check', 'LinkedIn-Version': VERSION, 'X-Restli-Protocol-Version': '2.0.0' }
const statsPath = (resource: string, start: number, end: number, extra = '') =>
  `${harness.sim.url}/linkedin/rest/${resource}?q=organizationalEntity&organizationalEntity=urn%3Ali%3Aorganization%3A${ORG}&timeIntervals=(timeRange:(start:${start},end:${end}),timeGranularityType:DAY)&count=100${extra}`

interface ShareElement {
  timeRange: { start: number; end: number }
  totalShareStatistics: Record<string, number>
}

describe('LinkedIn collector against the Community Management API simulator', () => {
  it('stores the follower total from networkSizes at the round time', async () => {
    const rows: ObservationRow[] = []
    await collect({ sink: rows })
    const size = await linkedin.get(`${harness.sim.url}/linkedin/rest/networkSizes/urn%3Ali%3Aorganization%3A${ORG}?edgeType=COMPANY_FOLLOWED_BY_MEMBER`, { headers })
    const followers = rows.filter((r) => r.metric === 'followers')
    expect(followers).toHaveLength(1)
    expect(followers[0]!.value).toBe(size.data.firstDegreeSize)
    expect(followers[0]!.observed_at).toBe('2026-11-26 09:00:00.000')
    expect(followers[0]!.api_version).toBe(VERSION)
  })

  it('stores each complete UTC day of share statistics and follower gains at the day start', async () => {
    const rows: ObservationRow[] = []
    await collect({ sink: rows })
    const shares = await linkedin.get<{ elements: ShareElement[] }>(statsPath('organizationalEntityShareStatistics', TODAY - 28 * DAY, TODAY), { headers })
    expect(shares.data.elements).toHaveLength(28)
    const likes = rows.filter((r) => r.metric === 'likes')
    expect(likes).toHaveLength(28)
    expect(likes.map((r) => r.observed_at)).toContain('2026-11-25 00:00:00.000')
    expect(likes.map((r) => r.observed_at)).not.toContain('2026-11-26 00:00:00.000')
    for (const metric of SHARE_METRICS) {
      const field = { likes: 'likeCount', clicks: 'clickCount', comments: 'commentCount', shares: 'shareCount', impressions: 'impressionCount' }[metric]!
      const expected = shares.data.elements.reduce((sum, e) => sum + e.totalShareStatistics[field]!, 0)
      expect(rows.filter((r) => r.metric === metric).reduce((sum, r) => sum + r.value, 0)).toBe(expected)
      expect(rows.filter((r) => r.metric === metric).every((r) => r.shape === 'daily')).toBe(true)
    }
    const gains = await linkedin.get<{ elements: Array<{ followerGains: { organicFollowerGain: number; paidFollowerGain: number } }> }>(
      statsPath('organizationalEntityFollowerStatistics', TODAY - 28 * DAY, TODAY - 2 * DAY),
      { headers },
    )
    // Follower statistics refuse a range that ends less than two days before today.
    const tooRecent = await linkedin.get(statsPath('organizationalEntityFollowerStatistics', TODAY - 28 * DAY, TODAY), { headers })
    expect(tooRecent.status).toBe(400)
    expect(rows.filter((r) => r.metric === 'followers_gained')).toHaveLength(26)
    const expectedGains = gains.data.elements.reduce((sum, e) => sum + e.followerGains.organicFollowerGain + e.followerGains.paidFollowerGain, 0)
    expect(expectedGains).toBeGreaterThan(0)
    expect(rows.filter((r) => r.metric === 'followers_gained').reduce((sum, r) => sum + r.value, 0)).toBe(expectedGains)
  })

  it('pages with start/count to the end, through a last page with no elements', async () => {
    const small: ObservationRow[] = []
    const large: ObservationRow[] = []
    const before = harness.sim.requests().length
    await collect({ sink: small, tuning: { pageSize: 7 } })
    const pages = harness.sim
      .requests()
      .slice(before)
      .filter((r) => r.path.endsWith('organizationalEntityShareStatistics'))
    expect(pages.map((r) => r.query.start)).toEqual(['0', '7', '14', '21', '28'])
    const last = await linkedin.get(statsPath('organizationalEntityShareStatistics', TODAY - 28 * DAY, TODAY, '&start=28&count=7').replace('&count=100', ''), { headers })
    expect(last.data.elements).toEqual([])
    await collect({ sink: large })
    const key = (rows: ObservationRow[]) =>
      rows
        .filter((r) => r.metric !== 'followers')
        .map((r) => `${r.metric}@${r.observed_at}=${r.value}`)
        .sort()
    expect(key(small)).toEqual(key(large))
  })

  it('writes no rows for an empty page or missing statistics (no data is not zero)', async () => {
    harness.sim.injectFault({
      path: /organizationalEntityShareStatistics$/,
      times: 1,
      status: 200,
      body: JSON.stringify({ paging: { start: 0, count: 100, links: [] }, elements: [] }),
      headers: { 'Content-Type': 'application/json' },
    })
    harness.sim.injectFault({
      path: /organizationalEntityFollowerStatistics$/,
      times: 1,
      status: 200,
      body: JSON.stringify({
        paging: { start: 0, count: 100, links: [] },
        elements: [{ organizationalEntity: `urn:li:organization:${ORG}`, timeRange: { start: TODAY - 3 * DAY, end: TODAY - 2 * DAY } }],
      }),
      headers: { 'Content-Type': 'application/json' },
    })
    const rows: ObservationRow[] = []
    await collect({ sink: rows })
    expect(rows.map((r) => r.metric)).toEqual(['followers'])
    // A day whose statistics lack a field gets no row for that metric, not a zero.
    harness.sim.injectFault({
      path: /organizationalEntityShareStatistics$/,
      times: 1,
      status: 200,
      body: JSON.stringify({ paging: { start: 0, count: 100, links: [] }, elements: [{ timeRange: { start: TODAY - 3 * DAY, end: TODAY - 2 * DAY }, totalShareStatistics: { impressionCount: 50 } }] }),
      headers: { 'Content-Type': 'application/json' },
    })
    const partial: ObservationRow[] = []
    await collect({ sink: partial })
    expect(partial.filter((r) => SHARE_METRICS.includes(r.metric)).map((r) => `${r.metric}=${r.value}`)).toEqual(['impressions=50'])
  })

  it('backfills daily values for a past window, and clamps a window too recent for LinkedIn', async () => {
    const collector = createLinkedInCollector({ config, retry: RETRY })
    expect(collector.history?.maxAgeDays).toBeLessThan(365)
    const rows: ObservationRow[] = []
    const context: CollectContext = { account: MAIN, token: SECRET, roundAt: NOW, now: () => NOW, lookbackDays: 28, logger: silentLogger, emit: async (r) => void rows.push(...r) }
    await collector.history!.backfill(context, { from: '2026-06-01', to: '2026-08-30' })
    const likes = rows.filter((r) => r.metric === 'likes')
    expect(likes).toHaveLength(90)
    const june1 = Date.UTC(2026, 5, 1)
    const answer = await linkedin.get<{ elements: ShareElement[] }>(statsPath('organizationalEntityShareStatistics', june1, june1 + 90 * DAY), { headers })
    expect(likes.reduce((sum, r) => sum + r.value, 0)).toBe(answer.data.elements.reduce((sum, e) => sum + e.totalShareStatistics.likeCount!, 0))
    expect(rows.some((r) => r.metric === 'followers')).toBe(false)
    rows.length = 0
    const summary = await collector.history!.backfill(context, { from: '2026-11-25', to: '2026-11-26' })
    expect(summary.skipped).toEqual([])
    expect(rows.filter((r) => r.metric === 'likes').map((r) => r.observed_at)).toContain('2026-11-25 00:00:00.000')
  })

  it('re-reads recent days that LinkedIn revises without counting them twice', async () => {
    const account = "account_id = 'kopi-linkedin' AND metric = 'likes'"
    await collect()
    await harness.writers.flush()
    const day = '2026-11-25 00:00:00.000'
    const first = (await harness.db.ch.rows<{ value: number }>(`SELECT value FROM observations FINAL WHERE ${account} AND observed_at = '${day}'`))[0]!.value
    // A day later LinkedIn reports 2026-11-25 in full.
    const later = new Date(NOW.getTime() + DAY)
    clock = later
    try {
      await collect({ at: later })
      await harness.writers.flush()
      const fresh = await linkedin.get<{ elements: ShareElement[] }>(statsPath('organizationalEntityShareStatistics', TODAY - 27 * DAY, TODAY + DAY), { headers })
      const rows = await harness.db.ch.rows<{ observed_at: string; n: string; value: number }>(
        `SELECT toString(observed_at) AS observed_at, count() AS n, any(value) AS value FROM observations FINAL WHERE ${account} GROUP BY observed_at ORDER BY observed_at`,
      )
      expect(rows.every((r) => Number(r.n) === 1)).toBe(true)
      const revised = rows.find((r) => r.observed_at.startsWith('2026-11-25'))!.value
      expect(revised).toBeGreaterThan(first)
      expect(revised).toBe(fresh.data.elements.find((e) => e.timeRange.start === Date.UTC(2026, 10, 25))!.totalShareStatistics.likeCount)
      const total = rows.filter((r) => r.observed_at >= '2026-10-30').reduce((sum, r) => sum + r.value, 0)
      expect(total).toBe(fresh.data.elements.reduce((sum, e) => sum + e.totalShareStatistics.likeCount!, 0))
    } finally {
      clock = NOW
    }
  })

  it('re-running the same round adds no rows', async () => {
    await collect()
    await harness.writers.flush()
    const snapshot = async () => (await harness.db.ch.rows<{ n: string; total: number }>("SELECT count() AS n, sum(value) AS total FROM observations FINAL WHERE account_id = 'kopi-linkedin'"))[0]
    const before = await snapshot()
    await collect()
    await harness.writers.flush()
    expect(await snapshot()).toEqual(before)
  })

  it('sends the required headers: the simulator refuses requests without them, as LinkedIn does', async () => {
    const path = `${harness.sim.url}/linkedin/rest/networkSizes/urn%3Ali%3Aorganization%3A${ORG}?edgeType=COMPANY_FOLLOWED_BY_MEMBER`
    const missing = await linkedin.get(path, { headers: { Authorization: 'Bearer check' } })
    expect(missing.status).toBe(400)
    expect(missing.data).toEqual({ status: 400, code: 'VERSION_MISSING', message: 'A version must be present. Please specify a version by adding the LinkedIn-Version header.' })
    const restli1 = await linkedin.get(statsPath('organizationalEntityShareStatistics', TODAY - 28 * DAY, TODAY), { headers: { Authorization: 'Bearer check', 'LinkedIn-Version': VERSION } })
    expect(restli1.status).toBe(400)
    // Rest.li 2.0 wants the URN key encoded; 1.0 takes it raw.
    const rawKey = `${harness.sim.url}/linkedin/rest/networkSizes/urn:li:organization:${ORG}?edgeType=COMPANY_FOLLOWED_BY_MEMBER`
    expect((await linkedin.get(rawKey, { headers })).status).toBe(400)
    expect((await linkedin.get(rawKey, { headers: { Authorization: 'Bearer check', 'LinkedIn-Version': VERSION } })).status).toBe(200)
    // The collector's own requests all passed both checks.
    const rows: ObservationRow[] = []
    const summary = await collect({ sink: rows })
    expect(summary.skipped).toEqual([])
    expect(rows.length).toBe(1 + 26 + 28 * SHARE_METRICS.length)
  })

  it('stops plainly on a sunset LinkedIn-Version (426)', async () => {
    const error = await collect({ config: { LINKEDIN_VERSION: '202510' } }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect((error as ApiError).status).toBe(426)
    expect((error as ApiError).apiCode).toBe('NONEXISTENT_VERSION')
    expect((error as Error).message).toContain('LINKEDIN_VERSION')
  })

  it('waits for 00:00 UTC when the daily limit is reached (429 without headers)', async () => {
    // A budget of 2 calls a day: networkSizes and follower statistics pass, share statistics is refused.
    const tight = await startSimulator({ now: () => NOW, seed: 42, callsPerHour: 2 })
    try {
      const error = await collect({ config: { LINKEDIN_API_URL: `${tight.url}/linkedin` } }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ApiRateLimitError)
      expect((error as ApiRateLimitError).retryAfterMs).toBe(15 * 3_600_000)
      const over = await linkedin.get(`${tight.url}/linkedin/rest/networkSizes/urn%3Ali%3Aorganization%3A${ORG}?edgeType=COMPANY_FOLLOWED_BY_MEMBER`, {
        headers: { ...headers, Authorization: `Bearer ${SECRET}` },
      })
      expect(over.status).toBe(429)
      expect(over.data).toEqual({ status: 429, serviceErrorCode: 429, message: 'Resource level throttle limit for calls to this resource is reached.' })
      expect(Object.keys(over.headers).filter((name) => /rate|retry/i.test(name))).toEqual([])
    } finally {
      await tight.close()
    }
  })

  it('retries server errors, then collects everything', async () => {
    harness.sim.injectFault({ times: 2, status: 504, body: '<html>Gateway Timeout</html>' })
    expect((await collect()).observations).toBe(1 + 26 + 28 * SHARE_METRICS.length)
  })

  it('stops with a TokenError whose code tells the admin what to do', async () => {
    for (const [token, code] of [
      ['expired-li', 'EXPIRED_ACCESS_TOKEN'],
      ['revoked-li', 'REVOKED_ACCESS_TOKEN'],
      ['invalid-li', '65600'],
      ['noadmin-li', 'ACCESS_DENIED'],
    ] as const) {
      const error = await collect({ token }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(TokenError)
      expect((error as TokenError).apiCode).toBe(code)
      expect((error as Error).message).not.toContain(token)
    }
    const empty = await collect({ token: '' }).catch((e: unknown) => e)
    expect((empty as TokenError).apiCode).toBe('401')
    const advice = createLinkedInCollector({ config, retry: RETRY }).tokenAdvice(ENGLISH, 'EXPIRED_ACCESS_TOKEN', 'LINKEDIN_TOKEN')
    expect(advice).toMatch(/rw_organization_admin/)
    expect(advice).toContain('LINKEDIN_TOKEN')
  })

  it('sends the token only in the Authorization header, never in a URL or a row', async () => {
    const rows: ObservationRow[] = []
    const before = harness.sim.requests().length
    await collect({ sink: rows })
    const requests = harness.sim.requests().slice(before)
    expect(requests.length).toBe(3)
    expect(requests.every((r) => r.token === SECRET && !JSON.stringify(r.query).includes(SECRET) && !r.path.includes(SECRET))).toBe(true)
    expect(JSON.stringify(rows)).not.toContain(SECRET)
  })

  it('answers the same bodies for the same seed and clock', async () => {
    const other = await startSimulator({ now: () => NOW, seed: 42 })
    try {
      const read = async (s: RunningSimulator) =>
        JSON.stringify((await linkedin.get(statsPath('organizationalEntityShareStatistics', TODAY - 28 * DAY, TODAY).replace(harness.sim.url, s.url), { headers })).data)
      expect(await read(other)).toBe(await read(harness.sim))
    } finally {
      await other.close()
    }
  })
})
