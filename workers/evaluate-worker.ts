import type { Job } from 'bullmq'
import { toClickHouseTime, type ClickHouse } from '../core/clickhouse.ts'
import type { Logger } from '../core/logger.ts'
import { parsePayload } from '../core/queues.ts'
import { processAlerts, type AlertEngineDeps } from '../alerts/engine.ts'
import { clickHouseKpiSource } from '../kpi/clickhouse-source.ts'
import { evaluateClosedPeriods, evaluatePlan, type KpiEvaluation } from '../kpi/evaluate.ts'
import type { Plan } from '../kpi/plan.ts'
import { readSourceHealth } from './source-health.ts'
import type { KpiEvaluationRow, Writers } from './writers.ts'

export interface EvaluateDeps {
  plan: Plan
  ch: ClickHouse
  writers: Writers
  alerts: AlertEngineDeps
  now: () => Date
  logger: Logger
}

export function toEvaluationRow(evaluation: KpiEvaluation, writtenAt: Date): KpiEvaluationRow {
  const { kpi } = evaluation
  return {
    evaluated_at: toClickHouseTime(evaluation.evaluatedAt),
    kpi_id: kpi.id,
    kpi_name: kpi.name,
    objective_id: kpi.objective,
    network: kpi.network,
    metric: kpi.denominator ? `${kpi.metric}/${kpi.denominator}` : kpi.metric,
    kind: kpi.kind,
    comparator: kpi.comparator,
    period_start: toClickHouseTime(evaluation.period.start),
    period_end: toClickHouseTime(evaluation.period.end),
    actual: evaluation.actual,
    expected_to_date: evaluation.expectedToDate,
    target: kpi.target,
    attainment: evaluation.attainment,
    status: evaluation.status,
    written_at: toClickHouseTime(writtenAt),
  }
}

/**
 * Evaluates every KPI of the plan as of `at` (plus the final verdict of periods that just ended),
 * stores the results, then decides alerts on the current periods.
 */
export async function evaluateAndAlert(deps: EvaluateDeps, at: Date): Promise<KpiEvaluation[]> {
  const source = clickHouseKpiSource(deps.ch)
  const evaluations = await evaluatePlan(deps.plan, at, source)
  const finals = await evaluateClosedPeriods(deps.plan, at, source)
  await deps.writers.evaluations.write([...evaluations, ...finals].map((e) => toEvaluationRow(e, deps.now())), { flushNow: true })
  const health = await readSourceHealth(deps.ch)
  const notifications = await processAlerts(deps.alerts, evaluations, health, at)
  deps.logger.info({ at: at.toISOString(), kpis: evaluations.length, notifications }, 'evaluated')
  return evaluations
}

export function createEvaluateProcessor(deps: EvaluateDeps) {
  return async (job: Job) => {
    const payload = parsePayload('evaluate', job.data)
    const evaluations = await evaluateAndAlert(deps, new Date(payload.at))
    return evaluations.map((e) => ({ kpi: e.kpi.id, status: e.status, actual: e.actual }))
  }
}
