import { elapsedFraction, periodAt, type Period } from '../plan/periods.ts'
import { staleAfterMs as planStaleAfterMs } from '../plan/schedule.ts'
import { FORECAST_WINDOW_DAYS, forecastEnd, type Forecast } from './forecast.ts'
import { judge, type ForecastEnd, type StatusBasis } from './pacing.ts'
import { METRICS } from '../core/metrics.ts'
import { kpiKind, type KpiKindModule, type StartingPoint } from './kinds/index.ts'
import type { KpiDataSource, MetricSelection } from './kinds/source.ts'
import { kpiAccounts, kpiEvidence, kpiSegments, type Kpi, type Plan } from '../plan/plan.ts'
import type { KpiUnit } from '../plan/units.ts'
import type { DataProblem, KpiStatus, StatusReason } from './statuses.ts'

/** A point of the KPI's own value (in KPI units) during the period, for charts. */
export interface KpiPoint {
  at: Date
  value: number
}

export interface KpiEvaluation {
  kpi: Kpi
  evaluatedAt: Date
  period: Period
  actual: number | null
  expectedToDate: number | null
  attainment: number | null
  status: KpiStatus
  /** For a level: the level at the period start (the pace line's origin). */
  baseline?: number | null
  /** Why the status is what it is: `pace`, `forecast` (it overruled the pace) or `early` (too early to call it at risk); see kpi/pacing.ts. */
  basis?: StatusBasis
  /** For a level first read inside the period: when that first reading was (the pace line starts there). */
  baselineAt?: Date
  /** The end-of-period forecast; null for rates, ended periods, and with under 3 days of data. */
  forecast?: Forecast | null
  /** Why there is no forecast although the KPI could have one: an account's collection stopped after `since` (its newest data). */
  forecastNote?: { accountId: string; since: Date }
  /** The KPI's value at daily steps back from `evaluatedAt` (within the period, at most 92 days), oldest first. */
  history?: KpiPoint[]
  /** Why there is no verdict (status `unknown`): kpi/statuses.ts STATUS_REASONS; absent for any other status. */
  reason?: StatusReason
  /** The accounts whose data is missing or stale (reasons `incomplete` and `data_problem`), sorted; empty otherwise. */
  missingAccounts?: string[]
  /** For reason `data_problem`: what is wrong with the data (kpi/statuses.ts DATA_PROBLEMS), with its numbers. */
  problem?: DataProblem
  /** How its numbers are shown: the plan's `unit`, or its default (plan/units.ts). */
  unit?: KpiUnit
  /** The currency of its money, for a KPI over money whose accounts have told it (or the plan says it); ISO 4217. */
  currency?: string
}

/** What a status's note (kpi/pacing.ts basisNote) may say of an evaluation's forecast; null without one. */
export function forecastForNote(evaluation: { kpi: Pick<Kpi, 'target' | 'tolerance'>; forecast?: { end: number } | null; baseline?: number | null }): ForecastEnd | null {
  const { kpi, forecast } = evaluation
  return forecast ? { end: forecast.end, target: kpi.target, tolerance: kpi.tolerance, base: evaluation.baseline ?? null } : null
}

const DAY_MS = 86_400_000
/**
 * A gauge or counter whose newest reading is older than this has stopped being collected (rounds
 * run at least daily); a daily count may also arrive up to the grace window late.
 */
const COLLECTION_STOPPED_AFTER_MS = 2 * DAY_MS
/** At most this many daily steps are read for the history (a quarter); a year shows its last 92 days. */
const MAX_HISTORY_DAYS = 92

/** Levels at `steps + 1` boundaries from `from`, one day apart. */
async function levelsAt(source: KpiDataSource, selection: MetricSelection, from: Date, steps: number): Promise<Array<number | null>> {
  const to = new Date(from.getTime() + steps * DAY_MS)
  if (source.levelSeries) return source.levelSeries(selection, from, to, DAY_MS)
  const values: Array<number | null> = []
  for (let k = 0; k <= steps; k++) values.push(await source.level(selection, new Date(from.getTime() + k * DAY_MS)))
  return values
}

