import type { ClickHouse } from '../core/clickhouse.ts'
import type { CrisisDataSource, Point } from './crisis.ts'
import type { MetricSelection } from './kinds/source.ts'
import { directReads, newestPerAccount, type Scope } from './observation-reads.ts'

/** What crisis detection reads, from the observation rollups (kpi/observation-reads.ts), bounded by the range asked for. */

const HOUR_MS = 3_600_000
const DAY_MS = 86_400_000

function sorted(series: Map<string, Point[]>): Map<string, Point[]> {
  const accounts = [...series.keys()].sort()
  return new Map(accounts.map((account) => [account, series.get(account)!.sort((a, b) => a.at.getTime() - b.at.getTime())]))
}

function push(series: Map<string, Point[]>, accountId: string, at: number, value: number) {
  const points = series.get(accountId) ?? []
  points.push({ at: new Date(at), value })
  series.set(accountId, points)
}

export function clickHouseCrisisSource(ch: Pick<ClickHouse, 'rows'>): CrisisDataSource {
  const reads = directReads(ch)
  const scopeOf = (selection: MetricSelection, shape: Scope['shape']): Scope => ({ network: selection.network, accountIds: selection.accountIds, metric: selection.metric, shape })
  return {
    // Each account's latest level at or before `from`, then every level in (from, to).
    async levels(selection, from, to) {
      const scope = scopeOf(selection, 'gauge')
      const objects = (await reads.objectsOf(scope)).filter((o) => o.firstAt <= from.getTime())
      const [before, inside] = await Promise.all([reads.lastBefore(scope, objects, from.getTime() + 1), reads.readingsIn(scope, from.getTime() + 1, to.getTime())])
      const series = new Map<string, Point[]>()
      for (const [account, reading] of newestPerAccount(before)) push(series, account, reading.at, reading.value)
      for (const r of inside) push(series, r.accountId, r.at, r.value)
      return sorted(series)
    },
    async buckets(selection, shape, from, to) {
      const series = new Map<string, Point[]>()
      if (shape === 'daily') {
        // Daily counts as stored (one row per account and day start).
        for (const d of await reads.dailyValues({ ...scopeOf(selection, 'daily'), objects: 'totals' }, from.getTime(), to.getTime())) push(series, d.accountId, d.at, d.value)
        return sorted(series)
      }
      // Counter rises per hour: each reading minus the object's previous reading, put on the hour in
      // which it was observed (a reading on the hour closes the hour before). An object's first
      // reading in the range rises by nothing, so a day of history before `from` is read to find the previous one.
      const readings = await reads.readingsIn(scopeOf(selection, 'counter'), from.getTime() - DAY_MS, to.getTime())
      const hours = new Map<string, Map<number, number>>()
      let previousKey = ''
      let previous = 0
      for (const r of readings) {
        const key = `${r.accountId}\u0000${r.objectId}`
        const rise = key === previousKey ? r.value - previous : 0
        previousKey = key
        previous = r.value
        if (r.at <= from.getTime()) continue
        const hour = Math.floor((r.at - 1) / HOUR_MS) * HOUR_MS
        const perHour = hours.get(r.accountId) ?? new Map<number, number>()
        perHour.set(hour, (perHour.get(hour) ?? 0) + rise)
        hours.set(r.accountId, perHour)
      }
      for (const [account, perHour] of hours) for (const [hour, value] of perHour) push(series, account, hour, value)
      return sorted(series)
    },
  }
}
