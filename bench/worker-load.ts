/**
 * A collect worker's load in a process of its own, for `bench/pipeline.bench.ts` (which spawns it
 * and reads its peak RSS): the embedded ClickHouse in a temporary data directory, migrations, the
 * batching writers and the real collect processor (`workers/collect-worker.ts`) fed by the real
 * Facebook collector against the Graph API simulator. Only BullMQ and Redis are left out: jobs are
 * handed to the processor directly, `--concurrency` at a time, as a BullMQ worker would.
 *
 * Prints one JSON line (`WorkerLoadResult`) on stdout; logs go to stderr. Exits non-zero when the
 * rows stored differ from the rows collected. The bench imports its result schema and flag
 * helpers; the load itself runs only when this file is the script being run.
 *
 *   node bin/run-ts.js bench/worker-load.ts [--graph-url URL] [--accounts 50] [--concurrency N]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import type { Job } from 'bullmq'
import { z } from 'zod'
import { openClickHouse, type ClickHouse } from '../core/clickhouse.ts'
import { processClock } from '../core/clock.ts'
import { loadConfig } from '../core/config.ts'
import { openCredentials } from '../ingest/auth/index.ts'
import { createLogger } from '../core/logger.ts'
import { migrate } from '../core/migrations.ts'
import { createCollectors } from '../ingest/collectors/index.ts'
import { parsePlan, planAccounts } from '../plan/plan.ts'
import { startSimulator, type RunningSimulator } from '../simulator/index.ts'
import { createCollectProcessor, type CollectResult } from '../workers/collect-worker.ts'
import { createWriters, type Writers } from '../core/tables.ts'

const HELP = `Usage: node bin/run-ts.js bench/worker-load.ts [options]

Collects --accounts Facebook Pages from the Graph API simulator through the real collect
processor and writers into a fresh embedded ClickHouse, and prints one JSON line with the
process's peak RSS, accounts/s and observations/s.

Options:
  --graph-url URL       a running simulator (default: start one in this process)
  --accounts N          Pages to collect (default 50)
  --concurrency N       jobs at a time (default WORKER_CONCURRENCY, 4)
  --lookback-days N     days of insights re-read per round (default 28, the plan default)
  --sample-ms N         RSS sampling interval (default 10)
  -h, --help            show this help
`

/** What this script prints on stdout, as one JSON line. */
export const workerLoadResultSchema = z.object({
  accounts: z.number(),
  concurrency: z.number(),
  observations: z.number(),
  seconds: z.number(),
  accountsPerSecond: z.number(),
  observationsPerSecond: z.number(),
  /** RSS once the engine is open and migrated, before collecting. */
  rssBaselineMb: z.number(),
  /** The highest RSS sampled every `sampleMs`. */
  peakRssMb: z.number(),
  /** The kernel's high-water mark of RSS for the whole process. */
  maxRssMb: z.number(),
  sampleMs: z.number(),
  simulatorInProcess: z.boolean(),
  /** Verification failures; empty when every collected row was stored. */
  problems: z.array(z.string()),
})
export type WorkerLoadResult = z.infer<typeof workerLoadResultSchema>

/** A mistake in the command line: reported in one line, with exit code 2. */
export class UsageError extends Error {}

/** Reads a whole positive number from a flag. */
export function positive(name: string, value: string | undefined): number {
  const n = Number(value)
  if (value === undefined || value.trim() === '' || !Number.isInteger(n) || n <= 0) throw new UsageError(`--${name} must be a whole number above 0, not "${value}"`)
  return n
}

/** parseArgs, with its complaints (unknown flag, missing value) as usage errors. */
export function parseFlags<T extends ParseArgsConfig['options']>(options: T) {
  try {
    return parseArgs({ options, strict: true }).values
  } catch (error) {
    if (typeof (error as NodeJS.ErrnoException).code === 'string' && (error as NodeJS.ErrnoException).code!.startsWith('ERR_PARSE_ARGS_')) throw new UsageError((error as Error).message)
    throw error
  }
}

