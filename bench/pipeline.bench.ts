/**
 * `npm run bench`: what the pipeline costs, measured in one run.
 *
 * 1. Points/s through the pipeline's writer (the `observations` BatchingWriter built by
 *    `createWriters`, with the configured batch size and flush interval) against a raw bulk insert
 *    of rows of the same shape through the same client, and their ratio. The writer is fed as the
 *    collect worker feeds it: `--producers` jobs at a time, each handing one account's rows to
 *    `write` in arrays of 100–1,000 rows without waiting, then waiting for all of them.
 * 2. The peak RSS of a collect worker's process: `bench/worker-load.ts` in a child process, which
 *    collects `--worker-accounts` Pages from the Graph API simulator (served from this process)
 *    through the real collect processor and writers into an embedded ClickHouse of its own.
 *
 * Every run writes rows of its own (the account ids carry the run's tag) so that ClickHouse's
 * insert deduplication cannot skip one, and is verified with count() and count() FINAL; a
 * mismatch fails the bench. Before each timed run the engine's merges are left to finish.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, arch, platform, tmpdir, totalmem } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { openClickHouse, type ClickHouse, type ClickHouseClient } from '../core/clickhouse.ts'
import { processClock } from '../core/clock.ts'
import { loadConfig, type Config } from '../core/config.ts'
import { createLogger, type Logger } from '../core/logger.ts'
import { migrate } from '../core/migrations.ts'
import { observationFactory } from '../ingest/collectors/types.ts'
import type { ObservationRow } from '../core/tables.ts'
import { startSimulator } from '../simulator/index.ts'
import { createWriters } from '../core/tables.ts'
import { evaluationBench, type EvaluationFigures } from './evaluation.ts'
import { parseFlags, positive, UsageError, workerLoadResultSchema, type WorkerLoadResult } from './worker-load.ts'

const HELP = `Usage: npm run bench -- [options]
       node bin/run-ts.js bench/pipeline.bench.ts [options]

Measures, in one run, the points/s of the pipeline's ClickHouse writer against a raw bulk insert
of the same kind of rows (and their ratio), and the peak RSS of a collect worker's process.
The writer uses the configured WRITER_BATCH_ROWS and WRITER_FLUSH_MS (defaults 20000 and 1000);
set them in the environment to compare settings. CLICKHOUSE_URL, when set, points the throughput
runs at a ClickHouse server (a database of their own, dropped afterwards); the worker always uses
the embedded engine.

Options:
  --rows N               rows per timed run (default 300000)
  --accounts N           accounts the rows are spread over (default 200)
  --producers N          jobs feeding the writer at a time (default 8)
  --raw-chunk N          rows per raw insert (default 50000)
  --rounds N             writer/raw pairs, alternating which goes first (default 3)
  --worker-accounts N    Pages the worker load collects (default 50)
  --worker-concurrency N jobs at a time in the worker load (default WORKER_CONCURRENCY, 4)
  --skip-worker          leave out the worker load
  --eval                 also the evaluation bench (bench/evaluation.ts; npm run bench:eval):
                         all KPIs against one FINAL scan, per-KPI cost at D and 2D days of
                         history, bytes per observation
  --eval-pages N         Pages of the generated history (default 20)
  --eval-posts N         posts per Page, each with a like and a click counter (default 70)
  --eval-days N          D (default 60; 2D = 120 days: 20 × 70 × 120 days ≈ 32.5M rows)
  --eval-repeats N       evaluations and scans per measurement, median reported (default 3)
  -h, --help             show this help
`

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const WRITE_MIN_ROWS = 100
const WRITE_MAX_ROWS = 1000
const WORKER_TIMEOUT_MS = 300_000

// ---------------------------------------------------------------------------------------------
// Rows

/** Daily and level series of a Page, as the Facebook collector reads them from insights. */
const ACCOUNT_SERIES = [
  { metric: 'followers', sourceField: 'insights.page_follows' },
  { metric: 'engagements', sourceField: 'insights.page_post_engagements' },
  { metric: 'page_actions', sourceField: 'insights.page_total_actions' },
  { metric: 'views', sourceField: 'insights.page_media_view' },
  { metric: 'reactions_anger', sourceField: 'insights.page_actions_post_reactions_total' },
  { metric: 'reactions_sorry', sourceField: 'insights.page_actions_post_reactions_total' },
] as const
/** Counters of one post, as the Facebook collector reads them. */
const POST_METRICS = [
  { metric: 'likes', sourceField: 'reactions.summary.total_count' },
  { metric: 'comments', sourceField: 'comments.summary.total_count' },
  { metric: 'shares', sourceField: 'shares.count' },
  { metric: 'clicks', sourceField: 'insights.post_clicks' },
] as const
/** The collector reads at most 90 days of a series per round. */
const MAX_SERIES_DAYS = 90

