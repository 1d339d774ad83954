import { DateTime } from 'luxon'
import { z } from 'zod'
import { ConfigError } from '../core/errors.ts'
import { METRICS, type Network } from '../core/metrics.ts'
import { FINAL_VERDICT_GRACE_MS, evaluateKpi } from './evaluate.ts'
import type { KpiDataSource, MetricSelection } from './kinds/source.ts'
import { KPI_KINDS, kpiKind } from './kinds/index.ts'
import { periodAt, type Period } from '../plan/periods.ts'
import { kpiAccounts, REVIEW_PERIODS, type Kpi, type Plan, type ReviewKind } from '../plan/plan.ts'
import { KPI_UNITS } from '../plan/units.ts'
import { DATA_PROBLEMS, isStatusReason, severityRank, STATUS_REASONS, statusMeaning, storedProblem, type DataProblem, type StatusReason } from './statuses.ts'

/**
 * The period review (docs/period-review.md): what a week, month, quarter or year came to, against
 * the plan. Built from the final verdicts (kpi_verdicts) and the stored observations and alert
 * history, as known at one instant (`knownAt`: the end of the grace window, or the moment it is
 * asked for), so building it again gives the same review. This module is the model and its rules;
 * the numbers come through ReviewDataSource (alerts/review-source.ts reads them from ClickHouse).
 * Words, charts and formats are alerts/review-email.ts.
 */

const DAY_MS = 86_400_000
/** A review not sent within this long after its period settled is not sent any more (the system was down): `report` still renders it. */
export const REVIEW_DUE_WITHIN_MS = 7 * DAY_MS
/** How many periods the trend target is drawn from: the reviewed one and the two before it. */
const TREND_PERIODS = 3

const iso = z.string()
const verdictStatus = z.enum(['achieved', 'missed', 'unknown'])

const periodNumbers = z.object({
  label: z.string(),
  start: iso,
  end: iso,
  actual: z.number().nullable(),
  target: z.number(),
  attainment: z.number().nullable(),
  status: verdictStatus,
  /** For `unknown`: why there is no verdict (kpi/statuses.ts); null or absent otherwise (and in reviews stored before it existed). */
  reason: z.enum(STATUS_REASONS).nullable().optional(),
  /** The accounts whose data was missing or stale, for reasons `incomplete` and `data_problem`. */
  missingAccounts: z.array(z.string()).optional(),
  /** For reason `data_problem`: what was wrong (kpi/statuses.ts DATA_PROBLEMS) and its numbers; absent in reviews stored before it existed. */
  problem: z.object({ cause: z.enum(DATA_PROBLEMS), facts: z.record(z.string(), z.string()) }).optional(),
  /** For money: the currency of its amounts (ISO 4217), when its accounts told it. */
  currency: z.string().optional(),
  /** True when it is the stored final verdict; false when judged from the observations for the review. */
  stored: z.boolean(),
})

const nextNeeds = z.object({
  label: z.string(),
  start: iso,
  end: iso,
  days: z.number(),
  target: z.number(),
  /** Per day over the next period to reach its target (for an at-most KPI: the most per day); null for a rate. */
  perDay: z.number().nullable(),
  /** What the reviewed period did per day, to compare; null for a rate or without data. */
  thisPerDay: z.number().nullable(),
  /** The next period's value on the least-squares line through the last periods' actuals; null with under two. */
  trendTarget: z.number().nullable(),
  /** The periods that line is drawn through, oldest first. */
  trendFrom: z.array(z.string()),
})

const chartPoint = z.tuple([z.number(), z.number()])

const kpiReview = z.object({
  id: z.string(),
  name: z.string(),
  network: z.string(),
  metric: z.string(),
  denominator: z.string().optional(),
  kind: z.enum(KPI_KINDS),
  /** How its numbers are shown (plan/units.ts); absent in reviews stored before it existed (then its default unit). */
  unit: z.enum(KPI_UNITS).optional(),
  comparator: z.enum(['at_least', 'at_most']),
  verdict: periodNumbers,
  previous: periodNumbers.nullable(),
  /** actual − previous actual, and that as a share of the previous actual. */
  change: z.number().nullable(),
  changeShare: z.number().nullable(),
  /** The KPI's value (its own unit) at daily steps over the period, for the chart; the last point is the verdict's actual. */
  history: z.array(chartPoint),
  /** A level's value at the period start (where its progress is counted from). */
  baseline: z.number().nullable(),
  /** The pace: cumulative shares at equal steps of the period; [1] is linear. */
  pace: z.array(z.number()),
  /** What the plan says to do about it: the KPI's own actions, else its objective's. Only for a missed KPI. */
  actions: z.array(z.string()),
  next: nextNeeds.nullable(),
})