/** The amount of each of `steps` days from `from`. */
async function amountsOf(source: KpiDataSource, selection: MetricSelection, from: Date, steps: number): Promise<Array<number | null>> {
  const to = new Date(from.getTime() + steps * DAY_MS)
  if (source.amountSeries) return source.amountSeries(selection, from, to, DAY_MS)
  const values: Array<number | null> = []
  for (let k = 0; k < steps; k++) values.push(await source.amount(selection, new Date(from.getTime() + k * DAY_MS), new Date(from.getTime() + (k + 1) * DAY_MS)))
  return values
}

interface Trend {
  steps: Array<number | null>
  history: KpiPoint[]
}

/**
 * The recent daily steps of a KPI whose kind has a trend (levels or amounts), and its history
 * within the period. Steps are whole days counted back from `upTo`, so the newest data is in:
 * for levels the evaluation time itself (a level is read at or before it), for amounts just
 * after it (what accrued up to and including it).
 */
async function readTrend(kind: KpiKindModule, select: MetricSelection, source: KpiDataSource, period: Period, upTo: Date, actual: number, baseline: StartingPoint | null): Promise<Trend> {
  const sincePeriod = Math.ceil((upTo.getTime() - period.start.getTime()) / DAY_MS)
  const steps = Math.min(MAX_HISTORY_DAYS, Math.max(FORECAST_WINDOW_DAYS, sincePeriod))
  const from = new Date(upTo.getTime() - steps * DAY_MS)
  const boundary = (k: number) => new Date(from.getTime() + k * DAY_MS)
  const inPeriod = (k: number) => boundary(k) >= period.start
  // A level's own value starts where it starts; an amount (a growth too) starts at zero.
  const ownStart = kind.origin === 'start'
  const origin = ownStart && baseline ? baseline.at : period.start
  const start: KpiPoint[] = sincePeriod <= steps && (!ownStart || baseline !== null) ? [{ at: origin, value: ownStart ? baseline!.value : 0 }] : []
  if (kind.trend === 'amount') {
    const amounts = await amountsOf(source, select, from, steps)
    // The value at boundary k is what accrued in the period up to it: actual minus what came after.
    const history: KpiPoint[] = []
    let after = 0
    for (let k = steps; k >= 1; k--) {
      if (inPeriod(k) && boundary(k) > period.start) history.unshift({ at: boundary(k), value: actual - after })
      after += amounts[k - 1] ?? 0
    }
    return { steps: amounts.slice(-FORECAST_WINDOW_DAYS), history: [...start, ...history] }
  }
  const levels = await levelsAt(source, select, from, steps)
  const changes = levels.slice(1).map((level, i) => (level === null || levels[i] === null ? null : level - levels[i]!))
  const history: KpiPoint[] = []
  levels.forEach((level, k) => {
    if (level === null || !inPeriod(k) || boundary(k) <= origin) return
    history.push({ at: boundary(k), value: ownStart ? level : level - (baseline?.value ?? 0) })
  })
  return { steps: changes.slice(-FORECAST_WINDOW_DAYS), history: [...start, ...history] }
}

export interface EvaluateOptions {
  /** The period to judge; by default the one containing `at`. */
  period?: Period
  /** When it is judged (default `at`): a final verdict is judged as of its period's end with what is known now. */
  knownAt?: Date
  /**
   * How old an account's data may be before it is stale (plan/schedule.ts staleAfterMs, the
   * freshness alert's window); by default the plan's own at `at`.
   */
  staleAfterMs?: number
}

/**
 * A daily count is stored at its day's start and reported after the day ends, so while an account
 * is collected its newest daily count is up to this old (besides the stale window).
 */
const DAILY_REPORT_LAG_MS = 2 * DAY_MS

/** The shapes of the metrics a KPI reads (its metric, and its denominator). */
const shapesOf = (kpi: Kpi) => [kpi.metric, ...(kpi.denominator ? [kpi.denominator] : [])].map((metric) => METRICS[kpi.network][metric]?.shape ?? 'daily')

