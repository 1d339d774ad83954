import { DateTime } from 'luxon'
import { z } from 'zod'
import { GRAPH_DAY_ZONE, graphDays, graphDayStart, graphDialect, graphTokenAdvice, parseGraphTime, graphPaging } from '../graph-api.ts'
import { pageWalk } from '../paging.ts'
import { defineCollector, type Session } from './define.ts'
import { noteRefused, skipRefused, type CollectContext, type CollectSummary, type HistoryWindow } from './types.ts'
import type { ObservationRow } from '../../core/tables.ts'

/**
 * Facebook Pages through the Graph API (social-apis.md §1): the Page's follower and fan counts,
 * its recent posts with reaction, comment and share totals and lifetime clicks, and daily Page
 * insights re-read over the look-back window (Meta revises recent days).
 */
export interface FacebookPagesTuning {
  /** Posts published within this many days are re-read each round (default 90). */
  postWindowDays?: number
}

/** The answers' shapes: the fields read here. Graph edges always carry `data`. */
const pageNode = z.object({ id: z.string(), followers_count: z.number().optional(), fan_count: z.number().optional() })

const postsPage = z.object({
  data: z.array(
    z.object({
      id: z.string(),
      created_time: z.string(),
      shares: z.object({ count: z.number().optional() }).optional(),
      reactions: z.object({ summary: z.object({ total_count: z.number().optional() }).optional() }).optional(),
      comments: z.object({ summary: z.object({ total_count: z.number().optional() }).optional() }).optional(),
    }),
  ),
  paging: graphPaging,
})

/** A value is a number, or an object of numbers by type (reactions). */
const insightsAnswer = z.object({
  data: z.array(
    z.object({
      name: z.string(),
      period: z.string().optional(),
      values: z.array(z.object({ value: z.union([z.number(), z.record(z.string(), z.number())]), end_time: z.string().optional() })),
    }),
  ),
})

/** Daily Page insights and the metric each feeds. Reaction objects are split by type. */
const PAGE_INSIGHTS: Array<{ apiMetric: string; metric?: string; shape: 'gauge' | 'daily'; reactionKeys?: Record<string, string> }> = [
  { apiMetric: 'page_follows', metric: 'followers', shape: 'gauge' },
  { apiMetric: 'page_post_engagements', metric: 'engagements', shape: 'daily' },
  { apiMetric: 'page_total_actions', metric: 'page_actions', shape: 'daily' },
  { apiMetric: 'page_media_view', metric: 'views', shape: 'daily' },
  { apiMetric: 'page_actions_post_reactions_total', shape: 'daily', reactionKeys: { anger: 'reactions_anger', sorry: 'reactions_sorry' } },
]

const POST_FIELDS = 'id,created_time,shares,reactions.limit(0).summary(total_count),comments.limit(0).summary(total_count)'
/**
 * The posts walk's cap: 400 pages of `limit=100` hold 40,000 posts of the 90-day window, 440 a day,
 * or half that when Graph's pages come half full (it pages the feed before filtering out stories
 * /posts does not list). The busiest publishers post a few dozen times a day.
 */
const POSTS_MAX_PAGES = 400
/** Graph answers at most 90 days of insights per request. */
const MAX_INSIGHTS_DAYS = 89
/** Graph's insights day ends at midnight Pacific time (graph-api.ts). */
const INSIGHTS_ZONE = GRAPH_DAY_ZONE

