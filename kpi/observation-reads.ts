import { toClickHouseTime, type ClickHouse } from '../core/clickhouse.ts'

/**
 * Reads of observations through the rollups of migrations 0020, 0022 and 0023, bounded by the
 * period rather than by all history. One module serves the KPI source, crisis detection and the
 * period review, so the counter rules live once (docs/kpi-semantics.md).
 *
 * - `observation_days` and `observation_hours` hold per object and UTC day / hour (per exact
 *   instant for daily counts) the first and last reading as argMin/argMax states, and
 *   `observation_readings` the hours' readings themselves, ordered by the hour of the day first
 *   (a daily series cuts the same hour of every day). A day or hour entirely on one side of every
 *   instant a query cuts at (a period start, its end, a step) is read as one piece, days where
 *   they fit; an hour a cut falls inside is read from its readings, in parts that each lie in one
 *   step (newest collection first per instant, as `observations FINAL` does). So answers are
 *   exact at any millisecond.
 * - `observation_objects` holds per object its first and last reading and creation time: whether
 *   an object was seen before a period, its first value and (mostly) its value just before a
 *   period need no scan of history. Only when an object's last reading is after the instant asked
 *   about is the hour before it read, then a window of LOOKBACK_MS, then older history, each only
 *   for the objects the one before did not answer.
 */

type Rows = Pick<ClickHouse, 'rows'>
export type Shape = 'gauge' | 'counter' | 'daily'

/**
 * Which objects a read covers: `totals` the accounts' own rows (no segments), `segments` only the
 * named segments, `named` the named objects whatever their type, `posts` posts only, `all` all.
 */
export type ObjectFilter = 'all' | 'totals' | 'segments' | 'named' | 'posts'

export interface Scope {
  network: string
  accountIds: string[]
  metric: string
  /** Absent: every shape. */
  shape?: Shape
  objects?: ObjectFilter
  segments?: string[]
}

const HOUR_MS = 3_600_000
const DAY_MS = 86_400_000
/** How far before an instant the value just before it is looked for, before older history is read. */
const LOOKBACK_MS = 2 * DAY_MS
const EPOCH = toClickHouseTime(new Date(0))
const TIME = `DateTime64(3, 'UTC')`

const OBJECT_SQL: Record<ObjectFilter, string> = {
  all: '',
  totals: ` AND object_type != 'segment'`,
  segments: ` AND object_type = 'segment' AND object_id IN {segments:Array(String)}`,
  named: ` AND object_id IN {segments:Array(String)}`,
  posts: ` AND object_type = 'post'`,
}

/** The WHERE fragment of a scope (fixed SQL chosen by the scope, values bound) and its parameters. */
function scopeOf(scope: Scope): { sql: string; params: Record<string, unknown> } {
  const sql = `network = {network:String} AND account_id IN {accounts:Array(String)} AND metric = {metric:String}${scope.shape ? ' AND shape = {shape:String}' : ''}${OBJECT_SQL[scope.objects ?? 'all']}`
  return { sql, params: { network: scope.network, accounts: scope.accountIds, metric: scope.metric, shape: scope.shape ?? '', segments: scope.segments ?? [] } }
}

/** Whether every bucket of the scope is an hour start: gauges and counters (a daily count's bucket is its instant). */
const hourly = (scope: Scope) => scope.shape === 'gauge' || scope.shape === 'counter'

const floorHour = (ms: number) => ms - (((ms % HOUR_MS) + HOUR_MS) % HOUR_MS)
const floorDay = (ms: number) => ms - (((ms % DAY_MS) + DAY_MS) % DAY_MS)

/** A half-open span of time [from, to) in ms. */
type Span = [number, number]

/** At most this many ranges of a column are written out in a query; more are merged into covering ranges and checked exactly against arrays (a long OR costs more to plan than to run). */
const MAX_RANGES = 6
/** At most this many hours are listed as a set for the primary key, beyond which ranges are used. */
const MAX_HOUR_SET = 5_000

/**
 * The condition that `column` lies in one of `spans` (disjoint, in any order): a few ranges the primary key
 * can use, covering the spans, and when they had to be merged an exact check against the spans' bounds.
 */
function inSpans(column: string, spans: Span[], prefix: string, params: Record<string, unknown>): string {
  if (spans.length === 0) return '0'
  const covering: Span[] = spans.map(([a, b]): Span => [a, b]).sort((x, y) => x[0] - y[0])
  while (covering.length > MAX_RANGES) {
    let narrowest = 0
    for (let i = 1; i < covering.length - 1; i++) if (covering[i + 1]![0] - covering[i]![1] < covering[narrowest + 1]![0] - covering[narrowest]![1]) narrowest = i
    covering.splice(narrowest, 2, [covering[narrowest]![0], covering[narrowest + 1]![1]])
  }
  const time = (ms: number) => toClickHouseTime(new Date(Math.max(0, ms)))
  const ranges = covering
    .map(([a, b], i) => {
      params[`${prefix}${i}a`] = time(a)
      params[`${prefix}${i}b`] = time(b)
      return `(${column} >= {${prefix}${i}a:${TIME}} AND ${column} < {${prefix}${i}b:${TIME}})`
    })
    .join(' OR ')
  if (covering.length === spans.length) return `(${ranges})`
  params[`${prefix}from`] = spans.map(([a]) => time(a))
  params[`${prefix}to`] = spans.map(([, b]) => time(b))
  return `((${ranges}) AND ${exactlyInSpans(column, prefix)})`
}

const exactlyInSpans = (column: string, prefix: string) => `arrayExists((a, b) -> ${column} >= a AND ${column} < b, {${prefix}from:Array(${TIME})}, {${prefix}to:Array(${TIME})})`

