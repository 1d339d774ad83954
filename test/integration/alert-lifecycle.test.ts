import { Queue } from 'bullmq'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { readFileSync } from 'node:fs'
import { processAlerts, type AlertEngineDeps } from '../../alerts/engine.ts'
import { addSilence, clickHouseSilenceStore, readSilencePredicate } from '../../alerts/silences.ts'
import { createRedis, type Redis } from '../../core/redis.ts'
import type { KpiEvaluation } from '../../kpi/evaluate.ts'
import { parsePlan, type Plan } from '../../plan/plan.ts'
import { createWriters } from '../../core/tables.ts'
import type { TestClickHouse } from '../helpers/clickhouse.ts'
import { silentLogger } from '../helpers/runtime.ts'
import type { TestSmtp } from '../helpers/smtp.ts'
import { pause, until } from '../helpers/until.ts'
import { novemberEvaluation, openAlertBed, type AlertBed } from '../helpers/alert-bed.ts'

/**
 * The alert lifecycle against the real ClickHouse, Redis and an SMTP receiver: pending, grouping
 * per objective into one email, routing per objective and severity, silences, the `alerts`
 * history, and exactly one notification when two evaluators decide at the same moment.
 */
let db: TestClickHouse
let redis: Redis
let queue: Queue
let smtp: TestSmtp
let prefix: string
let bed: AlertBed
const example = parseYaml(readFileSync('examples/plan.yaml', 'utf8')) as Record<string, unknown> & { alerting: Record<string, unknown> }

/** The example plan with its alerting section changed. */
const planWith = (alerting: Record<string, unknown>): Plan => parsePlan({ ...example, alerting: { ...example.alerting, ...alerting } }, 'test-plan.yaml')

beforeAll(async () => {
  bed = await openAlertBed('lifecycle')
  ;({ db, redis, queue, prefix, smtp } = bed)
})
afterAll(async () => bed?.close())
beforeEach(async () => {
  await queue.obliterate({ force: true })
  for (const table of ['alert_state', 'alerts', 'alert_notifications', 'alert_decisions']) await db.ch.command(`TRUNCATE TABLE ${table}`)
  smtp.messages.length = 0
})

const hours = (h: number) => new Date(Date.UTC(2026, 10, 20, 3) + h * 3_600_000)

const evaluation = novemberEvaluation

const deps = (plan: Plan, extra: Partial<AlertEngineDeps> = {}): AlertEngineDeps => bed.engineDeps(plan, extra)
const jobs = async () =>
  (await queue.getJobs(['waiting', 'delayed', 'completed', 'failed', 'active'])).map((j) => j.data as { alertKey: string; event: string; to: string[]; subject: string; notificationId: string })

interface HistoryRow {
  alert_key: string
  from_status: string
  to_status: string
  event: string
  group_key: string
  recipients: string[]
  notification_id: string
  silenced: boolean
}
const history = () => db.ch.rows<HistoryRow>('SELECT alert_key, from_status, to_status, event, group_key, recipients, notification_id, silenced FROM alerts FINAL ORDER BY at, alert_key')

/** Sends every waiting notify job through a real notify worker to the SMTP receiver, at a named instant after every decision here. */
async function deliver(expected: number): Promise<void> {
  const worker = bed.notifyWorker({ now: () => hours(72) })
  try {
    await until(`${expected} emails`, () => smtp.messages.length >= expected, 20_000)
    await pause(300)
  } finally {
    await worker.close()
  }
}
const to = (m: TestSmtp['messages'][number]) => (m.to && !Array.isArray(m.to) ? m.to.text : '')

