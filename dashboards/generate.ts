import { speaker } from '../core/i18n/index.ts'
/**
 * The generated dashboards, built with Grafana's own Foundation SDK (@grafana/grafana-foundation-sdk)
 * so that panels, variables and field options are typed by Grafana's schema rather than written
 * as JSON by hand; docs/dashboards.md says why. `npm run dashboards` writes them to dashboards/*.json
 * (committed, provisioned as they are); test/integration/dashboards.test.ts checks that the
 * committed files are exactly what this builds, lints them and runs every query on ClickHouse.
 * kpi-overview.json and period-reviews.json are older and hand-written.
 */
import { writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog'
import {
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  TooltipDisplayMode,
  VizLegendOptionsBuilder,
  VizTooltipOptionsBuilder,
  SortOrder,
  BigValueColorMode,
  BigValueTextMode,
  GraphDrawStyle,
  TableCellHeight,
} from '@grafana/grafana-foundation-sdk/common'
import {
  DashboardBuilder,
  DashboardLinkBuilder,
  DashboardLinkType,
  DatasourceVariableBuilder,
  MappingType,
  QueryVariableBuilder,
  VariableRefresh,
  VariableSort,
  type DynamicConfigValue,
  type GridPos,
  type ValueMapping,
} from '@grafana/grafana-foundation-sdk/dashboard'
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat'
import { PanelBuilder as TablePanel } from '@grafana/grafana-foundation-sdk/table'
import { PanelBuilder as TimeseriesPanel } from '@grafana/grafana-foundation-sdk/timeseries'
import { kpiNumberSql, kpiUnitQuery, UNIT_REF, unitFromQuery } from './units.ts'
import { KPI_STATUS_MEANINGS, STATUS_REASONS, statusText, statusWords, type KpiStatus, type StatusTone } from '../kpi/statuses.ts'

const PLUGIN = 'grafana-clickhouse-datasource'
const DATASOURCE = { type: PLUGIN, uid: '${datasource}' }

/** A raw-SQL query of the ClickHouse plugin, which the SDK does not ship (a custom Dataquery). */
class ClickHouseSql implements Builder<Dataquery> {
  constructor(
    private readonly sql: string,
    private readonly as: 'table' | 'timeseries',
    private readonly refId = 'A',
  ) {}

  build(): Dataquery {
    const query = { refId: this.refId, datasource: DATASOURCE, editorType: 'sql', queryType: this.as, format: this.as === 'table' ? 1 : 0, rawSql: this.sql.trim() }
    return query as unknown as Dataquery
  }
}

type AnyPanel = TablePanel | TimeseriesPanel | StatPanel
interface PanelSpec {
  title: string
  description: string
  at: GridPos
  sql: string
  /** The KPI unit of its numbers (dashboards/units.ts): the KPI rows to read it from, and the fields it applies to. */
  unit?: { rows: string; fields: string[] | 'numbers' }
}

/** Numbers panels in the order they are added: stable ids, as the lint wants. */
function panels() {
  let id = 0
  const common = <P extends AnyPanel>(panel: P, spec: PanelSpec, as: 'table' | 'timeseries'): P => {
    panel.id(++id).title(spec.title).description(spec.description).datasource(DATASOURCE).gridPos(spec.at).withTarget(new ClickHouseSql(spec.sql, as))
    if (spec.unit) panel.withTarget(new ClickHouseSql(kpiUnitQuery(spec.unit.rows), 'table', UNIT_REF)).withTransformation(unitFromQuery(spec.unit.fields))
    return panel
  }
  return {
    table: (spec: PanelSpec) => common(new TablePanel().cellHeight(TableCellHeight.Sm).showHeader(true), spec, 'table'),
    timeseries: (spec: PanelSpec) =>
      common(
        new TimeseriesPanel()
          .legend(new VizLegendOptionsBuilder().displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom).showLegend(true))
          .tooltip(new VizTooltipOptionsBuilder().mode(TooltipDisplayMode.Multi).sort(SortOrder.Descending))
          .spanNulls(true)
          .lineWidth(2),
        spec,
        'timeseries',
      ),
    stat: (spec: PanelSpec) =>
      common(
        new StatPanel()
          .reduceOptions(new ReduceDataOptionsBuilder().values(false).calcs(['lastNotNull']).fields(''))
          .colorMode(BigValueColorMode.Background)
          .textMode(BigValueTextMode.Value),
        spec,
        'table',
      ),
  }
}

