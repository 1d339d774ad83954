import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Runtime } from '../../cli/runtime.ts'
import type { Plan } from '../../plan/plan.ts'
import { runDemoRound, type DemoRound } from '../helpers/demo-round.ts'
import type { TestSmtp } from '../helpers/smtp.ts'

/**
 * The demo on the first day of a month: 1 Dec 2026, 18:00 in Jakarta, 18 hours into December and
 * into the week of Monday 30 Nov. One round of every source through BullMQ into the embedded
 * ClickHouse, evaluated and alerted with emails received over SMTP. Early in a period a shortfall
 * is not yet evidence: no KPI may be called at risk on December's first day unless its own
 * forecast agrees, and no email may say "at risk" while its forecast says the target is beaten.
 */
const AT = new Date('2026-12-01T18:00:00+07:00')
let smtp: TestSmtp
let runtime: Runtime
let plan: Plan
let demo: DemoRound

beforeAll(async () => {
  demo = await runDemoRound('demo_first_day', AT)
  ;({ smtp, runtime, plan } = demo)
}, 300_000)

afterAll(async () => demo?.close())

interface Row {
  kpi_id: string
  kpi_name: string
  comparator: string
  status: string
  status_basis: string
  actual: number | null
  expected_to_date: number | null
  target: number
  forecast_end: number | null
  period_start: string
}

describe('the demo on the first day of a month', () => {
  it('judges December and November apart: a running row for December, a verdict for November', async () => {
    const running = await runtime.ch!.rows<Row>("SELECT kpi_id, toString(period_start) AS period_start FROM kpi_evaluations FINAL WHERE kpi_id LIKE '%-month' ORDER BY kpi_id")
    expect(running.length).toBeGreaterThan(5)
    // December in Jakarta starts at 30 Nov 17:00Z
    expect(new Set(running.map((r) => r.period_start))).toEqual(new Set(['2026-11-30 17:00:00.000']))
    const verdicts = await runtime.ch!.rows<{ kpi_id: string; period_label: string; status: string; actual: number | null }>(
      "SELECT kpi_id, period_label, status, actual FROM kpi_verdicts FINAL WHERE kpi_id LIKE '%-month' ORDER BY kpi_id",
    )
    expect(verdicts.map((v) => v.kpi_id)).toEqual(running.map((r) => r.kpi_id))
    expect(new Set(verdicts.map((v) => v.period_label))).toEqual(new Set(['2026-11']))
    // a first round on 1 Dec still gives November's likes a number (posts of November first read today)
    const likes = verdicts.find((v) => v.kpi_id === 'fb-likes-month')!
    expect(likes.actual).toBeGreaterThan(0)
    expect(['achieved', 'missed']).toContain(likes.status)
  })

  it('calls nothing at risk without evidence, and never against its own forecast', async () => {
    const rows = await runtime.ch!.rows<Row>(
      `SELECT kpi_id, kpi_name, comparator, status, status_basis, actual, expected_to_date, target, forecast_end
       FROM kpi_evaluations FINAL WHERE evaluated_at = {at:DateTime64(3, 'UTC')} ORDER BY kpi_id`,
      { at: AT.toISOString().replace('T', ' ').replace('Z', '') },
    )
    expect(rows.length).toBe(plan.kpis.length)
    for (const row of rows.filter((r) => r.status === 'at_risk')) {
      // an at-risk KPI's forecast (where it has one) ends short of the target, or over a ceiling
      if (row.forecast_end !== null) {
        if (row.comparator === 'at_least') expect(row.forecast_end, row.kpi_id).toBeLessThan(row.target)
        else expect(row.forecast_end, row.kpi_id).toBeGreaterThan(row.target)
      }
    }
    // 18 hours into a 31-day month (2.4 %) the December KPIs are early: held back unless the
    // pace already expects a count large enough to be evidence
    const heldBack = rows.filter((r) => r.status_basis === 'early')
    expect(heldBack.length).toBeGreaterThan(0)
    for (const row of heldBack) expect(row.status, row.kpi_id).toBe('on_track')
  })

  it('sends no AT RISK email whose own forecast says the target will be beaten', async () => {
    const atRisk = smtp.messages.filter((m) => m.subject?.includes('AT RISK'))
    for (const email of atRisk) {
      expect(email.subject).not.toMatch(/above\)|under\)/)
      expect(email.text).not.toMatch(/^On course to end .* above the/m)
    }
    const [sent] = await runtime.ch!.rows<{ n: string }>("SELECT count() AS n FROM alert_notifications FINAL WHERE delivery = 'sent'")
    expect(Number(sent!.n)).toBe(smtp.messages.length)
  })
})