/**
 * How the pieces of `spans` are read, cut at `cuts` as well: whole UTC days (no cut strictly
 * inside) from observation_days, the other whole hours from observation_hours, and the hours a cut
 * falls inside reading by reading. Bound parameters and the fixed SQL conditions that use them.
 * `hourly`: every bucket of the scope is an hour start (gauges and counters; a daily count's bucket
 * is its exact instant), so its whole hours can be listed as a set.
 */
function layoutOf(spans: Span[], cuts: number[] = [], hourly = false) {
  const all = [...cuts, ...spans.flat()]
  const edgeHours = [...new Set(all.filter((ms) => floorHour(ms) !== ms).map(floorHour))].sort((a, b) => a - b)
  const days: Span[] = []
  const hours: Span[] = []
  const push = (list: Span[], from: number, to: number) => {
    const last = list[list.length - 1]
    if (last && last[1] === from) last[1] = to
    else if (from < to) list.push([from, to])
  }
  for (const [lo, hi] of spans) {
    let at = lo
    for (let day = floorDay(lo) + (floorDay(lo) === lo ? 0 : DAY_MS); day + DAY_MS <= hi; day += DAY_MS) {
      if (all.some((ms) => ms > day && ms < day + DAY_MS)) continue
      push(hours, at, day)
      push(days, day, day + DAY_MS)
      at = day + DAY_MS
    }
    push(hours, at, hi)
  }
  const params: Record<string, unknown> = {
    edges: [EPOCH, ...edgeHours.map((ms) => toClickHouseTime(new Date(ms)))],
    edgeHoursOfDay: [...new Set([0, ...edgeHours.map((ms) => new Date(ms).getUTCHours())])],
    ...edgePieces(edgeHours, spans, all),
  }
  const edgeSet = new Set(edgeHours)
  const wholeHours = hourly ? hours.flatMap(([a, b]) => hourStarts(a, b).filter((ms) => !edgeSet.has(ms))) : []
  let hoursCondition: string
  if (hourly && wholeHours.length <= MAX_HOUR_SET) {
    params.hourSet = wholeHours.map((ms) => toClickHouseTime(new Date(ms)))
    hoursCondition = wholeHours.length === 0 ? '' : `bucket IN {hourSet:Array(${TIME})}`
  } else hoursCondition = `${inSpans('bucket', hours, 'h', params)} AND bucket NOT IN {edges:Array(${TIME})}`
  // '' for no whole hours: a query leaves that part out
  return {
    params,
    days: inSpans('day', days, 'd', params),
    hours: hours.length === 0 ? '' : hoursCondition,
    hasDays: days.length > 0,
    hasCuts: (params.pieceHour as string[]).length > 0,
    hasStarts: (params.startHours as string[]).length > 0,
  }
}

/**
 * The parts of `spans` inside each edge hour, split at every instant of `bounds` (cuts and span
 * edges), as three arrays: the hour, the part's start and its end; and apart from them the hours
 * whose part is their first millisecond only. A part lies in one step, so its start tells the step.
 */
function edgePieces(edgeHours: number[], spans: Span[], bounds: number[]) {
  const pieces = { pieceHour: [] as string[], pieceFrom: [] as string[], pieceTo: [] as string[], startHours: [] as string[] }
  const time = (ms: number) => toClickHouseTime(new Date(ms))
  for (const hour of edgeHours) {
    const inside = [...new Set(bounds.filter((ms) => ms > hour && ms < hour + HOUR_MS))].sort((a, b) => a - b)
    for (const [lo, hi] of spans) {
      const from = Math.max(lo, hour)
      const to = Math.min(hi, hour + HOUR_MS)
      if (from >= to) continue
      const edges = [from, ...inside.filter((ms) => ms > from && ms < to), to]
      for (let i = 0; i + 1 < edges.length; i++) {
        // the first millisecond of an hour (a period start, read "at or before"): its readings are the
        // hour's first reading when that is at the hour's start, which the hour's states tell
        if (edges[i] === hour && edges[i + 1] === hour + 1) {
          pieces.startHours.push(time(hour))
          continue
        }
        pieces.pieceHour.push(time(hour))
        pieces.pieceFrom.push(time(edges[i]!))
        pieces.pieceTo.push(time(edges[i + 1]!))
      }
    }
  }
  return pieces
}

/** The hour starts h with a ≤ h < b. */
function hourStarts(a: number, b: number): number[] {
  const starts: number[] = []
  for (let h = floorHour(a) + (floorHour(a) === a ? 0 : HOUR_MS); h < b; h += HOUR_MS) starts.push(h)
  return starts
}

type Layout = ReturnType<typeof layoutOf>

// A reading's (time, collected at) packed into one number, as the rollups' states have it (migration
// 0020): the last reading is the greatest time, newest collection.
const LAST_KEY = 'bitShiftLeft(toUInt128(toUnixTimestamp64Milli(r.1)), 64) + toUInt128(toUnixTimestamp64Milli(r.2))'

/**
 * The pieces of the scope's readings in the layout's spans: the whole days and whole hours of an
 * object merged into one piece (or one per `group`, a fixed expression of a piece's start `t`
 * such as a step), and the readings of each part of a cut hour (layoutOf's pieceHour, pieceFrom,
 * pieceTo). Columns: account_id, object_type, object_id, p_last_at, p_last (each piece's last
 * reading; a first reading is only ever asked of an object's whole history, observation_objects).
 * `extra` narrows further (a fixed fragment). The states merge across days and hours (argMax of
 * argMax is argMax), so no per-hour grouping is needed; a cut hour's readings give per part the
 * greatest (time, collected at) as its last reading, keyed by one number as the states are (a
 * tuple comparison costs several times more).
 */
