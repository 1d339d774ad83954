import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import nodemailer from 'nodemailer'
import { SocialKpiError } from '../core/errors.ts'
import { scrubSecrets, type Scrubber } from '../core/logger.ts'

export interface OutgoingEmail {
  id: string
  from: string
  to: string[]
  subject: string
  text: string
  html: string
  /** Inline images, shown by the HTML part as `cid:<cid>`. */
  inline?: Array<{ cid: string; filename: string; contentType: string; content: Buffer }>
  /** Files attached (a period review's CSV). */
  attachments?: Array<{ filename: string; contentType: string; content: Buffer | string }>
}

export interface Mailer {
  /** Delivers the email; returns where it went (the SMTP server or the .eml file). */
  send(email: OutgoingEmail): Promise<string>
  close(): void
}

/** Delivery failed but may work later (SMTP 4xx, connection trouble). */
export class TransientEmailError extends SocialKpiError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EMAIL_DELIVERY_FAILED', message, options)
  }
}

/** The server refused the message for good (SMTP 5xx). */
export class PermanentEmailError extends SocialKpiError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EMAIL_DELIVERY_FAILED', message, options)
  }
}

/**
 * nodemailer over `SMTP_URL`; without one, each message is written as an `.eml` file under
 * `outboxDir` (nodemailer's stream transport), so alerts are never silently dropped. `scrub` (the
 * process's scrubber; the patterns only when absent) cleans every subject and body.
 */
export function createMailer(options: { smtpUrl?: string; outboxDir: string; timeoutMs?: number; scrub?: Scrubber }): Mailer {
  const toMessage = (email: OutgoingEmail) => message(email, options.scrub ?? scrubSecrets)
  if (options.smtpUrl) {
    const timeout = options.timeoutMs ?? 15_000
    const transport = nodemailer.createTransport(options.smtpUrl, { connectionTimeout: timeout, greetingTimeout: timeout, socketTimeout: timeout } as object)
    const target = new URL(options.smtpUrl).host
    return {
      async send(email) {
        try {
          await transport.sendMail(toMessage(email))
          return `smtp://${target}`
        } catch (cause) {
          const responseCode = (cause as { responseCode?: number }).responseCode
          const detail = responseCode ? `SMTP ${responseCode}` : ((cause as NodeJS.ErrnoException).code ?? 'connection error')
          if (responseCode !== undefined && responseCode >= 500) throw new PermanentEmailError(`the mail server refused the alert (${detail})`, { cause })
          throw new TransientEmailError(`the alert could not be delivered yet (${detail})`, { cause })
        }
      },
      close: () => transport.close(),
    }
  }
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' })
  return {
    async send(email) {
      const info = await transport.sendMail(toMessage(email))
      await mkdir(options.outboxDir, { recursive: true })
      const file = join(options.outboxDir, `${email.id.replace(/[^\w.-]/g, '_')}.eml`)
      await writeFile(file, info.message as Buffer)
      return file
    },
    close: () => transport.close(),
  }
}

function message(email: OutgoingEmail, scrub: Scrubber) {
  return {
    from: email.from,
    to: email.to,
    subject: scrub(email.subject),
    text: scrub(email.text),
    html: scrub(email.html),
    attachments: [
      ...(email.inline ?? []).map((image) => ({ cid: image.cid, filename: image.filename, contentType: image.contentType, content: image.content, contentDisposition: 'inline' as const })),
      ...(email.attachments ?? []).map((file) => ({ filename: file.filename, contentType: file.contentType, content: file.content, contentDisposition: 'attachment' as const })),
    ],
    // A stable Message-ID lets mail clients and servers drop a re-sent duplicate.
    messageId: `<${email.id.replace(/[^\w.-]/g, '_')}@social-kpi>`,
  }
}
