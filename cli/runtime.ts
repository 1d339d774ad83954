import { Worker, type Processor } from 'bullmq'
import { createMailer, type Mailer } from '../alerts/mailer.ts'
import { openClickHouse, type ClickHouse } from '../core/clickhouse.ts'
import type { Clock } from '../core/clock.ts'
import type { Config } from '../core/config.ts'
import type { Logger } from '../core/logger.ts'
import { migrate } from '../core/migrations.ts'
import { createQueues, QUEUES, type QueueKey, type Queues } from '../core/queues.ts'
import { createRedis, type Redis } from '../core/redis.ts'
import { createCollectors } from '../ingest/collectors/index.ts'
import { scheduleIntervalMs, startScheduler, type Scheduler } from '../ingest/scheduler.ts'
import { planAccounts, type Plan, type PlanAccount } from '../kpi/plan.ts'
import { NETWORK_DESCRIPTORS } from '../core/metrics.ts'
import { createRequestGate } from '../ingest/quota.ts'
import { createCollectProcessor } from '../workers/collect-worker.ts'
import { createEvaluateProcessor, type EvaluateDeps } from '../workers/evaluate-worker.ts'
import { createNotifyProcessor } from '../workers/notify-worker.ts'
import { createWriters, type Writers } from '../workers/writers.ts'
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
}

export interface Runtime {
  queues: Queues
  /** Present when this process runs workers (it then holds ClickHouse). */
  ch?: ClickHouse
  writers?: Writers
  evaluateDeps?: EvaluateDeps
  /** Ordered, bounded, safe to call twice. */
  shutdown(reason?: string): Promise<void>
}

/**
 * The composition root: builds every long-lived piece once and passes it in. Shutdown runs in
 * reverse: schedules stop, workers finish their active jobs, writers flush, connections close.
 */
export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  const { config, plan, logger, now } = options
  const producer: Redis = createRedis(config.REDIS_URL, 'producer')
  producer.on('error', (err) => logger.warn({ err }, 'redis (producer) error'))
  const queues = createQueues(producer, config.QUEUE_PREFIX)
  const workers: Worker[] = []
  let workerConnection: Redis | undefined
  let scheduler: Scheduler | undefined
  let ch: ClickHouse | undefined
  let writers: Writers | undefined
  let mailer: Mailer | undefined
  let evaluateDeps: EvaluateDeps | undefined

  if (options.workers) {
    ch = await openClickHouse({ url: config.CLICKHOUSE_URL, database: config.CLICKHOUSE_DATABASE, dataDir: config.dataDir })
    await migrate(ch, logger.child({ module: 'migrate' }))
    writers = createWriters(ch, { maxRows: config.WRITER_BATCH_ROWS, flushIntervalMs: config.WRITER_FLUSH_MS, logger })
    mailer = createMailer({ smtpUrl: config.SMTP_URL, outboxDir: join(config.dataDir, 'outbox'), timeoutMs: config.HTTP_TIMEOUT_MS })
    const collectors = createCollectors(config)
    evaluateDeps = {
      plan,
      ch,
      writers,
      now,
      logger: logger.child({ module: 'evaluate' }),
      alerts: {
        plan,
        ch,
        writers,
        notifyQueue: queues.notify,
        tokenAdvice: (network, apiCode, tokenEnv) => collectors[network as keyof typeof collectors]?.tokenAdvice(apiCode, tokenEnv) ?? `Renew the token in ${tokenEnv}.`,
        grafanaUrl: config.GRAFANA_URL,
        // Two missed rounds plus a little slack; retries and throttling may delay one round.
        staleAfterMs: 2 * scheduleIntervalMs(plan.collection.schedule, now(), plan.company.timezone) + 5 * 60_000,
        logger: logger.child({ module: 'alerts' }),
        // Decisions run under a Redis lock, so `evaluate --once` beside the workers never doubles one.
        redis: producer,
        lockPrefix: config.QUEUE_PREFIX,
      },
    }
    workerConnection = createRedis(config.REDIS_URL, 'worker')
    workerConnection.on('error', (err) => logger.warn({ err }, 'redis (worker) error'))
    const start = (key: QueueKey, processor: Processor, concurrency: number) => {
      const worker = new Worker(QUEUES[key].name, processor, { connection: workerConnection!, prefix: config.QUEUE_PREFIX, concurrency })
      worker.on('failed', (job, err) => logger.warn({ queue: key, jobId: job?.id, attempts: job?.attemptsMade, err }, 'job failed'))
      worker.on('error', (err) => logger.error({ queue: key, err }, 'worker error'))
      workers.push(worker)
    }
    const accounts = planAccounts(plan)
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
      createCollectProcessor({ plan, ch, writers, collectors, secret: config.secret, lookbackDays: plan.collection.lookbackDays, now, gateFor, logger: logger.child({ module: 'collect' }) }),
      config.WORKER_CONCURRENCY,
    )
    // Evaluations run one at a time across all workers, so two never decide the same alert at once.
    await queues.evaluate.setGlobalConcurrency(1)
    start('evaluate', createEvaluateProcessor(evaluateDeps), 1)
    start('notify', createNotifyProcessor({ mailer, ch, from: config.ALERT_FROM, writers, now, logger: logger.child({ module: 'notify' }) }), 2)
  }
  if (options.scheduler) scheduler = startScheduler({ plan, queues, now, logger: logger.child({ module: 'scheduler' }) })

  let stopping: Promise<void> | undefined
  return {
    queues,
    ch,
    writers,
    evaluateDeps,
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
          await Promise.all(workers.map((worker) => worker.close(true).catch(() => undefined)))
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
