import axios, { type AxiosResponse } from 'axios'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_PAGES, startSimulator, type RunningSimulator, type SimulatorOptions } from '../../simulator/index.ts'

/**
 * The Graph API simulator against its contract (social-apis.md §1), over real HTTP. Expected
 * values are worked out here from the scenario's stated volumes and Pacific-time rules, not read
 * back from the simulator's own code.
 */

const NOW = new Date('2026-11-26T06:00:00Z') // 2026-11-25 22:00 PST
const KOPI = DEMO_PAGES[0]!.id
const BANDUNG = DEMO_PAGES[1]!.id
const TOKEN = 'page-token-1'
const GRAPH_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0000$/
const HOUR = 3_600_000

/** Response bodies are read loosely; the assertions say what shape they must have. */
type Json = any

const started: RunningSimulator[] = []

async function start(options: Partial<SimulatorOptions> = {}): Promise<RunningSimulator> {
  const sim = await startSimulator({ now: () => NOW, ...options })
  started.push(sim)
  return sim
}

/** A clock the test moves by hand. */
function movableClock(at: Date = NOW) {
  let current = at.getTime()
  return {
    now: () => new Date(current),
    set: (date: Date | string) => {
      current = new Date(date).getTime()
    },
  }
}

async function get(sim: RunningSimulator, path: string, options: { token?: string | null; params?: Record<string, string | number> } = {}): Promise<AxiosResponse<Json>> {
  const token = options.token === undefined ? TOKEN : options.token
  return axios.get(path.startsWith('http') ? path : `${sim.url}${path}`, {
    params: options.params,
    headers: token ? { Authorization: `Bearer ${token}` } : {},
    timeout: 5_000,
    validateStatus: () => true,
  })
}

const unix = (iso: string) => String(Date.parse(iso) / 1000)

/** Walks /posts from the first page, following `next` until it is absent. */
async function walkPosts(sim: RunningSimulator, pageId: string, limit: number, fields = 'id,created_time') {
  const pages: Json[] = []
  let next: string | undefined = `${sim.url}/v25.0/${pageId}/posts?fields=${encodeURIComponent(fields)}&limit=${limit}`
  while (next) {
    const res = await get(sim, next)
    expect(res.status).toBe(200)
    pages.push(res.data)
    next = res.data.paging?.next
    expect(pages.length).toBeLessThan(200)
  }
  return pages
}

function expectGraphError(res: AxiosResponse<Json>, status: number, expected: Record<string, unknown>) {
  expect(res.status).toBe(status)
  const error = res.data.error
  expect(error).toMatchObject(expected)
  expect(typeof error.fbtrace_id).toBe('string')
  expect(error.fbtrace_id.length).toBeGreaterThanOrEqual(10)
  expect(Object.keys(res.data)).toEqual(['error'])
}

let sim: RunningSimulator

beforeAll(async () => {
  sim = await start()
})

afterAll(async () => {
  await Promise.all(started.map((s) => s.close()))
})

