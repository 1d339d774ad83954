import type { Queue, Worker } from 'bullmq'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createChannels } from '../../alerts/channels/index.ts'
import { processAlerts, type AlertEngineDeps } from '../../alerts/engine.ts'
import { createMailer, smtpTimeouts } from '../../alerts/mailer.ts'
import { processScrubber } from '../../cli/scrubber.ts'
import { loadConfig, type Config } from '../../core/config.ts'
import { createLogger } from '../../core/logger.ts'
import type { Redis } from '../../core/redis.ts'
import type { Plan } from '../../plan/plan.ts'
import { novemberEvaluation, openAlertBed, planWithChannels, type AlertBed } from '../helpers/alert-bed.ts'
import type { TestClickHouse } from '../helpers/clickhouse.ts'
import type { TestSmtp } from '../helpers/smtp.ts'
import { pause, until } from '../helpers/until.ts'
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts'

/**
 * How long a delivery waits, through the real notify queue, ClickHouse, an SMTP server and a
 * webhook receiver on loopback, with the waits scaled down through the configuration: a mail
 * server answers the end of a message after HTTP_TIMEOUT_MS and within SMTP_REPLY_TIMEOUT_MS (one
 * email, not two), or not at all (bounded, recorded, sent again at the next evaluation, with the
 * same Message-ID); Slack and a webhook ask to wait with Retry-After (the next try no sooner; a
 * wait beyond NOTIFY_RETRY_AFTER_MAX_MS ends the tries; every wait counts as a try); a webhook's
 * 410 is permanent; a receiver that answers slowly is given up on after HTTP_TIMEOUT_MS.
 */
const SLACK_PATH = '/services/T0001/B0002/waits-slack'
const HOOK_PATH = '/hooks/waits'

let bed: AlertBed
let db: TestClickHouse
let redis: Redis
let queue: Queue
let prefix: string
let plan: Plan
let smtp: TestSmtp
let receiver: WebhookReceiver
let worker: Worker
let config: Config
const logLines: Array<{ level: string; msg: string; channel?: string; subject?: string }> = []
const logger = createLogger({ level: 'info', destination: { write: (line: string) => void logLines.push(JSON.parse(line)) } })

const hours = (h: number) => new Date(Date.UTC(2026, 10, 20, 3) + h * 3_600_000)
let clock = hours(0)
const now = () => clock

beforeAll(async () => {
  bed = await openAlertBed('delivery_waits')
  ;({ db, redis, queue, prefix, smtp } = bed)
  receiver = await startWebhookReceiver()
  plan = await planWithChannels()
  // The waits scaled down: a mail server's reply may take longer than an HTTP request may.
  config = loadConfig({
    QUEUE_PREFIX: prefix,
    HTTP_TIMEOUT_MS: '800',
    SMTP_GREETING_TIMEOUT_MS: '2000',
    SMTP_REPLY_TIMEOUT_MS: '3000',
    NOTIFY_RETRY_AFTER_MAX_MS: '5000',
    TEAM_SLACK_WEBHOOK_URL: receiver.url(SLACK_PATH),
    OPS_WEBHOOK_URL: receiver.url(HOOK_PATH),
    OPS_WEBHOOK_SECRET: 'whsec-for-the-waits-test',
  })
  const scrub = processScrubber(config, plan)
  // Built as cli/runtime.ts builds them.
  const channels = createChannels({ plan, secret: config.secret, timeoutMs: config.HTTP_TIMEOUT_MS, scrub })
  const mailer = createMailer({ smtpUrl: smtp.url, outboxDir: db.dataDir, timeouts: smtpTimeouts(config), scrub })
  worker = bed.notifyWorker({ mailer, channels, ch: db.ch, now, logger, retryAfterMaxMs: config.NOTIFY_RETRY_AFTER_MAX_MS }, { concurrency: 4 })
})
afterAll(async () => {
  await worker?.close()
  await receiver?.close()
  await bed?.close()
})

