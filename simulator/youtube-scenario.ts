/**
 * The simulated YouTube world: pure functions of (seed, channel id, time), anchored to `today`
 * (the UTC midnight of the simulator clock's day at start). simulator/youtube-api.ts turns it into
 * Data API and Analytics API answers.
 *
 * | channel                                      | subscribers a year ago | growth/day | uploads                                   | notes |
 * |----------------------------------------------|-----------------------:|-----------:|-------------------------------------------|-------|
 * | UCkopinusantara000000001 Kopi Nusantara      | 9,000                  | +15        | a Short daily 12:00 UTC, a video every 3rd day 03:00 UTC | steady growth |
 * | UCkopinusantarabdg000002 Kopi Nusantara Bandung | 2,000               | +4         | a video every 7th day 04:00 UTC           | subscriber count hidden |
 * | UCkopinusantarajkt000003 Kopi Nusantara Jakarta | 0 (created yesterday 03:00 UTC) | +6 | none                                | no analytics rows yet |
 * | any other UC… id (24 characters)             | 500–50,000             | +1–30      | a video every 2–7 days                    | 10 % hide subscribers |
 *
 * Per video (means; each varies by the seed): Shorts 1,800 views (±50 %), likes 5.5 % of views,
 * comments 0.4 %, shares 0.8 %; videos 4,500 views (±40 %), likes 3.6 %, comments 0.9 %, shares
 * 0.5 %. A video's counters rise as final × (1 − e^(−age/τ)) (τ = 1 day for Shorts, 3 days for
 * videos), floored, and are final from 30 days on, so they never decrease. 5 % of videos have
 * ratings off (no `likeCount`), 5 % comments off (no `commentCount`), and 3 % were deleted: the
 * uploads playlist still lists them ("Deleted video", no `videoPublishedAt`), videos.list does not.
 *
 * Analytics days are Pacific-time days. A day's numbers are the rise of all the channel's video
 * counters during it (so channel_views adds up with the video counters), subscribers gained =
 * net growth + churn, lost = churn. A day is reported once 48 h have passed since its end, first
 * at 92 % (floored), in full once 72 h have passed.
 *
 * Per 30 days (measured with seed 42; other seeds differ by a few %): Kopi Nusantara ≈ 40 uploads,
 * ≈ 99,000 views, ≈ 4,200 likes, ≈ 600 comments, ≈ 640 shares, +450 subscribers (≈ 500 gained,
 * ≈ 45 lost; the public count, ≈ 14,400 today, moves in steps of 100); Bandung ≈ 4 uploads,
 * ≈ 5,000 views, ≈ 220 likes, +120 subscribers (hidden).
 */
import { audienceOnTheHour, intBetween, opaqueId, unit } from './random.ts'
import { addPacificDays, DAY_MS, HOUR_MS } from './time.ts'

const YOUTUBE_HISTORY_DAYS = 400
/** From this age on, a video's counters are final. */
const FINAL_AGE_MS = 30 * DAY_MS
const MAX_CACHED_CHANNELS = 200
/** Analytics reports a Pacific day once this long after its end, in full after REPORT_FINAL_MS. */
const REPORT_DELAY_MS = 48 * HOUR_MS
const REPORT_FINAL_MS = 72 * HOUR_MS
const PROVISIONAL_SHARE = 0.92

export const DEMO_CHANNELS: ReadonlyArray<{ id: string; title: string }> = [
  { id: 'UCkopinusantara000000001', title: 'Kopi Nusantara' },
  { id: 'UCkopinusantarabdg000002', title: 'Kopi Nusantara Bandung' },
  { id: 'UCkopinusantarajkt000003', title: 'Kopi Nusantara Jakarta' },
]

/** A channel id as YouTube makes them: UC + 22 characters. */
export const CHANNEL_ID = /^UC[A-Za-z0-9_-]{22}$/

interface UploadSeries {
  kind: 'short' | 'video'
  everyDays: number
  phase: number
  hourUtc: number
  views: number
  viewsSpread: number
  likeRate: number
  commentRate: number
  shareRate: number
  riseDays: number
}

export interface ChannelProfile {
  id: string
  title: string
  createdMs: number
  subscribersYearAgo: number
  subscribersPerDay: number
  hiddenSubscribers: boolean
  /** Views and public videos from before the simulated history. */
  viewsBefore: number
  videosBefore: number
  series: UploadSeries[]
}