/** A small seeded generator, so every run has the same shape. */
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * One round's observations of `accounts` Facebook Pages, `total` rows in all, built by the
 * collector's own row factory: per Page about a fifth are daily insights over the last days (at
 * most 90), the rest are the four counters of its posts at the round's time. Account ids start
 * with `tag`, so each run's rows are distinct and countable. Returns the rows per account.
 */
function observations(tag: string, total: number, accounts: number, roundAt: Date): ObservationRow[][] {
  const next = random(total ^ accounts)
  const dayMs = 86_400_000
  const today = Math.floor(roundAt.getTime() / dayMs) * dayMs
  return Array.from({ length: accounts }, (_, a) => {
    const rows = Math.floor(total / accounts) + (a < total % accounts ? 1 : 0)
    const pageId = String(300_000_000_000_000 + a)
    const observe = observationFactory('facebook', `${tag}-page-${a}`, 'v25.0', roundAt)
    const seriesRows = Math.min(Math.floor(rows / 5), ACCOUNT_SERIES.length * MAX_SERIES_DAYS)
    const out: ObservationRow[] = []
    for (let j = 0; j < seriesRows; j++) {
      const series = ACCOUNT_SERIES[j % ACCOUNT_SERIES.length]!
      const day = Math.floor(j / ACCOUNT_SERIES.length) + 1
      out.push(
        observe({
          objectType: 'account',
          objectId: pageId,
          metric: series.metric,
          observedAt: new Date(today - day * dayMs),
          dayZone: 'UTC',
          value: Math.floor(next() * 5_000),
          sourceField: series.sourceField,
        }),
      )
    }
    for (let j = 0; j < rows - seriesRows; j++) {
      const post = Math.floor(j / POST_METRICS.length)
      const counter = POST_METRICS[j % POST_METRICS.length]!
      out.push(
        observe({
          objectType: 'post',
          objectId: `${pageId}_${1_000_000 + post}`,
          metric: counter.metric,
          observedAt: roundAt,
          value: Math.floor(next() * 2_000),
          objectCreatedAt: new Date(roundAt.getTime() - (post + 1) * 11 * 3_600_000),
          sourceField: counter.sourceField,
        }),
      )
    }
    return out
  })
}

/** Splits one account's rows into the arrays a collector hands to `emit`: 100–1,000 rows each. */
function writesOf(rows: ObservationRow[], next: () => number): ObservationRow[][] {
  const writes: ObservationRow[][] = []
  for (let offset = 0; offset < rows.length; ) {
    const size = WRITE_MIN_ROWS + Math.floor(next() * (WRITE_MAX_ROWS - WRITE_MIN_ROWS + 1))
    writes.push(rows.slice(offset, offset + size))
    offset += size
  }
  return writes
}

// ---------------------------------------------------------------------------------------------
// Throughput runs

interface InsertStats {
  inserts: number
  rows: number
  smallest: number
  largest: number
  /** Time spent inside `client.insert` (serialising the rows and the engine's work). */
  busyMs: number
}

interface RunResult {
  kind: 'writer' | 'raw'
  tag: string
  rows: number
  seconds: number
  stats: InsertStats
}