const deps = (attempts = 3): AlertEngineDeps => bed.engineDeps(plan, { redis, lockPrefix: prefix, now, notifyJobOptions: { attempts, backoff: { type: 'fixed', delay: 100 } } })
const atRisk = (id: string, at: Date) => novemberEvaluation(plan, id, 'at_risk', at, { actual: 4000, expectedToDate: 6000 })
const nameOf = (id: string) => plan.kpis.find((k) => k.id === id)!.name
const record = async (id: string) =>
  (
    await db.ch.rows<{ delivery: string; delivered_to: string; attempts: number }>('SELECT delivery, delivered_to, attempts FROM alert_notifications FINAL WHERE notification_id = {id:String}', { id })
  )[0]
const jobState = async (id: string) => (await queue.getJob(id))?.getState()
const notificationId = (kpi: string, h: number, channel = '') => `notify-kpi.${kpi}-firing-${hours(h).toISOString().replace(/[-:]/g, '').replace('.000', '')}${channel}`
/** What the receiver got on `path` about this KPI (a Slack message has no id; its text names the KPI). */
const requestsAbout = (path: string, kpi: string) => receiver.requests.filter((r) => r.path === path && r.body.includes(nameOf(kpi)))
const mailsAbout = (kpi: string) => smtp.messages.filter((m) => m.subject?.includes(nameOf(kpi)))

describe('a mail server that is slow to answer the end of a message', () => {
  it('waits for the answer past HTTP_TIMEOUT_MS: the email arrives once and is recorded sent after one try', async () => {
    const kpi = 'fb-likes-month'
    clock = hours(0)
    // 1.8 s: longer than HTTP_TIMEOUT_MS (0.8 s), shorter than SMTP_REPLY_TIMEOUT_MS (3 s).
    smtp.answerLate(1, 1_800, nameOf(kpi))
    expect(await processAlerts(deps(), [atRisk(kpi, hours(0))], [], hours(0))).toBe(3)
    const id = notificationId(kpi, 0)
    await until('the email job ended', async () => ['completed', 'failed'].includes((await jobState(id)) ?? ''), 20_000)
    await pause(300)
    expect(mailsAbout(kpi)).toHaveLength(1)
    expect(smtp.attempts.filter((a) => a.subject.includes(nameOf(kpi))).map((a) => a.outcome)).toEqual(['accepted'])
    expect(await record(id)).toEqual({ delivery: 'sent', delivered_to: expect.stringMatching(/^smtp:\/\/127\.0\.0\.1:\d+$/), attempts: 1 })
    // A Message-ID derived from the notification: a copy sent again would carry the same one.
    expect(mailsAbout(kpi)[0]!.messageId).toBe(`<${id}@example.com>`)
  })

  it('gives up after SMTP_REPLY_TIMEOUT_MS, records it undelivered, and sends it at the next evaluation with the same Message-ID', async () => {
    const kpi = 'fb-clicks-month'
    clock = hours(1)
    // First try: the answer comes after the client gave up (4.5 s > 3 s), and the server keeps the
    // message; second try: no answer at all. Two tries for this alert.
    smtp.answerLate(1, 4_500, nameOf(kpi))
    smtp.answerLate(1, Infinity, nameOf(kpi))
    expect(await processAlerts(deps(2), [atRisk(kpi, hours(1))], [], hours(1))).toBe(3)
    const id = notificationId(kpi, 1)
    await until('the email job failed', async () => (await jobState(id)) === 'failed', 30_000)
    expect(await record(id)).toEqual({ delivery: 'undelivered', delivered_to: 'the alert could not be delivered yet (no answer within 3 s, SMTP_REPLY_TIMEOUT_MS)', attempts: 2 })
    const line = logLines.find((l) => l.level === 'error' && l.subject?.includes(nameOf(kpi)))
    expect(line?.msg).toMatch(/^ALERT NOT DELIVERED after 2 tries; it is sent again at the next evaluation/)
    // The server took the first copy after all: RFC 5321 §4.5.3.2.6's duplicate, recognisable by its Message-ID.
    await until('the late copy kept', () => mailsAbout(kpi).length === 1, 10_000)

    clock = hours(2)
    expect(await processAlerts(deps(2), [atRisk(kpi, hours(2))], [], hours(2))).toBe(0)
    const retryId = `${id}-retry-20261120T050000Z`
    await until('the email sent again', async () => (await jobState(retryId)) === 'completed', 20_000)
    expect(await record(id)).toMatchObject({ delivery: 'sent', attempts: 1 })
    expect(smtp.attempts.filter((a) => a.subject.includes(nameOf(kpi))).map((a) => a.outcome)).toEqual(['accepted', 'unanswered', 'accepted'])
    expect(mailsAbout(kpi).map((m) => m.messageId)).toEqual([`<${id}@example.com>`, `<${id}@example.com>`])
  })
})

