import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { startSimulator, type RunningSimulator } from '../../simulator/index.ts'
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.ts'
import { until } from '../helpers/until.ts'
import { startWebhookReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts'
import { adminReader, adminRows, CHAOS_AT, describeInconsistencies, dropKeys, killLeftovers, rawVersusFinal, recordFigures, scratch, startProcess, writePlan, type StartedProcess } from './bed.ts'

/**
 * `social-kpi start` whose first round raises five KPI alerts, each to email, Slack and a signed
 * webhook, while the receivers are slow or push back: the mail server answers the end of one
 * email after HTTP_TIMEOUT_MS (within SMTP_REPLY_TIMEOUT_MS), Slack answers the first message 429
 * with `Retry-After: 1`, and the webhook answers one 410 Gone. Each email and Slack message must
 * arrive exactly once, the Slack retry no sooner than asked, the 410 be recorded and not tried
 * again. test/integration/delivery-waits.test.ts drives the notify worker alone; this is the whole
 * process, configured through its environment.
 */
const REDIS_URL = 'redis://127.0.0.1:6379'
const SLACK_PATH = '/services/T0001/B0002/chaos-slack'
const HOOK_PATH = '/hooks/chaos'
let sim: RunningSimulator | undefined
let smtp: TestSmtp | undefined
let receiver: WebhookReceiver | undefined
let started: StartedProcess | undefined
const dirs = scratch('slow')

afterAll(async () => {
  await started?.stop(15_000)
  killLeftovers()
  await sim?.close()
  await smtp?.close()
  await receiver?.close()
  await dropKeys(REDIS_URL, dirs.queuePrefix)
  dirs.cleanup()
})

// The five alerts of the round at CHAOS_AT (the Facebook KPIs behind their pace); one email answered late.
const SLOW = 'Facebook followers (both Pages) by the end of the quarter'
const ALERTS = 5

describe('a slow mail server, Slack asking to wait, a webhook gone', () => {
  it('delivers each email and Slack message once, waits as Slack asked, and records the 410 without trying again', async () => {
    sim = await startSimulator({ now: () => new Date(CHAOS_AT), seed: 42 })
    smtp = await startTestSmtp()
    receiver = await startWebhookReceiver()
    // 3.5 s: past HTTP_TIMEOUT_MS (1.5 s), within SMTP_REPLY_TIMEOUT_MS (10 s).
    smtp.answerLate(1, 3_500, SLOW)
    receiver.failNext(SLACK_PATH, 1, 429, 'rate_limited', { 'Retry-After': '1' })
    receiver.failNext(HOOK_PATH, 1, 410, 'gone')
    const { file, plan } = writePlan(dirs.dataDir, {
      accounts: ['kopi-nusantara', 'kopi-nusantara-linkedin'],
      crisisTriggers: false,
      alerting: {
        channels: { 'team-slack': { type: 'slack', urlEnv: 'TEAM_SLACK_WEBHOOK_URL' }, 'ops-hook': { type: 'webhook', urlEnv: 'OPS_WEBHOOK_URL', secretEnv: 'OPS_WEBHOOK_SECRET' } },
        routes: [{ channels: ['team-slack', 'ops-hook'] }],
      },
    })
    started = startProcess({
      planFile: file,
      plan,
      dataDir: dirs.dataDir,
      queuePrefix: dirs.queuePrefix,
      simulatorUrl: sim.url,
      smtpUrl: smtp.url,
      clockStart: CHAOS_AT,
      env: {
        HTTP_TIMEOUT_MS: '1500',
        SMTP_REPLY_TIMEOUT_MS: '10000',
        TEAM_SLACK_WEBHOOK_URL: receiver.url(SLACK_PATH),
        OPS_WEBHOOK_URL: receiver.url(HOOK_PATH),
        OPS_WEBHOOK_SECRET: 'whsec-for-the-chaos-suite',
      },
    })
    const app = started
    await app.untilOutput('Running:')

    // Every notification's job ended: 5 emails, 5 Slack messages, 5 webhook calls.
    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null })
    const notify = new Queue('notify', { connection, prefix: dirs.queuePrefix })
    try {
      await until(
        'the notify jobs ended',
        async () => {
          const counts = await notify.getJobCounts('completed', 'failed')
          return counts.completed! + counts.failed! === 3 * ALERTS
        },
        60_000,
      )
      const failed = await notify.getJobs(['failed'])
      expect(failed.map((j) => j.id)).toEqual([expect.stringMatching(/-ops-hook$/)])
      expect(failed[0]!.attemptsMade).toBe(1)
    } finally {
      await notify.close()
      connection.disconnect()
    }

    // The mail server: each alert accepted once, the slow one included.
    expect(smtp.messages).toHaveLength(ALERTS)
    expect(new Set(smtp.messages.map((m) => m.subject)).size).toBe(ALERTS)
    expect(smtp.attempts.filter((a) => a.subject.includes(SLOW)).map((a) => a.outcome)).toEqual(['accepted'])
    // Slack: five messages, the throttled one tried again no sooner than it asked.
    const slack = receiver.requests.filter((r) => r.path === SLACK_PATH)
    const throttled = slack.find((r) => r.status === 429)!
    const retried = slack.filter((r) => r.body === throttled.body)
    expect(retried.map((r) => r.status)).toEqual([429, 200])
    expect(retried[1]!.receivedAtMs - retried[0]!.receivedAtMs).toBeGreaterThanOrEqual(1_000)
    expect(receiver.accepted(SLACK_PATH)).toHaveLength(ALERTS)
    // The webhook: the 410 once, never again; the other four accepted.
    const hook = receiver.requests.filter((r) => r.path === HOOK_PATH)
    expect(hook.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 410])

    const recorded = await adminRows<{ channel: string; delivery: string; attempts: number; subject: string }>(
      dirs.dataDir,
      'SELECT channel, delivery, attempts, subject FROM alert_notifications FINAL ORDER BY channel, subject',
    )
    const outcomes = (channel: string) => recorded.filter((r) => r.channel === channel).map((r) => `${r.delivery} after ${r.attempts}`)
    expect(outcomes('email')).toEqual(Array(ALERTS).fill('sent after 1'))
    expect(outcomes('team-slack').sort()).toEqual([...Array(ALERTS - 1).fill('sent after 1'), 'sent after 2'])
    expect(outcomes('ops-hook').sort()).toEqual(['failed after 1', ...Array(ALERTS - 1).fill('sent after 1')])
    const errors = app.logs.filter((l) => l.level === 'error' || l.level === 'fatal' || l.level === 'raw')
    expect(errors.map((l) => l.msg)).toEqual(['ALERT NOT DELIVERED: channel "ops-hook" refused it for good; it is not retried (listed by `social-kpi status`)'])

    const raw = await rawVersusFinal(adminReader(dirs.dataDir))
    expect(describeInconsistencies(raw)).toEqual([])
    recordFigures({
      scenario: '5 slow SMTP answer, Slack 429 Retry-After, webhook 410',
      rowsLost: 0,
      duplicates:
        smtp.messages.length -
        new Set(smtp.messages.map((m) => m.subject)).size +
        (slack.filter((r) => r.status === 200).length - new Set(slack.filter((r) => r.status === 200).map((r) => r.body)).size),
      rawVersusFinal: raw.inconsistencies,
      emailsExpected: ALERTS,
      emailsSent: smtp.messages.length,
      note: 'the email answered after 3.5 s (HTTP_TIMEOUT_MS 1.5 s) sent once; Slack retried ≥ 1 s after its 429; the 410 recorded as failed after 1 try',
    })
    expect((await app.stop()).code).toBe(0)
  })
})