function piecesSql(scope: string, layout: Layout, extra = '', group = ''): string {
  const whole = (table: string, column: string, where: string) => `
    SELECT account_id, object_type, object_id, max(last_at) AS p_last_at, argMaxMerge(last) AS p_last
    FROM ${table}
    WHERE ${scope}${extra} AND ${where}
    GROUP BY account_id, object_type, object_id${group ? `, ${group.replaceAll('{t}', column)}` : ''}`
  const cut = `
    SELECT account_id, object_type, object_id, max(r.1) AS p_last_at, argMax(r.3, ${LAST_KEY}) AS p_last
    FROM
    (
        SELECT account_id, object_type, object_id, e.lo AS t, arrayJoin(arrayFilter(r -> r.1 >= e.lo AND r.1 < e.hi, readings)) AS r
        FROM observation_readings AS h
        INNER JOIN (SELECT p.1 AS bucket, p.2 AS lo, p.3 AS hi FROM (SELECT arrayJoin(arrayZip({pieceHour:Array(${TIME})}, {pieceFrom:Array(${TIME})}, {pieceTo:Array(${TIME})})) AS p)) AS e ON h.bucket = e.bucket
        WHERE ${scope}${extra} AND h.hour_of_day IN {edgeHoursOfDay:Array(UInt8)} AND h.bucket IN {edges:Array(${TIME})}
    )
    GROUP BY account_id, object_type, object_id${group ? `, ${group.replaceAll('{t}', 't')}` : ''}`
  const starts = `
    SELECT account_id, object_type, object_id, min(first_at) AS p_last_at, argMinMerge(first) AS p_last
    FROM observation_hours
    WHERE ${scope}${extra} AND bucket IN {startHours:Array(${TIME})}
    GROUP BY account_id, object_type, object_id, bucket${group ? `, ${group.replaceAll('{t}', 'bucket')}` : ''}
    HAVING p_last_at = bucket`
  // only the parts the layout has (each part costs its own reading of the table)
  const parts = [
    ...(layout.hasDays ? [whole('observation_days', 'day', layout.days)] : []),
    ...(layout.hours ? [whole('observation_hours', 'bucket', layout.hours)] : []),
    ...(layout.hasStarts ? [starts] : []),
    ...(layout.hasCuts || !(layout.hasDays || layout.hours || layout.hasStarts) ? [cut] : []),
  ]
  return parts.join('\n    UNION ALL')
}

const keyOf = (accountId: string, objectType: string, objectId: string) => `${accountId}\u0000${objectType}\u0000${objectId}`
/** The key of an object in the maps these reads return (lastBefore's). */
export const objectKey = (o: { accountId: string; objectType: string; objectId: string }) => keyOf(o.accountId, o.objectType, o.objectId)

export interface ObjectInfo {
  accountId: string
  shape: Shape
  objectType: string
  objectId: string
  firstAt: number
  firstValue: number
  lastAt: number
  lastValue: number
  /** Creation time (ms), null when the API did not give it. */
  createdAt: number | null
}

const OBJECTS_SQL = (scope: string) => `
SELECT account_id, toString(shape) AS shape, object_type, object_id,
       toUnixTimestamp64Milli(min(first_at)) AS first_ms, argMinMerge(first) AS first_value,
       toUnixTimestamp64Milli(max(last_at)) AS last_ms, argMaxMerge(last) AS last_value,
       toUnixTimestamp64Milli(min(created)) AS created_ms
FROM observation_objects
WHERE ${scope}
GROUP BY account_id, shape, object_type, object_id`

/** Whether an object is one of the scope's (its accounts, shape and object filter). */
export function inScope(o: ObjectInfo, scope: Scope): boolean {
  if (!scope.accountIds.includes(o.accountId) || (scope.shape && o.shape !== scope.shape)) return false
  switch (scope.objects ?? 'all') {
    case 'all':
      return true
    case 'totals':
      return o.objectType !== 'segment'
    case 'segments':
      return o.objectType === 'segment' && (scope.segments ?? []).includes(o.objectId)
    case 'named':
      return (scope.segments ?? []).includes(o.objectId)
    case 'posts':
      return o.objectType === 'post'
  }
}

/** Every object of the scope, with its first and last reading over all history. */
async function objectsOf(ch: Rows, scope: Scope): Promise<ObjectInfo[]> {
  const { sql, params } = scopeOf(scope)
  const rows = await ch.rows<{
    account_id: string
    shape: Shape
    object_type: string
    object_id: string
    first_ms: string
    first_value: number
    last_ms: string
    last_value: number
    created_ms: string | null
  }>(OBJECTS_SQL(sql), params)
  return rows.map((r) => ({
    accountId: r.account_id,
    shape: r.shape,
    objectType: r.object_type,
    objectId: r.object_id,
    firstAt: Number(r.first_ms),
    firstValue: Number(r.first_value),
    lastAt: Number(r.last_ms),
    lastValue: Number(r.last_value),
    createdAt: r.created_ms === null ? null : Number(r.created_ms),
  }))
}

const LAST_IN_SQL = (scope: string, layout: Layout, extra: string) => `
SELECT account_id, object_type, object_id, toUnixTimestamp64Milli(max(p_last_at)) AS at_ms, argMax(p_last, p_last_at) AS value
FROM (${piecesSql(scope, layout, extra)})
GROUP BY account_id, object_type, object_id`

export interface Reading {
  at: number
  value: number
}

/**
 * Each object's last reading before `before` (exclusive), for objects of `objects` first read
 * before it: from the object's own last reading when that is earlier, else from the hour before
 * (most objects are read every round), else from a window of LOOKBACK_MS, else (an object not
 * read for that long) from its older history, the last two for those objects only.
 */