const grid = (x: number, y: number, w: number, h: number): GridPos => ({ x, y, w, h })

function dashboard(uid: string, title: string, description: string): DashboardBuilder {
  return (
    new DashboardBuilder(title)
      .uid(uid)
      .description(description)
      .tags(['social-kpi'])
      .readonly()
      // Times in the reader's zone; a day on a panel is a day in the plan's (the `zone` variable).
      .timezone('browser')
      .time({ from: 'now-30d', to: 'now' })
      .refresh('5m')
      // Every social-kpi dashboard one click away, keeping the time range.
      .link(new DashboardLinkBuilder('social-kpi').type(DashboardLinkType.Dashboards).tags(['social-kpi']).asDropdown(true).keepTime(true).includeVars(false))
      .withVariable(
        new DatasourceVariableBuilder('datasource')
          .label('Data source')
          .description('The ClickHouse holding social-kpi data (provisioned as "ClickHouse (social-kpi)").')
          .type(PLUGIN)
          .current({ selected: true, text: 'ClickHouse (social-kpi)', value: 'social-kpi-clickhouse' }),
      )
  )
}

function variable(name: string, label: string, description: string, sql: string, options: { multi: boolean; refresh?: VariableRefresh }): QueryVariableBuilder {
  const query = sql.trim()
  const builder = new QueryVariableBuilder(name)
    .label(label)
    .description(description)
    .datasource(DATASOURCE)
    .query(query)
    .refresh(options.refresh ?? VariableRefresh.OnDashboardLoad)
    .sort(VariableSort.Disabled)
    .multi(options.multi)
    .includeAll(options.multi)
  return options.multi ? builder.current({ selected: true, text: ['All'], value: ['$__all'] }) : builder
}

/** The `network` variable of the per-network and operations dashboards. */
const networkVariable = (options: { multi: boolean }) =>
  variable(
    'network',
    'Network',
    'Networks of the plan, or with collected data.',
    `SELECT DISTINCT network FROM (SELECT network FROM plan_accounts UNION ALL SELECT network FROM source_health FINAL) ORDER BY network`,
    options,
  )

/**
 * The `zone` variable: the plan's time zone, from the plan tables (`plans`, written at every
 * start; UTC before any plan is). Every panel that puts rows into days takes its days there, so
 * a Jakarta team's day runs from midnight to midnight in Jakarta, whatever the browser's zone.
 */
const zoneVariable = () =>
  variable(
    'zone',
    'Days in',
    "The plan's time zone (company.timezone): every day a panel shows runs from midnight to midnight there.",
    `SELECT DISTINCT timezone FROM (SELECT timezone FROM plans FINAL WHERE timezone != '' UNION ALL SELECT 'UTC' AS timezone WHERE (SELECT count() FROM plans FINAL WHERE timezone != '') = 0) ORDER BY timezone`,
    { multi: false },
  )

// ---------------------------------------------------------------------------------------------
// Shared words and SQL.

/** The plan's zone as a SQL string (the `zone` variable). */
const ZONE = '${zone:singlequote}'
/** The day `at` falls on in the plan's zone, as the instant it starts. */
const dayOf = (at: string) => `toStartOfDay(${at}, ${ZONE})`
/** A day of the plan's zone (a Date) as the instant it starts there, for a time axis. */
const dayStart = (day: string) => `toDateTime(${day}, ${ZONE})`
/** The days of the plan's zone the time range touches (`$__dateFilter` would take the Grafana server's). */
const daysInRange = (day: string) => `${day} >= toDate($__fromTime, ${ZONE}) AND ${day} <= toDate($__toTime, ${ZONE})`
/** metrics_daily with days in the plan's zone (migration 0027); daily counts keep the API's own day. */
const METRICS_DAILY = `metrics_daily_local(zone = ${ZONE})`
/** Said on every panel of metrics_daily_local. */
const API_DAYS =
  "Daily counts an API reports for a day of its own (GA4 in the property's zone, Meta ads in the ad account's, Facebook and Instagram insights and YouTube Analytics in Pacific time, LinkedIn and TikTok in UTC) stay on the day the API gives."
