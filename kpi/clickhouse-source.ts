import type { ClickHouse } from '../core/clickhouse.ts'
import type { AccountRef, KpiDataSource, MetricSelection, RecentData } from './kinds/source.ts'
import { batchedReads, directReads, lastReadings, newestPerAccount, objectKey, recentReadings, type Reads, type Scope } from './observation-reads.ts'

/**
 * KPI numbers from the observation rollups (kpi/observation-reads.ts, migration 0020), bounded by
 * the period: late corrections and re-reads are reflected as in `observations FINAL`.
 * The rules, with worked examples, are in docs/kpi-semantics.md:
 * - a level is each account's latest gauge reading at or before the instant, summed;
 * - an amount is the daily counts whose day starts in [from, to) (the accounts' totals, or only
 *   the KPI's segments) plus every counter's rise in [from, to) (observation-reads counterGains).
 */

const stepCount = (from: Date, to: Date, stepMs: number) => Math.max(0, Math.ceil((to.getTime() - from.getTime()) / stepMs))

const scopeOf = (selection: MetricSelection, shape?: Scope['shape']): Scope => ({ network: selection.network, accountIds: selection.accountIds, metric: selection.metric, ...(shape ? { shape } : {}) })
/** The daily counts a selection reads: the accounts' totals, or only its segments. */
const dailyScope = (selection: MetricSelection): Scope =>
  selection.segments?.length ? { ...scopeOf(selection, 'daily'), objects: 'segments', segments: selection.segments } : { ...scopeOf(selection, 'daily'), objects: 'totals' }

type Rows = Pick<ClickHouse, 'rows'>

/** The accounts' recent data (observation-reads recentReadings), as the interface has it. */
async function recentData(ch: Rows, accounts: AccountRef[], at: Date, window: { since: Date; dailySince: Date }): Promise<RecentData[]> {
  const found = await recentReadings(ch, accounts, at.getTime(), window.since.getTime(), window.dailySince.getTime())
  return found.map((a) => ({ ...a, metrics: a.metrics.map((m) => ({ ...m, at: new Date(m.at) })), lastSuccessAt: a.lastSuccessAt === null ? null : new Date(a.lastSuccessAt) }))
}

async function lastSeen(ch: Rows, accounts: AccountRef[], at: Date) {
  return (await lastReadings(ch, accounts, at.getTime())).map((a) => ({ ...a, at: a.at === null ? null : new Date(a.at) }))
}

const accountKey = (a: AccountRef) => `${a.network}\u0000${a.accountId}`

/** Each account's currency as its API told it (account_facts, migration 0026); accounts never told are left out. */
async function currencies(ch: Rows, accounts: AccountRef[]): Promise<Array<AccountRef & { currency: string }>> {
  if (accounts.length === 0) return []
  const rows = await ch.rows<{ network: string; account_id: string; value: string }>(
    `SELECT network, account_id, value FROM account_facts FINAL
     WHERE fact = 'currency' AND network IN {networks:Array(String)} AND account_id IN {accounts:Array(String)} AND value != ''`,
    { networks: [...new Set(accounts.map((a) => a.network))], accounts: [...new Set(accounts.map((a) => a.accountId))] },
  )
  const wanted = new Set(accounts.map(accountKey))
  return rows.map((r) => ({ network: r.network, accountId: r.account_id, currency: r.value })).filter((r) => wanted.has(accountKey(r)))
}

