/**
 * The simulated world of Facebook Pages behind the Graph API simulator: pure functions of (seed,
 * page id, time).
 * Nothing here knows HTTP; simulator/graph-pages.ts turns it into Graph answers.
 *
 * Time is anchored to `today`, the UTC midnight of the simulator clock's day when the simulator
 * starts; history begins at today − 400 days. Demo-page volumes (means; each post varies by the
 * seed, reactions ±25 %, comments/clicks/views ±40 %, shares ±80 %):
 *
 * | page                                   | followers a year ago | growth/day | posts/day | reactions/post | comments/post | shares/post | clicks/post | views/post |
 * |----------------------------------------|---------------------:|-----------:|----------:|---------------:|--------------:|------------:|------------:|-----------:|
 * | 104729384756102 Kopi Nusantara         |               48,000 |        +40 |         2 |             90 |             8 |           3 |          45 |      2,600 |
 * | 104729384756205 Kopi Nusantara Bandung |                6,000 |        +12 |         1 |             35 |             3 |           1 |          18 |      1,000 |
 * | any other id                           |        1,000–10,000 |     +2–10 |         1 |           8–40 |   reactions/10 |  reactions/30 | reactions/2 | reactions×28 |
 *
 * Posting hours (UTC, + up to 45 min): Kopi Nusantara 01:00 and 11:00, Bandung 04:00. Page actions
 * (contact and call-to-action clicks): 14/day and 4/day.
 *
 * Today that is ≈ 62,600 followers for Kopi Nusantara before the drop (≈ 58,200 after) and
 * ≈ 10,400 for Bandung. Per 30 days (measured with seed 42; other seeds differ by a few %):
 *
 * | page                   | net followers | new follows | posts | reactions | comments | shares | clicks | engagements | media views | page actions |
 * |------------------------|--------------:|------------:|------:|----------:|---------:|-------:|-------:|------------:|------------:|-------------:|
 * | Kopi Nusantara         | +1,200 (−3,200 over a window with the drop) | ≈ 1,280 | 60 | ≈ 5,400 | ≈ 480 | ≈ 180 | ≈ 2,700 | ≈ 8,800 | ≈ 160,000 | ≈ 420 |
 * | Kopi Nusantara Bandung | +360          | ≈ 390       | 30    | ≈ 1,050   | ≈ 90     | ≈ 30   | ≈ 540  | ≈ 1,700     | ≈ 30,000    | ≈ 120        |
 *
 * (engagements = page_post_engagements = rise of reactions + comments + shares + clicks; new
 * follows = page_daily_follows_unique, growth plus replaced unfollows.)
 *
 * Events:
 *  - Kopi Nusantara loses 7 % of its followers between today − 1 day 10:00 and 12:00 UTC (a
 *    crisis), then keeps growing by ≈ 40/day from the lower level.
 *  - Posts are published at fixed UTC hours (+ up to 45 min of seeded jitter). Between them the
 *    Page's feed also holds stories that the /posts edge filters out (profile updates, and one
 *    bulk album upload per Page: 230 stories at today − 45 days for Kopi Nusantara, 60 at today −
 *    20 days for Bandung, inside a 90-day look-back). Graph pages its feed before filtering, so
 *    these make short and even empty pages that still carry `next` (with limit=100 at least one
 *    empty page on Kopi Nusantara, whatever the seed or clock).
 *  - A post's counters rise as final × (1 − e^(−age/12 h)), floored, and are final from 3 days on,
 *    so they never decrease.
 */
import { audienceOnTheHour, dayItems, intBetween, unit } from './random.ts'
import { DAY_MS, HOUR_MS } from './time.ts'

export const HISTORY_DAYS = 400
const RISE_TAU_MS = 12 * HOUR_MS
/** From this age on a post's counters are final. */
export const SATURATION_MS = 3 * DAY_MS
const MAX_JITTER_MINUTES = 45
const MAX_CACHED_FEEDS = 200

