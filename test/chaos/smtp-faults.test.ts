import { spawnSync } from 'node:child_process'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { startSimulator, type RunningSimulator } from '../../simulator/index.ts'
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.ts'
import { until } from '../helpers/until.ts'
import { adminReader, adminRows, CHAOS_AT, describeInconsistencies, dropKeys, killLeftovers, rawVersusFinal, recordFigures, scratch, startProcess, writePlan, type StartedProcess } from './bed.ts'

/**
 * `social-kpi start` whose first round raises five alerts while the mail server misbehaves: it
 * answers one 451 (try again later), refuses one with 550 (for good) and drops the connection on
 * one. Each alert must reach the receiver exactly once, the one refused for good be recorded,
 * said and listed, and never tried again (not at the next evaluation either), and the others not
 * wait for any of it. test/integration/notify-delivery.test.ts drives the notify worker alone
 * with short retries; this is the whole process with the queue's own.
 */
const REDIS_URL = 'redis://127.0.0.1:6379'
const AT = new Date(CHAOS_AT)
let sim: RunningSimulator | undefined
let smtp: TestSmtp | undefined
let started: StartedProcess | undefined
const dirs = scratch('smtp')

afterAll(async () => {
  await started?.stop(15_000)
  killLeftovers()
  await sim?.close()
  await smtp?.close()
  await dropKeys(REDIS_URL, dirs.queuePrefix)
  dirs.cleanup()
})

// The five alerts of the round at AT (the Facebook KPIs behind their pace).
const BUSY = 'Facebook followers (both Pages) by the end of the quarter'
const REFUSED = 'Likes (reactions) on Facebook posts this month'
const DROPPED = 'Clicks on Facebook posts this month'
const FINE = ['New Facebook followers on the main Page this month', 'Comments on Facebook posts this week']

