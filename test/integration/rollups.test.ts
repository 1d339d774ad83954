import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { toClickHouseTime } from '../../core/clickhouse.ts'
import type { ObservationRow } from '../../core/tables.ts'
import { clickHouseCrisisSource } from '../../kpi/crisis-source.ts'
import { clickHouseKpiSource } from '../../kpi/clickhouse-source.ts'
import type { MetricSelection } from '../../kpi/kinds/source.ts'
import type { Point } from '../../kpi/crisis.ts'
import { openTestClickHouse, type TestClickHouse } from '../helpers/clickhouse.ts'
import { observation } from '../helpers/observations.ts'
import { rawCrisisSource } from '../helpers/raw-crisis-source.ts'
import { rawKpiSource } from '../helpers/raw-kpi-source.ts'

/**
 * The rollups (migration 0020) against the raw observations: the same questions asked of
 * kpi/clickhouse-source.ts and kpi/crisis-source.ts (rollups) and of the raw-observation
 * reference (test/helpers/raw-*-source.ts, the SQL over `observations FINAL` they replaced), on
 * randomised history: several accounts, irregular rounds at odd milliseconds, late corrections,
 * re-delivered batches, posts first seen long after they were created (some after a period's
 * end), posts not read for days (older history than the look-back window), accounts first read
 * late, daily counts per segment. Seeded, so a failure names a seed that reproduces it.
 */

const SEED = 20261101
const DAY = 86_400_000
const HOUR = 3_600_000
const T0 = Date.parse('2026-10-01T00:00:00Z')
const SPAN_DAYS = 45
const ACCOUNTS = ['a1', 'a2', 'a3']

function prng(seed: number) {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const random = prng(SEED)
const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo))
const pick = <T>(values: readonly T[]) => values[between(0, values.length)]!

function row(
  account: string,
  objectType: ObservationRow['object_type'],
  objectId: string,
  metric: string,
  shape: ObservationRow['shape'],
  at: number,
  value: number,
  collected = at,
  created: number | null = null,
): ObservationRow {
  const iso = (ms: number) => new Date(ms).toISOString()
  return observation(metric, shape, objectId, iso(at), value, { account, objectType, collected: iso(collected), ...(created === null ? {} : { created: iso(created) }) })
}

/**
 * Irregular round times: 10 minutes to 7 hours apart, at odd milliseconds, from `start`; now and
 * then exactly on the hour (where period starts and the queries' instants fall).
 */
function rounds(start: number, end: number): number[] {
  const times: number[] = []
  for (let at = start; at < end; at += between(10 * 60_000, 7 * HOUR) + between(0, 1000)) {
    const onTheHour = at - (at % HOUR)
    times.push(random() < 0.2 && onTheHour > (times.at(-1) ?? -Infinity) && onTheHour >= start ? onTheHour : at)
  }
  return times
}

function history(): ObservationRow[] {
  const rows: ObservationRow[] = []
  const end = T0 + SPAN_DAYS * DAY
  for (const [index, account] of ACCOUNTS.entries()) {
    // a3 is first read 12 days in
    const start = T0 + (index === 2 ? 12 * DAY + 7_777 : between(0, HOUR))
    let followers = between(500, 5000)
    for (const at of rounds(start, end)) {
      followers += between(-20, 40)
      rows.push(row(account, 'account', account, 'followers', 'gauge', at, followers))
    }
    for (let p = 0; p < 8; p++) {
      const created = random() < 0.15 ? null : T0 + between(-20 * DAY, (SPAN_DAYS - 3) * DAY)
      // first read at its creation, or days later (an old post on a first collection)
      const firstSeen = Math.max(start, (created ?? T0) + (random() < 0.5 ? between(0, HOUR) : between(DAY, 15 * DAY)))
      let likes = between(0, 50)
      let gapUntil = 0
      for (const at of rounds(firstSeen, end)) {
        if (at < gapUntil) continue
        // now and then a post is not read for up to five days (older than the look-back window)
        if (random() < 0.01) gapUntil = at + between(DAY, 5 * DAY)
        likes += between(0, 12)
        rows.push(row(account, 'post', `${account}-post-${p}`, 'likes', 'counter', at, likes, at, created))
      }
    }
    // daily counts at the API's day start (a Jakarta day starts 17:00 UTC), with two segments
    for (let day = -1; day < SPAN_DAYS; day++) {
      const at = T0 + day * DAY - 7 * HOUR
      const organic = between(0, 300)
      const paid = between(0, 100)
      rows.push(row(account, 'account', account, 'engagements', 'daily', at, organic + paid, at + between(DAY, 2 * DAY)))
      rows.push(row(account, 'segment', 'organic', 'engagements', 'daily', at, organic, at + between(DAY, 2 * DAY)))
      rows.push(row(account, 'segment', 'paid', 'engagements', 'daily', at, paid, at + between(DAY, 2 * DAY)))
    }
  }
  return rows
}

let db: TestClickHouse
const base = history()

