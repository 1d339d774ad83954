import type { Queue } from 'bullmq'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { processAlerts, type AlertEngineDeps } from '../../alerts/engine.ts'
import { createMailer } from '../../alerts/mailer.ts'
import { openClickHouse, toClickHouseTime } from '../../core/clickhouse.ts'
import { loadConfig } from '../../core/config.ts'
import type { KpiEvaluation } from '../../kpi/evaluate.ts'
import { loadPlan, parsePlan, type Plan } from '../../plan/plan.ts'
import type { SourceHealth } from '../../ingest/source-health.ts'
import { evaluateAll, type EvaluateDeps } from '../../workers/evaluate-worker.ts'
import { createNotifyProcessor } from '../../workers/notify-worker.ts'
import { createWriters, type Writers } from '../../core/tables.ts'
import type { TestClickHouse } from '../helpers/clickhouse.ts'
import { silentLogger } from '../helpers/runtime.ts'
import type { TestSmtp } from '../helpers/smtp.ts'
import { pause, until } from '../helpers/until.ts'
import { novemberEvaluation, openAlertBed, type AlertBed } from '../helpers/alert-bed.ts'
import { observation } from '../helpers/observations.ts'

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
      `[social-kpi] STALE DATA: facebook account "Kopi Nusantara" has not been collected since 21 Nov 2026, 21:00 GMT+7`,
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