describe('page node and field selection', () => {
  it('returns the requested fields, in order, with the id last when not asked for', async () => {
    const res = await get(sim, `/v25.0/${KOPI}`, { params: { fields: 'name,followers_count,fan_count' } })
    expect(res.status).toBe(200)
    expect(Object.keys(res.data)).toEqual(['name', 'followers_count', 'fan_count', 'id'])
    expect(res.data.name).toBe('Kopi Nusantara')
    expect(res.data.id).toBe(KOPI)
    // 48,000 a year ago + 40/day × 365.25 days ≈ 62,610 (± a 16-follower wobble), less the 7 %
    // lost yesterday at 10:00 UTC: ≈ 58,230.
    expect(res.data.followers_count).toBeGreaterThan(58_150)
    expect(res.data.followers_count).toBeLessThan(58_310)
    expect(res.data.fan_count).toBe(res.data.followers_count)
  })

  it('defaults to id and name', async () => {
    const res = await get(sim, `/v25.0/${BANDUNG}`)
    expect(res.data).toEqual({ id: BANDUNG, name: 'Kopi Nusantara Bandung' })
  })

  it('gives the second demo page its own volume', async () => {
    const res = await get(sim, `/v25.0/${BANDUNG}`, { params: { fields: 'id,followers_count,talking_about_count' } })
    // 6,000 + 12/day × 365.25 ≈ 10,383, no drop.
    expect(res.data.followers_count).toBeGreaterThan(10_370)
    expect(res.data.followers_count).toBeLessThan(10_396)
    expect(res.data.talking_about_count).toBeGreaterThan(0)
  })

  it('serves any other page id with a modest profile', async () => {
    const res = await get(sim, '/v25.0/123456789', { params: { fields: 'id,name,followers_count' } })
    expect(res.status).toBe(200)
    expect(res.data.id).toBe('123456789')
    expect(res.data.name).toMatch(/6789$/)
    expect(res.data.followers_count).toBeGreaterThan(500)
    expect(res.data.followers_count).toBeLessThan(20_000)
  })

  it('rejects an unknown field with the Graph error body', async () => {
    const res = await get(sim, `/v25.0/${KOPI}`, { params: { fields: 'name,xyz' } })
    expectGraphError(res, 400, { message: '(#100) Tried accessing nonexisting field (xyz) on node type (Page)', type: 'OAuthException', code: 100 })
    expect(Object.keys(res.data.error)).toEqual(['message', 'type', 'code', 'fbtrace_id'])
  })

  it('rejects an unknown post field with node type Post', async () => {
    const res = await get(sim, `/v25.0/${KOPI}/posts`, { params: { fields: 'id,impressions' } })
    expectGraphError(res, 400, { message: '(#100) Tried accessing nonexisting field (impressions) on node type (Post)', code: 100 })
  })
})

describe('posts', () => {
  it('selects post fields and answers both summary syntaxes', async () => {
    const res = await get(sim, `/v25.0/${KOPI}/posts`, {
      params: { fields: 'id,created_time,reactions.summary(total_count),comments.limit(0).summary(true),permalink_url', limit: 5 },
    })
    expect(res.status).toBe(200)
    expect(res.data.data.length).toBeGreaterThan(0)
    for (const post of res.data.data) {
      expect(Object.keys(post)).toEqual(['id', 'created_time', 'reactions', 'comments', 'permalink_url'])
      expect(post.id).toMatch(new RegExp(`^${KOPI}_\\d+$`))
      expect(post.created_time).toMatch(GRAPH_TIME)
      expect(Date.parse(post.created_time.replace('+0000', 'Z'))).toBeLessThanOrEqual(NOW.getTime())
      expect(post.reactions.data).toEqual([])
      expect(post.reactions.summary).toEqual({ total_count: expect.any(Number) })
      expect(post.comments.data).toEqual([])
      expect(post.comments.summary.total_count).toEqual(expect.any(Number))
    }
    const other = await get(sim, `/v25.0/${KOPI}/posts`, { params: { fields: 'reactions.limit(0).summary(true),comments.summary(total_count)', limit: 5 } })
    expect(other.data.data.map((p: Json) => p.reactions.summary.total_count)).toEqual(res.data.data.map((p: Json) => p.reactions.summary.total_count))
    expect(other.data.data.map((p: Json) => p.comments.summary)).toEqual(res.data.data.map((p: Json) => ({ total_count: p.comments.summary.total_count })))
    expect(Object.keys(other.data.data[0])).toEqual(['reactions', 'comments', 'id'])
  })

  it('leaves shares out when a post has none', async () => {
    const pages = await walkPosts(sim, BANDUNG, 100, 'id,shares')
    const posts = pages.flatMap((p) => p.data)
    expect(posts.some((p: Json) => !('shares' in p))).toBe(true)
    expect(posts.some((p: Json) => p.shares?.count > 0)).toBe(true)
    expect(posts.every((p: Json) => !('shares' in p) || p.shares.count > 0)).toBe(true)
  })

  it('walks every post exactly once, through an empty page that still has next, and stops when next is absent', async () => {
    const pages = await walkPosts(sim, KOPI, 100)
    const posts = pages.flatMap((p) => p.data)
    const ids = posts.map((p: Json) => p.id)
    // History starts 400 days before today (2025-10-22); 2 posts a day (01:xx and 11:xx UTC); by
    // 06:00 today only this morning's post is out: 400 × 2 + 1.
    expect(ids).toHaveLength(801)
    expect(new Set(ids).size).toBe(801)
    expect(posts.at(-1).created_time.slice(0, 10)).toBe('2025-10-22')
    expect(posts[0].created_time.slice(0, 10)).toBe('2026-11-26')
    const times = posts.map((p: Json) => Date.parse(p.created_time.replace('+0000', 'Z')))
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeLessThan(times[i - 1]!)

    const emptyWithNext = pages.findIndex((p) => p.data.length === 0 && typeof p.paging?.next === 'string')
    expect(emptyWithNext).toBeGreaterThanOrEqual(0)
    expect(emptyWithNext).toBeLessThan(pages.length - 1)
    expect(pages.at(-1).paging?.next).toBeUndefined()
    for (const page of pages.slice(0, -1)) expect(page.paging.next).toContain('after=')
    // A collector that stopped at the empty page would have missed posts.
    expect(pages.slice(0, emptyWithNext).flatMap((p) => p.data).length).toBeLessThan(801)

    const small = await walkPosts(sim, KOPI, 25)
    expect(small.flatMap((p) => p.data).map((p: Json) => p.id)).toEqual(ids)
  })

  it('defaults to 25 stories a page and caps limit at 100', async () => {
    const first = await get(sim, `/v25.0/${KOPI}/posts`)
    expect(first.data.data.length).toBeLessThanOrEqual(25)
    expect(first.data.data.length).toBeGreaterThan(15)
    expect(Object.keys(first.data.data[0]).sort()).toEqual(expect.arrayContaining(['created_time', 'id']))
    const capped = await get(sim, `/v25.0/${KOPI}/posts`, { params: { limit: 500, fields: 'id' } })
    expect(capped.data.data.length).toBeLessThanOrEqual(100)
    expect(capped.data.data.length).toBeGreaterThan(80)
    expect(new URL(capped.data.paging.next).searchParams.get('limit')).toBe('100')
  })

  it('filters by since', async () => {
    const res = await get(sim, `/v25.0/${KOPI}/posts`, { params: { fields: 'id,created_time', since: unix('2026-11-20T00:00:00Z'), limit: 100 } })
    // 20–25 November: 6 days × 2, plus this morning's post.
    expect(res.data.data).toHaveLength(13)
    expect(res.data.paging.next).toBeUndefined()
  })
})

