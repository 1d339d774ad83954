import { elapsedFraction, periodAt, type Period } from '../plan/periods.ts'
import { FORECAST_WINDOW_DAYS, forecastEnd, type Forecast } from './forecast.ts'
import { judge, type StatusBasis } from './pacing.ts'
import { METRICS } from '../core/metrics.ts'
import { kpiKind, type KpiKindModule, type StartingPoint } from './kinds/index.ts'
import type { KpiDataSource, MetricSelection } from './kinds/source.ts'
import { kpiAccounts, kpiEvidence, kpiSegments, type Kpi, type Plan } from '../plan/plan.ts'
import type { KpiStatus } from './statuses.ts'

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
  /** Why there is no forecast although the KPI could have one (its collection stopped). */
  forecastNote?: string
  /** The KPI's value at daily steps back from `evaluatedAt` (within the period, at most 92 days), oldest first. */
  history?: KpiPoint[]
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
 * within the period. Steps are whole days counted back from `upTo` (the evaluation time), so the
 * newest data is in.
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
}

/**
 * Evaluates one KPI as of `at`: its period in the plan's time zone (or the one given), its actual
 * value, and the pace.
 */
export async function evaluateKpi(plan: Plan, kpi: Kpi, at: Date, source: KpiDataSource, options: EvaluateOptions = {}): Promise<KpiEvaluation> {
  const period = options.period ?? periodAt(kpi.period, at, plan.company.timezone, plan.company.weekStart)
  const knownAt = options.knownAt ?? at
  // Observations made at `at` itself count; the period itself is [start, end).
  const upTo = at < period.end ? new Date(at.getTime() + 1) : period.end
  const selection = (metric: string) => selectionOf(plan, kpi, metric)
  const kind = kpiKind(kpi.kind)
  // A level starts from its reading at the period start, or from its first reading in the period.
  const { actual, start } = await kind.measure({
    source,
    metric: selection(kpi.metric),
    ...(kpi.denominator ? { denominator: selection(kpi.denominator) } : {}),
    period,
    upTo,
    knownAt,
  })
  const baseline = kind.origin === 'start' ? (start?.value ?? null) : null
  const baselineAt = kind.origin === 'start' && start && start.at > period.start ? start.at : undefined
  const periodEnded = at >= period.end
  let forecast: Forecast | null = null
  let forecastNote: string | undefined
  let history: KpiPoint[] = []
  if (!periodEnded && actual !== null && kind.trend !== null && at >= period.start) {
    const trend = await readTrend(kind, selection(kpi.metric), source, period, upTo, actual, start)
    history = trend.history
    const projection = await projectionStart(kpi, selection(kpi.metric), source, at, upTo)
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
  return { kpi, evaluatedAt: at, period, actual, ...judgement, baseline, ...(baselineAt ? { baselineAt } : {}), forecast, ...(forecastNote ? { forecastNote } : {}), history }
}

/**
 * Where the forecast projects from: the end of the data behind the actual value. A daily count
 * covers the day it is stamped with, so the API days still to come are the ones after its last
 * reported day; a gauge or counter reaches its newest reading. A KPI one of whose accounts has
 * stopped being collected gets no forecast, with the reason, rather than a projection of counting
 * that is not happening.
 */
async function projectionStart(kpi: Kpi, select: MetricSelection, source: KpiDataSource, at: Date, upTo: Date): Promise<{ dataUntil: Date } | { note: string }> {
  const newest = await source.dataUntil(select, upTo)
  if (!newest) return { dataUntil: at }
  const daily = METRICS[kpi.network][kpi.metric]?.shape === 'daily'
  const stoppedAfter = COLLECTION_STOPPED_AFTER_MS + (daily ? FINAL_VERDICT_GRACE_MS : 0)
  if (at.getTime() - newest.at.getTime() > stoppedAfter) {
    const day = newest.at.toISOString().slice(0, 10)
    return { note: `no forecast: no ${kpi.metric} data from ${newest.accountId} since ${day}, so its collection has stopped` }
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

export async function evaluatePlan(plan: Plan, at: Date, source: KpiDataSource): Promise<KpiEvaluation[]> {
  const batched = sourceFor(plan, plan.kpis, source)
  // All at once: KPIs that share a question wait for the same query, and distinct queries overlap.
  return Promise.all(plan.kpis.map((kpi) => evaluateKpi(plan, kpi, at, batched)))
}

/** How long after a period's end its final verdict is re-judged, as late data (insights) arrives. */
export const FINAL_VERDICT_GRACE_MS = 3 * 86_400_000

/**
 * Final verdicts (`achieved` or `missed`) for the periods that ended less than `graceMs` before
 * `at`: judged as of their end with everything known at `at`, so late daily buckets and posts
 * first read after the end still count, and re-judged at every evaluation in the grace window.
 * A calendar period's end is the next one's start, so its verdict is never the running
 * evaluation at that instant: the two are stored apart (kpi_verdicts, kpi_evaluations).
 */
export async function evaluateClosedPeriods(plan: Plan, at: Date, source: KpiDataSource, graceMs = FINAL_VERDICT_GRACE_MS): Promise<KpiEvaluation[]> {
  const { timezone, weekStart } = plan.company
  const batched = sourceFor(plan, plan.kpis, source)
  const results: KpiEvaluation[] = []
  for (const kpi of plan.kpis) {
    const current = periodAt(kpi.period, at, timezone, weekStart)
    // A custom period is one fixed span; a calendar period's predecessor ended where it starts.
    const ended = typeof kpi.period === 'string' ? periodAt(kpi.period, new Date(current.start.getTime() - 1), timezone, weekStart) : current
    if (ended.end > at || at.getTime() - ended.end.getTime() > graceMs) continue
    results.push(await evaluateKpi(plan, kpi, ended.end, batched, { period: ended, knownAt: at }))
  }
  return results
}