const objectiveReview = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().optional(),
  /** Met: every KPI achieved; not met: one missed; null: no KPI missed, but some have no data. */
  met: z.boolean().nullable(),
  kpis: z.array(kpiReview),
})

const postLine = z.object({ accountId: z.string(), objectId: z.string(), createdAt: iso.nullable(), gained: z.number() })

const postsReview = z.object({
  network: z.string(),
  metric: z.string(),
  kpiIds: z.array(z.string()),
  /** How many posts gained anything in the period, or were published in it. */
  counted: z.number(),
  total: z.number(),
  top: z.array(postLine),
  /** Published in the period and gained the least. */
  flat: z.array(postLine),
})

const alertEpisode = z.object({
  key: z.string(),
  kind: z.enum(['kpi', 'crisis', 'source', 'freshness']),
  /** The KPI id, crisis trigger id, or network/account. */
  subject: z.string(),
  /** The worst status while it fired (a KPI: at_risk or missed; a source: unhealthy or stale; a crisis: the accounts). */
  label: z.string(),
  firedAt: iso,
  resolvedAt: iso.nullable(),
  /** Held by a silence: decided and recorded, no email. */
  silenced: z.boolean(),
})

const silenceLine = z.object({ id: z.string(), what: z.string(), startsAt: iso, endsAt: iso, reason: z.string(), createdBy: z.string() })

const dataGap = z.object({
  network: z.string(),
  accountId: z.string(),
  metric: z.string(),
  /** daily and gauge: a day without its count or level is a gap; counter: only a period without one reading of its posts. */
  shape: z.enum(['gauge', 'counter', 'daily']),
  kpiIds: z.array(z.string()),
  /** Local days of the period (YYYY-MM-DD) without one reading. */
  missingDays: z.array(z.string()),
  days: z.number(),
})

/** A stored review (period_reviews.review, migration 0013): checked when read back, like any input. */
export const periodReviewSchema = z.object({
  version: z.literal(1),
  company: z.string(),
  timezone: z.string(),
  kind: z.enum(REVIEW_PERIODS),
  period: z.object({ label: z.string(), start: iso, end: iso }),
  previous: z.object({ label: z.string(), start: iso, end: iso }),
  next: z.object({ label: z.string(), start: iso, end: iso }),
  /** Everything stored up to this instant went in. */
  knownAt: iso,
  /** The end of the grace window: from then on the verdicts no longer change. */
  settlesAt: iso,
  summary: z.object({ kpis: z.number(), achieved: z.number(), missed: z.number(), unknown: z.number(), objectives: z.number(), objectivesMet: z.number() }),
  objectives: z.array(objectiveReview),
  posts: z.array(postsReview),
  alerts: z.array(alertEpisode),
  silences: z.array(silenceLine),
  gaps: z.array(dataGap),
})

export type PeriodReview = z.infer<typeof periodReviewSchema>
export type KpiReview = z.infer<typeof kpiReview>
export type ObjectiveReview = z.infer<typeof objectiveReview>
export type PeriodNumbers = z.infer<typeof periodNumbers>
export type NextNeeds = z.infer<typeof nextNeeds>
export type PostsReview = z.infer<typeof postsReview>
export type PostLine = z.infer<typeof postLine>
export type AlertEpisode = z.infer<typeof alertEpisode>
export type DataGap = z.infer<typeof dataGap>

// ---------------------------------------------------------------------------------------------
// Periods

const LABELS: Record<ReviewKind, { pattern: RegExp; example: string }> = {
  month: { pattern: /^(\d{4})-(\d{2})$/, example: '2026-11' },
  week: { pattern: /^(\d{4})-W(\d{2})$|^(\d{4}-\d{2}-\d{2})$/, example: '2026-W48 (or a day of the week, 2026-11-23)' },
  quarter: { pattern: /^(\d{4})-Q([1-4])$/, example: '2026-Q4' },
  year: { pattern: /^(\d{4})$/, example: '2026' },
}

