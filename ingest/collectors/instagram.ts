import { DateTime } from 'luxon'
import { z } from 'zod'
import { ApiError } from '../../core/errors.ts'
import { createGraphDialect, GRAPH_DAY_ZONE, graphDays, graphDayStart, graphTokenAdviceFor, parseGraphTime, graphPaging } from '../graph-api.ts'
import type { ApiCaller } from '../http.ts'
import { pageWalk } from '../paging.ts'
import { defineCollector } from './define.ts'
import { noteRefused, skipRefused, type CollectContext, type CollectSummary, type HistoryWindow } from './types.ts'
import type { ObservationRow } from '../../core/tables.ts'

/**
 * Instagram professional accounts through the Instagram Graph API with Facebook Login
 * (social-apis.md §2): the follower level from the IG user node, each recent post's like and
 * comment counts, new followers per day (`follower_count`), and the daily `total_value` insights
 * (website clicks, contact taps, views, reach, interactions), re-read over the look-back window
 * because Instagram revises recent days (data may lag 48 hours).
 */

/** The answers' shapes: the fields read here. Graph edges always carry `data`. */
const igUser = z.object({ id: z.string(), followers_count: z.number().optional() })

const mediaSchema = z.object({ id: z.string(), timestamp: z.string(), like_count: z.number().optional(), comments_count: z.number().optional() })
type IgMedia = z.output<typeof mediaSchema>

const mediaPage = z.object({
  data: z.array(mediaSchema),
  paging: graphPaging,
})

/** Time series (`values`, for follower_count) or one `total_value` per metric. */
const insightsAnswer = z.object({
  data: z.array(
    z.object({
      name: z.string(),
      period: z.string().optional(),
      values: z.array(z.object({ value: z.number(), end_time: z.string().optional() })).optional(),
      total_value: z.object({ value: z.number().optional() }).optional(),
    }),
  ),
})
type InsightsAnswer = z.output<typeof insightsAnswer>

/** Daily `total_value` insights and the metric each feeds. */
const TOTAL_VALUE_METRICS: ReadonlyArray<{ apiMetric: string; metric: string }> = [
  { apiMetric: 'website_clicks', metric: 'clicks' },
  { apiMetric: 'profile_links_taps', metric: 'contact_taps' },
  { apiMetric: 'views', metric: 'views' },
  { apiMetric: 'reach', metric: 'reach' },
  { apiMetric: 'total_interactions', metric: 'engagements' },
]

const MEDIA_FIELDS = 'id,timestamp,like_count,comments_count'
/**
 * The /media walk's cap: Instagram lists at most the 10,000 newest media ("Returns a maximum of 10K
 * of the most recently created media", User Media reference); 400 pages hold them all even at its
 * default page of 25 (we ask for 100), and the walk stops at the 90-day window long before.
 */
const MEDIA_MAX_PAGES = 400
const DAY_MS = 86_400_000
/**
 * Instagram's insights days are Graph's Pacific days (graph-api.ts): asked for with since/until at
 * Pacific midnights, each value's day read from its end_time (07:00 or 08:00 UTC both read). A
 * day's row keeps the UTC−07:00 midnight of its date (07:00 UTC), where earlier versions stored
 * every Instagram day all year: a day read again replaces its row instead of adding a second one
 * an hour later in winter.
 */
const IG_ROW_ZONE = 'Etc/GMT+7'
/** `follower_count` answers only the 30 days before the current one. */
const FOLLOWER_COUNT_DAYS = 30
/** No range may span more than 30 days (2,592,000 s): 30 Pacific days across the autumn clock change do, by an hour. */
const MAX_RANGE_MS = 30 * DAY_MS
/** Instagram keeps insights for two years. */
const INSIGHTS_RETENTION_DAYS = 2 * 365

/** The Instagram day (a Pacific date, `YYYY-MM-DD`) that contains `at`. */
function igDayOf(at: Date): string {
  return DateTime.fromJSDate(at, { zone: GRAPH_DAY_ZONE }).toISODate()!
}