describe('plan settings', () => {
  it('defaults keep the old behaviour: fire at once, resolve at once, no grouping, no routes', () => {
    const plan = planWith({})
    expect([plan.alerting.for, plan.alerting.keepFiringFor, plan.alerting.groupBy, plan.alerting.routes]).toEqual([0, 0, 'none', []])
  })

  it('reads durations and routes, and names a route that points at an unknown KPI or objective', () => {
    const plan = planWith({ for: '2h', keepFiringFor: '30m', groupBy: 'objective', routes: [{ severity: ['critical'], recipients: ['boss@example.com'] }] })
    expect([plan.alerting.for, plan.alerting.keepFiringFor]).toEqual([7_200_000, 1_800_000])
    expect(() =>
      planWith({
        routes: [
          { kpis: ['no-such-kpi'], recipients: ['a@example.com'] },
          { objectives: ['fame'], recipients: ['b@example.com'] },
        ],
      }),
    ).toThrow(/alerting\.routes\[0\]\.kpis\[0\]: names KPI "no-such-kpi"[\s\S]*alerting\.routes\[1\]\.objectives\[0\]: names objective "fame"/)
    expect(() => planWith({ groupBy: 'team', for: 'soon', routes: [{ severity: ['urgent'], recipients: ['c@example.com'] }] })).toThrow(
      /alerting\.for[\s\S]*alerting\.groupBy[\s\S]*alerting\.routes\[0\]\.severity\[0\]/,
    )
  })
})

describe('grouping and routing', () => {
  const plan = () =>
    planWith({
      groupBy: 'objective',
      routes: [
        { severity: ['critical'], recipients: ['boss@example.com'] },
        { objectives: ['qualified-visitors'], recipients: ['sales@example.com'] },
      ],
    })

  it('sends the KPIs of one objective and one set of recipients as ONE email, routed per objective and severity', async () => {
    const p = plan()
    const at = hours(0)
    const sent = await processAlerts(
      deps(p),
      [
        evaluation(p, 'fb-likes-month', 'at_risk', at), // customer-relationships → recipients
        evaluation(p, 'fb-comments-week', 'at_risk', at), // customer-relationships → recipients
        evaluation(p, 'x-likes-month', 'missed', at), // customer-relationships, but critical → boss
        evaluation(p, 'fb-clicks-month', 'at_risk', at), // qualified-visitors → sales
        evaluation(p, 'shop-conversions-month', 'at_risk', at), // qualified-visitors → sales
        evaluation(p, 'fb-followers-quarter', 'on_track', at), // nothing to say
      ],
      [],
      at,
    )
    expect(sent).toBe(3)
    await deliver(3)
    expect(smtp.messages).toHaveLength(3)
    const byTo = new Map(smtp.messages.map((m) => [to(m), m]))
    expect([...byTo.keys()].sort()).toEqual(['boss@example.com', 'sales@example.com', 'social-team@kopinusantara.example, marketing-lead@kopinusantara.example'])

    const relationships = byTo.get('social-team@kopinusantara.example, marketing-lead@kopinusantara.example')!
    expect(relationships.subject).toBe('[social-kpi] Customer relationships: 2 at risk (2 KPIs)'.replace('Customer relationships', p.objectives.find((o) => o.id === 'customer-relationships')!.name))
    const likes = p.kpis.find((k) => k.id === 'fb-likes-month')!.name
    const comments = p.kpis.find((k) => k.id === 'fb-comments-week')!.name
    expect(relationships.text).toContain(`AT RISK: ${likes} — 400 of`)
    expect(relationships.text).toContain(`AT RISK: ${comments} — 400 of`)
    expect(relationships.text).toContain('What the plan says to do:')
    expect(relationships.html).toContain(`<h3 style="margin:12px 0">AT RISK: ${likes}`)

    const sales = byTo.get('sales@example.com')!
    expect(sales.text).toContain('fb-clicks-month')
    expect(sales.text).toContain('shop-conversions-month')
    // alone in its group and recipients: the ordinary single-KPI email
    const boss = byTo.get('boss@example.com')!
    expect(boss.subject).toMatch(/^\[social-kpi\] MISSED: /)

    const rows = await history()
    expect(rows.map((r) => [r.alert_key, r.from_status, r.to_status, r.event, r.group_key])).toEqual([
      ['kpi.fb-clicks-month', 'ok', 'firing', 'firing', 'objective.qualified-visitors'],
      ['kpi.fb-comments-week', 'ok', 'firing', 'firing', 'objective.customer-relationships'],
      ['kpi.fb-likes-month', 'ok', 'firing', 'firing', 'objective.customer-relationships'],
      ['kpi.shop-conversions-month', 'ok', 'firing', 'firing', 'objective.qualified-visitors'],
      ['kpi.x-likes-month', 'ok', 'firing', 'firing', 'objective.customer-relationships'],
    ])
    const likesRow = rows.find((r) => r.alert_key === 'kpi.fb-likes-month')!
    expect(likesRow.notification_id).toBe(rows.find((r) => r.alert_key === 'kpi.fb-comments-week')!.notification_id)
    expect(likesRow.notification_id).not.toBe(rows.find((r) => r.alert_key === 'kpi.x-likes-month')!.notification_id)
    // delivery status is joined from alert_notifications
    const delivered = await db.ch.rows<{ alert_key: string; delivery: string }>(
      'SELECT a.alert_key AS alert_key, n.delivery AS delivery FROM alerts AS a FINAL INNER JOIN (SELECT * FROM alert_notifications FINAL) AS n ON n.notification_id = a.notification_id ORDER BY alert_key',
    )
    expect(delivered).toHaveLength(5)
    expect(delivered.every((d) => d.delivery === 'sent')).toBe(true)
  })

  it('sends the resolved notice to whoever got the firing one', async () => {
    const p = plan()
    await processAlerts(deps(p), [evaluation(p, 'x-likes-month', 'missed', hours(0))], [], hours(0))
    await processAlerts(deps(p), [evaluation(p, 'x-likes-month', 'on_track', hours(1))], [], hours(1))
    const resolved = (await jobs()).find((j) => j.event === 'resolved')!
    expect(resolved.to).toEqual(['boss@example.com'])
    expect(resolved.subject).toMatch(/^\[social-kpi\] RESOLVED: /)
  })

  it('records a silenced transition but sends nothing, and the rest of the group still goes out', async () => {
    const p = plan()
    const silenced: AlertEngineDeps['silenced'] = (key, subject) => key === 'kpi.fb-likes-month' && subject.objectiveId === 'customer-relationships' && subject.kpiId === 'fb-likes-month'
    const sent = await processAlerts(deps(p, { silenced }), [evaluation(p, 'fb-likes-month', 'at_risk', hours(0)), evaluation(p, 'fb-comments-week', 'at_risk', hours(0))], [], hours(0))
    expect(sent).toBe(1)
    const [job] = await jobs()
    expect(job!.alertKey).toBe('kpi.fb-comments-week') // alone now: a single-KPI email
    const rows = await history()
    expect(rows.map((r) => [r.alert_key, r.to_status, r.silenced, r.notification_id === ''])).toEqual([
      ['kpi.fb-comments-week', 'firing', false, false],
      ['kpi.fb-likes-month', 'firing', true, true],
    ])
    // the silenced alert is firing all the same: no new email once the silence is gone
    expect(await processAlerts(deps(p), [evaluation(p, 'fb-likes-month', 'at_risk', hours(1))], [], hours(1))).toBe(0)
  })
})

