import { UnrecoverableError, Worker, type Job, type Processor } from 'bullmq'
import { Registry } from 'prom-client'
import { createChannels } from '../alerts/channels/index.ts'
import { TriesRanOut } from '../alerts/channels/delivery.ts'
import { createMailer, smtpTimeouts, type Mailer } from '../alerts/mailer.ts'
import { openClickHouse, type ClickHouse } from '../core/clickhouse.ts'
import type { Clock } from '../core/clock.ts'
import type { Config } from '../core/config.ts'
import type { Logger, Scrubber } from '../core/logger.ts'
import { migrate, migrateOptions } from '../core/migrations.ts'
import { createQueues, QUEUES, type QueueKey, type Queues } from '../core/queues.ts'
import { createRedis, type Redis } from '../core/redis.ts'
import { createTelemetry, within, type Telemetry } from '../core/telemetry.ts'
import type { Readiness } from './ops-server.ts'
import { createOutageReporter } from '../core/redis-outage.ts'
import { accountAdvice, createCollectors } from '../ingest/collectors/index.ts'
import { startScheduler, type Scheduler } from '../ingest/scheduler.ts'
import { createRoundTracker, type RoundTracker } from '../ingest/rounds.ts'
import { staleAfterMs } from '../plan/schedule.ts'
import { planAccounts, type Plan, type PlanAccount } from '../plan/plan.ts'
import { openCredentials } from '../ingest/auth/index.ts'
import { createExpiryWatch } from '../ingest/auth/expiry.ts'
import { NETWORK_DESCRIPTORS } from '../core/metrics.ts'
import { createRequestGate } from '../ingest/quota.ts'
import { createCollectProcessor } from '../workers/collect-worker.ts'
import { createEvaluateProcessor, type EvaluateDeps } from '../workers/evaluate-worker.ts'
import { createNotifyProcessor } from '../workers/notify-worker.ts'
import { createWriters, type Writers } from '../core/tables.ts'
import { BatchingWriter } from '../core/clickhouse-writer.ts'
import { writePlanTables } from '../workers/plan-tables.ts'
import { processScrubber } from './scrubber.ts'
import { join } from 'node:path'

export interface RuntimeOptions {
  config: Config
  plan: Plan
  logger: Logger
  /** Run the cron schedules in this process. */
  scheduler: boolean
  /** Run the collect, evaluate and notify workers in this process. */
  workers: boolean
  /** The one clock: round times, evaluations, retry waits and records all ask it. */
  now: Clock
  /** The one scrubber, the logger's too (see processScrubber); built here when absent. */
  scrub?: Scrubber
  /** Aborts start-up (a signal came): what was opened is closed and the AbortError thrown. */
  signal?: AbortSignal
}

export { processScrubber }

export interface Runtime {
  queues: Queues
  /** Which jobs each open round still waits for (ingest/rounds.ts). */
  rounds: RoundTracker
  /** Present when this process runs workers (it then holds ClickHouse). */
  ch?: ClickHouse
  writers?: Writers
  evaluateDeps?: EvaluateDeps
  /** The process's Prometheus series (core/telemetry.ts), served by the ops and admin endpoints. */
  telemetry: Telemetry
  /** For /readyz: Redis and ClickHouse answer, the workers run, no shutdown under way. */
  readiness(): Promise<Readiness>
  /** Ordered, bounded, safe to call twice. */
  shutdown(reason?: string): Promise<void>
}

/**
 * The composition root: builds every long-lived piece once and passes it in. Shutdown runs in
 * reverse: schedules stop, workers finish their active jobs, writers flush, connections close.
 */
