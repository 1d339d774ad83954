/**
 * The Instagram Graph API (Instagram API with Facebook Login, social-apis.md §2) inside the Graph
 * simulator: the IG user node, the /media edge and media nodes, and account insights. The world is
 * a pure function of (seed, account id, time), anchored to `today` like the Facebook scenario.
 *
 * Ids: an IG business account is `17841` + 12 digits (as real ones are); its media are `18` + the
 * account's last 12 digits + a 5-digit feed position, so a media id names its owner.
 *
 * | account                                   | followers a year ago | growth/day | posts/day | likes/post | comments/post | website clicks/day | contact taps/day | views/day |
 * |-------------------------------------------|---------------------:|-----------:|----------:|-----------:|--------------:|-------------------:|-----------------:|----------:|
 * | 17841400000000001 kopinusantara (demo)    |               21,000 |        +30 |         1 |        420 |            18 |                 55 |               12 |     9,000 |
 * | any other 17841… id                       |         1,000–20,000 |      +2–15 |         1 |     30–300 |  likes/20 + 1 |               2–30 |              1–6 | likes × 20 |
 *
 * Each post varies by the seed (likes ±30 %, comments ±40 %); daily insights vary ±20–40 % by day.
 * Per 30 days, demo account (seed 42; other seeds differ by a few %): +900 net followers
 * (≈ 21,000 + 30 × 365 ≈ 31,950 today), ≈ 1,040 new followers (`follower_count`: growth plus
 * replaced unfollows, ≈ 35/day), 30 posts, ≈ 12,000 likes (hidden counts left out), ≈ 540
 * comments, ≈ 1,700 website clicks, ≈ 360 contact taps, ≈ 270,000 views, ≈ 126,000 daily reach
 * summed, ≈ 14,500 interactions.
 *
 * Modelled behaviour:
 *  - Insights days are Graph's Pacific days (America/Los_Angeles, as Facebook Page insights: they
 *    end at 07:00 UTC in summer and 08:00 UTC in winter; the reference's "periods ending on
 *    UTC−07:00" is Pacific summer time); a day is reported once it has ended, at 90 % of its final
 *    value, rising linearly to 100 % 48 hours later ("data may be delayed up to 48 hours"), so a
 *    re-read of recent days finds higher numbers. A range with no ended day answers `data: []`.
 *  - `follower_count` is new followers per day (time series only), and only for the 30 days before
 *    the current day; `website_clicks`, `profile_links_taps`, `views`, `total_interactions` and
 *    `accounts_engaged` need `metric_type=total_value`; `reach` has both. No range may span more
 *    than 30 days. Retired metrics (impressions, the time-series profile clicks, …) are refused.
 *  - About 8 % of posts have hidden like counts: `like_count` is left out of them.
 *  - The feed also holds archived posts that /media does not list, in one block per account (230
 *    at today − 40 days on the demo account): /media pages the feed before filtering, so pages may
 *    be short or empty while `next` is still present (with limit=100, at least one empty page).
 *  - A post's counters rise as final × (1 − e^(−age/12 h)), floored, final from 3 days on.
 *  - Budget: Instagram's Business Use Case limit is per 24 hours; the simulator allows
 *    24 × callsPerHour calls per token in any 24 hours, then answers error 80002 with
 *    `X-Business-Use-Case-Usage` (type `instagram`) saying when access comes back.
 *  - A token starting with `noscope` lacks instagram_manage_insights: code 10 on every IG request.
 */
import { createCallWindow } from './call-window.ts'
import {
  GraphError,
  invalidParameter,
  linkWith,
  nonexistingField,
  parseFields,
  parseTimeParam,
  unsupportedRequest,
  type FieldRequest,
  type GraphFamily,
  type GraphFamilyRequest,
} from './graph-common.ts'
import { audienceOnTheHour, intBetween, opaqueId, unit } from './random.ts'
import { HISTORY_DAYS, SATURATION_MS } from './scenario.ts'
import { addPacificDays, DAY_MS, graphTime, HOUR_MS, pacificDayStart } from './time.ts'
import type { SimulatorModule } from './network.ts'

export const DEMO_INSTAGRAM_ACCOUNTS: ReadonlyArray<{ id: string; username: string; name: string }> = [{ id: '17841400000000001', username: 'kopinusantara', name: 'Kopi Nusantara' }]

