import { DateTime } from 'luxon'
import { z } from 'zod'
import { ApiError, TokenError } from '../../core/errors.ts'
import type { TikTokSettings } from '../../core/networks/tiktok.ts'
import type { PlanAccount } from '../../plan/plan.ts'
import type { ApiCaller } from '../http.ts'
import { pageWalk } from '../paging.ts'
import { createBusinessDialect, displayDialect, tiktokTokenAdvice } from '../tiktok-api.ts'
import { defineCollector, type Session as TikTokSession } from './define.ts'
import { noteRefused, skipRefused, type CollectContext, type CollectSummary, type HistoryWindow } from './types.ts'
import type { ObservationRow } from '../../core/tables.ts'

/**
 * TikTok (social-apis.md §6), one of two APIs per account (`settings.accountType`):
 *
 * - personal: Display API v2 with a Login Kit user token. The profile's follower, like and video
 *   totals, and the videos of the last 90 days with their like, comment, share and view counts.
 *   No daily values and no history.
 * - business: TikTok API for Business (Accounts API). The same totals and video counters, plus
 *   daily profile views, bio link clicks and end-of-day follower levels (UTC days), re-read every
 *   round over the look-back window (at least 60 days, so a level KPI has a baseline at once).
 */
const DISPLAY_VERSION = 'v2'
const BUSINESS_VERSION = 'v1.3'
/** Videos published within this many days are re-read each round. */
const VIDEO_WINDOW_DAYS = 90
/** Both video lists answer at most 20 videos per page. */
const PAGE_SIZE = 20
/**
 * The video walks' cap: 500 pages of 20 are 10,000 videos in the 90-day window, over 110 a day;
 * the busiest accounts post a few a day.
 */
const VIDEO_MAX_PAGES = 500
/** Business daily values: at most this many days per request (UNCONFIRMED limit; we stay within it). */
const BUSINESS_DAYS_PER_REQUEST = 30
/** Business daily values are served this far back (UNCONFIRMED); the regular round reads them all. */
const BUSINESS_HISTORY_DAYS = 60

const DISPLAY_USER_FIELDS = 'open_id,follower_count,likes_count,video_count'
const DISPLAY_VIDEO_FIELDS = 'id,create_time,like_count,comment_count,share_count,view_count'
const BUSINESS_ACCOUNT_FIELDS = ['followers_count', 'total_likes', 'videos_count']
const BUSINESS_DAILY_FIELDS = ['profile_views', 'bio_link_clicks', 'daily_total_followers']
const BUSINESS_VIDEO_FIELDS = ['item_id', 'create_time', 'likes', 'comments', 'shares', 'video_views']

/**
 * The answers' shapes, inside the envelope the dialect has checked (`error.code` "ok", `code` 0).
 * Counts may come as numbers or as numbers written as strings, so they stay `unknown` and are
 * read by `count`; the structure around them is declared.
 */
const fields = z.record(z.string(), z.unknown())
const videoPage = z.object({ videos: z.array(fields).optional(), cursor: z.unknown(), has_more: z.unknown() })
type VideoPage = z.output<typeof videoPage>

const displayUser = z.object({ data: z.object({ user: fields.optional() }) })
const displayVideos = z.object({ data: videoPage })
const businessAccount = z.object({ data: fields })
const businessDays = z.object({ data: z.object({ metrics: z.array(fields).optional() }) })
const businessVideos = z.object({ data: videoPage })

/** Gauges of the account, by our metric: [API field, metric]. */
const DISPLAY_GAUGES = [
  ['follower_count', 'followers'],
  ['likes_count', 'total_likes'],
  ['video_count', 'videos'],
] as const
const BUSINESS_GAUGES = [
  ['followers_count', 'followers'],
  ['total_likes', 'total_likes'],
  ['videos_count', 'videos'],
] as const

type Api = 'display' | 'business'

/** Video counters: each API's field for our metric. */
const VIDEO_COUNTERS: ReadonlyArray<{ metric: string; display: string; business: string }> = [
  { metric: 'likes', display: 'like_count', business: 'likes' },
  { metric: 'comments', display: 'comment_count', business: 'comments' },
  { metric: 'shares', display: 'share_count', business: 'shares' },
  { metric: 'views', display: 'view_count', business: 'video_views' },
]
/** Each API's video list, how it names a video's id, and whether its cursor is a time (Display: Unix ms). */
const VIDEO_LIST: Record<Api, { method: 'GET' | 'POST'; path: string; id: string; cursorIsTime: boolean }> = {
  display: { method: 'POST', path: '/v2/video/list/', id: 'id', cursorIsTime: true },
  business: { method: 'GET', path: '/business/video/list/', id: 'item_id', cursorIsTime: false },
}

