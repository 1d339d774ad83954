import { UnrecoverableError, type Job } from 'bullmq'
import { toClickHouseTime, type ClickHouse } from '../core/clickhouse.ts'
import type { Logger } from '../core/logger.ts'
import { parsePayload } from '../core/queues.ts'
import { CHART_CID, renderKpiChartPng } from '../alerts/chart.ts'
import { PermanentEmailError, type Mailer, type OutgoingEmail } from '../alerts/mailer.ts'
import type { Writers } from './writers.ts'

export interface NotifyDeps {
  mailer: Mailer
  /** Where deliveries are recorded; a job retried after its email went out is not sent again. */
  ch?: Pick<ClickHouse, 'rows'>
  from: string
  writers: Writers
  now: () => Date
  logger: Logger
}

/** Sends one alert email and records how it went. 4xx and connection errors retry; 5xx is final. */
export function createNotifyProcessor(deps: NotifyDeps) {
  return async (job: Job) => {
    const payload = parsePayload('notify', job.data)
    const record = (delivery: 'sent' | 'failed', deliveredTo: string) =>
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
    try {
      const deliveredTo = await deps.mailer.send({ id: payload.notificationId, from: deps.from, to: payload.to, subject: payload.subject, text: payload.text, html: payload.html, inline })
      await record('sent', deliveredTo)
      deps.logger.info({ subject: payload.subject, deliveredTo }, 'alert email delivered')
      return { deliveredTo }
    } catch (error) {
      if (error instanceof PermanentEmailError) {
        await record('failed', error.message)
        throw new UnrecoverableError(error.message)
      }
      throw error
    }
  }
}