export const createFacebookPagesCollector = defineCollector<'facebook', FacebookPagesTuning>('facebook', {
  apis: { graph: { dialect: () => graphDialect, path: (config) => `/${config.FACEBOOK_GRAPH_VERSION}` } },
  apiVersion: (config) => config.FACEBOOK_GRAPH_VERSION,
  build({ session }, tuning) {
    const postWindowDays = tuning.postWindowDays ?? 90

    /**
     * Daily Page insights for [sinceDay, untilDay), one metric per request so that one retired
     * metric does not hide the others.
     */
    async function readInsights(s: Session<'facebook'>, metrics: typeof PAGE_INSIGHTS, window: (insight: (typeof PAGE_INSIGHTS)[number]) => { since: DateTime; until: DateTime }) {
      const { observe, summary, emit, accountId: pageId } = s
      for (const insight of metrics) {
        const { since, until } = window(insight)
        const gives = insight.shape === 'daily' ? (insight.reactionKeys ? Object.values(insight.reactionKeys) : [insight.metric!]) : []
        const part = gives.length ? { part: insight.apiMetric, metrics: gives } : insight.apiMetric
        const result = await skipRefused(summary, part, () =>
          s.api.graph.get(`/${encodeURIComponent(pageId)}/insights`, insightsAnswer, {
            params: { metric: insight.apiMetric, period: 'day', since: since.toISODate(), until: until.toISODate() },
          }),
        )
        const series = result?.data.find((entry) => entry.name === insight.apiMetric)
        const { days, unusable } = graphDays(series?.values ?? [])
        if (unusable) noteRefused(summary, part, unusable)
        const rows: ObservationRow[] = []
        for (const { day, end, point } of days) {
          const dayStart = graphDayStart(day)
          const common = { objectType: 'account' as const, objectId: pageId, sourceField: `insights.${insight.apiMetric}`, dayZone: INSIGHTS_ZONE }
          if (insight.reactionKeys) {
            const byType = typeof point.value === 'object' ? point.value : {}
            for (const [key, metric] of Object.entries(insight.reactionKeys)) {
              rows.push(observe({ ...common, metric, observedAt: dayStart, value: byType[key] ?? 0 }))
            }
          } else if (typeof point.value === 'number' && insight.metric) {
            rows.push(observe({ ...common, metric: insight.metric, observedAt: insight.shape === 'gauge' ? end : dayStart, value: point.value }))
          }
        }
        await emit(rows)
      }
    }

    return {
      tokenAdvice: graphTokenAdvice,
      history: {
        maxWindowDays: MAX_INSIGHTS_DAYS,
        maxAgeDays: 2 * 365,
        notes: ['post reactions, comments, shares and clicks are current totals only (no history); daily Page insights and follower levels are backfilled'],
        async backfill(context: CollectContext, window: HistoryWindow): Promise<CollectSummary> {
          const s = session(context)
          const since = DateTime.fromISO(window.from, { zone: INSIGHTS_ZONE })
          const until = DateTime.fromISO(window.to, { zone: INSIGHTS_ZONE })
          await readInsights(s, PAGE_INSIGHTS, () => ({ since, until }))
          return s.summary
        },
      },
      async collect(context: CollectContext): Promise<CollectSummary> {
        const s = session(context)
        const {
          api: { graph: api },
          observe,
          summary,
          emit,
          accountId: pageId,
        } = s

        // 1. The Page node: levels at this round's time.
        const page = await api.get(`/${encodeURIComponent(pageId)}`, pageNode, { params: { fields: 'id,followers_count,fan_count' } })
        const pageRows: ObservationRow[] = []
        for (const [field, metric] of [
          ['followers_count', 'followers'],
          ['fan_count', 'fans'],
        ] as const) {
          const value = page[field]
          if (typeof value === 'number') pageRows.push(observe({ objectType: 'account', objectId: pageId, metric, observedAt: context.roundAt, value, sourceField: field }))
        }
        await emit(pageRows)

        // 2. Recent posts, newest first. Stop only when `next` is absent: a page may be empty and still have one.
        const since = Math.floor(context.now().getTime() / 1000) - postWindowDays * 86_400
        const clickWindowStart = context.now().getTime() - context.lookbackDays * 86_400_000
        const recentPosts = new Map<string, Date>()
        const postsPath = `/${encodeURIComponent(pageId)}/posts`
        const walk = pageWalk({ api, url: postsPath, maxPages: POSTS_MAX_PAGES })
        let after: string | undefined
        for (;;) {
          const batch = await api.get(postsPath, postsPage, { params: { fields: POST_FIELDS, limit: 100, since, after } })
          const rows: ObservationRow[] = []
          for (const post of batch.data) {
            const created = parseGraphTime(post.created_time)
            const base = { objectType: 'post' as const, objectId: post.id, observedAt: context.roundAt, objectCreatedAt: created }
            const reactions = post.reactions?.summary?.total_count
            const comments = post.comments?.summary?.total_count
            if (typeof reactions === 'number') rows.push(observe({ ...base, metric: 'likes', value: reactions, sourceField: 'reactions.summary.total_count' }))
            if (typeof comments === 'number') rows.push(observe({ ...base, metric: 'comments', value: comments, sourceField: 'comments.summary.total_count' }))
            // Graph leaves `shares` out when a post has none.
            rows.push(observe({ ...base, metric: 'shares', value: post.shares?.count ?? 0, sourceField: 'shares.count' }))
            if (created.getTime() >= clickWindowStart) recentPosts.set(post.id, created)
          }
          await emit(rows)
          const cursor = batch.paging?.cursors?.after
          if (!batch.paging?.next || !cursor) break
          after = walk.next(cursor)
        }

        // 3. Lifetime clicks of the posts still young enough to change.
        const clickRows: ObservationRow[] = []
        for (const [postId, created] of recentPosts) {
          const insights = await skipRefused(summary, `post_clicks of ${postId}`, () =>
            api.get(`/${encodeURIComponent(postId)}/insights`, insightsAnswer, { params: { metric: 'post_clicks', period: 'lifetime' } }),
          )
          const value = insights?.data.find((entry) => entry.name === 'post_clicks')?.values[0]?.value
          if (typeof value === 'number') {
            clickRows.push(observe({ objectType: 'post', objectId: postId, metric: 'clicks', observedAt: context.roundAt, value, objectCreatedAt: created, sourceField: 'insights.post_clicks' }))
          }
        }
        await emit(clickRows)

        // 4. Daily Page insights over the look-back window (Meta revises recent days). Follower
        //    levels are read as far back as one request allows, so a level KPI has its
        //    period-start baseline from the first round.
        const untilDay = DateTime.fromJSDate(context.now(), { zone: INSIGHTS_ZONE }).startOf('day')
        await readInsights(s, PAGE_INSIGHTS, (insight) => ({
          since: untilDay.minus({ days: insight.shape === 'gauge' ? MAX_INSIGHTS_DAYS : context.lookbackDays }),
          until: untilDay,
        }))
        return summary
      },
    }
  },
})
