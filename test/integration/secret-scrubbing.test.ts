import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { processScrubber, startRuntime, type Runtime } from '../../cli/runtime.ts'
import { waitForIdle, waitForJob } from '../../cli/wait.ts'
import { clockFrom } from '../../core/clock.ts'
import { createLogger, REDACTED } from '../../core/logger.ts'
import { jobIds, type Payload } from '../../core/queues.ts'
import { createRedis } from '../../core/redis.ts'
import { loadPlan, planAccounts, type Plan } from '../../plan/plan.ts'
import { simulatorEnvironment, startSimulator, type RunningSimulator } from '../../simulator/index.ts'
import { evaluateAndAlert } from '../../workers/evaluate-worker.ts'
import { xTokenAdvice } from '../../ingest/x-api.ts'
import { testConfig } from '../helpers/runtime.ts'
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.ts'
import { until } from '../helpers/until.ts'
import { speaker } from '../../core/i18n/index.ts'

/** The advice these tests read is the English one (an English plan's). */
const ENGLISH = speaker('en', 'UTC')

/**
 * Secrets scrubbed by value (issue 14, item 7). The Graph API echoes the token in its error text,
 * as it does for a malformed or invalidated token; no pattern can tell that text is a token. The
 * scrubber built in the composition root knows every token of the plan and must keep it out of the
 * log, source_health, the failed job kept in Redis and the alert emails.
 */
const START = new Date('2026-11-18T10:00:00+07:00')
const MAIN_TOKEN = 'EAAGm0PXsecretMAINpage7f3a9c'
const BANDUNG_TOKEN = 'EAAGm0PXsecretBANDUNGpage91c4'
const TOKENS = [MAIN_TOKEN, BANDUNG_TOKEN]

let sim: RunningSimulator
let smtp: TestSmtp
let runtime: Runtime
let plan: Plan
let cleanup: () => void
let config: ReturnType<typeof testConfig>['config']
const lines: string[] = []

beforeAll(async () => {
  const clock = clockFrom(START)
  sim = await startSimulator({ now: clock })
  smtp = await startTestSmtp()
  plan = await loadPlan('examples/plan.yaml')
  const tokens = Object.fromEntries(planAccounts(plan).map((account) => [account.tokenEnv, `good-token-${account.id}`]))
  const test = testConfig('scrubbing', { ...simulatorEnvironment(sim.url), ...tokens, FB_PAGE_TOKEN: MAIN_TOKEN, FB_BANDUNG_PAGE_TOKEN: BANDUNG_TOKEN, SMTP_URL: smtp.url })
  cleanup = test.cleanup
  config = test.config
  // As cli/main.ts does: one scrubber, given to the logger and to the runtime.
  const scrub = processScrubber(test.config, plan)
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(String(chunk))
      callback()
    },
  })
  const logger = createLogger({ level: 'debug', destination, scrub })
  runtime = await startRuntime({ config: test.config, plan, logger, scrub, scheduler: false, workers: true, now: clock })
})

afterAll(async () => {
  await runtime?.shutdown()
  await smtp?.close()
  await sim?.close()
  cleanup?.()
})