describe('the mail server answering 451, then 550, then dropping the connection', () => {
  it('delivers each alert once, records and lists the one refused for good without trying it again, and holds up nothing else', async () => {
    sim = await startSimulator({ now: () => AT, seed: 42 })
    smtp = await startTestSmtp()
    smtp.refuseNext(1, 451, BUSY)
    smtp.refuseNext(1, 550, REFUSED)
    smtp.dropNext(1, DROPPED)
    // No crisis triggers: the Facebook KPI alerts are not held by a crisis. Evaluations every 10 s.
    const { file, plan } = writePlan(dirs.dataDir, { accounts: ['kopi-nusantara', 'kopi-nusantara-linkedin'], crisisTriggers: false, evaluateSchedule: '*/10 * * * * *' })
    const app = (started = startProcess({ planFile: file, plan, dataDir: dirs.dataDir, queuePrefix: dirs.queuePrefix, simulatorUrl: sim.url, smtpUrl: smtp.url, clockStart: CHAOS_AT }))
    await app.untilOutput('Running:')

    const outcomes = (name: string) => smtp!.attempts.filter((a) => a.subject.includes(name)).map((a) => a.outcome)
    // The two transient failures go out at their queue's next try (10 s later).
    await until('the retried emails accepted', () => outcomes(BUSY).includes('accepted') && outcomes(DROPPED).includes('accepted'), 60_000)
    // Then a scheduled evaluation (which sends again what ran out of tries), and the notify queue idle.
    const retried = app.logs.length
    await app.untilLog('a scheduled evaluation after the retries', (l) => app.logs.indexOf(l) >= retried && l.msg === 'evaluated', 60_000)
    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null })
    const notify = new Queue('notify', { connection, prefix: dirs.queuePrefix })
    try {
      await until('the notify queue idle', async () => Object.values(await notify.getJobCounts('waiting', 'active', 'delayed', 'prioritized')).every((n) => n === 0), 30_000)
      const jobs = await notify.getJobs(['completed', 'failed'])
      const refusedJob = jobs.find((j) => (j.data as { subject: string }).subject.includes(REFUSED))!
      expect(await refusedJob.getState()).toBe('failed')
      expect(refusedJob.attemptsMade).toBe(1)
      expect(jobs).toHaveLength(5)
    } finally {
      await notify.close()
      connection.disconnect()
    }

    // What the receiver saw: each alert accepted once; the refused one tried once, never again.
    expect(outcomes(BUSY)).toEqual([451, 'accepted'])
    expect(outcomes(REFUSED)).toEqual([550])
    expect(outcomes(DROPPED)).toEqual(['dropped', 'accepted'])
    for (const name of FINE) expect(outcomes(name), name).toEqual(['accepted'])
    expect(smtp.messages).toHaveLength(4)
    // Nobody waited for the retries: the untroubled alerts were accepted before either retry.
    const firstRetry = Math.min(...[BUSY, DROPPED].map((name) => smtp!.attempts.findIndex((a) => a.subject.includes(name) && a.outcome === 'accepted')))
    for (const name of FINE) expect(smtp.attempts.findIndex((a) => a.subject.includes(name))).toBeLessThan(firstRetry)

    // What is recorded: sent after its tries, or refused for good after one.
    const recorded = await adminRows<{ subject: string; delivery: string; attempts: number }>(dirs.dataDir, 'SELECT subject, delivery, attempts FROM alert_notifications FINAL ORDER BY subject')
    const byName = (name: string) => recorded.filter((r) => r.subject.includes(name)).map((r) => `${r.delivery} after ${r.attempts}`)
    expect(recorded).toHaveLength(5)
    expect(byName(BUSY)).toEqual(['sent after 2'])
    expect(byName(REFUSED)).toEqual(['failed after 1'])
    expect(byName(DROPPED)).toEqual(['sent after 2'])
    for (const name of FINE) expect(byName(name)).toEqual(['sent after 1'])

    // What the user is told: one error line for the refused alert, nothing alarming for the others, and `status` lists it.
    const errors = app.logs.filter((l) => l.level === 'error' || l.level === 'fatal' || l.level === 'raw')
    expect(errors.map((l) => l.msg)).toEqual(['ALERT NOT DELIVERED: the mail server refused it for good; it is not retried (listed by `social-kpi status`)'])
    expect(errors[0]!.subject).toContain(REFUSED)
    const status = spawnSync(process.execPath, ['bin/social-kpi.js', 'status'], {
      env: { ...process.env, DATA_DIR: dirs.dataDir, CLOCK_START: CHAOS_AT, LOG_LEVEL: 'warn' },
      encoding: 'utf8',
      timeout: 60_000,
    })
    expect(status.status).toBe(0)
    const listed = status.stdout.split('\n')
    const section = listed
      .slice(
        listed.indexOf('Undelivered alert emails:') + 1,
        listed.findIndex((l) => l.startsWith('Silences:')),
      )
      // each line starts with its time: `  26 Nov 2026, 09:00 UTC` (no --plan: English on UTC)
      .filter((l) => /^ {2}\d{1,2} \w{3} 2026, /.test(l))
    expect(section).toEqual([
      expect.stringMatching(new RegExp(`${REFUSED.replace(/[()]/g, '\\$&')}.* — refused for good, not sent again: check the recipients \\(the mail server refused the alert \\(SMTP 550\\)\\)$`)),
    ])

    // Raw rows against FINAL: each delivery's progress replaced its row; no fact written twice with other values.
    const raw = await rawVersusFinal(adminReader(dirs.dataDir))
    expect(describeInconsistencies(raw)).toEqual([])
    recordFigures({
      scenario: '3 SMTP 451, 550, dropped connection',
      rowsLost: 0,
      duplicates: smtp.messages.length - new Set(smtp.messages.map((m) => m.subject)).size,
      rawVersusFinal: raw.inconsistencies,
      emailsExpected: 4,
      emailsSent: smtp.messages.length,
      note: `5 alerts: 451 and a drop each sent once on the 2nd try; the 550 one recorded as failed after 1 try, listed by status, not retried`,
    })
    expect((await app.stop()).code).toBe(0)
  })
})