describe('page insights', () => {
  const insights = (params: Record<string, string>, target = sim) => get(target, `/v25.0/${KOPI}/insights`, { params })

  it('writes end_time as the next Pacific midnight in +0000, across the DST change', async () => {
    const res = await insights({ metric: 'page_follows', period: 'day', since: '2026-10-30', until: '2026-11-03' })
    expect(res.status).toBe(200)
    const [series] = res.data.data
    expect(series).toMatchObject({ name: 'page_follows', period: 'day', id: `${KOPI}/insights/page_follows/day` })
    expect(typeof series.title).toBe('string')
    expect(typeof series.description).toBe('string')
    // PDT ends on 2026-11-01 at 02:00: midnights before it are 07:00 UTC, after it 08:00 UTC.
    expect(series.values.map((v: Json) => v.end_time)).toEqual(['2026-10-31T07:00:00+0000', '2026-11-01T07:00:00+0000', '2026-11-02T08:00:00+0000', '2026-11-03T08:00:00+0000'])
    for (const v of series.values) expect(Number.isInteger(v.value)).toBe(true)
  })

  it('accepts unix seconds and gives the same days', async () => {
    const byDate = await insights({ metric: 'page_post_engagements', period: 'day', since: '2026-11-01', until: '2026-11-03' })
    const byUnix = await insights({ metric: 'page_post_engagements', period: 'day', since: unix('2026-11-01T07:00:00Z'), until: unix('2026-11-03T08:00:00Z') })
    expect(byUnix.data.data[0].values).toEqual(byDate.data.data[0].values)
    expect(byDate.data.data[0].values.map((v: Json) => v.end_time)).toEqual(['2026-11-02T08:00:00+0000', '2026-11-03T08:00:00+0000'])
  })

  it('defaults to the last 3 complete Pacific days', async () => {
    const res = await insights({ metric: 'page_follows', period: 'day' })
    // 06:00 UTC on the 26th is 22:00 PST on the 25th: the last complete day is the 24th.
    expect(res.data.data[0].values.map((v: Json) => v.end_time)).toEqual(['2026-11-23T08:00:00+0000', '2026-11-24T08:00:00+0000', '2026-11-25T08:00:00+0000'])
  })

  it('returns only days that have ended, and no next link past now', async () => {
    const res = await insights({ metric: 'page_follows', period: 'day', since: '2026-11-24', until: '2026-11-27' })
    expect(res.data.data[0].values.map((v: Json) => v.end_time)).toEqual(['2026-11-25T08:00:00+0000'])
    expect(res.data.paging.next).toBeUndefined()
    const previous = new URL(res.data.paging.previous).searchParams
    expect(previous.get('since')).toBe(unix('2026-11-21T08:00:00Z'))
    expect(previous.get('until')).toBe(unix('2026-11-24T08:00:00Z'))
  })

  it('pages by time: previous and next shift the window', async () => {
    const res = await insights({ metric: 'page_follows', period: 'day', since: '2026-11-01', until: '2026-11-03' })
    const previous = new URL(res.data.paging.previous).searchParams
    const next = new URL(res.data.paging.next).searchParams
    expect([previous.get('since'), previous.get('until')]).toEqual([unix('2026-10-30T07:00:00Z'), unix('2026-11-01T07:00:00Z')])
    expect([next.get('since'), next.get('until')]).toEqual([unix('2026-11-03T08:00:00Z'), unix('2026-11-05T08:00:00Z')])
    expect(next.get('metric')).toBe('page_follows')
    const following = await get(sim, res.data.paging.next)
    expect(following.data.data[0].values.map((v: Json) => v.end_time)).toEqual(['2026-11-04T08:00:00+0000', '2026-11-05T08:00:00+0000'])
  })

  it('allows 90 days and refuses more', async () => {
    const ninety = await insights({ metric: 'page_post_engagements', period: 'day', since: '2026-08-22', until: '2026-11-20' })
    expect(ninety.status).toBe(200)
    const values = ninety.data.data[0].values
    expect(values).toHaveLength(90)
    // ≈ 2 posts/day × (90 reactions + 8 comments + 3 shares + 45 clicks) = 292 a day.
    const total = values.reduce((sum: number, v: Json) => sum + v.value, 0)
    expect(total).toBeGreaterThan(90 * 292 * 0.93)
    expect(total).toBeLessThan(90 * 292 * 1.07)
    const tooLong = await insights({ metric: 'page_post_engagements', period: 'day', since: '2026-08-21', until: '2026-11-20' })
    expectGraphError(tooLong, 400, { code: 100, type: 'OAuthException' })
    expect(tooLong.data.error.message).toMatch(/90 days/)
  })

  it('refuses retired and unknown metrics', async () => {
    for (const metric of ['page_impressions', 'page_fans', 'page_engaged_users', 'page_follows,page_fan_adds', 'page_nonsense']) {
      const res = await insights({ metric, period: 'day' })
      expectGraphError(res, 400, { message: '(#100) The value must be a valid insights metric', type: 'OAuthException', code: 100 })
    }
  })

  it('answers a missing metric with error 3001', async () => {
    const res = await insights({ period: 'day' })
    expectGraphError(res, 400, {
      message: 'Invalid query',
      type: 'OAuthException',
      code: 3001,
      error_subcode: 1504028,
      is_transient: false,
      error_user_title: 'No Metric Specified',
      error_user_msg: 'No metric was specified to be fetched. Please specify one or more metrics to be fetched and try again.',
    })
  })

  it('writes reactions by type as an object without zero keys', async () => {
    const res = await insights({ metric: 'page_actions_post_reactions_total', period: 'day', since: '2026-10-01', until: '2026-11-01' })
    const values = res.data.data[0].values
    expect(values).toHaveLength(31)
    for (const { value } of values) {
      expect(typeof value).toBe('object')
      for (const [key, count] of Object.entries(value)) {
        expect(['like', 'love', 'wow', 'haha', 'sorry', 'anger']).toContain(key)
        expect(count).toBeGreaterThan(0)
      }
    }
    // Likes dominate: about 2 posts × 90 reactions × ~70 % a day.
    const likes = values.reduce((sum: number, v: Json) => sum + (v.value.like ?? 0), 0)
    expect(likes / values.length).toBeGreaterThan(100)
    expect(likes / values.length).toBeLessThan(150)
  })

  it('returns rolling sums for week, leaves out metrics without that period, and refuses an unknown period', async () => {
    const res = await insights({ metric: 'page_post_engagements', since: '2026-11-01', until: '2026-11-15' })
    const day = res.data.data.find((s: Json) => s.period === 'day').values
    const week = res.data.data.find((s: Json) => s.period === 'week').values
    expect(res.data.data.map((s: Json) => s.period)).toEqual(['day', 'week', 'days_28'])
    for (let i = 6; i < day.length; i++) {
      const sum = day.slice(i - 6, i + 1).reduce((s: number, v: Json) => s + v.value, 0)
      expect(week[i]).toEqual({ value: sum, end_time: day[i].end_time })
    }
    const follows = await insights({ metric: 'page_follows', period: 'week' })
    expect(follows.status).toBe(200)
    expect(follows.data.data).toEqual([])
    const bad = await insights({ metric: 'page_follows', period: 'hour' })
    expectGraphError(bad, 400, { code: 100 })
  })

  it('reports page_follows equal to followers_count at the end of the day', async () => {
    const clock = movableClock()
    const own = await start({ now: clock.now })
    const res = await insights({ metric: 'page_follows', period: 'day', since: '2026-11-20', until: '2026-11-25' }, own)
    const last = res.data.data[0].values.at(-1)
    expect(last.end_time).toBe('2026-11-25T08:00:00+0000')
    clock.set('2026-11-25T08:00:00Z')
    const node = await get(own, `/v25.0/${KOPI}`, { params: { fields: 'followers_count' } })
    expect(node.data.followers_count).toBe(last.value)
  })
})

