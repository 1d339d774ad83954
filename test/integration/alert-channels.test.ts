import { createHmac, timingSafeEqual } from 'node:crypto'
import type { Queue, Worker } from 'bullmq'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createChannels } from '../../alerts/channels/index.ts'
import { processAlerts, type AlertEngineDeps } from '../../alerts/engine.ts'
import { createMailer } from '../../alerts/mailer.ts'
import type { Reader } from '../../cli/reader.ts'
import { processScrubber } from '../../cli/scrubber.ts'
import { formatStatus } from '../../cli/status.ts'
import { loadConfig } from '../../core/config.ts'
import { createLogger } from '../../core/logger.ts'
import type { Redis } from '../../core/redis.ts'
import type { CrisisEvaluation } from '../../kpi/crisis.ts'
import { planAccounts, type Plan } from '../../plan/plan.ts'
import { novemberEvaluation, openAlertBed, planWithChannels, type AlertBed } from '../helpers/alert-bed.ts'
import type { TestClickHouse } from '../helpers/clickhouse.ts'
import type { TestSmtp } from '../helpers/smtp.ts'
import { until } from '../helpers/until.ts'
import { startWebhookReceiver, type ReceivedRequest, type WebhookReceiver } from '../helpers/webhook-receiver.ts'

/**
 * Alerts on Slack and a signed webhook beside email, through the real notify queue, ClickHouse
 * and loopback receivers: one message per transition and channel, the signature verifiable by a
 * receiver, Slack's 410 recorded as permanent and not retried, transient failures retried and
 * sent again at the next evaluation, and the webhook URL and secret nowhere in records or logs.
 */
const SLACK_PATH = '/services/T0001/B0002/s3cr3t-slack-path'
const HOOK_PATH = '/hooks/social-kpi'
const SIGNING_SECRET = 'whsec-for-the-test-only-7f3a'

let bed: AlertBed
let db: TestClickHouse
let redis: Redis
let queue: Queue
let prefix: string
let plan: Plan
let smtp: TestSmtp
let receiver: WebhookReceiver
let worker: Worker
const logLines: string[] = []
const logger = createLogger({ level: 'info', destination: { write: (line: string) => void logLines.push(line) } })

const hours = (h: number) => new Date(Date.UTC(2026, 10, 20, 3) + h * 3_600_000)
let clock = hours(0)
const now = () => clock

beforeAll(async () => {
  bed = await openAlertBed('alert_channels')
  ;({ db, redis, queue, prefix, smtp } = bed)
  receiver = await startWebhookReceiver()
  plan = await planWithChannels()
  const config = loadConfig({
    QUEUE_PREFIX: prefix,
    TEAM_SLACK_WEBHOOK_URL: receiver.url(SLACK_PATH),
    OPS_WEBHOOK_URL: receiver.url(HOOK_PATH),
    OPS_WEBHOOK_SECRET: SIGNING_SECRET,
  })
  const scrub = processScrubber(config, plan)
  const channels = createChannels({ plan, secret: config.secret, timeoutMs: 5_000, scrub })
  const mailer = createMailer({ smtpUrl: smtp.url, outboxDir: db.dataDir, timeouts: { connectMs: 5_000, greetingMs: 5_000, replyMs: 5_000 }, scrub })
  worker = bed.notifyWorker({ mailer, channels, ch: db.ch, now, logger }, { concurrency: 1 })
})
afterAll(async () => {
  await worker?.close()
  await receiver?.close()
  await bed?.close()
})

const deps = (): AlertEngineDeps => bed.engineDeps(plan, { redis, lockPrefix: prefix, now, notifyJobOptions: { attempts: 3, backoff: { type: 'fixed', delay: 100 } } })
const atRisk = (id: string, at: Date) => novemberEvaluation(plan, id, 'at_risk', at, { actual: 4000, expectedToDate: 6000 })
const onTrack = (id: string, at: Date) => novemberEvaluation(plan, id, 'on_track', at, { actual: 6500, expectedToDate: 6000 })
const bodies = (path: string) => receiver.accepted(path) as Array<Record<string, any>>
const record = async (id: string) =>
  (
    await db.ch.rows<{ channel: string; delivery: string; delivered_to: string; attempts: number }>(
      'SELECT channel, delivery, delivered_to, attempts FROM alert_notifications FINAL WHERE notification_id = {id:String}',
      { id },
    )
  )[0]
const jobState = async (id: string) => (await queue.getJob(id))?.getState()