export function clickHouseKpiSource(ch: Rows): KpiDataSource {
  return {
    ...sourceOver(directReads(ch)),
    recentData: (accounts, at, window) => recentData(ch, accounts, at, window),
    lastSeen: (accounts, at) => lastSeen(ch, accounts, at),
    currencies: (accounts) => currencies(ch, accounts),
    // One evaluation of many KPIs: questions shared by KPIs of the same network and metric are asked once.
    batch(selections) {
      const accounts = new Map<string, Set<string>>()
      for (const s of selections) {
        const key = `${s.network}\u0000${s.metric}`
        accounts.set(key, new Set([...(accounts.get(key) ?? []), ...s.accountIds]))
      }
      // Every account of the evaluation: the accounts' recent data is one question per instant judged.
      const all = [
        ...new Map(selections.flatMap((s) => s.accountIds.map((accountId): [string, AccountRef] => [accountKey({ network: s.network, accountId }), { network: s.network, accountId }]))).values(),
      ]
      const recent = new Map<string, Promise<Map<string, RecentData>>>()
      const seen = new Map<string, Promise<Date | null>>()
      // The currencies of every account of the evaluation: one question, asked when a money KPI first wants it.
      let told: Promise<Map<string, string>> | undefined
      return {
        async currencies(wanted) {
          if (!told) {
            told = currencies(ch, all).then((rows) => new Map(rows.map((r) => [accountKey(r), r.currency])))
            told.catch(() => {
              told = undefined
            })
          }
          const known = await told
          const others = wanted.filter((a) => !all.some((b) => accountKey(b) === accountKey(a)))
          const more = others.length > 0 ? await currencies(ch, others) : []
          return [
            ...wanted.flatMap((a) => {
              const currency = known.get(accountKey(a))
              return currency ? [{ ...a, currency }] : []
            }),
            ...more,
          ]
        },
        ...sourceOver(batchedReads(ch, (network, metric) => [...(accounts.get(`${network}\u0000${metric}`) ?? [])])),
        async recentData(wanted, at, window) {
          const id = `${at.getTime()}/${window.since.getTime()}/${window.dailySince.getTime()}`
          let answer = recent.get(id)
          if (!answer) {
            const asked = [...new Map([...all, ...wanted].map((a) => [accountKey(a), a])).values()]
            answer = recentData(ch, asked, at, window).then((rows) => new Map(rows.map((r) => [accountKey(r), r])))
            recent.set(id, answer)
            answer.catch(() => recent.delete(id))
          }
          const byAccount = await answer
          // an account no selection of the evaluation named is asked about on its own
          const others = wanted.filter((a) => !byAccount.has(accountKey(a)))
          const more = others.length > 0 ? new Map((await recentData(ch, others, at, window)).map((r) => [accountKey(r), r])) : byAccount
          return wanted.map((a) => byAccount.get(accountKey(a)) ?? more.get(accountKey(a))!)
        },
        // Asked only for the accounts found missing, which are few, and once per account and instant
        // whichever KPIs find it missing.
        async lastSeen(wanted, at) {
          const key = (a: AccountRef) => `${at.getTime()}/${accountKey(a)}`
          const ask = wanted.filter((a) => !seen.has(key(a)))
          if (ask.length > 0) {
            const answer = lastSeen(ch, ask, at)
            const of = (a: AccountRef) => answer.then((rows) => rows.find((r) => accountKey(r) === accountKey(a))?.at ?? null)
            for (const a of ask) seen.set(key(a), of(a))
            answer.catch(() => {
              for (const a of ask) seen.delete(key(a))
            })
          }
          return Promise.all(wanted.map(async (a) => ({ ...a, at: await seen.get(key(a))! })))
        },
      }
    },
  }
}

