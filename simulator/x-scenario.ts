/**
 * The simulated world behind the X API simulator: pure functions of (seed, user id, time).
 * Nothing here knows HTTP; simulator/x-api.ts turns it into X API v2 answers.
 *
 * History starts at today − 400 days (`today` = UTC midnight of the simulator's start day).
 * Volumes (means; each post varies by the seed: likes ±30 %, the rest ±40 %):
 *
 * | user                                   | followers a year ago | growth/day | posts/day | likes/post | replies | reposts | impressions | link clicks (posts with a link) |
 * |----------------------------------------|---------------------:|-----------:|----------:|-----------:|--------:|--------:|------------:|--------------------------------:|
 * | 1600000000000000001 Kopi Nusantara     |               12,000 |        +15 |         3 |         40 |       4 |       6 |       2,400 | 30 (60 % of posts)              |
 * | any other numeric id                   |        500–20,000    |      +1–20 |       1–3 |      5–60  | likes/10 | likes/6 | likes×60  | likes/2 (50 % of posts)         |
 *
 * Posting hours (UTC, + up to 40 minutes): the demo account posts at 02:00, 06:00 and 12:00.
 * Accounts also repost others' posts (one on 35 % of days, at a random minute), and the demo
 * account reposted 230 posts in a row at today − 10 days, 15:00 UTC: with `exclude=retweets`
 * the timeline is paged before the reposts are filtered out, so that burst makes short and empty
 * pages that still carry `next_token`.
 *
 * Counters rise as final × (1 − e^(−age/6 h)), floored, and are final from 2 days on, so they
 * never decrease.
 */
import { audienceOnTheHour, dayItems, intBetween, unit } from './random.ts'
import { DAY_MS, HOUR_MS } from './time.ts'

const X_HISTORY_DAYS = 400
const RISE_TAU_MS = 6 * HOUR_MS
const SATURATION_MS = 2 * DAY_MS
const MAX_JITTER_MINUTES = 40
const MAX_CACHED_TIMELINES = 200
/** X's epoch for snowflake ids (2010-11-04T01:42:54.657Z). */
const TWITTER_EPOCH = 1288834974657n

export const DEMO_X_USERS: ReadonlyArray<{ id: string; username: string; name: string }> = [{ id: '1600000000000000001', username: 'kopinusantara', name: 'Kopi Nusantara' }]

export interface XProfile {
  id: string
  username: string
  name: string
  createdMs: number
  followersYearAgo: number
  followersPerDay: number
  following: number
  listed: number
  /** Posts made before the simulated history begins, for `tweet_count`. */
  earlierPosts: number
  postHoursUtc: readonly number[]
  likesPerPost: number
  repliesPerPost: number
  repostsPerPost: number
  quotesPerPost: number
  impressionsPerPost: number
  linkClicksPerPost: number
  profileClicksPerPost: number
  /** Share of posts that carry a link (others have no link clicks). */
  linkShare: number
  /** Chance per day of reposting someone else's post. */
  repostChance: number
  repostBurst?: { dayOffset: number; count: number }
}

export interface TweetCounts {
  likes: number
  replies: number
  reposts: number
  quotes: number
  impressions: number
  linkClicks: number
  profileClicks: number
}

export interface Tweet {
  id: string
  userId: string
  /** Position in the user's timeline, oldest first. */
  index: number
  createdMs: number
  text: string
  /** A repost of someone else's post: it is the user's timeline entry, not the user's content. */
  repostOf?: { id: string; authorId: string; reposts: number }
  final: TweetCounts
}

export interface XScenario {
  readonly today: number
  user(userId: string): XProfile
  followers(userId: string, atMs: number): number
  /** The user's timeline up to and including `atMs`, oldest first. */
  timelineUpTo(userId: string, atMs: number): readonly Tweet[]
  /** A tweet by id, if a timeline holding it has been built and it exists at `atMs`. */
  tweet(id: string, atMs: number): Tweet | undefined
  counts(tweet: Tweet, atMs: number): TweetCounts
}

const DEMO_PROFILES: Record<string, Omit<XProfile, 'id' | 'username' | 'name' | 'createdMs'> & { createdDaysAgo: number }> = {
  '1600000000000000001': {
    createdDaysAgo: 1_400,
    followersYearAgo: 12_000,
    followersPerDay: 15,
    following: 412,
    listed: 37,
    earlierPosts: 2_140,
    postHoursUtc: [2, 6, 12],
    likesPerPost: 40,
    repliesPerPost: 4,
    repostsPerPost: 6,
    quotesPerPost: 1,
    impressionsPerPost: 2_400,
    linkClicksPerPost: 30,
    profileClicksPerPost: 8,
    linkShare: 0.6,
    repostChance: 0.35,
    repostBurst: { dayOffset: -10, count: 230 },
  },
}

