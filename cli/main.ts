import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { userInfo } from 'node:os'
import { Command, Option } from 'commander'
import { DateTime } from 'luxon'
import type { SingleBar } from 'cli-progress'
import type { SilenceStore } from '../alerts/silences.ts'
import type { ClickHouse } from '../core/clickhouse.ts'
import { processClock, type Clock } from '../core/clock.ts'
import { loadConfig, makeDataDir, type Config } from '../core/config.ts'
import { PlanError, SocialKpiError } from '../core/errors.ts'
import { createLogger, createScrubber, scrubSecrets, type Logger, type Scrubber } from '../core/logger.ts'
import type { PrivateRedis } from '../core/redis.ts'
import { loadPlan, planAccounts, type Plan } from '../kpi/plan.ts'
import type { RunningSimulator } from '../simulator/index.ts'
import { registerCredentialCommands } from './commands/credentials.ts'
import { registerReportCommand } from './commands/report.ts'
import type { AdminServer } from './admin-server.ts'
import type { OpsServer } from './ops-server.ts'
import type { Runtime } from './runtime.ts'
import { processScrubber } from './scrubber.ts'

// Only what every command needs is imported above: the plan, the environment, errors and logs.
// The rest (the embedded engine, queues and workers, collectors, the simulator) is imported by
// the commands that use it, so `plan validate`, `--help`, `connect` and `accounts` start in a
// fraction of the time and memory (test/integration/edge-errors.test.ts checks that the engine
// stays out of `plan validate`).

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const DEMO_PLAN = join(ROOT, 'examples', 'plan.yaml')
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }

interface Setup {
  config: Config
  /** The process clock (CLOCK_START, or the system clock), passed to everything that asks the time. */
  clock: Clock
  logger: Logger
  /** Knows every secret of the process; the logger's, the runtime's and the mailer's. */
  scrub: Scrubber
  plan: Plan
  planFile: string
  demo?: RunningSimulator
  close(): Promise<void>
}

const out = (line = '') => process.stdout.write(`${line}\n`)
const color = process.stdout.isTTY === true

/**
 * Reads the environment and the plan. Without --plan this is the demo: the example plan, served
 * by the built-in API simulator on loopback, with demo tokens.
 */
async function setup(planFile: string | undefined, options: { needsSimulator: boolean }): Promise<Setup> {
  const env: NodeJS.ProcessEnv = { ...process.env }
  let demo: RunningSimulator | undefined
  const file = planFile ?? DEMO_PLAN
  if (!planFile) {
    env.LOG_LEVEL ||= 'warn'
    env.DATA_DIR ||= './data/demo'
  }
  const plan = await loadPlan(file)
  let config = loadConfig(env)
  const clock = processClock(config)
  if (!planFile && options.needsSimulator) {
    const { simulatorEnvironment, startSimulator } = await import('../simulator/index.ts')
    // The simulated world runs on the same clock as the collectors and the evaluation.
    demo = await startSimulator({ now: clock })
    Object.assign(env, simulatorEnvironment(demo.url))
    for (const account of planAccounts(plan)) if (account.tokenEnv) env[account.tokenEnv] ||= `demo-token-${account.id}`
    out(`DEMO — no --plan given: using ${file} and the API simulator at ${demo.url}`)
    out('       (see README: "Point it at real accounts" to use your own plan)')
    try {
      config = loadConfig(env)
    } catch (error) {
      await demo.close()
      throw error
    }
  }
  const scrub = processScrubber(config, plan)
  const logger = createLogger({ level: config.LOG_LEVEL, scrub })
  return {
    config,
    clock,
    logger,
    scrub,
    plan,
    planFile: file,
    demo,
    async close() {
      await demo?.close()
    },
  }
}

/**
 * SIGINT/SIGTERM, from the first moment a command runs: the first one asks to stop (`stopped`
 * resolves, `abort` aborts start-up), a second one ends the process at once, and so does a stop
 * that takes longer than `graceMs` (every step is bounded; this bounds what is not).
 */
interface StopRequest {
  signal?: string
  stopped: Promise<string>
  abort: AbortSignal
  graceMs: number
}

