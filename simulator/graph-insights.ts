/**
 * Graph insights: `/{page-id}/insights` (daily series over Pacific-time days) and
 * `/{post-id}/insights` (lifetime values as of now). Reference: social-apis.md §1.3, §1.4.
 */
import { GraphError, invalidParameter, linkWith, parseTimeParam } from './graph-common.ts'
import type { DayInsights, Post, PostCounts, ReactionCounts, Scenario } from './scenario.ts'
import { REACTION_TYPES } from './scenario.ts'
import { addPacificDays, graphTime, pacificDayStart, pacificDaysBetween } from './time.ts'

type Period = 'day' | 'week' | 'days_28'
type Value = number | Partial<ReactionCounts>

/** Every value of Graph's `period` enum; the ones a metric does not have yield no series. */
const PERIOD_ENUM = ['day', 'week', 'days_28', 'month', 'lifetime', 'total_over_range'] as const
const ROLLING_DAYS: Record<Period, number> = { day: 1, week: 7, days_28: 28 }
const PERIOD_WORD: Record<Period, { title: string; description: string }> = {
  day: { title: 'Daily', description: 'Daily' },
  week: { title: 'Weekly', description: 'Weekly' },
  days_28: { title: '28 Days', description: '28 Days' },
}

/** Insights windows may span at most this many days (social-apis.md §1.3). */
const MAX_SPAN_DAYS = 90

interface PageMetric {
  /** `week` and `days_28` are rolling sums of the daily values; only summable counts offer them. */
  periods: readonly Period[]
  title: string
  description: string
  /** A fixed title, for metrics whose documented title does not follow the "Daily X" pattern. */
  fixedTitle?: string
  value(day: DayInsights): Value
}

const ALL_PERIODS: readonly Period[] = ['day', 'week', 'days_28']

const PAGE_METRICS: Record<string, PageMetric> = {
  page_follows: {
    periods: ['day'],
    title: 'Page Follows',
    description: 'The total number of people who follow your Page, at the end of the day.',
    value: (d) => d.follows,
  },
  page_daily_follows_unique: {
    periods: ['day'],
    title: 'New Follows',
    description: 'The number of people who followed your Page.',
    value: (d) => d.newFollows,
  },
  page_post_engagements: {
    periods: ALL_PERIODS,
    title: 'Post Engagements',
    description: 'The number of times people have engaged with your posts through like, comments and shares and more.',
    value: (d) => d.engagements,
  },
  page_total_actions: {
    periods: ALL_PERIODS,
    title: 'Total Page Actions',
    description: "The number of clicks on your Page's contact info and call-to-action button.",
    value: (d) => d.actions,
  },
  page_media_view: {
    periods: ALL_PERIODS,
    title: 'Media Views',
    description: 'The number of times your content was played or displayed.',
    value: (d) => d.mediaViews,
  },
  page_total_media_view_unique: {
    periods: ['day'],
    title: 'Media Viewers',
    description: 'The number of people who saw any content from your Page.',
    value: (d) => d.mediaViewers,
  },
  page_actions_post_reactions_total: {
    periods: ['day'],
    title: '',
    description: 'total post reactions of a page.',
    fixedTitle: 'Daily: total post reactions of a page.',
    value: (d) => reactionObject(d.reactions),
  },
}

interface PostMetric {
  title: string
  description: string
  value(counts: PostCounts): Value
}

const POST_METRICS: Record<string, PostMetric> = {
  post_clicks: {
    title: 'Lifetime Post Clicks',
    description: 'Lifetime: The number of clicks anywhere in your post without generating a story.',
    value: (c) => c.clicks,
  },
  post_reactions_by_type_total: {
    title: 'Lifetime Total post Reactions by Type.',
    description: 'Lifetime: Total post reactions by type.',
    value: (c) => reactionObject(c.reactions),
  },
  post_media_view: {
    title: 'Lifetime Media Views',
    description: 'Lifetime: The number of times your post was played or displayed.',
    value: (c) => c.views,
  },
  post_total_media_view_unique: {
    title: 'Lifetime Media Viewers',
    description: 'Lifetime: The number of people who saw your post.',
    value: (c) => Math.floor(c.views * 0.72),
  },
}

/**
 * Retired metrics (deprecated 2024-03-14, 2025-11-15 and by 2026-06-15, social-apis.md §1.3).
 * They answer like unknown names. The message text is UNCONFIRMED (the reference recommends it).
 */
const RETIRED = new Set([
  'page_fans',
  'page_fan_adds',
  'page_fan_adds_unique',
  'page_fan_removes',
  'page_fan_removes_unique',
  'page_impressions',
  'page_impressions_unique',
  'page_engaged_users',
  'page_consumptions',
  'page_posts_impressions',
  'page_posts_impressions_unique',
  'post_impressions',
  'post_impressions_unique',
])

function invalidMetric(): GraphError {
  return invalidParameter('(#100) The value must be a valid insights metric')
}

/** Reaction counts as Graph writes them: zero keys left out, `{}` when all are zero. */
function reactionObject(counts: ReactionCounts): Partial<ReactionCounts> {
  const out: Partial<ReactionCounts> = {}
  for (const type of REACTION_TYPES) if (counts[type] > 0) out[type] = counts[type]
  return out
}

/** The requested metric names, from the path (`/insights/{metric}`) or the `metric` parameter. */
function requestedMetrics(query: URLSearchParams, pathMetric: string | undefined, known: Record<string, unknown>): string[] {
  const names = (pathMetric ?? query.get('metric') ?? '')
    .split(',')
    .map((m) => m.trim())
    .filter((m) => m !== '')
  if (names.length === 0) {
    throw new GraphError({
      message: 'Invalid query',
      type: 'OAuthException',
      code: 3001,
      error_subcode: 1504028,
      is_transient: false,
      error_user_title: 'No Metric Specified',
      error_user_msg: 'No metric was specified to be fetched. Please specify one or more metrics to be fetched and try again.',
    })
  }
  for (const name of names) if (RETIRED.has(name) || !(name in known)) throw invalidMetric()
  return [...new Set(names)]
}