/** What a receiver does: recompute the HMAC over `<timestamp>.<body>` and compare in constant time. */
function verify(request: ReceivedRequest): boolean {
  const timestamp = String(request.headers['x-social-kpi-timestamp'])
  const given = Buffer.from(String(request.headers['x-social-kpi-signature']))
  const expected = Buffer.from(`sha256=${createHmac('sha256', SIGNING_SECRET).update(`${timestamp}.${request.body}`).digest('hex')}`)
  return given.length === expected.length && timingSafeEqual(given, expected)
}

describe('alert channels: Slack and a signed webhook beside email', () => {
  it('delivers exactly one message per transition and channel, signed, recorded with its channel', async () => {
    const kpi = 'fb-likes-month'
    const name = plan.kpis.find((k) => k.id === kpi)!.name
    // fires: email + Slack + webhook
    expect(await processAlerts(deps(), [atRisk(kpi, hours(0))], [], hours(0))).toBe(3)
    // the same evaluation again (a retried job), and an hour later still failing: nothing new
    expect(await processAlerts(deps(), [atRisk(kpi, hours(0))], [], hours(0))).toBe(0)
    await until('the firing went out on every channel', () => bodies(HOOK_PATH).length === 1 && bodies(SLACK_PATH).length === 1 && smtp.messages.length === 1)
    clock = hours(1)
    expect(await processAlerts(deps(), [atRisk(kpi, hours(1))], [], hours(1))).toBe(0)
    clock = hours(2)
    expect(await processAlerts(deps(), [onTrack(kpi, hours(2))], [], hours(2))).toBe(3)
    await until('the resolved notice went out on every channel', () => bodies(HOOK_PATH).length === 2 && bodies(SLACK_PATH).length === 2 && smtp.messages.length === 2)

    // one job per transition and channel, each completed once
    const jobs = (await queue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed'])).filter((j) => j.id!.includes(kpi))
    expect(jobs.map((j) => j.id).sort()).toEqual(
      ['firing-20261120T030000Z', 'resolved-20261120T050000Z'].flatMap((e) => ['', '-team-slack', '-ops-hook'].map((c) => `notify-kpi.${kpi}-${e}${c}`)).sort(),
    )
    // received is not yet recorded: wait for the jobs to end
    await until('the six jobs completed', async () => (await Promise.all(jobs.map((j) => j.getState()))).every((state) => state === 'completed'))

    const [firing, resolved] = bodies(HOOK_PATH)
    expect(firing).toMatchObject({
      schema: 'social-kpi.alert.v1',
      id: `notify-kpi.${kpi}-firing-20261120T030000Z-ops-hook`,
      version: 1,
      kind: 'kpi',
      key: `kpi.${kpi}`,
      event: 'firing',
      transition: { from: 'ok', to: 'firing' },
      label: 'at_risk',
      severity: 'warning',
      company: plan.company.name,
      kpi: { id: kpi, name, network: 'facebook', status: 'at_risk', actual: 4000, expectedToDate: 6000, attainment: 0.44, statusReason: null, missingAccounts: [] },
      objective: { id: plan.kpis.find((k) => k.id === kpi)!.objective },
      period: { label: '2026-11', start: '2026-10-31T17:00:00.000Z', end: '2026-11-30T17:00:00.000Z' },
      since: hours(0).toISOString(),
      decidedAt: hours(0).toISOString(),
    })
    expect(firing!.title).toContain(name)
    // a resolved notice names what fired and when it started
    expect(resolved).toMatchObject({ event: 'resolved', transition: { from: 'firing', to: 'ok' }, label: 'at_risk', severity: 'warning', since: hours(0).toISOString(), actions: [] })

    const hookRequests = receiver.requests.filter((r) => r.path === HOOK_PATH)
    for (const request of hookRequests) {
      expect(verify(request)).toBe(true)
      expect(request.headers['idempotency-key']).toBe(JSON.parse(request.body).id)
      expect(request.headers['content-type']).toBe('application/json')
    }
    // the timestamp is the clock's at the try, in seconds
    expect(hookRequests.map((r) => Number(r.headers['x-social-kpi-timestamp']))).toEqual([hours(0).getTime() / 1000, hours(2).getTime() / 1000])
    // a tampered body does not verify
    expect(verify({ ...hookRequests[0]!, body: hookRequests[0]!.body.replace('"at_risk"', '"on_track"') })).toBe(false)

    const [slackFiring, slackResolved] = bodies(SLACK_PATH)
    expect(slackFiring!.text).toBe(`:large_orange_circle: ${firing!.title}`)
    expect(JSON.stringify(slackFiring!.blocks)).toContain('*Actual*\\n4,000')
    expect(slackResolved!.text).toMatch(/^:white_check_mark: RESOLVED: /)

    expect(await record(`notify-kpi.${kpi}-firing-20261120T030000Z`)).toMatchObject({ channel: 'email', delivery: 'sent' })
    expect(await record(`notify-kpi.${kpi}-firing-20261120T030000Z-team-slack`)).toMatchObject({ channel: 'team-slack', delivery: 'sent', delivered_to: 'slack:team-slack', attempts: 1 })
    expect(await record(`notify-kpi.${kpi}-resolved-20261120T050000Z-ops-hook`)).toMatchObject({ channel: 'ops-hook', delivery: 'sent', delivered_to: 'webhook:ops-hook' })
    const history = await db.ch.rows<{ event: string; channels: string[] }>('SELECT event, channels FROM alerts FINAL WHERE alert_key = {key:String} ORDER BY at', { key: `kpi.${kpi}` })
    expect(history).toEqual([
      { event: 'firing', channels: ['team-slack', 'ops-hook'] },
      { event: 'resolved', channels: ['team-slack', 'ops-hook'] },
    ])
  })

  it('records a 410 from Slack as permanent and does not retry it; the other channels are not held up', async () => {
    const kpi = 'fb-clicks-month'
    clock = hours(3)
    receiver.failNext(SLACK_PATH, 1, 410, 'channel_is_archived')
    const slackId = `notify-kpi.${kpi}-firing-20261120T060000Z-team-slack`
    const before = { hook: bodies(HOOK_PATH).length, mails: smtp.messages.length }
    expect(await processAlerts(deps(), [atRisk(kpi, hours(3))], [], hours(3))).toBe(3)
    await until('the Slack job failed', async () => (await jobState(slackId)) === 'failed')
    await until('the others went out', () => bodies(HOOK_PATH).length === before.hook + 1 && smtp.messages.length === before.mails + 1)
    expect((await queue.getJob(slackId))?.attemptsMade).toBe(1)
    expect(await record(slackId)).toEqual({ channel: 'team-slack', delivery: 'failed', delivered_to: 'Slack channel "team-slack": refused for good (HTTP 410: channel_is_archived)', attempts: 1 })
    expect(receiver.requests.filter((r) => r.path === SLACK_PATH && r.status === 410)).toHaveLength(1)
    // the next evaluation does not send it again
    clock = hours(4)
    expect(await processAlerts(deps(), [atRisk(kpi, hours(4))], [], hours(4))).toBe(0)
    expect(await queue.getJob(`${slackId}-retry-20261120T070000Z`)).toBeUndefined()
    const line = logLines.map((l) => JSON.parse(l) as { msg: string; channel?: string }).find((l) => l.channel === 'team-slack' && l.msg.startsWith('ALERT NOT DELIVERED'))
    expect(line?.msg).toBe('ALERT NOT DELIVERED: channel "team-slack" refused it for good; it is not retried (listed by `social-kpi status`)')
    // status names the channel and points at its settings, not at email recipients
    const listed = (await formatStatus({ rows: (query: string, params?: Record<string, unknown>) => db.ch.rows(query, params) } as unknown as Reader, { color: false, now: hours(4) })).split('\n')
    const entry = listed.find((l) => l.includes('[channel team-slack]'))
    expect(entry).toContain('refused for good, not sent again: check alerting.channels.team-slack and the URL its variable holds')
    expect(entry).toContain('(Slack channel "team-slack": refused for good (HTTP 410: channel_is_archived))')
  })

  it('retries 5xx and 429, and sends a notification whose tries ran out again at the next evaluation, once, on its channel', async () => {
    const kpi = 'fb-comments-week'
    clock = hours(5)
    // the webhook: a 503 and a 429, then accepted; Slack: three 500s, so the job's tries run out
    receiver.failNext(HOOK_PATH, 1, 503)
    receiver.failNext(HOOK_PATH, 1, 429)
    receiver.failNext(SLACK_PATH, 3, 500, 'rollup_error')
    const hookId = `notify-kpi.${kpi}-firing-20261120T080000Z-ops-hook`
    const slackId = `notify-kpi.${kpi}-firing-20261120T080000Z-team-slack`
    const evaluation = (at: Date) => ({ ...atRisk(kpi, at), period: { start: new Date('2026-11-15T17:00:00Z'), end: new Date('2026-11-22T17:00:00Z'), label: '2026-W47' } })
    expect(await processAlerts(deps(), [evaluation(hours(5))], [], hours(5))).toBe(3)
    await until('the webhook job completed', async () => (await jobState(hookId)) === 'completed')
    await until('the Slack job failed', async () => (await jobState(slackId)) === 'failed')
    const tries = receiver.requests.filter((r) => r.path === HOOK_PATH && JSON.parse(r.body).id === hookId)
    expect(tries.map((r) => r.status)).toEqual([503, 429, 200])
    // every retry: the same body and idempotency key, so a receiver can drop a repeat
    expect(new Set(tries.map((r) => r.body)).size).toBe(1)
    expect(new Set(tries.map((r) => r.headers['idempotency-key'])).size).toBe(1)
    expect(await record(hookId)).toMatchObject({ channel: 'ops-hook', delivery: 'sent', attempts: 3 })
    expect(await record(slackId)).toMatchObject({ channel: 'team-slack', delivery: 'undelivered', attempts: 3, delivered_to: 'Slack channel "team-slack": not accepted yet (HTTP 500: rollup_error)' })

    clock = hours(6)
    expect(await processAlerts(deps(), [evaluation(hours(6))], [], hours(6))).toBe(0)
    expect(await processAlerts(deps(), [evaluation(hours(6))], [], hours(6))).toBe(0)
    const retryId = `${slackId}-retry-20261120T090000Z`
    await until('the undelivered Slack message went out', async () => (await jobState(retryId)) === 'completed')
    expect(await record(slackId)).toMatchObject({ channel: 'team-slack', delivery: 'sent', delivered_to: 'slack:team-slack' })
    const slackAccepted = bodies(SLACK_PATH).filter((b) => String(b.text).includes(plan.kpis.find((k) => k.id === kpi)!.name))
    expect(slackAccepted).toHaveLength(1)
  })

  it('routes a crisis to the crisis route’s channels only, with its accounts and the guide’s steps', async () => {
    clock = hours(7)
    const trigger = plan.crisis!.triggers[0]!
    const account = planAccounts(plan)[0]!
    const crisis: CrisisEvaluation = {
      trigger,
      evaluatedAt: hours(7),
      firing: true,
      accounts: [account],
      window: { from: hours(-10), to: hours(6) },
      reason: 'followers fell 7 % between two readings',
      findings: [{ account, from: hours(-10), to: hours(6), value: 65_100, reference: 70_000, reason: 'followers fell 7 % between two readings' }],
    }
    const slackBefore = receiver.requests.filter((r) => r.path === SLACK_PATH).length
    const id = `notify-crisis.${trigger.id}-firing-20261120T100000Z-ops-hook`
    expect(await processAlerts(deps(), [], [], hours(7), [crisis])).toBe(2)
    await until('the crisis reached the webhook', async () => (await jobState(id)) === 'completed')
    const body = bodies(HOOK_PATH).find((b) => b.id === id)!
    expect(body).toMatchObject({
      kind: 'crisis',
      key: `crisis.${trigger.id}`,
      event: 'firing',
      severity: 'critical',
      label: account.id,
      // the finding in words, its times in the plan's zone
      crisis: {
        reason: `followers of ${account.name} fell 7% (70,000 → 65,100) between 20 Nov 2026, 00:00 GMT+7 and 20 Nov 2026, 16:00 GMT+7`,
        accounts: [{ id: account.id, name: account.name, network: account.network }],
      },
    })
    expect(body.actions).toEqual(plan.crisis!.steps)
    expect(receiver.requests.filter((r) => r.path === SLACK_PATH)).toHaveLength(slackBefore)
  })

  it('keeps the webhook URLs and the signing secret out of job data, records and logs', async () => {
    const secrets = [SLACK_PATH.split('/').pop()!, SIGNING_SECRET]
    const jobs = JSON.stringify((await queue.getJobs(['completed', 'failed', 'waiting', 'delayed', 'active'])).map((j) => j.data))
    const rows = JSON.stringify([...(await db.ch.rows('SELECT * FROM alert_notifications')), ...(await db.ch.rows('SELECT * FROM alerts'))])
    for (const secret of secrets) {
      expect(jobs).not.toContain(secret)
      expect(rows).not.toContain(secret)
      expect(logLines.join('\n')).not.toContain(secret)
    }
    expect(jobs).toContain('team-slack')
  })
})