interface MissingAccount {
  accountId: string
  /** `incomplete`: not collected at all in the period; `data_problem`: collected in it, but stale at `judgedAt`. */
  reason: 'incomplete' | 'data_problem'
}

/**
 * The accounts of a KPI whose data, at `judgedAt` (the evaluation time, or a period's end for its
 * verdict), is older than the stale window, or which were not collected in the period at all.
 * What counts as an account's data depends on what the KPI reads:
 * - a level (gauge) is read every round: the account needs a reading of that metric itself;
 * - a count (post counters, daily counts) may legitimately have nothing to store (no posts, like
 *   counts hidden, a day without ad delivery): any of the account's readings shows it was read,
 *   a daily count counting from its day's end (DAILY_REPORT_LAG_MS);
 * - for daily counts, also a successful collection (source health) from the stale window's start
 *   until `lookbackDays` after `judgedAt`: such a round re-read those days and found nothing;
 * - for counts, an account whose collections are known (source health) needs one that ended well
 *   in the window: rows of rounds that failed half-way (a paged walk cut off) are a part, not the whole.
 */
async function missingAccounts(plan: Plan, kpi: Kpi, judgedAt: Date, period: Period, source: KpiDataSource, staleMs: number): Promise<MissingAccount[]> {
  const accounts = kpiAccounts(plan, kpi).map((a) => ({ network: kpi.network, accountId: a.id }))
  if (accounts.length === 0) return []
  const t = judgedAt.getTime()
  const since = t - staleMs
  const recent = await source.recentData(accounts, judgedAt, { since: new Date(since), dailySince: new Date(since - DAILY_REPORT_LAG_MS) })
  const lookbackMs = plan.collection.lookbackDays * DAY_MS
  const stale = recent.filter((account) =>
    shapesOf(kpi).some((shape) => {
      if (shape === 'gauge') return !account.metrics.some((m) => m.metric === kpi.metric)
      const success = account.lastSuccessAt?.getTime()
      // Rows of a collection that failed half-way (a walk cut off) are a part of the counts: only
      // a collection that ended well in the window shows the counts were read whole.
      if (account.healthKnown && (success === undefined || success < since)) return true
      if (account.metrics.length > 0) return false
      return !(shape === 'daily' && success !== undefined && success >= since && success <= t + lookbackMs)
    }),
  )
  if (stale.length === 0) return []
  const seen = new Map((await source.lastSeen(stale, judgedAt)).map((a) => [a.accountId, a.at]))
  return stale
    .map((account): MissingAccount => {
      // its newest reading of anything, in the window or before it
      const newest = Math.max(...account.metrics.map((m) => m.at.getTime()), seen.get(account.accountId)?.getTime() ?? Number.NEGATIVE_INFINITY)
      return { accountId: account.accountId, reason: newest >= period.start.getTime() ? 'data_problem' : 'incomplete' }
    })
    .sort((a, b) => (a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0))
}

/**
 * Evaluates one KPI as of `at`: its period in the plan's time zone (or the one given), its actual
 * value, and the pace. A KPI one of whose accounts is stale or was not collected in the period
 * gets no verdict (`unknown`, with the reason and the accounts): it is not judged on the others.
 */