/**
 * The period of `kind` that a label names, in the plan's zone: `2026-11`, `2026-W48` (ISO week;
 * with weeks starting on Sunday, the week holding that ISO week's Monday) or a day of the week,
 * `2026-Q4`, `2026`. A label that names no such period is a ConfigError naming `option`.
 */
export function namedPeriod(kind: ReviewKind, label: string, plan: Pick<Plan, 'company'>, option = `--${kind === 'month' ? 'period' : kind}`): Period {
  const { timezone, weekStart } = plan.company
  const match = LABELS[kind].pattern.exec(label.trim())
  const wrong = () => new ConfigError(`${option}: "${label}" does not name a ${kind}; write it as ${LABELS[kind].example}`)
  if (!match) throw wrong()
  let inside: DateTime
  switch (kind) {
    case 'month':
      inside = DateTime.fromObject({ year: Number(match[1]), month: Number(match[2]), day: 1 }, { zone: timezone })
      break
    case 'week':
      inside = match[3] ? DateTime.fromISO(match[3], { zone: timezone }) : DateTime.fromObject({ weekYear: Number(match[1]), weekNumber: Number(match[2]), weekday: 1 }, { zone: timezone })
      if (!match[3] && inside.isValid && inside.weekNumber !== Number(match[2])) throw wrong()
      break
    case 'quarter':
      inside = DateTime.fromObject({ year: Number(match[1]), month: (Number(match[2]) - 1) * 3 + 1, day: 1 }, { zone: timezone })
      break
    case 'year':
      inside = DateTime.fromObject({ year: Number(match[1]), month: 1, day: 1 }, { zone: timezone })
      break
  }
  if (!inside.isValid) throw wrong()
  return periodAt(kind, inside.toJSDate(), timezone, weekStart)
}

/** The period of the same kind just before `period`. */
export function previousPeriod(kind: ReviewKind, period: Period, plan: Pick<Plan, 'company'>): Period {
  return periodAt(kind, new Date(period.start.getTime() - 1), plan.company.timezone, plan.company.weekStart)
}

/** The period of the same kind just after `period`. */
function nextPeriod(kind: ReviewKind, period: Period, plan: Pick<Plan, 'company'>): Period {
  return periodAt(kind, period.end, plan.company.timezone, plan.company.weekStart)
}

/** When the verdicts of a period stop changing: the end of its grace window. */
export const settlesAt = (period: Period): Date => new Date(period.end.getTime() + FINAL_VERDICT_GRACE_MS)

/** The newest period of `kind` whose verdicts have settled by `at`. */
export function lastSettledPeriod(kind: ReviewKind, at: Date, plan: Pick<Plan, 'company'>): Period {
  const holding = periodAt(kind, new Date(at.getTime() - FINAL_VERDICT_GRACE_MS), plan.company.timezone, plan.company.weekStart)
  return previousPeriod(kind, holding, plan)
}

/** The KPIs a review of `kind` covers: those the plan measures over that kind of period. */
export function reviewKpis(plan: Plan, kind: ReviewKind): Kpi[] {
  return plan.kpis.filter((kpi) => kpi.period === kind)
}

// ---------------------------------------------------------------------------------------------
// Rules

/**
 * The value the trend of the last periods supports for the next one: the least-squares line
 * through their actuals (oldest first, one period apart), extended one period. Periods without
 * data are left out (their place in the line is kept); under two values there is no trend.
 */
export function trendTarget(actuals: Array<number | null>): number | null {
  const points = actuals.flatMap((value, x) => (value === null ? [] : [[x, value] as const]))
  if (points.length < 2) return null
  const n = points.length
  const meanX = points.reduce((s, [x]) => s + x, 0) / n
  const meanY = points.reduce((s, [, y]) => s + y, 0) / n
  const sxx = points.reduce((s, [x]) => s + (x - meanX) ** 2, 0)
  const slope = points.reduce((s, [x, y]) => s + (x - meanX) * (y - meanY), 0) / sxx
  return meanY + slope * (actuals.length - meanX)
}

const days = (period: Period) => (period.end.getTime() - period.start.getTime()) / DAY_MS

