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

// Series: observations are put in steps of `stepMs` from `from`. A level at boundary k
// (from + k·step) is the latest value at or before it, so a gauge value belongs to the first
// boundary at or after it (everything at or before `from` to boundary 0); the sums over accounts
// and the carrying forward of each account's last value are done by the caller.
const LEVEL_SERIES_SQL = `
SELECT account_id,
       if(toUnixTimestamp64Milli(observed_at) <= {fromMs:Int64}, 0, intDiv(toUnixTimestamp64Milli(observed_at) - {fromMs:Int64} - 1, {stepMs:Int64}) + 1) AS step,
       argMax(value, observed_at) AS last
FROM observations FINAL
WHERE network = {network:String} AND account_id IN {accounts:Array(String)} AND metric = {metric:String}
  AND shape = 'gauge' AND observed_at <= {to:DateTime64(3, 'UTC')}
GROUP BY account_id, step
ORDER BY account_id, step`

// Daily counts per step [from + k·step, from + (k+1)·step), by the start of their day.
const DAILY_SERIES_SQL = `
SELECT intDiv(toUnixTimestamp64Milli(observed_at) - {fromMs:Int64}, {stepMs:Int64}) AS step, count() AS points, sum(value) AS value
FROM observations FINAL
WHERE network = {network:String} AND account_id IN {accounts:Array(String)} AND metric = {metric:String}
  AND shape = 'daily' AND observed_at >= {from:DateTime64(3, 'UTC')} AND observed_at < {to:DateTime64(3, 'UTC')}
GROUP BY step`

// Each counter's starting point for the window (the same rule as AMOUNT_SQL), and for an object
// created inside the window but first seen later, its creation time and first value ...
const COUNTER_START_SQL = `
SELECT account_id, object_id,
       countIf(observed_at < {from:DateTime64(3, 'UTC')}) > 0 AS seen_before,
       argMin(value, observed_at) AS first_value,
       toUnixTimestamp64Milli(ifNull(any(object_created_at), toDateTime64(0, 3, 'UTC'))) AS created_ms,
       if(countIf(observed_at < {from:DateTime64(3, 'UTC')}) > 0,
          argMaxIf(value, observed_at, observed_at < {from:DateTime64(3, 'UTC')}),
          if(ifNull(any(object_created_at), toDateTime64(0, 3, 'UTC')) >= {from:DateTime64(3, 'UTC')}, 0, argMin(value, observed_at))) AS start
FROM observations FINAL
WHERE network = {network:String} AND account_id IN {accounts:Array(String)} AND metric = {metric:String}
  AND shape = 'counter' AND observed_at < {to:DateTime64(3, 'UTC')}
GROUP BY account_id, object_id
HAVING countIf(observed_at >= {from:DateTime64(3, 'UTC')}) > 0`

// ... and its last value in each step; a step's amount is the sum of the counters' rises in it.
const COUNTER_STEPS_SQL = `
SELECT account_id, object_id, intDiv(toUnixTimestamp64Milli(observed_at) - {fromMs:Int64}, {stepMs:Int64}) AS step, argMax(value, observed_at) AS last
FROM observations FINAL
WHERE network = {network:String} AND account_id IN {accounts:Array(String)} AND metric = {metric:String}
  AND shape = 'counter' AND observed_at >= {from:DateTime64(3, 'UTC')} AND observed_at < {to:DateTime64(3, 'UTC')}
GROUP BY account_id, object_id, step
ORDER BY account_id, object_id, step`

const stepCount = (from: Date, to: Date, stepMs: number) => Math.max(0, Math.ceil((to.getTime() - from.getTime()) / stepMs))

export function clickHouseKpiSource(ch: Pick<ClickHouse, 'rows'>): KpiDataSource {
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
    async levelSeries(selection, from, to, stepMs) {
      const count = stepCount(from, to, stepMs)
      const rows = await ch.rows<{ account_id: string; step: string | number; last: number }>(LEVEL_SERIES_SQL, {
        ...params(selection),
        fromMs: from.getTime(),
        stepMs,
        to: toClickHouseTime(to),
      })
      const levels: Array<number | null> = new Array(count + 1).fill(null)
      const byAccount = new Map<string, Array<{ step: number; last: number }>>()
      for (const row of rows) {
        const list = byAccount.get(row.account_id) ?? []
        list.push({ step: Number(row.step), last: Number(row.last) })
        byAccount.set(row.account_id, list)
      }
      for (const list of byAccount.values()) {
        // rows come sorted by step; carry each account's last value forward to later boundaries
        let index = 0
        let current: number | null = null
        for (let k = 0; k <= count; k++) {
          while (index < list.length && list[index]!.step <= k) current = list[index++]!.last
          if (current !== null) levels[k] = (levels[k] ?? 0) + current
        }
      }
      return levels
    },
    async amountSeries(selection, from, to, stepMs) {
      const count = stepCount(from, to, stepMs)
      const bound = { ...params(selection), fromMs: from.getTime(), stepMs, from: toClickHouseTime(from), to: toClickHouseTime(to) }
      const [daily, starts, steps] = await Promise.all([
        ch.rows<{ step: string | number; points: string | number; value: number }>(DAILY_SERIES_SQL, bound),
        ch.rows<{ account_id: string; object_id: string; start: number; seen_before: boolean | number; first_value: number; created_ms: string | number }>(COUNTER_START_SQL, bound),
        ch.rows<{ account_id: string; object_id: string; step: string | number; last: number }>(COUNTER_STEPS_SQL, bound),
      ])
      const amounts: Array<number | null> = new Array(count).fill(null)
      const add = (step: number, value: number) => {
        if (step >= 0 && step < count) amounts[step] = (amounts[step] ?? 0) + value
      }
      for (const row of daily) if (Number(row.points) > 0) add(Number(row.step), Number(row.value))
      const startOf = new Map(starts.map((row) => [`${row.account_id}\u0000${row.object_id}`, row]))
      let previousKey = ''
      let previous = 0
      for (const row of steps) {
        const key = `${row.account_id}\u0000${row.object_id}`
        if (key !== previousKey) {
          previousKey = key
          const start = startOf.get(key)
          const createdMs = Number(start?.created_ms ?? 0)
          if (start && !Number(start.seen_before) && createdMs >= from.getTime()) {
            // What it had when first seen belongs to its creation time (as in metrics_daily), so
            // a first collection already shows how the period went, day by day.
            add(Math.floor((createdMs - from.getTime()) / stepMs), Number(start.first_value))
            previous = Number(start.first_value)
          } else {
            previous = start ? Number(start.start) : Number(row.last)
          }
        }
        add(Number(row.step), Number(row.last) - previous)
        previous = Number(row.last)
      }
      return amounts
    },
  }
}
