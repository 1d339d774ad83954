import type { Logger } from '../../core/logger.ts'
import { CHART_CID, renderKpiChartPng } from '../chart.ts'
import type { Mailer, OutgoingEmail } from '../mailer.ts'
import { renderReviewChartPng } from '../review-chart.ts'
import type { Channel, Notification } from './channel.ts'

/**
 * The email channel. Its words are rendered when the alert is decided (alerts/email.ts and the
 * group, crisis and review emails need the whole evaluation and plan, and the stored payload lets
 * an undelivered email go again as first decided); the charts are drawn here, at send time, from
 * the numbers in the payload, and never hold an alert up.
 */
export function emailChannel(options: { mailer: Mailer; from: string; logger: Logger }): Channel {
  const { mailer, from, logger } = options
  return {
    name: 'email',
    type: 'email',
    async send(notification: Notification) {
      const inline: OutgoingEmail['inline'] = []
      if (notification.chart) {
        try {
          inline.push({ cid: CHART_CID, filename: 'kpi-chart.png', contentType: 'image/png', content: renderKpiChartPng(notification.chart) })
        } catch (err) {
          logger.warn({ err, alertKey: notification.alertKey }, 'the KPI chart could not be drawn; sending the email without it')
        }
      }
      // A period review's charts, one per objective; likewise never holding the email up.
      for (const { cid, chart } of notification.charts ?? []) {
        try {
          inline.push({ cid, filename: `${cid.split('@')[0]}.png`, contentType: 'image/png', content: renderReviewChartPng(chart) })
        } catch (err) {
          logger.warn({ err, alertKey: notification.alertKey, cid }, 'a review chart could not be drawn; sending the email without it')
        }
      }
      const attachments = (notification.attachments ?? []).map((file) => ({ filename: file.filename, contentType: file.contentType, content: file.content }))
      return mailer.send({ id: notification.notificationId, from, to: notification.to, subject: notification.subject, text: notification.text, html: notification.html, inline, attachments })
    },
    close: () => mailer.close(),
  }
}