/**
 * What the next period needs of a KPI: the pace per day to reach the plan's target (the most per
 * day for an at-most total; for a level, the change per day from where it ended), what the
 * reviewed period did per day, and the target the trend of the last periods supports.
 */
export function nextPeriodNeeds(
  kpi: Kpi,
  reviewed: { period: Period; actual: number | null; baseline: number | null },
  next: Period,
  trendActuals: Array<{ label: string; actual: number | null }>,
): NextNeeds {
  const length = days(next)
  const kind = kpiKind(kpi.kind)
  let perDay: number | null = null
  let thisPerDay: number | null = null
  const { actual } = reviewed
  if (kind.paced && kind.origin === 'zero') {
    perDay = kpi.target / length
    thisPerDay = actual === null ? null : actual / days(reviewed.period)
  } else if (kind.paced) {
    // A level: the change per day from where it ended, and the change it made per day.
    perDay = actual === null ? null : (kpi.target - actual) / length
    thisPerDay = actual === null || reviewed.baseline === null ? null : (actual - reviewed.baseline) / days(reviewed.period)
  }
  const trend = trendTarget(trendActuals.map((t) => t.actual))
  const scale = 10 ** kind.decimals
  const rounded = trend === null ? null : Math.round((kind.onlyGrows ? Math.max(0, trend) : trend) * scale) / scale
  return {
    label: next.label,
    start: next.start.toISOString(),
    end: next.end.toISOString(),
    days: Math.round(length * 100) / 100,
    target: kpi.target,
    perDay,
    thisPerDay,
    trendTarget: rounded,
    trendFrom: trendActuals.filter((t) => t.actual !== null).map((t) => t.label),
  }
}

/** One row of the alert history (table `alerts`), as the review reads it. */
export interface AlertTransition {
  at: Date
  alertKey: string
  fromStatus: string
  toStatus: string
  label: string
  silenced: boolean
}

/**
 * The firing spells of alerts that overlap [from, to): from the transition into `firing` to the
 * one out of it (resolved), from transitions in time order. The label is the worst one it had.
 */
export function alertEpisodes(transitions: AlertTransition[], from: Date, to: Date): AlertEpisode[] {
  const open = new Map<string, AlertEpisode>()
  const done: AlertEpisode[] = []
  const sorted = [...transitions].sort((a, b) => a.at.getTime() - b.at.getTime() || a.alertKey.localeCompare(b.alertKey))
  for (const t of sorted) {
    const current = open.get(t.alertKey)
    if (t.toStatus === 'firing' && !current) {
      const [prefix, ...rest] = t.alertKey.split('.')
      const kind = (['kpi', 'crisis', 'source', 'freshness'] as const).find((k) => k === prefix)
      if (!kind) continue
      const subject = kind === 'source' || kind === 'freshness' ? rest.join('/') : rest.join('.')
      open.set(t.alertKey, { key: t.alertKey, kind, subject, label: t.label, firedAt: t.at.toISOString(), resolvedAt: null, silenced: t.silenced })
    } else if (t.toStatus === 'firing' && current) {
      // A crisis's label is its accounts, which only grow while it is open.
      if (current.kind === 'crisis' || severityRank(t.label) > severityRank(current.label)) current.label = t.label
    } else if (current && t.toStatus !== 'firing') {
      current.resolvedAt = t.at.toISOString()
      done.push(current)
      open.delete(t.alertKey)
    }
  }
  return [...done, ...open.values()]
    .filter((e) => new Date(e.firedAt) < to && (e.resolvedAt === null || new Date(e.resolvedAt) > from))
    .sort((a, b) => a.firedAt.localeCompare(b.firedAt) || a.key.localeCompare(b.key))
}

/** The local days (YYYY-MM-DD) of a period, in the plan's zone. */
function localDays(period: Period, timezone: string): string[] {
  const out: string[] = []
  for (let day = DateTime.fromJSDate(period.start, { zone: timezone }).startOf('day'); day.toJSDate() < period.end; day = day.plus({ days: 1 })) out.push(day.toISODate()!)
  return out
}

// ---------------------------------------------------------------------------------------------
// Building a review

