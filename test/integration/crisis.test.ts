import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Runtime } from '../../cli/runtime.ts'
import { waitForIdle, waitForJob } from '../../cli/wait.ts'
import { enqueueRound } from '../../ingest/scheduler.ts'
import type { Plan } from '../../plan/plan.ts'
import { evaluateAll } from '../../workers/evaluate-worker.ts'
import { runDemoRound, type DemoRound } from '../helpers/demo-round.ts'
import type { TestSmtp } from '../helpers/smtp.ts'
import { pause, until } from '../helpers/until.ts'

/**
 * The demo scenario's crisis, end to end: the simulator's main Page loses 7 % of its followers at
 * today − 1 day 10:00 UTC; one collection round through BullMQ into the embedded ClickHouse, then
 * evaluations that open, hold and resolve the crisis, with emails received over SMTP. The round
 * is at a named instant, mid-month in the plan's zone, 17 h after the drop; the simulator and the
 * runtime share the clock.
 */
const START = new Date('2026-11-18T10:00:00+07:00')
let smtp: TestSmtp
let runtime: Runtime
let plan: Plan
let demo: DemoRound
const roundAt = START

const recipients = (m: TestSmtp['messages'][number]) => (m.to && !Array.isArray(m.to) ? m.to.text : '')
const crisisEmails = () => smtp.messages.filter((m) => m.subject?.includes('CRISIS'))
const growthEmails = () => smtp.messages.filter((m) => m.subject?.includes('New Facebook followers on the main Page'))

beforeAll(async () => {
  demo = await runDemoRound('crisis', START)
  ;({ smtp, runtime, plan } = demo)
}, 300_000)

afterAll(async () => demo?.close())

describe('crisis detection on the demo scenario', () => {
  it('fires one crisis email to the crisis contacts, with the window, the account and the guide’s steps in order', async () => {
    const emails = crisisEmails()
    expect(emails.map((m) => m.subject)).toEqual(['[social-kpi] CRISIS: Kopi Nusantara — followers fall more than 2% within 24 h'])
    const [email] = emails
    expect(recipients(email!)).toBe('dewi@kopinusantara.example, budi@kopinusantara.example')
    const text = email!.text!
    expect(text).toContain('Accounts: Kopi Nusantara (kopi-nusantara) on facebook')
    expect(text).toMatch(/What happened: followers of Kopi Nusantara fell (6\.\d|7)% \(6\d,\d{3} → 5\d,\d{3}\) between \d+ \w+ 2026, \d\d:\d\d GMT\+7 and /)
    expect(text).toMatch(/Time window: \d+ \w+ 2026, \d\d:\d\d GMT\+7 – \d+ \w+ 2026, \d\d:\d\d GMT\+7/)
    const positions = plan.crisis!.steps.map((step) => text.indexOf(step))
    expect(positions.every((p) => p > 0)).toBe(true)
    expect([...positions].sort((a, b) => a - b)).toEqual(positions)
    expect(text).toContain('Dewi Lestari, Head of Marketing, dewi@kopinusantara.example, +62 811 0000 001')
    expect(email!.html).toContain('<ol><li>Confirm the facts')
    // the other triggers judged the same data and stayed quiet
    const { crises } = await evaluateAll(runtime.evaluateDeps!, roundAt)
    expect(crises.map((c) => [c.trigger.id, c.firing])).toEqual([
      ['facebook-follower-drop', true],
      ['facebook-angry-reactions', false],
      ['facebook-engagement-collapse', false],
    ])
  })

  it("holds the affected account's ordinary KPI alerts while the crisis is open, and records nothing for them", async () => {
    const ch = runtime.ch!
    const [growth] = await ch.rows<{ status: string }>("SELECT status FROM kpi_evaluations FINAL WHERE kpi_id = 'fb-follower-growth-month' ORDER BY evaluated_at DESC LIMIT 1")
    expect(growth!.status).toBe('at_risk') // it would alert
    expect(growthEmails()).toHaveLength(0)
    const states = await ch.rows<{ alert_key: string }>("SELECT alert_key FROM alert_state FINAL WHERE alert_key IN ('kpi.fb-follower-growth-month', 'kpi.fb-engagement-rate-month')")
    expect(states).toEqual([])
    // a KPI that also covers the healthy Bandung Page still alerts
    expect(smtp.messages.some((m) => m.subject?.includes('Likes (reactions) on Facebook posts this month'))).toBe(true)
  })

  it('two evaluations at the same time do not send twice', async () => {
    const before = smtp.messages.length
    await evaluateAll(runtime.evaluateDeps!, roundAt)
    await evaluateAll(runtime.evaluateDeps!, roundAt)
    await waitForIdle(runtime.queues.notify, 30_000)
    await pause(500)
    expect(smtp.messages.length).toBe(before)
    expect(crisisEmails()).toHaveLength(1)
  })

  it('resolves once the 24 h window no longer contains the drop, then the held KPI alerts again', async () => {
    // A round 36 h later (the Page still after its drop): fresh data, so the KPIs are judged again
    // (on the round's data alone, 36 h old, they would have no verdict).
    const later = new Date(roundAt.getTime() + 36 * 3_600_000)
    const round = await enqueueRound(runtime.queues, runtime.rounds, plan, later)
    expect((await waitForJob(runtime.queues.evaluate, round.evaluateJobId, { timeoutMs: 240_000 })).state).toBe('completed')
    const { crises } = await evaluateAll(runtime.evaluateDeps!, later)
    expect(crises.find((c) => c.trigger.id === 'facebook-follower-drop')!.firing).toBe(false)
    await waitForIdle(runtime.queues.notify, 30_000)
    await until('the resolved crisis email', () => crisisEmails().length >= 2, 10_000)
    const resolved = crisisEmails().filter((m) => m.subject?.startsWith('[social-kpi] RESOLVED CRISIS'))
    expect(resolved.map((m) => m.subject)).toEqual(['[social-kpi] RESOLVED CRISIS: Kopi Nusantara — followers fall more than 2% within 24 h no longer holds'])
    expect(recipients(resolved[0]!)).toBe('dewi@kopinusantara.example, budi@kopinusantara.example')
    await evaluateAll(runtime.evaluateDeps!, later)
    await waitForIdle(runtime.queues.notify, 30_000)
    await pause(500)
    expect(crisisEmails()).toHaveLength(2)
    expect(growthEmails().length).toBeGreaterThanOrEqual(1)
  })
})