async function main(): Promise<number> {
  const values = parseFlags({
    'graph-url': { type: 'string' },
    accounts: { type: 'string', default: '50' },
    concurrency: { type: 'string' },
    'lookback-days': { type: 'string', default: '28' },
    'sample-ms': { type: 'string', default: '10' },
    help: { type: 'boolean', short: 'h', default: false },
  })
  if (values.help) {
    process.stdout.write(HELP)
    return 0
  }

  // RSS is sampled from the very start, so the peak includes opening the engine.
  const sampleMs = positive('sample-ms', values['sample-ms'])
  let peakRss = process.memoryUsage.rss()
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss())
  }, sampleMs)

  const dataDir = mkdtempSync(join(tmpdir(), 'social-kpi-worker-load-'))
  let ch: ClickHouse | undefined
  let writers: Writers | undefined
  let sim: RunningSimulator | undefined
  try {
    const accounts = positive('accounts', values.accounts)
    const lookbackDays = positive('lookback-days', values['lookback-days'])
    if (lookbackDays > 90) throw new UsageError('--lookback-days must be 90 or less')
    // The bench's own engine and temporary data; the rest of the environment (batch size, flush
    // interval, concurrency, timeouts) is the worker's usual configuration.
    const loaded = loadConfig({ ...process.env, DATA_DIR: dataDir, CLICKHOUSE_URL: '', QUEUE_PREFIX: 'bench' })
    const clock = processClock(loaded)
    sim = values['graph-url'] ? undefined : await startSimulator({ now: clock })
    const config = { ...loaded, FACEBOOK_GRAPH_URL: values['graph-url'] ?? sim!.url }
    const concurrency = values.concurrency === undefined ? config.WORKER_CONCURRENCY : positive('concurrency', values.concurrency)
    const logger = createLogger({ level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL })

    ch = await openClickHouse({ dataDir })
    await migrate(ch, logger)
    writers = createWriters(ch, { maxRows: config.WRITER_BATCH_ROWS, flushIntervalMs: config.WRITER_FLUSH_MS, logger })
    const rssBaseline = process.memoryUsage.rss()

    // Any numeric id is a Page in the simulator; each Page has its own token, as Page tokens are.
    const plan = parsePlan(
      {
        company: { name: 'Bench' },
        objectives: [{ id: 'reach', name: 'Reach' }],
        strategy: {
          networks: [
            {
              network: 'facebook',
              accounts: Array.from({ length: accounts }, (_, i) => ({ id: `page-${i}`, name: `Page ${i}`, apiId: String(200_000_000_000_000 + i), tokenEnv: `BENCH_TOKEN_${i}` })),
            },
          ],
        },
        collection: { lookbackDays },
        kpis: [{ id: 'followers', name: 'Followers', objective: 'reach', network: 'facebook', metric: 'followers', kind: 'level', target: 1, period: 'month' }],
        alerting: { recipients: ['bench@example.com'] },
      },
      'bench plan',
    )
    const processJob = createCollectProcessor({
      plan,
      ch,
      writers,
      collectors: createCollectors(config),
      credentials: openCredentials({ config: { ...config, secret: (name: string) => `bench-token-${name.toLowerCase()}` }, plan, now: clock, logger }),
      lookbackDays: plan.collection.lookbackDays,
      now: clock,
      logger: logger.child({ module: 'collect' }),
    })

    // One millisecond past a whole second: the round time never equals an insights day boundary
    // (a PT midnight), so no two collected rows share a key and count() FINAL must equal the rows
    // collected.
    const roundAt = new Date(Math.floor(clock().getTime() / 1000) * 1000 + 1)
    const jobs = planAccounts(plan).map((account) => ({ data: { roundAt: roundAt.toISOString(), network: account.network, accountId: account.id } }) as unknown as Job)
    const results: CollectResult[] = []
    const started = performance.now()
    let next = 0
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = next++; i < jobs.length; i = next++) results.push(await processJob(jobs[i]!))
      }),
    )
    await writers.flush()
    const seconds = (performance.now() - started) / 1000
    clearInterval(sampler)
    peakRss = Math.max(peakRss, process.memoryUsage.rss())

    const collected = results.reduce((sum, r) => sum + (r.status === 'collected' ? r.summary.observations : 0), 0)
    const unhealthy = results.filter((r) => r.status !== 'collected').length
    const [stored] = await ch.rows<{ total: string; final: string }>('SELECT (SELECT count() FROM observations) AS total, (SELECT count() FROM observations FINAL) AS final')
    const [healthy] = await ch.rows<{ n: string }>("SELECT count() AS n FROM source_health FINAL WHERE status = 'healthy'")
    const problems: string[] = []
    if (unhealthy > 0) problems.push(`${unhealthy} of ${accounts} accounts were not collected`)
    if (collected === 0) problems.push('no observations were collected')
    if (Number(stored!.total) !== collected || Number(stored!.final) !== collected) problems.push(`collected ${collected} observations, stored ${stored!.total} (${stored!.final} after FINAL)`)
    if (writers.observations.rowsWritten !== collected) problems.push(`the writer reports ${writers.observations.rowsWritten} rows written, the collector ${collected}`)
    if (Number(healthy!.n) !== accounts) problems.push(`${healthy!.n} of ${accounts} accounts are recorded healthy`)

    const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10
    const result: WorkerLoadResult = {
      accounts,
      concurrency,
      observations: collected,
      seconds,
      accountsPerSecond: accounts / seconds,
      observationsPerSecond: collected / seconds,
      rssBaselineMb: mb(rssBaseline),
      peakRssMb: mb(peakRss),
      // maxRSS is in kilobytes.
      maxRssMb: mb(process.resourceUsage().maxRSS * 1024),
      sampleMs,
      simulatorInProcess: sim !== undefined,
      problems,
    }
    process.stdout.write(`${JSON.stringify(result)}\n`)
    return problems.length === 0 ? 0 : 1
  } finally {
    clearInterval(sampler)
    await writers?.close().catch(() => undefined)
    await ch?.close().catch(() => undefined)
    await sim?.close().catch(() => undefined)
    rmSync(dataDir, { recursive: true, force: true })
  }
}

// Runs only as a script: bench/pipeline.bench.ts imports the result schema and flag helpers.
if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) {
  try {
    process.exitCode = await main()
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`worker-load: ${error.message} (see --help)\n`)
      process.exitCode = 2
    } else {
      process.stderr.write(`worker-load: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
      process.exitCode = 1
    }
  }
}
