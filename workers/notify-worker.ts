import type { Job } from 'bullmq'
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
}

/**
 * The notify queue's processor: one notification on its channel (email, Slack, webhook), delivered
 * and recorded by alerts/channels/delivery.ts; a permanent failure ends the job without retries.
 */
export function createNotifyProcessor(deps: NotifyDeps) {
  const email = emailChannel({ mailer: deps.mailer, from: deps.from, logger: deps.logger })
  const channel = (name: string | undefined) => (name === undefined || name === 'email' ? email : deps.channels?.get(name))
  return async (job: Job) => {
    const payload = parsePayload('notify', job.data)
    return deliverNotification({ channel, ch: deps.ch, writers: deps.writers, now: deps.now, logger: deps.logger }, payload, {
      jobId: job.id,
      attempt: job.attemptsMade + 1,
      // `opts` may be absent on a job built by hand (a test); a job from the queue always has it.
      attempts: job.opts?.attempts ?? 1,
    })
  }
}
