import { elapsedFraction, periodAt, type Period } from './periods.ts'
import { FORECAST_WINDOW_DAYS, forecastEnd, type Forecast } from './forecast.ts'
import { judge, type KpiStatus, type StatusBasis } from './pacing.ts'
import { METRICS } from '../core/metrics.ts'
import { kpiAccounts, kpiEvidence, type Kpi, type Plan } from './plan.ts'

/** Which observations a KPI reads: one metric of some accounts of one network. */
export interface MetricSelection {
  network: string
  accountIds: string[]
  metric: string
}

/**
 * Where a KPI's numbers come from. `level` is the sum over the accounts of each account's latest
 * value at or before `at`; `amount` is what accrued in [from, to): daily counts summed, counters'
 * rise. Both are null when there is no data (no data is not zero).
 */
export interface KpiDataSource {
  level(selection: MetricSelection, at: Date): Promise<number | null>
  amount(selection: MetricSelection, from: Date, to: Date): Promise<number | null>
  /**
   * Optional, for speed: the level at each of `from`, `from + stepMs`, …, `to` (one query instead
   * of one per step). Without it the evaluator asks `level` step by step.
   */
  levelSeries?(selection: MetricSelection, from: Date, to: Date, stepMs: number): Promise<Array<number | null>>
  /** Optional, for speed: the amount of each step [from + k·stepMs, from + (k+1)·stepMs) up to `to`. */
  amountSeries?(selection: MetricSelection, from: Date, to: Date, stepMs: number): Promise<Array<number | null>>
}

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
  /** The end-of-period forecast; null for rates, ended periods, and with under 3 days of data. */
  forecast?: Forecast | null
  /** The KPI's value at daily steps back from `evaluatedAt` (within the period, at most 92 days), oldest first. */
  history?: KpiPoint[]
}

const DAY_MS = 86_400_000
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
  dataUntil: Date
  history: KpiPoint[]
}

/**
 * The recent daily steps of a level, growth or total KPI, and its history within the period.
 * Steps are whole days counted back from `upTo` (the evaluation time), so the newest data is in.
 */
async function readTrend(kpi: Kpi, select: MetricSelection, source: KpiDataSource, period: Period, at: Date, upTo: Date, actual: number, baseline: number | null): Promise<Trend> {
  const sincePeriod = Math.ceil((upTo.getTime() - period.start.getTime()) / DAY_MS)
  const steps = Math.min(MAX_HISTORY_DAYS, Math.max(FORECAST_WINDOW_DAYS, sincePeriod))
  const from = new Date(upTo.getTime() - steps * DAY_MS)
  const boundary = (k: number) => new Date(from.getTime() + k * DAY_MS)
  const inPeriod = (k: number) => boundary(k) >= period.start
  const start: KpiPoint[] = sincePeriod <= steps && (kpi.kind !== 'level' || baseline !== null) ? [{ at: period.start, value: kpi.kind === 'level' ? baseline! : 0 }] : []
  if (kpi.kind === 'total') {
    const amounts = await amountsOf(source, select, from, steps)
    let lastWithData = -1
    amounts.forEach((a, i) => (a !== null ? (lastWithData = i) : undefined))
    // The value at boundary k is what accrued in the period up to it: actual minus what came after.
    const history: KpiPoint[] = []
    let after = 0
    for (let k = steps; k >= 1; k--) {
      if (inPeriod(k) && boundary(k) > period.start) history.unshift({ at: boundary(k), value: actual - after })
      after += amounts[k - 1] ?? 0
    }
    // Data reaches the end of the last step with data; a daily count, stamped at its day's start,
    // covers one more day.
    const daily = METRICS[kpi.network][kpi.metric]?.shape === 'daily' ? DAY_MS : 0
    const until = lastWithData >= 0 ? Math.min(at.getTime(), boundary(lastWithData + 1).getTime() - (upTo.getTime() - at.getTime()) + daily) : at.getTime()
    return { steps: amounts.slice(-FORECAST_WINDOW_DAYS), dataUntil: new Date(until), history: [...start, ...history] }
  }
  const levels = await levelsAt(source, select, from, steps)
  const changes = levels.slice(1).map((level, i) => (level === null || levels[i] === null ? null : level - levels[i]!))
  const history: KpiPoint[] = []
  levels.forEach((level, k) => {
    if (level === null || !inPeriod(k) || boundary(k) <= period.start) return
    history.push({ at: boundary(k), value: kpi.kind === 'level' ? level : level - (baseline ?? 0) })
  })
  return { steps: changes.slice(-FORECAST_WINDOW_DAYS), dataUntil: at, history: [...start, ...history] }
}

