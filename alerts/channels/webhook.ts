import { createHmac } from 'node:crypto'
import type { AlertFacts } from '../../core/queues.ts'
import { DeliveryError, postJson, type Channel, type Notification } from './channel.ts'

/**
 * A generic webhook: the alert facts as a versioned JSON body (docs/alerting.md, "The webhook's
 * JSON"), signed with HMAC-SHA256 over `<timestamp>.<body>` under the channel's secret, the
 * timestamp taken from the clock at each try so a receiver can refuse an old (replayed) request.
 * The body is the same on every retry and `Idempotency-Key` is the notification id, so a
 * receiver can drop a repeat.
 */

const WEBHOOK_SCHEMA = 'social-kpi.alert.v1'
const SIGNATURE_HEADER = 'X-Social-Kpi-Signature'
const TIMESTAMP_HEADER = 'X-Social-Kpi-Timestamp'

export type WebhookBody = { schema: typeof WEBHOOK_SCHEMA; id: string } & AlertFacts

function webhookBody(notification: Notification, facts: AlertFacts): WebhookBody {
  return { schema: WEBHOOK_SCHEMA, id: notification.notificationId, ...facts }
}

/** `sha256=` and the hex HMAC-SHA256 of `<timestamp>.<body>`: what a receiver recomputes and compares. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`
}

export function webhookChannel(options: { name: string; url: string; secret: string; timeoutMs: number; scrub: (text: string) => string }): Channel {
  const what = `webhook channel "${options.name}"`
  return {
    name: options.name,
    type: 'webhook',
    async send(notification, now) {
      if (!notification.facts) throw new DeliveryError(true, `${what}: the notification carries no alert facts`)
      const body = options.scrub(JSON.stringify(webhookBody(notification, notification.facts)))
      const timestamp = String(Math.floor(now.getTime() / 1000))
      await postJson(
        what,
        options.url,
        body,
        {
          [TIMESTAMP_HEADER]: timestamp,
          [SIGNATURE_HEADER]: webhookSignature(options.secret, timestamp, body),
          'Idempotency-Key': notification.notificationId,
          'X-Social-Kpi-Event': notification.facts.event,
        },
        { timeoutMs: options.timeoutMs, scrub: options.scrub, now },
      )
      return `webhook:${options.name}`
    },
  }
}