describe('stored silences reach the engine', () => {
  it('holds the email of a KPI silenced with `silence add`, and not the others', async () => {
    const p = planWith({})
    const store = clickHouseSilenceStore(db.ch)
    await addSilence(store, { matchers: { kpiId: 'fb-comments-week' }, startsAt: hours(50), endsAt: hours(60), reason: 'campaign paused', createdBy: 'test' }, hours(49), p)
    const silenced = await readSilencePredicate(db.ch, p, hours(51))
    const sent = await processAlerts(deps(p, { silenced }), [evaluation(p, 'fb-likes-month', 'at_risk', hours(51)), evaluation(p, 'fb-comments-week', 'at_risk', hours(51))], [], hours(51))
    expect(sent).toBe(1)
    expect((await jobs()).map((j) => j.alertKey)).toEqual(['kpi.fb-likes-month'])
    // before the silence starts nothing is held
    expect((await readSilencePredicate(db.ch, p, hours(49)))('kpi.fb-comments-week')).toBe(false)
  })
})

describe('pending and keep_firing_for through the engine', () => {
  it('records pending without an email, fires after `for`, and holds a brief recovery', async () => {
    const p = planWith({ for: '2h', keepFiringFor: '3h' })
    const run = (status: KpiEvaluation['status'], h: number) => processAlerts(deps(p), [evaluation(p, 'fb-likes-month', status, hours(h))], [], hours(h))
    expect(await run('at_risk', 0)).toBe(0)
    expect(await run('at_risk', 1)).toBe(0)
    expect(await run('at_risk', 2)).toBe(1)
    expect(await run('on_track', 3)).toBe(0) // flapping: kept firing
    expect(await run('at_risk', 4)).toBe(0)
    expect(await run('on_track', 5)).toBe(0)
    expect(await run('on_track', 8)).toBe(1) // fine for 3 h: resolved
    expect((await history()).map((r) => [r.from_status, r.to_status, r.event])).toEqual([
      ['ok', 'pending', ''],
      ['pending', 'firing', 'firing'],
      ['firing', 'ok', 'resolved'],
    ])
    expect((await jobs()).map((j) => j.event).sort()).toEqual(['firing', 'resolved'])
  })
})

