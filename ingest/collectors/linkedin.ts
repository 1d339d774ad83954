import { z } from 'zod'
import type { ApiError } from '../../core/errors.ts'
import type { ApiCaller } from '../http.ts'
import { pageWalk } from '../paging.ts'
import { linkedInDialect, linkedInHeaders, linkedInTokenAdvice, organizationUrn, timeIntervalsParam } from '../linkedin-api.ts'
import { defineCollector } from './define.ts'
import { skipRefused, type CollectContext, type CollectSummary, type HistoryWindow } from './types.ts'
import type { ObservationRow } from '../../core/tables.ts'

/**
 * LinkedIn organization Pages through the Community Management API (social-apis.md §4): the
 * follower total (networkSizes) at the round's time, and daily follower gains and organic share
 * statistics (likes, clicks, comments, shares, impressions) per UTC day. LinkedIn reports a day
 * once it is over and revises it for about two days, so every round re-reads the last
 * max(lookbackDays, 3) complete days; re-read days replace the earlier reading. The daily values
 * reach back 12 months, so they can be backfilled; the follower total cannot.
 */
export interface LinkedInCollectorTuning {
  /** `count` per statistics page (default 100). */
  pageSize?: number
}

const DAY_MS = 86_400_000
/**
 * Follower statistics answer only ranges that end at least two days before today (UTC), else
 * 400 "Invalid timeIntervals parameter" (Airbyte's LinkedIn Pages connector, and third-party
 * reports; LinkedIn's own page does not say: UNCONFIRMED there). Those days come late anyway.
 */
const FOLLOWER_END_LAG_DAYS = 2
/** LinkedIn revises a day for about two days after it ends; re-read at least this many days. */
const LATE_DATA_DAYS = 3
/** Statistics cover the rolling past 12 months only. */
const MAX_DAYS = 365

/** The answers' shapes: the fields read here. Rest.li collections always carry `elements`. */
const timeRange = z.object({ start: z.number(), end: z.number() })
type TimeRange = z.output<typeof timeRange>

const followerElement = z.object({
  timeRange: timeRange.optional(),
  followerGains: z.object({ organicFollowerGain: z.number().optional(), paidFollowerGain: z.number().optional() }).optional(),
})

const shareElement = z.object({
  timeRange: timeRange.optional(),
  totalShareStatistics: z.record(z.string(), z.number().optional()).optional(),
})

const networkSize = z.object({ firstDegreeSize: z.number() })

/** Daily share statistics and the metric each feeds. */
/** What to do when LinkedIn refuses a statistics report for the organization. */
const FOLLOWER_STATISTICS_ADVICE =
  'LinkedIn gives follower statistics to a token of a member with the ADMINISTRATOR role on the Page, with rw_organization_admin; check the role in the Page admin tools, then connect again (docs/accounts.md).'
const SHARE_STATISTICS_ADVICE =
  'LinkedIn gives share statistics to a token of a member with an ADMINISTRATOR (or ANALYST) role on the Page, with rw_organization_admin; check the role, then connect again (docs/accounts.md).'

const SHARE_FIELDS: Array<{ field: string; metric: string }> = [
  { field: 'likeCount', metric: 'likes' },
  { field: 'clickCount', metric: 'clicks' },
  { field: 'commentCount', metric: 'comments' },
  { field: 'shareCount', metric: 'shares' },
  { field: 'impressionCount', metric: 'impressions' },
]