const TEXTS = [
  'Kopi susu gula aren pagi ini, siapa yang sudah ngopi?',
  'Biji Gayo panen baru sudah tiba di semua gerai.',
  'Kelas manual brew Sabtu ini, kursi terbatas.',
  'Toraja atau Kintamani? Balas dengan favoritmu.',
  'Resep es kopi pandan ala barista kami.',
  'Terima kasih sudah mampir ke gerai baru di Bandung!',
]
const HANDLES = ['baristaharian', 'kopilokal', 'ngopiyuk', 'roastery_id', 'senjadankopi']

export function createXScenario(options: { seed: number; today: number }): XScenario {
  const { seed, today } = options
  const historyStart = today - X_HISTORY_DAYS * DAY_MS
  const yearAgo = today - 365 * DAY_MS
  const profiles = new Map<string, XProfile>()
  const timelines = new Map<string, { tweets: Tweet[]; builtDays: number }>()
  const byId = new Map<string, Tweet>()

  function user(userId: string): XProfile {
    let profile = profiles.get(userId)
    if (profile) return profile
    const demo = DEMO_PROFILES[userId]
    const named = DEMO_X_USERS.find((u) => u.id === userId)
    if (demo && named) {
      const { createdDaysAgo, ...rest } = demo
      profile = { id: userId, username: named.username, name: named.name, createdMs: today - createdDaysAgo * DAY_MS + 9 * HOUR_MS, ...rest }
    } else {
      profile = derivedProfile(userId)
    }
    profiles.set(userId, profile)
    return profile
  }

  /** A modest account for any other id, from a hash of (seed, id). */
  function derivedProfile(userId: string): XProfile {
    const likes = intBetween(5, 60, seed, userId, 'likes')
    const hours = [intBetween(0, 7, seed, userId, 'h0'), intBetween(8, 15, seed, userId, 'h1'), intBetween(16, 23, seed, userId, 'h2')]
    const handle = HANDLES[intBetween(0, HANDLES.length - 1, seed, userId, 'handle')]!
    return {
      id: userId,
      username: `${handle}${userId.slice(-4)}`,
      name: `${handle} ${userId.slice(-4)}`,
      createdMs: today - intBetween(500, 4_000, seed, userId, 'created') * DAY_MS,
      followersYearAgo: intBetween(5, 200, seed, userId, 'followers') * 100,
      followersPerDay: intBetween(1, 20, seed, userId, 'growth'),
      following: intBetween(50, 2_000, seed, userId, 'following'),
      listed: intBetween(0, 60, seed, userId, 'listed'),
      earlierPosts: intBetween(100, 5_000, seed, userId, 'earlier'),
      postHoursUtc: hours.slice(0, intBetween(1, 3, seed, userId, 'posts')),
      likesPerPost: likes,
      repliesPerPost: Math.max(1, Math.round(likes / 10)),
      repostsPerPost: Math.max(1, Math.round(likes / 6)),
      quotesPerPost: Math.round(likes / 30),
      impressionsPerPost: likes * 60,
      linkClicksPerPost: Math.round(likes / 2),
      profileClicksPerPost: Math.max(1, Math.round(likes / 5)),
      linkShare: 0.5,
      repostChance: 0.35,
    }
  }

  // --- followers -----------------------------------------------------------------------------

  /** Growth g/day plus a wobble of amplitude g/4, on the hour: a day's growth stays within [g/2, 3g/2]. */
  function followers(userId: string, atMs: number): number {
    const profile = user(userId)
    return audienceOnTheHour(seed, userId, atMs, { startMs: yearAgo, start: profile.followersYearAgo, perDay: profile.followersPerDay })
  }

  // --- the timeline --------------------------------------------------------------------------

  function snowflake(userId: string, createdMs: number, index: number): string {
    const low = BigInt(intBetween(0, 2 ** 22 - 1, seed, userId, 'snowflake', index))
    return (((BigInt(createdMs) - TWITTER_EPOCH) << 22n) | low).toString()
  }

  function makeTweet(profile: XProfile, index: number, createdMs: number, repost: boolean): Tweet {
    const draw = (label: string) => unit(seed, profile.id, 'tweet', index, label)
    const spread = (mean: number, width: number, label: string) => Math.max(0, Math.round(mean * (1 - width + 2 * width * draw(label))))
    const id = snowflake(profile.id, createdMs, index)
    if (repost) {
      const author = HANDLES[Math.floor(draw('author') * HANDLES.length)]!
      const originalMs = createdMs - Math.floor(draw('age') * 3 * DAY_MS) - 60_000
      const original = snowflake(`${profile.id}/original`, originalMs, index)
      const zero: TweetCounts = { likes: 0, replies: 0, reposts: 0, quotes: 0, impressions: 0, linkClicks: 0, profileClicks: 0 }
      return {
        id,
        userId: profile.id,
        index,
        createdMs,
        text: `RT @${author}: ${TEXTS[Math.floor(draw('text') * TEXTS.length)]}`,
        repostOf: { id: original, authorId: String(1_500_000_000_000_000_000n + BigInt(Math.floor(draw('author-id') * 1e9))), reposts: spread(25, 0.8, 'original-reposts') + 1 },
        final: zero,
      }
    }
    const hasLink = draw('link') < profile.linkShare
    const text = TEXTS[Math.floor(draw('text') * TEXTS.length)]!
    return {
      id,
      userId: profile.id,
      index,
      createdMs,
      text: hasLink ? `${text} https://t.co/${id.slice(-10)}` : text,
      final: {
        likes: spread(profile.likesPerPost, 0.3, 'likes'),
        replies: spread(profile.repliesPerPost, 0.4, 'replies'),
        reposts: spread(profile.repostsPerPost, 0.4, 'reposts'),
        quotes: spread(profile.quotesPerPost, 0.4, 'quotes'),
        impressions: spread(profile.impressionsPerPost, 0.4, 'impressions'),
        linkClicks: hasLink ? spread(profile.linkClicksPerPost, 0.4, 'clicks') : 0,
        profileClicks: spread(profile.profileClicksPerPost, 0.4, 'profile'),
      },
    }
  }

  function dayEntries(profile: XProfile, day: number): Array<{ createdMs: number; repost: boolean }> {
    const burst = profile.repostBurst
    return dayItems(seed, profile.id, day, historyStart + day * DAY_MS, {
      hoursUtc: profile.postHoursUtc,
      jitter: { minutes: MAX_JITTER_MINUTES, label: 'jitter', offsetMs: 7_000 },
      extra: { chance: profile.repostChance, label: 'repost', offsetMs: 31_000 },
      burst: burst && day === X_HISTORY_DAYS + burst.dayOffset ? { count: burst.count, hour: 15, stepMs: 5_000, offsetMs: 2_000 } : undefined,
    }).map((item) => ({ createdMs: item.ms, repost: !item.scheduled }))
  }

  function timeline(userId: string, atMs: number): Tweet[] {
    const profile = user(userId)
    let line = timelines.get(userId)
    if (!line) {
      if (timelines.size >= MAX_CACHED_TIMELINES) {
        timelines.clear()
        byId.clear()
      }
      line = { tweets: [], builtDays: 0 }
      timelines.set(userId, line)
    }
    const lastDay = Math.min(Math.floor((atMs - historyStart) / DAY_MS), X_HISTORY_DAYS + 3_650)
    while (line.builtDays <= lastDay) {
      for (const entry of dayEntries(profile, line.builtDays)) {
        const tweet = makeTweet(profile, line.tweets.length, entry.createdMs, entry.repost)
        line.tweets.push(tweet)
        byId.set(tweet.id, tweet)
      }
      line.builtDays++
    }
    return line.tweets
  }

  function countUpTo(tweets: readonly Tweet[], atMs: number): number {
    let lo = 0
    let hi = tweets.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (tweets[mid]!.createdMs <= atMs) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  function timelineUpTo(userId: string, atMs: number): readonly Tweet[] {
    const tweets = timeline(userId, atMs)
    return tweets.slice(0, countUpTo(tweets, atMs))
  }

  function tweet(id: string, atMs: number): Tweet | undefined {
    const found = byId.get(id)
    return found && found.createdMs <= atMs ? found : undefined
  }

  function counts(t: Tweet, atMs: number): TweetCounts {
    const age = atMs - t.createdMs
    const share = age <= 0 ? 0 : age >= SATURATION_MS ? 1 : 1 - Math.exp(-age / RISE_TAU_MS)
    const grow = (final: number) => (share === 1 ? final : Math.floor(final * share))
    return {
      likes: grow(t.final.likes),
      replies: grow(t.final.replies),
      reposts: grow(t.final.reposts),
      quotes: grow(t.final.quotes),
      impressions: grow(t.final.impressions),
      linkClicks: grow(t.final.linkClicks),
      profileClicks: grow(t.final.profileClicks),
    }
  }

  return { today, user, followers, timelineUpTo, tweet, counts }
}