describe('exactly once across evaluators', () => {
  /** A second engine: its own Redis connections, queue handle and writers; the same ClickHouse and Redis. */
  async function secondEngine(plan: Plan, locked: boolean) {
    const connection = createRedis('redis://127.0.0.1:6379', 'worker')
    const lock = createRedis('redis://127.0.0.1:6379', 'producer')
    await new Promise((resolve) => lock.once('ready', resolve))
    const otherQueue = new Queue('notify', { connection, prefix })
    const otherWriters = createWriters(db.ch, { maxRows: 1000, flushIntervalMs: 20, logger: silentLogger })
    return {
      deps: deps(plan, { notifyQueue: otherQueue, writers: otherWriters, ...(locked ? { redis: lock, lockPrefix: prefix } : {}) }),
      async close() {
        await otherWriters.close()
        await otherQueue.close()
        connection.disconnect()
        lock.disconnect()
      },
    }
  }

  const evaluations = (plan: Plan, at: Date) => ['fb-likes-month', 'fb-comments-week', 'x-likes-month'].map((id) => evaluation(plan, id, 'at_risk', at))

  it('two evaluations at the same moment, in two engines, enqueue and record each notification once', async () => {
    const p = planWith({})
    const other = await secondEngine(p, true)
    try {
      // The clocks differ by a second, so the job ids differ: only the lock keeps them from both firing.
      const [a, b] = await Promise.all([
        processAlerts(deps(p, { redis, lockPrefix: prefix }), evaluations(p, hours(0)), [], hours(0)),
        processAlerts(other.deps, evaluations(p, new Date(hours(0).getTime() + 1000)), [], new Date(hours(0).getTime() + 1000)),
      ])
      expect(a + b).toBe(3)
      expect((await jobs()).map((j) => j.alertKey).sort()).toEqual(['kpi.fb-comments-week', 'kpi.fb-likes-month', 'kpi.x-likes-month'])
      expect((await history()).filter((r) => r.event === 'firing')).toHaveLength(3)
      await deliver(3)
      expect(smtp.messages).toHaveLength(3)
    } finally {
      await other.close()
    }
  })

  it('without the lock the same race doubles them (the test above can fail)', async () => {
    const p = planWith({})
    const other = await secondEngine(p, false)
    // The race made certain: each engine reads the alert state, then waits until the other has
    // read it too, before it decides (so both decide on the same "ok" state). The same instant
    // for both, so the forward-only rule (alert_decisions) cannot skip one.
    let arrived = 0
    let release!: () => void
    const bothRead = new Promise<void>((resolve) => (release = resolve))
    const racing = (d: AlertEngineDeps): AlertEngineDeps => ({
      ...d,
      ch: {
        ...d.ch,
        rows: async (query: string, params?: Record<string, unknown>) => {
          const rows = await d.ch.rows(query, params)
          if (query.includes('FROM alert_state')) {
            if (++arrived === 2) release()
            await bothRead
          }
          return rows
        },
      } as AlertEngineDeps['ch'],
    })
    try {
      const [a, b] = await Promise.all([processAlerts(racing(deps(p)), evaluations(p, hours(0)), [], hours(0)), processAlerts(racing(other.deps), evaluations(p, hours(0)), [], hours(0))])
      expect(a + b).toBe(6)
    } finally {
      await other.close()
    }
  })
})