export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  const { config, plan, logger, now } = options
  // A signal that came while this module was loading: open nothing (a client given an aborted signal may not notice it).
  options.signal?.throwIfAborted()
  const scrub = options.scrub ?? processScrubber(config, plan)
  const producer: Redis = createRedis(config.REDIS_URL, 'producer')
  // Every connection and queue sees the same outage on each reconnect attempt: said once.
  const outage = createOutageReporter(logger, new URL(config.REDIS_URL).host)
  producer.on('error', (err) => outage.error('redis (producer)', err))
  producer.on('ready', () => outage.ready())
  const queues = createQueues(producer, config.QUEUE_PREFIX)
  // The one Registry of the process: no series goes to prom-client's global default registry.
  const telemetry = createTelemetry(new Registry(), { onScrapeError: (err) => logger.debug({ err }, 'queue depth could not be read for /metrics') })
  telemetry.watchQueues([queues.collect, queues.evaluate, queues.notify])
  const rounds = createRoundTracker({ redis: producer, prefix: config.QUEUE_PREFIX, evaluateQueue: queues.evaluate })
  telemetry.watchHeldBack(async () => (await rounds.heldBackJobs()).size)
  // The producer's own listener logs its connection errors once; without one, BullMQ prints each
  // queue's copy of them raw on stderr.
  const quiet = (err: Error) => logger.debug({ err }, 'queue error')
  for (const queue of [queues.collect, queues.evaluate, queues.notify]) queue.on('error', quiet)
  const workers: Worker[] = []
  let workerConnection: Redis | undefined
  let scheduler: Scheduler | undefined
  let ch: ClickHouse | undefined
  let writers: Writers | undefined
  let mailer: Mailer | undefined
  let evaluateDeps: EvaluateDeps | undefined

  try {
    if (options.workers) {
      // Slack and webhook channels first: a URL or secret the plan names but the environment lacks stops the start.
      const channels = createChannels({ plan, secret: (name) => config.secret(name), timeoutMs: config.HTTP_TIMEOUT_MS, scrub })
      ch = await openClickHouse({ url: config.CLICKHOUSE_URL, database: config.CLICKHOUSE_DATABASE, dataDir: config.dataDir, signal: options.signal })
      options.signal?.throwIfAborted()
      await migrate(ch, logger.child({ module: 'migrate' }), migrateOptions(config))
      options.signal?.throwIfAborted()
      writers = createWriters(ch, { maxRows: config.WRITER_BATCH_ROWS, flushIntervalMs: config.WRITER_FLUSH_MS, logger, observer: telemetry.writer })
      const batching = Object.values(writers).filter((writer): writer is BatchingWriter<object> => writer instanceof BatchingWriter)
      telemetry.watchWriters(() => batching.map((writer) => ({ table: writer.table, rows: writer.pendingRows })))
      // The plan is read once per process, so the plan tables follow it at every start (docs/dashboards.md).
      await writePlanTables(ch, writers, plan, now())
      options.signal?.throwIfAborted()
      mailer = createMailer({ smtpUrl: config.SMTP_URL, outboxDir: join(config.dataDir, 'outbox'), timeouts: smtpTimeouts(config), scrub })
      const collectors = createCollectors(config)
      evaluateDeps = {
        plan,
        ch,
        writers,
        now,
        logger: logger.child({ module: 'evaluate' }),
        rounds,
        alerts: {
          plan,
          ch,
          writers,
          notifyQueue: queues.notify,
          tokenAdvice: accountAdvice(collectors),
          grafanaUrl: config.GRAFANA_URL,
          // The stale window (plan/schedule.ts); the evaluator judges with the same one (workers/evaluate-worker.ts).
          staleAfterMs: staleAfterMs(plan, now()),
          logger: logger.child({ module: 'alerts' }),
          // Decisions run under a Redis lock, so `evaluate --once` beside the workers never doubles one.
          redis: producer,
          lockPrefix: config.QUEUE_PREFIX,
          now,
        },
      }
      workerConnection = createRedis(config.REDIS_URL, 'worker')
      workerConnection.on('error', (err) => outage.error('redis (worker)', err))
      workerConnection.on('ready', () => outage.ready())
      const start = (key: QueueKey, processor: Processor, concurrency: number) => {
        const worker = new Worker(QUEUES[key].name, processor, { connection: workerConnection!, prefix: config.QUEUE_PREFIX, concurrency, ...JOB_LOCKS })
        // A failed job's error is ours, said in one line (typed, with a code); its stack only at debug.
        worker.on('failed', (job, err) => {
          logger.warn({ queue: key, jobId: job?.id, attempts: job?.attemptsMade, code: (err as { code?: unknown }).code, reason: err.message }, 'job failed')
          logger.debug({ queue: key, jobId: job?.id, err }, 'job failed')
        })
        observeWorker(telemetry, key, worker)
        // BullMQ says a lost lock twice: 'lockRenewalFailed' with the job ids, then one plain
        // 'error' per job. The first is said in one line; the errors that repeat it are not.
        let renewalErrors = 0
        worker.on('lockRenewalFailed', (jobIds: string[]) => {
          renewalErrors += jobIds.length
          logger.warn({ queue: key, jobIds }, 'could not renew the lock of running jobs (Redis away or restarted empty): another worker may run them again; what they write is written once')
        })
        worker.on('error', (err) => {
          if (renewalErrors > 0) {
            renewalErrors--
            return
          }
          outage.error('worker', err)
        })
        workers.push(worker)
      }
      const accounts = planAccounts(plan)
      const credentials = openCredentials({ config, plan, redis: producer, now, logger: logger.child({ module: 'credentials' }), scrub })
      const expiryWatch = createExpiryWatch({ config, redis: producer, prefix: config.QUEUE_PREFIX, now, logger: logger.child({ module: 'credentials' }), credentials })
      evaluateDeps.alerts.credentialExpiries = () => expiryWatch.known(plan)
      const gateFor = (account: PlanAccount) =>
        createRequestGate({
          redis: producer,
          prefix: config.QUEUE_PREFIX,
          network: account.network,
          accountId: account.id,
          policy: NETWORK_DESCRIPTORS[account.network].quota,
          accountsSharing: accounts.filter((a) => a.network === account.network).length,
        })
      start(
        'collect',
        createCollectProcessor({
          plan,
          ch,
          writers,
          collectors,
          credentials,
          expiryWatch,
          lookbackDays: plan.collection.lookbackDays,
          now,
          gateFor,
          apiObserver: telemetry.api,
          scrub,
          rounds,
          logger: logger.child({ module: 'collect' }),
        }),
        config.WORKER_CONCURRENCY,
      )
      // Evaluations run one at a time across all workers, so two never decide the same alert at once.
      // The setting lives in Redis, so it is applied again whenever the connection is back: a Redis
      // restarted empty would otherwise run evaluations side by side.
      const applyQueueSettings = () => queues.evaluate.setGlobalConcurrency(1)
      await applyQueueSettings()
      producer.on('ready', () => {
        applyQueueSettings().then(
          () => logger.info({ queue: 'evaluate', globalConcurrency: 1 }, 'Redis is back: queue settings applied again'),
          (err: unknown) => logger.error({ err }, 'Redis is back but the evaluate queue settings could not be applied; they are applied at the next reconnect'),
        )
      })
      start('evaluate', timedEvaluation(telemetry, createEvaluateProcessor(evaluateDeps)), 1)
      // A slow mail server may hold an email up to SMTP_REPLY_TIMEOUT_MS (10 min, as RFC 5321 asks):
      // enough at once that a few such emails leave room for the others and for Slack and webhooks.
      start(
        'notify',
        createNotifyProcessor({ mailer, channels, ch, from: config.ALERT_FROM, writers, now, logger: logger.child({ module: 'notify' }), retryAfterMaxMs: config.NOTIFY_RETRY_AFTER_MAX_MS }),
        NOTIFY_CONCURRENCY,
      )
      // Jobs already active at start belong to another worker, or to a process that died holding
      // them: BullMQ hands those over after its stalled-job check (within JOB_LOCKS' 15 s).
      const active = (await Promise.all([queues.collect, queues.evaluate, queues.notify].map((queue) => queue.getActiveCount()))).reduce((a, b) => a + b, 0)
      if (active > 0) {
        logger.info({ active }, `${active} jobs are active elsewhere; if they belonged to a process that stopped without finishing, they run here within 15 s`)
      }
    }
    if (options.scheduler) scheduler = startScheduler({ plan, queues, rounds, now, redis: producer, logger: logger.child({ module: 'scheduler' }) })
  } catch (error) {
    // Start-up failed half-way (or was aborted): close what is open, so the process can exit.
    await Promise.all(workers.map((worker) => worker.close(true).catch(() => undefined)))
    await writers?.close().catch(() => undefined)
    mailer?.close()
    await queues.close().catch(() => undefined)
    await ch?.close().catch(() => undefined)
    // Closed while still connecting, a connection reports that it cannot send: not news now.
    for (const connection of [workerConnection, producer])
      connection
        ?.removeAllListeners('error')
        .on('error', () => undefined)
        .disconnect()
    throw error
  }

  let stopping: Promise<void> | undefined
  return {
    queues,
    rounds,
    ch,
    writers,
    evaluateDeps,
    telemetry,
    async readiness() {
      if (stopping) return { ready: false, checks: { process: { ok: false, detail: 'shutting down' } } }
      const checks: Readiness['checks'] = { redis: await probe(() => producer.ping(), scrub, `REDIS_URL (${new URL(config.REDIS_URL).host})`) }
      if (ch) checks.clickhouse = await probe(() => ch!.rows('SELECT 1'), scrub, ch.mode === 'embedded' ? 'embedded ClickHouse' : `CLICKHOUSE_URL (${new URL(config.CLICKHOUSE_URL!).host})`)
      if (workers.length > 0) {
        const stopped = workers.filter((worker) => !worker.isRunning() || worker.isPaused()).map((worker) => worker.name)
        checks.workers = stopped.length ? { ok: false, detail: `not running: ${stopped.join(', ')}` } : { ok: true }
      }
      return { ready: Object.values(checks).every((check) => check.ok), checks }
    },
    shutdown(reason = 'shutdown') {
      stopping ??= (async () => {
        logger.info({ reason }, 'shutting down')
        let timer: NodeJS.Timeout | undefined
        const deadline = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), config.SHUTDOWN_TIMEOUT_MS)
        })
        const ordered = (async () => {
          await scheduler?.stop()
          await Promise.all(workers.map((worker) => worker.close()))
          await writers?.close()
          mailer?.close()
          await queues.close()
        })()
        const outcome = await Promise.race([ordered.then(() => 'done' as const), deadline])
        clearTimeout(timer)
        if (outcome === 'timeout') {
          logger.warn({ timeoutMs: config.SHUTDOWN_TIMEOUT_MS }, 'shutdown took too long; closing connections anyway')
          // A forced close may wait on the regular one still running (BullMQ returns the same
          // promise), which can hang for good after Redis restarted empty under active jobs.
          await Promise.race([Promise.all(workers.map((worker) => worker.close(true).catch(() => undefined))), new Promise((resolve) => setTimeout(resolve, 1_000).unref())])
          await writers?.flush().catch(() => undefined)
        }
        await ch?.close().catch(() => undefined)
        workerConnection?.disconnect()
        producer.disconnect()
      })()
      return stopping
    },
  }
}