async function lastBefore(ch: Rows, scope: Scope, objects: ObjectInfo[], before: number): Promise<Map<string, Reading>> {
  const result = new Map<string, Reading>()
  const open: ObjectInfo[] = []
  for (const o of objects) {
    if (o.firstAt >= before) continue
    if (o.lastAt < before) result.set(keyOf(o.accountId, o.objectType, o.objectId), { at: o.lastAt, value: o.lastValue })
    else open.push(o)
  }
  if (open.length === 0) return result
  const { sql, params } = scopeOf(scope)
  const read = async (lo: number, hi: number, keys: string[] | null) => {
    const extra = keys ? ` AND concat(account_id, '\\0', object_type, '\\0', object_id) IN {keys:Array(String)}` : ''
    const layout = layoutOf([[lo, hi]], [], hourly(scope))
    const rows = await ch.rows<{ account_id: string; object_type: string; object_id: string; at_ms: string; value: number }>(LAST_IN_SQL(sql, layout, extra), {
      ...params,
      ...layout.params,
      ...(keys ? { keys } : {}),
    })
    for (const r of rows) {
      const key = keyOf(r.account_id, r.object_type, r.object_id)
      if (wanted.has(key) && !result.has(key)) result.set(key, { at: Number(r.at_ms), value: Number(r.value) })
    }
  }
  const wanted = new Map(open.map((o) => [keyOf(o.accountId, o.objectType, o.objectId), o]))
  const missing = () => [...wanted.keys()].filter((key) => !result.has(key))
  const nearStart = floorHour(before) - HOUR_MS
  const windowStart = floorHour(before) - LOOKBACK_MS
  await read(nearStart, before, null)
  if (missing().length > 0) await read(windowStart, nearStart, missing())
  const older = missing()
  if (older.length > 0) await read(floorDay(Math.min(...older.map((key) => wanted.get(key)!.firstAt))), windowStart, older)
  return result
}

/** Per account, the newest of its objects' readings before `before`. */
export function newestPerAccount(readings: Map<string, Reading>): Map<string, Reading> {
  const byAccount = new Map<string, Reading>()
  for (const [key, reading] of readings) {
    const account = key.slice(0, key.indexOf('\u0000'))
    const seen = byAccount.get(account)
    if (!seen || reading.at > seen.at) byAccount.set(account, reading)
  }
  return byAccount
}

// ---------------------------------------------------------------------------------------------
// Counters

export interface CounterGain {
  accountId: string
  objectType: string
  objectId: string
  createdAt: number | null
  firstValue: number
  seenBefore: boolean
  /** Where its rise in the period starts from (its value before `from`, 0 or its first value). */
  start: number
  /** Whether it was read inside [from, to). */
  readInside: boolean
  /** What it gained in [from, to). */
  gained: number
}

/**
 * Each counter's gain in [from, to), judged at `known` (≥ to): its last value in the period minus
 * its starting point, the last value before `from`. An object first seen inside the period counts
 * from zero when it was created inside the period, else from its first value (what it gained
 * before we first saw it belongs to its creation time, as in metrics_daily). An object created
 * inside the period but first seen after it, by `known`, brings its first value.
 */
async function counterGains(ch: Rows, scope: Scope, from: number, to: number, known: number, all: ObjectInfo[]): Promise<CounterGain[]> {
  const counters: Scope = { ...scope, shape: 'counter' }
  const objects = all.filter((o) => o.firstAt <= known && inScope(o, counters))
  if (objects.length === 0) return []
  // A counter's last reading in the period is its last before `to`, when that is not before `from`
  // (mostly known from observation_objects, with no query, while the period runs).
  const insideOf = new Map([...(await lastBefore(ch, counters, objects, to))].filter(([, reading]) => reading.at >= from))
  // only objects read inside and before need their value just before `from`
  const seenInsideAndBefore = objects.filter((o) => o.firstAt < from && insideOf.has(keyOf(o.accountId, o.objectType, o.objectId)))
  const starts = await lastBefore(ch, counters, seenInsideAndBefore, from)
  const gains: CounterGain[] = []
  for (const o of objects) {
    const key = keyOf(o.accountId, o.objectType, o.objectId)
    const row = insideOf.get(key)
    const seenBefore = o.firstAt < from
    const createdInside = o.createdAt !== null && o.createdAt >= from
    const base = { accountId: o.accountId, objectType: o.objectType, objectId: o.objectId, createdAt: o.createdAt, firstValue: o.firstValue, seenBefore }
    if (row) {
      // first read inside: its first reading is its first in the period
      const start = seenBefore ? starts.get(key)!.value : createdInside ? 0 : o.firstValue
      gains.push({ ...base, start, readInside: true, gained: row.value - start })
    } else if (!seenBefore && createdInside && o.createdAt! < to) {
      gains.push({ ...base, start: 0, readInside: false, gained: o.firstValue })
    }
  }
  return gains
}

// A whole day or hour lies in one step (no step edge cuts it), so its start `t` tells the step.
const STEP_OF_PIECE = `multiIf(toUnixTimestamp64Milli({t}) < {fromMs:Int64}, -1, intDiv(toUnixTimestamp64Milli({t}) - {fromMs:Int64}, {stepMs:Int64}))`

