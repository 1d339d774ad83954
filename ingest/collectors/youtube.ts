import { DateTime } from 'luxon'
import { z } from 'zod'
import { ApiError } from '../../core/errors.ts'
import type { Speaker } from '../../core/i18n/index.ts'
import { googleDialect, googleRefusal, msUntilNextMidnight, PACIFIC_ZONE, parseCount } from '../google-api.ts'
import type { ApiCaller } from '../http.ts'
import { pageWalk } from '../paging.ts'
import { defineCollector } from './define.ts'
import { skipRefused, type CollectContext, type CollectSummary, type HistoryWindow, type observationFactory } from './types.ts'
import type { ObservationRow } from '../../core/tables.ts'

/**
 * YouTube (social-apis.md §5): the channel's subscriber, view and video counts and the
 * statistics of its recent videos from the Data API v3, and channel-wide daily numbers from the
 * Analytics API v2, re-read over the look-back window since Analytics is 2–3 days late.
 *
 * Quota: the Data API allows 10,000 units a day per Google Cloud project; a round costs
 * 1 (channel) + 1 per playlist page of 50 (the window's uploads, plus the page that shows the
 * window has ended) + 1 per 50 videos (statistics): 8 units for 120 videos in the window, ≈ 770 a
 * day at the default 15-minute schedule. A spent quota (403 quotaExceeded) waits until midnight
 * Pacific time, when Google resets it.
 */
export interface YouTubeCollectorTuning {
  /** Videos published within this many days are re-read each round (default 90). */
  videoWindowDays?: number
}

/** The answers' shapes: the fields read here (counts are strings, as the Data API sends them). */
const channelList = z.object({
  // An unknown channel id gives no `items` at all: the kind tells that answer from an empty document.
  kind: z.literal('youtube#channelListResponse'),
  items: z
    .array(
      z.object({
        id: z.string(),
        contentDetails: z.object({ relatedPlaylists: z.object({ uploads: z.string().optional() }).optional() }).optional(),
        statistics: z.object({ viewCount: z.string().optional(), subscriberCount: z.string().optional(), hiddenSubscriberCount: z.boolean().optional(), videoCount: z.string().optional() }).optional(),
      }),
    )
    .optional(),
})

const playlistItems = z.object({
  items: z.array(z.object({ contentDetails: z.object({ videoId: z.string().optional(), videoPublishedAt: z.string().optional() }).optional() })),
  nextPageToken: z.string().optional(),
})

const videoList = z.object({
  items: z.array(
    z.object({
      id: z.string(),
      snippet: z.object({ publishedAt: z.string().optional() }).optional(),
      statistics: z.object({ viewCount: z.string().optional(), likeCount: z.string().optional(), commentCount: z.string().optional() }).optional(),
    }),
  ),
})

/** Analytics: named columns, positional rows; no `rows` means no data. */
const resultTable = z.object({
  columnHeaders: z.array(z.object({ name: z.string(), columnType: z.string().optional() })),
  rows: z.array(z.array(z.unknown())).optional(),
})
type ResultTable = z.output<typeof resultTable>

const DATA_VERSION = 'v3'
const ANALYTICS_VERSION = 'analytics-v2'
const MAX_PAGE = 50
/**
 * The uploads walk's cap: 200 pages of 50 are 10,000 uploads in the 90-day window, over 110 a day;
 * the busiest news channels upload a few dozen. Each page costs a quota unit, which the account's
 * share of the daily quota bounds as well.
 */
const PLAYLIST_MAX_PAGES = 200

/** Analytics metrics and the metric each feeds. */
/** What to do when YouTube Analytics refuses the channel report. */
const ANALYTICS_ADVICE =
  "YouTube Analytics needs the scopes yt-analytics.readonly and youtube.readonly, granted by the channel's owner or a manager; connect the account again and allow both (docs/accounts.md)."

const ANALYTICS_METRICS: Record<string, string> = {
  views: 'channel_views',
  likes: 'channel_likes',
  comments: 'channel_comments',
  shares: 'shares',
  subscribersGained: 'followers_gained',
  subscribersLost: 'followers_lost',
}

/** Channel statistics and the level each feeds. */
const CHANNEL_STATISTICS = [
  ['subscriberCount', 'followers'],
  ['viewCount', 'lifetime_views'],
  ['videoCount', 'videos'],
] as const