export const REACTION_TYPES = ['like', 'love', 'wow', 'haha', 'sorry', 'anger'] as const
export type ReactionType = (typeof REACTION_TYPES)[number]
export type ReactionCounts = Record<ReactionType, number>

export interface PageProfile {
  id: string
  name: string
  followersYearAgo: number
  followersPerDay: number
  /** UTC hours at which the Page posts each day. */
  postHoursUtc: readonly number[]
  reactionsPerPost: number
  commentsPerPost: number
  sharesPerPost: number
  clicksPerPost: number
  viewsPerPost: number
  /** Clicks on contact info and the call-to-action button, per day. */
  actionsPerDay: number
  /** A sudden loss of followers, `dayOffset` days from today at `hourUtc`. */
  drop?: { dayOffset: number; hourUtc: number; fraction: number; hours: number }
  /** A bulk upload of stories that /posts does not list, `dayOffset` days from today. */
  albumUpload?: { dayOffset: number; stories: number }
  /** The chance, per day, of one extra non-post story (a profile update). */
  hiddenStoryChance: number
}

export const DEMO_PAGES: ReadonlyArray<{ id: string; name: string }> = [
  { id: '104729384756102', name: 'Kopi Nusantara' },
  { id: '104729384756205', name: 'Kopi Nusantara Bandung' },
]

const DEMO_PROFILES: Record<string, Omit<PageProfile, 'id' | 'name'>> = {
  '104729384756102': {
    followersYearAgo: 48_000,
    followersPerDay: 40,
    postHoursUtc: [1, 11],
    reactionsPerPost: 90,
    commentsPerPost: 8,
    sharesPerPost: 3,
    clicksPerPost: 45,
    viewsPerPost: 2_600,
    actionsPerDay: 14,
    drop: { dayOffset: -1, hourUtc: 10, fraction: 0.07, hours: 2 },
    albumUpload: { dayOffset: -45, stories: 230 },
    hiddenStoryChance: 0.06,
  },
  '104729384756205': {
    followersYearAgo: 6_000,
    followersPerDay: 12,
    postHoursUtc: [4],
    reactionsPerPost: 35,
    commentsPerPost: 3,
    sharesPerPost: 1,
    clicksPerPost: 18,
    viewsPerPost: 1_000,
    actionsPerDay: 4,
    albumUpload: { dayOffset: -20, stories: 60 },
    hiddenStoryChance: 0.04,
  },
}

const NAME_HEADS = ['Warung', 'Kedai', 'Toko', 'Studio', 'Rumah', 'Dapur']
const NAME_TAILS = ['Senja', 'Teh', 'Roti', 'Batik', 'Rempah', 'Kopi']

const MESSAGES = [
  'Selamat pagi! Kopi susu gula aren siap menemani harimu.',
  'Biji kopi Gayo baru tiba minggu ini. Sudah coba?',
  'Promo hari ini: beli 2 gratis 1 untuk semua menu manual brew.',
  'Di balik layar: proses roasting di dapur kami.',
  'Kopi Toraja atau Kintamani? Tulis favoritmu di komentar!',
  'Jam buka akhir pekan: 07.00–22.00. Sampai jumpa!',
  'Resep es kopi pandan ala barista kami.',
  'Terima kasih sudah mampir ke gerai baru kami!',
]

export interface PostCounts {
  reactions: ReactionCounts
  reactionsTotal: number
  comments: number
  shares: number
  clicks: number
  views: number
}

export interface Post {
  id: string
  pageId: string
  /** The story number: the part of the id after the underscore. */
  number: number
  createdMs: number
  /** Absent on some posts (a photo without text), as in Graph. */
  message?: string
  permalinkUrl: string
  final: PostCounts
}

/** One item of a Page's feed, oldest first. Only stories with a `post` are listed by /posts. */
export interface Story {
  index: number
  createdMs: number
  post?: Post
}

export interface DayInsights {
  /** Followers at the day's end (page_follows). */
  follows: number
  /** New follows during the day, before unfollows (page_daily_follows_unique). */
  newFollows: number
  /** Rise of reactions + comments + shares + clicks of all posts (page_post_engagements). */
  engagements: number
  actions: number
  mediaViews: number
  mediaViewers: number
  reactions: ReactionCounts
}