describe('the follower drop', () => {
  it('shows in followers_count now, and in page_follows once the Pacific day has ended', async () => {
    const before = await get(sim, `/v25.0/${KOPI}/insights`, { params: { metric: 'page_follows', period: 'day' } })
    const lastComplete = before.data.data[0].values.at(-1)
    // The drop began at 10:00 UTC on the 25th, after this day's end (08:00 UTC): not in it yet.
    expect(lastComplete.end_time).toBe('2026-11-25T08:00:00+0000')
    const node = await get(sim, `/v25.0/${KOPI}`, { params: { fields: 'followers_count' } })
    expect(node.data.followers_count / lastComplete.value).toBeGreaterThan(0.925)
    expect(node.data.followers_count / lastComplete.value).toBeLessThan(0.935)

    // Three hours later the Pacific day of the 25th has ended (08:00 UTC) and carries the drop.
    const clock = movableClock(new Date('2026-11-26T09:00:00Z'))
    const later = await start({ now: clock.now })
    const res = await get(later, `/v25.0/${KOPI}/insights`, { params: { metric: 'page_follows', period: 'day', since: '2026-11-21', until: '2026-11-26' } })
    const values = res.data.data[0].values
    expect(values.map((v: Json) => v.end_time)).toEqual(['2026-11-22T08:00:00+0000', '2026-11-23T08:00:00+0000', '2026-11-24T08:00:00+0000', '2026-11-25T08:00:00+0000', '2026-11-26T08:00:00+0000'])
    for (let i = 1; i < 4; i++) {
      const growth = values[i].value - values[i - 1].value
      // 40/day, within [20, 60] by the scenario's noise bound.
      expect(growth).toBeGreaterThanOrEqual(20)
      expect(growth).toBeLessThanOrEqual(60)
    }
    const ratio = values[4].value / values[3].value
    expect(ratio).toBeGreaterThan(0.925)
    expect(ratio).toBeLessThan(0.935)
  })

  it('does not happen on the other demo page', async () => {
    const res = await get(sim, `/v25.0/${BANDUNG}/insights`, { params: { metric: 'page_follows', period: 'day', since: '2026-10-27', until: '2026-11-25' } })
    const values = res.data.data[0].values.map((v: Json) => v.value)
    expect(values).toHaveLength(29)
    for (let i = 1; i < values.length; i++) expect(values[i] - values[i - 1]).toBeGreaterThanOrEqual(0)
  })
})