/** A period's first and last day in the plan's zone (periods end exclusively; the last day is the one before the end). */
const periodDays = (start: string, end: string) => `concat(formatDateTime(${start}, '%F', ${ZONE}), ' → ', formatDateTime(${end} - INTERVAL 1 MILLISECOND, '%F', ${ZONE}))`

/** The Grafana colour of each tone a KPI status has (kpi/statuses.ts). */
const TONE_COLORS: Record<StatusTone, string> = { good: 'green', done: 'blue', warning: 'orange', bad: 'red', none: '#8e8e8e' }
/** Dashboards speak English (Grafana's own words are English); the plan-zone days are the plan's. */
const ENGLISH = speaker('en', 'UTC')
const kpiStatus = (status: KpiStatus) => ({ text: statusWords(ENGLISH, status), color: TONE_COLORS[KPI_STATUS_MEANINGS[status].tone] })

/** The status words of the KPI overview (kpi-overview.json), with the reasons a status rests on. */
const STATUS_WORDS: Record<string, { text: string; color: string }> = {
  on_track: kpiStatus('on_track'),
  'on_track (early)': { text: 'on track (too early to tell)', color: 'super-light-green' },
  'on_track (forecast)': { text: 'on track (by the forecast)', color: 'green' },
  at_risk: kpiStatus('at_risk'),
  'at_risk (forecast)': { text: 'at risk (by the forecast)', color: 'orange' },
  achieved: kpiStatus('achieved'),
  missed: kpiStatus('missed'),
  unknown: kpiStatus('unknown'),
  // no verdict, and why (kpi/statuses.ts): `unknown (incomplete)` is "no verdict (incomplete data)"
  ...Object.fromEntries(STATUS_REASONS.map((reason) => [`unknown (${reason})`, { ...kpiStatus('unknown'), text: statusText(ENGLISH, 'unknown', reason) }])),
  firing: { text: 'firing', color: 'red' },
  pending: { text: 'pending', color: 'orange' },
  ok: { text: 'ok', color: 'green' },
  sent: { text: 'sent', color: 'green' },
  retrying: { text: 'retrying', color: 'orange' },
  undelivered: { text: 'undelivered (sent again at the next evaluation)', color: 'orange' },
  failed: { text: 'failed (refused for good)', color: 'red' },
  healthy: { text: 'healthy', color: 'green' },
  degraded: { text: 'degraded', color: 'orange' },
  throttled: { text: 'throttled', color: 'orange' },
  unhealthy: { text: 'unhealthy', color: 'red' },
  failing: { text: 'failing', color: 'red' },
  active: { text: 'active', color: 'purple' },
  upcoming: { text: 'upcoming', color: 'blue' },
  ended: { text: 'ended', color: '#8e8e8e' },
}
const statusMappings: ValueMapping[] = [
  { type: MappingType.ValueToText, options: Object.fromEntries(Object.entries(STATUS_WORDS).map(([value, words], index) => [value, { index, ...words }])) } as ValueMapping,
]
const coloured: DynamicConfigValue[] = [
  { id: 'mappings', value: statusMappings },
  { id: 'custom.cellOptions', value: { type: 'color-background', mode: 'basic' } },
]
const percent: DynamicConfigValue[] = [
  { id: 'unit', value: 'percentunit' },
  { id: 'decimals', value: 1 },
]
const duration: DynamicConfigValue[] = [{ id: 'unit', value: 's' }]
const isoTime: DynamicConfigValue[] = [{ id: 'unit', value: 'dateTimeAsIso' }]

/** A multi-value variable as a filter: `column` among the chosen values, or no condition when All is chosen. */
const oneOf = (column: string, name: string) => `$__conditionalAll(${column} IN (\${${name}:singlequote}), $${name})`

/** A status with why there is no verdict (`unknown (incomplete)`), for the mappings above; `table.` is a prefix such as `e.`. */
const verdictSql = (table = '') => `if(${table}status = 'unknown' AND ${table}status_reason != '', concat('unknown (', ${table}status_reason, ')'), if(${table}status = '', 'unknown', ${table}status))`