function watchSignals(): StopRequest {
  const controller = new AbortController()
  let resolveStopped!: (signal: string) => void
  const request: StopRequest = { stopped: new Promise((resolve) => (resolveStopped = resolve)), abort: controller.signal, graceMs: 30_000 }
  const onSignal = (signal: NodeJS.Signals) => {
    if (request.signal) {
      process.stderr.write(`${signal} again: exiting now\n`)
      process.exit(130)
    }
    request.signal = signal
    setTimeout(() => {
      process.stderr.write(`error: could not stop within ${request.graceMs} ms of ${signal}; exiting\n`)
      process.exit(1)
    }, request.graceMs).unref()
    controller.abort(new SocialKpiError('CONFIG_INVALID', `stopped by ${signal}`))
    resolveStopped(signal)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return request
}

/** Resolves on SIGINT/SIGTERM; a second signal ends the process at once. */
function untilSignal(): Promise<string> {
  return watchSignals().stopped
}

/** A progress bar on stderr when it is a terminal; none otherwise (logs and pipes stay clean). */
async function progressBar(format: string): Promise<SingleBar | undefined> {
  if (!process.stderr.isTTY) return undefined
  const { SingleBar, Presets } = await import('cli-progress')
  return new SingleBar({ format, hideCursor: true }, Presets.shades_classic)
}

/** Runs one collection round through the queue and waits for its evaluation, with a progress bar. */
async function runRound(runtime: Runtime, plan: Plan, config: Config, clock: Clock): Promise<void> {
  const { enqueueRound, roundTimeFor } = await import('../ingest/scheduler.ts')
  const { waitForIdle, waitForJob } = await import('./wait.ts')
  const { evaluateAndAlert } = await import('../workers/evaluate-worker.ts')
  const { formatKpiTable } = await import('./kpi-table.ts')
  const roundAt = roundTimeFor(plan.collection.schedule, clock(), plan.company.timezone)
  const round = await enqueueRound(runtime.queues, plan, roundAt)
  const bar = await progressBar('collecting {bar} {value}/{total} accounts')
  bar?.start(round.collectJobIds.length, 0)
  const result = await waitForJob(runtime.queues.evaluate, round.evaluateJobId, {
    timeoutMs: 10 * 60_000,
    onPoll: async () => {
      if (!bar) return
      const states = await Promise.all(round.collectJobIds.map(async (id) => (await runtime.queues.collect.getJob(id))?.getState()))
      bar.update(states.filter((s) => s === 'completed' || s === 'failed').length)
    },
  })
  bar?.update(round.collectJobIds.length)
  bar?.stop()
  await waitForIdle(runtime.queues.notify, 60_000)
  if (result.state === 'failed') throw new SocialKpiError('API_REQUEST_FAILED', `the round's evaluation failed: ${result.reason}`)
  const ch = runtime.ch!
  const [points] = await ch.rows<{ n: string }>(
    'SELECT count() AS n FROM observations FINAL WHERE collected_at >= {since:DateTime64(3)}',
    { since: roundAt.toISOString().replace('T', ' ').replace('Z', '') },
  )
  const health = await ch.rows<{ network: string; account_id: string; status: string; last_error_code: string }>('SELECT network, account_id, status, last_error_code FROM source_health FINAL ORDER BY network, account_id')
  out(`\nRound ${roundAt.toISOString()}: ${points?.n ?? 0} observations stored (table observations, view metrics_daily).`)
  for (const h of health) out(`  ${h.network}/${h.account_id}: ${h.status}${h.last_error_code ? ` (${h.last_error_code})` : ''}`)
  const evaluations = await evaluateAndAlert({ ...runtime.evaluateDeps!, logger: createLogger({ level: 'silent' }) }, roundAt)
  out(`\nKPIs as of ${roundAt.toISOString()} (table kpi_evaluations):\n`)
  out(formatKpiTable(evaluations, { color }))
  await waitForIdle(runtime.queues.notify, 60_000)
  const sent = await ch.rows<{ subject: string; delivered_to: string; delivery: string }>(
    'SELECT subject, delivered_to, delivery FROM alert_notifications FINAL ORDER BY decided_at DESC, notification_id LIMIT 20',
  )
  out(`\nAlert emails (${config.SMTP_URL ? `SMTP ${new URL(config.SMTP_URL).host}` : `no SMTP_URL: written as .eml files`}):`)
  if (sent.length === 0) out('  none so far')
  for (const s of sent) out(`  ${s.delivery === 'sent' ? '✉' : '✗'} ${s.subject}\n      → ${s.delivered_to}`)
}

/** The embedded engine's data directory belongs to one process: say so plainly instead of failing deep in chdb. */
async function assertDataDirFree(config: Config, workers: boolean): Promise<void> {
  if (config.CLICKHOUSE_URL || !workers) return
  const { findAdminServer } = await import('./admin-server.ts')
  if ((await findAdminServer(config.dataDir)) !== undefined) {
    const { dataDirInUse } = await import('../core/clickhouse.ts')
    throw dataDirInUse(config.dataDir)
  }
}

/**
 * Where alert emails go, checked before the work starts: the mail server at SMTP_URL must answer
 * and take the login (nothing is sent), or DATA_DIR/outbox must be a directory we can write. A
 * process that could not deliver an alert says so now, in one line, and does not start; a mail
 * server that fails later is the notify queue's business (retries, then "not delivered" in status).
 */
async function checkAlertDelivery(config: Config, signal: AbortSignal): Promise<void> {
  if (!config.SMTP_URL) {
    makeDataDir(config.dataDir)
    makeDataDir(config.dataDir, 'outbox')
    return
  }
  const { verifySmtp } = await import('../alerts/mailer.ts')
  await verifySmtp(config.SMTP_URL, { timeoutMs: config.HTTP_TIMEOUT_MS, signal })
}

interface Running {
  ctx: Setup
  runtime: Runtime
  privateRedis?: PrivateRedis
  admin?: AdminServer
  stop: StopRequest
}

/**
 * The life of a process that runs workers or schedules: start-up step by step, `work`, then what
 * was opened closed in reverse. A failed step closes what is open and rethrows (one line from
 * main); a signal during start-up lets no further step start and aborts the one under way.
 */
async function withRuntime(planFile: string | undefined, roles: { scheduler: boolean; workers: boolean; admin: boolean }, work: (running: Running) => Promise<void>): Promise<{ stoppedBy?: string }> {
  const stop = watchSignals()
  const ctx = await setup(planFile, { needsSimulator: roles.workers })
  stop.graceMs = ctx.config.SHUTDOWN_TIMEOUT_MS + 10_000
  let privateRedis: PrivateRedis | undefined
  let runtime: Runtime | undefined
  let admin: AdminServer | undefined
  let ops: OpsServer | undefined
  try {
    await assertDataDirFree(ctx.config, roles.workers)
    const { ensureRedis } = await import('../core/redis.ts')
    if (!stop.signal) privateRedis = await ensureRedis(ctx.config.REDIS_URL, { dataDir: ctx.config.dataDir, allowPrivate: ctx.config.START_PRIVATE_REDIS, logger: ctx.logger })
    if (!stop.signal && roles.workers) await checkAlertDelivery(ctx.config, stop.abort)
    if (!stop.signal) {
      const { startRuntime } = await import('./runtime.ts')
      runtime = await startRuntime({ config: ctx.config, plan: ctx.plan, logger: ctx.logger, scrub: ctx.scrub, scheduler: roles.scheduler, workers: roles.workers, now: ctx.clock, signal: stop.abort })
    }
    if (!stop.signal && roles.admin && runtime?.ch?.mode === 'embedded') {
      admin = await (await import('./admin-server.ts')).startAdminServer({ ch: runtime.ch, port: ctx.config.ADMIN_PORT, dataDir: ctx.config.dataDir, logger: ctx.logger, registry: runtime.telemetry.registry, queues: runtime.queues })
    }
    // The ops listener belongs to long-running processes (start, scheduler, worker), as the admin endpoint does.
    if (!stop.signal && roles.admin && runtime && ctx.config.METRICS_PORT !== undefined) {
      const { startOpsServer } = await import('./ops-server.ts')
      const { METRICS_HOST: host, METRICS_PORT: port, METRICS_TOKEN: token } = ctx.config
      ops = await startOpsServer({ host, port, token, registry: runtime.telemetry.registry, readiness: runtime.readiness, logger: ctx.logger.child({ module: 'ops' }) })
    }
    if (!stop.signal && runtime) await work({ ctx, runtime, privateRedis, admin, stop })
  } catch (error) {
    // Aborted by the signal: that is the stop asked for, not a failure.
    if (!stop.signal) throw error
  } finally {
    if (stop.signal) out(`\n${stop.signal}: stopping (finishing active jobs, flushing writes)…`)
    await admin?.close()
    // Closed after the runtime: /readyz answers 503 while the workers finish.
    await runtime?.shutdown()
    await ops?.close()
    await privateRedis?.stop()
    await ctx.close()
  }
  return { stoppedBy: stop.signal }
}

async function runService(planFile: string | undefined, roles: { scheduler: boolean; workers: boolean; firstRound: boolean }) {
  await withRuntime(planFile, { ...roles, admin: true }, async ({ ctx, runtime, privateRedis, admin, stop }) => {
    out(`social-kpi ${version}: plan "${ctx.plan.company.name}" (${ctx.planFile}), ${planAccounts(ctx.plan).length} accounts, ${ctx.plan.kpis.length} KPIs`)
    out(`  Redis ${new URL(ctx.config.REDIS_URL).host}${privateRedis ? ' (private, started for this run)' : ''}; ClickHouse ${runtime.ch ? (runtime.ch.mode === 'embedded' ? `embedded, ${ctx.config.dataDir}/clickhouse` : 'server') : 'not used by the scheduler'}`)
    if (roles.firstRound) {
      const round = runRound(runtime, ctx.plan, ctx.config, ctx.clock)
      // Left behind by a signal, the round fails once the runtime is shut down: nobody waits for it then.
      round.catch(() => undefined)
      await Promise.race([round, stop.stopped])
    }
    if (stop.signal) return
    if (roles.scheduler) out(`\nRunning: collection "${ctx.plan.collection.schedule}", evaluation "${ctx.plan.collection.evaluateSchedule}" (${ctx.plan.company.timezone}). Ctrl-C to stop.`)
    else out('\nWorking on the queues. Ctrl-C to stop.')
    if (admin) out(`Analysts: npx social-kpi sql "SELECT * FROM metrics_daily LIMIT 10"${ctx.config.DATA_DIR === './data' ? '' : ` (with DATA_DIR=${ctx.config.DATA_DIR})`}`)
    await stop.stopped
  })
  out('Stopped cleanly.')
}

async function runOnce(planFile: string | undefined, work: (runtime: Runtime, ctx: Setup) => Promise<void>) {
  const { stoppedBy } = await withRuntime(planFile, { scheduler: false, workers: true, admin: false }, async ({ ctx, runtime, stop }) => {
    const done = work(runtime, ctx)
    done.catch(() => undefined)
    await Promise.race([done, stop.stopped])
  })
  if (stoppedBy) throw new SocialKpiError('CONFIG_INVALID', `stopped by ${stoppedBy} before the command finished`)
}

/** Silences are read and written through the running process in embedded mode, like `sql`. */
async function withStore(config: Config, work: (store: SilenceStore) => Promise<void>): Promise<void> {
  const { openReader } = await import('./reader.ts')
  const reader = await openReader(config, { migrate: true })
  try {
    await work(reader)
  } finally {
    await reader.close()
  }
}

/** `evaluate --from/--to`: replays evaluation over stored history; reads only, sends nothing. */
async function runReplay(planFile: string | undefined, opts: { from?: string; to?: string; step: string }): Promise<void> {
  const { formatReplay, parseStep, replay } = await import('../alerts/replay.ts')
  const { clickHouseKpiSource } = await import('../kpi/clickhouse-source.ts')
  const { clickHouseCrisisSource } = await import('../kpi/crisis-source.ts')
  const { openReader } = await import('./reader.ts')
  const ctx = await setup(planFile, { needsSimulator: false })
  const zone = ctx.plan.company.timezone
  const parse = (option: string, value: string) => {
    const local = DateTime.fromISO(value, { zone })
    if (!local.isValid) throw new SocialKpiError('CONFIG_INVALID', `${option}: "${value}" is not a date such as 2026-01-01 or a time such as 2026-01-01T09:00`)
    return local.toJSDate()
  }
  if (!opts.from) throw new SocialKpiError('CONFIG_INVALID', 'evaluate: a replay needs --from DATE')
  const from = parse('--from', opts.from)
  const to = opts.to ? parse('--to', opts.to) : ctx.clock()
  const stepMs = parseStep(opts.step)
  if (stepMs === undefined) throw new SocialKpiError('CONFIG_INVALID', `--step: "${opts.step}" is not a step such as 1h or 1d`)
  if (to <= from) throw new SocialKpiError('CONFIG_INVALID', `--to (${to.toISOString()}) must be after --from (${from.toISOString()})`)
  if ((to.getTime() - from.getTime()) / stepMs > 20_000) throw new SocialKpiError('CONFIG_INVALID', `--step ${opts.step} gives over 20,000 steps for this range; use a longer step`)
  const reader = await openReader(ctx.config)
  const bar = await progressBar('replaying {bar} {value}/{total} steps')
  try {
    // The sources only read (ch.rows), so they run on the reader: directly, or through the running process.
    const ch: Pick<ClickHouse, 'rows'> = { rows: reader.rows }
    bar?.start(Math.ceil((to.getTime() - from.getTime()) / stepMs), 0)
    const result = await replay({ plan: ctx.plan, from, to, stepMs, sources: { kpi: clickHouseKpiSource(ch), crisis: clickHouseCrisisSource(ch) }, onStep: (done) => bar?.update(done) })
    bar?.stop()
    out(formatReplay(result, ctx.plan, { color }))
  } finally {
    bar?.stop()
    await reader.close()
    await ctx.close()
  }
}

export function buildProgram(): Command {
  const program = new Command('social-kpi')
    .description('Turns a social media plan into KPIs that watch themselves: collect, store in ClickHouse, evaluate, alert.')
    .version(version)
    .showHelpAfterError()
    .addHelpText('after', '\nWithout --plan, start/collect/evaluate run the demo: the example plan against the built-in API simulator.\nEnvironment: REDIS_URL, CLICKHOUSE_URL, DATA_DIR, SMTP_URL, FACEBOOK_GRAPH_URL, LOG_LEVEL (see README).')
  const planOption = () => new Option('-p, --plan <file>', 'the social media plan (YAML or JSON); default: the demo')

  program
    .command('start')
    .description('all-in-one: scheduler, workers and evaluator in one process; collects one round right away')
    .addOption(planOption())
    .action(async (opts: { plan?: string }) => runService(opts.plan, { scheduler: true, workers: true, firstRound: true }))

  program
    .command('scheduler')
    .description('run the plan\'s schedules only: enqueue collection rounds and evaluations (needs workers elsewhere)')
    .addOption(planOption())
    .action(async (opts: { plan?: string }) => runService(opts.plan, { scheduler: true, workers: false, firstRound: false }))

  program
    .command('worker')
    .description('run the collect, evaluate and notify workers (start several against the same Redis to scale out)')
    .addOption(planOption())
    .action(async (opts: { plan?: string }) => runService(opts.plan, { scheduler: false, workers: true, firstRound: false }))

  program
    .command('migrate')
    .description('apply the ClickHouse migrations (safe to run twice)')
    .action(async () => {
      const config = loadConfig(process.env)
      const logger = createLogger({ level: config.LOG_LEVEL, scrub: createScrubber(config.secretValues([])) })
      const { openClickHouse } = await import('../core/clickhouse.ts')
      const { migrate, migrateOptions } = await import('../core/migrations.ts')
      const ch = await openClickHouse({ url: config.CLICKHOUSE_URL, database: config.CLICKHOUSE_DATABASE, dataDir: config.dataDir })
      try {
        const result = await migrate(ch, logger, migrateOptions(config))
        out(`database ${ch.database}: ${result.applied.length} applied, ${result.alreadyApplied.length} already applied`)
        for (const name of result.applied) out(`  applied ${name}`)
        for (const name of result.recreated) out(`  created ${name} again: it was missing (it starts empty)`)
      } finally {
        await ch.close()
      }
    })

  program
    .command('collect')
    .description('collect one round for every account of the plan, wait until it is written and evaluated')
    .requiredOption('--once', 'run one round and exit (the only mode; schedules run under start/scheduler)')
    .addOption(planOption())
    .action(async (opts: { plan?: string }) => runOnce(opts.plan, (runtime, ctx) => runRound(runtime, ctx.plan, ctx.config, ctx.clock)))

  program
    .command('evaluate')
    .description('evaluate every KPI now (--once) and send due alerts, or replay stored history (--from/--to) to preview when alerts would fire')
    .option('--once', 'evaluate once as of now (or --at), store the results, send due alerts, print the table')
    .option('--at <iso-time>', 'with --once: evaluate as of this time, e.g. 2026-11-20T12:00:00+07:00')
    .option('--from <date>', 'replay from this date or time (in the plan\'s time zone), e.g. 2026-01-01; nothing is sent or written')
    .option('--to <date>', 'replay up to this date or time (exclusive; default: now)')
    .option('--step <step>', 'replay step: 30m, 1h, 6h, 1d, …', '1d')
    .addOption(planOption())
    .addHelpText('after', '\nRule preview: social-kpi evaluate --from 2026-01-01 --to 2026-04-01 --step 1d --plan plan.yaml\n  prints when each KPI and crisis trigger would have fired and resolved under the plan\'s alerting rules.')
    .action(async (opts: { plan?: string; at?: string; once?: boolean; from?: string; to?: string; step: string }) => {
      if (opts.from !== undefined || opts.to !== undefined) {
        if (opts.once || opts.at) throw new SocialKpiError('CONFIG_INVALID', 'evaluate: use either --once [--at] (evaluate now, send alerts) or --from/--to (replay, nothing sent), not both')
        await runReplay(opts.plan, opts)
        return
      }
      if (!opts.once) throw new SocialKpiError('CONFIG_INVALID', 'evaluate needs --once (evaluate now and send due alerts) or --from DATE [--to DATE] (replay history; nothing sent)')
      const given = opts.at ? new Date(opts.at) : undefined
      if (given && Number.isNaN(given.getTime())) throw new SocialKpiError('CONFIG_INVALID', `--at: "${opts.at}" is not an ISO time such as 2026-11-20T12:00:00+07:00`)
      const { evaluateAndAlert } = await import('../workers/evaluate-worker.ts')
      const { waitForIdle } = await import('./wait.ts')
      const { formatKpiTable } = await import('./kpi-table.ts')
      await runOnce(opts.plan, async (runtime, ctx) => {
        const at = given ?? ctx.clock()
        const evaluations = await evaluateAndAlert(runtime.evaluateDeps!, at)
        await waitForIdle(runtime.queues.notify, 60_000)
        out(`KPIs as of ${at.toISOString()}:\n`)
        out(formatKpiTable(evaluations, { color }))
      })
    })

  program
    .command('backfill')
    .description("pull history within each API's limits, in chunks through the collect queue; resumable and idempotent")
    .requiredOption('--from <date>', 'first day, YYYY-MM-DD')
    .option('--to <date>', 'day after the last, YYYY-MM-DD (default: today)')
    .option('--network <network>', 'only this network')
    .option('--account <id>', "only this account (the plan's account id)")
    .addOption(planOption())
    .action(async (opts: { plan?: string; from: string; to?: string; network?: string; account?: string }) =>
      runOnce(opts.plan, async (runtime, ctx) => {
        const { enqueueBackfill, planBackfill } = await import('../ingest/backfill.ts')
        const { createCollectors } = await import('../ingest/collectors/index.ts')
        const backfill = planBackfill(ctx.plan, createCollectors(ctx.config), { from: opts.from, to: opts.to, network: opts.network, accountId: opts.account }, ctx.clock())
        const queued = await enqueueBackfill(runtime.queues, backfill.chunks)
        out(`Backfill ${opts.from} → ${opts.to ?? 'today'}: ${backfill.chunks.length} chunks (${queued.alreadyDone} already done, ${queued.retried} retried, ${queued.added} new)`)
        const bar = await progressBar('backfill {bar} {value}/{total} chunks')
        bar?.start(backfill.chunks.length, queued.alreadyDone)
        const results = new Map<string, { state: string; observations: number; reason?: string }>()
        let lastReported = -1
        for (;;) {
          for (const chunk of backfill.chunks) {
            if (results.has(chunk.jobId)) continue
            const job = await runtime.queues.collect.getJob(chunk.jobId)
            const state = job ? await job.getState() : 'missing'
            if (state === 'completed') {
              const value = job!.returnvalue as { summary?: { observations?: number } } | undefined
              results.set(chunk.jobId, { state, observations: value?.summary?.observations ?? 0 })
            } else if (state === 'failed' || state === 'missing') {
              results.set(chunk.jobId, { state: 'failed', observations: 0, reason: job?.failedReason ?? 'the job disappeared' })
            }
          }
          bar?.update(results.size)
          if (!bar && results.size !== lastReported) {
            out(`  ${results.size}/${backfill.chunks.length} chunks finished`)
            lastReported = results.size
          }
          if (results.size === backfill.chunks.length) break
          await new Promise((resolve) => setTimeout(resolve, 250))
        }
        bar?.stop()
        out('\nSummary:')
        const byAccount = new Map<string, { chunks: number; failed: number; observations: number; reasons: string[] }>()
        for (const chunk of backfill.chunks) {
          const key = `${chunk.network}/${chunk.accountId}`
          const entry = byAccount.get(key) ?? { chunks: 0, failed: 0, observations: 0, reasons: [] }
          const result = results.get(chunk.jobId)!
          entry.chunks++
          entry.observations += result.observations
          if (result.state === 'failed') {
            entry.failed++
            entry.reasons.push(`${chunk.window.from}..${chunk.window.to}: ${result.reason}`)
          }
          byAccount.set(key, entry)
        }
        for (const [key, entry] of byAccount) {
          out(`  ${key}: ${entry.chunks - entry.failed}/${entry.chunks} chunks, ${entry.observations} observations written${entry.failed ? `, ${entry.failed} failed (run the same command again to retry)` : ''}`)
          for (const reason of entry.reasons) out(`      failed ${reason}`)
        }
        for (const item of backfill.unavailable) out(`  ${item.network}/${item.accountId}: not available — ${item.reason}`)
        if ([...byAccount.values()].some((e) => e.failed > 0)) process.exitCode = 1
      }),
    )

  const plan = program.command('plan').description('work with plan files')
  plan
    .command('validate')
    .description('check a plan file; prints a summary, or every problem with its path, and exits 1 when invalid')
    .argument('<file>', 'the plan (YAML or JSON)')
    .action(async (file: string) => {
      const parsed = await loadPlan(file)
      const accounts = planAccounts(parsed)
      out(`${file}: valid plan for "${parsed.company.name}" (${parsed.company.timezone})`)
      out(`  ${parsed.audiences.length} audiences, ${parsed.objectives.length} objectives, ${accounts.length} accounts on ${new Set(accounts.map((a) => a.network)).size} networks, ${parsed.kpis.length} KPIs`)
      for (const kpi of parsed.kpis) out(`  - ${kpi.id}: ${kpi.kind} of ${kpi.metric}${kpi.denominator ? `/${kpi.denominator}` : ''} ${kpi.comparator === 'at_least' ? '≥' : '≤'} ${kpi.target} per ${typeof kpi.period === 'string' ? kpi.period : `${kpi.period.from}..${kpi.period.to}`}`)
      const channels = Object.entries(parsed.alerting.channels).map(([name, channel]) => `${name} (${channel.type})`)
      out(`  alerts to ${parsed.alerting.recipients.join(', ')}${channels.length ? `, channels ${channels.join(', ')}` : ''}; crisis guide: ${parsed.crisis ? `${parsed.crisis.steps.length} steps, ${parsed.crisis.contacts.length} contacts, ${parsed.crisis.triggers.length} triggers` : 'none'}`)
    })

  program
    .command('sql')
    .description('run a query for analysts (works while start runs: in embedded mode it goes through the running process)')
    .argument('<query>', 'SQL, e.g. "SELECT network, metric, count() FROM metrics_daily GROUP BY ALL"')
    .option('-f, --format <format>', 'a ClickHouse output format: PrettyCompactMonoBlock, CSVWithNames, JSONEachRow, TSV, ...', 'PrettyCompactMonoBlock')
    .action(async (query: string, opts: { format: string }) => {
      const config = loadConfig(process.env)
      const { openReader } = await import('./reader.ts')
      const reader = await openReader(config)
      try {
        process.stdout.write(await reader.text(query, opts.format))
      } finally {
        await reader.close()
      }
    })

  program
    .command('queues')
    .description('a one-time link to the queue board (Bull Board) of the running process (embedded mode, like sql)')
    .action(async () => {
      const config = loadConfig(process.env)
      const { findAdminServer, queueBoardLink } = await import('./admin-server.ts')
      const endpoint = await findAdminServer(config.dataDir)
      if (!endpoint) throw new SocialKpiError('CONFIG_INVALID', `no running social-kpi start or worker for DATA_DIR (${config.dataDir}); the queue board is served by the running process`)
      const link = await queueBoardLink(endpoint)
      out(`Open in a browser on this machine within ${Math.round(link.expiresInSeconds / 60)} minutes (the link works once):`)
      out(`  ${link.url}`)
    })

  program
    .command('status')
    .description('the KPI table (status, attainment, pace needed), open alerts, silences and source health')
    .action(async () => {
      const config = loadConfig(process.env)
      const now = processClock(config)()
      const { openReader } = await import('./reader.ts')
      const { formatStatus } = await import('./status.ts')
      const reader = await openReader(config)
      try {
        out(await formatStatus(reader, { color, now }))
      } finally {
        await reader.close()
      }
    })

  const silence = program.command('silence').description('planned pauses of alerts: add, list, expire (work while start runs)')
  silence
    .command('add')
    .description('silence the alerts of one KPI, one objective or one account until a time')
    .option('--kpi <id>', "the KPI's id in the plan")
    .option('--objective <id>', 'every KPI of this objective')
    .option('--account <id>', "an account's alerts (KPIs covering only silenced accounts, its source and freshness alerts, crises on it)")
    .requiredOption('--until <time>', 'end: an ISO time (2026-03-01T09:00:00+07:00) or a duration from now (4h, 3d, 1w)')
    .option('--from <time>', 'start, same forms (default: now)')
    .requiredOption('--reason <text>', 'why; shown in list and status')
    .option('--by <name>', 'who asks (default: your user name)')
    .option('-p, --plan <file>', 'check the id against this plan')
    .action(async (opts: { kpi?: string; objective?: string; account?: string; until: string; from?: string; reason: string; by?: string; plan?: string }) => {
      const config = loadConfig(process.env)
      const now = processClock(config)()
      const plan = opts.plan ? await loadPlan(opts.plan) : undefined
      const { addSilence, describeMatchers, parseTimeArgument, validateSilence } = await import('../alerts/silences.ts')
      const input = {
        matchers: { kpiId: opts.kpi, objectiveId: opts.objective, accountId: opts.account },
        startsAt: opts.from ? parseTimeArgument('--from', opts.from, now) : now,
        endsAt: parseTimeArgument('--until', opts.until, now),
        reason: opts.reason,
        createdBy: opts.by ?? userInfo().username,
      }
      validateSilence(input, now, plan)
      await withStore(config, async (store) => {
        const added = await addSilence(store, input, now, plan)
        out(`silenced ${describeMatchers(added.matchers)} from ${added.startsAt.toISOString()} until ${added.endsAt.toISOString()}: ${added.id}`)
        out(`  end it early with: social-kpi silence expire ${added.id}`)
      })
    })
  silence
    .command('list')
    .description('active and upcoming silences (--all: also ended and expired ones)')
    .option('--all', 'include ended and expired silences')
    .action(async (opts: { all?: boolean }) => {
      const config = loadConfig(process.env)
      const now = processClock(config)()
      const { currentSilences, listSilences } = await import('../alerts/silences.ts')
      const { formatSilence } = await import('./status.ts')
      await withStore(config, async (store) => {
        const silences = opts.all ? await listSilences(store) : await currentSilences(store, now)
        if (silences.length === 0) out(opts.all ? 'no silences' : 'no active or upcoming silences (--all shows ended ones)')
        for (const s of silences) out(formatSilence(s, now).trimStart())
      })
    })
  silence
    .command('expire')
    .description('end a silence now')
    .argument('<id>', 'the silence id, as shown by silence list')
    .action(async (id: string) => {
      const config = loadConfig(process.env)
      const clock = processClock(config)
      const { describeMatchers, expireSilence } = await import('../alerts/silences.ts')
      await withStore(config, async (store) => {
        const { silence: s, changed } = await expireSilence(store, id, clock())
        out(changed ? `expired ${s.id} (${describeMatchers(s.matchers)})` : `${s.id} had already ended; nothing changed`)
      })
    })

  registerCredentialCommands(program)
  registerReportCommand(program)

  program
    .command('simulator')
    .description('serve the simulated social network APIs on loopback, for trying collectors without real accounts')
    .option('--port <port>', 'port on 127.0.0.1', '4010')
    .option('--seed <seed>', 'scenario seed (same seed, same data)', '42')
    .action(async (opts: { port: string; seed: string }) => {
      const { simulatorEnvironment, startSimulator, SIMULATOR_OAUTH_APPS } = await import('../simulator/index.ts')
      const sim = await startSimulator({ port: Number(opts.port), seed: Number(opts.seed), now: processClock(loadConfig(process.env)) })
      // OAuth apps a user can connect with, as if registered with each network (docs/accounts.md).
      for (const app of SIMULATOR_OAUTH_APPS) sim.oauth.registerClient(app.network, { clientId: app.clientId, clientSecret: app.clientSecret })
      out(`API simulator listening at ${sim.url} (Graph API: ${sim.url}/v25.0/...). Ctrl-C to stop.`)
      out('Any token works except those starting with "expired" or "invalid".')
      out('To point social-kpi at it (collectors, and connect for OAuth accounts):')
      for (const [name, value] of Object.entries(simulatorEnvironment(sim.url))) out(`  export ${name}=${value}`)
      out('OAuth apps it knows, for social-kpi connect (client id / secret; also set TOKEN_STORE_KEY, made with: openssl rand -base64 32):')
      for (const app of SIMULATOR_OAUTH_APPS) out(`  ${app.network}: ${app.clientId} / ${app.clientSecret}`)
      await untilSignal()
      await sim.close()
    })

  return program
}

async function main() {
  // `social-kpi sql ... | head` closes the pipe early; that is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0)
    throw error
  })
  try {
    await buildProgram().parseAsync(process.argv)
  } catch (error) {
    // One plain line (a plan's problems are listed, one per line); the stack and causes only on request.
    if (error instanceof PlanError) {
      process.stderr.write(`${error.message}\n`)
    } else if (error instanceof SocialKpiError) {
      process.stderr.write(scrubSecrets(`error: ${error.message}\n`))
    } else {
      const message = error instanceof Error ? error.message : String(error)
      process.stderr.write(scrubSecrets(`error: ${message.split('\n').find((line) => line.trim())?.trim() ?? 'unknown error'}\n`))
    }
    if (['debug', 'trace'].includes(process.env.LOG_LEVEL ?? '')) process.stderr.write(scrubSecrets(errorDetails(error)))
    process.exitCode = 1
  }
  // Everything the command opened is closed by now. Should something still hold the process, that
  // is a bug: say what it is, and exit rather than hang.
  setTimeout(() => {
    const open = process.getActiveResourcesInfo().filter((resource) => resource !== 'Timeout')
    process.stderr.write(`note: still open ${EXIT_GRACE_MS / 1000} s after the command ended (${open.join(', ') || 'unknown'}); exiting\n`)
    process.exit()
  }, EXIT_GRACE_MS).unref()
}

const EXIT_GRACE_MS = 3_000

/** With LOG_LEVEL=debug: the stack of an error and of each of its causes. */
function errorDetails(error: unknown): string {
  let text = ''
  for (let current: unknown = error, depth = 0; current !== undefined && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    text += `${depth === 0 ? '' : 'caused by: '}${current instanceof Error ? (current.stack ?? current.message) : String(current)}\n`
  }
  return text
}

await main()
