import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRuntime, type Runtime } from '../../cli/runtime.ts'
import { clockFrom } from '../../core/clock.ts'
import { jobIds } from '../../core/queues.ts'
import { enqueueRound } from '../../ingest/scheduler.ts'
import { loadPlan, planAccounts, type Plan } from '../../plan/plan.ts'
import { simulatorEnvironment, startSimulator, type RunningSimulator } from '../../simulator/index.ts'
import { silentLogger, testConfig } from '../helpers/runtime.ts'
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.ts'
import { pause, until as waitUntil } from '../helpers/until.ts'

/**
 * End to end, real at every step: the Graph API simulator, node-cron ticks, BullMQ on the real
 * Redis, the embedded ClickHouse, KPI evaluation, and alert emails received over SMTP.
 *
 * It runs at an instant it names, whatever the machine's date: a Wednesday in the middle of a
 * month in the plan's zone (Asia/Jakarta), so the month KPIs are well under way and no month
 * ended within the final-verdict grace window. The simulator and the runtime share the clock.
 */
const START = new Date('2026-11-18T10:00:00+07:00')
let sim: RunningSimulator
let smtp: TestSmtp
let runtime: Runtime
let plan: Plan
let cleanup: () => void

const until = (what: string, check: () => Promise<boolean> | boolean, timeoutMs = 45_000) => waitUntil(what, check, timeoutMs, 200)

beforeAll(async () => {
  const clock = clockFrom(START)
  sim = await startSimulator({ now: clock })
  smtp = await startTestSmtp()
  const example = await loadPlan('examples/plan.yaml')
  // Rounds every 3 seconds so that several happen during the test. The likes KPI watches the main
  // Page only: a KPI over both Pages has no verdict while the regional one is not collected. No
  // crisis guide: the simulated follower drop would hold the main Page's KPIs (crisis.test.ts).
  plan = {
    ...example,
    crisis: undefined,
    collection: { ...example.collection, schedule: '*/3 * * * * *', evaluateSchedule: '0 0 1 1 *' },
    kpis: example.kpis.map((kpi) => (kpi.id === 'fb-likes-month' ? { ...kpi, accounts: ['kopi-nusantara'] } : kpi)),
  }
  const tokens = Object.fromEntries(planAccounts(plan).map((account) => [account.tokenEnv, `good-token-${account.id}`]))
  const test = testConfig('pipeline', {
    ...simulatorEnvironment(sim.url),
    ...tokens,
    SMTP_URL: smtp.url,
    FB_PAGE_TOKEN: 'good-token-main',
    // The regional Page's token has expired: only that account must suffer.
    FB_BANDUNG_PAGE_TOKEN: 'expired-token-bandung',
  })
  cleanup = test.cleanup
  runtime = await startRuntime({ config: test.config, plan, logger: silentLogger, scheduler: true, workers: true, now: clock })
})

afterAll(async () => {
  await runtime?.shutdown()
  await smtp?.close()
  await sim?.close()
  cleanup?.()
})