export interface VideoCounts {
  views: number
  likes: number
  comments: number
  shares: number
}

export interface Video {
  id: string
  channelId: string
  publishedMs: number
  title: string
  kind: UploadSeries['kind']
  final: VideoCounts
  ratingsOff: boolean
  commentsOff: boolean
  /** Deleted: still in the uploads playlist, unknown to videos.list and to Analytics. */
  deleted: boolean
  riseMs: number
}

export interface AnalyticsDay extends VideoCounts {
  subscribersGained: number
  subscribersLost: number
}

export interface YouTubeScenario {
  readonly today: number
  channel(id: string): ChannelProfile | undefined
  subscribers(id: string, atMs: number): number
  /** Uploads published at or before `atMs`, newest first (the uploads playlist's order). */
  uploads(id: string, atMs: number): readonly Video[]
  video(videoId: string, atMs: number): Video | undefined
  counts(video: Video, atMs: number): VideoCounts
  lifetimeViews(id: string, atMs: number): number
  videoCount(id: string, atMs: number): number
  /** The Analytics numbers of the Pacific day starting at `dayStart`, as reported at `nowMs`; undefined until reported. */
  analyticsDay(id: string, dayStart: number, nowMs: number): AnalyticsDay | undefined
}

const DEMO_PROFILES: Record<string, Omit<ChannelProfile, 'id' | 'title' | 'createdMs'> & { createdOffsetMs: number }> = {
  UCkopinusantara000000001: {
    createdOffsetMs: -2_100 * DAY_MS,
    subscribersYearAgo: 9_000,
    subscribersPerDay: 15,
    hiddenSubscribers: false,
    viewsBefore: 1_250_000,
    videosBefore: 180,
    series: [
      { kind: 'short', everyDays: 1, phase: 0, hourUtc: 12, views: 1_800, viewsSpread: 0.5, likeRate: 0.055, commentRate: 0.004, shareRate: 0.008, riseDays: 1 },
      { kind: 'video', everyDays: 3, phase: 0, hourUtc: 3, views: 4_500, viewsSpread: 0.4, likeRate: 0.036, commentRate: 0.009, shareRate: 0.005, riseDays: 3 },
    ],
  },
  UCkopinusantarabdg000002: {
    createdOffsetMs: -900 * DAY_MS,
    subscribersYearAgo: 2_000,
    subscribersPerDay: 4,
    hiddenSubscribers: true,
    viewsBefore: 90_000,
    videosBefore: 40,
    series: [{ kind: 'video', everyDays: 7, phase: 2, hourUtc: 4, views: 1_200, viewsSpread: 0.4, likeRate: 0.04, commentRate: 0.01, shareRate: 0.005, riseDays: 3 }],
  },
  UCkopinusantarajkt000003: {
    createdOffsetMs: -DAY_MS + 3 * HOUR_MS,
    subscribersYearAgo: 0,
    subscribersPerDay: 6,
    hiddenSubscribers: false,
    viewsBefore: 0,
    videosBefore: 0,
    series: [],
  },
}

const TITLES = [
  'Cara seduh V60 di rumah',
  'Kopi susu gula aren ala barista',
  'Dari kebun Gayo ke cangkirmu',
  'Roasting light vs dark: apa bedanya?',
  'Es kopi pandan, resep lengkap',
  'Tur gerai baru kami',
  'Latte art untuk pemula',
  'Mengenal kopi Toraja',
]

