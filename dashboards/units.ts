/**
 * A KPI's numbers on the dashboards, in its unit (plan/units.ts; `unit` and `currency` of every row
 * of kpi_evaluations and kpi_verdicts since migration 0026), as everywhere else.
 *
 * Grafana cannot take a panel's unit from a variable (grafana/grafana#32902, #7441), so there are
 * two ways, one per kind of panel:
 * - A panel of one KPI (or of KPIs sharing a unit) asks a second query for the unit as a Grafana
 *   unit id and sets it on its number fields with Grafana's own "Config from query results"
 *   transformation (`configFromData`). Its shape is Grafana's source,
 *   public/app/features/transformers/configFromQuery/configFromQuery.ts (options `configRefId`,
 *   `mappings`, `applyTo`; the config frame is reduced with `lastNotNull` and left out of the
 *   output) and fieldToConfigMapping/fieldToConfigMapping.ts (`{ fieldName, handlerKey: 'unit' }`);
 *   documented at https://grafana.com/docs/grafana/v8.3/panels/transformations/config-from-query/
 *   ("Config query", "Apply to", the field mapping table's "Use as").
 * - A table listing many KPIs holds rates, counts and money in one column, and a Grafana unit is
 *   per column, not per cell. There the number is a text formatted in SQL, as the English emails
 *   write it (core/i18n/speaker.ts): `1.52%`, `1,553`, `IDR 1,234,567`, `USD 12.50`. Sorting such a
 *   column by size would compare rates with counts anyway; attainment, the number that compares
 *   across KPIs, stays numeric (percentunit) and sorts.
 */
import type { DataTransformerConfig } from '@grafana/grafana-foundation-sdk/dashboard'
import * as grafanaUnits from '@grafana/grafana-foundation-sdk/units'

/**
 * The currencies Grafana has a unit of its own for (`currencyIDR` shows `Rp1.23 Mil`), by ISO 4217
 * code: the SDK's list of Grafana's unit ids. Any other currency gets the custom unit
 * `prefix:<code> ` (`SGD 1.23 K`).
 */
export const GRAFANA_CURRENCIES: readonly string[] = (Object.values(grafanaUnits) as unknown[])
  .filter((id): id is string => typeof id === 'string' && /^currency[A-Z]{3}$/.test(id) && id !== 'currencyBTC')
  .map((id) => id.slice('currency'.length))
  .sort()

/** The Grafana unit id of a row's `unit` and `currency` (SQL): percent → percentunit, ratio → none, money in its currency, a count (or a row from before migration 0026) → short. */
export function grafanaUnitSql(unit = 'unit', currency = 'currency'): string {
  const known = GRAFANA_CURRENCIES.map((code) => `'${code}'`).join(', ')
  return `multiIf(${unit} = 'percent', 'percentunit', ${unit} = 'ratio', 'none', ${unit} = 'currency' AND ${currency} IN (${known}), concat('currency', ${currency}), ${unit} = 'currency' AND ${currency} != '', concat('prefix:', ${currency}, ' '), 'short')`
}

/** The refId of the unit query. */
export const UNIT_REF = 'Unit'

/**
 * The unit query of a panel: one row, column "Unit", the Grafana unit of the KPIs in `rows` (a
 * subquery with kpi_id, unit, currency and `at`): each KPI's latest unit; when the KPIs shown differ
 * (a rate beside a count), `short`, as no one unit fits them.
 */
export function kpiUnitQuery(rows: string): string {
  return `
SELECT if(uniqExact(u) = 1, any(u), 'short') AS "Unit"
FROM (SELECT kpi_id, argMax(${grafanaUnitSql()}, at) AS u FROM ${rows} GROUP BY kpi_id)`
}

/**
 * Grafana's "Config from query results": the unit the unit query returns, set on the fields named
 * (or on every number field) of the panel's other queries.
 */
export function unitFromQuery(fields: string[] | 'numbers'): DataTransformerConfig {
  const escaped = fields === 'numbers' ? [] : fields.map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
  return {
    id: 'configFromData',
    options: {
      configRefId: UNIT_REF,
      mappings: [{ fieldName: 'Unit', handlerKey: 'unit' }],
      applyTo: fields === 'numbers' ? { id: 'byType', options: 'number' } : { id: 'byRegexp', options: `^(${escaped.join('|')})$` },
    },
  }
}

/** `x` (SQL) rounded to at most `digits` decimals (all of them with `pad`, none when whole), with thousands commas: `−1,234,567.5`. */
function grouped(x: string, digits: string, pad = false): string {
  const r = `round(abs(${x}), ${digits})`
  const whole = `reverse(arrayStringConcat(extractAll(reverse(toString(toUInt64(floor(${r})))), '[0-9]{1,3}'), ','))`
  const raw = `leftPad(toString(toUInt64(round((${r} - floor(${r})) * exp10(${digits})))), toUInt8(${digits}), '0')`
  const fraction = pad ? `if(${r} = floor(${r}), '', ${raw})` : `replaceRegexpOne(${raw}, '0+$', '')`
  return `concat(if(round(${x}, ${digits}) < 0, '−', ''), ${whole}, if(${fraction} = '', '', concat('.', ${fraction})))`
}

/**
 * A KPI's number as text in its unit (SQL), as the English emails write it: a rate `1.52%`; money
 * `IDR 1,234,567` / `USD 12.50` (a plain number while no currency is known); a ratio `4.2`,
 * `0.0312`; a count `1,553` (`0.5` below one). Empty for NULL. `prefix` names the table (`e.`).
 */
export function kpiNumberSql(value: string, prefix = ''): string {
  const unit = `${prefix}unit`
  const currency = `${prefix}currency`
  return `if(${value} IS NULL, '', multiIf(${unit} = 'percent', concat(${grouped(`${value} * 100`, '2')}, '%'), ${unit} = 'currency' AND ${currency} != '', concat(${currency}, ' ', ${grouped(value, '2', true)}), ${unit} IN ('ratio', 'currency'), ${grouped(value, `if(abs(${value}) < 1, 4, 2)`)}, ${grouped(value, `if(abs(${value}) < 1, 4, 0)`)}))`
}