const IG_USER_ID = /^17841(\d{12})$/
const IG_MEDIA_ID = /^18(\d{12})(\d{5})$/

/** Ranges may span at most 30 days (2,592,000 s). */
const MAX_RANGE_MS = 30 * DAY_MS
/** `follower_count` answers only the 30 days before the current one. */
const FOLLOWER_COUNT_DAYS = 30
const LATE_DATA_MS = 48 * HOUR_MS
const RISE_TAU_MS = 12 * HOUR_MS
const MEDIA_DEFAULT_LIMIT = 25
/** UNCONFIRMED: the cap of /media page sizes; the simulator caps like Facebook's edges. */
const MEDIA_MAX_LIMIT = 100
const MAX_CACHED_FEEDS = 200

interface IgProfile {
  id: string
  username: string
  name: string
  followersYearAgo: number
  followersPerDay: number
  follows: number
  postHoursUtc: readonly number[]
  likesPerPost: number
  commentsPerPost: number
  clicksPerDay: number
  contactTapsPerDay: number
  viewsPerDay: number
  archived?: { dayOffset: number; items: number }
}

const DEMO_PROFILES: Record<string, Omit<IgProfile, 'id' | 'username' | 'name'>> = {
  '17841400000000001': {
    followersYearAgo: 21_000,
    followersPerDay: 30,
    follows: 312,
    postHoursUtc: [3],
    likesPerPost: 420,
    commentsPerPost: 18,
    clicksPerDay: 55,
    contactTapsPerDay: 12,
    viewsPerDay: 9_000,
    archived: { dayOffset: -40, items: 230 },
  },
}

const HIDDEN_LIKES_CHANCE = 0.08
/** Unfollows replaced by new follows, as a share of the daily growth. */
const CHURN_SHARE = 0.3

const CAPTIONS = [
  'Kopi susu gula aren, teman pagi terbaik ☕',
  'Biji Gayo baru tiba — sudah coba?',
  'Di balik layar: roasting hari ini.',
  'Latte art dari barista kami.',
  'Promo akhir pekan: beli 2 gratis 1!',
  'Es kopi pandan, resep rahasia kami.',
]

interface IgMedia {
  id: string
  userId: string
  createdMs: number
  hiddenLikes: boolean
  mediaType: 'IMAGE' | 'VIDEO' | 'CAROUSEL_ALBUM'
  caption?: string
  shortcode: string
  likes: number
  comments: number
}

/** One feed position: a listed post, or an archived one (no `media`). */
interface FeedItem {
  index: number
  createdMs: number
  media?: IgMedia
}

export interface InstagramGraphOptions {
  seed: number
  /** UTC midnight (ms) of the world's "today". */
  today: number
  callsPerHour: number
}

