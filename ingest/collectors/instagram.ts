import { z } from 'zod'
import { ApiError } from '../../core/errors.ts'
import { createGraphDialect, graphTokenAdviceFor, parseGraphTime, graphPaging } from '../graph-api.ts'
import type { ApiCaller } from '../http.ts'
import { pageWalk } from '../paging.ts'
import { defineCollector } from './define.ts'
import { skipRefused, type CollectContext, type CollectSummary, type HistoryWindow } from './types.ts'
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
/** Instagram's insights days run from 07:00 UTC to 07:00 UTC ("periods ending on UTC−07:00"). */
const IG_DAY_OFFSET_MS = 7 * 3_600_000
/** The same days as a zone (POSIX names count west as +). */
const IG_DAY_ZONE = 'Etc/GMT+7'
/** `follower_count` answers only the 30 days before the current one; no range may exceed 30 days. */
const FOLLOWER_COUNT_DAYS = 30
/** Instagram keeps insights for two years. */
const INSIGHTS_RETENTION_DAYS = 2 * 365

/** The start (07:00 UTC) of the Instagram insights day containing `ms`. */
function igDayStart(ms: number): number {
  return Math.floor((ms - IG_DAY_OFFSET_MS) / DAY_MS) * DAY_MS + IG_DAY_OFFSET_MS
}

/** The Instagram day that starts on a `YYYY-MM-DD` date (at 07:00 UTC). */
function igDayOfDate(date: string): number {
  return Date.parse(`${date}T00:00:00Z`) + IG_DAY_OFFSET_MS
}

const instagramTokenAdvice = graphTokenAdviceFor({
  token: 'Facebook User access token for the Instagram account',
  permissions: 'instagram_basic, instagram_manage_insights, pages_read_engagement and pages_show_list',
  role: 'a role on the Facebook Page linked to the Instagram account',
  grantedBy: ' (Facebook Login for Business, by a person with a role on the linked Page)',
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

    /** New followers per day over [fromDay, toDay) (IG day starts), as far as the 30-day limit allows. */
    async function readNewFollowers(s: Session, fromDay: number, toDay: number, nowMs: number): Promise<void> {
      const oldest = igDayStart(nowMs) - FOLLOWER_COUNT_DAYS * DAY_MS
      const since = Math.max(fromDay, oldest)
      const until = Math.min(toDay, igDayStart(nowMs))
      if (since >= until) return
      const answer = await skipRefused(s.summary, { part: 'follower_count', metrics: ['new_followers'] }, () =>
        s.api.get(`${s.path}/insights`, insightsAnswer, { params: { metric: 'follower_count', period: 'day', since: since / 1000, until: until / 1000 } }),
      )
      const series = answer?.data.find((entry) => entry.name === 'follower_count')
      const rows: ObservationRow[] = []
      for (const point of series?.values ?? []) {
        if (!point.end_time) continue
        const dayStart = new Date(parseGraphTime(point.end_time).getTime() - DAY_MS)
        rows.push(
          s.observe({ objectType: 'account', objectId: s.userId, metric: 'new_followers', observedAt: dayStart, dayZone: IG_DAY_ZONE, value: point.value, sourceField: 'insights.follower_count' }),
        )
      }
      await s.emit(rows)
    }

    /**
     * The `total_value` metrics, one request per day (a total over a range has no daily split).
     * All metrics go in one request; when Instagram refuses it permanently (a retired metric), the
     * day is asked metric by metric and the refused ones are skipped for the rest of the round.
     */
    async function readDailyTotals(s: Session, fromDay: number, toDay: number): Promise<void> {
      const refused = new Set<string>()
      const ask = (metrics: string[], since: number) =>
        s.api.get(`${s.path}/insights`, insightsAnswer, {
          params: { metric: metrics.join(','), metric_type: 'total_value', period: 'day', since: since / 1000, until: (since + DAY_MS) / 1000 },
        })
      for (let day = fromDay; day < toDay; day += DAY_MS) {
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
          rows.push(s.observe({ objectType: 'account', objectId: s.userId, metric: target.metric, observedAt: new Date(day), dayZone: IG_DAY_ZONE, value, sourceField: `insights.${entry.name}` }))
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
          const from = igDayOfDate(window.from)
          const to = Math.min(igDayOfDate(window.to), igDayStart(context.now().getTime()))
          await readNewFollowers(s, from, to, context.now().getTime())
          await readDailyTotals(s, from, to)
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
        const today = igDayStart(nowMs)
        const from = today - context.lookbackDays * DAY_MS
        await readNewFollowers(s, from, today, nowMs)
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
