import type { Queue } from 'bullmq'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { processAlerts, type AlertEngineDeps } from '../../alerts/engine.ts'
import { createMailer } from '../../alerts/mailer.ts'
import { openClickHouse } from '../../core/clickhouse.ts'
import { loadConfig } from '../../core/config.ts'
import type { KpiEvaluation } from '../../kpi/evaluate.ts'
import { loadPlan, type Plan } from '../../plan/plan.ts'
import type { SourceHealth } from '../../ingest/source-health.ts'
import { createNotifyProcessor } from '../../workers/notify-worker.ts'
import { createWriters, type Writers } from '../../core/tables.ts'
import type { TestClickHouse } from '../helpers/clickhouse.ts'
import { silentLogger } from '../helpers/runtime.ts'
import type { TestSmtp } from '../helpers/smtp.ts'
import { pause, until } from '../helpers/until.ts'
import { novemberEvaluation, openAlertBed, type AlertBed } from '../helpers/alert-bed.ts'

let db: TestClickHouse
let writers: Writers
let plan: Plan
let queue: Queue
let smtp: TestSmtp
let bed: AlertBed

beforeAll(async () => {
  bed = await openAlertBed('alerts')
  ;({ db, writers, queue, smtp } = bed)
  plan = await loadPlan('examples/plan.yaml')
})
afterAll(async () => bed?.close())

const hours = (h: number) => new Date(Date.UTC(2026, 10, 20) + h * 3_600_000)
/** When the notify worker sends, and when the notifications it sends were decided. */
const SENT_AT = hours(48)
const DECIDED_AT = hours(47.9).toISOString()

const evaluation = (status: KpiEvaluation['status'], at: Date): KpiEvaluation => novemberEvaluation(plan, 'fb-likes-month', status, at, { actual: 4000, expectedToDate: 6000 })

// `writers`: those of the engine after its restart (the test below opens them again).
const deps = (): AlertEngineDeps => bed.engineDeps(plan, { writers })
const jobs = async () => (await queue.getJobs(['waiting', 'delayed', 'completed', 'failed'])).map((j) => j.data.event as string)