export async function evaluateKpi(plan: Plan, kpi: Kpi, at: Date, source: KpiDataSource, options: EvaluateOptions = {}): Promise<KpiEvaluation> {
  const period = options.period ?? periodAt(kpi.period, at, plan.company.timezone, plan.company.weekStart)
  const knownAt = options.knownAt ?? at
  const staleMs = options.staleAfterMs ?? planStaleAfterMs(plan, at)
  // Amounts count what was observed up to and including `at`, and never past the period: [start, upTo).
  const upTo = at < period.end ? new Date(at.getTime() + 1) : period.end
  // A level is read at or before `at` (at the end for an ended period: a reading stamped exactly at
  // a boundary is the closing level of the period before and the starting level of the next).
  const levelAt = at < period.end ? at : period.end
  const selection = (metric: string) => selectionOf(plan, kpi, metric)
  const kind = kpiKind(kpi.kind)
  const begun = at >= period.start
  const missing = begun ? await missingAccounts(plan, kpi, levelAt, period, source, staleMs) : []
  // A level starts from its reading at the period start, or from its first reading in the period.
  const { actual, start } = await kind.measure({
    source,
    metric: selection(kpi.metric),
    ...(kpi.denominator ? { denominator: selection(kpi.denominator) } : {}),
    period,
    upTo,
    levelAt,
    knownAt,
  })
  const baseline = kind.origin === 'start' ? (start?.value ?? null) : null
  const baselineAt = kind.origin === 'start' && start && start.at > period.start ? start.at : undefined
  const periodEnded = at >= period.end
  let forecast: Forecast | null = null
  let forecastNote: KpiEvaluation['forecastNote']
  let history: KpiPoint[] = []
  if (!periodEnded && actual !== null && kind.trend !== null && begun && missing.length === 0) {
    const trend = await readTrend(kind, selection(kpi.metric), source, period, kind.trend === 'level' ? levelAt : upTo, actual, start)
    history = trend.history
    const projection = await projectionStart(kpi, selection(kpi.metric), source, at)
    if ('note' in projection) forecastNote = projection.note
    else forecast = forecastEnd({ current: actual, steps: trend.steps, dataUntil: projection.dataUntil, at, periodEnd: period.end, target: kpi.target, comparator: kpi.comparator })
  }
  const judgement = judge({
    kind: kpi.kind,
    comparator: kpi.comparator,
    target: kpi.target,
    tolerance: kpi.tolerance,
    actual,
    baseline,
    // A level first read inside the period is paced from that first reading.
    fraction: elapsedFraction(baselineAt ? { ...period, start: baselineAt } : period, at),
    periodEnded,
    pace: kpi.pace,
    forecast,
    evidence: kpiEvidence(plan, kpi),
  })
  const money = await moneyOf(plan, kpi, source)
  const result = {
    kpi,
    unit: kpi.unit,
    ...(money.currency ? { currency: money.currency } : {}),
    evaluatedAt: at,
    period,
    actual,
    ...judgement,
    baseline,
    ...(baselineAt ? { baselineAt } : {}),
    forecast,
    ...(forecastNote ? { forecastNote } : {}),
    history,
    missingAccounts: [] as string[],
  }
  // No verdict on partial data: what the accounts with data add up to stays in `actual`, unjudged.
  const noVerdict = (reason: StatusReason, accounts: string[] = [], problem?: DataProblem): KpiEvaluation => ({
    ...result,
    status: 'unknown',
    attainment: null,
    basis: 'pace',
    forecast: null,
    reason,
    missingAccounts: accounts,
    ...(problem ? { problem } : {}),
  })
  if (!begun) return noVerdict('too_early')
  // A count that only grows and already decides it (an at-least total over its target, an
  // at-most total over its limit) is a fact: the accounts missing could only add to it.
  const decided = kind.onlyGrows && actual !== null && (kpi.comparator === 'at_least' ? actual >= kpi.target : actual > kpi.target)
  if (missing.length > 0 && !decided) {
    const incomplete = missing.some((m) => m.reason === 'incomplete')
    return noVerdict(
      incomplete ? 'incomplete' : 'data_problem',
      missing.map((m) => m.accountId),
      incomplete ? undefined : { cause: 'stale', facts: {} },
    )
  }
  // Numbers that cannot be are a data problem, never a verdict: amounts in two currencies added,
  // a count below zero, a part above its whole. The value measured stays in `actual`.
  if (money.problem) return noVerdict('data_problem', [], money.problem)
  const impossible = impossibleValue(kpi, kind, actual)
  if (impossible) return noVerdict('data_problem', [], impossible)
  if (judgement.status !== 'unknown') return result
  // a growth without a reading at the period start to count from
  if (kind.startingPoint && start === null) return noVerdict('no_history')
  // Nothing yet: a round in the period (a day's end and its report, for daily counts) may still be to come.
  const firstDataBy = period.start.getTime() + staleMs + (shapesOf(kpi).includes('daily') ? DAY_MS + DAILY_REPORT_LAG_MS : 0)
  return noVerdict(actual === null && knownAt.getTime() < firstDataBy ? 'too_early' : 'no_data')
}

