import { DelayedError, type Job } from 'bullmq'
import type { ClickHouse } from '../core/clickhouse.ts'
import type { Logger } from '../core/logger.ts'
import { parsePayload } from '../core/queues.ts'
import { emailChannel, type Channel } from '../alerts/channels/index.ts'
import { deliverNotification } from '../alerts/channels/delivery.ts'
import type { Mailer } from '../alerts/mailer.ts'
import type { Writers } from '../core/tables.ts'

export interface NotifyDeps {
  mailer: Mailer
  /** The plan's other channels by name (alerts/channels/index.ts, createChannels). */
  channels?: ReadonlyMap<string, Channel>
  /** Where deliveries are recorded; a job retried after its notification went out is not sent again. */
  ch?: Pick<ClickHouse, 'rows'>
  from: string
  writers: Writers
  now: () => Date
  logger: Logger
  /** The longest Retry-After honoured (NOTIFY_RETRY_AFTER_MAX_MS). */
  retryAfterMaxMs: number
}

/**
 * The notify queue's processor: one notification on its channel (email, Slack, webhook), delivered
 * and recorded by alerts/channels/delivery.ts; a permanent failure ends the job without retries.
 */
export function createNotifyProcessor(deps: NotifyDeps) {
  const email = emailChannel({ mailer: deps.mailer, from: deps.from, logger: deps.logger })
  const channel = (name: string | undefined) => (name === undefined || name === 'email' ? email : deps.channels?.get(name))
  return async (job: Job, token?: string) => {
    const payload = parsePayload('notify', job.data)
    return deliverNotification({ channel, ch: deps.ch, writers: deps.writers, now: deps.now, logger: deps.logger, retryAfterMaxMs: deps.retryAfterMaxMs }, payload, {
      jobId: job.id,
      // Every start counts: the waits a receiver asked for do not count as failed tries (attemptsMade).
      attempt: Math.max(job.attemptsStarted ?? 0, job.attemptsMade + 1),
      // `opts` may be absent on a job built by hand (a test); a job from the queue always has it.
      attempts: job.opts?.attempts ?? 1,
      putOff: token
        ? async (ms) => {
            // BullMQ's own time base: its Redis scripts compare delays with the system's Date.now, not our clock.
            await job.moveToDelayed(Date.now() + ms, token)
            throw new DelayedError()
          }
        : undefined,
    })
  }
}