/** The same ClickHouse, with its client's inserts counted and timed. */
function counted(ch: ClickHouse, stats: InsertStats): ClickHouse {
  const insert: ClickHouseClient['insert'] = async (params) => {
    const started = performance.now()
    try {
      return await ch.client.insert(params)
    } finally {
      stats.busyMs += performance.now() - started
      const rows = Array.isArray(params.values) ? params.values.length : 0
      stats.inserts++
      stats.rows += rows
      stats.smallest = Math.min(stats.smallest, rows)
      stats.largest = Math.max(stats.largest, rows)
    }
  }
  const client = new Proxy(ch.client, {
    get(target, property) {
      if (property === 'insert') return insert
      const value: unknown = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  return { ...ch, client }
}

const newStats = (): InsertStats => ({ inserts: 0, rows: 0, smallest: Infinity, largest: 0, busyMs: 0 })

/**
 * The writer as the collect worker drives it: `producers` jobs at a time; a job hands its
 * account's rows to `write` as they come, then waits for all of them (workers/collect-worker.ts).
 */
async function writerRun(ch: ClickHouse, config: Config, logger: Logger, tag: string, jobs: ObservationRow[][][], producers: number): Promise<RunResult> {
  const stats = newStats()
  const writers = createWriters(counted(ch, stats), { maxRows: config.WRITER_BATCH_ROWS, flushIntervalMs: config.WRITER_FLUSH_MS, logger })
  const rows = jobs.reduce((sum, job) => sum + job.reduce((s, write) => s + write.length, 0), 0)
  const started = performance.now()
  try {
    let next = 0
    await Promise.all(
      Array.from({ length: producers }, async () => {
        for (let i = next++; i < jobs.length; i = next++) {
          const writes = jobs[i]!.map((write) => writers.observations.write(write))
          const failed = (await Promise.allSettled(writes)).find((r): r is PromiseRejectedResult => r.status === 'rejected')
          if (failed) throw failed.reason
        }
      }),
    )
    await writers.close()
  } finally {
    await writers.close().catch(() => undefined)
  }
  const seconds = (performance.now() - started) / 1000
  if (writers.observations.rowsWritten !== rows) throw new Error(`the writer reports ${writers.observations.rowsWritten} rows written, ${rows} were given`)
  return { kind: 'writer', tag, rows, seconds, stats }
}

/** One bulk loader: the same rows in large chunks, one insert after the other. */
async function rawRun(ch: ClickHouse, tag: string, rows: ObservationRow[], chunk: number): Promise<RunResult> {
  const stats = newStats()
  const { client } = counted(ch, stats)
  const started = performance.now()
  for (let offset = 0; offset < rows.length; offset += chunk) {
    await client.insert({
      table: 'observations',
      values: rows.slice(offset, offset + chunk),
      format: 'JSONEachRow',
      // The embedded engine keeps a query's settings in its session, so without this the writer's
      // last insert_deduplication_token would still apply and these inserts would be dropped as
      // duplicates. '' restores the default (deduplication by the block's content).
      clickhouse_settings: { insert_deduplication_token: '' },
    })
  }
  return { kind: 'raw', tag, rows: rows.length, seconds: (performance.now() - started) / 1000, stats }
}

/** Rows of a run as stored: all of them, and after FINAL (a duplicate key would collapse). */
async function verify(ch: ClickHouse, tag: string, expected: number): Promise<string | undefined> {
  const [stored] = await ch.rows<{ total: string; final: string }>(
    `SELECT (SELECT count() FROM observations WHERE startsWith(account_id, {p:String})) AS total,
            (SELECT count() FROM observations FINAL WHERE startsWith(account_id, {p:String})) AS final`,
    { p: `${tag}-page-` },
  )
  const total = Number(stored!.total)
  const final = Number(stored!.final)
  return total === expected && final === expected ? undefined : `run ${tag}: expected ${expected} rows, found ${total} (${final} after FINAL)`
}

/**
 * A full garbage collection, so the previous run's rows are not collected during the next one.
 * `npm run bench` cannot pass --expose-gc, so the flag is set at run time and `gc` is taken from
 * a fresh context, where V8 then installs it.
 */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc')
  ;(runInNewContext('gc') as () => void)()
}

/** Lets the engine's background merges of earlier runs finish, so they do not slow the next one. */
async function settle(ch: ClickHouse, timeoutMs = 30_000): Promise<void> {
  const until = performance.now() + timeoutMs
  while (performance.now() < until) {
    const [merges] = await ch.rows<{ n: string }>('SELECT count() AS n FROM system.merges WHERE database = currentDatabase()')
    if (Number(merges!.n) === 0) return
    await new Promise((r) => setTimeout(r, 100))
  }
}

// ---------------------------------------------------------------------------------------------
// Worker load

/** Runs bench/worker-load.ts in a child process against this process's simulator. */
async function workerLoad(graphUrl: string, accounts: number, concurrency: number | undefined): Promise<WorkerLoadResult> {
  const args = [join(REPO, 'bin', 'run-ts.js'), join(REPO, 'bench', 'worker-load.ts'), '--graph-url', graphUrl, '--accounts', String(accounts)]
  if (concurrency !== undefined) args.push('--concurrency', String(concurrency))
  const child = spawn(process.execPath, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] })
  let stdout = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  const timer = setTimeout(() => child.kill('SIGTERM'), WORKER_TIMEOUT_MS)
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (exitCode) => resolve(exitCode))
  }).finally(() => clearTimeout(timer))
  const line = stdout.trim().split('\n').at(-1) ?? ''
  let parsed: WorkerLoadResult
  try {
    parsed = workerLoadResultSchema.parse(JSON.parse(line))
  } catch (cause) {
    throw new Error(`the worker load exited with ${code} without a result${line ? `: ${line}` : ''}`, { cause })
  }
  if (code !== 0 && parsed.problems.length === 0) parsed.problems.push(`the worker load exited with ${code}`)
  return parsed
}