/** Video statistics and the counter each feeds; an absent field (ratings or comments off) is not stored. */
const VIDEO_STATISTICS = [
  ['viewCount', 'views'],
  ['likeCount', 'likes'],
  ['commentCount', 'comments'],
] as const

/** Both APIs speak Google's dialect; a spent daily quota waits until midnight Pacific time. */
const youtubeDialect = (api: string) => (context: CollectContext) => googleDialect({ network: 'youtube', api, dailyQuotaWaitMs: () => msUntilNextMidnight(context.now(), PACIFIC_ZONE) })

export const createYouTubeCollector = defineCollector<'youtube', YouTubeCollectorTuning>('youtube', {
  apis: { data: { dialect: youtubeDialect('YouTube Data API') }, analytics: { dialect: youtubeDialect('YouTube Analytics API') } },
  apiVersion: () => DATA_VERSION,
  build({ session }, tuning) {
    const videoWindowDays = tuning.videoWindowDays ?? 90

    function open(context: CollectContext) {
      const s = session(context)
      return { ...s, channelId: s.accountId, data: s.api.data, analytics: s.api.analytics, observeDaily: s.observeAs(ANALYTICS_VERSION) }
    }

    /**
     * Channel-wide daily numbers for the Pacific days [first, last]. Days YouTube has not finished
     * yet are absent, and no `rows` at all means no data: nothing is stored.
     */
    async function readAnalytics(s: ReturnType<typeof open>, first: string, last: string): Promise<void> {
      const table = await skipRefused(s.summary, { part: 'YouTube Analytics report', metrics: Object.values(ANALYTICS_METRICS), advice: ANALYTICS_ADVICE }, () =>
        s.analytics.get('/reports', resultTable, {
          params: { ids: `channel==${s.channelId}`, startDate: first, endDate: last, metrics: Object.keys(ANALYTICS_METRICS).join(','), dimensions: 'day', sort: 'day' },
        }),
      )
      await s.emit(table ? dailyRows(table, s.channelId, s.observeDaily, s.summary) : [])
    }

    return {
      tokenAdvice: youtubeTokenAdvice,
      history: {
        maxWindowDays: 365,
        maxAgeDays: 5 * 365,
        notes: ['subscriber, view and video levels and per-video counters are current totals only (no history); daily channel numbers from YouTube Analytics are backfilled'],
        async backfill(context: CollectContext, window: HistoryWindow): Promise<CollectSummary> {
          const s = open(context)
          const last = DateTime.fromISO(window.to, { zone: PACIFIC_ZONE }).minus({ days: 1 })
          await readAnalytics(s, window.from, last.toISODate()!)
          return s.summary
        },
      },
      async collect(context: CollectContext): Promise<CollectSummary> {
        const s = open(context)
        const { channelId, data, observe, emit } = s

        // 1. The channel: levels at this round's time. Counts are strings.
        const channels = await data.get('/channels', channelList, { params: { part: 'statistics,contentDetails', id: channelId } })
        const channel = channels.items?.find((item) => item.id === channelId)
        if (!channel) {
          throw new ApiError(`YouTube has no channel with id ${channelId}: check the account's apiId in the plan (a channel id starts with UC)`, { retryable: false, apiCode: 'channelNotFound' })
        }
        const stats = channel.statistics ?? {}
        const channelRows: ObservationRow[] = []
        for (const [field, metric] of CHANNEL_STATISTICS) {
          // A hidden subscriber count is not a count: store nothing rather than a zero.
          if (field === 'subscriberCount' && stats.hiddenSubscriberCount === true) continue
          const value = parseCount(stats[field])
          if (value !== undefined) channelRows.push(observe({ objectType: 'account', objectId: channelId, metric, observedAt: context.roundAt, value, sourceField: `statistics.${field}` }))
        }
        await emit(channelRows)

        // 2. Recent uploads, newest first, then their statistics in batches of 50 ids.
        const uploads = channel.contentDetails?.relatedPlaylists?.uploads ?? `UU${channelId.slice(2)}`
        const windowStart = context.now().getTime() - videoWindowDays * 86_400_000
        const videoIds = await recentUploads(data, uploads, windowStart)
        for (let i = 0; i < videoIds.length; i += MAX_PAGE) {
          const batch = videoIds.slice(i, i + MAX_PAGE)
          const videos = await data.get('/videos', videoList, { params: { part: 'statistics,snippet', id: batch.join(',') } })
          const rows: ObservationRow[] = []
          // A video the playlist lists but videos.list does not return (deleted, private) is skipped.
          for (const video of videos.items) {
            const published = video.snippet?.publishedAt ? new Date(video.snippet.publishedAt) : undefined
            const createdAt = published && Number.isFinite(published.getTime()) ? published : undefined
            for (const [field, metric] of VIDEO_STATISTICS) {
              const value = parseCount(video.statistics?.[field])
              if (value === undefined) continue
              rows.push(observe({ objectType: 'post', objectId: video.id, metric, observedAt: context.roundAt, value, objectCreatedAt: createdAt, sourceField: `statistics.${field}` }))
            }
          }
          await emit(rows)
        }

        // 3. Channel-wide daily numbers, re-read over the look-back window (Analytics is 2–3 days late).
        const today = DateTime.fromJSDate(context.now(), { zone: PACIFIC_ZONE }).startOf('day')
        await readAnalytics(s, today.minus({ days: Math.max(3, context.lookbackDays) }).toISODate()!, today.toISODate()!)
        return s.summary
      },
    }
  },
})

