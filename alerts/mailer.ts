import { mkdir, writeFile } from 'node:fs/promises'
import { Socket } from 'node:net'
import { join } from 'node:path'
import nodemailer from 'nodemailer'
import type { Config } from '../core/config.ts'
import { SocialKpiError, connectionProblem } from '../core/errors.ts'
import { scrubSecrets, type Scrubber } from '../core/logger.ts'
import { DeliveryError } from './channels/channel.ts'

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
class TransientEmailError extends DeliveryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(false, message, { ...options, code: 'EMAIL_DELIVERY_FAILED' })
  }
}

/** The server refused the message for good (SMTP 5xx). */
class PermanentEmailError extends DeliveryError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(true, message, { ...options, code: 'EMAIL_DELIVERY_FAILED' })
  }
}

/**
 * How long an alert email waits for the mail server, mapped onto nodemailer's four timeouts
 * (nodemailer 10, lib/smtp-connection; https://nodemailer.com/smtp/). RFC 5321 §4.5.3.2 asks a
 * client to wait at least 5 min for the 220 greeting, 5 min for the reply to MAIL and to each
 * RCPT, 2 min for the one to DATA, 3 min for each block of the message to be sent, and 10 min for
 * the reply to the end of the message: a server usually delivers before it answers, so giving up
 * sooner gets the message delivered twice (§4.5.3.2.6, §6.1).
 * - `dnsTimeout`: the DNS lookup (`connectMs`; the RFC gives none).
 * - `greetingTimeout`: the 220 greeting (`greetingMs`); nodemailer also counts a STARTTLS upgrade here.
 * - `connectionTimeout`: nodemailer's deadline for the whole set-up, lookup, connect, greeting and
 *   STARTTLS: `connectMs + greetingMs`, so a connection made within `connectMs` keeps the
 *   greeting's full wait.
 * - `socketTimeout`: silence on the connection once it is up, which is every reply and every block
 *   sent: `replyMs`. It is one timer for all of them, so it is the longest of the RFC's waits, the
 *   end of the message's; the shorter ones then wait that long too, which the RFC's minimums allow.
 */
export interface SmtpTimeouts {
  connectMs: number
  greetingMs: number
  replyMs: number
}

/** The configured waits: HTTP_TIMEOUT_MS to connect, SMTP_GREETING_TIMEOUT_MS, SMTP_REPLY_TIMEOUT_MS. */
export function smtpTimeouts(config: Pick<Config, 'HTTP_TIMEOUT_MS' | 'SMTP_GREETING_TIMEOUT_MS' | 'SMTP_REPLY_TIMEOUT_MS'>): SmtpTimeouts {
  return { connectMs: config.HTTP_TIMEOUT_MS, greetingMs: config.SMTP_GREETING_TIMEOUT_MS, replyMs: config.SMTP_REPLY_TIMEOUT_MS }
}

/** RFC 5321's waits, and 15 s to connect: the configuration's defaults. */
const RFC_5321_TIMEOUTS: SmtpTimeouts = { connectMs: 15_000, greetingMs: 5 * 60_000, replyMs: 10 * 60_000 }

/**
 * nodemailer over `SMTP_URL`; without one, each message is written as an `.eml` file under
 * `outboxDir` (nodemailer's stream transport), so alerts are never silently dropped. `scrub` (the
 * process's scrubber; the patterns only when absent) cleans every subject and body.
 */