beforeAll(async () => {
  db = await openTestClickHouse('rollups')
  const insert = (values: ObservationRow[]) => db.ch.client.insert({ table: 'observations', format: 'JSONEachRow', values })
  // shuffled, in batches
  const shuffled = [...base].sort(() => random() - 0.5)
  for (let i = 0; i < shuffled.length; i += 2000) await insert(shuffled.slice(i, i + 2000))
  // re-delivered batches: the same rows again, some batches twice
  for (let k = 0; k < 3; k++) {
    const start = between(0, shuffled.length - 1500)
    await insert(shuffled.slice(start, start + 1500))
  }
  // late corrections: the same key re-read later with another value, some corrected twice
  const corrections = base
    .filter(() => random() < 0.08)
    .map((r) => ({ ...r, value: r.value + between(1, 30), collected_at: toClickHouseTime(new Date(Date.parse(`${r.collected_at}Z`) + between(HOUR, DAY))) }))
  await insert(corrections)
  await insert(corrections.filter(() => random() < 0.3).map((r) => ({ ...r, value: r.value + 1, collected_at: toClickHouseTime(new Date(Date.parse(`${r.collected_at}Z`) + HOUR)) })))
}, 120_000)
afterAll(async () => db?.cleanup())

const selections = (): MetricSelection[] => {
  const accounts = pick([['a1'], ['a2'], ['a3'], ['a1', 'a2'], ACCOUNTS, ['a1', 'a3', 'nobody']])
  return [
    { network: 'facebook', accountIds: accounts, metric: 'followers' },
    { network: 'facebook', accountIds: accounts, metric: 'likes' },
    { network: 'facebook', accountIds: accounts, metric: 'engagements' },
    { network: 'facebook', accountIds: accounts, metric: 'engagements', segments: pick([['organic'], ['organic', 'paid']]) },
  ]
}

/** An instant in the span or just around it, at an odd millisecond, on the hour or at a UTC midnight (whole days of observation_days). */
const instant = () => {
  const at = T0 + between(-2 * DAY, (SPAN_DAYS + 2) * DAY)
  const r = random()
  return r < 0.15 ? at - (at % DAY) : r < 0.35 ? at - (at % HOUR) : at
}

