import { elapsedFraction, periodAt, type Period } from './periods.ts'
import { judge, type KpiStatus } from './pacing.ts'
import { kpiAccounts, type Kpi, type Plan } from './plan.ts'

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
}

export interface KpiEvaluation {
  kpi: Kpi
  evaluatedAt: Date
  period: Period
  actual: number | null
  expectedToDate: number | null
  attainment: number | null
  status: KpiStatus
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
  switch (kpi.kind) {
    case 'level':
      actual = await source.level(selection(kpi.metric), upTo)
      baseline = await source.level(selection(kpi.metric), period.start)
      break
    case 'growth': {
      const end = await source.level(selection(kpi.metric), upTo)
      const start = await source.level(selection(kpi.metric), period.start)
      actual = end === null || start === null ? null : end - start
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
  const judgement = judge({
    kind: kpi.kind,
    comparator: kpi.comparator,
    target: kpi.target,
    tolerance: kpi.tolerance,
    actual,
    baseline,
    fraction: elapsedFraction(period, at),
    periodEnded: at >= period.end,
  })
  return { kpi, evaluatedAt: at, period, actual, ...judgement }
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
