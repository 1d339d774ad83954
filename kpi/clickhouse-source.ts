import { toClickHouseTime, type ClickHouse } from '../core/clickhouse.ts'
import type { KpiDataSource, MetricSelection } from './evaluate.ts'

/**
 * KPI numbers straight from raw observations, so late corrections and re-reads are always
 * reflected. Values are bound as `{name:Type}` parameters.
 */
const LEVEL_SQL = `
SELECT count() AS accounts, sum(latest) AS value
FROM
(
    SELECT account_id, argMax(value, observed_at) AS latest
    FROM observations FINAL
    WHERE network = {network:String} AND account_id IN {accounts:Array(String)} AND metric = {metric:String}
      AND shape = 'gauge' AND observed_at <= {at:DateTime64(3, 'UTC')}
    GROUP BY account_id
)`

// Daily counts whose day starts in [from, to), plus every object's counter rise in [from, to).
// A counter's starting point is its last value before `from`. An object first seen inside the
// period counts from zero when it was created inside the period; one created earlier counts
// from its first value, since what it gained before we first saw it belongs to its creation time
// (the same attribution metrics_daily uses).
const AMOUNT_SQL = `
SELECT sum(points) AS points, sum(amount) AS value
FROM
(
    SELECT count() AS points, sum(value) AS amount
    FROM observations FINAL
    WHERE network = {network:String} AND account_id IN {accounts:Array(String)} AND metric = {metric:String}
      AND shape = 'daily' AND observed_at >= {from:DateTime64(3, 'UTC')} AND observed_at < {to:DateTime64(3, 'UTC')}
    UNION ALL
    SELECT count() AS points,
           sum(last_value - if(seen_before > 0, value_before, if(ifNull(created, toDateTime64(0, 3, 'UTC')) >= {from:DateTime64(3, 'UTC')}, 0, first_value))) AS amount
    FROM
    (
        SELECT account_id, object_id,
               countIf(observed_at < {from:DateTime64(3, 'UTC')}) AS seen_before,
               argMaxIf(value, observed_at, observed_at < {from:DateTime64(3, 'UTC')}) AS value_before,
               argMax(value, observed_at) AS last_value,
               argMin(value, observed_at) AS first_value,
               any(object_created_at) AS created,
               countIf(observed_at >= {from:DateTime64(3, 'UTC')}) AS seen_inside
        FROM observations FINAL
        WHERE network = {network:String} AND account_id IN {accounts:Array(String)} AND metric = {metric:String}
          AND shape = 'counter' AND observed_at < {to:DateTime64(3, 'UTC')}
        GROUP BY account_id, object_id
        HAVING seen_inside > 0
    )
)`

export function clickHouseKpiSource(ch: ClickHouse): KpiDataSource {
  const params = (selection: MetricSelection) => ({ network: selection.network, accounts: selection.accountIds, metric: selection.metric })
  return {
    async level(selection, at) {
      const [row] = await ch.rows<{ accounts: string | number; value: number }>(LEVEL_SQL, { ...params(selection), at: toClickHouseTime(at) })
      return row && Number(row.accounts) > 0 ? Number(row.value) : null
    },
    async amount(selection, from, to) {
      const [row] = await ch.rows<{ points: string | number; value: number }>(AMOUNT_SQL, { ...params(selection), from: toClickHouseTime(from), to: toClickHouseTime(to) })
      return row && Number(row.points) > 0 ? Number(row.value) : null
    },
  }
}