// One row per object, its steps as arrays: a series of 1,400 posts × 25 days is 35,000 steps, and
// rows of their own cost more to write out and parse than the query costs to run.
const STEP_SQL = (scope: string, layout: Layout, extra: string) => `
SELECT account_id, object_type, object_id, groupArray(step) AS steps, groupArray(last) AS lasts, groupArray(at_ms) AS ats
FROM
(
    SELECT account_id, object_type, object_id,
           toFloat64(multiIf(toUnixTimestamp64Milli(p_last_at) < {fromMs:Int64}, -1, intDiv(toUnixTimestamp64Milli(p_last_at) - {fromMs:Int64}, {stepMs:Int64}))) AS step,
           argMax(p_last, p_last_at) AS last, toFloat64(toUnixTimestamp64Milli(max(p_last_at))) AS at_ms
    FROM (${piecesSql(scope, layout, extra, STEP_OF_PIECE)})
    GROUP BY account_id, object_type, object_id, step
)
GROUP BY account_id, object_type, object_id`

/** An object's last reading in each step it was read in, steps in order. */
export interface ObjectSteps {
  accountId: string
  objectType: string
  objectId: string
  steps: Array<{ step: number; last: number /** When that last reading was (ms). */; at: number }>
}

/** While a read gathers them: step → its last reading. */
type GatheredSteps = Omit<ObjectSteps, 'steps'> & { steps: Map<number, { last: number; at: number }> }

/** Object by object (account, type, id). */
const byObject = (a: GatheredSteps, b: GatheredSteps) =>
  a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : a.objectType < b.objectType ? -1 : a.objectType > b.objectType ? 1 : a.objectId < b.objectId ? -1 : a.objectId > b.objectId ? 1 : 0

/**
 * Each object's last reading in each step [first + k·step, first + (k+1)·step) of [lo, hi), where
 * `shift` moves the steps' edges: 1 makes them (a, b] instead. Readings before `first` are step -1.
 * A step's last reading is in its last (part of an) hour for an object read every round, so those tails
 * are read first, for all objects; the rest of a step only for the objects (of `all`) that were
 * read during the step's span of their life but not in its tail.
 */
async function lastPerStep(ch: Rows, scope: Scope, lo: number, hi: number, first: number, stepMs: number, shift: number, all: ObjectInfo[]): Promise<ObjectSteps[]> {
  // no object of the scope was ever read (an engagements KPI has no counters): nothing to ask
  if (!all.some((o) => inScope(o, scope))) return []
  const { sql, params } = scopeOf(scope)
  const origin = first + shift
  const cuts: number[] = []
  for (let at = origin; at < hi; at += stepMs) if (at > lo) cuts.push(at)
  const bounds = [lo, ...cuts, hi]
  const stepOf = (ms: number) => (ms < origin ? -1 : Math.floor((ms - origin) / stepMs))
  const steps = bounds.slice(0, -1).map((from, i) => {
    const to = bounds[i + 1]!
    // the hour a cut falls inside, or the whole hour before a cut on the hour
    const tail = Math.max(from, floorHour(to) === to ? to - HOUR_MS : floorHour(to))
    return { step: stepOf(from), head: [from, tail] as Span, tail: [tail, to] as Span }
  })
  const read = async (spans: Span[], keys: string[] | null) => {
    const objects = new Map<string, GatheredSteps>()
    if (spans.length === 0) return objects
    const layout = layoutOf(spans, cuts, hourly(scope))
    const extra = keys ? ` AND concat(account_id, '\\0', object_type, '\\0', object_id) IN {keys:Array(String)}` : ''
    const rows = await ch.rows<{ account_id: string; object_type: string; object_id: string; steps: number[]; lasts: number[]; ats: number[] }>(STEP_SQL(sql, layout, extra), {
      ...params,
      ...layout.params,
      fromMs: origin,
      stepMs,
      ...(keys ? { keys } : {}),
    })
    for (const r of rows) {
      objects.set(keyOf(r.account_id, r.object_type, r.object_id), {
        accountId: r.account_id,
        objectType: r.object_type,
        objectId: r.object_id,
        steps: new Map(r.steps.map((step, i) => [step, { last: r.lasts[i]!, at: r.ats[i]! }])),
      })
    }
    return objects
  }
  const found = await read(
    steps.map((s) => s.tail),
    null,
  )
  // per object, the steps whose tail had no reading although the object was read around then
  const wanted = new Map<string, Set<number>>()
  const heads = new Map<number, Span>()
  for (const o of all) {
    if (!inScope(o, scope)) continue
    const key = keyOf(o.accountId, o.objectType, o.objectId)
    const seen = found.get(key)?.steps
    for (const { step, head } of steps) {
      if (head[0] >= head[1] || head[0] > o.lastAt || head[1] <= o.firstAt || seen?.has(step)) continue
      const list = wanted.get(key) ?? new Set<number>()
      wanted.set(key, list.add(step))
      heads.set(step, head)
    }
  }
  if (wanted.size > 0) {
    for (const [key, object] of await read([...heads.values()], [...wanted.keys()])) {
      const list = wanted.get(key)!
      for (const [step, reading] of object.steps) {
        if (!list.has(step)) continue
        const into = found.get(key) ?? { ...object, steps: new Map() }
        found.set(key, into)
        into.steps.set(step, reading)
      }
    }
  }
  return [...found.values()].sort(byObject).map((o) => ({ ...o, steps: [...o.steps].sort(([a], [b]) => a - b).map(([step, { last, at }]) => ({ step, last, at })) }))
}

// ---------------------------------------------------------------------------------------------
// Daily counts and single readings

const DAILY_SQL = (scope: string) => `
SELECT account_id, toUnixTimestamp64Milli(bucket) AS at_ms, sum(value) AS value, count() AS points
FROM
(
    SELECT account_id, bucket, argMaxMerge(last) AS value
    FROM observation_hours
    WHERE ${scope} AND bucket >= {lo:${TIME}} AND bucket < {hi:${TIME}}
    GROUP BY account_id, object_type, object_id, bucket
)
GROUP BY account_id, bucket
ORDER BY account_id, bucket`