/** A KPI's status with the reason it rests on, or why there is none, as the KPI overview shows it (`e` is an evaluation). */
const STATUS_SQL = `if(e.status IN ('on_track', 'at_risk') AND e.status_basis IN ('early', 'forecast'), concat(e.status, ' (', e.status_basis, ')'), ${verdictSql('e.')})`

/** The latest evaluation of each KPI up to the end of the time range. */
const LATEST_EVALUATIONS = `(
        SELECT kpi_id, status, status_basis, status_reason, missing_accounts, actual, target, unit, currency, attainment, expected_to_date, forecast_end, forecast_low, forecast_high, evaluated_at
        FROM kpi_evaluations FINAL
        WHERE evaluated_at <= $__toTime_ms
        ORDER BY kpi_id, evaluated_at DESC
        LIMIT 1 BY kpi_id
    )`

/** The plan's target with its comparator, in the unit of the KPI's latest evaluation `e` (`≥ 3%`; a plain number before any). */
const TARGET_SQL = `concat(if(k.comparator = 'at_most', '≤ ', '≥ '), ${kpiNumberSql('k.target', 'e.')})`
/** Said on every panel that takes its unit from the unit query (dashboards/units.ts). */
const IN_UNIT = "Numbers are in the KPI's unit (a rate as a percentage, money in its currency), read from its latest evaluation or verdict by a second query (Config from query results)."
const PERIOD_SQL = `if(k.period = 'custom', concat(toString(k.period_from), ' → ', toString(k.period_to)), k.period)`

// ---------------------------------------------------------------------------------------------