export function createYouTubeScenario(options: { seed: number; today: number }): YouTubeScenario {
  const { seed, today } = options
  const yearAgo = today - 365 * DAY_MS
  const historyStart = today - YOUTUBE_HISTORY_DAYS * DAY_MS
  const profiles = new Map<string, ChannelProfile>()
  const timelines = new Map<string, { videos: Video[]; builtDays: number }>()
  const videoIndex = new Map<string, Video>()

  function channel(id: string): ChannelProfile | undefined {
    if (!CHANNEL_ID.test(id)) return undefined
    let profile = profiles.get(id)
    if (!profile) {
      const demo = DEMO_PROFILES[id]
      const title = DEMO_CHANNELS.find((c) => c.id === id)?.title
      if (demo && title) {
        const { createdOffsetMs, ...rest } = demo
        profile = { id, title, createdMs: today + createdOffsetMs, ...rest }
      } else profile = derivedProfile(id)
      profiles.set(id, profile)
    }
    return profile
  }

  /** A modest channel for any other id, derived from a hash of (seed, id). */
  function derivedProfile(id: string): ChannelProfile {
    const views = intBetween(2, 50, seed, id, 'views') * 100
    return {
      id,
      title: `${TITLES[intBetween(0, TITLES.length - 1, seed, id, 'title')]!.split(' ')[0]} ${id.slice(-4)}`,
      createdMs: today - intBetween(500, 3_000, seed, id, 'created') * DAY_MS,
      subscribersYearAgo: intBetween(5, 500, seed, id, 'subscribers') * 100,
      subscribersPerDay: intBetween(1, 30, seed, id, 'growth'),
      hiddenSubscribers: unit(seed, id, 'hidden') < 0.1,
      viewsBefore: views * intBetween(20, 200, seed, id, 'views-before'),
      videosBefore: intBetween(10, 200, seed, id, 'videos-before'),
      series: [
        {
          kind: 'video',
          everyDays: intBetween(2, 7, seed, id, 'every'),
          phase: 0,
          hourUtc: intBetween(0, 20, seed, id, 'hour'),
          views,
          viewsSpread: 0.4,
          likeRate: 0.03 + 0.02 * unit(seed, id, 'like-rate'),
          commentRate: 0.005 + 0.01 * unit(seed, id, 'comment-rate'),
          shareRate: 0.005,
          riseDays: 3,
        },
      ],
    }
  }

  // --- subscribers ---------------------------------------------------------------------------

  /** Exact subscribers on the hour: growth g/day with a wobble of amplitude g/4 (never shrinking). */
  function subscribers(id: string, atMs: number): number {
    const profile = channel(id)
    if (!profile || atMs < profile.createdMs) return 0
    const hour = Math.floor(atMs / HOUR_MS) * HOUR_MS
    const g = profile.subscribersPerDay
    if (profile.subscribersYearAgo === 0) {
      const days = (hour - profile.createdMs) / DAY_MS
      return Math.max(0, Math.floor(g * days))
    }
    return audienceOnTheHour(seed, id, atMs, { startMs: yearAgo, start: profile.subscribersYearAgo, perDay: g })
  }

  // --- uploads -------------------------------------------------------------------------------

  function makeVideo(profile: ChannelProfile, series: UploadSeries, index: number, publishedMs: number): Video {
    const draw = (label: string) => unit(seed, profile.id, 'video', index, label)
    const views = Math.max(1, Math.round(series.views * (1 - series.viewsSpread + 2 * series.viewsSpread * draw('views'))))
    const rate = (base: number, label: string) => Math.floor(views * base * (0.8 + 0.4 * draw(label)))
    const video: Video = {
      id: opaqueId(11, seed, profile.id, 'video-id', index),
      channelId: profile.id,
      publishedMs,
      title: `${TITLES[Math.floor(draw('title') * TITLES.length)]}${series.kind === 'short' ? ' #shorts' : ''}`,
      kind: series.kind,
      final: { views, likes: rate(series.likeRate, 'likes'), comments: rate(series.commentRate, 'comments'), shares: rate(series.shareRate, 'shares') },
      ratingsOff: draw('ratings-off') < 0.05,
      commentsOff: draw('comments-off') < 0.05,
      deleted: draw('deleted') < 0.03,
      riseMs: series.riseDays * DAY_MS,
    }
    if (video.ratingsOff) video.final.likes = 0
    if (video.commentsOff) video.final.comments = 0
    return video
  }

  /** The channel's videos, oldest first, built through the UTC day containing `atMs`. */
  function timeline(profile: ChannelProfile, atMs: number): Video[] {
    let line = timelines.get(profile.id)
    if (!line) {
      if (timelines.size >= MAX_CACHED_CHANNELS) {
        timelines.clear()
        videoIndex.clear()
      }
      line = { videos: [], builtDays: 0 }
      timelines.set(profile.id, line)
    }
    const lastDay = Math.floor((atMs - historyStart) / DAY_MS)
    while (line.builtDays <= lastDay) {
      const day = line.builtDays
      const dayStart = historyStart + day * DAY_MS
      const todays: Array<{ series: UploadSeries; at: number }> = []
      for (const series of profile.series) {
        if ((day + series.phase) % series.everyDays !== 0) continue
        const at = dayStart + series.hourUtc * HOUR_MS + Math.floor(unit(seed, profile.id, 'jitter', day, series.kind) * 60) * 60_000
        if (at >= profile.createdMs) todays.push({ series, at })
      }
      for (const { series, at } of todays.sort((a, b) => a.at - b.at)) {
        const video = makeVideo(profile, series, line.videos.length, at)
        line.videos.push(video)
        videoIndex.set(video.id, video)
      }
      line.builtDays++
    }
    return line.videos
  }

  /** Number of videos published at or before `atMs` (binary search). */
  function countUpTo(videos: readonly Video[], atMs: number): number {
    let lo = 0
    let hi = videos.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (videos[mid]!.publishedMs <= atMs) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  function uploads(id: string, atMs: number): readonly Video[] {
    const profile = channel(id)
    if (!profile) return []
    const videos = timeline(profile, atMs)
    return videos.slice(0, countUpTo(videos, atMs)).reverse()
  }

  function video(videoId: string, atMs: number): Video | undefined {
    // Ids are random-looking, so a video is found through its channel's timeline: the uploads
    // playlist builds it; the demo channels are built on demand.
    if (!videoIndex.has(videoId)) for (const demo of DEMO_CHANNELS) timeline(channel(demo.id)!, atMs)
    const found = videoIndex.get(videoId)
    return found && found.publishedMs <= atMs && !found.deleted ? found : undefined
  }

  function counts(v: Video, atMs: number): VideoCounts {
    const age = atMs - v.publishedMs
    if (v.deleted || age <= 0) return { views: 0, likes: 0, comments: 0, shares: 0 }
    const share = age >= FINAL_AGE_MS ? 1 : 1 - Math.exp(-age / v.riseMs)
    const grow = (final: number) => (share === 1 ? final : Math.floor(final * share))
    return { views: grow(v.final.views), likes: grow(v.final.likes), comments: grow(v.final.comments), shares: grow(v.final.shares) }
  }

  function lifetimeViews(id: string, atMs: number): number {
    const profile = channel(id)
    if (!profile) return 0
    let total = profile.viewsBefore
    for (const v of uploads(id, atMs)) total += counts(v, atMs).views
    return total
  }

  function videoCount(id: string, atMs: number): number {
    const profile = channel(id)
    if (!profile) return 0
    return profile.videosBefore + uploads(id, atMs).filter((v) => !v.deleted).length
  }

  function analyticsDay(id: string, dayStart: number, nowMs: number): AnalyticsDay | undefined {
    const profile = channel(id)
    const dayEnd = addPacificDays(dayStart, 1)
    if (!profile || dayEnd <= profile.createdMs || nowMs < dayEnd + REPORT_DELAY_MS) return undefined
    const day: AnalyticsDay = { views: 0, likes: 0, comments: 0, shares: 0, subscribersGained: 0, subscribersLost: 0 }
    const videos = timeline(profile, dayEnd)
    for (let i = countUpTo(videos, dayStart - FINAL_AGE_MS); i < videos.length; i++) {
      const v = videos[i]!
      if (v.publishedMs >= dayEnd) break
      const end = counts(v, dayEnd)
      const start = counts(v, dayStart)
      day.views += end.views - start.views
      day.likes += end.likes - start.likes
      day.comments += end.comments - start.comments
      day.shares += end.shares - start.shares
    }
    const net = subscribers(id, dayEnd) - subscribers(id, dayStart)
    const churn = Math.round(profile.subscribersPerDay * 0.2 * unit(seed, id, 'churn', dayStart))
    day.subscribersGained = Math.max(0, net) + churn
    day.subscribersLost = Math.max(0, -net) + churn
    if (nowMs < dayEnd + REPORT_FINAL_MS) {
      for (const key of Object.keys(day) as Array<keyof AnalyticsDay>) day[key] = Math.floor(day[key] * PROVISIONAL_SHARE)
    }
    return day
  }

  return { today, channel, subscribers, uploads, video, counts, lifetimeViews, videoCount, analyticsDay }
}

/** What the Data API shows of a subscriber count: rounded down to three significant figures. */
export function publicSubscriberCount(exact: number): number {
  if (exact < 1_000) return exact
  const step = 10 ** (String(Math.floor(exact)).length - 3)
  return Math.floor(exact / step) * step
}