/** The date `days` after `date`. */
function plusDays(date: string, days: number): string {
  return DateTime.fromISO(date, { zone: 'UTC' }).plus({ days }).toISODate()!
}

/** A since/until parameter: the Pacific midnight that starts `date`, in Unix seconds. */
const unixStart = (date: string) => graphDayStart(date).getTime() / 1000

/** Where a day's row is stored: the UTC−07:00 midnight of its date. */
const rowInstant = (date: string) => new Date(`${date}T07:00:00Z`)

const instagramTokenAdvice = graphTokenAdviceFor({
  network: 'instagram',
  permissions: ['instagram_basic', 'instagram_manage_insights', 'pages_read_engagement', 'pages_show_list'],
})

export interface InstagramTuning {
  /** Posts published within this many days are re-read each round. */
  postWindowDays?: number
}

export const createInstagramCollector = defineCollector<'instagram', InstagramTuning>('instagram', {
  apis: { graph: { dialect: () => createGraphDialect('instagram'), path: (config) => `/${config.FACEBOOK_GRAPH_VERSION}` } },
  apiVersion: (config) => config.FACEBOOK_GRAPH_VERSION,
  build({ session }, tuning) {
    const postWindowDays = tuning.postWindowDays ?? 90

    function open(context: CollectContext) {
      const s = session(context)
      return { ...s, api: s.api.graph, userId: s.accountId, path: `/${encodeURIComponent(s.accountId)}` }
    }
    type Session = ReturnType<typeof open>

    /** New followers per day over the days [from, to), as far as the 30-day limit allows. */
    async function readNewFollowers(s: Session, from: string, to: string, now: Date): Promise<void> {
      const part = { part: 'follower_count', metrics: ['new_followers'] }
      const today = igDayOf(now)
      const oldest = plusDays(today, -FOLLOWER_COUNT_DAYS)
      const until = to < today ? to : today
      for (let since = from > oldest ? from : oldest; since < until; ) {
        let end = plusDays(since, FOLLOWER_COUNT_DAYS) < until ? plusDays(since, FOLLOWER_COUNT_DAYS) : until
        if (graphDayStart(end).getTime() - graphDayStart(since).getTime() > MAX_RANGE_MS) end = plusDays(end, -1)
        const answer = await skipRefused(s.summary, part, () =>
          s.api.get(`${s.path}/insights`, insightsAnswer, { params: { metric: 'follower_count', period: 'day', since: unixStart(since), until: unixStart(end) } }),
        )
        if (!answer) return
        const { days, unusable } = graphDays(answer.data.find((entry) => entry.name === 'follower_count')?.values ?? [])
        if (unusable) noteRefused(s.summary, part, unusable)
        await s.emit(
          days.map(({ day, point }) =>
            s.observe({
              objectType: 'account',
              objectId: s.userId,
              metric: 'new_followers',
              observedAt: rowInstant(day),
              dayZone: IG_ROW_ZONE,
              value: point.value,
              sourceField: 'insights.follower_count',
            }),
          ),
        )
        since = end
      }
    }

    /**
     * The `total_value` metrics, one request per day (a total over a range has no daily split).
     * All metrics go in one request; when Instagram refuses it permanently (a retired metric), the
     * day is asked metric by metric and the refused ones are skipped for the rest of the round.
     */
    async function readDailyTotals(s: Session, from: string, to: string): Promise<void> {
      const refused = new Set<string>()
      const ask = (metrics: string[], day: string) =>
        s.api.get(`${s.path}/insights`, insightsAnswer, {
          params: { metric: metrics.join(','), metric_type: 'total_value', period: 'day', since: unixStart(day), until: unixStart(plusDays(day, 1)) },
        })
      for (let day = from; day < to; day = plusDays(day, 1)) {
        const metrics = TOTAL_VALUE_METRICS.map((m) => m.apiMetric).filter((m) => !refused.has(m))
        if (metrics.length === 0) return
        let answers: InsightsAnswer[]
        try {
          answers = [await ask(metrics, day)]
        } catch (error) {
          if (!isPermanent(error)) throw error
          answers = []
          for (const metric of metrics) {
            const one = await skipRefused(s.summary, { part: metric, metrics: TOTAL_VALUE_METRICS.filter((m) => m.apiMetric === metric).map((m) => m.metric) }, () => ask([metric], day))
            if (one) answers.push(one)
            else refused.add(metric)
          }
        }
        const rows: ObservationRow[] = []
        for (const entry of answers.flatMap((a) => a.data)) {
          const target = TOTAL_VALUE_METRICS.find((m) => m.apiMetric === entry.name)
          const value = entry.total_value?.value
          if (!target || typeof value !== 'number') continue
          rows.push(s.observe({ objectType: 'account', objectId: s.userId, metric: target.metric, observedAt: rowInstant(day), dayZone: IG_ROW_ZONE, value, sourceField: `insights.${entry.name}` }))
        }
        await s.emit(rows)
      }
    }

    return {
      tokenAdvice: instagramTokenAdvice,
      history: {
        maxWindowDays: FOLLOWER_COUNT_DAYS,
        maxAgeDays: INSIGHTS_RETENTION_DAYS,
        notes: ['new followers per day (follower_count) exist only for the last 30 days; follower levels and post likes and comments are current values only (no history)'],
        async backfill(context: CollectContext, window: HistoryWindow): Promise<CollectSummary> {
          const s = open(context)
          const today = igDayOf(context.now())
          const to = window.to < today ? window.to : today
          await readNewFollowers(s, window.from, to, context.now())
          await readDailyTotals(s, window.from, to)
          return s.summary
        },
      },
      async collect(context: CollectContext): Promise<CollectSummary> {
        const s = open(context)
        const nowMs = context.now().getTime()

        // 1. The account node: the follower level at this round's time.
        const user = await s.api.get(s.path, igUser, { params: { fields: 'id,followers_count' } })
        if (typeof user.followers_count === 'number') {
          await s.emit([s.observe({ objectType: 'account', objectId: s.userId, metric: 'followers', observedAt: context.roundAt, value: user.followers_count, sourceField: 'followers_count' })])
        }

        // 2. Recent posts, newest first, until `next` is absent (a page may be empty and still have
        //    one) or a page reaches past the window.
        await readMedia(s.api, s.path, nowMs - postWindowDays * DAY_MS, async (batch) => {
          const rows: ObservationRow[] = []
          for (const media of batch) {
            const base = { objectType: 'post' as const, objectId: media.id, observedAt: context.roundAt, objectCreatedAt: parseGraphTime(media.timestamp) }
            // `like_count` is left out when the owner hid like counts: no row then, not a zero.
            if (typeof media.like_count === 'number') rows.push(s.observe({ ...base, metric: 'likes', value: media.like_count, sourceField: 'like_count' }))
            if (typeof media.comments_count === 'number') rows.push(s.observe({ ...base, metric: 'comments', value: media.comments_count, sourceField: 'comments_count' }))
          }
          await s.emit(rows)
        })

        // 3. Daily insights over the look-back window: the days that have ended.
        const today = igDayOf(context.now())
        const from = plusDays(today, -context.lookbackDays)
        await readNewFollowers(s, from, today, context.now())
        await readDailyTotals(s, from, today)
        return s.summary
      },
    }
  },
})

/** Walks /media newest first; calls `take` with each page's posts created at or after `oldest`. */
async function readMedia(api: ApiCaller, path: string, oldest: number, take: (batch: IgMedia[]) => Promise<void>): Promise<void> {
  const walk = pageWalk({ api, url: `${path}/media`, maxPages: MEDIA_MAX_PAGES })
  let after: string | undefined
  for (;;) {
    const page = await api.get(`${path}/media`, mediaPage, { params: { fields: MEDIA_FIELDS, limit: 100, after } })
    const media = page.data
    const recent = media.filter((m) => parseGraphTime(m.timestamp).getTime() >= oldest)
    await take(recent)
    const cursor = page.paging?.cursors?.after
    if (!page.paging?.next || !cursor || recent.length < media.length) return
    after = walk.next(cursor)
  }
}

function isPermanent(error: unknown): boolean {
  return error instanceof ApiError && !error.retryable
}
