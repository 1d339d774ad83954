import type { Queue, Worker } from 'bullmq'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { processAlerts, type AlertEngineDeps } from '../../alerts/engine.ts'
import { createMailer } from '../../alerts/mailer.ts'
import type { Reader } from '../../cli/reader.ts'
import { formatStatus } from '../../cli/status.ts'
import { createLogger } from '../../core/logger.ts'
import type { Redis } from '../../core/redis.ts'
import type { KpiEvaluation } from '../../kpi/evaluate.ts'
import { loadPlan, type Plan } from '../../plan/plan.ts'
import type { TestClickHouse } from '../helpers/clickhouse.ts'
import type { TestSmtp } from '../helpers/smtp.ts'
import { pause, until as waitUntil } from '../helpers/until.ts'
import { novemberEvaluation, openAlertBed, type AlertBed } from '../helpers/alert-bed.ts'

/**
 * No alert is lost when the mail server misbehaves: every notify job that ends leaves a row, one
 * whose tries ran out is an error line, is listed by `status` and goes out at the next evaluation,
 * exactly once; one refused for good is recorded and not sent again; the others are not held up.
 */
let db: TestClickHouse
let plan: Plan
let redis: Redis
let queue: Queue
let smtp: TestSmtp
let worker: Worker
let prefix: string
let bed: AlertBed
const logLines: Array<{ level: string; msg: string; subject?: string }> = []
const logger = createLogger({ level: 'info', destination: { write: (line: string) => void logLines.push(JSON.parse(line)) } })

const hours = (h: number) => new Date(Date.UTC(2026, 10, 20, 3) + h * 3_600_000)
let clock = hours(0)
const now = () => clock

beforeAll(async () => {
  bed = await openAlertBed('notify_delivery')
  ;({ db, redis, queue, prefix, smtp } = bed)
  plan = await loadPlan('examples/plan.yaml')
  const mailer = createMailer({ smtpUrl: smtp.url, outboxDir: db.dataDir, timeouts: { connectMs: 5_000, greetingMs: 5_000, replyMs: 5_000 } })
  // One email at a time, so a failing one would hold up the others if anything did.
  worker = bed.notifyWorker({ mailer, ch: db.ch, now, logger }, { concurrency: 1 })
})
afterAll(async () => {
  await worker?.close()
  await bed?.close()
})

const kpi = (id: string) => plan.kpis.find((k) => k.id === id)!
const evaluation = (id: string, at: Date): KpiEvaluation => novemberEvaluation(plan, id, 'at_risk', at, { actual: 4000, expectedToDate: 6000 })
const deps = (): AlertEngineDeps =>
  bed.engineDeps(plan, {
    redis,
    lockPrefix: prefix,
    now,
    // 3 tries 100 ms apart instead of 8 over 20 minutes
    notifyJobOptions: { attempts: 3, backoff: { type: 'fixed', delay: 100 } },
  })

const until = (what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000) => waitUntil(what, check, timeoutMs, 100)
const received = (name: string) => smtp.messages.filter((m) => m.subject?.includes(name)).length
const delivery = async () =>
  Object.fromEntries(
    (await db.ch.rows<{ alert_key: string; delivery: string; attempts: number }>('SELECT alert_key, delivery, attempts FROM alert_notifications FINAL ORDER BY alert_key')).map((r) => [
      r.alert_key,
      `${r.delivery} after ${r.attempts}`,
    ]),
  )
const jobState = async (id: string) => (await queue.getJob(id))?.getState()
const status = () => formatStatus({ rows: (query: string, params?: Record<string, unknown>) => db.ch.rows(query, params) } as unknown as Reader, { color: false, now: clock })

