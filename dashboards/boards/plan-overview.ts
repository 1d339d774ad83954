import { kpiNumberSql } from '../units.ts'
import { panels, grid, dashboard, variable, coloured, percent, oneOf, STATUS_SQL, LATEST_EVALUATIONS, TARGET_SQL, PERIOD_SQL } from '../parts.ts'

export function planOverview() {
  const p = panels()
  return dashboard(
    'social-kpi-plan-overview',
    'social-kpi · Plan overview',
    'The plan in Grafana: per objective (the O of POST), its KPIs with status, attainment and forecast; the situation, SWOT, audiences and accounts the plan describes. Sources: the plan tables (plan_objectives, plan_kpis, plan_accounts, plan_situation) joined with kpi_evaluations.',
  )
    .withVariable(
      variable('objective', 'Objective', "The plan's objectives (value: objective id, shown: its name).", `SELECT objective_id, name FROM plan_objectives ORDER BY position`, { multi: true }),
    )
    .withPanel(
      p
        .table({
          title: 'Objectives',
          description:
            'Each objective of the plan, what it is for, and where its KPIs stand at their latest evaluation up to the end of the time range: how many are achieved, on track, at risk or missed, and the median attainment (actual ÷ target; 100% = target reached). No verdict: not evaluated yet, or not judged (an account not collected or stale, no data, too early; the KPI status says why). Source: plan_objectives, plan_kpis, kpi_evaluations.',
          at: grid(0, 0, 24, 7),
          sql: `
SELECT
    o.name AS "Objective",
    o.description AS "Description",
    countIf(k.kpi_id != '') AS "KPIs",
    countIf(e.status = 'achieved') AS "Achieved",
    countIf(e.status = 'on_track') AS "On track",
    countIf(e.status = 'at_risk') AS "At risk",
    countIf(e.status = 'missed') AS "Missed",
    countIf(k.kpi_id != '' AND e.status IN ('', 'unknown')) AS "No verdict",
    round(median(e.attainment), 3) AS "Median attainment",
    arrayStringConcat(o.actions, ' · ') AS "Actions"
FROM plan_objectives AS o
LEFT JOIN plan_kpis AS k ON k.plan_key = o.plan_key AND k.objective_id = o.objective_id
LEFT JOIN ${LATEST_EVALUATIONS} AS e ON e.kpi_id = k.kpi_id
WHERE ${oneOf('o.objective_id', 'objective')}
GROUP BY o.plan_key, o.position, o.objective_id, o.name, o.description, o.actions
ORDER BY o.position`,
        })
        .overrideByName('Median attainment', percent),
    )
    .withPanel(
      p
        .table({
          title: 'KPIs per objective',
          description:
            "Every KPI of the plan under its objective: its target (≥ at least, ≤ at most) and period, its status at the latest evaluation up to the end of the time range, attainment, and the forecast of its value at the period end with the 80% band (the end value falls inside it four times in five). Target, actual and forecast are in the KPI's unit (a rate as 1.52%, money with its currency: IDR 1,234,567), as text, since one column holds KPIs of every unit; attainment compares them. Actions: what the plan says to do when it falls behind. Source: plan_kpis, plan_objectives, kpi_evaluations.",
          at: grid(0, 7, 24, 11),
          sql: `
SELECT
    o.name AS "Objective",
    k.name AS "KPI",
    k.network AS "Network",
    if(k.denominator = '', k.metric, concat(k.metric, ' / ', k.denominator)) AS "Metric",
    ${TARGET_SQL} AS "Target",
    ${PERIOD_SQL} AS "Period",
    ${STATUS_SQL} AS "Status",
    e.attainment AS "Attainment",
    ${kpiNumberSql('e.actual', 'e.')} AS "Actual",
    ${kpiNumberSql('e.forecast_end', 'e.')} AS "Forecast at period end",
    if(e.forecast_low IS NULL, '', concat(${kpiNumberSql('e.forecast_low', 'e.')}, ' – ', ${kpiNumberSql('e.forecast_high', 'e.')})) AS "Forecast band (80%)",
    arrayStringConcat(k.actions, ' · ') AS "Actions"
FROM plan_kpis AS k
INNER JOIN plan_objectives AS o ON o.plan_key = k.plan_key AND o.objective_id = k.objective_id
LEFT JOIN ${LATEST_EVALUATIONS} AS e ON e.kpi_id = k.kpi_id
WHERE ${oneOf('k.objective_id', 'objective')}
ORDER BY o.position, k.position`,
        })
        .overrideByName('Status', coloured)
        .overrideByName('Attainment', percent),
    )
    .withPanel(
      p.table({
        title: 'SWOT',
        description: "The plan's SWOT analysis (situation.swot): strengths and weaknesses inside the company, opportunities and threats outside it, in the plan's order. Source: plan_situation.",
        at: grid(0, 18, 12, 10),
        sql: `
SELECT
    multiIf(section = 'strength', 'Strength', section = 'weakness', 'Weakness', section = 'opportunity', 'Opportunity', 'Threat') AS "Quadrant",
    text AS "Item"
FROM plan_situation
WHERE section IN ('strength', 'weakness', 'opportunity', 'threat')
ORDER BY indexOf(['strength', 'weakness', 'opportunity', 'threat'], section), position`,
      }),
    )
    .withPanel(
      p.table({
        title: 'Audiences',
        description: "Who the plan addresses (audiences, the P of POST): each audience's name and description. Source: plan_situation.",
        at: grid(12, 18, 12, 10),
        sql: `
SELECT title AS "Audience", text AS "Description", item_id AS "Id"
FROM plan_situation
WHERE section = 'audience'
ORDER BY position`,
      }),
    )
    .withPanel(
      p.table({
        title: 'Situation',
        description:
          "The plan's own words on where the company stands: what it is and offers, the summary, its online reputation and competitors, the tools it uses (the T of POST) and the steps of its crisis guide. Source: plan_situation.",
        at: grid(0, 28, 24, 8),
        sql: `
SELECT
    multiIf(section = 'company_description', 'Company', section = 'offering', 'Offering', section = 'summary', 'Summary', section = 'online_reputation', 'Online reputation', section = 'competitors', 'Competitors', section = 'technology', 'Technology', 'Crisis step') AS "Section",
    text AS "Text"
FROM plan_situation
WHERE section IN ('company_description', 'offering', 'summary', 'online_reputation', 'competitors', 'technology', 'crisis_step')
ORDER BY indexOf(['company_description', 'offering', 'summary', 'online_reputation', 'competitors', 'technology', 'crisis_step'], section), position`,
      }),
    )
    .withPanel(
      p.table({
        title: 'Accounts',
        description:
          'The strategy (the S of POST): each account the plan collects from, how often it posts, in which language and with which focus, and the KPIs it counts towards. Credentials are not shown, only their kind. Source: plan_accounts.',
        at: grid(0, 36, 24, 8),
        sql: `
SELECT
    network AS "Network",
    account_id AS "Account",
    name AS "Name",
    posting_frequency AS "Posting",
    language AS "Language",
    content_focus AS "Content focus",
    auth_kind AS "Credentials",
    arrayStringConcat(kpis, ', ') AS "KPIs"
FROM plan_accounts
ORDER BY position`,
      }),
    )
}
