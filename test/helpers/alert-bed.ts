import { readFile } from 'node:fs/promises'
import { Queue, Worker, type WorkerOptions } from 'bullmq'
import { parse } from 'yaml'
import type { AlertEngineDeps } from '../../alerts/engine.ts'
import { createMailer } from '../../alerts/mailer.ts'
import { createRedis, type Redis } from '../../core/redis.ts'
import type { KpiEvaluation } from '../../kpi/evaluate.ts'
import { parsePlan, type Plan } from '../../plan/plan.ts'
import { createNotifyProcessor, type NotifyDeps } from '../../workers/notify-worker.ts'
import { createWriters, type Writers } from '../../core/tables.ts'
import { openTestClickHouse, type TestClickHouse } from './clickhouse.ts'
import { queuePrefix } from './redis-keys.ts'
import { silentLogger } from './runtime.ts'
import { startTestSmtp, type TestSmtp } from './smtp.ts'

/**
 * What the alert engine's tests share: a migrated ClickHouse, its writers, the real Redis, a notify
 * queue of their own and an SMTP receiver on loopback.
 */
export interface AlertBed {
  db: TestClickHouse
  writers: Writers
  redis: Redis
  queue: Queue
  /** The queue prefix (also the alert lock's), unique to the test file. */
  prefix: string
  smtp: TestSmtp
  /** The alert engine on this bed (the notify queue, no lock, stale after an hour); `extra` wins. */
  engineDeps(plan: Plan, extra?: Partial<AlertEngineDeps>): AlertEngineDeps
  /**
   * A notify worker on the bed's queue, emailing the SMTP receiver (from alerts@example.com,
   * recorded by the bed's writers, Retry-After honoured up to a minute); `deps` and `options` win. The caller closes it.
   */
  notifyWorker(deps: Partial<NotifyDeps> & Pick<NotifyDeps, 'now'>, options?: Partial<WorkerOptions>): Worker
  close(): Promise<void>
}

export async function openAlertBed(name: string): Promise<AlertBed> {
  const db = await openTestClickHouse(name)
  const writers = createWriters(db.ch, { maxRows: 1000, flushIntervalMs: 20, logger: silentLogger })
  const redis = createRedis('redis://127.0.0.1:6379', 'worker')
  const prefix = queuePrefix(name.replace(/_/g, '-'))
  const queue = new Queue('notify', { connection: redis, prefix })
  const smtp = await startTestSmtp()
  return {
    db,
    writers,
    redis,
    queue,
    prefix,
    smtp,
    engineDeps: (plan, extra = {}) => ({
      plan,
      ch: db.ch,
      writers,
      notifyQueue: queue,
      tokenAdvice: () => 'renew it',
      staleAfterMs: 3_600_000,
      logger: silentLogger,
      ...extra,
    }),
    notifyWorker: (deps, options = {}) =>
      new Worker(
        'notify',
        createNotifyProcessor({ mailer: createMailer({ smtpUrl: smtp.url, outboxDir: db.dataDir }), from: 'alerts@example.com', writers, logger: silentLogger, retryAfterMaxMs: 60_000, ...deps }),
        {
          connection: redis,
          prefix,
          ...options,
        },
      ),
    async close() {
      await smtp.close()
      await writers.close()
      await queue.obliterate({ force: true })
      await queue.close()
      redis.disconnect()
      await db.cleanup()
    },
  }
}

/** A KPI evaluation of November 2026 in Jakarta, with the given status and numbers. */
export function novemberEvaluation(
  plan: Plan,
  kpiId: string,
  status: KpiEvaluation['status'],
  at: Date,
  numbers: { actual: number; expectedToDate: number } = { actual: 400, expectedToDate: 600 },
): KpiEvaluation {
  const kpi = plan.kpis.find((k) => k.id === kpiId)!
  return { kpi, evaluatedAt: at, period: { start: new Date('2026-10-31T17:00:00Z'), end: new Date('2026-11-30T17:00:00Z'), label: '2026-11' }, ...numbers, attainment: 0.44, status }
}

/**
 * The example plan with a Slack channel `team-slack` (its URL in TEAM_SLACK_WEBHOOK_URL) and a
 * signed webhook `ops-hook` (OPS_WEBHOOK_URL, OPS_WEBHOOK_SECRET): crises to the webhook, every
 * KPI alert to both.
 */
export async function planWithChannels(): Promise<Plan> {
  const document = parse(await readFile('examples/plan.yaml', 'utf8'))
  document.alerting.channels = {
    'team-slack': { type: 'slack', urlEnv: 'TEAM_SLACK_WEBHOOK_URL' },
    'ops-hook': { type: 'webhook', urlEnv: 'OPS_WEBHOOK_URL', secretEnv: 'OPS_WEBHOOK_SECRET' },
  }
  document.alerting.routes = [{ crisis: true, channels: ['ops-hook'] }, { channels: ['team-slack', 'ops-hook'] }]
  return parsePlan(document, 'channels-plan.yaml')
}