describe('post counters and post insights', () => {
  it('answers lifetime post insights, consistent with the post fields', async () => {
    const posts = await get(sim, `/v25.0/${KOPI}/posts`, { params: { fields: 'id,reactions.summary(total_count)', limit: 10 } })
    const post = posts.data.data[5]
    const res = await get(sim, `/v25.0/${post.id}/insights`, { params: { metric: 'post_clicks,post_reactions_by_type_total,post_media_view', period: 'lifetime' } })
    expect(res.status).toBe(200)
    expect(res.data.data.map((s: Json) => [s.name, s.period, s.id])).toEqual([
      ['post_clicks', 'lifetime', `${post.id}/insights/post_clicks/lifetime`],
      ['post_reactions_by_type_total', 'lifetime', `${post.id}/insights/post_reactions_by_type_total/lifetime`],
      ['post_media_view', 'lifetime', `${post.id}/insights/post_media_view/lifetime`],
    ])
    for (const series of res.data.data) {
      expect(series.values).toHaveLength(1)
      expect(Object.keys(series.values[0])).toEqual(['value'])
    }
    const byType = res.data.data[1].values[0].value as Record<string, number>
    expect(Object.values(byType).reduce((a, b) => a + b, 0)).toBe(post.reactions.summary.total_count)
    // The documented per-type syntax, with aliases, agrees with the insight.
    const typed = await get(sim, `/v25.0/${post.id}`, {
      params: { fields: 'reactions.type(LOVE).limit(0).summary(total_count).as(love),reactions.type(ANGRY).limit(0).summary(total_count).as(angry)' },
    })
    expect(typed.data.love.summary.total_count).toBe(byType.love ?? 0)
    expect(typed.data.angry.summary.total_count).toBe(byType.anger ?? 0)
    expect(byType.love).toBeGreaterThan(0)
    const retired = await get(sim, `/v25.0/${post.id}/insights`, { params: { metric: 'post_impressions_unique', period: 'lifetime' } })
    expectGraphError(retired, 400, { message: '(#100) The value must be a valid insights metric', code: 100 })
    const missing = await get(sim, `/v25.0/${KOPI}_999999/insights`, { params: { metric: 'post_clicks' } })
    expectGraphError(missing, 400, { code: 100, error_subcode: 33, type: 'GraphMethodException' })
  })

  it('never lets a post counter go down, and saturates after 3 days', async () => {
    const clock = movableClock()
    const own = await start({ now: clock.now })
    const fields = 'id,created_time,shares,reactions.summary(total_count),comments.summary(total_count)'
    const newest = (await get(own, `/v25.0/${KOPI}/posts`, { params: { fields, limit: 6 } })).data.data as Json[]
    const ids = newest.map((p) => p.id)
    const read = async () => {
      const out: Record<string, number[]> = {}
      for (const id of ids) {
        const node = await get(own, `/v25.0/${id}`, { params: { fields } })
        const clicks = await get(own, `/v25.0/${id}/insights`, { params: { metric: 'post_clicks', period: 'lifetime' } })
        out[id] = [node.data.reactions.summary.total_count, node.data.comments.summary.total_count, node.data.shares?.count ?? 0, clicks.data.data[0].values[0].value]
      }
      return out
    }
    const offsets = [0, 1, 2, 6, 24, 72, 120].map((h) => h * HOUR)
    const readings: Array<Record<string, number[]>> = []
    for (const offset of offsets) {
      clock.set(new Date(NOW.getTime() + offset))
      readings.push(await read())
    }
    for (const id of ids) {
      for (let i = 1; i < readings.length; i++) {
        readings[i]![id]!.forEach((value, k) => {
          expect(value).toBeGreaterThanOrEqual(readings[i - 1]![id]![k]!)
        })
      }
      // Older than 3 days at both of the last two readings: final.
      expect(readings.at(-1)![id]).toEqual(readings.at(-2)![id])
    }

    // The newest post rises as final × (1 − e^(−age/12 h)), floored: check comments and clicks.
    const post = newest[0]!
    const created = Date.parse(post.created_time.replace('+0000', 'Z'))
    const final = readings.at(-1)![post.id]!
    expect(final[0]).toBeGreaterThan(60) // reactions saturate around 90 ± 25 %
    expect(final[0]).toBeLessThan(120)
    offsets.slice(0, 4).forEach((offset, i) => {
      const share = 1 - Math.exp(-(NOW.getTime() + offset - created) / (12 * HOUR))
      expect(readings[i]![post.id]![1]).toBe(Math.floor(final[1]! * share))
      expect(readings[i]![post.id]![3]).toBe(Math.floor(final[3]! * share))
    })
    expect(readings[0]![post.id]![0]).toBeLessThan(final[0]!)
  })
})

