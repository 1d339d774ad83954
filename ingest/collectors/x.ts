import { z } from 'zod'
import { ApiError } from '../../core/errors.ts'
import type { ApiCaller } from '../http.ts'
import { pageWalk } from '../paging.ts'
import { problemKind, xDialect, xTokenAdvice } from '../x-api.ts'
import { defineCollector } from './define.ts'
import type { CollectContext, CollectSummary } from './types.ts'
import type { ObservationRow } from '../../core/tables.ts'

/**
 * X through the X API v2 (social-apis.md §3): the user's follower count, and the account's own
 * posts of the last `postWindowDays` with their like, reply and repost counts, re-read every
 * round because they keep rising. Link clicks (and impressions where X keeps them private) are
 * non-public metrics: X gives them only to a user-context token of the account and only for
 * posts up to 30 days old, so only those posts are asked for them. When X refuses them anyway
 * (an app-only token), it leaves the posts out of `data` and lists them in `errors[]` of a 200:
 * those posts are read again with public metrics only, and the refusal is noted as skipped.
 */
export interface XCollectorTuning {
  /** Posts published within this many days are re-read each round (default 90). */
  postWindowDays?: number
  /** `max_results` per timeline page, 5–100 (default 100). */
  pageSize?: number
}

const API_VERSION = '2'
/** X gives non-public metrics only for posts created within the last 30 days. */
const NON_PUBLIC_DAYS = 30
/** Posts this close to the 30-day limit are read without non-public metrics, so clock skew cannot tip them over. */
const NON_PUBLIC_MARGIN_MS = 3_600_000
const PUBLIC_FIELDS = 'created_at,public_metrics'
const PRIVATE_FIELDS = 'created_at,public_metrics,non_public_metrics'
const MAX_LOOKUP_IDS = 100

/** The answers' shapes: the fields read here. */
const publicMetrics = z.object({
  like_count: z.number().optional(),
  reply_count: z.number().optional(),
  retweet_count: z.number().optional(),
  quote_count: z.number().optional(),
  impression_count: z.number().optional(),
})
type PublicMetrics = z.output<typeof publicMetrics>

const post = z.object({
  id: z.string(),
  created_at: z.string().optional(),
  public_metrics: publicMetrics.optional(),
  non_public_metrics: z.object({ impression_count: z.number().optional(), url_link_clicks: z.number().optional(), user_profile_clicks: z.number().optional() }).optional(),
})
type Post = z.output<typeof post>

/** Per-item problems beside `data` in a 200 (a post whose non-public metrics were refused). */
const itemErrors = z
  .array(z.object({ type: z.string().optional(), resource_type: z.string().optional(), resource_id: z.string().optional(), value: z.string().optional(), field: z.string().optional() }))
  .optional()
type ItemError = NonNullable<z.output<typeof itemErrors>>[number]

/** A timeline page: no `data` when no post is in range, but always `meta`. */
const timelinePage = z.object({
  data: z.array(post).optional(),
  errors: itemErrors,
  meta: z.object({ result_count: z.number().optional(), next_token: z.string().optional() }),
})
type TimelinePage = z.output<typeof timelinePage>

/** A lookup by ids: `data` with the posts found (an answer of errors only is the dialect's failure). */
const postLookup = z.object({ data: z.array(post), errors: itemErrors })

const userAnswer = z.object({ data: z.object({ id: z.string(), public_metrics: z.object({ followers_count: z.number().optional() }).optional() }) })

/** Counters read from a post, and where each comes from. */
const PUBLIC_COUNTERS: Array<{ metric: string; field: keyof PublicMetrics }> = [
  { metric: 'likes', field: 'like_count' },
  { metric: 'comments', field: 'reply_count' },
  { metric: 'shares', field: 'retweet_count' },
]