describe('Slack and a webhook that ask to wait, refuse for good, or answer slowly', () => {
  it('tries again no sooner than a Retry-After asks, on a 429 and on a 503', async () => {
    const kpi = 'fb-engagement-rate-month'
    clock = hours(3)
    receiver.failNext(SLACK_PATH, 1, 429, 'rate_limited', { 'Retry-After': '1' })
    receiver.failNext(HOOK_PATH, 1, 503, 'down for maintenance', { 'Retry-After': '2' })
    expect(await processAlerts(deps(), [atRisk(kpi, hours(3))], [], hours(3))).toBe(3)
    const slackId = notificationId(kpi, 3, '-team-slack')
    const hookId = notificationId(kpi, 3, '-ops-hook')
    await until('both went out', async () => (await jobState(slackId)) === 'completed' && (await jobState(hookId)) === 'completed', 20_000)
    const slack = requestsAbout(SLACK_PATH, kpi)
    const hook = requestsAbout(HOOK_PATH, kpi)
    expect(slack.map((r) => r.status)).toEqual([429, 200])
    expect(hook.map((r) => r.status)).toEqual([503, 200])
    // Measured by the receiver: the queue's own backoff here is 100 ms.
    expect(slack[1]!.receivedAtMs - slack[0]!.receivedAtMs).toBeGreaterThanOrEqual(1_000)
    expect(hook[1]!.receivedAtMs - hook[0]!.receivedAtMs).toBeGreaterThanOrEqual(2_000)
    // Each wait counts as a try.
    expect(await record(slackId)).toEqual({ delivery: 'sent', delivered_to: 'slack:team-slack', attempts: 2 })
    expect(await record(hookId)).toEqual({ delivery: 'sent', delivered_to: 'webhook:ops-hook', attempts: 2 })
  })

  it('does not try before a wait longer than NOTIFY_RETRY_AFTER_MAX_MS: undelivered, sent again at the next evaluation, once', async () => {
    const kpi = 'ig-new-followers-month'
    clock = hours(4)
    receiver.failNext(SLACK_PATH, 1, 429, 'rate_limited', { 'Retry-After': '120' })
    expect(await processAlerts(deps(), [atRisk(kpi, hours(4))], [], hours(4))).toBe(3)
    const slackId = notificationId(kpi, 4, '-team-slack')
    await until('the Slack job failed', async () => (await jobState(slackId)) === 'failed', 20_000)
    await pause(500)
    expect(requestsAbout(SLACK_PATH, kpi)).toHaveLength(1)
    expect(await record(slackId)).toEqual({
      delivery: 'undelivered',
      delivered_to: 'Slack channel "team-slack": not accepted yet (HTTP 429: rate_limited; asked to wait 120 s)',
      attempts: 1,
    })
    const line = logLines.find((l) => l.level === 'error' && l.channel === 'team-slack')
    expect(line?.msg).toBe(
      'ALERT NOT DELIVERED: channel "team-slack" asked to wait 120 s, longer than NOTIFY_RETRY_AFTER_MAX_MS; it is sent again at the next evaluation (listed by `social-kpi status`)',
    )

    clock = hours(5)
    expect(await processAlerts(deps(), [atRisk(kpi, hours(5))], [], hours(5))).toBe(0)
    await until('the Slack message sent again', async () => (await jobState(`${slackId}-retry-20261120T080000Z`)) === 'completed', 20_000)
    expect(requestsAbout(SLACK_PATH, kpi).map((r) => r.status)).toEqual([429, 200])
    expect(await record(slackId)).toMatchObject({ delivery: 'sent' })
  })

  it('counts every wait asked for as a try: a receiver that keeps asking gets the job’s tries, no more', async () => {
    const kpi = 'x-likes-month'
    clock = hours(6)
    // As many 429s as the job has tries: a fourth try would be answered 200.
    receiver.failNext(HOOK_PATH, 3, 429, '', { 'Retry-After': '0' })
    expect(await processAlerts(deps(), [atRisk(kpi, hours(6))], [], hours(6))).toBe(3)
    const hookId = notificationId(kpi, 6, '-ops-hook')
    await until('the webhook job failed', async () => (await jobState(hookId)) === 'failed', 20_000)
    await pause(500)
    expect(requestsAbout(HOOK_PATH, kpi).map((r) => r.status)).toEqual([429, 429, 429])
    expect(await record(hookId)).toEqual({ delivery: 'undelivered', delivered_to: 'webhook channel "ops-hook": not accepted yet (HTTP 429; asked to wait 0 s)', attempts: 3 })
    // Sent again at the next evaluation, as any notification whose tries ran out.
    clock = hours(7)
    expect(await processAlerts(deps(), [atRisk(kpi, hours(7))], [], hours(7))).toBe(0)
    await until('the webhook message sent again', async () => (await jobState(`${hookId}-retry-20261120T100000Z`)) === 'completed', 20_000)
    expect(requestsAbout(HOOK_PATH, kpi).map((r) => r.status)).toEqual([429, 429, 429, 200])
  })

  it('records a webhook’s 410 Gone as permanent and does not try it again', async () => {
    const kpi = 'linkedin-followers-gained-month'
    clock = hours(8)
    receiver.failNext(HOOK_PATH, 1, 410, 'gone', { 'Retry-After': '1' })
    expect(await processAlerts(deps(), [atRisk(kpi, hours(8))], [], hours(8))).toBe(3)
    const hookId = notificationId(kpi, 8, '-ops-hook')
    await until('the webhook job failed', async () => (await jobState(hookId)) === 'failed', 20_000)
    await pause(1_500)
    expect(requestsAbout(HOOK_PATH, kpi).map((r) => r.status)).toEqual([410])
    expect(await record(hookId)).toEqual({ delivery: 'failed', delivered_to: 'webhook channel "ops-hook": refused for good (HTTP 410: gone)', attempts: 1 })
    clock = hours(9)
    expect(await processAlerts(deps(), [atRisk(kpi, hours(9))], [], hours(9))).toBe(0)
    expect(await queue.getJob(`${hookId}-retry-20261120T120000Z`)).toBeUndefined()
  })

  it('gives up on a receiver whose answer does not come within HTTP_TIMEOUT_MS, and tries again with the same body and key', async () => {
    const kpi = 'youtube-subscribers-gained-month'
    clock = hours(10)
    // No status for 3 s: given up on after the timeout, then sent again.
    receiver.answerLate(HOOK_PATH, 1, 3_000)
    expect(await processAlerts(deps(), [atRisk(kpi, hours(10))], [], hours(10))).toBe(3)
    const hookId = notificationId(kpi, 10, '-ops-hook')
    await until('the webhook job completed', async () => (await jobState(hookId)) === 'completed', 20_000)
    const tries = requestsAbout(HOOK_PATH, kpi)
    expect(tries).toHaveLength(2)
    expect(new Set(tries.map((r) => r.headers['idempotency-key']))).toEqual(new Set([hookId]))
    expect(await record(hookId)).toEqual({ delivery: 'sent', delivered_to: 'webhook:ops-hook', attempts: 2 })
  })

  it('takes a 200 whose body trickles as delivered: sent once, its body not waited for', async () => {
    const kpi = 'tiktok-views-month'
    clock = hours(11)
    receiver.answerLate(HOOK_PATH, 1, 3_000, { statusFirst: true })
    expect(await processAlerts(deps(), [atRisk(kpi, hours(11))], [], hours(11))).toBe(3)
    const hookId = notificationId(kpi, 11, '-ops-hook')
    await until('the webhook job completed', async () => (await jobState(hookId)) === 'completed', 20_000)
    expect(requestsAbout(HOOK_PATH, kpi).filter((r) => r.headers['idempotency-key'] === hookId)).toHaveLength(1)
    expect(await record(hookId)).toEqual({ delivery: 'sent', delivered_to: 'webhook:ops-hook', attempts: 1 })
  })
})
