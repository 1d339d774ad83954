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

/** Evaluates one KPI as of `at`: its period in the plan's time zone, its actual value, and the pace. */
export async function evaluateKpi(plan: Plan, kpi: Kpi, at: Date, source: KpiDataSource): Promise<KpiEvaluation> {
  const period = periodAt(kpi.period, at, plan.company.timezone, plan.company.weekStart)
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