export const createLinkedInCollector = defineCollector<'linkedin', LinkedInCollectorTuning>('linkedin', {
  apis: { rest: { dialect: (_, config) => linkedInDialect(config.LINKEDIN_VERSION), headers: (config) => linkedInHeaders(config.LINKEDIN_VERSION) } },
  apiVersion: (config) => config.LINKEDIN_VERSION,
  build({ session }, tuning) {
    const pageSize = tuning.pageSize ?? 100

    function open(context: CollectContext) {
      const s = session(context)
      return { ...s, api: s.api.rest, organization: encodeURIComponent(organizationUrn(s.accountId)), objectId: s.accountId }
    }

    /** Daily follower gains and share statistics of the UTC days in [start, end). */
    // A sunset LinkedIn-Version must stop the round with its own error, not be skipped as one refused report.
    const versionGone = (error: ApiError) => error.apiCode === 'NONEXISTENT_VERSION'

    async function readDays(s: ReturnType<typeof open>, start: number, end: number, nowMs: number): Promise<void> {
      const finder = (resource: string, until = end) => `/rest/${resource}?q=organizationalEntity&organizationalEntity=${s.organization}&${timeIntervalsParam(start, until)}`
      // Follower statistics refuse a range that ends less than two days before today (UTC).
      const followerEnd = Math.min(end, Math.floor(nowMs / DAY_MS) * DAY_MS - FOLLOWER_END_LAG_DAYS * DAY_MS)
      const daily = (timeRange: TimeRange | undefined, metric: string, value: unknown, sourceField: string): ObservationRow | undefined =>
        timeRange && typeof value === 'number'
          ? s.observe({ objectType: 'account', objectId: s.objectId, metric, observedAt: new Date(timeRange.start), dayZone: 'UTC', value, sourceField })
          : undefined

      if (followerEnd > start)
        await skipRefused(
          s.summary,
          { part: 'follower statistics', metrics: ['followers_gained'], advice: FOLLOWER_STATISTICS_ADVICE },
          () =>
            walkElements(s.api, finder('organizationalEntityFollowerStatistics', followerEnd), followerElement, pageSize, async (elements) => {
              const rows: ObservationRow[] = []
              for (const element of elements) {
                const gains = element.followerGains
                if (!gains || (gains.organicFollowerGain === undefined && gains.paidFollowerGain === undefined)) continue
                const row = daily(element.timeRange, 'followers_gained', (gains.organicFollowerGain ?? 0) + (gains.paidFollowerGain ?? 0), 'followerGains.organicFollowerGain+paidFollowerGain')
                if (row) rows.push(row)
              }
              await s.emit(rows)
            }),
          versionGone,
        )
      await skipRefused(
        s.summary,
        { part: 'share statistics', metrics: SHARE_FIELDS.map((f) => f.metric), advice: SHARE_STATISTICS_ADVICE },
        () =>
          walkElements(s.api, finder('organizationalEntityShareStatistics'), shareElement, pageSize, async (elements) => {
            const rows: ObservationRow[] = []
            for (const element of elements) {
              for (const { field, metric } of SHARE_FIELDS) {
                const row = daily(element.timeRange, metric, element.totalShareStatistics?.[field], `totalShareStatistics.${field}`)
                if (row) rows.push(row)
              }
            }
            await s.emit(rows)
          }),
        versionGone,
      )
    }

    return {
      tokenAdvice: linkedInTokenAdvice,
      history: {
        maxWindowDays: 90,
        maxAgeDays: MAX_DAYS - 1,
        notes: ['the follower total (networkSizes) has no history; daily follower gains, likes, clicks, comments, shares and impressions are backfilled'],
        async backfill(context: CollectContext, window: HistoryWindow): Promise<CollectSummary> {
          const s = open(context)
          const today = Math.floor(context.now().getTime() / DAY_MS) * DAY_MS
          // LinkedIn wants a range that starts at least two days back; reading a little more is harmless.
          const start = Math.min(Date.parse(`${window.from}T00:00:00Z`), today - LATE_DATA_DAYS * DAY_MS)
          const end = Math.min(Date.parse(`${window.to}T00:00:00Z`), today)
          if (end > start) await readDays(s, start, end, context.now().getTime())
          return s.summary
        },
      },
      async collect(context: CollectContext): Promise<CollectSummary> {
        const s = open(context)

        // 1. The follower total, at this round's time.
        const size = await s.api.get(`/rest/networkSizes/${s.organization}?edgeType=COMPANY_FOLLOWED_BY_MEMBER`, networkSize)
        await s.emit([
          s.observe({ objectType: 'account', objectId: s.objectId, metric: 'followers', observedAt: context.roundAt, value: size.firstDegreeSize, sourceField: 'networkSizes.firstDegreeSize' }),
        ])

        // 2. Complete UTC days of the look-back window, re-read every round.
        const end = Math.floor(context.now().getTime() / DAY_MS) * DAY_MS
        await readDays(s, end - Math.min(MAX_DAYS - 1, Math.max(context.lookbackDays, LATE_DATA_DAYS)) * DAY_MS, end, context.now().getTime())
        return s.summary
      },
    }
  },
})

/**
 * Pages through a Rest.li finder with `start`/`count` until a page holds fewer than `count`
 * elements (possibly none). A page that brings no new time range ends the walk too, so an API
 * that ignored `start` could not loop us forever.
 */
async function walkElements<E extends z.ZodType<{ timeRange?: TimeRange }>>(
  api: ApiCaller,
  path: string,
  element: E,
  count: number,
  onPage: (elements: Array<z.output<E>>) => Promise<void>,
): Promise<void> {
  const pageSchema = z.object({ elements: z.array(element) })
  const seen = new Set<number>()
  // A walk covers at most the 12 months LinkedIn keeps, one element a day: twice the pages those fill.
  const walk = pageWalk({ api, url: path, maxPages: 2 * Math.ceil(MAX_DAYS / count) })
  for (let start = 0; ; ) {
    const answer = await api.get(`${path}&start=${start}&count=${count}`, pageSchema)
    const elements = answer.elements
    const fresh = elements.filter((e) => e.timeRange === undefined || !seen.has(e.timeRange.start))
    for (const e of fresh) if (e.timeRange) seen.add(e.timeRange.start)
    await onPage(fresh)
    if (elements.length < count || fresh.length === 0) return
    start = walk.next(start + elements.length)
  }
}
