/**
 * The evaluation part of `npm run bench -- --eval` (npm run bench:eval): what a plan's evaluation
 * costs against the size of `observations`, measured in one run on history generated server-side.
 *
 * History: `pages` Facebook Pages with 15-minute rounds (a follower gauge per round, like and click
 * counters of `posts` posts per round) and a daily engagement count per day, generated with
 * INSERT … SELECT … FROM numbers() one day at a time, through the materialized views as the
 * writer's inserts go. KPIs: per Page a follower level (quarter), follower growth (month), likes
 * (month), clicks (week) and engagements (month), evaluated at one fixed instant (evaluatePlan,
 * series and forecasts included) through the production source (kpi/clickhouse-source.ts).
 *
 * Printed: the evaluation of all KPIs against one `SELECT … FROM observations FINAL` scan (ratio),
 * the per-KPI cost with D days of history and again after D more days are added before them
 * (ratio; every KPI's period lies inside the first D days), and bytes per observation.
 */
import { parse as parseYaml } from 'yaml'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import type { ClickHouse } from '../core/clickhouse.ts'
import { toClickHouseTime } from '../core/clickhouse.ts'
import { clickHouseKpiSource } from '../kpi/clickhouse-source.ts'
import { evaluatePlan } from '../kpi/evaluate.ts'
import { parsePlan, type Plan } from '../plan/plan.ts'

export interface EvaluationBenchOptions {
  pages: number
  posts: number
  /** D: days of history before the second measurement doubles it. */
  days: number
  /** Evaluations (and scans) per measurement; the median is reported. */
  repeats: number
}

export interface EvaluationFigures {
  rows: number
  kpis: number
  evaluationSeconds: number
  scanSeconds: number
  perKpiMsAtD: number
  perKpiMsAt2D: number
  bytesPerRow: Array<{ table: string; rows: number; bytes: number }>
}

const ROUND_MS = 15 * 60_000
const DAY_MS = 86_400_000
const ROUNDS_PER_DAY = DAY_MS / ROUND_MS
/** The instant evaluated: 25 Nov 2026, 13:07 in Jakarta; its quarter began 55 days before. */
export const AT = new Date('2026-11-25T06:07:00Z')
const END = Date.parse('2026-11-25T06:00:00Z')

export function benchPlan(repo: string, pages: number): Plan {
  const example = parseYaml(readFileSync(join(repo, 'examples', 'plan.yaml'), 'utf8')) as Record<string, any>
  const ids = Array.from({ length: pages }, (_, p) => `bench-page-${p}`)
  const facebook = {
    ...example.strategy.networks.find((n: { network: string }) => n.network === 'facebook'),
    accounts: ids.map((id, p) => ({ id, name: `Bench Page ${p}`, apiId: `${900000 + p}`, tokenEnv: 'BENCH_TOKEN' })),
  }
  const objective = example.objectives[0].id as string
  const kpi = (id: string, account: string, metric: string, kind: string, period: string, target: number) => ({
    id: `${id}-${account}`,
    name: `${id} ${account}`,
    objective,
    network: 'facebook',
    accounts: [account],
    metric,
    kind,
    target,
    period,
  })
  const kpis = ids.flatMap((account) => [
    kpi('followers-quarter', account, 'followers', 'level', 'quarter', 20_000),
    kpi('follower-growth-month', account, 'followers', 'growth', 'month', 500),
    kpi('likes-month', account, 'likes', 'total', 'month', 100_000),
    kpi('clicks-week', account, 'clicks', 'total', 'week', 20_000),
    kpi('engagements-month', account, 'engagements', 'total', 'month', 50_000),
  ])
  const { crisis: _crisis, reviews: _reviews, ...rest } = example
  return parsePlan({ ...rest, strategy: { ...example.strategy, networks: [facebook] }, kpis, objectives: example.objectives }, 'bench-plan.yaml')
}

/**
 * Rows of rounds [first, first + count) (round 0 is the last one, at END; earlier ones negative):
 * per round and Page one follower reading and two counters per post. Values rise with the round.
 */
const ROUNDS_SQL = `
INSERT INTO observations (network, account_id, object_type, object_id, metric, shape, observed_at, value, object_created_at, source_field, api_version, collected_at)
SELECT 'facebook', concat('bench-page-', toString(page)),
       if(slot = 0, 'account', 'post'),
       if(slot = 0, concat('bench-page-', toString(page)), concat('bench-post-', toString(page), '-', toString(intDiv(slot - 1, 2)))),
       if(slot = 0, 'followers', if((slot - 1) % 2 = 0, 'likes', 'clicks')),
       if(slot = 0, 'gauge', 'counter'),
       at,
       if(slot = 0, 20000 + page * 10 + intDiv(round + 100000, 4), floor((round + 100000) * (1 + (slot % 7)) / 10)),
       if(slot = 0 OR slot % 3 = 0, NULL, toDateTime64({created:String}, 3, 'UTC')),
       'bench', 'v25.0', at
FROM
(
    SELECT number AS n,
           {first:Int64} + toInt64(intDiv(n, {perRound:UInt64})) AS round,
           intDiv(n % {perRound:UInt64}, {slots:UInt64}) AS page,
           n % {slots:UInt64} AS slot,
           toDateTime64({end:String}, 3, 'UTC') + toIntervalMillisecond(round * ${ROUND_MS}) AS at
    FROM numbers({count:UInt64} * {perRound:UInt64})
)`