describe('alert emails when the mail server drops the connection or refuses', () => {
  const [dropped, slow, refused] = ['fb-likes-month', 'fb-clicks-month', 'fb-follower-growth-month']
  const nameOf = (id: string) => kpi(id).name

  it('records every ended job, alerts the operator, and sends the undelivered one at the next evaluation, once', async () => {
    // likes: the connection drops on all 3 tries, and on the first try of the next evaluation's job;
    // clicks: two 451s, then accepted; follower growth: refused for good (550).
    smtp.dropNext(4, nameOf(dropped))
    smtp.refuseNext(2, 451, nameOf(slow))
    smtp.refuseNext(1, 550, nameOf(refused))

    expect(
      await processAlerts(
        deps(),
        [dropped, slow, refused].map((id) => evaluation(id, hours(0))),
        [],
        hours(0),
      ),
    ).toBe(3)
    const firstId = (id: string) => `notify-kpi.${id}-firing-20261120T030000Z`
    await until(
      'the three jobs ended',
      async () => (await jobState(firstId(dropped))) === 'failed' && (await jobState(firstId(refused))) === 'failed' && (await jobState(firstId(slow))) === 'completed',
    )
    // The slow one went out while the other two failed; nothing of theirs arrived.
    expect([received(nameOf(dropped)), received(nameOf(slow)), received(nameOf(refused))]).toEqual([0, 1, 0])
    expect(await delivery()).toEqual({ [`kpi.${dropped}`]: 'undelivered after 3', [`kpi.${refused}`]: 'failed after 1', [`kpi.${slow}`]: 'sent after 3' })
    // The operator sees it: an error line per email not delivered, and `status` lists both.
    const errors = logLines.filter((l) => l.level === 'error').map((l) => [l.subject, l.msg])
    expect(errors).toHaveLength(2)
    expect(errors.find(([subject]) => subject?.includes(nameOf(dropped)))?.[1]).toMatch(/^ALERT NOT DELIVERED after 3 tries; it is sent again at the next evaluation/)
    expect(errors.find(([subject]) => subject?.includes(nameOf(refused)))?.[1]).toMatch(/^ALERT NOT DELIVERED: the mail server refused it for good; it is not retried/)
    const listed = (await status()).split('\n')
    const section = listed.slice(listed.indexOf('Undelivered alert emails:') + 1, listed.indexOf('Undelivered alert emails:') + 3)
    expect(section).toHaveLength(2)
    expect(section.find((l) => l.includes(nameOf(dropped)))).toMatch(
      /^ {2}20 Nov 2026, 03:00 UTC .* — tries ran out: sent again at the next evaluation \(the alert could not be delivered yet \(\w+\)\)$/,
    )
    expect(section.find((l) => l.includes(nameOf(refused)))).toMatch(/ — refused for good, not sent again: check the recipients \(the mail server refused the alert \(SMTP 550\)\)$/)

    // The next evaluation (run twice, as a retried job would) sends the undelivered one again as one new job.
    clock = hours(1)
    expect(
      await processAlerts(
        deps(),
        [dropped, slow, refused].map((id) => evaluation(id, hours(1))),
        [],
        hours(1),
      ),
    ).toBe(0)
    expect(
      await processAlerts(
        deps(),
        [dropped, slow, refused].map((id) => evaluation(id, hours(1))),
        [],
        hours(1),
      ),
    ).toBe(0)
    const retryId = `${firstId(dropped)}-retry-20261120T040000Z`
    await until('the undelivered email went out', () => received(nameOf(dropped)) === 1)
    await until('its job completed', async () => (await jobState(retryId)) === 'completed')
    clock = hours(2)
    expect(
      await processAlerts(
        deps(),
        [dropped, slow, refused].map((id) => evaluation(id, hours(2))),
        [],
        hours(2),
      ),
    ).toBe(0)
    await pause(500)

    // Each alert delivered exactly once; the refused one recorded and never sent again.
    expect([received(nameOf(dropped)), received(nameOf(slow)), received(nameOf(refused))]).toEqual([1, 1, 0])
    expect(await delivery()).toEqual({ [`kpi.${dropped}`]: 'sent after 2', [`kpi.${refused}`]: 'failed after 1', [`kpi.${slow}`]: 'sent after 3' })
    expect((await queue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed'])).map((j) => j.id).sort()).toEqual([firstId(refused), firstId(slow), firstId(dropped), retryId].sort())
    expect((await queue.getJob(firstId(refused)))?.attemptsMade).toBe(1)
    const after = (await status()).split('\n')
    expect(after.filter((l) => l.startsWith('  20 Nov 2026'))).toEqual([expect.stringContaining(nameOf(refused))])
  })
})