/** A stored final verdict (kpi_verdicts), as the review reads it. */
export interface StoredVerdict {
  kpiId: string
  periodStart: Date
  periodLabel: string
  actual: number | null
  target: number
  attainment: number | null
  status: string
  /** Why there is no verdict ('' when there is one, or for a row stored before migration 0024). */
  statusReason: string
  missingAccounts: string[]
  /** For reason `data_problem`: its cause and numbers ('' and {} before migration 0026). */
  statusCause?: string
  causeFacts?: Record<string, string>
  /** The currency of a money KPI's amounts ('' when not known). */
  currency?: string
}

/** One post's gain in a period, with the same attribution as a KPI's amount (kpi/clickhouse-source.ts). */
export interface PostGain {
  accountId: string
  objectId: string
  createdAt: Date | null
  gained: number
  /** False for a post published in the period but first read after it: all it had then is its gain. */
  readInPeriod: boolean
}

export interface ReviewSilence {
  id: string
  what: string
  startsAt: Date
  /** When it ended: its end, or when it was expired early. */
  endsAt: Date
  reason: string
  createdBy: string
}

/** Where a review's numbers come from, beside the KPI source; everything as known at `knownAt`. */
export interface ReviewDataSource {
  /** The stored final verdicts of these KPIs for periods starting at these instants. */
  verdicts(kpiIds: string[], periodStarts: Date[]): Promise<StoredVerdict[]>
  /** Each post's gain of the metric in [from, to), posts created inside and first read by `knownAt` included. */
  postGains(selection: MetricSelection, from: Date, to: Date, knownAt: Date): Promise<PostGain[]>
  /** The alert history up to `to` (transitions of the given keys' kinds). */
  alertHistory(until: Date): Promise<AlertTransition[]>
  /** The silences that were in force at some moment of [from, to). */
  silences(from: Date, to: Date): Promise<ReviewSilence[]>
  /** For each network, account and metric: the local days of [from, to) with at least one reading. */
  observedDays(selections: MetricSelection[], from: Date, to: Date, timezone: string): Promise<Array<{ network: string; accountId: string; metric: string; day: string }>>
}

/**
 * A final verdict keeps its status (achieved, missed); anything else is no verdict, with its
 * reason and the accounts missing when there are.
 */
function verdictOf(
  status: string,
  reason: string | undefined,
  missingAccounts: string[] | undefined,
  problem: DataProblem | null | undefined,
): Pick<PeriodNumbers, 'status' | 'reason' | 'missingAccounts' | 'problem'> {
  if (statusMeaning(status)?.final) return { status: status as PeriodNumbers['status'], reason: null }
  const why: StatusReason | null = reason && isStatusReason(reason) ? reason : null
  return { status: 'unknown', reason: why, ...(missingAccounts?.length ? { missingAccounts } : {}), ...(why === 'data_problem' && problem ? { problem } : {}) }
}

async function periodNumbersOf(plan: Plan, kpi: Kpi, period: Period, knownAt: Date, stored: Map<string, StoredVerdict>, source: KpiDataSource): Promise<PeriodNumbers> {
  const found = stored.get(`${kpi.id}\u0000${period.start.getTime()}`)
  const base = { label: period.label, start: period.start.toISOString(), end: period.end.toISOString() }
  if (found) {
    const problem = storedProblem(found.statusReason, found.statusCause, found.causeFacts)
    return {
      ...base,
      actual: found.actual,
      target: found.target,
      attainment: found.attainment,
      ...verdictOf(found.status, found.statusReason, found.missingAccounts, problem),
      ...(found.currency ? { currency: found.currency } : {}),
      stored: true,
    }
  }
  // No verdict stored (the system was not running in the grace window, or the KPI is new): the
  // same judgement the evaluator makes, as of the period's end with what is known now.
  const judged = await evaluateKpi(plan, kpi, period.end, source, { period, knownAt })
  return {
    ...base,
    actual: judged.actual,
    target: kpi.target,
    attainment: judged.attainment,
    ...verdictOf(judged.status, judged.reason, judged.missingAccounts, judged.problem),
    ...(judged.currency ? { currency: judged.currency } : {}),
    stored: false,
  }
}

/** A period's actual as a number to compare and draw: none without a verdict (it may count only some accounts). */
const judgedActual = (numbers: PeriodNumbers | null): number | null => (numbers && numbers.status !== 'unknown' ? numbers.actual : null)

/**
 * The KPI's value at daily steps over the ended period (its own unit), for the chart. A post
 * published in the period but first read after it brings what it had then to its publication day,
 * as in the verdict and metrics_daily.
 */