describe('a token the API echoes in its error text', () => {
  it('is absent from the log, source_health, the failed job in Redis and the alert emails', async () => {
    const page = (id: string) => new RegExp(`^/v25\\.0/${planAccounts(plan).find((a) => a.id === id)!.apiId}$`)
    // A failure that is not about the token (the job fails, for BullMQ to keep), and a refused token.
    sim.injectFault({ path: page('kopi-nusantara'), times: 5, status: 400, error: { message: `(#100) Malformed access token ${MAIN_TOKEN}`, code: 100 } })
    sim.injectFault({
      path: page('kopi-nusantara-bandung'),
      times: 5,
      status: 400,
      error: { message: `Error validating access token ${BANDUNG_TOKEN}: the session is invalid`, code: 190, error_subcode: 460 },
    })

    const collect = async (accountId: string) => {
      const data: Payload<'collect'> = { roundAt: START.toISOString(), network: 'facebook', accountId }
      const jobId = jobIds.collect('facebook', accountId, START)
      await runtime.queues.collect.add('collect', data, { jobId, attempts: 1 })
      return { jobId, result: await waitForJob(runtime.queues.collect, jobId, { timeoutMs: 30_000 }) }
    }
    const main = await collect('kopi-nusantara')
    const bandung = await collect('kopi-nusantara-bandung')
    expect(main.result.state).toBe('failed')
    expect(bandung.result).toMatchObject({ state: 'completed', value: { status: 'unhealthy', errorCode: '190/460' } })

    await evaluateAndAlert(runtime.evaluateDeps!, START)
    await waitForIdle(runtime.queues.notify, 30_000)
    const subjects = () => smtp.messages.map((m) => m.subject ?? '')
    await until('the ACTION NEEDED and STALE DATA emails', () => subjects().some((s) => s.includes('ACTION NEEDED')) && subjects().some((s) => s.includes('STALE DATA')), 20_000)

    const leaks = (what: string, text: string) => {
      for (const token of TOKENS) expect.soft(text, `${what} holds a token`).not.toContain(token)
    }

    // 1. The log (pino, as it would reach stderr).
    const log = lines.join('')
    leaks('the log', log)
    expect.soft(log).toContain(`Malformed access token ${REDACTED}`)

    // 2. source_health.last_error.
    const health = await runtime.ch!.rows<{ account_id: string; status: string; last_error: string }>('SELECT account_id, status, last_error FROM source_health FINAL ORDER BY account_id')
    leaks('source_health', JSON.stringify(health))
    expect.soft(health.map((h) => [h.account_id, h.status])).toEqual([
      ['kopi-nusantara', 'failing'],
      ['kopi-nusantara-bandung', 'unhealthy'],
    ])
    expect.soft(health[0]!.last_error).toContain(`Malformed access token ${REDACTED}`)

    // 3. The jobs as BullMQ keeps them in Redis (failedReason, stacktrace, returnvalue, data), read raw.
    const redis = createRedis(config.REDIS_URL, 'worker')
    try {
      for (const { jobId } of [main, bandung]) {
        const hash = await redis.hgetall(`${config.QUEUE_PREFIX}:collect:${jobId}`)
        expect.soft(Object.keys(hash)).toContain('data')
        leaks(`Redis job ${jobId}`, JSON.stringify(hash))
      }
    } finally {
      redis.disconnect()
    }
    const failed = await runtime.queues.collect.getJob(main.jobId)
    expect.soft(failed?.failedReason).toContain(`Malformed access token ${REDACTED}`)
    expect.soft(failed?.stacktrace?.join('\n')).toContain(REDACTED)
    const notifyJobs = await runtime.queues.notify.getJobs(['completed', 'failed', 'waiting', 'delayed', 'active'])
    leaks('the notify jobs in Redis', JSON.stringify(notifyJobs.map((j) => j.data)))

    // 4. The alert emails, as the SMTP server received them.
    const action = smtp.messages.find((m) => m.subject?.includes('ACTION NEEDED'))
    const stale = smtp.messages.find((m) => m.subject?.includes('STALE DATA'))
    expect.soft(action?.text).toContain(`Error validating access token ${REDACTED}`)
    expect.soft(stale?.text).toContain(`Malformed access token ${REDACTED}`)
    for (const message of smtp.messages) leaks(`the email "${message.subject}"`, `${message.subject}\n${message.text}\n${message.html}`)
  })

  it('the mailer scrubs every email it sends, whatever text reaches it', async () => {
    const subject = `Token check ${MAIN_TOKEN}`
    await runtime.queues.notify.add(
      'notify',
      {
        notificationId: 'scrub-check',
        alertKey: 'source.facebook.kopi-nusantara',
        event: 'firing',
        decidedAt: START.toISOString(),
        to: ['team@example.com'],
        subject,
        text: `echoed: ${MAIN_TOKEN}`,
        html: `<p>echoed: ${MAIN_TOKEN}</p>`,
      } satisfies Payload<'notify'>,
      { jobId: 'scrub-check', attempts: 1 },
    )
    await until('the Token check email', () => smtp.messages.some((m) => m.subject?.startsWith('Token check')), 20_000)
    const email = smtp.messages.find((m) => m.subject?.startsWith('Token check'))
    expect(email?.subject).toBe(`Token check ${REDACTED}`)
    expect(email?.text?.trim()).toBe(`echoed: ${REDACTED}`)
    expect(email?.html).not.toContain(MAIN_TOKEN)
  })

  it('keeps the words of an advice that names Bearer tokens, and still scrubs a Bearer token nobody named', async () => {
    const advice = xTokenAdvice(ENGLISH, 'unauthorized', 'X_TOKEN')
    expect(advice).toContain('an app-only Bearer Token does not expire')
    const unnamed = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJrb3BpIn0.c2lnbmF0dXJl'
    await runtime.queues.notify.add(
      'notify',
      {
        notificationId: 'bearer-words',
        alertKey: 'source.x.kopi-x',
        event: 'firing',
        decidedAt: START.toISOString(),
        to: ['team@example.com'],
        subject: 'Advice words',
        text: `What to do: ${advice}\nSent: Authorization: Bearer ${unnamed}`,
        html: `<p>${advice}</p>`,
      } satisfies Payload<'notify'>,
      { jobId: 'bearer-words', attempts: 1 },
    )
    await until('the Advice words email', () => smtp.messages.some((m) => m.subject === 'Advice words'), 20_000)
    const email = smtp.messages.find((m) => m.subject === 'Advice words')
    expect(email?.text?.trim()).toBe(`What to do: ${advice}\nSent: Authorization: Bearer ***`)
  })
})