/** Video ids of the uploads playlist published since `windowStart`; the playlist is newest first. */
async function recentUploads(data: ApiCaller, playlistId: string, windowStart: number): Promise<string[]> {
  const ids: string[] = []
  const seen = new Set<string>()
  const walk = pageWalk({ api: data, url: '/playlistItems', maxPages: PLAYLIST_MAX_PAGES })
  let pageToken: string | undefined
  for (;;) {
    let result: z.output<typeof playlistItems>
    try {
      result = await data.get('/playlistItems', playlistItems, { params: { part: 'contentDetails', playlistId, maxResults: MAX_PAGE, pageToken } })
    } catch (error) {
      // A channel that never uploaded has no uploads playlist yet: no videos, not a failure.
      if (error instanceof ApiError && error.apiCode === 'playlistNotFound' && pageToken === undefined) return []
      throw error
    }
    let older = 0
    let dated = 0
    for (const item of result.items) {
      const id = item.contentDetails?.videoId
      if (!id || seen.has(id)) continue
      const published = item.contentDetails?.videoPublishedAt ? Date.parse(item.contentDetails.videoPublishedAt) : Number.NaN
      if (Number.isFinite(published)) {
        dated++
        if (published < windowStart) {
          older++
          continue
        }
      }
      // Undated items (deleted or private videos) are asked for; videos.list leaves out what it cannot show.
      seen.add(id)
      ids.push(id)
    }
    // Stop at the end, or once a whole page is older than the window. An empty page with a token goes on.
    if (!result.nextPageToken || (dated > 0 && older === dated)) break
    pageToken = walk.next(result.nextPageToken)
  }
  return ids
}

/** Positional Analytics rows → daily observations, by the column headers' names. */
function dailyRows(table: ResultTable, channelId: string, observe: ReturnType<typeof observationFactory>, summary: CollectSummary): ObservationRow[] {
  const headers = table.columnHeaders.map((header) => header.name)
  const dayIndex = headers.indexOf('day')
  if (dayIndex < 0 || !table.rows) return []
  const rows: ObservationRow[] = []
  for (const row of table.rows) {
    const day = row[dayIndex]
    const start = typeof day === 'string' ? DateTime.fromISO(day, { zone: PACIFIC_ZONE }) : undefined
    if (!start?.isValid) {
      summary.skipped.push(`YouTube Analytics row with day ${JSON.stringify(day)}: not a date`)
      continue
    }
    headers.forEach((name, index) => {
      const metric = ANALYTICS_METRICS[name]
      const value = metric ? parseCount(row[index]) : undefined
      if (metric && value !== undefined) {
        rows.push(observe({ objectType: 'account', objectId: channelId, metric, observedAt: start.toJSDate(), dayZone: PACIFIC_ZONE, value, sourceField: `analytics.${name}` }))
      }
    })
  }
  return rows
}

const SCOPES = ['https://www.googleapis.com/auth/youtube.readonly', 'https://www.googleapis.com/auth/yt-analytics.readonly']

/** What the channel owner must do when Google refuses the token, in words for the alert email. */
function youtubeTokenAdvice(speaker: Speaker, apiCode: string, tokenEnv: string): string {
  return speaker.t(`advice.youtube.${googleRefusal(apiCode)}`, { scopes: speaker.list(SCOPES), tokenEnv })
}