async function periodHistory(
  kpi: Kpi,
  selection: MetricSelection,
  period: Period,
  knownAt: Date,
  sources: { kpi: KpiDataSource; review: ReviewDataSource },
  actual: number | null,
): Promise<{ points: Array<[number, number]>; baseline: number | null }> {
  const source = sources.kpi
  const kind = kpiKind(kpi.kind)
  if (kind.trend === null || actual === null) return { points: [], baseline: null }
  const start = period.start.getTime()
  const end = period.end.getTime()
  const steps = Math.ceil((end - start) / DAY_MS)
  const at = (k: number) => Math.min(end, start + k * DAY_MS)
  if (kind.trend === 'amount') {
    const amounts = source.amountSeries
      ? await source.amountSeries(selection, period.start, period.end, DAY_MS)
      : await Promise.all(Array.from({ length: steps }, (_, k) => source.amount(selection, new Date(at(k)), new Date(at(k + 1)))))
    const late = METRICS[kpi.network as Network]?.[kpi.metric]?.shape === 'counter' ? await sources.review.postGains(selection, period.start, period.end, knownAt) : []
    const byStep = amounts.map((amount) => amount ?? 0)
    for (const post of late) {
      if (post.readInPeriod || post.createdAt === null) continue
      const step = Math.floor((post.createdAt.getTime() - start) / DAY_MS)
      if (step >= 0 && step < byStep.length) byStep[step]! += post.gained
    }
    let sum = 0
    const points: Array<[number, number]> = [[start, 0]]
    byStep.forEach((amount, k) => {
      sum += amount
      points.push([at(k + 1), sum])
    })
    // Posts first read after the end count in the verdict, not in the day-by-day series.
    points[points.length - 1] = [end, actual]
    return { points, baseline: null }
  }
  const levels = source.levelSeries
    ? await source.levelSeries(selection, period.start, period.end, DAY_MS)
    : await Promise.all(Array.from({ length: steps + 1 }, (_, k) => source.level(selection, new Date(at(k)))))
  // Where a level's progress counts from (its first reading when it was first read inside), and a growth's zero.
  const baseline = (await kind.startingPoint!(source, selection, period.start, period.end))?.value ?? null
  const ownStart = kind.origin === 'start'
  const points: Array<[number, number]> = []
  levels.forEach((level, k) => {
    if (level === null) return
    if (!ownStart && baseline === null) return
    points.push([at(k), ownStart ? level : level - baseline!])
  })
  if (points.length && points[points.length - 1]![0] === end) points[points.length - 1] = [end, actual]
  else points.push([end, actual])
  return { points, baseline }
}

const selectionOf = (plan: Plan, kpi: Kpi, metric = kpi.metric): MetricSelection => ({ network: kpi.network, accountIds: kpiAccounts(plan, kpi).map((a) => a.id), metric })

/**
 * The review of one period of `kind`: every KPI measured over that kind of period, grouped by its
 * objective, with its final verdict (stored, or judged as the evaluator would when none is), the
 * previous period's, the change, a day-by-day history for the chart, and for a missed KPI the
 * plan's actions and what the next period needs; the posts that carried the period and that fell
 * flat per network and metric; the alerts and crises of the period (unhealthy sources among them),
 * its silences and data gaps. Everything as known at `knownAt`.
 */