/**
 * A value the KPI's metric cannot have: below zero for a kind and metric that cannot be (a count,
 * sum, level or ratio of amounts; a growth and a metric reported net of losses can), or a rate of
 * a part over its whole (clicks of impressions) above 1.
 */
function impossibleValue(kpi: Kpi, kind: KpiKindModule, actual: number | null): DataProblem | null {
  if (actual === null || !Number.isFinite(actual)) return null
  const metrics = METRICS[kpi.network]
  const signed = kind.signed || metrics[kpi.metric]?.signed === true || (kpi.denominator !== undefined && metrics[kpi.denominator]?.signed === true)
  if (actual < 0 && !signed) return { cause: 'below_zero', facts: { metric: kpi.metric, value: String(actual) } }
  const whole = kind.denominator && kpi.denominator !== undefined && metrics[kpi.metric]?.partOf === kpi.denominator
  if (whole && actual > 1) return { cause: 'above_whole', facts: { metric: kpi.metric, denominator: kpi.denominator!, value: String(actual) } }
  return null
}

/**
 * The currency of a KPI over money (its metric or denominator is money): each account's as its
 * API told it, else as the plan's `settings.currency` says. Amounts in different currencies are
 * never added (nor converted): that is a data problem naming each account's currency. An account
 * whose currency is not known yet does not stop the others'.
 */
async function moneyOf(plan: Plan, kpi: Kpi, source: KpiDataSource): Promise<{ currency?: string; problem?: DataProblem }> {
  const metrics = METRICS[kpi.network]
  if (!metrics[kpi.metric]?.money && !(kpi.denominator !== undefined && metrics[kpi.denominator]?.money)) return {}
  const accounts = kpiAccounts(plan, kpi)
  const told = new Map((await source.currencies?.(accounts.map((a) => ({ network: kpi.network, accountId: a.id }))))?.map((a) => [a.accountId, a.currency]) ?? [])
  const currencies = new Map<string, string>()
  for (const account of accounts) {
    const currency = told.get(account.id) ?? (account.settings as { currency?: unknown } | undefined)?.currency
    if (typeof currency === 'string' && currency !== '') currencies.set(account.id, currency)
  }
  const distinct = [...new Set(currencies.values())]
  if (distinct.length > 1) return { problem: { cause: 'mixed_currencies', facts: Object.fromEntries([...currencies].sort(([a], [b]) => (a < b ? -1 : 1))) } }
  return distinct[0] ? { currency: distinct[0] } : {}
}

/**
 * Where the forecast projects from: the end of the data behind the actual value. A daily count
 * covers the day it is stamped with, so the API days still to come are the ones after its last
 * reported day; a gauge or counter reaches its newest reading. A KPI one of whose accounts has
 * stopped being collected gets no forecast, with the reason, rather than a projection of counting
 * that is not happening.
 */
async function projectionStart(kpi: Kpi, select: MetricSelection, source: KpiDataSource, at: Date): Promise<{ dataUntil: Date } | { note: NonNullable<KpiEvaluation['forecastNote']> }> {
  const newest = await source.dataUntil(select, at)
  if (!newest) return { dataUntil: at }
  const daily = METRICS[kpi.network][kpi.metric]?.shape === 'daily'
  const stoppedAfter = COLLECTION_STOPPED_AFTER_MS + (daily ? FINAL_VERDICT_GRACE_MS : 0)
  if (at.getTime() - newest.at.getTime() > stoppedAfter) {
    return { note: { accountId: newest.accountId, since: newest.at } }
  }
  return { dataUntil: new Date(Math.min(at.getTime(), newest.at.getTime() + (daily ? DAY_MS : 0))) }
}

/** Which observations a KPI reads for one of its metrics. */
function selectionOf(plan: Plan, kpi: Kpi, metric: string): MetricSelection {
  const segments = kpiSegments(plan, kpi)
  return { network: kpi.network, accountIds: kpiAccounts(plan, kpi).map((account) => account.id), metric, ...(segments ? { segments } : {}) }
}