describe('alert engine with state in ClickHouse', () => {
  it('fires once, reminds after the repeat interval, resolves once, across engine restarts', async () => {
    const noHealth: SourceHealth[] = []
    expect(await processAlerts(deps(), [evaluation('at_risk', hours(0))], noHealth, hours(0))).toBe(1)
    expect(await processAlerts(deps(), [evaluation('at_risk', hours(1))], noHealth, hours(1))).toBe(0)
    // the same evaluation retried: same decision, same job id, no second job
    expect(await processAlerts(deps(), [evaluation('unknown', hours(2))], noHealth, hours(2))).toBe(0)
    expect(await processAlerts(deps(), [evaluation('at_risk', hours(25))], noHealth, hours(25))).toBe(1)
    expect(await processAlerts(deps(), [evaluation('on_track', hours(26))], noHealth, hours(26))).toBe(1)
    expect(await processAlerts(deps(), [evaluation('on_track', hours(27))], noHealth, hours(27))).toBe(0)
    expect((await jobs()).sort()).toEqual(['firing', 'repeat', 'resolved'])
  })

  it('keeps alert state when the process restarts (state lives in ClickHouse)', async () => {
    await writers.flush()
    const database = db.ch.database
    await db.ch.close()
    db.ch = await openClickHouse({ dataDir: db.dataDir, database, url: loadConfig().CLICKHOUSE_URL })
    writers = createWriters(db.ch, { maxRows: 1000, flushIntervalMs: 20, logger: silentLogger })
    // still fine after the restart: no new "resolved"
    expect(await processAlerts(deps(), [evaluation('on_track', hours(28))], [], hours(28))).toBe(0)
    expect(await processAlerts(deps(), [evaluation('missed', hours(29))], [], hours(29))).toBe(1)
  })

  it("raises a freshness alert once when an account's data is older than its schedule allows, then resolves", async () => {
    const health = (lastSuccessAt: Date, status: SourceHealth['status'] = 'failing'): SourceHealth[] => [
      {
        network: 'facebook',
        accountId: 'kopi-nusantara',
        status,
        lastSuccessAt,
        lastErrorAt: null,
        lastErrorCode: 'API_REQUEST_FAILED',
        lastError: 'no answer',
        quotaResetsAt: null,
        updatedAt: lastSuccessAt,
      },
    ]
    await queue.obliterate({ force: true })
    const at = hours(40)
    expect(await processAlerts(deps(), [], health(hours(39)), at)).toBe(0) // 1 h old: fresh enough
    expect(await processAlerts(deps(), [], health(hours(38)), hours(40.5))).toBe(1) // 2.5 h old: stale
    expect(await processAlerts(deps(), [], health(hours(38)), hours(41))).toBe(0) // still stale: no repeat
    expect(await processAlerts(deps(), [], health(hours(41), 'healthy'), hours(41.2))).toBe(1) // fresh again
    const subjects = (await queue.getJobs(['waiting'])).map((j) => j.data.subject as string).sort()
    expect(subjects).toEqual([
      '[social-kpi] RESOLVED: facebook account "Kopi Nusantara" has fresh data again',
      `[social-kpi] STALE DATA: facebook account "Kopi Nusantara" has not been collected since ${hours(38).toISOString()}`,
    ])
  })

  it('delivers an email once when the SMTP server answers 451 twice, and records it', async () => {
    await queue.obliterate({ force: true })
    smtp.refuseNext(2, 451)
    const worker = bed.notifyWorker({ writers, now: () => SENT_AT })
    try {
      await queue.add(
        'notify',
        { notificationId: 'n-451', alertKey: 'kpi.x', event: 'firing', decidedAt: DECIDED_AT, to: ['team@example.com'], subject: 'Retry me', text: 't', html: '<p>t</p>' },
        { jobId: 'n-451', attempts: 5, backoff: { type: 'fixed', delay: 100 } },
      )
      await until('the Retry me email', () => smtp.messages.some((m) => m.subject === 'Retry me'), 20_000)
      await pause(300)
      expect(smtp.messages.filter((m) => m.subject === 'Retry me')).toHaveLength(1)
      const job = await queue.getJob('n-451')
      expect(job?.attemptsMade).toBe(3)
      const [row] = await db.ch.rows<{ delivery: string }>("SELECT delivery FROM alert_notifications FINAL WHERE notification_id = 'n-451'")
      expect(row?.delivery).toBe('sent')
      // The same notification handed out again (a worker died after sending): recorded, so not sent twice.
      const again = createNotifyProcessor({
        mailer: createMailer({ smtpUrl: smtp.url, outboxDir: db.dataDir }),
        ch: db.ch,
        from: 'alerts@example.com',
        writers,
        retryAfterMaxMs: 60_000,
        now: () => SENT_AT,
        logger: silentLogger,
      })
      expect(await again((await queue.getJob('n-451'))!)).toMatchObject({ alreadySent: true })
      expect(smtp.messages.filter((m) => m.subject === 'Retry me')).toHaveLength(1)
    } finally {
      await worker.close()
    }
  })

  it('gives up at once on a permanent 550 refusal and records the failure', async () => {
    smtp.refuseNext(1, 550)
    const worker = bed.notifyWorker({ writers, now: () => SENT_AT })
    try {
      await queue.add(
        'notify',
        { notificationId: 'n-550', alertKey: 'kpi.y', event: 'firing', decidedAt: DECIDED_AT, to: ['team@example.com'], subject: 'Refused', text: 't', html: '<p>t</p>' },
        { jobId: 'n-550', attempts: 5, backoff: { type: 'fixed', delay: 100 } },
      )
      await until('the refused job failed', async () => (await (await queue.getJob('n-550'))?.getState()) === 'failed', 10_000)
      const job = await queue.getJob('n-550')
      expect(job?.attemptsMade).toBe(1)
      const [row] = await db.ch.rows<{ delivery: string }>("SELECT delivery FROM alert_notifications FINAL WHERE notification_id = 'n-550'")
      expect(row?.delivery).toBe('failed')
    } finally {
      await worker.close()
    }
  })
})