function planOverview() {
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

function perNetwork() {
  const p = panels()
  const accounts = oneOf('account_id', 'account')
  return dashboard(
    'social-kpi-network',
    'social-kpi · Per network',
    "One network at a time: followers, likes, clicks and conversions per account, per day in the plan's time zone, and the top posts published in the time range. Sources: metrics_daily_local, observations.",
  )
    .withVariable(networkVariable({ multi: false }))
    .withVariable(zoneVariable())
    .withVariable(
      variable(
        'account',
        'Account',
        "The network's accounts (the plan's account ids).",
        `SELECT DISTINCT account_id FROM (SELECT network, account_id FROM plan_accounts UNION ALL SELECT network, account_id FROM source_health FINAL) WHERE network = \${network:singlequote} ORDER BY account_id`,
        { multi: true },
      ),
    )
    .withPanel(
      p
        .timeseries({
          title: 'Followers per account',
          description:
            "Followers (or subscribers) of each account at the end of each day in the plan's time zone (Days in). Networks without a follower count (ads, analytics) show nothing here. Source: metrics_daily_local.",
          at: grid(0, 0, 12, 9),
          sql: `
SELECT ${dayStart('day')} AS time, account_id AS account, value AS followers
FROM ${METRICS_DAILY}
WHERE network = \${network:singlequote} AND metric = 'followers' AND ${daysInRange('day')} AND ${accounts}
ORDER BY time, account`,
        })
        .displayName('${__field.labels.account}')
        .decimals(0),
    )
    .withPanel(
      p
        .timeseries({
          title: 'Likes, clicks and conversions per day',
          description: `Per account and day in the plan's time zone (Days in): likes, clicks and conversions, where the network reports them (Facebook and Instagram posts' likes and clicks; conversions from Meta ads and GA4 key events). A post's likes count on the day they were gained. ${API_DAYS} Source: metrics_daily_local.`,
          at: grid(12, 0, 12, 9),
          sql: `
SELECT ${dayStart('day')} AS time, concat(account_id, ' · ', metric) AS series, value
FROM ${METRICS_DAILY}
WHERE network = \${network:singlequote} AND metric IN ('likes', 'clicks', 'conversions') AND ${daysInRange('day')} AND ${accounts}
ORDER BY time, series`,
        })
        .displayName('${__field.labels.series}')
        .decimals(0)
        .drawStyle(GraphDrawStyle.Bars)
        .fillOpacity(60),
    )
    .withPanel(
      p.table({
        title: 'Totals per account',
        description: `Per account over the days of the time range in the plan's time zone (Days in): followers at the end, and the likes, clicks and conversions gained (0 where the network does not report one). ${API_DAYS} Source: metrics_daily_local.`,
        at: grid(0, 9, 24, 6),
        sql: `
SELECT
    account_id AS "Account",
    argMaxIf(value, day, metric = 'followers') AS "Followers",
    sumIf(value, metric = 'likes') AS "Likes",
    sumIf(value, metric = 'clicks') AS "Clicks",
    sumIf(value, metric = 'conversions') AS "Conversions"
FROM ${METRICS_DAILY}
WHERE network = \${network:singlequote} AND ${daysInRange('day')} AND ${accounts}
GROUP BY account_id
ORDER BY account_id`,
      }),
    )
    .withPanel(
      p
        .table({
          title: 'Top posts of the period',
          description:
            'Posts and videos published in the time range (by the time the network gives, else when first seen), with their likes, comments, shares, clicks and views at the end of the range, the most engaging first (likes + comments + shares). At most 20. Source: observations.',
          at: grid(0, 15, 24, 9),
          sql: `
SELECT *
FROM
(
    SELECT
        account_id AS "Account",
        object_type AS "Type",
        object_id AS "Post",
        min(ifNull(object_created_at, observed_at)) AS "Published",
        maxIf(value, metric = 'likes') AS "Likes",
        maxIf(value, metric = 'comments') AS "Comments",
        maxIf(value, metric = 'shares') AS "Shares",
        maxIf(value, metric = 'clicks') AS "Clicks",
        maxIf(value, metric = 'views') AS "Views"
    FROM observations FINAL
    WHERE network = \${network:singlequote} AND shape = 'counter' AND observed_at <= $__toTime_ms AND ${accounts}
    GROUP BY account_id, object_type, object_id
)
WHERE "Published" >= $__fromTime_ms AND "Published" <= $__toTime_ms
ORDER BY "Likes" + "Comments" + "Shares" DESC, "Post"
LIMIT 20`,
        })
        .overrideByName('Published', isoTime),
    )
}

function kpiDetail() {
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

function alertsAndCrises() {
  const p = panels()
  const kinds = oneOf('subject_kind', 'kind')
  return dashboard(
    'social-kpi-alerts',
    'social-kpi · Alerts and crises',
    'What is firing now, what fired and resolved in the time range, how long alerts took to resolve, how each notification went, crises, and silences. Sources: alert_state, alerts, alert_notifications, silences.',
  )
    .withVariable(
      variable(
        'kind',
        'Alert kind',
        'What alerts are about: kpi (a KPI at risk or missed), source (an account failing, stale or with an expiring token), crisis (a crisis trigger).',
        `SELECT DISTINCT subject_kind FROM (SELECT subject_kind FROM alert_state FINAL UNION ALL SELECT subject_kind FROM alerts FINAL) ORDER BY subject_kind`,
        { multi: true },
      ),
    )
    .withVariable(zoneVariable())
    .withPanel(
      p
        .table({
          title: 'Open now',
          description:
            "Alerts firing or pending (failing, waiting for the plan's `for` before they fire) at the latest evaluation, with what they say (label), since when, and when a notification last went out. Source: alert_state.",
          at: grid(0, 0, 24, 7),
          sql: `
SELECT
    alert_key AS "Alert",
    subject_kind AS "Kind",
    subject_id AS "Subject",
    status AS "Status",
    last_status_label AS "Label",
    since AS "Since",
    last_notified_at AS "Last notified"
FROM alert_state FINAL
WHERE status IN ('firing', 'pending') AND ${kinds}
ORDER BY status = 'firing' DESC, since`,
        })
        .overrideByName('Status', coloured)
        .overrideByName('Since', isoTime)
        .overrideByName('Last notified', isoTime),
    )
    .withPanel(
      p
        .timeseries({
          title: 'Alerts fired per day',
          description: "Per day in the plan's time zone (Days in) and kind: how many alerts fired (a first notification), and how many resolved. Source: alerts.",
          at: grid(0, 7, 12, 8),
          sql: `
SELECT ${dayOf('at')} AS time, concat(subject_kind, ' · ', if(event = 'resolved', 'resolved', 'fired')) AS series, count() AS alerts
FROM alerts FINAL
WHERE $__timeFilter_ms(at) AND event IN ('firing', 'resolved') AND ${kinds}
GROUP BY time, series
ORDER BY time, series`,
        })
        .displayName('${__field.labels.series}')
        .decimals(0)
        .drawStyle(GraphDrawStyle.Bars)
        .fillOpacity(60),
    )
    .withPanel(
      p
        .table({
          title: 'Time to resolve',
          description:
            'Per alert, over the episodes that started firing in the time range: how many, how many resolved (so far), the median and the longest time from firing to resolved. An episode still open counts in Episodes only. Source: alerts.',
          at: grid(12, 7, 12, 8),
          sql: `
SELECT
    s.alert_key AS "Alert",
    any(s.subject_kind) AS "Kind",
    count() AS "Episodes",
    countIf(r.at > s.at) AS "Resolved",
    medianIf(dateDiff('second', s.at, r.at), r.at > s.at) AS "Median time to resolve",
    maxIf(dateDiff('second', s.at, r.at), r.at > s.at) AS "Longest"
FROM
(
    SELECT alert_key, subject_kind, at FROM alerts FINAL
    WHERE to_status = 'firing' AND from_status != 'firing' AND $__timeFilter_ms(at) AND ${kinds}
) AS s
ASOF LEFT JOIN
(
    SELECT alert_key, at FROM alerts FINAL WHERE from_status = 'firing' AND to_status = 'ok'
) AS r ON r.alert_key = s.alert_key AND r.at > s.at
GROUP BY s.alert_key
ORDER BY "Median time to resolve" DESC, "Alert"`,
        })
        .overrideByName('Median time to resolve', duration)
        .overrideByName('Longest', duration),
    )
    .withPanel(
      p
        .table({
          title: 'Alert history',
          description:
            'Every change of an alert in the time range, newest first: from and to status, what it said, whether it notified (firing, repeat, resolved) or was held by a silence, and how that notification was delivered. Source: alerts, alert_notifications.',
          at: grid(0, 15, 24, 9),
          sql: `
SELECT
    a.at AS "At",
    a.alert_key AS "Alert",
    a.subject_kind AS "Kind",
    a.from_status AS "From",
    a.to_status AS "To",
    a.label AS "Label",
    if(a.silenced, 'silenced', a.event) AS "Event",
    arrayStringConcat(a.recipients, ', ') AS "Notified",
    n.delivery AS "Delivery"
FROM (SELECT * FROM alerts FINAL WHERE $__timeFilter_ms(at) AND ${kinds}) AS a
LEFT JOIN (SELECT notification_id, argMax(delivery, written_at) AS delivery FROM alert_notifications FINAL GROUP BY notification_id) AS n
    ON n.notification_id = a.notification_id
ORDER BY a.at DESC, a.alert_key
LIMIT 500`,
        })
        .overrideByName('To', coloured)
        .overrideByName('Delivery', coloured)
        .overrideByName('At', isoTime),
    )
    .withPanel(
      p
        .table({
          title: 'Crises',
          description: "Crisis triggers (the plan's crisis.triggers) that fired or resolved in the time range, with the accounts involved, and who was notified. Source: alerts.",
          at: grid(0, 24, 12, 8),
          sql: `
SELECT at AS "At", subject_id AS "Trigger", from_status AS "From", to_status AS "To", label AS "Accounts", arrayStringConcat(recipients, ', ') AS "Notified"
FROM alerts FINAL
WHERE subject_kind = 'crisis' AND $__timeFilter_ms(at)
ORDER BY at DESC`,
        })
        .overrideByName('To', coloured)
        .overrideByName('At', isoTime),
    )
    .withPanel(
      p
        .table({
          title: 'Notifications',
          description:
            'Every notification decided in the time range and how its delivery ended: sent; retrying; undelivered (its tries ran out: sent again at the next evaluation); failed (refused for good, not retried). "Delivered to" says where it went, or why not. Source: alert_notifications.',
          at: grid(12, 24, 12, 8),
          sql: `
SELECT decided_at AS "Decided at", alert_key AS "Alert", event AS "Event", subject AS "Subject", arrayStringConcat(recipients, ', ') AS "To", delivery AS "Delivery", delivered_to AS "Delivered to", attempts AS "Tries"
FROM alert_notifications FINAL
WHERE $__timeFilter_ms(decided_at)
ORDER BY decided_at DESC
LIMIT 500`,
        })
        .overrideByName('Delivery', coloured)
        .overrideByName('Decided at', isoTime),
    )
    .withPanel(
      p
        .table({
          title: 'Silences',
          description:
            'Silences (social-kpi silence add) that overlap the time range or start after it: what they match, from and until when, why and by whom, and whether they are active, upcoming or ended at the end of the range. Source: silences.',
          at: grid(0, 32, 24, 7),
          sql: `
SELECT
    id AS "Id",
    multiIf(kpi_id != '', concat('KPI ', kpi_id), objective_id != '', concat('objective ', objective_id), concat('account ', account_id)) AS "Matches",
    starts_at AS "From",
    ifNull(least(ends_at, expired_at), ends_at) AS "Until",
    reason AS "Reason",
    created_by AS "By",
    multiIf(expired_at IS NOT NULL AND expired_at <= $__toTime_ms, 'ended', starts_at > $__toTime_ms, 'upcoming', ends_at <= $__toTime_ms, 'ended', 'active') AS "State"
FROM silences FINAL
WHERE ifNull(least(ends_at, expired_at), ends_at) >= $__fromTime_ms
ORDER BY starts_at DESC`,
        })
        .overrideByName('State', coloured)
        .overrideByName('From', isoTime)
        .overrideByName('Until', isoTime),
    )
}

function operations() {
  const p = panels()
  const networks = oneOf('network', 'network')
  return dashboard(
    'social-kpi-operations',
    'social-kpi · Operations',
    "Is the data flowing: each account's health, the freshness of each metric, quota resets, API errors and collection lag. Sources: source_health, source_metric_freshness, alerts, observations.",
  )
    .withVariable(networkVariable({ multi: true }))
    .withVariable(zoneVariable())
    .withPanel(
      p
        .table({
          title: 'Source health',
          description:
            'Per account, as of the latest collection: healthy, degraded (collects, but the API refuses metrics a KPI needs), throttled (waits for its quota), unhealthy (token refused) or failing; when collection last succeeded and what failed last. Problems first. Source: source_health.',
          at: grid(0, 0, 24, 8),
          sql: `
SELECT
    network AS "Network",
    account_id AS "Account",
    status AS "Status",
    last_success_at AS "Last success",
    last_error_at AS "Last error at",
    last_error_code AS "Code",
    last_error AS "Last error",
    arrayStringConcat(refused_metrics, ', ') AS "Refused metrics"
FROM source_health FINAL
WHERE ${networks}
ORDER BY status = 'healthy', network, account_id`,
        })
        .overrideByName('Status', coloured)
        .overrideByName('Last success', isoTime)
        .overrideByName('Last error at', isoTime),
    )
    .withPanel(
      p
        .table({
          title: 'Freshness per account and metric',
          description:
            'Per account and metric: when data was last collected and the newest time it describes, how old that is at the end of the time range, and how many observations are stored. The stalest first; an account whose data is older than its schedule allows also raises a freshness alert. Source: source_metric_freshness.',
          at: grid(0, 8, 16, 9),
          sql: `
SELECT
    network AS "Network",
    account_id AS "Account",
    metric AS "Metric",
    last_collected_at AS "Last collected",
    last_observed_at AS "Newest data",
    greatest(dateDiff('second', last_collected_at, $__toTime_ms), 0) AS "Age",
    observations AS "Observations"
FROM source_metric_freshness
WHERE ${networks}
ORDER BY "Age" DESC, network, account_id, metric`,
        })
        .overrideByName('Age', duration)
        .overrideByName('Last collected', isoTime)
        .overrideByName('Newest data', isoTime),
    )
    .withPanel(
      p
        .table({
          title: 'Quota resets',
          description:
            "Accounts waiting for an API quota (a throttle, a daily quota such as YouTube's units): when they may call again, and how long that is after the end of the time range (0 once passed). Source: source_health.",
          at: grid(16, 8, 8, 9),
          sql: `
SELECT network AS "Network", account_id AS "Account", status AS "Status", quota_resets_at AS "Resets at", greatest(dateDiff('second', $__toTime_ms, quota_resets_at), 0) AS "In"
FROM source_health FINAL
WHERE quota_resets_at IS NOT NULL AND ${networks}
ORDER BY quota_resets_at DESC`,
        })
        .overrideByName('Status', coloured)
        .overrideByName('In', duration)
        .overrideByName('Resets at', isoTime),
    )
    .withPanel(
      p
        .table({
          title: 'API errors',
          description:
            "The last error of each account whose last error falls in the time range: the API's code and message (secrets redacted), and whether the account has recovered since. Source: source_health.",
          at: grid(0, 17, 12, 8),
          sql: `
SELECT network AS "Network", account_id AS "Account", last_error_at AS "At", last_error_code AS "Code", last_error AS "Error", if(last_success_at > last_error_at, 'recovered', status) AS "Now"
FROM source_health FINAL
WHERE last_error_at IS NOT NULL AND $__timeFilter_ms(last_error_at) AND ${networks}
ORDER BY last_error_at DESC`,
        })
        .overrideByName('Now', coloured)
        .overrideByName('At', isoTime),
    )
    .withPanel(
      p
        .timeseries({
          title: 'Source problems per day',
          description:
            "Per day in the plan's time zone (Days in) and kind of problem: how many times an account turned failing (refused token, throttled, failing, degraded, stale data, expiring token). Source: alerts (subject kind source).",
          at: grid(12, 17, 12, 8),
          sql: `
SELECT ${dayOf('at')} AS time, splitByChar('.', alert_key)[1] AS problem, count() AS changes
FROM alerts FINAL
WHERE subject_kind = 'source' AND to_status IN ('pending', 'firing') AND from_status = 'ok' AND $__timeFilter_ms(at)
  AND ${oneOf("splitByChar('/', subject_id)[1]", 'network')}
GROUP BY time, problem
ORDER BY time, problem`,
        })
        .displayName('${__field.labels.problem}')
        .decimals(0)
        .drawStyle(GraphDrawStyle.Bars)
        .fillOpacity(60),
    )
    .withPanel(
      p
        .timeseries({
          title: 'Collection lag',
          description:
            "Per network: how long after its round's time a reading was stored (collected_at − observed_at; levels and post counters only, daily counts describe a whole day), the worst in each interval. A round collected late after an outage shows here. Source: observations.",
          at: grid(0, 25, 12, 8),
          sql: `
SELECT $__timeInterval(collected_at) AS time, network, max(greatest(dateDiff('second', observed_at, collected_at), 0)) AS lag
FROM observations FINAL
WHERE shape != 'daily' AND $__timeFilter_ms(collected_at) AND ${networks}
GROUP BY time, network
ORDER BY time, network`,
        })
        .displayName('${__field.labels.network}')
        .unit('s'),
    )
    .withPanel(
      p
        .timeseries({
          title: 'Observations stored',
          description: 'Per network: how many readings were stored in each interval (by collection time), after de-duplication. A gap means no collection. Source: observations.',
          at: grid(12, 25, 12, 8),
          sql: `
SELECT $__timeInterval(collected_at) AS time, network, count() AS observations
FROM observations FINAL
WHERE $__timeFilter_ms(collected_at) AND ${networks}
GROUP BY time, network
ORDER BY time, network`,
        })
        .displayName('${__field.labels.network}')
        .decimals(0)
        .drawStyle(GraphDrawStyle.Bars)
        .fillOpacity(60),
    )
}

/** Every generated dashboard, by file name under dashboards/, as the JSON text committed. */
export function generatedDashboards(): Record<string, string> {
  const builders: Record<string, DashboardBuilder> = {
    'plan-overview.json': planOverview(),
    'network.json': perNetwork(),
    'kpi-detail.json': kpiDetail(),
    'alerts.json': alertsAndCrises(),
    'operations.json': operations(),
  }
  return Object.fromEntries(Object.entries(builders).map(([file, builder]) => [file, `${JSON.stringify(builder.build(), null, 2)}\n`]))
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = dirname(fileURLToPath(import.meta.url))
  for (const [file, text] of Object.entries(generatedDashboards())) {
    writeFileSync(join(dir, file), text)
    process.stdout.write(`wrote dashboards/${file}\n`)
  }
}
