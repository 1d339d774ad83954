import { fromClickHouseTime, toClickHouseTime, type ClickHouse } from '../../core/clickhouse.ts'
import type { CrisisDataSource, Point } from '../../kpi/crisis.ts'
import type { MetricSelection } from '../../kpi/kinds/source.ts'

/** The reference for the rollup comparison test: crisis reads straight from `observations FINAL`, as kpi/crisis-source.ts made them before migration 0020. */

// Each account's latest level at or before `from`, then every level in (from, to].
const LEVELS_SQL = `
SELECT account_id, toString(point_at) AS at, point_value AS value
FROM
(
    SELECT account_id, max(observed_at) AS point_at, argMax(value, observed_at) AS point_value
    FROM observations FINAL
    WHERE network = {network:String} AND account_id IN {accounts:Array(String)} AND metric = {metric:String}
      AND shape = 'gauge' AND observed_at <= {from:DateTime64(3, 'UTC')}
    GROUP BY account_id
    UNION ALL
    SELECT account_id, observed_at AS point_at, value AS point_value
    FROM observations FINAL
    WHERE network = {network:String} AND account_id IN {accounts:Array(String)} AND metric = {metric:String}
      AND shape = 'gauge' AND observed_at > {from:DateTime64(3, 'UTC')} AND observed_at < {to:DateTime64(3, 'UTC')}
)
ORDER BY account_id, point_at`

// Daily counts as stored (one row per account and day start).
const DAILY_SQL = `
SELECT account_id, toString(observed_at) AS at, sum(value) AS value
FROM observations FINAL
WHERE network = {network:String} AND account_id IN {accounts:Array(String)} AND metric = {metric:String}
  AND shape = 'daily' AND object_type != 'segment' AND observed_at >= {from:DateTime64(3, 'UTC')} AND observed_at < {to:DateTime64(3, 'UTC')}
GROUP BY account_id, observed_at
ORDER BY account_id, observed_at`

// Counter rises per hour: each reading minus the object's previous reading, put on the hour in
// which it was observed (a reading on the hour closes the hour before). An object's first reading
// in the range rises by nothing, so a day of history before `from` is read to find the previous one.
const COUNTER_SQL = `
SELECT account_id, toString(toDateTime64(toStartOfHour(observed_at - toIntervalMillisecond(1)), 3, 'UTC')) AS at, sum(rise) AS value
FROM
(
    SELECT account_id, observed_at,
           value - lagInFrame(value, 1, value) OVER (PARTITION BY account_id, object_id ORDER BY observed_at ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS rise
    FROM observations FINAL
    WHERE network = {network:String} AND account_id IN {accounts:Array(String)} AND metric = {metric:String}
      AND shape = 'counter' AND observed_at >= {history:DateTime64(3, 'UTC')} AND observed_at < {to:DateTime64(3, 'UTC')}
)
WHERE observed_at > {from:DateTime64(3, 'UTC')}
GROUP BY account_id, at
ORDER BY account_id, at`

type Row = { account_id: string; at: string; value: number }

function byAccount(rows: Row[]): Map<string, Point[]> {
  const series = new Map<string, Point[]>()
  for (const row of rows) {
    const points = series.get(row.account_id) ?? []
    points.push({ at: fromClickHouseTime(row.at), value: Number(row.value) })
    series.set(row.account_id, points)
  }
  return series
}

export function rawCrisisSource(ch: Pick<ClickHouse, 'rows'>): CrisisDataSource {
  const params = (selection: MetricSelection, from: Date, to: Date) => ({
    network: selection.network,
    accounts: selection.accountIds,
    metric: selection.metric,
    from: toClickHouseTime(from),
    to: toClickHouseTime(to),
  })
  return {
    async levels(selection, from, to) {
      return byAccount(await ch.rows<Row>(LEVELS_SQL, params(selection, from, to)))
    },
    async buckets(selection, shape, from, to) {
      if (shape === 'daily') return byAccount(await ch.rows<Row>(DAILY_SQL, params(selection, from, to)))
      const history = new Date(from.getTime() - 86_400_000)
      return byAccount(await ch.rows<Row>(COUNTER_SQL, { ...params(selection, from, to), history: toClickHouseTime(history) }))
    },
  }
}
