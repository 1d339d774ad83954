import { toClickHouseTime } from '../core/clickhouse.ts'
import type { KpiEvaluation } from '../kpi/evaluate.ts'
import type { KpiEvaluationRow } from './writers.ts'

/** A `kpi_evaluations` row with the forecast columns of migration 0007. */
export interface KpiEvaluationForecastRow extends KpiEvaluationRow {
  forecast_end: number | null
  forecast_low: number | null
  forecast_high: number | null
  recent_per_day: number | null
  needed_per_day: number | null
  status_basis: NonNullable<KpiEvaluation['basis']>
}

/** One evaluation as a `kpi_evaluations` row. */
export function toEvaluationRow(evaluation: KpiEvaluation, writtenAt: Date): KpiEvaluationForecastRow {
  const { kpi, forecast } = evaluation
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
    forecast_end: forecast?.end ?? null,
    forecast_low: forecast?.low ?? null,
    forecast_high: forecast?.high ?? null,
    recent_per_day: forecast?.recentPerDay ?? null,
    needed_per_day: forecast?.neededPerDay ?? null,
    status_basis: evaluation.basis ?? 'pace',
    written_at: toClickHouseTime(writtenAt),
  }
}