function sourceOver(reads: Reads): Omit<KpiDataSource, 'recentData' | 'lastSeen' | 'batch'> {
  /** The selection's daily counts; no query when it has no daily object (a KPI of followers or likes). */
  const dailyValues = async (selection: MetricSelection, from: number, to: number) => {
    const scope = dailyScope(selection)
    return (await reads.objectsOf(scope)).length === 0 ? [] : reads.dailyValues(scope, from, to)
  }
  /** Each account's newest reading at or before `at` (inclusive). */
  const levelsAt = async (scope: Scope, at: number) => {
    const objects = (await reads.objectsOf(scope)).filter((o) => o.firstAt <= at)
    return newestPerAccount(await reads.lastBefore(scope, objects, at + 1))
  }
  return {
    async level(selection, at) {
      const levels = await levelsAt(scopeOf(selection, 'gauge'), at.getTime())
      return levels.size > 0 ? [...levels.values()].reduce((sum, r) => sum + r.value, 0) : null
    },
    async startingLevel(selection, start, before) {
      const scope = scopeOf(selection, 'gauge')
      const objects = (await reads.objectsOf(scope)).filter((o) => o.firstAt <= before.getTime())
      if (objects.length === 0) return null
      const atStart = newestPerAccount(await reads.lastBefore(scope, objects, start.getTime() + 1))
      let value = 0
      let atMs = 0
      for (const account of new Set(objects.map((o) => o.accountId))) {
        const reading = atStart.get(account)
        if (reading) {
          value += reading.value
          atMs = Math.max(atMs, start.getTime())
          continue
        }
        // first read after `start`: its first reading is where its level starts
        const first = objects.filter((o) => o.accountId === account).reduce((a, b) => (b.firstAt < a.firstAt ? b : a))
        value += first.firstValue
        atMs = Math.max(atMs, first.firstAt)
      }
      return { value, at: new Date(atMs) }
    },
    async amount(selection, from, to, knownAt = to) {
      const known = Math.max(to.getTime(), knownAt.getTime())
      const [daily, gains] = await Promise.all([dailyValues(selection, from.getTime(), to.getTime()), reads.counterGains(scopeOf(selection), from.getTime(), to.getTime(), known)])
      const points = daily.reduce((n, d) => n + d.points, 0) + gains.length
      if (points === 0) return null
      return daily.reduce((sum, d) => sum + d.value, 0) + gains.reduce((sum, g) => sum + g.gained, 0)
    },
    async dataUntil(selection, at) {
      const scope: Scope = selection.segments?.length ? { ...scopeOf(selection), objects: 'named', segments: selection.segments } : scopeOf(selection)
      const levels = await levelsAt(scope, at.getTime())
      const [oldest] = [...levels.entries()].sort(([a, x], [b, y]) => x.at - y.at || (a < b ? -1 : a > b ? 1 : 0))
      return oldest ? { at: new Date(oldest[1].at), accountId: oldest[0] } : null
    },
    async levelSeries(selection, from, to, stepMs) {
      const count = stepCount(from, to, stepMs)
      const scope = scopeOf(selection, 'gauge')
      const accounts = new Set((await reads.objectsOf(scope)).filter((o) => o.firstAt <= to.getTime()).map((o) => o.accountId))
      // The level at boundary k (from + k·step) is the latest reading in (from + (k-1)·step, from + k·step].
      const readings = await reads.lastPerStep(scope, from.getTime() - stepMs + 1, to.getTime() + 1, from.getTime(), stepMs, 1)
      const byAccount = new Map<string, Map<number, { at: number; value: number }>>()
      for (const object of readings) {
        const steps = byAccount.get(object.accountId) ?? new Map<number, { at: number; value: number }>()
        for (const r of object.steps) {
          const k = r.step + 1
          const seen = steps.get(k)
          if (!seen || r.at > seen.at) steps.set(k, { at: r.at, value: r.last })
        }
        byAccount.set(object.accountId, steps)
      }
      // A boundary has a level only when every account was read in the step that ends there: a day
      // without a reading is a gap, not "no change" (carrying the last value forward would make it
      // look like a flat day and drag the trend down).
      return Array.from({ length: count + 1 }, (_, k) => {
        if (accounts.size === 0) return null
        let sum = 0
        for (const account of accounts) {
          const value = byAccount.get(account)?.get(k)
          if (value === undefined) return null
          sum += value.value
        }
        return sum
      })
    },
    async amountSeries(selection, from, to, stepMs) {
      const count = stepCount(from, to, stepMs)
      const fromMs = from.getTime()
      const counters = scopeOf(selection, 'counter')
      // One step more before `from` (step -1): each counter's value just before `from`, read with the
      // steps, for the counters read in the day before it.
      const [daily, objects, withBefore] = await Promise.all([
        dailyValues(selection, fromMs, to.getTime()),
        reads.objectsOf(counters),
        reads.lastPerStep(counters, fromMs - stepMs, to.getTime(), fromMs, stepMs),
      ])
      const amounts: Array<number | null> = new Array(count).fill(null)
      const add = (step: number, value: number) => {
        if (step >= 0 && step < count) amounts[step] = (amounts[step] ?? 0) + value
      }
      for (const d of daily) if (d.points > 0) add(Math.floor((d.at - fromMs) / stepMs), d.value)
      // Per object: its reading the day before (step -1) and its steps inside.
      const readInside = withBefore
        .map((o) => ({ key: objectKey(o), before: o.steps[0]!.step < 0 ? o.steps[0]!.last : undefined, rows: o.steps.filter((s) => s.step >= 0) }))
        .filter((g) => g.rows.length > 0)
      const objectOf = new Map(objects.map((o) => [objectKey(o), o]))
      // Where each counter read inside starts, as counterGains has it: its value before `from`,
      // else (first read inside) 0 when created inside, else its first reading.
      const notReadTheDayBefore = readInside.filter((g) => g.before === undefined && (objectOf.get(g.key)?.firstAt ?? Infinity) < fromMs).map((g) => objectOf.get(g.key)!)
      const before = notReadTheDayBefore.length > 0 ? await reads.lastBefore(counters, notReadTheDayBefore, fromMs) : new Map<string, { value: number }>()
      for (const { key, before: dayBefore, rows } of readInside) {
        const o = objectOf.get(key)
        let previous: number
        if (!o) previous = rows[0]!.last
        else if (o.firstAt < fromMs) previous = dayBefore ?? before.get(key)!.value
        else if (o.createdAt !== null && o.createdAt >= fromMs) {
          // What it had when first seen belongs to its creation time (as in metrics_daily), so
          // a first collection already shows how the period went, day by day.
          add(Math.floor((o.createdAt - fromMs) / stepMs), o.firstValue)
          previous = o.firstValue
        } else previous = o.firstValue
        for (const row of rows) {
          add(row.step, row.last - previous)
          previous = row.last
        }
      }
      return amounts
    },
  }
}