describe('auth', () => {
  it('requires a token', async () => {
    const res = await get(sim, `/v25.0/${KOPI}`, { token: null })
    expectGraphError(res, 400, { message: 'An access token is required to request this resource.', type: 'OAuthException', code: 104 })
    expect(res.data.error).not.toHaveProperty('error_subcode')
  })

  it('answers an expired token with 190/463', async () => {
    const res = await get(sim, `/v25.0/${KOPI}`, { token: 'expired-abc' })
    expectGraphError(res, 400, { type: 'OAuthException', code: 190, error_subcode: 463 })
    expect(res.data.error.message).toMatch(/^Error validating access token: Session has expired on /)
  })

  it('answers an unparseable token with 190/467', async () => {
    const res = await get(sim, `/v25.0/${KOPI}`, { token: 'invalid-xyz' })
    expectGraphError(res, 400, { message: 'Invalid OAuth access token - Cannot parse access token', type: 'OAuthException', code: 190, error_subcode: 467 })
  })

  it('takes the token from access_token too, and logs what it received', async () => {
    const own = await start()
    const res = await get(own, `/v25.0/${KOPI}`, { token: null, params: { access_token: 'query-token', fields: 'id' } })
    expect(res.status).toBe(200)
    await get(own, `/v25.0/${KOPI}/posts`, { params: { limit: 1 } })
    expect(own.requests()).toEqual([
      { method: 'GET', path: `/v25.0/${KOPI}`, query: { access_token: 'query-token', fields: 'id' }, token: 'query-token' },
      { method: 'GET', path: `/v25.0/${KOPI}/posts`, query: { limit: '1' }, token: TOKEN },
    ])
  })
})

