/**
 * What every generated dashboard shares: the ClickHouse query builder, panel numbering, the
 * dashboard and variable builders, and the words and SQL pieces more than one dashboard uses
 * (statuses, plan-zone days, units). Each dashboard is a module in dashboards/boards/.
 */
import { ENGLISH_ON_UTC } from '../core/i18n/index.ts'
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

export const PLUGIN = 'grafana-clickhouse-datasource'
export const DATASOURCE = { type: PLUGIN, uid: '${datasource}' }

/** A raw-SQL query of the ClickHouse plugin, which the SDK does not ship (a custom Dataquery). */
export class ClickHouseSql implements Builder<Dataquery> {
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

export type AnyPanel = TablePanel | TimeseriesPanel | StatPanel
export interface PanelSpec {
  title: string
  description: string
  at: GridPos
  sql: string
  /** The KPI unit of its numbers (dashboards/units.ts): the KPI rows to read it from, and the fields it applies to. */
  unit?: { rows: string; fields: string[] | 'numbers' }
}

/** Numbers panels in the order they are added: stable ids, as the lint wants. */
export function panels() {
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

export const grid = (x: number, y: number, w: number, h: number): GridPos => ({ x, y, w, h })

export function dashboard(uid: string, title: string, description: string): DashboardBuilder {
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

export function variable(name: string, label: string, description: string, sql: string, options: { multi: boolean; refresh?: VariableRefresh }): QueryVariableBuilder {
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
export const networkVariable = (options: { multi: boolean }) =>
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
export const zoneVariable = () =>
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
export const ZONE = '${zone:singlequote}'
/** The day `at` falls on in the plan's zone, as the instant it starts. */
export const dayOf = (at: string) => `toStartOfDay(${at}, ${ZONE})`
/** A day of the plan's zone (a Date) as the instant it starts there, for a time axis. */
export const dayStart = (day: string) => `toDateTime(${day}, ${ZONE})`
/** The days of the plan's zone the time range touches (`$__dateFilter` would take the Grafana server's). */
export const daysInRange = (day: string) => `${day} >= toDate($__fromTime, ${ZONE}) AND ${day} <= toDate($__toTime, ${ZONE})`
/** metrics_daily with days in the plan's zone (migration 0027); daily counts keep the API's own day. */
export const METRICS_DAILY = `metrics_daily_local(zone = ${ZONE})`
/** Said on every panel of metrics_daily_local. */
export const API_DAYS =
  "Daily counts an API reports for a day of its own (GA4 in the property's zone, Meta ads in the ad account's, Facebook and Instagram insights and YouTube Analytics in Pacific time, LinkedIn and TikTok in UTC) stay on the day the API gives."
/** A period's first and last day in the plan's zone (periods end exclusively; the last day is the one before the end). */
export const periodDays = (start: string, end: string) => `concat(formatDateTime(${start}, '%F', ${ZONE}), ' → ', formatDateTime(${end} - INTERVAL 1 MILLISECOND, '%F', ${ZONE}))`

/** The Grafana colour of each tone a KPI status has (kpi/statuses.ts). */
export const TONE_COLORS: Record<StatusTone, string> = { good: 'green', done: 'blue', warning: 'orange', bad: 'red', none: '#8e8e8e' }
/** Dashboards speak English (Grafana's own words are English); the plan-zone days are the plan's. */
export const kpiStatus = (status: KpiStatus) => ({ text: statusWords(ENGLISH_ON_UTC, status), color: TONE_COLORS[KPI_STATUS_MEANINGS[status].tone] })

/** The status words of the KPI overview (kpi-overview.json), with the reasons a status rests on. */
export const STATUS_WORDS: Record<string, { text: string; color: string }> = {
  on_track: kpiStatus('on_track'),
  'on_track (early)': { text: 'on track (too early to tell)', color: 'super-light-green' },
  'on_track (forecast)': { text: 'on track (by the forecast)', color: 'green' },
  at_risk: kpiStatus('at_risk'),
  'at_risk (forecast)': { text: 'at risk (by the forecast)', color: 'orange' },
  achieved: kpiStatus('achieved'),
  missed: kpiStatus('missed'),
  unknown: kpiStatus('unknown'),
  // no verdict, and why (kpi/statuses.ts): `unknown (incomplete)` is "no verdict (incomplete data)"
  ...Object.fromEntries(STATUS_REASONS.map((reason) => [`unknown (${reason})`, { ...kpiStatus('unknown'), text: statusText(ENGLISH_ON_UTC, 'unknown', reason) }])),
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
export const statusMappings: ValueMapping[] = [
  { type: MappingType.ValueToText, options: Object.fromEntries(Object.entries(STATUS_WORDS).map(([value, words], index) => [value, { index, ...words }])) } as ValueMapping,
]
export const coloured: DynamicConfigValue[] = [
  { id: 'mappings', value: statusMappings },
  { id: 'custom.cellOptions', value: { type: 'color-background', mode: 'basic' } },
]
export const percent: DynamicConfigValue[] = [
  { id: 'unit', value: 'percentunit' },
  { id: 'decimals', value: 1 },
]
export const duration: DynamicConfigValue[] = [{ id: 'unit', value: 's' }]
export const isoTime: DynamicConfigValue[] = [{ id: 'unit', value: 'dateTimeAsIso' }]

/** A multi-value variable as a filter: `column` among the chosen values, or no condition when All is chosen. */
export const oneOf = (column: string, name: string) => `$__conditionalAll(${column} IN (\${${name}:singlequote}), $${name})`

/** A status with why there is no verdict (`unknown (incomplete)`), for the mappings above; `table.` is a prefix such as `e.`. */
export const verdictSql = (table = '') =>
  `if(${table}status = 'unknown' AND ${table}status_reason != '', concat('unknown (', ${table}status_reason, ')'), if(${table}status = '', 'unknown', ${table}status))`

/** A KPI's status with the reason it rests on, or why there is none, as the KPI overview shows it (`e` is an evaluation). */
export const STATUS_SQL = `if(e.status IN ('on_track', 'at_risk') AND e.status_basis IN ('early', 'forecast'), concat(e.status, ' (', e.status_basis, ')'), ${verdictSql('e.')})`

/** The latest evaluation of each KPI up to the end of the time range. */
export const LATEST_EVALUATIONS = `(
        SELECT kpi_id, status, status_basis, status_reason, missing_accounts, actual, target, unit, currency, attainment, expected_to_date, forecast_end, forecast_low, forecast_high, evaluated_at
        FROM kpi_evaluations FINAL
        WHERE evaluated_at <= $__toTime_ms
        ORDER BY kpi_id, evaluated_at DESC
        LIMIT 1 BY kpi_id
    )`

/** The plan's target with its comparator, in the unit of the KPI's latest evaluation `e` (`≥ 3%`; a plain number before any). */
export const TARGET_SQL = `concat(if(k.comparator = 'at_most', '≤ ', '≥ '), ${kpiNumberSql('k.target', 'e.')})`
/** Said on every panel that takes its unit from the unit query (dashboards/units.ts). */
export const IN_UNIT = "Numbers are in the KPI's unit (a rate as a percentage, money in its currency), read from its latest evaluation or verdict by a second query (Config from query results)."
export const PERIOD_SQL = `if(k.period = 'custom', concat(toString(k.period_from), ' → ', toString(k.period_to)), k.period)`
