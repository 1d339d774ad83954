import { UnrecoverableError } from 'bullmq'
import { toClickHouseTime, type ClickHouse } from '../../core/clickhouse.ts'
import type { Logger } from '../../core/logger.ts'
import type { NotificationDelivery, Writers } from '../../core/tables.ts'
import { DeliveryError, isPermanentFailure, type Channel, type Notification } from './channel.ts'

export interface DeliveryDeps {
  /** The channel a notification names (absent: email), or undefined when the plan no longer has it. */
  channel(name: string | undefined): Channel | undefined
  /** Where deliveries are recorded; a job retried after its notification went out is not sent again. */
  ch?: Pick<ClickHouse, 'rows'>
  writers: Writers
  now: () => Date
  logger: Logger
  /**
   * The longest wait a receiver's Retry-After is honoured for (NOTIFY_RETRY_AFTER_MAX_MS). Asked
   * for longer, the notification's tries end: undelivered, sent again at the next evaluation.
   */
  retryAfterMaxMs: number
}

/** The notify job being run: its id, this try (1-based) and how many it may make. */
export interface DeliveryAttempt {
  jobId: string | undefined
  /**
   * Every start of the job counts, whether it came after the queue's backoff or after a wait the
   * receiver asked for, so `attempts` bounds both.
   */
  attempt: number
  attempts: number
  /**
   * Puts the job off for `ms` (the receiver's Retry-After) in place of the queue's backoff; it
   * never returns. Absent when the job cannot be put off (one run by hand).
   */
  putOff?(ms: number): Promise<never>
}

/**
 * Ends a notify job whose tries ran out, recorded `undelivered`. The queue counts only the tries
 * that failed, not those that waited as the receiver asked, so it would try again without this.
 */
export class TriesRanOut extends UnrecoverableError {}

/**
 * Delivers one notification on its channel, the same way for every channel, and records how the
 * job ended: `sent`; `failed` when the channel refused it for good (SMTP 5xx, Slack 410, a
 * webhook's 4xx): not retried; `undelivered` when its last try failed (SMTP 4xx, a timeout, HTTP
 * 429 or 5xx), or the receiver asked to wait longer than `retryAfterMaxMs`: the next evaluation
 * sends it again (alerts/redelivery.ts). A Retry-After within that bound puts the next try off by
 * as long as asked. A notification not sent is also a loud error line; `social-kpi status` lists
 * it until it goes out.
 */
export async function deliverNotification(deps: DeliveryDeps, notification: Notification, attempt: DeliveryAttempt): Promise<{ deliveredTo: string; alreadySent?: true }> {
  const name = notification.channel ?? 'email'
  const record = (delivery: NotificationDelivery, deliveredTo: string) =>
    deps.writers.notifications.write(
      [
        {
          notification_id: notification.notificationId,
          alert_key: notification.alertKey,
          event: notification.event,
          channel: name,
          decided_at: toClickHouseTime(new Date(notification.decidedAt)),
          recipients: notification.to,
          subject: notification.subject,
          delivery,
          delivered_to: deliveredTo,
          attempt_id: attempt.jobId ?? notification.notificationId,
          attempts: attempt.attempt,
          // Kept until it is sent, so the next evaluation can send it again even if Redis lost the job.
          payload: delivery === 'undelivered' ? JSON.stringify(notification) : '',
          written_at: toClickHouseTime(deps.now()),
        },
      ],
      { flushNow: true },
    )
  // A worker that died after sending but before completing the job hands it to another worker:
  // the recorded delivery keeps that from becoming a second message.
  if (deps.ch) {
    const [sent] = await deps.ch.rows<{ delivered_to: string }>("SELECT delivered_to FROM alert_notifications FINAL WHERE notification_id = {id:String} AND delivery = 'sent' LIMIT 1", {
      id: notification.notificationId,
    })
    if (sent) {
      deps.logger.info({ notificationId: notification.notificationId }, 'already delivered; not sending again')
      return { deliveredTo: sent.delivered_to, alreadySent: true }
    }
  }
  const about = { notificationId: notification.notificationId, alertKey: notification.alertKey, subject: notification.subject, channel: name, to: notification.to, attempts: attempt.attempt }
  const channel = deps.channel(notification.channel)
  if (!channel) {
    const reason = `channel "${name}" is not in the plan any more`
    deps.logger.error(about, `ALERT NOT DELIVERED: ${reason}; it is not retried (listed by \`social-kpi status\`)`)
    await record('failed', reason)
    throw new UnrecoverableError(reason)
  }
  const email = channel.type === 'email'
  const who = email ? 'the mail server' : `channel "${name}"`
  try {
    const deliveredTo = await channel.send(notification, deps.now())
    await record('sent', deliveredTo)
    deps.logger.info({ subject: notification.subject, deliveredTo }, email ? 'alert email delivered' : 'alert notification delivered')
    return { deliveredTo }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    const context = { ...about, err: error }
    // Said before it is recorded: the line reaches the operator even if ClickHouse is down too.
    if (isPermanentFailure(error)) {
      deps.logger.error(context, `ALERT NOT DELIVERED: ${who} refused it for good; it is not retried (listed by \`social-kpi status\`)`)
      await record('failed', reason)
      throw new UnrecoverableError(reason)
    }
    const lastTry = attempt.attempt >= attempt.attempts
    const askedMs = error instanceof DeliveryError ? error.retryAfterMs : undefined
    if (askedMs !== undefined && !lastTry && attempt.putOff) {
      if (askedMs <= deps.retryAfterMaxMs) {
        deps.logger.warn({ ...about, reason, waitMs: askedMs }, `${who} asked to wait ${askedMs / 1000} s: the next try comes then`)
        return attempt.putOff(askedMs)
      }
      // Tries before then would only be refused again; Slack may disable an app that keeps on.
      deps.logger.error(
        context,
        `ALERT NOT DELIVERED: ${who} asked to wait ${askedMs / 1000} s, longer than NOTIFY_RETRY_AFTER_MAX_MS; it is sent again at the next evaluation (listed by \`social-kpi status\`)`,
      )
      await record('undelivered', reason)
      throw new TriesRanOut(reason)
    }
    if (lastTry) {
      deps.logger.error(context, `ALERT NOT DELIVERED after ${attempt.attempt} tries; it is sent again at the next evaluation (listed by \`social-kpi status\`)`)
      await record('undelivered', reason)
      throw new TriesRanOut(reason)
    }
    throw error
  }
}