const close = (actual: number | null, expected: number | null, what: string) => {
  if (expected === null || actual === null) return expect(actual, what).toBe(expected)
  expect(Math.abs(actual - expected), `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(expected)))
}
const closeAll = (actual: Array<number | null>, expected: Array<number | null>, what: string) => {
  expect(actual.length, what).toBe(expected.length)
  actual.forEach((value, i) => {
    close(value, expected[i]!, `${what}[${i}]`)
  })
}
const points = (series: Map<string, Point[]>) => Object.fromEntries([...series].map(([account, list]) => [account, list.map((p) => [p.at.toISOString(), Math.round(p.value * 1e6) / 1e6])]))

describe(`rollups give the raw observations' answers (seed ${SEED})`, () => {
  it('holds the same data: every observation FINAL is one reading of observation_readings', async () => {
    const [raw] = await db.ch.rows<{ n: string }>('SELECT count() AS n FROM observations FINAL')
    const [rolled] = await db.ch.rows<{ n: string }>(
      'SELECT sum(length(r)) AS n FROM (SELECT arrayDistinct(arrayMap(x -> x.1, groupUniqArrayArray(readings))) AS r FROM observation_readings GROUP BY network, account_id, metric, shape, object_type, object_id, bucket)',
    )
    expect(Number(raw!.n)).toBe(new Set(base.map((r) => `${r.account_id}|${r.object_type}|${r.object_id}|${r.metric}|${r.observed_at}`)).size)
    expect(Number(rolled!.n)).toBe(Number(raw!.n))
  })

  it('levels, starting levels, amounts and data ends', async () => {
    const rolled = clickHouseKpiSource(db.ch)
    const raw = rawKpiSource(db.ch)
    for (let round = 0; round < 40; round++) {
      for (const selection of selections()) {
        const what = `round ${round} ${JSON.stringify(selection)}`
        const a = instant()
        const b = a + between(1, 35 * DAY)
        const known = b + (random() < 0.5 ? 0 : between(1, 5 * DAY))
        const [from, to, at] = [new Date(a), new Date(b), new Date(known)]
        close(await rolled.level(selection, to), await raw.level(selection, to), `${what} level(${to.toISOString()})`)
        expect(await rolled.startingLevel(selection, from, to), `${what} startingLevel`).toEqual(await raw.startingLevel(selection, from, to))
        close(await rolled.amount(selection, from, to, at), await raw.amount(selection, from, to, at), `${what} amount(${from.toISOString()}, ${to.toISOString()}, ${at.toISOString()})`)
        expect(await rolled.dataUntil(selection, to), `${what} dataUntil`).toEqual(await raw.dataUntil(selection, to))
      }
    }
  }, 300_000)

  it("accounts' recent readings and newest reading, around any instant", async () => {
    const rolled = clickHouseKpiSource(db.ch)
    const raw = rawKpiSource(db.ch)
    const accounts = [...ACCOUNTS, 'nobody'].map((accountId) => ({ network: 'facebook', accountId }))
    for (let round = 0; round < 40; round++) {
      const at = new Date(instant())
      // a window of minutes to days, and the daily counts' longer one
      const since = new Date(at.getTime() - between(60_000, 3 * DAY))
      const dailySince = new Date(since.getTime() - between(0, 3 * DAY))
      const what = `round ${round} at ${at.toISOString()} since ${since.toISOString()} daily since ${dailySince.toISOString()}`
      const sorted = (rows: Awaited<ReturnType<typeof raw.recentData>>) => rows.map((r) => ({ ...r, metrics: [...r.metrics].sort((a, b) => a.metric.localeCompare(b.metric)) }))
      expect(sorted(await rolled.recentData(accounts, at, { since, dailySince })), what).toEqual(sorted(await raw.recentData(accounts, at, { since, dailySince })))
      expect(await rolled.lastSeen(accounts, at), what).toEqual(await raw.lastSeen(accounts, at))
    }
  }, 300_000)

  it('daily level and amount series', async () => {
    const rolled = clickHouseKpiSource(db.ch)
    const raw = rawKpiSource(db.ch)
    for (let round = 0; round < 12; round++) {
      for (const selection of selections()) {
        const from = new Date(instant())
        const to = new Date(from.getTime() + between(3, 25) * DAY)
        const what = `round ${round} ${JSON.stringify(selection)} ${from.toISOString()}..${to.toISOString()}`
        closeAll(await rolled.levelSeries!(selection, from, to, DAY), await raw.levelSeries!(selection, from, to, DAY), `${what} levelSeries`)
        closeAll(await rolled.amountSeries!(selection, from, to, DAY), await raw.amountSeries!(selection, from, to, DAY), `${what} amountSeries`)
      }
    }
  }, 300_000)

  it('one batched source for many selections (one evaluation of a plan) gives each the same answers', async () => {
    const raw = rawKpiSource(db.ch)
    for (let round = 0; round < 6; round++) {
      const all = [...selections(), ...selections(), ...selections()]
      const batched = clickHouseKpiSource(db.ch).batch!(all)
      const from = new Date(instant())
      const to = new Date(from.getTime() + between(2, 30) * DAY)
      const at = new Date(to.getTime() + between(0, 3 * DAY))
      for (const selection of all) {
        const what = `round ${round} ${JSON.stringify(selection)} ${from.toISOString()}..${to.toISOString()}`
        close(await batched.level(selection, to), await raw.level(selection, to), `${what} level`)
        close(await batched.level(selection, from), await raw.level(selection, from), `${what} level at from`)
        expect(await batched.startingLevel(selection, from, to), `${what} startingLevel`).toEqual(await raw.startingLevel(selection, from, to))
        close(await batched.amount(selection, from, to, at), await raw.amount(selection, from, to, at), `${what} amount`)
        expect(await batched.dataUntil(selection, to), `${what} dataUntil`).toEqual(await raw.dataUntil(selection, to))
        closeAll(await batched.levelSeries!(selection, from, to, DAY), await raw.levelSeries!(selection, from, to, DAY), `${what} levelSeries`)
        closeAll(await batched.amountSeries!(selection, from, to, DAY), await raw.amountSeries!(selection, from, to, DAY), `${what} amountSeries`)
      }
      // the accounts' recent data: one question per instant for every account of the evaluation
      const accounts = [...new Set(all.flatMap((s) => s.accountIds))].map((accountId) => ({ network: 'facebook', accountId }))
      const window = { since: new Date(to.getTime() - HOUR), dailySince: new Date(to.getTime() - 2 * DAY) }
      const sorted = (rows: Awaited<ReturnType<typeof raw.recentData>>) => rows.map((r) => ({ ...r, metrics: [...r.metrics].sort((a, b) => a.metric.localeCompare(b.metric)) }))
      expect(sorted(await batched.recentData(accounts.slice(0, 1), to, window)), `round ${round} recentData`).toEqual(sorted(await raw.recentData(accounts.slice(0, 1), to, window)))
      expect(sorted(await batched.recentData(accounts, to, window)), `round ${round} recentData`).toEqual(sorted(await raw.recentData(accounts, to, window)))
    }
  }, 300_000)

  it('crisis levels and hourly and daily buckets', async () => {
    const rolled = clickHouseCrisisSource(db.ch)
    const raw = rawCrisisSource(db.ch)
    for (let round = 0; round < 15; round++) {
      const [followers, likes, engagements] = selections()
      const from = new Date(instant())
      const to = new Date(from.getTime() + between(HOUR, 3 * DAY))
      const what = `round ${round} ${from.toISOString()}..${to.toISOString()} ${followers!.accountIds}`
      expect(points(await rolled.levels(followers!, from, to)), `${what} levels`).toEqual(points(await raw.levels(followers!, from, to)))
      expect(points(await rolled.buckets(likes!, 'counter', from, to)), `${what} counter buckets`).toEqual(points(await raw.buckets(likes!, 'counter', from, to)))
      expect(points(await rolled.buckets(engagements!, 'daily', from, to)), `${what} daily buckets`).toEqual(points(await raw.buckets(engagements!, 'daily', from, to)))
    }
  }, 300_000)
})