describe('plan → scheduler → BullMQ → ClickHouse → KPIs → email', () => {
  it('collects on schedule and emails the at-risk KPI with actual, target and expected-to-date', async () => {
    await until('the likes alert email', () => smtp.messages.some((m) => m.subject?.includes('Likes (reactions)')))
    const ch = runtime.ch!
    const email = smtp.messages.find((m) => m.subject?.includes('Likes (reactions)'))!
    const [evaluation] = await ch.rows<{ actual: number; expected_to_date: number; status: string; evaluated_at: string; forecast_end: number }>(
      "SELECT actual, expected_to_date, status, toString(evaluated_at) AS evaluated_at, forecast_end FROM kpi_evaluations FINAL WHERE kpi_id = 'fb-likes-month' ORDER BY evaluated_at LIMIT 1",
    )
    expect(evaluation!.status).toBe('at_risk')
    // the rounds are named on the test's clock (10:00 in Jakarta), not on the machine's
    expect(evaluation!.evaluated_at).toMatch(/^2026-11-18 03:00:/)
    const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
    // reported at risk well before the month ends, with a forecast from the first round on
    expect(evaluation!.forecast_end).toBeLessThan(9000)
    const short = Math.round((1 - evaluation!.forecast_end / 9000) * 100)
    expect(email.subject).toBe(
      `[social-kpi] AT RISK: Likes (reactions) on Facebook posts this month — ${fmt(evaluation!.actual)} of 9,000, on course for ${fmt(evaluation!.forecast_end)} (${short}% short)`,
    )
    expect(email.text).toMatch(
      new RegExp(`^On course to end .* at ${fmt(evaluation!.forecast_end)} likes?, ${short}% short of the 9,000 target; needs \\+[\\d,]+/day from now, recent pace \\+[\\d,]+/day\\.`),
    )
    expect(email.text).toContain(`Actual: ${fmt(evaluation!.actual)}`)
    expect(email.text).toContain('Target: at least 9,000')
    expect(email.text).toContain(`Expected by now: ${fmt(evaluation!.expected_to_date)}`)
    expect(email.text).toMatch(/Period: 2026-11: /)
    expect(email.text).toContain('Ask a question in every post caption') // the objective's actions from the plan
    expect(email.html).toContain('What the plan says to do')
    expect(email.to && !Array.isArray(email.to) ? email.to.text : '').toContain('social-team@kopinusantara.example')
    // only the main Page was collected: its likes come from its own posts
    expect(evaluation!.actual).toBeGreaterThan(1000)
  })

  it('marks only the account with the expired token unhealthy and alerts once, while the other collects', async () => {
    const ch = runtime.ch!
    // A round is one reading of the main Page's fan count, observed at the round's time; it has
    // been evaluated once an evaluation carries that time (a final verdict carries a period's end).
    const evaluatedRounds = async () =>
      Number(
        (
          await ch.rows<{ n: string }>(
            "SELECT uniqExact(evaluated_at) AS n FROM kpi_evaluations FINAL WHERE evaluated_at IN (SELECT observed_at FROM observations FINAL WHERE account_id = 'kopi-nusantara' AND metric = 'fans')",
          )
        )[0]!.n,
      )
    await until('three rounds collected and evaluated', async () => (await evaluatedRounds()) >= 3)
    const unhealthy = smtp.messages.filter((m) => m.subject?.includes('Kopi Nusantara Bandung'))
    expect(unhealthy).toHaveLength(1)
    expect(unhealthy[0]!.subject).toBe('[social-kpi] ACTION NEEDED: facebook account "Kopi Nusantara Bandung" cannot be collected (190/463)')
    expect(unhealthy[0]!.text).toContain('FB_BANDUNG_PAGE_TOKEN')
    expect(unhealthy[0]!.text).not.toContain('expired-token-bandung')
    // The KPIs over both Pages have no verdict, naming the regional one, and no alert of their own:
    // its email names them.
    const [clicks] = await ch.rows<{ status: string; status_reason: string; missing_accounts: string[] }>(
      "SELECT status, status_reason, missing_accounts FROM kpi_evaluations FINAL WHERE kpi_id = 'fb-clicks-month' ORDER BY evaluated_at DESC LIMIT 1",
    )
    expect(clicks).toEqual({ status: 'unknown', status_reason: 'incomplete', missing_accounts: ['kopi-nusantara-bandung'] })
    expect(unhealthy[0]!.text).toMatch(/KPIs without a verdict: .*Clicks on Facebook posts this month \(fb-clicks-month\)/)
    expect(smtp.messages.filter((m) => m.subject?.includes('Clicks on Facebook posts'))).toEqual([])
    const health = await ch.rows<{ account_id: string; status: string }>('SELECT account_id, status FROM source_health FINAL ORDER BY account_id')
    expect(health).toHaveLength(planAccounts(plan).length)
    expect(health.filter((h) => h.status !== 'healthy')).toEqual([{ account_id: 'kopi-nusantara-bandung', status: 'unhealthy' }])
  })

  it('sends one email per transition, not one per evaluation', async () => {
    const perSubject = new Map<string, number>()
    for (const m of smtp.messages) {
      const key = m.subject!.replace(/ — .*$/, '')
      perSubject.set(key, (perSubject.get(key) ?? 0) + 1)
    }
    expect([...perSubject.values()].every((n) => n === 1)).toBe(true)
    const [notifications] = await runtime.ch!.rows<{ n: string }>("SELECT count() AS n FROM alert_notifications FINAL WHERE delivery = 'sent'")
    expect(Number(notifications!.n)).toBe(smtp.messages.length)
  })

  it('adds no rows when the same round is enqueued again (a second scheduler, a retried tick)', async () => {
    const ch = runtime.ch!
    const [last] = await ch.rows<{ at: string }>("SELECT toString(max(observed_at)) AS at FROM observations WHERE metric = 'fans'")
    const roundAt = new Date(`${last!.at.replace(' ', 'T')}Z`)
    const rowsOfRound = async () => (await ch.rows<{ n: string }>('SELECT count() AS n FROM observations WHERE observed_at = {at:DateTime64(3)}', { at: last!.at }))[0]!.n
    // The newest round may still be collecting (rounds come every 3 s): count it once its jobs
    // have ended and its rows are written, so that only a second collection could add rows.
    const roundJobs = planAccounts(plan).map((account) => jobIds.collect(account.network, account.id, roundAt))
    await until('the newest round ended', async () => (await Promise.all(roundJobs.map((id) => runtime.queues.collect.getJobState(id)))).every((state) => state === 'completed' || state === 'failed'))
    await runtime.writers!.flush()
    const before = await rowsOfRound()
    expect(Number(before)).toBeGreaterThan(100)
    const round = await enqueueRound(runtime.queues, runtime.rounds, plan, roundAt)
    await pause(2_000)
    await runtime.writers!.flush()
    expect(await rowsOfRound()).toBe(before)
    const job = await runtime.queues.collect.getJob(round.collectJobIds[0]!)
    expect(job?.attemptsMade).toBe(1)
  })
})