export interface DailyValue {
  accountId: string
  /** The start of the day it counts. */
  at: number
  value: number
  /** How many stored values it sums. */
  points: number
}

/** Daily counts whose day starts in [from, to), summed per account and day start. */
async function dailyValues(ch: Rows, scope: Scope, from: number, to: number): Promise<DailyValue[]> {
  const { sql, params } = scopeOf({ ...scope, shape: 'daily' })
  const rows = await ch.rows<{ account_id: string; at_ms: string; value: number; points: string }>(DAILY_SQL(sql), {
    ...params,
    lo: toClickHouseTime(new Date(from)),
    hi: toClickHouseTime(new Date(to)),
  })
  return rows.map((r) => ({ accountId: r.account_id, at: Number(r.at_ms), value: Number(r.value), points: Number(r.points) }))
}

const READINGS_SQL = (scope: string) => `
SELECT account_id, object_id, toUnixTimestamp64Milli(r.1) AS at_ms, argMax(r.3, r.2) AS value
FROM
(
    SELECT account_id, object_type, object_id, arrayJoin(readings) AS r
    FROM observation_readings
    WHERE ${scope} AND bucket >= {lo:${TIME}} AND bucket < {hi:${TIME}}
)
WHERE r.1 >= {lo:${TIME}} AND r.1 < {hi:${TIME}}
GROUP BY account_id, object_type, object_id, r.1
ORDER BY account_id, object_id, at_ms`

/** Every reading in [lo, hi), one per object and instant (the newest collection), ordered by object and time. */
async function readingsIn(ch: Rows, scope: Scope, lo: number, hi: number): Promise<Array<{ accountId: string; objectId: string; at: number; value: number }>> {
  const { sql, params } = scopeOf(scope)
  const rows = await ch.rows<{ account_id: string; object_id: string; at_ms: string; value: number }>(READINGS_SQL(sql), {
    ...params,
    lo: toClickHouseTime(new Date(floorHour(lo))),
    hi: toClickHouseTime(new Date(hi)),
  })
  return rows.map((r) => ({ accountId: r.account_id, objectId: r.object_id, at: Number(r.at_ms), value: Number(r.value) })).filter((r) => r.at >= lo)
}

const DAYS_SQL = (scope: string) => `
SELECT DISTINCT network, account_id, metric, formatDateTime(at, '%F', {tz:String}) AS day
FROM
(
    SELECT network, account_id, metric, arrayJoin([p_first_at, p_last_at]) AS at
    FROM
    (
        SELECT network, account_id, metric, min(first_at) AS p_first_at, max(last_at) AS p_last_at
        FROM observation_hours
        WHERE ${scope} AND bucket >= {lo:${TIME}} AND bucket < {hi:${TIME}} AND bucket NOT IN {edges:Array(${TIME})}
        GROUP BY network, account_id, metric, object_type, object_id, bucket
        UNION ALL
        SELECT network, account_id, metric, r.1, r.1
        FROM
        (
            SELECT network, account_id, metric, arrayJoin(readings) AS r
            FROM observation_readings
            WHERE ${scope} AND hour_of_day IN {edgeHoursOfDay:Array(UInt8)} AND bucket IN {edges:Array(${TIME})}
        )
        WHERE r.1 >= {lo:${TIME}} AND r.1 < {hi:${TIME}}
    )
)`

/**
 * The days (in `timezone`) with a reading in [from, to) of these networks, accounts and metrics.
 * An hour's readings fall on at most two days, those of its first and last reading.
 */
export async function observedDays(ch: Rows, networks: string[], accounts: string[], metrics: string[], from: number, to: number, timezone: string) {
  const sql = `network IN {networks:Array(String)} AND account_id IN {accounts:Array(String)} AND metric IN {metrics:Array(String)}`
  const { edges, edgeHoursOfDay } = layoutOf([[from, to]]).params
  return ch.rows<{ network: string; account_id: string; metric: string; day: string }>(DAYS_SQL(sql), {
    networks,
    accounts,
    metrics,
    tz: timezone,
    lo: toClickHouseTime(new Date(Math.max(0, from))),
    hi: toClickHouseTime(new Date(to)),
    edges,
    edgeHoursOfDay,
  })
}

// ---------------------------------------------------------------------------------------------
// Accounts: how recently each was read (any metric)

/** Accounts of some networks, and the SQL condition that selects their rows (filtered again per pair by the caller). */
const accountsSql = `network IN {networks:Array(String)} AND account_id IN {accounts:Array(String)}`
const accountParams = (accounts: Array<{ network: string; accountId: string }>) => ({
  networks: [...new Set(accounts.map((a) => a.network))].sort(),
  accounts: [...new Set(accounts.map((a) => a.accountId))].sort(),
})

// Per account and metric, the newest reading at or before {at} in the window: whole hours of
// gauges and counters from observation_hours (their last reading), the hour {at} falls in reading
// by reading, daily counts by their instant; and each account's last success from source_health.
// Every part is a range of the tables' sorting keys (network, account, …, bucket).
const RECENT_SQL = `
SELECT network, account_id, metric, toString(shape) AS shape, toUnixTimestamp64Milli(max(t)) AS at_ms
FROM
(
    SELECT network, account_id, metric, shape, max(last_at) AS t
    FROM observation_hours
    WHERE ${accountsSql}
      AND ((shape = 'daily' AND bucket >= {dailySince:${TIME}} AND bucket <= {at:${TIME}})
        OR (shape != 'daily' AND bucket >= {sinceHour:${TIME}} AND bucket < {atHour:${TIME}}))
    GROUP BY network, account_id, metric, shape
    UNION ALL
    SELECT network, account_id, metric, shape, max(r.1) AS t
    FROM
    (
        SELECT network, account_id, metric, shape, arrayJoin(readings) AS r
        FROM observation_readings
        WHERE ${accountsSql} AND shape != 'daily' AND hour_of_day = {hourOfDay:UInt8} AND bucket = {atHour:${TIME}}
    )
    WHERE r.1 <= {at:${TIME}}
    GROUP BY network, account_id, metric, shape
)
GROUP BY network, account_id, metric, shape
UNION ALL
SELECT network, account_id, '' AS metric, 'health' AS shape, if(last_success_at IS NULL, -1, toUnixTimestamp64Milli(assumeNotNull(last_success_at))) AS at_ms
FROM source_health FINAL
WHERE ${accountsSql}`