const DAILY_SQL = `
INSERT INTO observations (network, account_id, object_type, object_id, metric, shape, observed_at, api_day, api_day_zone, value, object_created_at, source_field, api_version, collected_at)
SELECT 'facebook', concat('bench-page-', toString(page)), 'account', concat('bench-page-', toString(page)), 'engagements', 'daily',
       at, toDate(at + toIntervalHour(7)), 'Asia/Jakarta', 500 + (day * 7 + page * 13) % 400, NULL, 'bench', 'v25.0', at + toIntervalDay(1)
FROM
(
    SELECT number AS n, {firstDay:Int64} + toInt64(intDiv(n, {pages:UInt64})) AS day, n % {pages:UInt64} AS page,
           toDateTime64({dayZero:String}, 3, 'UTC') + toIntervalDay(day) AS at
    FROM numbers({days:UInt64} * {pages:UInt64})
)`

async function timed<T>(run: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const start = performance.now()
  const value = await run()
  return { seconds: (performance.now() - start) / 1000, value }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

export async function evaluationBench(ch: ClickHouse, repo: string, options: EvaluationBenchOptions, write: (text: string) => void): Promise<EvaluationFigures> {
  const { pages, posts, days, repeats } = options
  const plan = benchPlan(repo, pages)
  const slots = 1 + 2 * posts
  const perRound = pages * slots
  // Jakarta days start at 17:00 UTC
  const dayZero = toClickHouseTime(new Date(Date.UTC(2026, 10, 24, 17)))
  const generate = async (fromDay: number, toDay: number, label: string) => {
    const started = performance.now()
    for (let day = fromDay; day < toDay; day++) {
      const first = -(days * 2 - day) * ROUNDS_PER_DAY + 1
      await ch.command(ROUNDS_SQL, { first, count: ROUNDS_PER_DAY, perRound, slots, end: toClickHouseTime(new Date(END)), created: toClickHouseTime(new Date(END - 2 * days * DAY_MS - DAY_MS)) })
      const done = day - fromDay + 1
      if (done % 5 === 0 || day === toDay - 1) write(`  ${label}: ${done}/${toDay - fromDay} days generated (${((performance.now() - started) / 1000).toFixed(0)} s)`)
    }
    await ch.command(DAILY_SQL, { firstDay: -(days * 2 - fromDay) + 1, days: toDay - fromDay, pages, dayZero })
  }
  const rowCount = async () => Number((await ch.rows<{ n: string }>('SELECT count() AS n FROM observations'))[0]!.n)
  const source = clickHouseKpiSource(ch)
  const evaluateAll = async () => {
    const runs: number[] = []
    for (let i = 0; i < repeats; i++) runs.push((await timed(() => evaluatePlan(plan, AT, source))).seconds)
    return median(runs)
  }

  write(`\nevaluation bench: ${pages} Pages × ${posts} posts, rounds every 15 min, ${plan.kpis.length} KPIs (level, growth, totals over quarter, month, week), evaluated at ${AT.toISOString()}`)
  // D days: the second half of the 2D span, so that doubling adds older history.
  await generate(days, 2 * days, `D = ${days} days`)
  await settle(ch)
  const rowsAtD = await rowCount()
  await evaluateAll() // warm-up
  const atD = await evaluateAll()
  write(`  D = ${days} days: ${rowsAtD.toLocaleString('en-US')} rows; evaluation of all KPIs ${atD.toFixed(3)} s (median of ${repeats})`)
  await generate(0, days, `2D = ${2 * days} days`)
  await settle(ch)
  const rows = await rowCount()
  await evaluateAll()
  const at2D = await evaluateAll()
  write(`  2D = ${2 * days} days: ${rows.toLocaleString('en-US')} rows; evaluation of all KPIs ${at2D.toFixed(3)} s (median of ${repeats})`)
  const scans: number[] = []
  for (let i = 0; i < repeats; i++) scans.push((await timed(() => ch.rows('SELECT count() AS n, sum(value) AS v FROM observations FINAL'))).seconds)
  const scan = median(scans)
  write(`  one FINAL scan of observations: ${scan.toFixed(3)} s (median of ${repeats})`)
  const parts = await ch.rows<{ table: string; rows: string; bytes: string }>(
    `SELECT table, sum(rows) AS rows, sum(bytes_on_disk) AS bytes FROM system.parts WHERE database = currentDatabase() AND active AND table IN ('observations', 'observation_hours', 'observation_days', 'observation_objects', 'observation_readings') GROUP BY table ORDER BY table`,
  )
  return {
    rows,
    kpis: plan.kpis.length,
    evaluationSeconds: at2D,
    scanSeconds: scan,
    perKpiMsAtD: (atD * 1000) / plan.kpis.length,
    perKpiMsAt2D: (at2D * 1000) / plan.kpis.length,
    bytesPerRow: parts.map((p) => ({ table: p.table, rows: Number(p.rows), bytes: Number(p.bytes) })),
  }
}

/** Waits for the engine's merges to finish (bounded), so that timed runs do not race them. */
async function settle(ch: ClickHouse, timeoutMs = 300_000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (performance.now() < deadline) {
    const [row] = await ch.rows<{ n: string }>('SELECT count() AS n FROM system.merges WHERE database = currentDatabase()')
    if (Number(row!.n) === 0) return
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}
