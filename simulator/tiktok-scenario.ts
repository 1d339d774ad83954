/**
 * The simulated TikTok world behind both TikTok simulators: pure functions of (seed, account id,
 * time), anchored to `today` (the UTC midnight of the simulator clock's day at start); history
 * starts at today − 400 days. Nothing here knows HTTP.
 *
 * Demo accounts (means; each video varies by the seed: likes ±25 %, views and comments ±40 %,
 * shares ±60 %):
 *
 * | id                    | API      | name                   | followers a year ago | growth/day | videos/day | views/video | likes/video | comments/video | shares/video | profile views/day | bio link clicks/day |
 * |-----------------------|----------|------------------------|---------------------:|-----------:|-----------:|------------:|------------:|---------------:|-------------:|------------------:|--------------------:|
 * | tt-kopinusantara-0001 | Display  | Kopi Nusantara         |               20,000 |        +30 |          1 |       4,000 |         320 |             14 |            9 |               150 |                  40 |
 * | 7000000000000000001   | Business | Kopi Nusantara Bandung |                6,000 |        +15 |          1 |       1,800 |         130 |              7 |            4 |                70 |                  22 |
 * | any other id          | either   | derived from the id    |         2,000–20,000 |     +3–20 |          1 |  likes × 14 |      40–200 |     likes / 20 |   likes / 30 |  likes / 2 |   likes / 6 |
 *
 * Per 30 days that is: Kopi Nusantara ≈ +900 followers, 30 videos, ≈ 120,000 views, ≈ 9,600
 * likes, ≈ 420 comments, ≈ 270 shares (≈ 31,000 followers and ≈ 400 videos today); Kopi Nusantara
 * Bandung ≈ +450 followers, 30 videos, ≈ 54,000 views, ≈ 3,900 likes, ≈ 210 comments, ≈ 120
 * shares, ≈ 2,100 profile views, ≈ 660 bio link clicks (≈ 11,500 followers and ≈ 410 videos today). Profile
 * views and bio link clicks exist only in the Business API.
 *
 * Events and quirks:
 *  - Videos are published at fixed UTC hours (Kopi Nusantara 11:00, Bandung 05:00, + up to 45 min
 *    of seeded jitter). Private videos sit between them (a few at random, and one batch per demo
 *    account: 45 at today − 40 days for Kopi Nusantara, 40 at today − 15 days for Bandung). The
 *    video lists page over all videos and then drop private ones, so a page can be short or empty
 *    while `has_more` is still true (with max_count 20, at least one empty page, whatever the seed).
 *  - A video's counters rise as final × (1 − e^(−age/12 h)), floored, and are final from 3 days
 *    on, so they never decrease. The account's like total is the sum over its public videos plus
 *    the likes of videos older than the simulated history.
 *  - Business daily values (UTC days) appear once the day is over, at 85 % of their final value,
 *    and reach it 48 hours later (late data); days older than 60 days are no longer served.
 */
import { audienceOnTheHour, dayItems, intBetween, unit } from './random.ts'
import { DAY_MS, HOUR_MS } from './time.ts'

const TIKTOK_HISTORY_DAYS = 400
/** Business daily metrics reach back this many days (UNCONFIRMED retention). */
const BUSINESS_RETENTION_DAYS = 60
const RISE_TAU_MS = 12 * HOUR_MS
const SATURATION_MS = 3 * DAY_MS
const MAX_JITTER_MINUTES = 45
const LATE_DATA_MS = 48 * HOUR_MS
const FIRST_REPORT_SHARE = 0.85
const MAX_CACHED_TIMELINES = 200

export const TIKTOK_DEMO_ACCOUNTS = {
  /** A personal (creator) account read through the Display API: its open_id. */
  display: { id: 'tt-kopinusantara-0001', name: 'Kopi Nusantara', username: 'kopinusantara' },
  /** A business account read through the TikTok API for Business: its business_id. */
  business: { id: '7000000000000000001', name: 'Kopi Nusantara Bandung', username: 'kopinusantara.bdg' },
} as const

