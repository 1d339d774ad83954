import type { Readable } from 'node:stream'
import axios, { type AxiosResponse } from 'axios'
import { SocialKpiError, type ErrorCode } from '../../core/errors.ts'
import type { Payload } from '../../core/queues.ts'
import { retryAfterMs } from '../../ingest/http.ts'
import type { ChannelDefinition } from '../../plan/plan.ts'

/** One notify job's data: an email, or the facts of an alert for another channel. */
export type Notification = Payload<'notify'>

/**
 * An alert channel: email, a Slack incoming webhook, a signed webhook. Each kind is one module in
 * this folder, picked up by the registry (./index.ts); what they share (the recorded,
 * at-least-once delivery) lives once in ./delivery.ts.
 */
export interface Channel {
  /** The name routes use: `email`, or the plan's name under `alerting.channels`. */
  readonly name: string
  /** `email`, built in, or one of the kinds the plan's `alerting.channels` accepts. */
  readonly type: 'email' | ChannelDefinition['type']
  /**
   * Renders and delivers one notification; returns where it went (never a secret such as the
   * webhook URL). Throws a DeliveryError: transient ones are retried, permanent ones are not.
   * `now` is the clock's time of this try (a webhook signs it).
   */
  send(notification: Notification, now: Date): Promise<string>
  close?(): void
}

/**
 * A delivery that failed; `permanent`: it would fail the same way again, so it is not retried.
 * `retryAfterMs`: how long the receiver asked us to wait before the next try (its Retry-After).
 */
export class DeliveryError extends SocialKpiError {
  readonly permanent: boolean
  readonly retryAfterMs: number | undefined

  constructor(permanent: boolean, message: string, options?: { cause?: unknown; code?: ErrorCode; retryAfterMs?: number }) {
    super(options?.code ?? 'NOTIFICATION_DELIVERY_FAILED', message, options)
    this.permanent = permanent
    this.retryAfterMs = options?.retryAfterMs
  }
}

export const isPermanentFailure = (error: unknown): boolean => error instanceof DeliveryError && error.permanent

/**
 * The wait a receiver asked for in its Retry-After (RFC 9110 §10.2.3: seconds, or an HTTP date),
 * in ms. A date is measured from the answer's own `Date`, so neither our clock's offset
 * (CLOCK_START) nor the receiver's skew changes the wait; from `now` when it has none.
 */
export function askedWaitMs(response: Pick<AxiosResponse, 'headers'>, now: Date): number | undefined {
  const sent = Date.parse(String(response.headers.date ?? ''))
  return retryAfterMs(response as AxiosResponse, Number.isFinite(sent) ? new Date(sent) : now)
}

/** Slack answers "ok" or a short error; of a webhook receiver's answer its first words are enough. */
const ANSWER_WORDS_BYTES = 200

/**
 * The first bytes of an answer as one line of text, read for at most `withinMs`; the rest is not
 * read, and the stream is closed (a long or trickling answer costs neither memory nor time).
 */
async function firstWords(stream: Readable, withinMs: number): Promise<string> {
  let text = ''
  const timer = setTimeout(() => stream.destroy(), withinMs)
  try {
    for await (const chunk of stream) {
      text += String(chunk)
      if (text.length >= ANSWER_WORDS_BYTES) break
    }
  } catch {
    // Cut off by the timer or the receiver: what came is what is said.
  } finally {
    clearTimeout(timer)
    stream.destroy()
  }
  return text.slice(0, ANSWER_WORDS_BYTES).trim().replace(/\s+/g, ' ')
}

/**
 * POSTs a JSON body to a webhook with a timeout and no redirects, and classifies the answer:
 * 2xx delivered; 408, 429, 5xx and network trouble are transient, with the wait the receiver asked
 * for when it sent a Retry-After (Slack sends one with its 429s: docs/alerting.md, "Channels");
 * any other status is permanent (Slack's 400 invalid_payload, 403 action_prohibited or
 * invalid_token, 404 channel_not_found or no_service, 410 channel_is_archived; a receiver's 401 or
 * 422). The error names the channel and the status and, for Slack, its error string; never the
 * URL, which is the secret. `timeoutMs` bounds the wait for the answer's status (axios's timer,
 * no redirects), and then the reading of a refusal's first words; an accepted answer's body is
 * not read at all, so a receiver that trickles it cannot turn a delivery into a retry.
 */
export async function postJson(what: string, url: string, body: string, headers: Record<string, string>, options: { timeoutMs: number; scrub: (text: string) => string; now: Date }): Promise<void> {
  const { timeoutMs, scrub } = options
  let response: Awaited<ReturnType<typeof axios.post<Readable>>>
  try {
    response = await axios.post<Readable>(url, body, {
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'social-kpi', ...headers },
      timeout: timeoutMs,
      maxRedirects: 0,
      // Only the answer's first words are read (a receiver's answer, however long, costs no memory).
      responseType: 'stream',
      validateStatus: () => true,
    })
  } catch (cause) {
    // No `cause`: an axios error carries the request, and with it the URL.
    const code = axios.isAxiosError(cause) ? (cause.code ?? 'network error') : 'network error'
    throw new DeliveryError(false, `${what}: could not be reached yet (${code})`)
  }
  const { status } = response
  // Accepted: the answer's body is not needed (and a slow one must not turn a delivery into a retry).
  if (status >= 200 && status < 300) {
    response.data.destroy()
    return
  }
  const said = await firstWords(response.data, timeoutMs)
  const detail = `HTTP ${status}${said ? `: ${scrub(said)}` : ''}`
  const transient = status === 408 || status === 429 || status >= 500
  if (!transient) throw new DeliveryError(true, `${what}: refused for good (${detail})`)
  const retryAfterMs = askedWaitMs(response, options.now)
  throw new DeliveryError(false, `${what}: not accepted yet (${detail}${retryAfterMs === undefined ? '' : `; asked to wait ${retryAfterMs / 1000} s`})`, { retryAfterMs })
}