describe('no verdict on partial data (issue 21), through the evaluator, the engine and the stored rows', () => {
  // Two Facebook Pages in Jakarta; November 2026 is [31 Oct 17:00Z, 30 Nov 17:00Z). Rounds every
  // 15 minutes: data older than 35 minutes is stale, for the freshness alert and the evaluator.
  const pages = parsePlan(
    {
      company: { name: 'Toko Dua Halaman', timezone: 'Asia/Jakarta' },
      objectives: [{ id: 'visits', name: 'Visits' }],
      strategy: {
        networks: [
          {
            network: 'facebook',
            accounts: [
              { id: 'utama', name: 'Toko Utama', apiId: '1', tokenEnv: 'FB_TEST_TOKEN' },
              { id: 'bandung', name: 'Toko Bandung', apiId: '2', tokenEnv: 'FB_TEST_TOKEN' },
            ],
          },
        ],
      },
      kpis: [{ id: 'fb-clicks-month', name: 'Clicks on Facebook posts this month', objective: 'visits', network: 'facebook', metric: 'clicks', kind: 'total', target: 3500, period: 'month' }],
      alerting: { recipients: ['team@example.com'] },
    },
    'two-pages.yaml',
  )
  const STALE_AFTER_MS = 35 * 60_000
  const on = (account: string, ...args: Parameters<typeof observation>) => {
    const [metric, shape, objectId, observedAt, value, extra] = args
    return observation(metric, shape, objectId, observedAt, value, { ...extra, account })
  }
  const insert = (rows: ReturnType<typeof observation>[]) => db.ch.client.insert({ table: 'observations', format: 'JSONEachRow', values: rows })
  const health = (accountId: string, status: string, lastSuccessAt: string, updatedAt: string) =>
    db.ch.client.insert({
      table: 'source_health',
      format: 'JSONEachRow',
      values: [
        {
          network: 'facebook',
          account_id: accountId,
          status,
          last_success_at: toClickHouseTime(new Date(lastSuccessAt)),
          last_error_at: status === 'healthy' ? null : toClickHouseTime(new Date(updatedAt)),
          last_error_code: status === 'healthy' ? '' : 'API_REQUEST_FAILED',
          last_error: status === 'healthy' ? '' : 'the Graph API did not answer',
          refused_metrics: [],
          quota_resets_at: null,
          updated_at: toClickHouseTime(new Date(updatedAt)),
        },
      ],
    })
  const evaluateAt = async (iso: string) => {
    const at = new Date(iso)
    const deps: EvaluateDeps = { plan: pages, ch: db.ch, writers, alerts: bed.engineDeps(pages, { writers, staleAfterMs: STALE_AFTER_MS }), now: () => at, logger: silentLogger }
    const { evaluations } = await evaluateAll(deps, at)
    return evaluations.find((e) => e.kpi.id === 'fb-clicks-month')!
  }
  const sent = async () => (await queue.getJobs(['waiting', 'delayed'])).map((j) => ({ subject: j.data.subject as string, text: j.data.text as string }))
  const stored = async (at: string) =>
    db.ch.rows<{ status: string; status_reason: string; missing_accounts: string[]; actual: number | null }>(
      "SELECT status, status_reason, missing_accounts, actual FROM kpi_evaluations FINAL WHERE kpi_id = 'fb-clicks-month' AND evaluated_at = {at:DateTime64(3, 'UTC')}",
      { at: toClickHouseTime(new Date(at)) },
    )

  it('sends no KPI alert while the main Page is not collected this month, names it, and leaves it to the freshness alert', async () => {
    await queue.obliterate({ force: true })
    // utama: last read 28 Oct, failing since. bandung: read at every round; its post b1 (created
    // 2 Nov) has 460 clicks at 16 Nov 10:00 WIB.
    await insert([
      on('utama', 'followers', 'gauge', 'utama', '2026-10-28T03:00:00Z', 5000),
      on('utama', 'clicks', 'counter', 'u0', '2026-10-28T03:00:00Z', 900, { created: '2026-10-20T03:00:00Z' }),
      on('bandung', 'followers', 'gauge', 'bandung', '2026-11-16T02:45:00Z', 800),
      on('bandung', 'followers', 'gauge', 'bandung', '2026-11-16T03:00:00Z', 801),
      on('bandung', 'clicks', 'counter', 'b1', '2026-11-10T03:00:00Z', 200, { created: '2026-11-02T01:00:00Z' }),
      on('bandung', 'clicks', 'counter', 'b1', '2026-11-16T03:00:00Z', 460, { created: '2026-11-02T01:00:00Z' }),
    ])
    await health('utama', 'failing', '2026-10-28T03:00:00Z', '2026-11-16T03:00:00Z')
    await health('bandung', 'healthy', '2026-11-16T03:00:00Z', '2026-11-16T03:00:00Z')
    // 16 Nov 10:00 WIB: 15 d 10 h of 30 days, f = 0.514, 1,800 clicks expected by now. The 460 are
    // bandung's alone: judged on them it would be "at risk" (the false alert of issue 21).
    const evaluation = await evaluateAt('2026-11-16T03:00:00Z')
    expect(evaluation).toMatchObject({ status: 'unknown', reason: 'incomplete', missingAccounts: ['utama'], actual: 460, attainment: null })
    expect(await stored('2026-11-16T03:00:00Z')).toEqual([{ status: 'unknown', status_reason: 'incomplete', missing_accounts: ['utama'], actual: 460 }])
    // one email: the main Page's data is stale, naming the KPI it leaves without a verdict; no AT RISK
    const emails = await sent()
    expect(emails.map((e) => e.subject)).toEqual(['[social-kpi] STALE DATA: facebook account "Toko Utama" has not been collected since 28 Oct 2026, 10:00 GMT+7'])
    expect(emails[0]!.text).toContain('KPIs without a verdict: Clicks on Facebook posts this month (fb-clicks-month): not judged on the other accounts until this one is collected again')
  })

  it('judges the month again once the Page is collected, also right after one failed round', async () => {
    await queue.obliterate({ force: true })
    // 20 Nov 10:00 WIB: both Pages read (utama's post u1, created 3 Nov: 2,278 clicks). The 10:15
    // round fails for utama only.
    await insert([
      on('utama', 'followers', 'gauge', 'utama', '2026-11-20T03:00:00Z', 5100),
      on('utama', 'clicks', 'counter', 'u1', '2026-11-20T03:00:00Z', 2278, { created: '2026-11-03T01:00:00Z' }),
      on('bandung', 'followers', 'gauge', 'bandung', '2026-11-20T03:00:00Z', 805),
      on('bandung', 'followers', 'gauge', 'bandung', '2026-11-20T03:15:00Z', 806),
      on('bandung', 'clicks', 'counter', 'b1', '2026-11-20T03:15:00Z', 460, { created: '2026-11-02T01:00:00Z' }),
    ])
    await health('utama', 'failing', '2026-11-20T03:00:00Z', '2026-11-20T03:15:00Z')
    await health('bandung', 'healthy', '2026-11-20T03:15:00Z', '2026-11-20T03:15:00Z')
    // 10:15 WIB: utama's newest data is one round (15 minutes) old, within the window: judged on
    // both Pages, 2,278 + 460 = 2,738 against 3,500 × 0.648 = 2,267 expected: on track.
    const evaluation = await evaluateAt('2026-11-20T03:15:00Z')
    expect(evaluation).toMatchObject({ status: 'on_track', actual: 2738, missingAccounts: [] })
    expect(evaluation.reason).toBeUndefined()
    expect(await stored('2026-11-20T03:15:00Z')).toEqual([{ status: 'on_track', status_reason: '', missing_accounts: [], actual: 2738 }])
    // the freshness alert resolves; still no KPI email
    expect((await sent()).map((e) => e.subject)).toEqual(['[social-kpi] RESOLVED: facebook account "Toko Utama" has fresh data again'])
  })

  it("gives November its verdict on both Pages: the month's one failed round does not make it unjudgeable", async () => {
    // 30 Nov 23:45 WIB, the month's last round: u1 3,000, b1 600; utama's 23:30 round had failed.
    await insert([
      on('utama', 'followers', 'gauge', 'utama', '2026-11-30T16:45:00Z', 5200),
      on('utama', 'clicks', 'counter', 'u1', '2026-11-30T16:45:00Z', 3000, { created: '2026-11-03T01:00:00Z' }),
      on('bandung', 'followers', 'gauge', 'bandung', '2026-11-30T16:30:00Z', 810),
      on('bandung', 'followers', 'gauge', 'bandung', '2026-11-30T16:45:00Z', 811),
      on('bandung', 'clicks', 'counter', 'b1', '2026-11-30T16:45:00Z', 600, { created: '2026-11-02T01:00:00Z' }),
    ])
    // 1 Dec 00:05 WIB: November judged as of its end (17:00Z), both Pages read 15 minutes before:
    // 3,000 + 600 = 3,600 of 3,500, achieved.
    await evaluateAt('2026-11-30T17:05:00Z')
    const [verdict] = await db.ch.rows<{ status: string; status_reason: string; actual: number }>(
      "SELECT status, status_reason, actual FROM kpi_verdicts FINAL WHERE kpi_id = 'fb-clicks-month' AND period_label = '2026-11'",
    )
    expect(verdict).toEqual({ status: 'achieved', status_reason: '', actual: 3600 })
  })
})