export interface TikTokProfile {
  id: string
  name: string
  username: string
  followersYearAgo: number
  followersPerDay: number
  /** Likes and public videos from before the simulated history. */
  likesBeforeHistory: number
  videosBeforeHistory: number
  postHoursUtc: readonly number[]
  viewsPerVideo: number
  likesPerVideo: number
  commentsPerVideo: number
  sharesPerVideo: number
  profileViewsPerDay: number
  bioLinkClicksPerDay: number
  /** The chance, per day, of one extra private video. */
  privateChance: number
  /** A batch of private videos `dayOffset` days from today. */
  privateBatch?: { dayOffset: number; videos: number }
}

const DEMO_PROFILES: Record<string, TikTokProfile> = {
  [TIKTOK_DEMO_ACCOUNTS.display.id]: {
    ...TIKTOK_DEMO_ACCOUNTS.display,
    followersYearAgo: 20_000,
    followersPerDay: 30,
    likesBeforeHistory: 41_000,
    videosBeforeHistory: 0,
    postHoursUtc: [11],
    viewsPerVideo: 4_000,
    likesPerVideo: 320,
    commentsPerVideo: 14,
    sharesPerVideo: 9,
    profileViewsPerDay: 150,
    bioLinkClicksPerDay: 40,
    privateChance: 0.05,
    privateBatch: { dayOffset: -40, videos: 45 },
  },
  [TIKTOK_DEMO_ACCOUNTS.business.id]: {
    ...TIKTOK_DEMO_ACCOUNTS.business,
    followersYearAgo: 6_000,
    followersPerDay: 15,
    likesBeforeHistory: 9_500,
    videosBeforeHistory: 12,
    postHoursUtc: [5],
    viewsPerVideo: 1_800,
    likesPerVideo: 130,
    commentsPerVideo: 7,
    sharesPerVideo: 4,
    profileViewsPerDay: 70,
    bioLinkClicksPerDay: 22,
    privateChance: 0.04,
    privateBatch: { dayOffset: -15, videos: 40 },
  },
}

export interface VideoCounts {
  views: number
  likes: number
  comments: number
  shares: number
}

export interface TikTokVideo {
  /** A 19-digit numeric id, as TikTok's. */
  id: string
  accountId: string
  createMs: number
  /** Private videos are paged over but never listed. */
  isPublic: boolean
  final: VideoCounts
}

export interface BusinessDay {
  profileViews: number
  bioLinkClicks: number
  /** Followers at the day's end. */
  totalFollowers: number
}

export interface TikTokScenario {
  readonly today: number
  profile(accountId: string): TikTokProfile
  followers(accountId: string, atMs: number): number
  /** The account's like total (Display `likes_count`, Business `total_likes`). */
  totalLikes(accountId: string, atMs: number): number
  /** Public videos published up to `atMs`. */
  videoCount(accountId: string, atMs: number): number
  /** Every video (private ones too) published at or before `atMs`, oldest first. */
  videosUpTo(accountId: string, atMs: number): readonly TikTokVideo[]
  counts(video: TikTokVideo, atMs: number): VideoCounts
  /** The Business daily values of the UTC day starting at `dayStart` as reported at `nowMs`; undefined = no data. */
  businessDay(accountId: string, dayStart: number, nowMs: number): BusinessDay | undefined
}

const NAME_HEADS = ['Warung', 'Kedai', 'Toko', 'Studio', 'Rumah', 'Dapur']
const NAME_TAILS = ['Senja', 'Teh', 'Roti', 'Batik', 'Rempah', 'Kopi']

