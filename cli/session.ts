import { processClock, type Clock } from '../core/clock.ts'
import { loadConfig, makeDataDir, type Config } from '../core/config.ts'
import { SocialKpiError } from '../core/errors.ts'
import { createLogger, type Logger, type Scrubber } from '../core/logger.ts'
import type { PrivateRedis } from '../core/redis.ts'
import { loadPlan, planSpeaker, type Plan } from '../plan/plan.ts'
import type { RunningSimulator } from '../simulator/index.ts'
import type { AdminServer } from './admin-server.ts'
import type { OpsServer } from './ops-server.ts'
import { choosePlan, withDemoTokens } from './data-dir.ts'
import { out } from './output.ts'
import type { Runtime } from './runtime.ts'
import { processScrubber } from './scrubber.ts'
import { stopWithParent, watchSignals, type StopRequest } from './signals.ts'

// The composition root of the commands that run the pipeline. Heavy modules (the engine, queues,
// simulator) are imported where used, so that `--help` and `plan validate` never load them.

export interface Setup {
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

/**
 * Reads the environment and the plan. Without --plan this is the demo: the example plan, served
 * by the built-in API simulator on loopback, with demo tokens.
 */
export async function setup(planFile: string | undefined, options: { needsSimulator: boolean }): Promise<Setup> {
  const { file, env } = choosePlan(planFile, process.env)
  let demo: RunningSimulator | undefined
  const plan = await loadPlan(file)
  let config = loadConfig(env)
  const clock = processClock(config)
  if (!planFile && options.needsSimulator) {
    const { simulatorEnvironment, startSimulator } = await import('../simulator/index.ts')
    // The simulated world runs on the same clock as the collectors and the evaluation.
    demo = await startSimulator({ now: clock })
    Object.assign(env, simulatorEnvironment(demo.url))
    withDemoTokens(plan, env)
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
  const logger = createLogger({ level: config.LOG_LEVEL, pretty: config.LOG_PRETTY, scrub })
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

export interface Running {
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
export async function withRuntime(
  planFile: string | undefined,
  roles: { scheduler: boolean; workers: boolean; admin: boolean },
  work: (running: Running) => Promise<void>,
): Promise<{ stoppedBy?: string }> {
  const stop = watchSignals()
  const ctx = await setup(planFile, { needsSimulator: roles.workers })
  stop.graceMs = ctx.config.SHUTDOWN_TIMEOUT_MS + 10_000
  if (ctx.config.npm_lifecycle_event) stopWithParent(stop)
  let privateRedis: PrivateRedis | undefined
  let runtime: Runtime | undefined
  let admin: AdminServer | undefined
  let ops: OpsServer | undefined
  try {
    await assertDataDirFree(ctx.config, roles.workers)
    // A channel whose variable is unset stops the start here, before anything is made or started.
    if (roles.workers) {
      const { createChannels } = await import('../alerts/channels/index.ts')
      createChannels({ plan: ctx.plan, secret: (name) => ctx.config.secret(name), timeoutMs: ctx.config.HTTP_TIMEOUT_MS, scrub: ctx.scrub })
    }
    const { ensureRedis } = await import('../core/redis.ts')
    if (!stop.signal) privateRedis = await ensureRedis(ctx.config.REDIS_URL, { dataDir: ctx.config.dataDir, allowPrivate: ctx.config.START_PRIVATE_REDIS, logger: ctx.logger })
    if (!stop.signal && roles.workers) await checkAlertDelivery(ctx.config, stop.abort)
    if (!stop.signal) {
      const { startRuntime } = await import('./runtime.ts')
      runtime = await startRuntime({ config: ctx.config, plan: ctx.plan, logger: ctx.logger, scrub: ctx.scrub, scheduler: roles.scheduler, workers: roles.workers, now: ctx.clock, signal: stop.abort })
    }
    if (!stop.signal && roles.admin && runtime?.ch?.mode === 'embedded') {
      admin = await (await import('./admin-server.ts')).startAdminServer({
        ch: runtime.ch,
        port: ctx.config.ADMIN_PORT,
        dataDir: ctx.config.dataDir,
        logger: ctx.logger,
        registry: runtime.telemetry.registry,
        queues: runtime.queues,
      })
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
    if (stop.signal) out(`\n${planSpeaker(ctx.plan).t('terminal.service.stopping', { signal: stop.signal })}`)
    await admin?.close()
    // Closed after the runtime: /readyz answers 503 while the workers finish.
    await runtime?.shutdown()
    await ops?.close()
    await privateRedis?.stop()
    await ctx.close()
  }
  return { stoppedBy: stop.signal }
}

/** One piece of work with the workers running (collect, evaluate, backfill); a signal ends it as a failure. */
export async function runOnce(planFile: string | undefined, work: (runtime: Runtime, ctx: Setup) => Promise<void>): Promise<void> {
  const { stoppedBy } = await withRuntime(planFile, { scheduler: false, workers: true, admin: false }, async ({ ctx, runtime, stop }) => {
    const done = work(runtime, ctx)
    done.catch(() => undefined)
    await Promise.race([done, stop.stopped])
  })
  if (stoppedBy) throw new SocialKpiError('STOPPED_BY_SIGNAL', `stopped by ${stoppedBy} before the command finished`)
}
