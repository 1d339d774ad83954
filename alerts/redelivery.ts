import type { JobsOptions, Queue } from 'bullmq'
import { fromClickHouseTime, toClickHouseTime, type ClickHouse } from '../core/clickhouse.ts'
import type { Logger } from '../core/logger.ts'
import { NOTIFY_JOB_OPTIONS, parsePayload, timeStamp } from '../core/queues.ts'
import type { AlertNotificationRow, Writers } from '../core/tables.ts'

/** A notification older than this is not sent again: it is stale, and a newer reminder is due. */
export const REDELIVER_WITHIN_MS = 7 * 24 * 3_600_000

export interface RedeliveryDeps {
  ch: ClickHouse
  writers: Writers
  notifyQueue: Queue
  notifyJobOptions?: JobsOptions
  logger: Logger
}

/** A notification not yet sent, as stored. */
type OpenRow = Omit<AlertNotificationRow, 'delivery'> & { delivery: 'undelivered' | 'retrying' }

/** The new attempt's job id: one per notification and evaluation, so a retried evaluation adds nothing. */
const retryJobId = (notificationId: string, at: Date) => `${notificationId}-retry-${timeStamp(at)}`

/**
 * Sends again, as a new notify job, every notification whose tries ran out (`undelivered`), and
 * every one sent again whose job Redis no longer holds or that failed without a record. Runs under
 * the alert lock, before the evaluation's own decisions. Before the job is added, a `retrying` row
 * is written, so the next evaluation leaves a job on its way alone; the worker skips a notification
 * already `sent`, so nothing goes out twice. Refused ones (`failed`) are not sent again.
 * Returns how many were sent again.
 */
export async function redeliverUndelivered(deps: RedeliveryDeps, at: Date, now: Date): Promise<number> {
  const rows = await deps.ch.rows<OpenRow>(
    `SELECT notification_id, alert_key, event, channel, decided_at, recipients, subject, delivery, delivered_to, attempt_id, payload, written_at
     FROM alert_notifications FINAL
     WHERE delivery IN ('undelivered', 'retrying') AND payload != '' AND decided_at >= {since:DateTime64(3, 'UTC')} AND decided_at <= {at:DateTime64(3, 'UTC')}
     ORDER BY decided_at, notification_id`,
    { since: toClickHouseTime(new Date(at.getTime() - REDELIVER_WITHIN_MS)), at: toClickHouseTime(at) },
  )
  const again: string[] = []
  for (const row of rows) {
    const attemptId = retryJobId(row.notification_id, at)
    // This evaluation already sent it again (a retried evaluation job): the next one will.
    if (row.attempt_id === attemptId) continue
    if (row.delivery === 'retrying') {
      const job = await deps.notifyQueue.getJob(row.attempt_id)
      if (job && !(await job.isFailed())) continue
    }
    const payload = parsePayload('notify', JSON.parse(row.payload))
    // The row must replace the one it follows under FINAL, even with a clock that stands still.
    const writtenAt = new Date(Math.max(now.getTime(), fromClickHouseTime(row.written_at).getTime() + 1))
    const retrying: AlertNotificationRow = { ...row, delivery: 'retrying', attempt_id: attemptId, attempts: 0, written_at: toClickHouseTime(writtenAt) }
    await deps.writers.notifications.write([retrying], { flushNow: true })
    await deps.notifyQueue.add('notify', payload, { ...(deps.notifyJobOptions ?? NOTIFY_JOB_OPTIONS), jobId: attemptId })
    again.push(row.subject)
  }
  if (again.length) deps.logger.warn({ notifications: again }, `${again.length} alert notification(s) not delivered before: sending them again`)
  return again.length
}