export interface RecentReadings {
  network: string
  accountId: string
  metrics: Array<{ metric: string; shape: Shape; at: number }>
  lastSuccessAt: number | null
  /** Whether source health has a row for the account (its collections are known), whatever their outcome. */
  healthKnown: boolean
}

/**
 * Per account: its newest reading of each metric at or before `at`, when it is at or after
 * `since` (gauges and counters) or `dailySince` (daily counts); and its last successful
 * collection as source_health has it. One query.
 */
export async function recentReadings(ch: Rows, accounts: Array<{ network: string; accountId: string }>, at: number, since: number, dailySince: number): Promise<RecentReadings[]> {
  if (accounts.length === 0) return []
  const time = (ms: number) => toClickHouseTime(new Date(Math.max(0, ms)))
  const rows = await ch.rows<{ network: string; account_id: string; metric: string; shape: Shape | 'health'; at_ms: string }>(RECENT_SQL, {
    ...accountParams(accounts),
    at: time(at),
    atHour: time(floorHour(at)),
    hourOfDay: new Date(floorHour(at)).getUTCHours(),
    sinceHour: time(floorHour(Math.min(since, at))),
    dailySince: time(dailySince),
  })
  const out = new Map(accounts.map((a) => [`${a.network}\u0000${a.accountId}`, { network: a.network, accountId: a.accountId, metrics: [], lastSuccessAt: null, healthKnown: false } as RecentReadings]))
  for (const r of rows) {
    const entry = out.get(`${r.network}\u0000${r.account_id}`)
    const ms = Number(r.at_ms)
    if (!entry) continue
    if (r.shape === 'health') {
      entry.healthKnown = true
      entry.lastSuccessAt = ms >= 0 ? ms : null
    } else if (ms >= (r.shape === 'daily' ? dailySince : since)) entry.metrics.push({ metric: r.metric, shape: r.shape, at: ms })
  }
  for (const entry of out.values()) entry.metrics.sort((a, b) => (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0))
  return [...out.values()]
}

// Per account: the newest last reading of its objects read at or before {at} only, and the metrics
// of the objects read both before and after it (whose reading just before it is looked up apart).
const LAST_SEEN_SQL = `
SELECT network, account_id, toUnixTimestamp64Milli(maxIf(last_at, last_at <= {at:${TIME}})) AS done_ms, countIf(last_at <= {at:${TIME}}) AS done,
       groupUniqArrayIf(metric, first_at <= {at:${TIME}} AND last_at > {at:${TIME}}) AS open_metrics
FROM
(
    SELECT network, account_id, metric, shape, object_type, object_id, min(first_at) AS first_at, max(last_at) AS last_at
    FROM observation_objects
    WHERE ${accountsSql}
    GROUP BY network, account_id, metric, shape, object_type, object_id
)
GROUP BY network, account_id`

/**
 * Each account's newest reading of any metric at or before `at` (null without one): from
 * observation_objects, and for the objects also read after `at` (a replay of the past) their last
 * reading before it (`lastBefore`, per metric).
 */
export async function lastReadings(ch: Rows, accounts: Array<{ network: string; accountId: string }>, at: number): Promise<Array<{ network: string; accountId: string; at: number | null }>> {
  if (accounts.length === 0) return []
  const rows = await ch.rows<{ network: string; account_id: string; done_ms: string; done: string; open_metrics: string[] }>(LAST_SEEN_SQL, {
    ...accountParams(accounts),
    at: toClickHouseTime(new Date(at)),
  })
  const newest = new Map<string, number>()
  const key = (network: string, accountId: string) => `${network}\u0000${accountId}`
  const later = (k: string, ms: number) => newest.set(k, Math.max(ms, newest.get(k) ?? Number.NEGATIVE_INFINITY))
  const wanted = new Set(accounts.map((a) => key(a.network, a.accountId)))
  const open = new Map<string, Set<string>>()
  for (const r of rows) {
    const k = key(r.network, r.account_id)
    if (!wanted.has(k)) continue
    if (Number(r.done) > 0) later(k, Number(r.done_ms))
    for (const metric of r.open_metrics) {
      const accountsOfMetric = open.get(`${r.network}\u0000${metric}`) ?? new Set<string>()
      open.set(`${r.network}\u0000${metric}`, accountsOfMetric.add(r.account_id))
    }
  }
  for (const [networkMetric, ids] of open) {
    const [network, metric] = networkMetric.split('\u0000') as [string, string]
    const scope: Scope = { network, accountIds: [...ids].sort(), metric }
    const objects = (await objectsOf(ch, scope)).filter((o) => o.firstAt <= at && o.lastAt > at)
    for (const [objectKey, reading] of await lastBefore(ch, scope, objects, at + 1)) later(key(network, objectKey.slice(0, objectKey.indexOf('\u0000'))), reading.at)
  }
  return accounts.map((a) => ({ network: a.network, accountId: a.accountId, at: newest.get(key(a.network, a.accountId)) ?? null }))
}