/**
 * Evaluates one KPI as of `at`: its period in the plan's time zone (or the one given), its actual
 * value, and the pace.
 */
export async function evaluateKpi(
  plan: Plan,
  kpi: Kpi,
  at: Date,
  source: KpiDataSource,
  period: Period = periodAt(kpi.period, at, plan.company.timezone, plan.company.weekStart),
): Promise<KpiEvaluation> {
  // Observations made at `at` itself count; the period itself is [start, end).
  const upTo = at < period.end ? new Date(at.getTime() + 1) : period.end
  const selection = (metric: string): MetricSelection => ({
    network: kpi.network,
    accountIds: kpiAccounts(plan, kpi).map((account) => account.id),
    metric,
  })
  let actual: number | null = null
  let baseline: number | null = null
  let levelAtStart: number | null = null
  switch (kpi.kind) {
    case 'level':
      actual = await source.level(selection(kpi.metric), upTo)
      baseline = await source.level(selection(kpi.metric), period.start)
      break
    case 'growth': {
      const end = await source.level(selection(kpi.metric), upTo)
      levelAtStart = await source.level(selection(kpi.metric), period.start)
      actual = end === null || levelAtStart === null ? null : end - levelAtStart
      break
    }
    case 'total':
      actual = await source.amount(selection(kpi.metric), period.start, upTo)
      break
    case 'rate': {
      const numerator = await source.amount(selection(kpi.metric), period.start, upTo)
      const denominator = await source.amount(selection(kpi.denominator!), period.start, upTo)
      actual = numerator === null || denominator === null || denominator === 0 ? null : numerator / denominator
      break
    }
  }
  const periodEnded = at >= period.end
  let forecast: Forecast | null = null
  let history: KpiPoint[] = []
  if (!periodEnded && actual !== null && kpi.kind !== 'rate' && at >= period.start) {
    const trend = await readTrend(kpi, selection(kpi.metric), source, period, at, upTo, actual, kpi.kind === 'level' ? baseline : levelAtStart)
    history = trend.history
    forecast = forecastEnd({ current: actual, steps: trend.steps, dataUntil: trend.dataUntil, at, periodEnd: period.end, target: kpi.target, comparator: kpi.comparator })
  }
  const judgement = judge({
    kind: kpi.kind,
    comparator: kpi.comparator,
    target: kpi.target,
    tolerance: kpi.tolerance,
    actual,
    baseline,
    fraction: elapsedFraction(period, at),
    periodEnded,
    pace: kpi.pace,
    forecast,
    evidence: kpiEvidence(plan, kpi),
  })
  return { kpi, evaluatedAt: at, period, actual, ...judgement, baseline, forecast, history }
}

export async function evaluatePlan(plan: Plan, at: Date, source: KpiDataSource): Promise<KpiEvaluation[]> {
  const results: KpiEvaluation[] = []
  for (const kpi of plan.kpis) results.push(await evaluateKpi(plan, kpi, at, source))
  return results
}

/** How long after a period's end its final verdict is re-judged, as late data (insights) arrives. */
export const FINAL_VERDICT_GRACE_MS = 3 * 86_400_000

/**
 * Final verdicts (`achieved` or `missed`) for the calendar periods that ended less than `graceMs`
 * before `at`, judged as of their end. A day-to-year period's evaluation at its very end already
 * belongs to the next period, so without this a period would never be called missed. Custom
 * periods need none: evaluated after their end, they are judged as ended.
 */
export async function evaluateClosedPeriods(plan: Plan, at: Date, source: KpiDataSource, graceMs = FINAL_VERDICT_GRACE_MS): Promise<KpiEvaluation[]> {
  const results: KpiEvaluation[] = []
  for (const kpi of plan.kpis) {
    if (typeof kpi.period !== 'string') continue
    const current = periodAt(kpi.period, at, plan.company.timezone, plan.company.weekStart)
    const previous = periodAt(kpi.period, new Date(current.start.getTime() - 1), plan.company.timezone, plan.company.weekStart)
    if (at.getTime() - previous.end.getTime() > graceMs) continue
    results.push(await evaluateKpi(plan, kpi, previous.end, source, previous))
  }
  return results
}