export async function buildPeriodReview(
  plan: Plan,
  kind: ReviewKind,
  period: Period,
  knownAt: Date,
  sources: { kpi: KpiDataSource; review: ReviewDataSource },
  options: { posts?: number } = {},
): Promise<PeriodReview> {
  const kpis = reviewKpis(plan, kind)
  const previous = previousPeriod(kind, period, plan)
  const next = nextPeriod(kind, period, plan)
  const trendPeriods: Period[] = [period]
  while (trendPeriods.length < TREND_PERIODS) trendPeriods.unshift(previousPeriod(kind, trendPeriods[0]!, plan))
  const stored = new Map(
    (
      await sources.review.verdicts(
        kpis.map((k) => k.id),
        trendPeriods.map((p) => p.start),
      )
    ).map((v) => [`${v.kpiId}\u0000${v.periodStart.getTime()}`, v]),
  )

  const reviews = new Map<string, KpiReview>()
  for (const kpi of kpis) {
    const numbers = await Promise.all(trendPeriods.map((p) => periodNumbersOf(plan, kpi, p, knownAt, stored, sources.kpi)))
    const verdict = numbers[numbers.length - 1]!
    const prior = numbers[numbers.length - 2] ?? null
    const [now, before] = [judgedActual(verdict), judgedActual(prior)]
    const change = now !== null && before !== null ? now - before : null
    const history = await periodHistory(kpi, selectionOf(plan, kpi), period, knownAt, sources, now)
    const objective = plan.objectives.find((o) => o.id === kpi.objective)
    const missed = verdict.status === 'missed'
    reviews.set(kpi.id, {
      id: kpi.id,
      name: kpi.name,
      network: kpi.network,
      metric: kpi.metric,
      ...(kpi.denominator ? { denominator: kpi.denominator } : {}),
      kind: kpi.kind,
      unit: kpi.unit,
      comparator: kpi.comparator,
      verdict,
      previous: prior,
      change,
      changeShare: change !== null && before ? change / Math.abs(before) : null,
      history: history.points,
      baseline: history.baseline,
      pace: kpi.pace === 'linear' ? [1] : kpi.pace.curve,
      actions: missed ? (kpi.actions ?? objective?.actions ?? []) : [],
      next: missed
        ? nextPeriodNeeds(
            kpi,
            { period, actual: verdict.actual, baseline: history.baseline },
            next,
            numbers.map((n) => ({ label: n.label, actual: judgedActual(n) })),
          )
        : null,
    })
  }

  const objectives: ObjectiveReview[] = plan.objectives
    .map((objective) => {
      const members = kpis.filter((k) => k.objective === objective.id).map((k) => reviews.get(k.id)!)
      const missed = members.some((k) => k.verdict.status === 'missed')
      const unknown = members.some((k) => k.verdict.status === 'unknown')
      return { id: objective.id, name: objective.name, ...(objective.description ? { description: objective.description } : {}), met: missed ? false : unknown ? null : true, kpis: members }
    })
    .filter((objective) => objective.kpis.length > 0)

  const all = [...reviews.values()]
  const count = (status: string) => all.filter((k) => k.verdict.status === status).length
  return {
    version: 1,
    company: plan.company.name,
    timezone: plan.company.timezone,
    kind,
    period: { label: period.label, start: period.start.toISOString(), end: period.end.toISOString() },
    previous: { label: previous.label, start: previous.start.toISOString(), end: previous.end.toISOString() },
    next: { label: next.label, start: next.start.toISOString(), end: next.end.toISOString() },
    knownAt: knownAt.toISOString(),
    settlesAt: settlesAt(period).toISOString(),
    summary: {
      kpis: all.length,
      achieved: count('achieved'),
      missed: count('missed'),
      unknown: count('unknown'),
      objectives: objectives.length,
      objectivesMet: objectives.filter((o) => o.met === true).length,
    },
    objectives,
    posts: await reviewPosts(plan, kpis, period, knownAt, sources.review, options.posts ?? plan.review?.posts ?? 3),
    ...(await reviewIncidents(plan, kpis, period, knownAt, sources.review)),
  }
}

/**
 * Per network and counter metric of the review's KPIs (likes, clicks, views), the posts that
 * gained the most in the period, and the posts published in it that gained the least.
 */
async function reviewPosts(plan: Plan, kpis: Kpi[], period: Period, knownAt: Date, source: ReviewDataSource, limit: number): Promise<PostsReview[]> {
  if (limit === 0) return []
  const groups = new Map<string, { network: string; metric: string; accounts: Set<string>; kpiIds: string[] }>()
  for (const kpi of kpis) {
    // Posts gain counts; a kind read from levels has no per-post share.
    if (!kpiKind(kpi.kind).shapes.includes('counter')) continue
    const key = `${kpi.network}\u0000${kpi.metric}`
    const group = groups.get(key) ?? { network: kpi.network, metric: kpi.metric, accounts: new Set<string>(), kpiIds: [] }
    for (const account of kpiAccounts(plan, kpi)) group.accounts.add(account.id)
    group.kpiIds.push(kpi.id)
    groups.set(key, group)
  }
  const out: PostsReview[] = []
  for (const group of groups.values()) {
    const gains = await source.postGains({ network: group.network, accountIds: [...group.accounts].sort(), metric: group.metric }, period.start, period.end, knownAt)
    if (gains.length === 0) continue
    const line = (p: PostGain): PostLine => ({ accountId: p.accountId, objectId: p.objectId, createdAt: p.createdAt?.toISOString() ?? null, gained: p.gained })
    const byGain = [...gains].sort((a, b) => b.gained - a.gained || a.objectId.localeCompare(b.objectId))
    const top = byGain.filter((p) => p.gained > 0).slice(0, limit)
    const published = byGain.filter((p) => p.createdAt !== null && p.createdAt >= period.start && p.createdAt < period.end && !top.includes(p))
    const flat = published.slice(-limit).reverse()
    out.push({ network: group.network, metric: group.metric, kpiIds: group.kpiIds, counted: gains.length, total: gains.reduce((s, p) => s + p.gained, 0), top: top.map(line), flat: flat.map(line) })
  }
  return out
}