export function createTikTokScenario(options: { seed: number; today: number }): TikTokScenario {
  const { seed, today } = options
  const historyStart = today - TIKTOK_HISTORY_DAYS * DAY_MS
  const yearAgo = today - 365 * DAY_MS
  const profiles = new Map<string, TikTokProfile>()
  const timelines = new Map<string, { videos: TikTokVideo[]; builtDays: number }>()

  function profile(accountId: string): TikTokProfile {
    let found = profiles.get(accountId)
    if (!found) {
      found = DEMO_PROFILES[accountId] ?? derivedProfile(accountId)
      profiles.set(accountId, found)
    }
    return found
  }

  /** A modest account for any other id, derived from a hash of (seed, id). */
  function derivedProfile(accountId: string): TikTokProfile {
    const likes = intBetween(40, 200, seed, accountId, 'likes')
    const head = NAME_HEADS[intBetween(0, NAME_HEADS.length - 1, seed, accountId, 'head')]
    const tail = NAME_TAILS[intBetween(0, NAME_TAILS.length - 1, seed, accountId, 'tail')]
    const profile: TikTokProfile = {
      id: accountId,
      name: `${head} ${tail} ${accountId.slice(-4)}`,
      username: `${head}${tail}${accountId.slice(-4)}`.toLowerCase(),
      followersYearAgo: intBetween(20, 200, seed, accountId, 'followers') * 100,
      followersPerDay: intBetween(3, 20, seed, accountId, 'growth'),
      likesBeforeHistory: intBetween(0, 50, seed, accountId, 'old-likes') * 1_000,
      videosBeforeHistory: intBetween(0, 80, seed, accountId, 'old-videos'),
      postHoursUtc: [intBetween(0, 20, seed, accountId, 'hour')],
      viewsPerVideo: likes * 14,
      likesPerVideo: likes,
      commentsPerVideo: Math.max(1, Math.round(likes / 20)),
      sharesPerVideo: Math.max(1, Math.round(likes / 30)),
      profileViewsPerDay: Math.round(likes / 2),
      bioLinkClicksPerDay: Math.max(1, Math.round(likes / 6)),
      privateChance: 0.05,
    }
    if (unit(seed, accountId, 'batch') < 0.5) {
      profile.privateBatch = { dayOffset: -intBetween(10, 300, seed, accountId, 'batch-day'), videos: intBetween(20, 60, seed, accountId, 'batch-size') }
    }
    return profile
  }

  // --- followers -----------------------------------------------------------------------------

  /** Growth g/day plus a wobble of amplitude g/4, on the hour: steady, never decreasing. */
  function followers(accountId: string, atMs: number): number {
    const p = profile(accountId)
    return audienceOnTheHour(seed, accountId, atMs, { startMs: yearAgo, start: p.followersYearAgo, perDay: p.followersPerDay, label: 'tt-wobble' })
  }

  // --- videos --------------------------------------------------------------------------------

  function videoId(accountId: string, number: number): string {
    const tag = 100 + Math.floor(unit(0, accountId, 'tt-tag') * 900)
    return `7${tag}${String(number).padStart(15, '0')}`
  }

  function finalCounts(p: TikTokProfile, createMs: number): VideoCounts {
    const draw = (label: string) => unit(seed, p.id, 'video', createMs, label)
    const spread = (mean: number, width: number, label: string) => Math.max(0, Math.round(mean * (1 - width + 2 * width * draw(label))))
    return {
      views: spread(p.viewsPerVideo, 0.4, 'views'),
      likes: spread(p.likesPerVideo, 0.25, 'likes'),
      comments: spread(p.commentsPerVideo, 0.4, 'comments'),
      shares: spread(p.sharesPerVideo, 0.6, 'shares'),
    }
  }

  /** The items of one UTC day (day 0 = history start), oldest first. */
  function dayVideos(p: TikTokProfile, day: number): Array<{ createMs: number; isPublic: boolean }> {
    const batch = p.privateBatch
    const out = dayItems(seed, p.id, day, historyStart + day * DAY_MS, {
      hoursUtc: p.postHoursUtc,
      jitter: { minutes: MAX_JITTER_MINUTES, label: 'tt-jitter', offsetMs: 0 },
      extra: { chance: p.privateChance, label: 'tt-private', offsetMs: 17_000 },
      burst: batch && day === TIKTOK_HISTORY_DAYS + batch.dayOffset ? { count: batch.videos, hour: 2, stepMs: 7_000, offsetMs: 3_000 } : undefined,
    }).map((item) => ({ createMs: item.ms, isPublic: item.scheduled }))
    // The millisecond cursor needs distinct times: nudge a rare collision by a second.
    for (let i = 1; i < out.length; i++) if (out[i]!.createMs <= out[i - 1]!.createMs) out[i]!.createMs = out[i - 1]!.createMs + 1_000
    return out
  }

  function videosUpTo(accountId: string, atMs: number): readonly TikTokVideo[] {
    const p = profile(accountId)
    let line = timelines.get(accountId)
    if (!line) {
      if (timelines.size >= MAX_CACHED_TIMELINES) timelines.clear()
      line = { videos: [], builtDays: 0 }
      timelines.set(accountId, line)
    }
    const needDays = Math.floor((atMs - historyStart) / DAY_MS) + 1
    for (; line.builtDays < needDays; line.builtDays++) {
      for (const item of dayVideos(p, line.builtDays)) {
        const number = line.videos.length + 1
        line.videos.push({
          id: videoId(accountId, number),
          accountId,
          createMs: item.createMs,
          isPublic: item.isPublic,
          final: item.isPublic ? finalCounts(p, item.createMs) : { views: 0, likes: 0, comments: 0, shares: 0 },
        })
      }
    }
    let end = line.videos.length
    while (end > 0 && line.videos[end - 1]!.createMs > atMs) end--
    return line.videos.slice(0, end)
  }

  function counts(video: TikTokVideo, atMs: number): VideoCounts {
    const age = atMs - video.createMs
    if (age < 0) return { views: 0, likes: 0, comments: 0, shares: 0 }
    const share = age >= SATURATION_MS ? 1 : 1 - Math.exp(-age / RISE_TAU_MS)
    const rise = (n: number) => (share === 1 ? n : Math.floor(n * share))
    return { views: rise(video.final.views), likes: rise(video.final.likes), comments: rise(video.final.comments), shares: rise(video.final.shares) }
  }

  function totalLikes(accountId: string, atMs: number): number {
    let total = profile(accountId).likesBeforeHistory
    for (const video of videosUpTo(accountId, atMs)) if (video.isPublic) total += counts(video, atMs).likes
    return total
  }

  function videoCount(accountId: string, atMs: number): number {
    return profile(accountId).videosBeforeHistory + videosUpTo(accountId, atMs).filter((v) => v.isPublic).length
  }

  // --- Business daily values -------------------------------------------------------------------

  function businessDay(accountId: string, dayStart: number, nowMs: number): BusinessDay | undefined {
    const dayEnd = dayStart + DAY_MS
    const oldest = Math.floor(nowMs / DAY_MS) * DAY_MS - BUSINESS_RETENTION_DAYS * DAY_MS
    if (dayEnd > nowMs || dayStart < oldest || dayStart < historyStart) return undefined
    const p = profile(accountId)
    const late = nowMs - dayEnd
    const share = late >= LATE_DATA_MS ? 1 : FIRST_REPORT_SHARE + ((1 - FIRST_REPORT_SHARE) * late) / LATE_DATA_MS
    const day = (mean: number, label: string) => {
      const final = Math.round(mean * (0.7 + 0.6 * unit(seed, accountId, 'tt-day', dayStart, label)))
      return share === 1 ? final : Math.floor(final * share)
    }
    return { profileViews: day(p.profileViewsPerDay, 'profile-views'), bioLinkClicks: day(p.bioLinkClicksPerDay, 'bio-link-clicks'), totalFollowers: followers(accountId, dayEnd) }
  }

  return { today, profile, followers, totalLikes, videoCount, videosUpTo, counts, businessDay }
}