/** Notify jobs at once per worker: each mostly waits on a mail server or a webhook. */
const NOTIFY_CONCURRENCY = 8

/**
 * A job's lock lives 10 s and is renewed every 5 s while it runs; every 5 s each worker hands the
 * jobs whose lock ran out (their process died: kill -9, a lost machine) back to the queue. With
 * BullMQ's defaults (30 s each) a restart waited up to a minute for the round its predecessor
 * left; now at most 15 s. Our processors never block the event loop for seconds (the embedded
 * engine answers asynchronously), so a lock is not lost to a busy process.
 */
const JOB_LOCKS = { lockDuration: 10_000, stalledInterval: 5_000 } as const

/** A readiness check: ok when `check` answers within 2 s; else its error in one scrubbed line. */
async function probe(check: () => Promise<unknown>, scrub: Scrubber, what: string): Promise<{ ok: boolean; detail?: string }> {
  try {
    await within(2_000, check())
    return { ok: true }
  } catch (error) {
    return { ok: false, detail: scrub(`${what}: ${error instanceof Error ? error.message : String(error)}`).split('\n')[0] }
  }
}

/**
 * Jobs, notifications and rounds are counted from the workers' events, outside the processors:
 * a notify job's outcome is its return value, or the error it failed with.
 */
function observeWorker(telemetry: Telemetry, key: QueueKey, worker: Worker): void {
  worker.on('completed', (job: Job, result: unknown) => {
    telemetry.jobFinished(key, 'completed')
    if (key === 'notify') telemetry.notification((result as { alreadySent?: boolean } | undefined)?.alreadySent ? 'already_sent' : 'sent', channelOf(job))
    // A round's evaluate job is enqueued with its collect jobs and runs when they have ended or at the deadline.
    if (key === 'evaluate' && (job.data as { reason?: string }).reason === 'round') {
      if (job.finishedOn) telemetry.roundFinished((job.finishedOn - job.timestamp) / 1000)
      const pending = (result as { pending?: unknown[] } | undefined)?.pending
      if (pending) telemetry.roundEvaluated(pending.length)
    }
  })
  worker.on('failed', (job: Job | undefined, err: Error) => {
    telemetry.jobFinished(key, 'failed')
    if (key !== 'notify' || !job) return
    const outOfTries = job.attemptsMade >= (job.opts.attempts ?? 1)
    // TriesRanOut: the tries ran out counting the waits a receiver asked for, which attemptsMade does not.
    const outcome = err instanceof TriesRanOut ? 'undelivered' : err instanceof UnrecoverableError ? 'refused' : outOfTries ? 'undelivered' : 'retrying'
    telemetry.notification(outcome, channelOf(job))
  })
}

/** The plan's channel a notify job goes to; email when it names none. */
const channelOf = (job: Job) => {
  const channel = (job.data as { channel?: unknown }).channel
  return typeof channel === 'string' ? channel : 'email'
}

function timedEvaluation(telemetry: Telemetry, processor: Processor): Processor {
  return async (job, token) => {
    const started = performance.now()
    try {
      const result: unknown = await processor(job, token)
      telemetry.evaluationFinished((performance.now() - started) / 1000, 'ok')
      return result
    } catch (error) {
      telemetry.evaluationFinished((performance.now() - started) / 1000, 'failed')
      throw error
    }
  }
}