export function createMailer(options: { smtpUrl?: string; outboxDir: string; timeouts?: SmtpTimeouts; scrub?: Scrubber }): Mailer {
  const toMessage = (email: OutgoingEmail) => message(email, options.scrub ?? scrubSecrets)
  if (options.smtpUrl) {
    const timeouts = options.timeouts ?? RFC_5321_TIMEOUTS
    // The timeouts go in the options object: given as the second argument of createTransport
    // they would be message defaults, and nodemailer's own would hold.
    const transport = nodemailer.createTransport({
      url: options.smtpUrl,
      dnsTimeout: timeouts.connectMs,
      connectionTimeout: timeouts.connectMs + timeouts.greetingMs,
      greetingTimeout: timeouts.greetingMs,
      socketTimeout: timeouts.replyMs,
    })
    const target = new URL(options.smtpUrl).host
    return {
      async send(email) {
        try {
          await transport.sendMail(toMessage(email))
          return `smtp://${target}`
        } catch (cause) {
          const responseCode = (cause as { responseCode?: number }).responseCode
          const detail = responseCode ? `SMTP ${responseCode}` : (timedOut(cause, timeouts) ?? (cause as NodeJS.ErrnoException).code ?? 'connection error')
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

/** Which of nodemailer's waits ran out (its `timeoutType`), naming the setting; undefined for any other error. */
function timedOut(cause: unknown, timeouts: SmtpTimeouts): string | undefined {
  const error = cause as { code?: string; timeoutType?: string }
  if (error.code !== 'ETIMEDOUT') return undefined
  const seconds = (ms: number) => `${ms / 1000} s`
  switch (error.timeoutType) {
    case 'SOCKET_TIMEOUT':
      return `no answer within ${seconds(timeouts.replyMs)}, SMTP_REPLY_TIMEOUT_MS`
    case 'GREETING_TIMEOUT':
      return `no greeting within ${seconds(timeouts.greetingMs)}, SMTP_GREETING_TIMEOUT_MS`
    case 'UPGRADE_TIMEOUT':
      return `STARTTLS not done within ${seconds(timeouts.greetingMs)}, SMTP_GREETING_TIMEOUT_MS`
    default:
      return `could not connect within ${seconds(timeouts.connectMs + timeouts.greetingMs)}`
  }
}

const DEFAULT_TIMEOUT_MS = 15_000

/**
 * Checks that the mail server at `smtpUrl` answers and accepts the login, before a process that
 * sends alerts starts its work (nodemailer's verify(): connect, greeting, EHLO, STARTTLS when
 * offered, AUTH when the URL has a user; no message is sent). A failure is one plain
 * SocialKpiError naming SMTP_URL, classified by nodemailer's error code, the socket's code and
 * the SMTP reply code. `signal` gives up waiting (a signal came during start-up).
 */
export async function verifySmtp(smtpUrl: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  // Our socket (nodemailer's `socket` option: it connects it, and upgrades it for smtps://), so
  // that giving up closes the connection verify() would otherwise keep until its timeout.
  const socket = new Socket()
  // One short wait for every step: a check at start, not a delivery.
  const transport = nodemailer.createTransport({ url: smtpUrl, dnsTimeout: timeoutMs, connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs, socket })
  const { signal } = options
  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      socket.destroy()
      reject(signal!.reason)
    }
    if (signal?.aborted) onAbort()
    else signal?.addEventListener('abort', onAbort, { once: true })
  })
  try {
    await Promise.race([transport.verify(), aborted])
  } catch (cause) {
    signal?.throwIfAborted()
    throw new SocialKpiError('SMTP_UNAVAILABLE', `SMTP_URL (${new URL(smtpUrl).host}): ${smtpProblem(cause, timeoutMs)}`, { cause })
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort)
    transport.close()
  }
}

/** Why the mail server could not be used, in plain words. */
function smtpProblem(cause: unknown, timeoutMs: number): string {
  const error = cause as { code?: string; originalCode?: string; responseCode?: number }
  switch (error.code) {
    case 'EAUTH':
      return `the mail server refused the login${error.responseCode ? ` (SMTP ${error.responseCode})` : ''}; check the user and password in SMTP_URL`
    case 'ETIMEDOUT':
      return `no answer within ${timeoutMs / 1000} s`
    case 'EPROTOCOL':
      // A reply code means an SMTP server that turned us away (421 at the greeting); none, something else.
      if (error.responseCode !== undefined) return `the mail server refused the connection (SMTP ${error.responseCode})`
      return 'something answers there that does not speak SMTP (is it the right port?)'
    case 'ETLS':
      return `STARTTLS failed${error.originalCode ? ` (${error.originalCode})` : ''}`
    case 'EDNS':
    case 'ESOCKET':
    case 'ECONNECTION': {
      const problem = connectionProblem(error.originalCode)
      if (problem) return problem
      break
    }
  }
  if (error.responseCode !== undefined) return `the mail server refused the connection (SMTP ${error.responseCode})`
  return `the mail server could not be used (${error.code ?? 'error'})`
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
    messageId: messageId(email),
  }
}

/**
 * The same Message-ID every time a notification is sent, so a mail client or server can drop a
 * copy sent again after a reply that came too late (RFC 5321 §4.5.3.2.6). On the right the
 * sender's domain (RFC 5322 §3.6.4), so two installations whose plans share KPI ids and whose
 * rounds fall on the same instant do not send one mailbox two different alerts under one id.
 */
function messageId(email: OutgoingEmail): string {
  const domain = /@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)>?\s*$/.exec(email.from)?.[1] ?? 'social-kpi.local'
  return `<${email.id.replace(/[^\w.-]/g, '_')}@${domain}>`
}