// ---------------------------------------------------------------------------------------------
// Report

const int = (n: number) => Math.round(n).toLocaleString('en-US')
const fixed = (n: number, digits: number) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })

function table(header: string[], rows: string[][], alignLeft = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) => cells.map((c, i) => (i < alignLeft ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

function sum(runs: RunResult[]) {
  return runs.reduce(
    (s, r) => ({
      rows: s.rows + r.rows,
      seconds: s.seconds + r.seconds,
      inserts: s.inserts + r.stats.inserts,
      insertRows: s.insertRows + r.stats.rows,
      smallest: Math.min(s.smallest, r.stats.smallest),
      largest: Math.max(s.largest, r.stats.largest),
      busyMs: s.busyMs + r.stats.busyMs,
    }),
    { rows: 0, seconds: 0, inserts: 0, insertRows: 0, smallest: Infinity, largest: 0, busyMs: 0 },
  )
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const values = parseFlags({
    rows: { type: 'string', default: '300000' },
    accounts: { type: 'string', default: '200' },
    producers: { type: 'string', default: '8' },
    'raw-chunk': { type: 'string', default: '50000' },
    rounds: { type: 'string', default: '3' },
    'worker-accounts': { type: 'string', default: '50' },
    'worker-concurrency': { type: 'string' },
    'skip-worker': { type: 'boolean', default: false },
    eval: { type: 'boolean', default: false },
    'eval-pages': { type: 'string', default: '20' },
    'eval-posts': { type: 'string', default: '70' },
    'eval-days': { type: 'string', default: '60' },
    'eval-repeats': { type: 'string', default: '3' },
    help: { type: 'boolean', short: 'h', default: false },
  })
  if (values.help) {
    process.stdout.write(HELP)
    return 0
  }
  const rowsPerRun = positive('rows', values.rows)
  const accounts = positive('accounts', values.accounts)
  const producers = positive('producers', values.producers)
  const rawChunk = positive('raw-chunk', values['raw-chunk'])
  const rounds = positive('rounds', values.rounds)
  const workerAccounts = positive('worker-accounts', values['worker-accounts'])
  const workerConcurrency = values['worker-concurrency'] === undefined ? undefined : positive('worker-concurrency', values['worker-concurrency'])
  if (rowsPerRun < accounts) throw new UsageError('--rows must be at least --accounts')
  const evalOptions = values.eval
    ? {
        pages: positive('eval-pages', values['eval-pages']),
        posts: positive('eval-posts', values['eval-posts']),
        days: positive('eval-days', values['eval-days']),
        repeats: positive('eval-repeats', values['eval-repeats']),
      }
    : undefined

  const dataDir = mkdtempSync(join(tmpdir(), 'social-kpi-bench-'))
  const config = loadConfig({ ...process.env, DATA_DIR: dataDir, QUEUE_PREFIX: 'bench' })
  const clock = processClock(config)
  const logger = createLogger({ level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL })
  const database = config.CLICKHOUSE_URL ? `bench_${process.pid}_${Date.now()}` : undefined
  const failures: string[] = []
  let ch: ClickHouse | undefined
  try {
    ch = await openClickHouse({ url: config.CLICKHOUSE_URL, database, dataDir })
    await migrate(ch, logger)
    const [engine] = await ch.rows<{ v: string }>('SELECT version() AS v')
    const cpu = cpus()
    const write = (text: string) => process.stdout.write(`${text}\n`)
    write(`social-kpi pipeline bench`)
    write(`machine: ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, ${platform()} ${arch()}, node ${process.version}`)
    write(`clickhouse: ${ch.mode === 'embedded' ? 'embedded (chdb)' : 'server'} ${engine!.v}`)
    write(
      `writer: batch ${int(config.WRITER_BATCH_ROWS)} rows, flush ${int(config.WRITER_FLUSH_MS)} ms; ${producers} producers, writes of ${WRITE_MIN_ROWS}–${int(WRITE_MAX_ROWS)} rows; ` +
        `raw: chunks of ${int(rawChunk)} rows; ${int(rowsPerRun)} rows over ${accounts} accounts per run, ${rounds} round(s)\n`,
    )

    // A job waits for all its rows; when the rows of all running jobs stay under the batch size,
    // every batch holds them all: the first goes out at once, later ones as the insert before them ends.
    const inFlight = producers * Math.ceil(rowsPerRun / accounts)
    const timerBound =
      inFlight < config.WRITER_BATCH_ROWS
        ? `note: ${producers} producers × ${int(Math.ceil(rowsPerRun / accounts))} rows per job = ${int(inFlight)} rows in flight, under the batch size of ${int(config.WRITER_BATCH_ROWS)}: ` +
          'every batch holds them all (the first goes out at once, later ones as the insert before them ends), so inserts stay that small.'
        : undefined
    if (timerBound) write(`${timerBound}\n`)

    const roundAt = clock()
    const prepare = (tag: string, rowCount: number, accountCount: number) => {
      const perAccount = observations(tag, rowCount, accountCount, roundAt)
      const next = random(accounts)
      return { jobs: perAccount.map((rows) => writesOf(rows, next)), flat: perAccount.flat() }
    }
    const runOnce = async (kind: 'writer' | 'raw', tag: string, rowCount = rowsPerRun, accountCount = accounts): Promise<RunResult> => {
      const data = prepare(tag, rowCount, accountCount)
      await settle(ch!)
      collectGarbage()
      const result = kind === 'writer' ? await writerRun(ch!, config, logger, tag, data.jobs, producers) : await rawRun(ch!, tag, data.flat, rawChunk)
      const problem = await verify(ch!, tag, result.rows)
      if (problem) failures.push(problem)
      return result
    }

    // Warm-up: both paths once, on rows of their own, untimed; a third of a run (the first timed
    // run was still slow after 20,000 rows), with 2,000 rows per account so that the writer
    // flushes on size rather than waiting for its timer.
    const warmRows = Math.ceil(rowsPerRun / 3)
    const warmAccounts = Math.max(1, Math.min(accounts, Math.floor(warmRows / 2_000)))
    await runOnce('writer', 'warm-w', warmRows, warmAccounts)
    await runOnce('raw', 'warm-r', warmRows, warmAccounts)

    const runs: RunResult[] = []
    for (let round = 1; round <= rounds; round++) {
      const order: Array<'writer' | 'raw'> = round % 2 === 1 ? ['writer', 'raw'] : ['raw', 'writer']
      for (const kind of order) {
        const result = await runOnce(kind, `${kind === 'writer' ? 'w' : 'r'}${round}`)
        runs.push(result)
        write(
          `round ${round} ${kind.padEnd(6)} ${int(result.rows).padStart(11)} rows  ${fixed(result.seconds, 2).padStart(7)} s  ${int(result.rows / result.seconds).padStart(9)} points/s` +
            `  ${int(result.stats.inserts).padStart(5)} inserts`,
        )
      }
    }

    let worker: WorkerLoadResult | undefined
    if (!values['skip-worker']) {
      const sim = await startSimulator({ now: clock })
      try {
        worker = await workerLoad(sim.url, workerAccounts, workerConcurrency)
      } finally {
        await sim.close()
      }
      failures.push(...worker.problems.map((p) => `worker load: ${p}`))
    }

    // The evaluation bench, in a database of its own on the same engine.
    let evaluation: EvaluationFigures | undefined
    if (evalOptions) {
      const evalDb = await openClickHouse({ url: config.CLICKHOUSE_URL, database: `bench_eval_${process.pid}_${Date.now()}`, dataDir })
      try {
        await migrate(evalDb, logger)
        evaluation = await evaluationBench(evalDb, REPO, evalOptions, write)
      } finally {
        await evalDb.command(`DROP DATABASE IF EXISTS ${evalDb.database}`).catch(() => undefined)
        await evalDb.close().catch(() => undefined)
      }
    }

    const writer = sum(runs.filter((r) => r.kind === 'writer'))
    const raw = sum(runs.filter((r) => r.kind === 'raw'))
    const writerRate = writer.rows / writer.seconds
    const rawRate = raw.rows / raw.seconds
    const detail = (s: ReturnType<typeof sum>) =>
      `${int(s.inserts)} inserts of ${int(s.insertRows / s.inserts)} rows (${int(s.smallest)}–${int(s.largest)}); inside insert ${fixed((s.busyMs / 1000 / s.seconds) * 100, 0)} % of the time`
    const rows: string[][] = [
      ['writer (BatchingWriter)', int(writer.rows), fixed(writer.seconds, 2), int(writerRate), fixed(writerRate / rawRate, 2), '', detail(writer)],
      ['raw bulk insert', int(raw.rows), fixed(raw.seconds, 2), int(rawRate), '1.00', '', detail(raw)],
    ]
    if (worker) {
      rows.push([
        `worker load (${worker.accounts} Pages)`,
        int(worker.observations),
        fixed(worker.seconds, 2),
        int(worker.observationsPerSecond),
        '',
        // The kernel's high-water mark; sampling can miss a short peak.
        fixed(Math.max(worker.maxRssMb, worker.peakRssMb), 0),
        `${fixed(worker.accountsPerSecond, 1)} accounts/s at concurrency ${worker.concurrency}; RSS ${fixed(worker.rssBaselineMb, 0)} MB with the engine open, ` +
          `sampled peak ${fixed(worker.peakRssMb, 0)} MB (every ${worker.sampleMs} ms)`,
      ])
    }
    const perRound = Array.from({ length: rounds }, (_, i) => {
      const w = runs.find((r) => r.kind === 'writer' && r.tag === `w${i + 1}`)!
      const r = runs.find((r) => r.kind === 'raw' && r.tag === `r${i + 1}`)!
      return w.rows / w.seconds / (r.rows / r.seconds)
    })
    const median = [...perRound].sort((a, b) => a - b)[Math.floor(perRound.length / 2)]!
    write('')
    write(table(['run', 'rows', 'seconds', 'points/s', 'ratio', 'peak RSS MB', 'notes'], rows))
    write(`\nratio = writer points/s ÷ raw points/s over all ${rounds} round(s) of this run; per round: ${perRound.map((r) => fixed(r, 2)).join(', ')} (median ${fixed(median, 2)}).`)
    if (timerBound) write(timerBound)
    if (evaluation) {
      const e = evaluation
      const observations = e.bytesPerRow.find((t) => t.table === 'observations')
      const rollupBytes = e.bytesPerRow.filter((t) => t.table !== 'observations').reduce((n, t) => n + t.bytes, 0)
      const goal = (ok: boolean) => (ok ? 'met' : 'NOT met')
      write('')
      write(
        table(
          ['figure', 'measured', 'ratio', 'goal'],
          [
            [
              `evaluation of ${e.kpis} KPIs vs one FINAL scan (${int(e.rows)} rows)`,
              `${fixed(e.evaluationSeconds, 3)} s vs ${fixed(e.scanSeconds, 3)} s`,
              fixed(e.evaluationSeconds / e.scanSeconds, 3),
              `≤ 0.2: ${goal(e.evaluationSeconds / e.scanSeconds <= 0.2)}`,
            ],
            [
              `per-KPI cost, 2D vs D days of history`,
              `${fixed(e.perKpiMsAt2D, 2)} ms vs ${fixed(e.perKpiMsAtD, 2)} ms`,
              fixed(e.perKpiMsAt2D / e.perKpiMsAtD, 3),
              `≤ 1.15: ${goal(e.perKpiMsAt2D / e.perKpiMsAtD <= 1.15)}`,
            ],
            [`writer vs raw bulk insert`, `${int(writerRate)} vs ${int(rawRate)} points/s`, fixed(writerRate / rawRate, 2), `≥ 0.8: ${goal(writerRate / rawRate >= 0.8)}`],
            ...e.bytesPerRow.map((t) => [`bytes per observation: ${t.table}`, `${int(t.bytes)} bytes, ${int(t.rows)} rows`, fixed(t.bytes / e.rows, 2), '']),
            [`bytes per observation: raw + rollups`, `${int((observations?.bytes ?? 0) + rollupBytes)} bytes`, fixed(((observations?.bytes ?? 0) + rollupBytes) / e.rows, 2), ''],
          ],
        ),
      )
    }
    if (failures.length > 0) {
      write(`\nVERIFICATION FAILED:\n${failures.map((f) => `  - ${f}`).join('\n')}`)
      return 1
    }
    write('verified: every run stored exactly its rows (count() and count() FINAL).')
    return 0
  } finally {
    if (ch && database) await ch.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined)
    await ch?.close().catch(() => undefined)
    rmSync(dataDir, { recursive: true, force: true })
  }
}

try {
  process.exitCode = await main()
} catch (error) {
  if (error instanceof UsageError) {
    process.stderr.write(`bench: ${error.message} (see --help)\n`)
    process.exitCode = 2
  } else {
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exitCode = 1
  }
}
