import { toClickHouseTime } from '../core/clickhouse.ts'
import { FINAL_VERDICT_GRACE_MS, type KpiEvaluation } from '../kpi/evaluate.ts'
import type { Kpi } from '../plan/plan.ts'
import type { KpiColumns, KpiEvaluationRow, KpiStatusColumns, KpiVerdictRow } from '../core/tables.ts'

/** The plan's description of a KPI, as both tables store it. */
function kpiColumns(kpi: Kpi, evaluation: KpiEvaluation): KpiColumns {
  return {
    kpi_id: kpi.id,
    kpi_name: kpi.name,
    objective_id: kpi.objective,
    network: kpi.network,
    metric: kpi.denominator ? `${kpi.metric}/${kpi.denominator}` : kpi.metric,
    kind: kpi.kind,
    comparator: kpi.comparator,
    target: kpi.target,
    unit: evaluation.unit ?? kpi.unit,
    currency: evaluation.currency ?? '',
  }
}

/** The status, and why there is none (migration 0024), as both tables store it. */
function statusColumns(evaluation: KpiEvaluation): KpiStatusColumns {
  return {
    status: evaluation.status,
    status_reason: evaluation.reason ?? '',
    missing_accounts: evaluation.missingAccounts ?? [],
    status_cause: evaluation.problem?.cause ?? '',
    cause_facts: evaluation.problem?.facts ?? {},
  }
}

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
    ...kpiColumns(kpi, evaluation),
    period_start: toClickHouseTime(evaluation.period.start),
    period_end: toClickHouseTime(evaluation.period.end),
    actual: evaluation.actual,
    expected_to_date: evaluation.expectedToDate,
    attainment: evaluation.attainment,
    ...statusColumns(evaluation),
    forecast_end: forecast?.end ?? null,
    forecast_low: forecast?.low ?? null,
    forecast_high: forecast?.high ?? null,
    recent_per_day: forecast?.recentPerDay ?? null,
    needed_per_day: forecast?.neededPerDay ?? null,
    status_basis: evaluation.basis ?? 'pace',
    written_at: toClickHouseTime(writtenAt),
  }
}

/**
 * A period's final verdict as a `kpi_verdicts` row. `evaluation` is judged as of the period's end
 * with what is known at `judgedAt` (the evaluation time).
 */
export function toVerdictRow(evaluation: KpiEvaluation, judgedAt: Date, writtenAt: Date): KpiVerdictRow {
  const { kpi, period } = evaluation
  return {
    ...kpiColumns(kpi, evaluation),
    period_start: toClickHouseTime(period.start),
    period_end: toClickHouseTime(period.end),
    period_label: period.label,
    actual: evaluation.actual,
    attainment: evaluation.attainment,
    ...statusColumns(evaluation),
    judged_at: toClickHouseTime(judgedAt),
    settles_at: toClickHouseTime(new Date(period.end.getTime() + FINAL_VERDICT_GRACE_MS)),
    written_at: toClickHouseTime(writtenAt),
  }
}