/** The alerts and crises of the period (source and freshness alerts: the unhealthy sources), its silences and data gaps. */
async function reviewIncidents(plan: Plan, kpis: Kpi[], period: Period, knownAt: Date, source: ReviewDataSource): Promise<Pick<PeriodReview, 'alerts' | 'silences' | 'gaps'>> {
  const ids = new Set(kpis.map((k) => k.id))
  const accounts = new Set(kpis.flatMap((k) => kpiAccounts(plan, k).map((a) => `${a.network}/${a.id}`)))
  const alerts = alertEpisodes(await source.alertHistory(knownAt), period.start, period.end).filter(
    (e) => e.kind === 'crisis' || (e.kind === 'kpi' && ids.has(e.subject)) || ((e.kind === 'source' || e.kind === 'freshness') && accounts.has(e.subject)),
  )
  const silences = (await source.silences(period.start, period.end)).map((s) => ({
    id: s.id,
    what: s.what,
    startsAt: s.startsAt.toISOString(),
    endsAt: s.endsAt.toISOString(),
    reason: s.reason,
    createdBy: s.createdBy,
  }))

  // Every account and metric the KPIs read, with the KPIs that read it.
  const selections = new Map<string, { network: string; accountId: string; metric: string; kpiIds: string[] }>()
  for (const kpi of kpis) {
    for (const metric of [kpi.metric, ...(kpi.denominator ? [kpi.denominator] : [])]) {
      for (const account of kpiAccounts(plan, kpi)) {
        const key = `${kpi.network}\u0000${account.id}\u0000${metric}`
        const entry = selections.get(key) ?? { network: kpi.network, accountId: account.id, metric, kpiIds: [] }
        if (!entry.kpiIds.includes(kpi.id)) entry.kpiIds.push(kpi.id)
        selections.set(key, entry)
      }
    }
  }
  const query: MetricSelection[] = [...selections.values()].map((s) => ({ network: s.network, accountIds: [s.accountId], metric: s.metric }))
  const seen = new Set((await source.observedDays(query, period.start, period.end, plan.company.timezone)).map((r) => `${r.network}\u0000${r.accountId}\u0000${r.metric}\u0000${r.day}`))
  const periodDays = localDays(period, plan.company.timezone)
  const gaps: DataGap[] = []
  for (const s of selections.values()) {
    const missingDays = periodDays.filter((day) => !seen.has(`${s.network}\u0000${s.accountId}\u0000${s.metric}\u0000${day}`))
    // A post's rise between two readings is exact whatever lies between them: for counters only a
    // period without any reading matters (its posts count with what they had when first read later).
    const shape = METRICS[s.network as Network]?.[s.metric]?.shape ?? 'daily'
    if (missingDays.length > 0 && (shape !== 'counter' || missingDays.length === periodDays.length)) gaps.push({ ...s, shape, missingDays, days: periodDays.length })
  }
  return { alerts, silences, gaps }
}

/** How far a missed KPI is from its target: 0.28 for 28 % short of an at-least target, or over an at-most limit. */
export function shortfall(kpi: Pick<KpiReview, 'comparator' | 'verdict'>): number | null {
  const { actual, target } = kpi.verdict
  if (actual === null || target === 0) return null
  return kpi.comparator === 'at_least' ? Math.max(0, (target - actual) / target) : Math.max(0, (actual - target) / target)
}