describe('an ended campaign (custom period)', () => {
  // 1 – 20 Nov 2026 in Jakarta: [31 Oct 17:00Z, 20 Nov 17:00Z).
  const campaign = parsePlan(
    {
      company: { name: 'Kampanye Co', timezone: 'Asia/Jakarta' },
      objectives: [{ id: 'launch', name: 'Launch' }],
      strategy: { networks: [{ network: 'facebook', accounts: [{ id: 'kampanye', name: 'Kampanye', apiId: '9', tokenEnv: 'FB_TEST_TOKEN' }] }] },
      kpis: [{ id: 'launch-likes', name: 'Launch likes', objective: 'launch', network: 'facebook', metric: 'likes', kind: 'total', target: 100, period: { from: '2026-11-01', to: '2026-11-20' } }],
      alerting: { recipients: ['team@example.com'], repeatInterval: '24h' },
    },
    'campaign.yaml',
  )
  const state = async () => db.ch.rows<{ status: string; last_status_label: string }>("SELECT status, last_status_label FROM alert_state FINAL WHERE alert_key = 'kpi.launch-likes'")

  it('closes its open alert quietly after the end: no email, no reminder, the history says why', async () => {
    await queue.obliterate({ force: true })
    const deps = bed.engineDeps(campaign, { writers })
    const atRisk: KpiEvaluation = {
      kpi: campaign.kpis[0]!,
      evaluatedAt: new Date('2026-11-15T03:00:00Z'),
      period: { start: new Date('2026-10-31T17:00:00Z'), end: new Date('2026-11-20T17:00:00Z'), label: '2026-11-01 – 2026-11-20' },
      actual: 30,
      expectedToDate: 72,
      attainment: 0.3,
      status: 'at_risk',
    }
    // 15 Nov 10:00 WIB: at risk, one email.
    expect(await processAlerts(deps, [atRisk], [], new Date('2026-11-15T03:00:00Z'))).toBe(1)
    expect(await state()).toEqual([{ status: 'firing', last_status_label: 'at_risk' }])
    // 9 Dec 10:00 WIB, 18 days after its end: no running evaluation any more (kpi/evaluate.ts);
    // the alert closes without an email.
    expect(await processAlerts(deps, [], [], new Date('2026-12-09T03:00:00Z'))).toBe(0)
    expect(await state()).toEqual([{ status: 'ok', last_status_label: 'period_ended' }])
    const [closed] = await db.ch.rows<{ from_status: string; to_status: string; label: string; event: string }>(
      "SELECT from_status, to_status, label, event FROM alerts FINAL WHERE alert_key = 'kpi.launch-likes' ORDER BY at DESC LIMIT 1",
    )
    expect(closed).toEqual({ from_status: 'firing', to_status: 'ok', label: 'period_ended', event: '' })
    // two days later, past the repeat interval: still nothing
    expect(await processAlerts(deps, [], [], new Date('2026-12-11T03:00:00Z'))).toBe(0)
    expect((await queue.getJobs(['waiting', 'delayed'])).map((j) => j.data.event)).toEqual(['firing'])
  })
})