export const createXCollector = defineCollector<'x', XCollectorTuning>('x', {
  apis: { v2: { dialect: () => xDialect } },
  apiVersion: () => API_VERSION,
  build({ session }, tuning) {
    const postWindowDays = tuning.postWindowDays ?? 90
    const pageSize = tuning.pageSize ?? 100
    return {
      tokenAdvice: xTokenAdvice,
      async collect(context: CollectContext): Promise<CollectSummary> {
        const {
          api: { v2: api },
          accountId: userId,
          observe,
          summary,
          emit,
        } = session(context)

        // 1. The user: the follower level at this round's time.
        const user = await api.get(`/2/users/${encodeURIComponent(userId)}`, userAnswer, { params: { 'user.fields': 'public_metrics' } })
        const followers = user.data.public_metrics?.followers_count
        if (typeof followers === 'number') {
          await emit([observe({ objectType: 'account', objectId: userId, metric: 'followers', observedAt: context.roundAt, value: followers, sourceField: 'public_metrics.followers_count' })])
        }

        const postRows = (post: Post): ObservationRow[] => {
          const created = post.created_at ? new Date(post.created_at) : undefined
          const base = { objectType: 'post' as const, objectId: post.id, observedAt: context.roundAt, objectCreatedAt: created }
          const rows: ObservationRow[] = []
          for (const { metric, field } of PUBLIC_COUNTERS) {
            const value = post.public_metrics?.[field]
            if (typeof value === 'number') rows.push(observe({ ...base, metric, value, sourceField: `public_metrics.${field}` }))
          }
          const publicImpressions = post.public_metrics?.impression_count
          const privateImpressions = post.non_public_metrics?.impression_count
          if (typeof publicImpressions === 'number') rows.push(observe({ ...base, metric: 'impressions', value: publicImpressions, sourceField: 'public_metrics.impression_count' }))
          else if (typeof privateImpressions === 'number') rows.push(observe({ ...base, metric: 'impressions', value: privateImpressions, sourceField: 'non_public_metrics.impression_count' }))
          const clicks = post.non_public_metrics?.url_link_clicks
          if (typeof clicks === 'number') rows.push(observe({ ...base, metric: 'clicks', value: clicks, sourceField: 'non_public_metrics.url_link_clicks' }))
          return rows
        }

        // 2. Posts young enough for non-public metrics, then the older ones with public metrics only.
        const nowMs = context.now().getTime()
        const privateFrom = nowMs - NON_PUBLIC_DAYS * 86_400_000 + NON_PUBLIC_MARGIN_MS
        const windowFrom = nowMs - postWindowDays * 86_400_000
        const refused = new Set<string>()
        let fields = PRIVATE_FIELDS
        await walkTimeline(
          api,
          userId,
          pageSize,
          { from: Math.max(privateFrom, windowFrom) },
          () => fields,
          async (page) => {
            const refusedHere = refusedPosts(page.errors)
            for (const id of refusedHere) refused.add(id)
            // Once X refuses non-public metrics, it will refuse them for the rest: stop asking.
            if (refusedHere.size > 0) fields = PUBLIC_FIELDS
            await emit((page.data ?? []).flatMap(postRows))
          },
        )
        if (privateFrom > windowFrom) {
          await walkTimeline(
            api,
            userId,
            pageSize,
            { from: windowFrom, until: privateFrom },
            () => PUBLIC_FIELDS,
            async (page) => {
              await emit((page.data ?? []).flatMap(postRows))
            },
          )
        }

        // 3. Posts X left out because it refused their non-public metrics: public metrics only.
        if (refused.size > 0) {
          const ids = [...refused]
          for (let i = 0; i < ids.length; i += MAX_LOOKUP_IDS) {
            const batch = ids.slice(i, i + MAX_LOOKUP_IDS)
            // Posts deleted meanwhile come back as per-item errors; if all are gone, X answers only errors.
            const found = await api.get('/2/tweets', postLookup, { params: { ids: batch.join(','), 'tweet.fields': PUBLIC_FIELDS } }).catch((error: unknown) => {
              if (error instanceof ApiError && error.apiCode === 'resource-not-found') return { data: [] }
              throw error
            })
            await emit(found.data.flatMap(postRows))
          }
          const reason = `X refused non_public_metrics of ${refused.size} post(s) (it gives them only to a user-context token of the account, for posts up to ${NON_PUBLIC_DAYS} days old)`
          summary.skipped.push(`clicks of ${refused.size} post(s): ${reason}`)
          ;(summary.refused ??= []).push({
            part: 'non-public post metrics',
            metrics: ['clicks'],
            reason,
            advice: 'Use a user-context token of the account (OAuth 2.0 with PKCE: auth kind oauth, then social-kpi connect), not an app-only Bearer Token.',
          })
        }
        return summary
      },
    }
  },
})

/** Ids of posts X left out of `data` because it refused a non-public field. */
function refusedPosts(errors: ItemError[] | undefined): Set<string> {
  const ids = new Set<string>()
  for (const error of errors ?? []) {
    if (problemKind(error.type) !== 'not-authorized-for-field' || error.resource_type !== 'tweet') continue
    const id = error.resource_id ?? error.value
    if (id) ids.add(id)
  }
  return ids
}

/**
 * The timeline walk's cap: X serves at most the 3,200 most recent posts of a user ("The endpoint can
 * return the 3,200 most recent Tweets, Retweets, replies and Quote Tweets", user Tweet timeline
 * reference), so twice the pages those fill, for pages thinned by `exclude`.
 */
const TIMELINE_MAX_POSTS = 3_200

/**
 * Walks the user's posts (reposts of others excluded) created in [from, until), newest first,
 * following `meta.next_token` until it is absent. A page may be empty and still have a token.
 */
async function walkTimeline(
  api: ApiCaller,
  userId: string,
  pageSize: number,
  range: { from: number; until?: number },
  fields: () => string,
  onPage: (page: TimelinePage) => Promise<void>,
): Promise<void> {
  const path = `/2/users/${encodeURIComponent(userId)}/tweets`
  const walk = pageWalk({ api, url: path, maxPages: 2 * Math.ceil(TIMELINE_MAX_POSTS / pageSize) })
  let token: string | undefined
  for (;;) {
    const page = await api.get(path, timelinePage, {
      params: {
        max_results: pageSize,
        exclude: 'retweets',
        start_time: xTime(range.from),
        end_time: range.until !== undefined ? xTime(range.until) : undefined,
        'tweet.fields': fields(),
        pagination_token: token,
      },
    })
    await onPage(page)
    const next = page.meta.next_token
    if (!next) return
    token = walk.next(next)
  }
}

/** X wants RFC 3339 with whole seconds: 2026-11-26T09:00:00Z. */
function xTime(ms: number): string {
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}Z`
}
