import { Agent } from 'node:http'
import axios from 'axios'
import { beforeEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../core/config.ts'
import { ApiError, ApiRateLimitError, TokenError } from '../../core/errors.ts'
import { createYouTubeCollector } from '../../ingest/collectors/youtube.ts'
import type { CollectContext } from '../../ingest/collectors/types.ts'
import type { ObservationRow } from '../../core/tables.ts'
import type { PlanAccount } from '../../plan/plan.ts'
import { simulatorEnvironment, startSimulator, type RunningSimulator } from '../../simulator/index.ts'
import { YOUTUBE_DAILY_UNITS } from '../../simulator/youtube-api.ts'
import { silentLogger } from '../helpers/runtime.ts'
import { useSimulatorHarness } from '../helpers/simulator-harness.ts'
import { speaker } from '../../core/i18n/index.ts'

/** The advice these tests read is the English one (an English plan's). */
const ENGLISH = speaker('en', 'UTC')

// 09:00 UTC on 26 Nov 2026 is 01:00 on 26 Nov in Los Angeles (PST, UTC−8).
const START = new Date('2026-11-26T09:00:00Z')
const account = (id: string, apiId: string): PlanAccount => ({ id, name: id, apiId, tokenEnv: 'YT_TOKEN', network: 'youtube' })
const MAIN = account('kopi-yt', 'UCkopinusantara000000001')
const HIDDEN = account('kopi-yt-bandung', 'UCkopinusantarabdg000002')
const NEW_CHANNEL = account('kopi-yt-jakarta', 'UCkopinusantarajkt000003')
const SECRET = 'ya29.yt-token-5be1'
const RETRY = { maxRetries: 3, baseDelayMs: 10, maxInlineWaitMs: 2_000 }
const DAY = 86_400_000

let now = START
const harness = useSimulatorHarness('yt_collector', () => now)

beforeEach(() => {
  now = START
})

function collector() {
  const config = loadConfig({ ...simulatorEnvironment(harness.sim.url), QUEUE_PREFIX: 'test-youtube', HTTP_TIMEOUT_MS: '5000' })
  return createYouTubeCollector({ config, retry: RETRY })
}

function context(target: PlanAccount, token: string, sink: ObservationRow[]): CollectContext {
  const roundAt = now
  return {
    account: target,
    token,
    roundAt,
    now: () => now,
    lookbackDays: 28,
    logger: silentLogger,
    emit: async (rows) => {
      sink.push(...rows)
      await harness.writers.observations.write(rows)
    },
  }
}

async function collect(target: PlanAccount, token = SECRET, sink: ObservationRow[] = []) {
  return collector().collect(context(target, token, sink))
}

const agent = new Agent({ keepAlive: true, maxSockets: 32 })
/** The simulator's raw answer, read the way a person with curl would. */
async function youtube<T>(path: string, params: Record<string, unknown>, token = 'direct-check'): Promise<T> {
  const base = path === 'reports' ? `${harness.sim.url}/youtube-analytics/v2` : `${harness.sim.url}/youtube/v3`
  return (await axios.get<T>(`${base}/${path}`, { params, headers: { Authorization: `Bearer ${token}` }, httpAgent: agent })).data
}

interface PlaylistPage {
  items: Array<{ contentDetails: { videoId: string; videoPublishedAt?: string } }>
  nextPageToken?: string
}
interface VideoStats {
  items: Array<{ id: string; snippet: { publishedAt: string }; statistics: Record<string, string> }>
}
interface Report {
  columnHeaders: Array<{ name: string }>
  rows?: Array<[string, ...number[]]>
}

let marks = 0
/**
 * The requests made after this call. The simulator's log keeps only the latest 10,000 entries
 * (the quota test fills it), so a marked request, not a length, says where "after" begins.
 */
async function requestsFromNow(): Promise<() => ReturnType<RunningSimulator['requests']>> {
  const label = `mark-${++marks}`
  await axios.get(`${harness.sim.url}/youtube/v3/mark`, { params: { hl: label }, validateStatus: () => true })
  return () => {
    const log = harness.sim.requests()
    return log.slice(log.findLastIndex((r) => r.query.hl === label) + 1)
  }
}

const atTime = (date: Date) => date.toISOString().replace('T', ' ').replace('Z', '')
const analyticsRequest = (channelId: string, startDate: string, endDate: string) => ({
  ids: `channel==${channelId}`,
  startDate,
  endDate,
  metrics: 'views,likes,comments,shares,subscribersGained,subscribersLost',
  dimensions: 'day',
  sort: 'day',
})

describe('YouTube collector against the YouTube simulator', () => {
  it('stores the channel levels as the Data API reports them: subscribers, lifetime views, videos', async () => {
    const rows: ObservationRow[] = []
    await collect(MAIN, SECRET, rows)
    const channel = await youtube<{ items: Array<{ statistics: Record<string, string> }> }>('channels', { part: 'statistics', id: MAIN.apiId })
    const stats = channel.items[0]!.statistics
    const level = (metric: string) => rows.filter((r) => r.metric === metric && r.object_type === 'account')
    expect(level('followers')).toHaveLength(1)
    expect(level('followers')[0]!.value).toBe(Number(stats.subscriberCount))
    // YouTube rounds the public count down to three significant figures.
    expect(level('followers')[0]!.value % 100).toBe(0)
    expect(level('lifetime_views')[0]!.value).toBe(Number(stats.viewCount))
    expect(level('videos')[0]!.value).toBe(Number(stats.videoCount))
    expect(level('followers')[0]!.observed_at).toBe(atTime(START))
    expect(level('followers')[0]!.shape).toBe('gauge')
  })

  it('walks the uploads playlist page by page and reads each video of the last 90 days once, 50 ids per call', async () => {
    const since = await requestsFromNow()
    const rows: ObservationRow[] = []
    await collect(MAIN, SECRET, rows)
    const requests = since()

    // Independent walk of the whole playlist with the raw API.
    const windowStart = START.getTime() - 90 * DAY
    const inWindow: string[] = []
    let pageToken: string | undefined
    do {
      const page: PlaylistPage = await youtube('playlistItems', { part: 'contentDetails', playlistId: 'UUkopinusantara000000001', maxResults: 50, pageToken })
      for (const item of page.items) {
        const published = item.contentDetails.videoPublishedAt
        if (published && Date.parse(published) >= windowStart) inWindow.push(item.contentDetails.videoId)
      }
      pageToken = page.nextPageToken
    } while (pageToken)
    expect(inWindow.length).toBeGreaterThan(100)

    const views = rows.filter((r) => r.metric === 'views')
    const ids = views.map((r) => r.object_id)
    expect(new Set(ids).size).toBe(ids.length)
    expect([...ids].sort()).toEqual([...inWindow].sort())
    expect(views.every((r) => r.shape === 'counter' && r.object_created_at !== null)).toBe(true)

    // Values are the Data API's strings, parsed; a video with ratings off has no likes row.
    const sample = ids.slice(0, 50)
    const stats = await youtube<VideoStats>('videos', { part: 'statistics,snippet', id: sample.join(',') })
    for (const video of stats.items) {
      const mine = (metric: string) => rows.find((r) => r.metric === metric && r.object_id === video.id)
      expect(mine('views')!.value).toBe(Number(video.statistics.viewCount))
      expect(mine('views')!.object_created_at).toBe(atTime(new Date(video.snippet.publishedAt)))
      if (video.statistics.likeCount === undefined) expect(mine('likes')).toBeUndefined()
      else expect(mine('likes')!.value).toBe(Number(video.statistics.likeCount))
    }
    expect(rows.filter((r) => r.metric === 'likes').length).toBeLessThan(views.length)

    // Paging: the first page without a token, later pages with the one the API gave.
    const playlist = requests.filter((r) => r.path.endsWith('/playlistItems'))
    expect(playlist.length).toBeGreaterThanOrEqual(3)
    expect(playlist[0]!.query.pageToken).toBeUndefined()
    expect(playlist.slice(1).every((r) => typeof r.query.pageToken === 'string')).toBe(true)
    expect(playlist.every((r) => r.query.maxResults === '50')).toBe(true)
    const batches = requests.filter((r) => r.path.endsWith('/videos')).map((r) => r.query.id!.split(',').length)
    expect(Math.max(...batches)).toBeLessThanOrEqual(50)
    expect(batches.length).toBe(Math.ceil(batches.reduce((a, b) => a + b, 0) / 50))
  })

  it('stores no subscriber level for a channel that hides it, and everything else', async () => {
    const rows: ObservationRow[] = []
    await collect(HIDDEN, SECRET, rows)
    expect(rows.some((r) => r.metric === 'followers')).toBe(false)
    expect(rows.some((r) => r.metric === 'lifetime_views')).toBe(true)
    expect(rows.some((r) => r.metric === 'views')).toBe(true)
    expect(rows.some((r) => r.metric === 'followers_gained')).toBe(true)
  })

  it('reads Analytics by Pacific day: days not yet reported are absent, values follow the column headers', async () => {
    const rows: ObservationRow[] = []
    await collect(MAIN, SECRET, rows)
    const report = await youtube<Report>('reports', analyticsRequest(MAIN.apiId, '2026-10-29', '2026-11-26'))
    const days = report.rows!.map((row) => row[0])
    // Reported up to 23 Nov: the 24th ended 25 Nov 08:00 UTC, less than 48 h ago.
    expect(days.at(-1)).toBe('2026-11-23')
    const gained = rows.filter((r) => r.metric === 'followers_gained')
    expect(gained).toHaveLength(days.length)
    // A Pacific day starts at 08:00 UTC in winter, 07:00 UTC in summer time (until 1 Nov).
    expect(gained.map((r) => r.observed_at)).toContain('2026-11-23 08:00:00.000')
    expect(gained.map((r) => r.observed_at)).toContain('2026-10-30 07:00:00.000')
    const column = (name: string) => report.columnHeaders.findIndex((h) => h.name === name)
    const nov20 = report.rows!.find((row) => row[0] === '2026-11-20')!
    const at = (metric: string) => rows.find((r) => r.metric === metric && r.observed_at === '2026-11-20 08:00:00.000')!.value
    expect(at('channel_views')).toBe(nov20[column('views')])
    expect(at('channel_likes')).toBe(nov20[column('likes')])
    expect(at('shares')).toBe(nov20[column('shares')])
    expect(at('followers_gained')).toBe(nov20[column('subscribersGained')])
    expect(at('followers_lost')).toBe(nov20[column('subscribersLost')])
  })

  it('stores nothing for a new channel with no uploads and no Analytics rows yet: no data is not zero', async () => {
    const rows: ObservationRow[] = []
    const summary = await collect(NEW_CHANNEL, SECRET, rows)
    const report = await youtube<Report>('reports', analyticsRequest(NEW_CHANNEL.apiId, '2026-10-29', '2026-11-26'))
    expect(report.rows).toBeUndefined()
    expect(summary.skipped).toEqual([])
    expect(rows.map((r) => r.metric).sort()).toEqual(['followers', 'lifetime_views', 'videos'])
    expect(rows.find((r) => r.metric === 'followers')!.value).toBeGreaterThan(0)
  })

  it('re-reads late Analytics days: a provisional day is replaced by its final value, never added', async () => {
    const day = '2026-11-23 08:00:00.000'
    const read = async () =>
      harness.db.ch.rows<{ n: string; value: number }>(
        `SELECT count() AS n, sum(value) AS value FROM observations FINAL WHERE account_id = 'kopi-yt' AND metric = 'channel_views' AND observed_at = '${day}'`,
      )
    await collect(MAIN)
    await harness.writers.flush()
    const [first] = await read()
    now = new Date(START.getTime() + DAY)
    await collect(MAIN)
    await harness.writers.flush()
    const [second] = await read()
    const final = await youtube<Report>('reports', analyticsRequest(MAIN.apiId, '2026-11-23', '2026-11-23'))
    expect(Number(second!.n)).toBe(1)
    expect(second!.value).toBe(final.rows![0]![1])
    expect(second!.value).toBeGreaterThan(first!.value)
    // Over the whole window, stored days equal the API's days, each once.
    const all = await harness.db.ch.rows<{ n: string; total: number }>(
      "SELECT count() AS n, sum(value) AS total FROM observations FINAL WHERE account_id = 'kopi-yt' AND metric = 'channel_views' AND observed_at >= '2026-10-30 07:00:00.000'",
    )
    const api = await youtube<Report>('reports', { ...analyticsRequest(MAIN.apiId, '2026-10-30', '2026-11-27'), metrics: 'views' })
    expect(Number(all[0]!.n)).toBe(api.rows!.length)
    expect(all[0]!.total).toBe(api.rows!.reduce((sum, row) => sum + row[1]!, 0))
  })

  it('backfills the daily Analytics numbers of a past window, and nothing else', async () => {
    const rows: ObservationRow[] = []
    const c = collector()
    const summary = await c.history!.backfill(context(MAIN, SECRET, rows), { from: '2026-06-01', to: '2026-09-01' })
    const report = await youtube<Report>('reports', analyticsRequest(MAIN.apiId, '2026-06-01', '2026-08-31'))
    expect(report.rows).toHaveLength(92)
    const views = rows.filter((r) => r.metric === 'channel_views')
    expect(views).toHaveLength(92)
    expect(views[0]!.observed_at).toBe('2026-06-01 07:00:00.000')
    expect(views.reduce((sum, r) => sum + r.value, 0)).toBe(report.rows!.reduce((sum, row) => sum + row[1]!, 0))
    expect(new Set(rows.map((r) => r.shape))).toEqual(new Set(['daily']))
    expect(summary.observations).toBe(92 * 6)
  })

  it('waits until midnight Pacific time when the daily quota is spent, without calling again', async () => {
    const token = 'quota-spender'
    const burn = async (count: number) => {
      for (let done = 0; done < count; ) {
        const batch = Math.min(32, count - done)
        await Promise.all(Array.from({ length: batch }, () => youtube('channels', { part: 'id', id: MAIN.apiId }, token)))
        done += batch
      }
    }
    await burn(YOUTUBE_DAILY_UNITS)
    const refused = await axios.get(`${harness.sim.url}/youtube/v3/channels`, { params: { part: 'id', id: MAIN.apiId }, headers: { Authorization: `Bearer ${token}` }, validateStatus: () => true })
    expect(refused.status).toBe(403)
    expect(refused.data.error.errors[0].reason).toBe('quotaExceeded')

    const since = await requestsFromNow()
    const error = await collect(MAIN, token).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiRateLimitError)
    // 01:00 PST → the next Pacific midnight is 23 h away.
    expect((error as ApiRateLimitError).retryAfterMs).toBe(23 * 3_600_000)
    expect(since()).toHaveLength(1)

    now = new Date('2026-11-27T08:00:05Z')
    const summary = await collect(MAIN, token)
    expect(summary.observations).toBeGreaterThan(100)
  }, 120_000)

  it('retries a short rate limit after the wait it names, and hands a longer one back', async () => {
    harness.sim.injectFault({
      path: /\/videos$/,
      times: 1,
      status: 403,
      error: { code: 403, type: 'rateLimitExceeded', message: 'The request cannot be completed because you have exceeded the rate limit.' },
      headers: { 'Retry-After': '0' },
    })
    const since = await requestsFromNow()
    const summary = await collect(MAIN)
    expect(summary.observations).toBeGreaterThan(100)
    const videoCalls = since().filter((r) => r.path.endsWith('/videos'))
    expect(videoCalls[0]!.query.id).toBe(videoCalls[1]!.query.id)

    harness.sim.injectFault({ path: /\/videos$/, times: 1, status: 403, error: { code: 403, type: 'userRateLimitExceeded', message: 'User rate limit exceeded.' } })
    const error = await collect(MAIN).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiRateLimitError)
    expect((error as ApiRateLimitError).retryAfterMs).toBe(10_000)
  })

  it('retries server errors, then collects everything', async () => {
    harness.sim.injectFault({ path: /\/playlistItems$/, times: 2, status: 503, error: { code: 503, type: 'backendError', message: 'Backend Error' } })
    const summary = await collect(MAIN)
    expect(summary.observations).toBeGreaterThan(100)
  })

  it('stops with a TokenError whose advice names the scopes when the token is refused', async () => {
    const c = collector()
    const error = await collect(MAIN, 'expired-ya29-1').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TokenError)
    expect((error as TokenError).apiCode).toBe('authError')
    expect((error as Error).message).not.toContain('expired-ya29-1')
    const advice = c.tokenAdvice(ENGLISH, (error as TokenError).apiCode, 'YT_TOKEN')
    expect(advice).toContain('YT_TOKEN')
    expect(advice).toContain('youtube.readonly')
    expect(advice).toContain('yt-analytics.readonly')
  })

  it('keeps the Data API numbers when only the Analytics scope is missing, then reports the scope', async () => {
    const rows: ObservationRow[] = []
    const error = await collect(MAIN, 'dataonly-ya29', rows).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TokenError)
    expect((error as TokenError).apiCode).toBe('insufficientPermissions')
    expect(rows.some((r) => r.metric === 'views')).toBe(true)
    expect(rows.some((r) => r.metric === 'channel_views')).toBe(false)
    expect(collector().tokenAdvice(ENGLISH, 'insufficientPermissions', 'YT_TOKEN')).toMatch(/scope.*yt-analytics\.readonly/s)
  })

  it('sends the token only in the Authorization header; the APIs refuse a request without one', async () => {
    const rows: ObservationRow[] = []
    const token = 'ya29.header-only-77'
    await collect(MAIN, token, rows)
    const mine = harness.sim.requests().filter((r) => r.token === token)
    expect(mine.length).toBeGreaterThanOrEqual(6)
    expect(mine.every((r) => !('key' in r.query) && !('access_token' in r.query))).toBe(true)
    expect(JSON.stringify(rows)).not.toContain(token)

    const bare = await axios.get(`${harness.sim.url}/youtube/v3/channels`, { params: { part: 'statistics', id: MAIN.apiId }, validateStatus: () => true })
    expect(bare.status).toBe(403)
    expect(bare.data.error.errors[0].reason).toBe('forbidden')
    const analytics = await axios.get(`${harness.sim.url}/youtube-analytics/v2/reports`, { params: analyticsRequest(MAIN.apiId, '2026-11-01', '2026-11-02'), validateStatus: () => true })
    expect(analytics.status).toBe(401)
    expect(analytics.data.error.status).toBe('UNAUTHENTICATED')
  })

  it('fails plainly, without retrying, for a channel id YouTube does not know', async () => {
    const error = await collect(account('typo', 'kopinusantara')).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect((error as ApiError).retryable).toBe(false)
    expect((error as Error).message).toContain('kopinusantara')
  })

  it('answers the same bodies for the same seed and clock', async () => {
    const other = await startSimulator({ now: () => START, seed: 42 })
    try {
      for (const [path, params] of [
        ['/youtube/v3/playlistItems', { part: 'contentDetails,snippet', playlistId: 'UUkopinusantara000000001', maxResults: 50 }],
        ['/youtube/v3/channels', { part: 'statistics,snippet', id: `${MAIN.apiId},UCx4b7Lq2Wc9Rt1Ym3Np8Zsd` }],
        ['/youtube-analytics/v2/reports', analyticsRequest(MAIN.apiId, '2026-11-01', '2026-11-26')],
      ] as const) {
        const get = async (url: string) => (await axios.get(`${url}${path}`, { params, headers: { Authorization: 'Bearer same' }, responseType: 'text' })).data as string
        expect(await get(other.url)).toBe(await get(harness.sim.url))
      }
    } finally {
      await other.close()
    }
  })
})