function createInstagramGraph(options: InstagramGraphOptions): GraphFamily {
  const { seed, today } = options
  const historyStart = today - HISTORY_DAYS * DAY_MS
  const yearAgo = today - 365 * DAY_MS
  const profiles = new Map<string, IgProfile>()
  const feeds = new Map<string, { items: FeedItem[]; builtDays: number }>()
  const calls = createCallWindow(options.callsPerHour * 24, DAY_MS)

  // --- the world -----------------------------------------------------------------------------

  function profile(userId: string): IgProfile {
    let p = profiles.get(userId)
    if (!p) {
      const demo = DEMO_PROFILES[userId]
      const named = DEMO_INSTAGRAM_ACCOUNTS.find((a) => a.id === userId)
      p = demo && named ? { id: userId, username: named.username, name: named.name, ...demo } : derivedProfile(userId)
      profiles.set(userId, p)
    }
    return p
  }

  function derivedProfile(userId: string): IgProfile {
    const likes = intBetween(30, 300, seed, userId, 'likes')
    const p: IgProfile = {
      id: userId,
      username: `studio_${userId.slice(-4)}`,
      name: `Studio ${userId.slice(-4)}`,
      followersYearAgo: intBetween(10, 200, seed, userId, 'followers') * 100,
      followersPerDay: intBetween(2, 15, seed, userId, 'growth'),
      follows: intBetween(50, 900, seed, userId, 'follows'),
      postHoursUtc: [intBetween(0, 14, seed, userId, 'hour')],
      likesPerPost: likes,
      commentsPerPost: Math.round(likes / 20) + 1,
      clicksPerDay: intBetween(2, 30, seed, userId, 'clicks'),
      contactTapsPerDay: intBetween(1, 6, seed, userId, 'taps'),
      viewsPerDay: likes * 20,
    }
    if (unit(seed, userId, 'archived') < 0.5) p.archived = { dayOffset: -intBetween(20, 350, seed, userId, 'archived-day'), items: intBetween(20, 150, seed, userId, 'archived-size') }
    return p
  }

  /** Followers on the hour: steady growth g/day with a wobble of amplitude g/4. */
  function followers(userId: string, atMs: number): number {
    const p = profile(userId)
    return audienceOnTheHour(seed, userId, atMs, { startMs: yearAgo, start: p.followersYearAgo, perDay: p.followersPerDay })
  }

  function makeMedia(p: IgProfile, index: number, createdMs: number): IgMedia {
    const number = index + 1
    const draw = (label: string) => unit(seed, p.id, 'media', number, label)
    const spread = (mean: number, width: number, label: string) => Math.round(mean * (1 - width + 2 * width * draw(label)))
    const kind = draw('type')
    const media: IgMedia = {
      id: `18${p.id.slice(-12)}${String(number).padStart(5, '0')}`,
      userId: p.id,
      createdMs,
      hiddenLikes: draw('hidden') < HIDDEN_LIKES_CHANCE,
      mediaType: kind < 0.55 ? 'IMAGE' : kind < 0.8 ? 'CAROUSEL_ALBUM' : 'VIDEO',
      shortcode: opaqueId(11, seed, p.id, 'shortcode', number),
      likes: spread(p.likesPerPost, 0.3, 'likes'),
      comments: spread(p.commentsPerPost, 0.4, 'comments'),
    }
    if (draw('no-caption') >= 0.05) media.caption = CAPTIONS[Math.floor(draw('caption') * CAPTIONS.length)]
    return media
  }

  /** The feed through the UTC day containing `atMs`, oldest first. */
  function feed(userId: string, atMs: number): FeedItem[] {
    const p = profile(userId)
    let line = feeds.get(userId)
    if (!line) {
      if (feeds.size >= MAX_CACHED_FEEDS) feeds.clear()
      line = { items: [], builtDays: 0 }
      feeds.set(userId, line)
    }
    const lastDay = Math.floor((atMs - historyStart) / DAY_MS)
    while (line.builtDays <= lastDay) {
      const day = line.builtDays
      const dayStart = historyStart + day * DAY_MS
      const entries: Array<{ createdMs: number; listed: boolean }> = p.postHoursUtc.map((hour) => ({
        createdMs: dayStart + hour * HOUR_MS + Math.floor(unit(seed, p.id, 'jitter', day, hour) * 45) * 60_000,
        listed: true,
      }))
      if (p.archived && day === HISTORY_DAYS + p.archived.dayOffset) {
        for (let i = 0; i < p.archived.items; i++) entries.push({ createdMs: dayStart + 5 * HOUR_MS + i * 5_000 + 1_000, listed: false })
      }
      for (const entry of entries.sort((a, b) => a.createdMs - b.createdMs)) {
        const index = line.items.length
        line.items.push({ index, createdMs: entry.createdMs, media: entry.listed ? makeMedia(p, index, entry.createdMs) : undefined })
      }
      line.builtDays++
    }
    return line.items
  }

  /** How many feed items were created at or before `atMs` (binary search). */
  function countUpTo(items: readonly FeedItem[], atMs: number): number {
    let lo = 0
    let hi = items.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (items[mid]!.createdMs <= atMs) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  function itemsUpTo(userId: string, atMs: number): FeedItem[] {
    const items = feed(userId, atMs)
    return items.slice(0, countUpTo(items, atMs))
  }

  function counts(media: IgMedia, atMs: number): { likes: number; comments: number } {
    const age = atMs - media.createdMs
    const share = age <= 0 ? 0 : age >= SATURATION_MS ? 1 : 1 - Math.exp(-age / RISE_TAU_MS)
    const grow = (final: number) => (share === 1 ? final : Math.floor(final * share))
    return { likes: grow(media.likes), comments: grow(media.comments) }
  }

  /** Final (fully reported) insights of the IG day (a Pacific day) starting at `dayStart`. */
  function finalDay(userId: string, dayStart: number): Record<string, number> {
    const p = profile(userId)
    const dayEnd = addPacificDays(dayStart, 1)
    const draw = (label: string) => unit(seed, userId, 'day', dayStart, label)
    let interactions = 0
    const items = feed(userId, dayEnd)
    for (let i = countUpTo(items, dayStart - SATURATION_MS); i < items.length && items[i]!.createdMs < dayEnd; i++) {
      const media = items[i]!.media
      if (!media) continue
      const end = counts(media, dayEnd)
      const start = counts(media, dayStart)
      interactions += end.likes - start.likes + end.comments - start.comments
    }
    interactions = Math.floor(interactions * 1.12) // saves, shares and replies on top
    const views = Math.round(p.viewsPerDay * (0.7 + 0.6 * draw('views')))
    const churn = Math.round(p.followersPerDay * CHURN_SHARE * draw('churn'))
    return {
      follower_count: followers(userId, dayEnd) - followers(userId, dayStart) + churn,
      reach: Math.floor(views * (0.42 + 0.1 * draw('reach'))),
      views,
      website_clicks: Math.round(p.clicksPerDay * (0.6 + 0.8 * draw('clicks'))),
      profile_links_taps: Math.round(p.contactTapsPerDay * (0.6 + 0.8 * draw('taps'))),
      total_interactions: interactions,
      accounts_engaged: Math.floor(interactions * 0.55),
    }
  }

  /** What the API reports now for one ended day: 90 % at its end, all of it 48 hours later. */
  function reportedDay(userId: string, dayStart: number, nowMs: number): Record<string, number> | undefined {
    const age = nowMs - addPacificDays(dayStart, 1)
    if (age < 0) return undefined
    const share = age >= LATE_DATA_MS ? 1 : 0.9 + (0.1 * age) / LATE_DATA_MS
    const out: Record<string, number> = {}
    for (const [name, value] of Object.entries(finalDay(userId, dayStart))) out[name] = share === 1 ? value : Math.floor(value * share)
    return out
  }

  // --- HTTP answers --------------------------------------------------------------------------

  function ownerOf(objectId: string): string | undefined {
    if (IG_USER_ID.test(objectId)) return objectId
    const media = IG_MEDIA_ID.exec(objectId)
    return media ? `17841${media[1]}` : undefined
  }

  function mediaById(mediaId: string, nowMs: number): IgMedia | undefined {
    const match = IG_MEDIA_ID.exec(mediaId)
    if (!match) return undefined
    const index = Number(match[2]) - 1
    const item = index >= 0 ? feed(`17841${match[1]}`, nowMs)[index] : undefined
    return item && item.createdMs <= nowMs ? item.media : undefined
  }

  function usageHeaders(userId: string, percent: number, regainMinutes: number): Record<string, string> {
    return {
      'X-Business-Use-Case-Usage': JSON.stringify({
        [userId]: [{ type: 'instagram', call_count: percent, total_cputime: percent, total_time: percent, estimated_time_to_regain_access: regainMinutes }],
      }),
    }
  }

  function admit(token: string, segments: string[], nowMs: number): Record<string, string> {
    const userId = ownerOf(segments[0] ?? '')!
    const budget = options.callsPerHour * 24
    const decision = calls.take(token, nowMs)
    if (!decision.allowed) {
      throw new GraphError(
        {
          // The short form is seen in clients' tests; the rest follows Meta's other BUC messages.
          message:
            '(#80002) There have been too many calls to this Instagram account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.',
          type: 'OAuthException',
          code: 80002,
        },
        { headers: usageHeaders(userId, 100, Math.max(1, Math.ceil(decision.regainMs / 60_000))) },
      )
    }
    return usageHeaders(userId, Math.min(100, Math.floor((decision.used * 100) / budget)), 0)
  }

  function route(request: GraphFamilyRequest, segments: string[], token: string, nowMs: number): unknown {
    const [id = '', edge, ...rest] = segments
    if (token.startsWith('noscope')) {
      throw new GraphError({ message: '(#10) Application does not have permission for this action', type: 'OAuthException', code: 10 })
    }
    if (rest.length > 0) throw unsupportedRequest(request.method, id)
    if (IG_USER_ID.test(id)) {
      if (edge === undefined) return userNode(id, request.query, nowMs)
      if (edge === 'media') return mediaEdge(request, id, nowMs)
      if (edge === 'insights') return userInsights(request, id, nowMs)
      throw nonexistingField(edge, 'IGUser')
    }
    const media = mediaById(id, nowMs)
    if (!media) throw unsupportedRequest(request.method, id)
    if (edge === undefined) return mediaNode(media, parseFields(request.query.get('fields') ?? 'id', 'IGMedia'), nowMs)
    throw nonexistingField(edge, 'IGMedia')
  }

  const USER_FIELDS = ['id', 'ig_id', 'username', 'name', 'biography', 'website', 'profile_picture_url', 'followers_count', 'follows_count', 'media_count'] as const
  const MEDIA_FIELDS = [
    'id',
    'caption',
    'comments_count',
    'like_count',
    'media_type',
    'media_product_type',
    'media_url',
    'permalink',
    'shortcode',
    'timestamp',
    'username',
    'is_comment_enabled',
  ] as const

  function userNode(userId: string, query: URLSearchParams, nowMs: number): unknown {
    const fields = parseFields(query.get('fields'), 'IGUser') ?? parseFields('id', 'IGUser')!
    for (const field of fields) if (!(USER_FIELDS as readonly string[]).includes(field.name)) throw nonexistingField(field.name, 'IGUser')
    const p = profile(userId)
    const out: Record<string, unknown> = {}
    for (const { name } of fields) {
      if (name === 'id') out.id = userId
      else if (name === 'ig_id') out.ig_id = Number(userId.slice(-10))
      else if (name === 'username') out.username = p.username
      else if (name === 'name') out.name = p.name
      else if (name === 'biography') out.biography = `${p.name} — kopi dari seluruh Nusantara.`
      else if (name === 'website') out.website = `https://${p.username}.example`
      else if (name === 'profile_picture_url') out.profile_picture_url = `https://scontent.example/${p.username}.jpg`
      else if (name === 'followers_count') out.followers_count = followers(userId, nowMs)
      else if (name === 'follows_count') out.follows_count = p.follows
      else if (name === 'media_count') out.media_count = itemsUpTo(userId, nowMs).filter((item) => item.media).length
    }
    if (!('id' in out)) out.id = userId
    return out
  }

  function mediaNode(media: IgMedia, fields: FieldRequest[] | undefined, nowMs: number): Record<string, unknown> {
    const requested = fields ?? parseFields('id', 'IGMedia')!
    for (const field of requested) if (!(MEDIA_FIELDS as readonly string[]).includes(field.name)) throw nonexistingField(field.name, 'IGMedia')
    const now = counts(media, nowMs)
    const out: Record<string, unknown> = {}
    for (const { name } of requested) {
      switch (name) {
        case 'id':
          out.id = media.id
          break
        case 'caption':
          if (media.caption !== undefined) out.caption = media.caption
          break
        case 'comments_count':
          out.comments_count = now.comments
          break
        case 'like_count':
          // Left out when the owner hid like counts (social-apis.md §2.2).
          if (!media.hiddenLikes) out.like_count = now.likes
          break
        case 'media_type':
          out.media_type = media.mediaType
          break
        case 'media_product_type':
          out.media_product_type = media.mediaType === 'VIDEO' ? 'REELS' : 'FEED'
          break
        case 'media_url':
          out.media_url = `https://scontent.example/${media.shortcode}.jpg`
          break
        case 'permalink':
          out.permalink = `https://www.instagram.com/p/${media.shortcode}/`
          break
        case 'shortcode':
          out.shortcode = media.shortcode
          break
        case 'timestamp':
          out.timestamp = graphTime(media.createdMs)
          break
        case 'username':
          out.username = profile(media.userId).username
          break
        case 'is_comment_enabled':
          out.is_comment_enabled = true
          break
      }
    }
    if (!('id' in out)) out.id = media.id
    return out
  }

  /**
   * /media, newest first, with cursor paging over the feed; archived items are filtered out after
   * paging, so a page may be short or empty and still carry `next`. `since`/`until` restrict by
   * timestamp. Only `after` is supported for moving on.
   */
  function mediaEdge(request: GraphFamilyRequest, userId: string, nowMs: number): unknown {
    const query = request.query
    const fields = parseFields(query.get('fields'), 'IGMedia')
    for (const field of fields ?? []) if (!(MEDIA_FIELDS as readonly string[]).includes(field.name)) throw nonexistingField(field.name, 'IGMedia')
    const limit = parseLimit(query.get('limit'))
    const since = parseTimeParam('since', query.get('since'))
    const until = parseTimeParam('until', query.get('until'))
    const after = query.get('after')
    const startBefore = after ? decodeCursor(after) : Number.POSITIVE_INFINITY
    let items = itemsUpTo(userId, until !== undefined ? Math.min(until, nowMs) : nowMs)
    if (since !== undefined) items = items.filter((item) => item.createdMs >= since)
    const older = items.filter((item) => item.index < startBefore)
    const window = older.slice(Math.max(0, older.length - limit)).reverse()
    if (window.length === 0) return { data: [] }
    const data = window.flatMap((item) => (item.media ? [mediaNode(item.media, fields, nowMs)] : []))
    const paging: Record<string, unknown> = { cursors: { before: encodeCursor(window[0]!.index), after: encodeCursor(window[window.length - 1]!.index) } }
    if (older.length > window.length) {
      paging.next = linkWith(request.baseUrl, request.pathname, query, { limit: String(limit), after: encodeCursor(window[window.length - 1]!.index), before: undefined })
    }
    return { data, paging }
  }

  function userInsights(request: GraphFamilyRequest, userId: string, nowMs: number): unknown {
    const { query } = request
    const names = (query.get('metric') ?? '')
      .split(',')
      .map((m) => m.trim())
      .filter((m) => m !== '')
    if (names.length === 0) {
      // UNCONFIRMED code and wording for Instagram (Facebook Pages answer 3001/1504028).
      throw new GraphError({ message: '(#100) The parameter metric is required', type: 'OAuthException', code: 100 })
    }
    names.forEach((name, i) => {
      if (!(name in IG_METRICS)) throw invalidParameter(`(#100) metric[${i}] must be one of the following values: ${Object.keys(IG_METRICS).join(', ')}`)
    })
    const period = query.get('period')?.trim()
    // UNCONFIRMED wording: the period is required by the reference.
    if (!period) throw invalidParameter('(#100) The parameter period is required')
    if (!PERIODS.includes(period)) throw invalidParameter(`(#100) period must be one of the following values: ${PERIODS.join(', ')}`)
    const metricType = query.get('metric_type')?.trim() || 'time_series'
    if (metricType !== 'time_series' && metricType !== 'total_value') throw invalidParameter('(#100) metric_type must be one of the following values: time_series, total_value')
    const needTotal = names.filter((n) => !IG_METRICS[n]!.types.includes(metricType as MetricType))
    if (needTotal.length > 0) {
      if (metricType === 'time_series') throw invalidParameter(`(#100) The following metrics (${needTotal.join(', ')}) should be specified with parameter metric_type=total_value`)
      // UNCONFIRMED wording.
      throw invalidParameter(`(#100) The following metrics (${needTotal.join(', ')}) do not support metric_type=total_value`)
    }
    // UNCONFIRMED wording; the simulated metrics offer `day` only.
    if (period !== 'day') throw invalidParameter(`(#100) Incompatible period (${period}) for metric ${names[0]}`)
    if (query.get('breakdown')) {
      // The reference: an unsupported breakdown answers "An unknown error has occurred."; the simulator models none.
      throw new GraphError({ message: 'An unknown error has occurred.', type: 'OAuthException', code: 1 }, { status: 500 })
    }

    const currentDay = pacificDayStart(nowMs)
    const since = parseTimeParam('since', query.get('since')) ?? addPacificDays(currentDay, -1)
    const until = parseTimeParam('until', query.get('until')) ?? nowMs
    // UNCONFIRMED wording (modelled on Facebook's).
    if (since >= until) throw invalidParameter('(#100) The since parameter must be before the until parameter')
    // Confirmed wording (seen in live answers quoted by client code).
    if (until - since > MAX_RANGE_MS) throw invalidParameter('(#100) There cannot be more than 30 days (2592000 s) between since and until')
    if (names.includes('follower_count') && since < addPacificDays(currentDay, -FOLLOWER_COUNT_DAYS)) {
      throw invalidParameter('(#100) (follower_count) metric only supports querying data for the last 30 days excluding the current day')
    }

    // The days whose start falls in [the day containing since, until): the since-day is included.
    const days: Array<{ start: number; values: Record<string, number> }> = []
    for (let start = pacificDayStart(since); start < until; start = addPacificDays(start, 1)) {
      const values = reportedDay(userId, start, nowMs)
      if (values) days.push({ start, values })
    }

    const data: unknown[] = []
    if (days.length > 0) {
      for (const name of [...new Set(names)]) {
        const metric = IG_METRICS[name]!
        const id = `${userId}/insights/${name}/day`
        if (metricType === 'total_value') {
          const value = days.reduce((sum, day) => sum + day.values[name]!, 0)
          data.push({ name, period: 'day', title: metric.title, description: metric.description, total_value: { value }, id })
        } else {
          const values = days.map((day) => ({ value: day.values[name]!, end_time: graphTime(addPacificDays(day.start, 1)) }))
          data.push({ name, period: 'day', values, title: metric.title, description: metric.description, id })
        }
      }
    }
    const span = Math.max(until - since, DAY_MS)
    const seconds = (ms: number) => String(Math.floor(ms / 1000))
    const paging: Record<string, string> = {
      previous: linkWith(request.baseUrl, request.pathname, query, { since: seconds(since - span), until: seconds(until - span) }),
    }
    if (since + span < nowMs) paging.next = linkWith(request.baseUrl, request.pathname, query, { since: seconds(since + span), until: seconds(until + span) })
    return { data, paging }
  }

  return {
    owns: (objectId) => ownerOf(objectId) !== undefined,
    admit,
    route,
  }
}

type MetricType = 'time_series' | 'total_value'
const PERIODS = ['day', 'week', 'days_28', 'month', 'lifetime', 'total_over_range']

/** Account metrics the simulator serves; anything else (impressions, email_contacts, …) is refused. */
const IG_METRICS: Record<string, { types: readonly MetricType[]; title: string; description: string }> = {
  follower_count: { types: ['time_series'], title: 'Follower Count', description: 'Total number of new followers each day within the specified range.' },
  reach: { types: ['time_series', 'total_value'], title: 'Accounts reached', description: 'The number of unique accounts that have seen your content, at least once.' },
  views: { types: ['total_value'], title: 'Views', description: 'The number of times your content was played or displayed.' },
  website_clicks: { types: ['total_value'], title: 'Website clicks', description: 'The number of times that the link to your website was tapped.' },
  profile_links_taps: {
    types: ['total_value'],
    title: 'Profile links taps',
    description: 'The number of taps on your business address, call button, email button and text button.',
  },
  total_interactions: {
    types: ['total_value'],
    title: 'Content interactions',
    description: 'The total number of post interactions, story interactions, reels interactions, video interactions and live video interactions.',
  },
  accounts_engaged: { types: ['total_value'], title: 'Accounts engaged', description: 'The number of accounts that have interacted with your content.' },
}

function parseLimit(value: string | null): number {
  if (value === null || value.trim() === '') return MEDIA_DEFAULT_LIMIT
  const limit = Number(value)
  // UNCONFIRMED: Graph's wording for a bad limit.
  if (!Number.isInteger(limit) || limit < 1) throw invalidParameter('(#100) The parameter limit must be a positive integer')
  return Math.min(limit, MEDIA_MAX_LIMIT)
}

function encodeCursor(index: number): string {
  return Buffer.from(`media:${index}`).toString('base64url')
}

function decodeCursor(cursor: string): number {
  const match = /^media:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'))
  // UNCONFIRMED: Graph's wording for a cursor it cannot read.
  if (!match) throw invalidParameter('(#100) The After Cursor specified is invalid')
  return Number(match[1])
}

/** Instagram accounts: a Graph node family at the simulator's root, for the registry (simulator/networks.ts). */
export const instagramSimulator: SimulatorModule<'instagram'> = {
  network: 'instagram',
  mounts: { graph: '' },
  serve: (context) => ({ graphFamily: createInstagramGraph(context) }),
}