/** The source for one evaluation of these KPIs: batched when the source can batch. */
function sourceFor(plan: Plan, kpis: Kpi[], source: KpiDataSource): KpiDataSource {
  if (!source.batch) return source
  return source.batch(kpis.flatMap((kpi) => [kpi.metric, ...(kpi.denominator ? [kpi.denominator] : [])].map((metric) => selectionOf(plan, kpi, metric))))
}

/** Whether a KPI's period is a custom one that has ended by `at`: it has its verdict, and no running evaluation after it. */
export function customPeriodEnded(plan: Plan, kpi: Kpi, at: Date): boolean {
  return typeof kpi.period === 'object' && periodAt(kpi.period, at, plan.company.timezone, plan.company.weekStart).end <= at
}

export interface PlanEvaluationOptions {
  /** The stale window (see EvaluateOptions); by default the plan's own at `at`. */
  staleAfterMs?: number
}

/**
 * The running evaluation of every KPI as of `at`, but for a custom period that has ended: after
 * its end a campaign has its final verdict (evaluateClosedPeriods) and nothing more to track.
 */
export async function evaluatePlan(plan: Plan, at: Date, source: KpiDataSource, options: PlanEvaluationOptions = {}): Promise<KpiEvaluation[]> {
  const kpis = plan.kpis.filter((kpi) => !customPeriodEnded(plan, kpi, at))
  const batched = sourceFor(plan, kpis, source)
  const staleAfterMs = options.staleAfterMs ?? planStaleAfterMs(plan, at)
  // All at once: KPIs that share a question wait for the same query, and distinct queries overlap.
  return Promise.all(kpis.map((kpi) => evaluateKpi(plan, kpi, at, batched, { staleAfterMs })))
}

/** How long after a period's end its final verdict is re-judged, as late data (insights) arrives: [end, end + grace), up to `settles_at`. */
export const FINAL_VERDICT_GRACE_MS = 3 * 86_400_000

/** Whether a period that ended at `end` is still re-judged at `at`: its grace window is [end, end + grace), so at `settles_at` it has settled. */
export const inGraceWindow = (end: Date, at: Date, graceMs = FINAL_VERDICT_GRACE_MS): boolean => end <= at && at.getTime() - end.getTime() < graceMs

/**
 * Final verdicts (`achieved` or `missed`, or `unknown` with its reason) for every period that ended
 * within the grace window before `at` (up to three days of a `day` KPI, the week, month … just
 * ended, a custom period that has just ended): judged as of their end with everything known at
 * `at`, so late daily buckets and posts first read after the end still count, and re-judged at
 * every evaluation in the grace window. A calendar period's end is the next one's start, so its
 * verdict is never the running evaluation at that instant: the two are stored apart
 * (kpi_verdicts, kpi_evaluations).
 */
export async function evaluateClosedPeriods(plan: Plan, at: Date, source: KpiDataSource, options: PlanEvaluationOptions & { graceMs?: number } = {}): Promise<KpiEvaluation[]> {
  const { timezone, weekStart } = plan.company
  const graceMs = options.graceMs ?? FINAL_VERDICT_GRACE_MS
  const staleAfterMs = options.staleAfterMs ?? planStaleAfterMs(plan, at)
  const batched = sourceFor(plan, plan.kpis, source)
  const ended: Array<{ kpi: Kpi; period: Period }> = []
  for (const kpi of plan.kpis) {
    const current = periodAt(kpi.period, at, timezone, weekStart)
    if (typeof kpi.period === 'object') {
      if (inGraceWindow(current.end, at, graceMs)) ended.push({ kpi, period: current })
      continue
    }
    // A calendar period's predecessor ended where it starts; walk back while they are in the grace window.
    const before = (p: Period) => periodAt(kpi.period, new Date(p.start.getTime() - 1), timezone, weekStart)
    for (let p = before(current); inGraceWindow(p.end, at, graceMs); p = before(p)) ended.push({ kpi, period: p })
  }
  return Promise.all(ended.map(({ kpi, period }) => evaluateKpi(plan, kpi, period.end, batched, { period, knownAt: at, staleAfterMs })))
}