describe('versions and unknown paths', () => {
  it('accepts any v<N>.0 prefix and echoes it', async () => {
    const res = await get(sim, `/v99.0/${KOPI}`)
    expect(res.status).toBe(200)
    expect(res.headers['facebook-api-version']).toBe('v99.0')
  })

  it('answers other paths with 100/33', async () => {
    for (const path of [`/${KOPI}`, '/v25.1/123', '/v25.0/me']) {
      const res = await get(sim, path)
      expectGraphError(res, 400, { code: 100, error_subcode: 33, type: 'GraphMethodException' })
    }
    const res = await get(sim, '/foo/bar')
    expect(res.data.error.message).toBe("Unsupported get request. Object with ID 'foo' does not exist, cannot be loaded due to missing permissions, or does not support this operation.")
  })
})

describe('usage headers and the call budget', () => {
  it('sends usage headers that rise with each call', async () => {
    const own = await start({ callsPerHour: 10 })
    for (let call = 1; call <= 10; call++) {
      const res = await get(own, `/v25.0/${KOPI}`)
      expect(res.status).toBe(200)
      expect(JSON.parse(res.headers['x-app-usage'])).toEqual({ call_count: call * 10, total_time: call * 10, total_cputime: call * 10 })
      expect(JSON.parse(res.headers['x-business-use-case-usage'])).toEqual({
        [KOPI]: [{ type: 'pages', call_count: call * 10, total_cputime: call * 10, total_time: call * 10, estimated_time_to_regain_access: 0 }],
      })
    }
    const over = await get(own, `/v25.0/${KOPI}/posts`)
    expectGraphError(over, 400, {
      message:
        '(#80001) There have been too many calls to this Page account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.',
      type: 'OAuthException',
      code: 80001,
    })
    const usage = JSON.parse(over.headers['x-business-use-case-usage'])[KOPI][0]
    // The clock stands still, so the oldest call leaves the window in a full hour.
    expect(usage).toMatchObject({ call_count: 100, estimated_time_to_regain_access: 60 })
    // The budget is per token.
    expect((await get(own, `/v25.0/${KOPI}`, { token: 'another-token' })).status).toBe(200)
  })

  it('tells when access comes back and lets the client back in then', async () => {
    const clock = movableClock()
    const own = await start({ callsPerHour: 5, now: clock.now })
    await get(own, `/v25.0/${KOPI}`)
    clock.set(new Date(NOW.getTime() + 30 * 60_000))
    for (let i = 0; i < 4; i++) expect((await get(own, `/v25.0/${KOPI}`)).status).toBe(200)
    clock.set(new Date(NOW.getTime() + 45 * 60_000))
    const over = await get(own, `/v25.0/${KOPI}`)
    expect(over.data.error.code).toBe(80001)
    expect(JSON.parse(over.headers['x-business-use-case-usage'])[KOPI][0].estimated_time_to_regain_access).toBe(15)
    clock.set(new Date(NOW.getTime() + 60 * 60_000 + 1_000))
    const back = await get(own, `/v25.0/${KOPI}`)
    expect(back.status).toBe(200)
    expect(JSON.parse(back.headers['x-app-usage']).call_count).toBe(100)
  })

  it('starts at 0 % with the default budget', async () => {
    const res = await get(sim, `/v25.0/${BANDUNG}`, { token: 'fresh-token' })
    expect(JSON.parse(res.headers['x-app-usage']).call_count).toBe(0)
  })
})

