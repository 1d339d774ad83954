import { UnrecoverableError, type Job } from 'bullmq'
import { toClickHouseTime, type ClickHouse } from '../core/clickhouse.ts'
import type { Logger } from '../core/logger.ts'
import { parsePayload } from '../core/queues.ts'
import { CHART_CID, renderKpiChartPng } from '../alerts/chart.ts'
import { renderReviewChartPng } from '../alerts/review-chart.ts'
import { PermanentEmailError, type Mailer, type OutgoingEmail } from '../alerts/mailer.ts'
import type { NotificationDelivery, Writers } from './writers.ts'

export interface NotifyDeps {
  mailer: Mailer
  /** Where deliveries are recorded; a job retried after its email went out is not sent again. */
  ch?: Pick<ClickHouse, 'rows'>
  from: string
  writers: Writers
  now: () => Date
  logger: Logger
}

/**
 * Sends one alert email and records how the job ended: `sent`; `failed` when the server refused it
 * for good (5xx: not retried); `undelivered` when its last try failed (4xx, a dropped connection):
 * the next evaluation sends it again (alerts/redelivery.ts). A notification not sent is also a
 * loud error line; `social-kpi status` lists it until it goes out.
 */
export function createNotifyProcessor(deps: NotifyDeps) {
  return async (job: Job) => {
    const payload = parsePayload('notify', job.data)
    const attempts = job.attemptsMade + 1
    const record = (delivery: NotificationDelivery, deliveredTo: string) =>
      deps.writers.notifications.write(
        [
          {
            notification_id: payload.notificationId,
            alert_key: payload.alertKey,
            event: payload.event,
            decided_at: toClickHouseTime(new Date(payload.decidedAt)),
            recipients: payload.to,
            subject: payload.subject,
            delivery,
            delivered_to: deliveredTo,
            attempt_id: job.id ?? payload.notificationId,
            attempts,
            // Kept until it is sent, so the next evaluation can send it again even if Redis lost the job.
            payload: delivery === 'undelivered' ? JSON.stringify(payload) : '',
            written_at: toClickHouseTime(deps.now()),
          },
        ],
        { flushNow: true },
      )
    // A worker that died after sending but before completing the job hands it to another worker:
    // the recorded delivery keeps that from becoming a second email.
    if (deps.ch) {
      const [sent] = await deps.ch.rows<{ delivered_to: string }>(
        "SELECT delivered_to FROM alert_notifications FINAL WHERE notification_id = {id:String} AND delivery = 'sent' LIMIT 1",
        { id: payload.notificationId },
      )
      if (sent) {
        deps.logger.info({ notificationId: payload.notificationId }, 'already delivered; not sending again')
        return { deliveredTo: sent.delivered_to, alreadySent: true }
      }
    }
    // The chart is drawn now, from the numbers in the payload; an alert is never held up by it.
    const inline: OutgoingEmail['inline'] = []
    if (payload.chart) {
      try {
        inline.push({ cid: CHART_CID, filename: 'kpi-chart.png', contentType: 'image/png', content: renderKpiChartPng(payload.chart) })
      } catch (err) {
        deps.logger.warn({ err, alertKey: payload.alertKey }, 'the KPI chart could not be drawn; sending the email without it')
      }
    }
    // A period review's charts, one per objective; likewise never holding the email up.
    for (const { cid, chart } of payload.charts ?? []) {
      try {
        inline.push({ cid, filename: `${cid.split('@')[0]}.png`, contentType: 'image/png', content: renderReviewChartPng(chart) })
      } catch (err) {
        deps.logger.warn({ err, alertKey: payload.alertKey, cid }, 'a review chart could not be drawn; sending the email without it')
      }
    }
    const attachments = (payload.attachments ?? []).map((file) => ({ filename: file.filename, contentType: file.contentType, content: file.content }))
    try {
      const deliveredTo = await deps.mailer.send({ id: payload.notificationId, from: deps.from, to: payload.to, subject: payload.subject, text: payload.text, html: payload.html, inline, attachments })
      await record('sent', deliveredTo)
      deps.logger.info({ subject: payload.subject, deliveredTo }, 'alert email delivered')
      return { deliveredTo }
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      const about = { notificationId: payload.notificationId, alertKey: payload.alertKey, subject: payload.subject, to: payload.to, attempts, err: error }
      // Said before it is recorded: the line reaches the operator even if ClickHouse is down too.
      if (error instanceof PermanentEmailError) {
        deps.logger.error(about, 'ALERT NOT DELIVERED: the mail server refused it for good; it is not retried (listed by `social-kpi status`)')
        await record('failed', reason)
        throw new UnrecoverableError(reason)
      }
      if (attempts >= (job.opts.attempts ?? 1)) {
        deps.logger.error(about, `ALERT NOT DELIVERED after ${attempts} tries; it is sent again at the next evaluation (listed by \`social-kpi status\`)`)
        await record('undelivered', reason)
      }
      throw error
    }
  }
}