/** The requested period, or undefined for "every period the metric has" (Graph's default). */
function requestedPeriod(query: URLSearchParams): string | undefined {
  const period = query.get('period')?.trim()
  if (!period) return undefined
  if (!(PERIOD_ENUM as readonly string[]).includes(period)) {
    // UNCONFIRMED: wording modelled on Graph's enum-parameter errors.
    throw invalidParameter(`(#100) period must be one of the following values: ${PERIOD_ENUM.join(', ')}`)
  }
  return period
}

export interface InsightsCall {
  scenario: Scenario
  pageId: string
  /** The path of the insights edge, for the `id` of each series (`{object}/insights`). */
  objectId: string
  pathMetric: string | undefined
  query: URLSearchParams
  pathname: string
  baseUrl: string
  nowMs: number
}

/**
 * Daily Page insights. Days are Pacific-time days; a value's `end_time` is the day's end (the next
 * Pacific midnight), so the first `end_time` is since-day + 1 day and the last is until-day.
 * Only days that have ended by now are returned. Without since/until: the last 3 complete days.
 * Periods: `day` for every metric; `week` and `days_28` (rolling sums ending at `end_time`) for
 * page_post_engagements, page_total_actions and page_media_view. A metric without the requested
 * period is left out of `data` (UNCONFIRMED: real Graph may answer otherwise); no `period` returns
 * every period the metric has.
 */
export function pageInsights(call: InsightsCall): unknown {
  const { scenario, pageId, query, nowMs } = call
  const metrics = requestedMetrics(query, call.pathMetric, PAGE_METRICS)
  const period = requestedPeriod(query)
  const since = parseTimeParam('since', query.get('since'))
  const until = parseTimeParam('until', query.get('until'))

  const untilDay = pacificDayStart(until ?? nowMs)
  const sinceDay = since !== undefined ? pacificDayStart(since) : addPacificDays(untilDay, -3)
  const span = pacificDaysBetween(sinceDay, untilDay)
  if (span < 0) {
    // UNCONFIRMED: Graph's wording for since after until.
    throw invalidParameter('(#100) The since parameter must be before the until parameter')
  }
  if (span > MAX_SPAN_DAYS) {
    // UNCONFIRMED: the 90-day limit is documented, this message text is our guess.
    throw invalidParameter(`(#100) The since and until parameters must be no more than ${MAX_SPAN_DAYS} days apart`)
  }

  // Days of the window whose end has passed, plus the 27 before it for rolling sums.
  const days = new Map<number, DayInsights>()
  const dayAt = (dayStart: number): DayInsights => {
    let day = days.get(dayStart)
    if (!day) {
      day = scenario.day(pageId, dayStart, addPacificDays(dayStart, 1))
      days.set(dayStart, day)
    }
    return day
  }
  const windowDays: number[] = []
  for (let i = 0; i < span; i++) {
    const start = addPacificDays(sinceDay, i)
    if (addPacificDays(start, 1) > nowMs) break
    windowDays.push(start)
  }

  const data: unknown[] = []
  for (const name of metrics) {
    const metric = PAGE_METRICS[name]!
    const periods = period === undefined ? metric.periods : metric.periods.filter((p) => p === period)
    for (const p of periods) {
      const values = windowDays.map((start) => {
        let value: Value
        if (p === 'day') value = metric.value(dayAt(start))
        else {
          let sum = 0
          for (let back = 0; back < ROLLING_DAYS[p]; back++) sum += metric.value(dayAt(addPacificDays(start, -back))) as number
          value = sum
        }
        return { value, end_time: graphTime(addPacificDays(start, 1)) }
      })
      const word = PERIOD_WORD[p]
      data.push({
        name,
        period: p,
        values,
        title: metric.fixedTitle ?? `${word.title} ${metric.title}`,
        description: `${word.description}: ${metric.description}`,
        id: `${call.objectId}/insights/${name}/${p}`,
      })
    }
  }

  // Time-based paging: the same window shifted back, and forward while that window starts before now.
  const shift = Math.max(span, 1)
  const seconds = (ms: number) => String(Math.floor(ms / 1000))
  const paging: Record<string, string> = {
    previous: linkWith(call.baseUrl, call.pathname, query, { since: seconds(addPacificDays(sinceDay, -shift)), until: seconds(addPacificDays(untilDay, -shift)) }),
  }
  const nextSince = addPacificDays(sinceDay, shift)
  if (nextSince < nowMs) {
    paging.next = linkWith(call.baseUrl, call.pathname, query, { since: seconds(nextSince), until: seconds(addPacificDays(untilDay, shift)) })
  }
  return { data, paging }
}

/** Lifetime post insights as of now. Only `lifetime` exists; another period yields no series. */
export function postInsights(call: InsightsCall & { post: Post }): unknown {
  const metrics = requestedMetrics(call.query, call.pathMetric, POST_METRICS)
  const period = requestedPeriod(call.query)
  const counts = call.scenario.postCounts(call.post, call.nowMs)
  const data: unknown[] = []
  if (period === undefined || period === 'lifetime') {
    for (const name of metrics) {
      const metric = POST_METRICS[name]!
      data.push({
        name,
        period: 'lifetime',
        values: [{ value: metric.value(counts) }],
        title: metric.title,
        description: metric.description,
        id: `${call.objectId}/insights/${name}/lifetime`,
      })
    }
  }
  return { data }
}