export interface Scenario {
  /** UTC midnight of the day the world is anchored to. */
  readonly today: number
  page(pageId: string): PageProfile
  followers(pageId: string, atMs: number): number
  /** People who engaged with the Page's posts in the 7 days before `atMs` (talking_about_count). */
  talkingAbout(pageId: string, atMs: number): number
  /** The Page's feed up to and including `atMs`, oldest first. */
  storiesUpTo(pageId: string, atMs: number): readonly Story[]
  /** The post with this story number, if it is a post published at or before `atMs`. */
  post(pageId: string, number: number, atMs: number): Post | undefined
  postCounts(post: Post, atMs: number): PostCounts
  /** Insights of the interval [dayStart, dayEnd) (one Pacific day). */
  day(pageId: string, dayStart: number, dayEnd: number): DayInsights
}

function zeroReactions(): ReactionCounts {
  return { like: 0, love: 0, wow: 0, haha: 0, sorry: 0, anger: 0 }
}

/** Builds the world. `today` is a UTC midnight; the result only caches what it computes. */
export function createScenario(options: { seed: number; today: number }): Scenario {
  const { seed, today } = options
  const historyStart = today - HISTORY_DAYS * DAY_MS
  const yearAgo = today - 365 * DAY_MS
  const profiles = new Map<string, PageProfile>()
  const timelines = new Map<string, { stories: Story[]; builtDays: number }>()

  function page(pageId: string): PageProfile {
    let profile = profiles.get(pageId)
    if (!profile) {
      const demo = DEMO_PROFILES[pageId]
      const name = DEMO_PAGES.find((p) => p.id === pageId)?.name
      profile = demo && name ? { id: pageId, name, ...demo } : derivedProfile(pageId)
      profiles.set(pageId, profile)
    }
    return profile
  }

  /** A modest Page for any other id, derived from a hash of (seed, id). */
  function derivedProfile(pageId: string): PageProfile {
    const reactions = intBetween(8, 40, seed, pageId, 'reactions')
    const profile: PageProfile = {
      id: pageId,
      name: `${NAME_HEADS[intBetween(0, NAME_HEADS.length - 1, seed, pageId, 'head')]} ${NAME_TAILS[intBetween(0, NAME_TAILS.length - 1, seed, pageId, 'tail')]} ${pageId.slice(-4)}`,
      followersYearAgo: intBetween(10, 100, seed, pageId, 'followers') * 100,
      followersPerDay: intBetween(2, 10, seed, pageId, 'growth'),
      postHoursUtc: [intBetween(0, 14, seed, pageId, 'hour')],
      reactionsPerPost: reactions,
      commentsPerPost: Math.max(1, Math.round(reactions / 10)),
      sharesPerPost: Math.max(1, Math.round(reactions / 30)),
      clicksPerPost: Math.round(reactions / 2),
      viewsPerPost: reactions * 28,
      actionsPerDay: intBetween(1, 5, seed, pageId, 'actions'),
      hiddenStoryChance: 0.05,
    }
    if (unit(seed, pageId, 'album') < 0.5) {
      profile.albumUpload = { dayOffset: -intBetween(30, 350, seed, pageId, 'album-day'), stories: intBetween(30, 150, seed, pageId, 'album-size') }
    }
    return profile
  }

  // --- followers -----------------------------------------------------------------------------

  /** Followers without the drop, on the hour: growth g/day plus a wobble of amplitude g/4. */
  function baseFollowers(profile: PageProfile, atMs: number): number {
    return audienceOnTheHour(seed, profile.id, atMs, { startMs: yearAgo, start: profile.followersYearAgo, perDay: profile.followersPerDay })
  }

  function dropStart(profile: PageProfile): number | undefined {
    return profile.drop ? today + profile.drop.dayOffset * DAY_MS + profile.drop.hourUtc * HOUR_MS : undefined
  }

  function followers(pageId: string, atMs: number): number {
    const profile = page(pageId)
    const base = baseFollowers(profile, atMs)
    const start = dropStart(profile)
    if (!profile.drop || start === undefined || atMs < start) return base
    const lost = Math.round(profile.drop.fraction * baseFollowers(profile, start))
    const hour = Math.floor(atMs / HOUR_MS) * HOUR_MS
    const progress = Math.min(1, (hour - start) / (profile.drop.hours * HOUR_MS))
    return Math.max(0, base - Math.round(lost * progress))
  }

  // --- the feed ------------------------------------------------------------------------------

  function makePost(profile: PageProfile, index: number, createdMs: number): Post {
    const number = index + 1
    const id = `${profile.id}_${number}`
    const draw = (label: string) => unit(seed, profile.id, 'post', number, label)
    const spread = (mean: number, width: number, label: string) => Math.round(mean * (1 - width + 2 * width * draw(label)))
    const reactionsTotal = spread(profile.reactionsPerPost, 0.25, 'reactions')
    const reactions = zeroReactions()
    const shares: Array<[ReactionType, number]> = [
      ['love', 0.14 + 0.06 * draw('love')],
      ['haha', 0.04 + 0.04 * draw('haha')],
      ['wow', 0.03 + 0.03 * draw('wow')],
      ['sorry', 0.01 + 0.02 * draw('sorry')],
      ['anger', 0.005 + 0.015 * draw('anger')],
    ]
    let others = 0
    for (const [type, share] of shares) {
      reactions[type] = Math.floor(reactionsTotal * share)
      others += reactions[type]
    }
    reactions.like = reactionsTotal - others
    const post: Post = {
      id,
      pageId: profile.id,
      number,
      createdMs,
      permalinkUrl: `https://www.facebook.com/${profile.id}/posts/${number}`,
      final: {
        reactions,
        reactionsTotal,
        comments: spread(profile.commentsPerPost, 0.4, 'comments'),
        shares: spread(profile.sharesPerPost, 0.8, 'shares'),
        clicks: spread(profile.clicksPerPost, 0.4, 'clicks'),
        views: spread(profile.viewsPerPost, 0.4, 'views'),
      },
    }
    if (draw('no-message') >= 0.06) post.message = MESSAGES[Math.floor(draw('message') * MESSAGES.length)]
    return post
  }

  /** The stories of one UTC day (day 0 = history start), oldest first, without indexes. */
  function dayStories(profile: PageProfile, day: number): Array<{ createdMs: number; isPost: boolean }> {
    const album = profile.albumUpload
    return dayItems(seed, profile.id, day, historyStart + day * DAY_MS, {
      hoursUtc: profile.postHoursUtc,
      jitter: { minutes: MAX_JITTER_MINUTES, label: 'jitter', offsetMs: 0 },
      extra: { chance: profile.hiddenStoryChance, label: 'story', offsetMs: 30_000 },
      burst: album && day === HISTORY_DAYS + album.dayOffset ? { count: album.stories, hour: 3, stepMs: 5_000, offsetMs: 1_000 } : undefined,
    }).map((item) => ({ createdMs: item.ms, isPost: item.scheduled }))
  }

  /** The feed built at least through the UTC day containing `atMs`. */
  function timeline(pageId: string, atMs: number): Story[] {
    const profile = page(pageId)
    let line = timelines.get(pageId)
    if (!line) {
      // Feeds are recomputable: drop them all rather than grow without bound on many page ids.
      if (timelines.size >= MAX_CACHED_FEEDS) timelines.clear()
      line = { stories: [], builtDays: 0 }
      timelines.set(pageId, line)
    }
    const lastDay = Math.floor((atMs - historyStart) / DAY_MS)
    while (line.builtDays <= lastDay) {
      for (const story of dayStories(profile, line.builtDays)) {
        const index = line.stories.length
        line.stories.push({ index, createdMs: story.createdMs, post: story.isPost ? makePost(profile, index, story.createdMs) : undefined })
      }
      line.builtDays++
    }
    return line.stories
  }

  /** Index of the first story created after `atMs` (binary search). */
  function countUpTo(stories: readonly Story[], atMs: number): number {
    let lo = 0
    let hi = stories.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (stories[mid]!.createdMs <= atMs) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  function storiesUpTo(pageId: string, atMs: number): readonly Story[] {
    const stories = timeline(pageId, atMs)
    return stories.slice(0, countUpTo(stories, atMs))
  }

  function post(pageId: string, number: number, atMs: number): Post | undefined {
    if (!Number.isSafeInteger(number) || number < 1) return undefined
    const story = timeline(pageId, atMs)[number - 1]
    return story && story.createdMs <= atMs ? story.post : undefined
  }

  /** Posts that can still change during [fromMs, toMs): created after fromMs − saturation, before toMs. */
  function changingPosts(pageId: string, fromMs: number, toMs: number): Post[] {
    const stories = timeline(pageId, toMs)
    const out: Post[] = []
    for (let i = countUpTo(stories, fromMs - SATURATION_MS); i < stories.length; i++) {
      const story = stories[i]!
      if (story.createdMs >= toMs) break
      if (story.post) out.push(story.post)
    }
    return out
  }

  // --- counters ------------------------------------------------------------------------------

  function postCounts(p: Post, atMs: number): PostCounts {
    const age = atMs - p.createdMs
    const share = age <= 0 ? 0 : age >= SATURATION_MS ? 1 : 1 - Math.exp(-age / RISE_TAU_MS)
    const grow = (final: number) => (share === 1 ? final : Math.floor(final * share))
    const reactions = zeroReactions()
    let reactionsTotal = 0
    for (const type of REACTION_TYPES) {
      reactions[type] = grow(p.final.reactions[type])
      reactionsTotal += reactions[type]
    }
    return {
      reactions,
      reactionsTotal,
      comments: grow(p.final.comments),
      shares: grow(p.final.shares),
      clicks: grow(p.final.clicks),
      views: grow(p.final.views),
    }
  }

  function talkingAbout(pageId: string, atMs: number): number {
    const hour = Math.floor(atMs / HOUR_MS) * HOUR_MS
    const weekAgo = hour - 7 * DAY_MS
    let people = 0
    for (const p of changingPosts(pageId, weekAgo, hour + 1)) {
      const now = postCounts(p, hour)
      const then = postCounts(p, weekAgo)
      people += now.reactionsTotal + now.comments + now.shares - (then.reactionsTotal + then.comments + then.shares)
    }
    return Math.floor(people * 0.7)
  }

  function day(pageId: string, dayStart: number, dayEnd: number): DayInsights {
    const profile = page(pageId)
    const reactions = zeroReactions()
    let engagements = 0
    let mediaViews = 0
    for (const p of changingPosts(pageId, dayStart, dayEnd)) {
      const end = postCounts(p, dayEnd)
      const start = postCounts(p, dayStart)
      for (const type of REACTION_TYPES) reactions[type] += end.reactions[type] - start.reactions[type]
      engagements += end.reactionsTotal - start.reactionsTotal + (end.comments - start.comments) + (end.shares - start.shares) + (end.clicks - start.clicks)
      mediaViews += end.views - start.views
    }
    const churn = Math.round(profile.followersPerDay * 0.15 * unit(seed, pageId, 'churn', dayStart))
    return {
      follows: followers(pageId, dayEnd),
      newFollows: baseFollowers(profile, dayEnd) - baseFollowers(profile, dayStart) + churn,
      engagements,
      actions: Math.round(profile.actionsPerDay * (0.6 + 0.8 * unit(seed, pageId, 'actions', dayStart))),
      mediaViews,
      mediaViewers: Math.floor(mediaViews * (0.55 + 0.17 * unit(seed, pageId, 'viewers', dayStart))),
      reactions,
    }
  }

  return { today, page, followers, talkingAbout, storiesUpTo, post, postCounts, day }
}