/** A business account reads the API for Business; the plan's default (personal) reads the Display API. */
const isBusiness = (account: PlanAccount) => (account.settings as TikTokSettings | undefined)?.accountType === 'business'

/** A count as the API sent it: numbers, or numbers written as strings. Anything else is no value. */
function count(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined
  if (typeof value === 'string' && value.trim() !== '') {
    const parsed = Number(value)
    return Number.isFinite(parsed) ? parsed : undefined
  }
  return undefined
}

export const createTikTokCollector = defineCollector('tiktok', {
  apis: {
    display: { dialect: () => displayDialect },
    business: { dialect: () => createBusinessDialect(), path: () => `/${BUSINESS_VERSION}` },
  },
  apiVersion: () => `${DISPLAY_VERSION} (Display), ${BUSINESS_VERSION} (Business)`,
  build({ session }) {
    type Session = TikTokSession<'tiktok'>

    /** Level values read now, stored at the round's time. */
    async function emitGauges(s: Session, context: CollectContext, source: Record<string, unknown>, gauges: ReadonlyArray<readonly [string, string]>) {
      const rows: ObservationRow[] = []
      for (const [field, metric] of gauges) {
        const value = count(source[field])
        if (value !== undefined) rows.push(s.observe({ objectType: 'account', objectId: s.accountId, metric, observedAt: context.roundAt, value, sourceField: field }))
      }
      await s.emit(rows)
    }

    /**
     * Pages through a video list, newest first, until `has_more` is false or the videos are older
     * than the window. A page may be short or empty (private videos are dropped after paging) and
     * still have more, so only `has_more` and the cursor decide. The Display cursor is the Unix time
     * in ms of the page's oldest video, so there an empty page can end the window too.
     */
    async function walkVideos(s: Session, context: CollectContext, api: Api, fetchPage: (cursor: number | undefined) => Promise<VideoPage | undefined>) {
      const { id: idField, cursorIsTime, method, path } = VIDEO_LIST[api]
      const windowStart = context.now().getTime() - VIDEO_WINDOW_DAYS * 86_400_000
      const walk = pageWalk({ api: s.api[api], method, url: path, maxPages: VIDEO_MAX_PAGES })
      let cursor: number | undefined
      for (;;) {
        const batch = await fetchPage(cursor)
        const rows: ObservationRow[] = []
        let oldestMs = Number.POSITIVE_INFINITY
        for (const video of batch?.videos ?? []) {
          const id = video[idField]
          const createdSeconds = count(video.create_time)
          if ((typeof id !== 'string' && typeof id !== 'number') || createdSeconds === undefined) continue
          const created = new Date(createdSeconds * 1000)
          oldestMs = Math.min(oldestMs, created.getTime())
          if (created.getTime() < windowStart) continue
          for (const counter of VIDEO_COUNTERS) {
            const field = counter[api]
            const value = count(video[field])
            if (value === undefined) continue
            rows.push(s.observe({ objectType: 'post', objectId: String(id), metric: counter.metric, observedAt: context.roundAt, value, objectCreatedAt: created, sourceField: field }))
          }
        }
        await s.emit(rows)
        const next = count(batch?.cursor)
        if (batch?.has_more !== true || next === undefined) break
        if (oldestMs < windowStart || (cursorIsTime && next < windowStart)) break
        cursor = walk.next(next)
      }
    }

    async function collectPersonal(context: CollectContext): Promise<CollectSummary> {
      const s = session(context, DISPLAY_VERSION)
      const api = s.api.display

      // 1. The profile's totals. The token names the user, so check it is the plan's account.
      const info = await api.get('/v2/user/info/', displayUser, { params: { fields: DISPLAY_USER_FIELDS } })
      const user = info.data.user ?? {}
      if (typeof user.open_id === 'string' && user.open_id !== s.accountId) {
        throw new TokenError('tiktok', 'open_id_mismatch', `the token in ${context.account.tokenEnv} is for TikTok user ${user.open_id}, not for the plan's apiId ${s.accountId}`)
      }
      await emitGauges(s, context, user, DISPLAY_GAUGES)

      // 2. Recent videos with their counters (POST with a JSON body; the fields go in the query).
      await walkVideos(
        s,
        context,
        'display',
        async (cursor) =>
          (await api.post(VIDEO_LIST.display.path, cursor === undefined ? { max_count: PAGE_SIZE } : { max_count: PAGE_SIZE, cursor }, displayVideos, { params: { fields: DISPLAY_VIDEO_FIELDS } }))
            .data,
      )
      return s.summary
    }

    /**
     * Business daily values for the UTC days [from, to), in requests of at most 30 days (both
     * dates are included by the API). A chunk refused permanently is noted and skipped.
     */
    async function readBusinessDays(s: Session, api: ApiCaller, from: DateTime, to: DateTime) {
      for (let start = from; start < to; start = start.plus({ days: BUSINESS_DAYS_PER_REQUEST })) {
        const endInclusive = DateTime.min(start.plus({ days: BUSINESS_DAYS_PER_REQUEST }), to).minus({ days: 1 })
        const params = { business_id: s.accountId, fields: JSON.stringify(BUSINESS_DAILY_FIELDS), start_date: start.toISODate(), end_date: endInclusive.toISODate() }
        let answer: z.output<typeof businessDays>
        try {
          answer = await api.get('/business/get/', businessDays, { params })
        } catch (error) {
          if (!(error instanceof ApiError) || error.retryable) throw error
          noteRefused(s.summary, { part: `daily metrics ${params.start_date}…${params.end_date}`, metrics: ['clicks', 'profile_views'] }, error)
          continue
        }
        const rows: ObservationRow[] = []
        for (const day of answer.data.metrics ?? []) {
          const date = typeof day.date === 'string' ? DateTime.fromISO(day.date, { zone: 'UTC' }) : undefined
          if (!date?.isValid) continue
          const dayStart = date.toJSDate()
          const common = { objectType: 'account' as const, objectId: s.accountId, dayZone: 'UTC' }
          const clicks = count(day.bio_link_clicks)
          const views = count(day.profile_views)
          const followers = count(day.daily_total_followers)
          if (clicks !== undefined) rows.push(s.observe({ ...common, metric: 'clicks', observedAt: dayStart, value: clicks, sourceField: 'metrics.bio_link_clicks' }))
          if (views !== undefined) rows.push(s.observe({ ...common, metric: 'profile_views', observedAt: dayStart, value: views, sourceField: 'metrics.profile_views' }))
          // The level at the day's end.
          if (followers !== undefined)
            rows.push(s.observe({ ...common, metric: 'followers', observedAt: date.plus({ days: 1 }).toJSDate(), value: followers, sourceField: 'metrics.daily_total_followers' }))
        }
        await s.emit(rows)
      }
    }

    async function collectBusiness(context: CollectContext): Promise<CollectSummary> {
      const s = session(context, BUSINESS_VERSION)
      const api = s.api.business

      // 1. The account's totals now.
      const account = await api.get('/business/get/', businessAccount, { params: { business_id: s.accountId, fields: JSON.stringify(BUSINESS_ACCOUNT_FIELDS) } })
      await emitGauges(s, context, account.data, BUSINESS_GAUGES)

      // 2. Recent videos with their counters (the cursor is opaque here). A refused video list
      //    starves the video counters only: the daily values below are still read.
      await skipRefused(s.summary, { part: 'video list', metrics: VIDEO_COUNTERS.map((c) => c.metric) }, () =>
        walkVideos(
          s,
          context,
          'business',
          async (cursor) =>
            (
              await api.get(VIDEO_LIST.business.path, businessVideos, {
                params: { business_id: s.accountId, fields: JSON.stringify(BUSINESS_VIDEO_FIELDS), max_count: PAGE_SIZE, cursor },
              })
            ).data,
        ),
      )

      // 3. Daily values of the finished UTC days, re-read over the look-back window (TikTok
      //    completes recent days late); at least 60 days, for the follower-level baseline.
      const today = DateTime.fromJSDate(context.now(), { zone: 'UTC' }).startOf('day')
      await readBusinessDays(s, api, today.minus({ days: Math.max(context.lookbackDays, BUSINESS_HISTORY_DAYS) }), today)
      return s.summary
    }

    return {
      tokenAdvice: tiktokTokenAdvice,
      history: {
        maxWindowDays: BUSINESS_DAYS_PER_REQUEST,
        maxAgeDays: BUSINESS_HISTORY_DAYS,
        hasHistory: isBusiness,
        notes: [
          'personal accounts (Display API) keep no history: their totals and video counters are collected from now on',
          'business accounts: daily profile views, bio link clicks and follower levels are backfilled; video likes, comments, shares and views are current totals only',
        ],
        async backfill(context: CollectContext, window: HistoryWindow): Promise<CollectSummary> {
          if (!isBusiness(context.account)) return { observations: 0, skipped: [] }
          const s = session(context, BUSINESS_VERSION)
          await readBusinessDays(s, s.api.business, DateTime.fromISO(window.from, { zone: 'UTC' }), DateTime.fromISO(window.to, { zone: 'UTC' }))
          return s.summary
        },
      },
      async collect(context: CollectContext): Promise<CollectSummary> {
        return isBusiness(context.account) ? collectBusiness(context) : collectPersonal(context)
      },
    }
  },
})