describe('injected faults', () => {
  it('fails the matching requests the given number of times', async () => {
    const own = await start()
    own.injectFault({ path: /\/insights$/, times: 2, status: 502, body: '<html><body>502 Bad Gateway</body></html>' })
    const insights = () => get(own, `/v25.0/${KOPI}/insights`, { params: { metric: 'page_follows', period: 'day' } })
    const first = await insights()
    expect(first.status).toBe(502)
    expect(first.headers['content-type']).toMatch(/^text\/html/)
    expect(first.data).toBe('<html><body>502 Bad Gateway</body></html>')
    expect((await get(own, `/v25.0/${KOPI}`)).status).toBe(200)
    expect((await insights()).status).toBe(502)
    expect((await insights()).status).toBe(200)
  })

  it('renders an injected Graph error with its headers', async () => {
    const own = await start()
    own.injectFault({ times: 1, error: { message: '(#4) Application request limit reached', code: 4 }, headers: { 'Retry-After': '1' } })
    const res = await get(own, `/v25.0/${KOPI}`)
    expectGraphError(res, 400, { message: '(#4) Application request limit reached', type: 'OAuthException', code: 4 })
    expect(res.headers['retry-after']).toBe('1')
    expect((await get(own, `/v25.0/${KOPI}`)).status).toBe(200)
  })
})

describe('determinism', () => {
  const requests = [
    `/v25.0/${KOPI}?fields=id,name,followers_count,fan_count,talking_about_count`,
    `/v25.0/${KOPI}/posts?fields=id,created_time,message,permalink_url,shares,reactions.summary(total_count),comments.summary(total_count)&limit=100`,
    `/v25.0/${KOPI}/insights?metric=page_follows,page_daily_follows_unique,page_post_engagements,page_total_actions,page_media_view,page_total_media_view_unique,page_actions_post_reactions_total&period=day&since=2026-09-01&until=2026-11-25`,
    `/v25.0/${BANDUNG}/insights?metric=page_follows`,
    `/v25.0/${KOPI}_1000/insights?metric=post_clicks,post_reactions_by_type_total,post_media_view`,
    `/v25.0/${KOPI}?fields=nope`,
    `/v25.0/777000111?fields=id,name,followers_count,talking_about_count`,
  ]
  const bodies = async (target: RunningSimulator, paths: string[]) => {
    const out = new Map<string, string>()
    for (const path of paths) out.set(path, JSON.stringify((await get(target, path)).data).replaceAll(target.url, 'SIM'))
    return out
  }

  it('gives identical bodies for the same seed and clock, whatever the request order', async () => {
    const a = await bodies(await start({ seed: 7 }), requests)
    const b = await bodies(await start({ seed: 7 }), [...requests].reverse())
    for (const path of requests) expect(b.get(path)).toBe(a.get(path))
    const other = await bodies(await start({ seed: 8 }), requests)
    expect(other.get(requests[1]!)).not.toBe(a.get(requests[1]!))
    expect(other.get(requests[2]!)).not.toBe(a.get(requests[2]!))
  })
})
