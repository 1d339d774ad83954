import { ReduceDataOptionsBuilder, BigValueColorMode, BigValueTextMode } from '@grafana/grafana-foundation-sdk/common'
import {
  panels,
  grid,
  dashboard,
  variable,
  zoneVariable,
  periodDays,
  statusMappings,
  coloured,
  percent,
  isoTime,
  verdictSql,
  STATUS_SQL,
  LATEST_EVALUATIONS,
  TARGET_SQL,
  IN_UNIT,
  PERIOD_SQL,
} from '../parts.ts'

export function kpiDetail() {
  const p = panels()
  const kpi = `\${kpi:singlequote}`
  /** The KPI's units up to the end of the range: its evaluations, and the verdicts of its ended periods. */
  const unitRows = `(
    SELECT kpi_id, unit, currency, evaluated_at AS at FROM kpi_evaluations FINAL WHERE kpi_id = ${kpi} AND evaluated_at <= $__toTime_ms
    UNION ALL
    SELECT kpi_id, unit, currency, judged_at AS at FROM kpi_verdicts FINAL WHERE kpi_id = ${kpi} AND period_end <= $__toTime_ms
)`
  return dashboard(
    'social-kpi-kpi-detail',
    'social-kpi · KPI detail',
    'One KPI: what the plan says, its actual against target, pace and the forecast band over its current period, and the verdicts of its past periods. Sources: plan_kpis, kpi_evaluations, kpi_verdicts.',
  )
    .withVariable(
      variable(
        'kpi',
        'KPI',
        'KPIs of the plan, then any other KPI ever evaluated (value: KPI id, shown: its name).',
        `SELECT kpi_id, argMax(name, rank) AS name
FROM (SELECT kpi_id, name, 1 AS rank, position FROM plan_kpis UNION ALL SELECT kpi_id, kpi_name AS name, 0 AS rank, 65535 AS position FROM kpi_evaluations FINAL)
GROUP BY kpi_id
ORDER BY min(position), kpi_id`,
        { multi: false },
      ),
    )
    .withVariable(zoneVariable())
    .withPanel(
      p
        .table({
          title: 'The KPI in the plan',
          description:
            "The plan's definition of the KPI: objective, network and metric, kind, target (≥ at least, ≤ at most), tolerance, period, the accounts it covers, and the actions to take when it falls behind. The target is in the KPI's unit at its latest evaluation (a rate as 3%, money with its currency). Source: plan_kpis, plan_objectives, kpi_evaluations.",
          at: grid(0, 0, 24, 4),
          sql: `
SELECT
    k.name AS "KPI",
    o.name AS "Objective",
    k.network AS "Network",
    if(k.denominator = '', k.metric, concat(k.metric, ' / ', k.denominator)) AS "Metric",
    k.kind AS "Kind",
    ${TARGET_SQL} AS "Target",
    k.tolerance AS "Tolerance",
    ${PERIOD_SQL} AS "Period",
    arrayStringConcat(k.accounts, ', ') AS "Accounts",
    arrayStringConcat(k.actions, ' · ') AS "Actions"
FROM plan_kpis AS k
LEFT JOIN plan_objectives AS o ON o.plan_key = k.plan_key AND o.objective_id = k.objective_id
LEFT JOIN ${LATEST_EVALUATIONS} AS e ON e.kpi_id = k.kpi_id
WHERE k.kpi_id = ${kpi}`,
        })
        .overrideByName('Tolerance', percent),
    )
    .withPanel(
      p
        .stat({
          title: 'Status',
          description: 'The status at the latest evaluation up to the end of the time range, with the reason it rests on (the forecast, or too early to tell). Source: kpi_evaluations.',
          at: grid(0, 4, 6, 4),
          sql: `SELECT ${STATUS_SQL} AS "Status" FROM ${LATEST_EVALUATIONS} AS e WHERE e.kpi_id = ${kpi}`,
        })
        .mappings(statusMappings)
        .reduceOptions(new ReduceDataOptionsBuilder().values(false).calcs(['lastNotNull']).fields('/^Status$/')),
    )
    .withPanel(
      p
        .stat({
          title: 'Attainment',
          description: 'Actual ÷ target (target ÷ actual for an at-most KPI) at the latest evaluation; 100% = target reached. Source: kpi_evaluations.',
          at: grid(6, 4, 6, 4),
          sql: `SELECT e.attainment AS "Attainment" FROM ${LATEST_EVALUATIONS} AS e WHERE e.kpi_id = ${kpi}`,
        })
        .unit('percentunit')
        .decimals(1)
        .colorMode(BigValueColorMode.Value),
    )
    .withPanel(
      p
        .stat({
          title: 'Actual and target',
          description: `The actual value at the latest evaluation, and the period target, in the KPI's unit. ${IN_UNIT} Source: kpi_evaluations.`,
          at: grid(12, 4, 6, 4),
          sql: `SELECT e.actual AS "Actual", e.target AS "Target" FROM ${LATEST_EVALUATIONS} AS e WHERE e.kpi_id = ${kpi}`,
          unit: { rows: unitRows, fields: 'numbers' },
        })
        .textMode(BigValueTextMode.ValueAndName)
        .colorMode(BigValueColorMode.None),
    )
    .withPanel(
      p
        .stat({
          title: 'Forecast at period end',
          description: `Where the KPI is heading at the period end from its recent trend, with the 80% band (low and high): the end value falls inside it four times in five. Empty for rates, ended periods, and with under 3 days of data. ${IN_UNIT} Source: kpi_evaluations.`,
          at: grid(18, 4, 6, 4),
          sql: `SELECT e.forecast_low AS "Low (80%)", e.forecast_end AS "Forecast", e.forecast_high AS "High (80%)" FROM ${LATEST_EVALUATIONS} AS e WHERE e.kpi_id = ${kpi}`,
          unit: { rows: unitRows, fields: 'numbers' },
        })
        .textMode(BigValueTextMode.ValueAndName)
        .colorMode(BigValueColorMode.None),
    )
    .withPanel(
      p
        .timeseries({
          title: 'Actual, target, pace and forecast band (80%)',
          description: `Over the KPI's current period (the period of its latest evaluation up to the end of the time range, whatever the range's start): the actual value at each evaluation, the target, the pace line (where it should be by then), and the forecast of the end value with its 80% band shaded. ${IN_UNIT} Source: kpi_evaluations.`,
          at: grid(0, 8, 24, 11),
          sql: `
SELECT
    evaluated_at AS time,
    actual AS "Actual",
    target AS "Target",
    expected_to_date AS "Pace (expected to date)",
    forecast_end AS "Forecast",
    forecast_low AS "Forecast low (80%)",
    forecast_high AS "Forecast high (80%)"
FROM kpi_evaluations FINAL
WHERE kpi_id = ${kpi}
  AND evaluated_at <= $__toTime_ms
  AND period_start = (SELECT argMax(period_start, evaluated_at) FROM kpi_evaluations FINAL WHERE kpi_id = ${kpi} AND evaluated_at <= $__toTime_ms)
ORDER BY time`,
          unit: { rows: unitRows, fields: 'numbers' },
        })
        .overrideByName('Target', [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } }])
        .overrideByName('Pace (expected to date)', [{ id: 'custom.lineStyle', value: { fill: 'dot', dash: [0, 10] } }])
        .overrideByName('Forecast', [{ id: 'custom.lineStyle', value: { fill: 'dash', dash: [4, 4] } }])
        .overrideByName('Forecast high (80%)', [
          { id: 'custom.fillBelowTo', value: 'Forecast low (80%)' },
          { id: 'custom.lineWidth', value: 0 },
          { id: 'custom.fillOpacity', value: 20 },
        ])
        .overrideByName('Forecast low (80%)', [{ id: 'custom.lineWidth', value: 0 }]),
    )
    .withPanel(
      p
        .table({
          title: "Past periods' verdicts",
          description: `The final verdict of each ended period up to the end of the time range, newest first: actual, target, attainment and verdict ("no verdict" with its reason, and the accounts whose data was missing or stale). A verdict is judged again as late data arrives until it settles (3 days after the period end): "settling" until then. Actual and target in the KPI's unit. ${IN_UNIT} Source: kpi_verdicts, kpi_evaluations.`,
          at: grid(0, 19, 24, 9),
          sql: `
SELECT
    if(period_label = '', ${periodDays('period_start', 'period_end')}, period_label) AS "Period",
    period_start AS "Start",
    period_end AS "End",
    actual AS "Actual",
    target AS "Target",
    attainment AS "Attainment",
    ${verdictSql()} AS "Verdict",
    arrayStringConcat(missing_accounts, ', ') AS "Accounts missing",
    if(settles_at <= $__toTime_ms, 'final', 'settling') AS "Settled"
FROM kpi_verdicts FINAL
WHERE kpi_id = ${kpi} AND period_end <= $__toTime_ms
ORDER BY period_start DESC`,
          unit: { rows: unitRows, fields: ['Actual', 'Target'] },
        })
        .overrideByName('Verdict', coloured)
        .overrideByName('Attainment', percent)
        .overrideByName('Start', isoTime)
        .overrideByName('End', isoTime),
    )
}