// ---------------------------------------------------------------------------------------------
// Batching

/** The reads above, over one ClickHouse: `direct` asks each question as it comes. */
export interface Reads {
  objectsOf(scope: Scope): Promise<ObjectInfo[]>
  /** Each object's last reading before `before` (exclusive), keyed account, type and id. */
  lastBefore(scope: Scope, objects: ObjectInfo[], before: number): Promise<Map<string, Reading>>
  counterGains(scope: Scope, from: number, to: number, known: number): Promise<CounterGain[]>
  lastPerStep(scope: Scope, lo: number, hi: number, first: number, stepMs: number, shift?: number): Promise<ObjectSteps[]>
  dailyValues(scope: Scope, from: number, to: number): Promise<DailyValue[]>
  readingsIn(scope: Scope, lo: number, hi: number): Promise<Array<{ accountId: string; objectId: string; at: number; value: number }>>
}

export function directReads(ch: Rows): Reads {
  return {
    objectsOf: (scope) => objectsOf(ch, scope),
    lastBefore: (scope, objects, before) => lastBefore(ch, scope, objects, before),
    counterGains: async (scope, from, to, known) => counterGains(ch, scope, from, to, known, await objectsOf(ch, { ...scope, shape: 'counter' })),
    lastPerStep: async (scope, lo, hi, first, stepMs, shift = 0) => lastPerStep(ch, scope, lo, hi, first, stepMs, shift, await objectsOf(ch, scope)),
    dailyValues: (scope, from, to) => dailyValues(ch, scope, from, to),
    readingsIn: (scope, lo, hi) => readingsIn(ch, scope, lo, hi),
  }
}

/**
 * Reads for one evaluation of many KPIs: each question is asked once for every account the
 * evaluation reads with that network and metric (`accountsOf`), and the answer is kept, so the
 * KPIs that share a network, metric and window (every Page's likes this month; a level and a
 * growth of the same followers) are answered by one query between them, each taking its accounts'
 * rows. Per-object answers do not depend on which other accounts are read, so widening changes
 * no answer. Keep it for one evaluation only: it does not see rows written after it read.
 */
export function batchedReads(ch: Rows, accountsOf: (network: string, metric: string) => string[]): Reads {
  const memo = new Map<string, Promise<unknown>>()
  const once = <T>(key: unknown[], load: () => Promise<T>): Promise<T> => {
    const id = JSON.stringify(key)
    let hit = memo.get(id) as Promise<T> | undefined
    if (!hit) {
      hit = load()
      memo.set(id, hit)
      hit.catch(() => memo.delete(id))
    }
    return hit
  }
  const widen = (scope: Scope): Scope => ({ ...scope, accountIds: [...new Set([...accountsOf(scope.network, scope.metric), ...scope.accountIds])].sort() })
  const shape = (scope: Scope) => [scope.network, scope.metric, scope.shape ?? '', scope.objects ?? 'all', scope.segments ?? []]
  // An answer's rows by account, made once: every KPI of a plan takes its accounts' share of the
  // same answer (20 Pages' likes series are 35,000 rows, read 20 times).
  const byAccount = new WeakMap<object, Map<string, unknown[]>>()
  const mine = <T extends { accountId: string }>(scope: Scope, rows: T[]): T[] => {
    let index = byAccount.get(rows) as Map<string, T[]> | undefined
    if (!index) {
      index = new Map()
      for (const row of rows) {
        const list = index.get(row.accountId)
        if (list) list.push(row)
        else index.set(row.accountId, [row])
      }
      byAccount.set(rows, index)
    }
    if (scope.accountIds.length === 1) return index.get(scope.accountIds[0]!) ?? []
    const wanted = new Set(scope.accountIds)
    return rows.filter((row) => wanted.has(row.accountId))
  }
  // all of a network's and metric's objects, every shape, in one query
  const allObjects = (scope: Scope) => {
    const accountIds = widen(scope).accountIds
    return once(['objects', scope.network, scope.metric, accountIds], () => objectsOf(ch, { network: scope.network, metric: scope.metric, accountIds }))
  }
  const objectsIn = async (scope: Scope) => {
    const wide = widen(scope)
    return (await allObjects(scope)).filter((o) => inScope(o, wide))
  }
  return {
    objectsOf: async (scope) => (await allObjects(scope)).filter((o) => inScope(o, scope)),
    async lastBefore(scope, objects, before) {
      const all = await once(['lastBefore', ...shape(scope), before], async () => lastBefore(ch, widen(scope), await objectsIn(scope), before))
      const result = new Map<string, Reading>()
      for (const o of objects) {
        const key = keyOf(o.accountId, o.objectType, o.objectId)
        const reading = all.get(key)
        if (reading) result.set(key, reading)
      }
      return result
    },
    async counterGains(scope, from, to, known) {
      const counters: Scope = { ...scope, shape: 'counter' }
      return mine(scope, await once(['gains', ...shape(counters), from, to, known], async () => counterGains(ch, widen(counters), from, to, known, await objectsIn(counters))))
    },
    async lastPerStep(scope, lo, hi, first, stepMs, shift = 0) {
      return mine(scope, await once(['steps', ...shape(scope), lo, hi, first, stepMs, shift], async () => lastPerStep(ch, widen(scope), lo, hi, first, stepMs, shift, await objectsIn(scope))))
    },
    async dailyValues(scope, from, to) {
      return mine(scope, await once(['daily', ...shape(scope), from, to], () => dailyValues(ch, widen(scope), from, to)))
    },
    async readingsIn(scope, lo, hi) {
      return mine(scope, await once(['readings', ...shape(scope), lo, hi], () => readingsIn(ch, widen(scope), lo, hi)))
    },
  }
}
