import { readFileSync } from 'node:fs'
import type { Job } from 'bullmq'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHART_CID } from '../../alerts/chart.ts'
import { KPI_PANEL, renderKpiEmail } from '../../alerts/email.ts'
import { createMailer } from '../../alerts/mailer.ts'
import type { Payload } from '../../core/queues.ts'
import type { KpiEvaluation } from '../../kpi/evaluate.ts'
import { loadPlan, type Plan } from '../../plan/plan.ts'
import { createNotifyProcessor } from '../../workers/notify-worker.ts'
import type { Writers } from '../../core/tables.ts'
import { silentLogger } from '../helpers/runtime.ts'
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.ts'

let smtp: TestSmtp
let plan: Plan
beforeAll(async () => {
  smtp = await startTestSmtp()
  plan = await loadPlan('examples/plan.yaml')
})
afterAll(async () => smtp?.close())

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

/** March 2026 in Asia/Jakarta (UTC+7), evaluated on March 17 at 00:00 WIB. */
function marchEvaluation(): KpiEvaluation {
  const base = plan.kpis.find((k) => k.id === 'fb-followers-quarter')!
  const kpi = { ...base, name: 'Facebook followers', period: 'month' as const, target: 10_000 }
  const start = new Date('2026-02-28T17:00:00Z')
  const at = new Date('2026-03-16T17:00:00Z')
  const history = Array.from({ length: 17 }, (_, d) => ({ at: new Date(start.getTime() + d * 86_400_000), value: 7_000 + 31 * d }))
  return {
    kpi,
    evaluatedAt: at,
    period: { start, end: new Date('2026-03-31T17:00:00Z'), label: '2026-03' },
    actual: 7_496,
    expectedToDate: 8_548,
    attainment: 0.7496,
    status: 'at_risk',
    basis: 'pace',
    baseline: 7_000,
    forecast: { end: 8_400, low: 8_150, high: 8_650, recentPerDay: 31, neededPerDay: 53.4, gap: -0.16, steps: 14 },
    history,
  }
}

describe('the KPI alert email', () => {
  it('says where the KPI is heading in words, with an inline chart and a dashboard link, over real SMTP', async () => {
    const email = renderKpiEmail(plan, marchEvaluation(), 'firing', { grafanaUrl: 'http://grafana.example:3000/' })
    const sentence = 'On course to end March at 8,400 followers, 16% short of the 10,000 target; needs +53/day from now, recent pace +31/day.'
    expect(email.subject).toBe('[social-kpi] AT RISK: Facebook followers — 7,496 of 10,000, on course for 8,400 (16% short)')

    const payload: Payload<'notify'> = { notificationId: 'n-chart', alertKey: 'kpi.fb-followers-quarter', event: 'firing', decidedAt: '2026-03-16T17:00:00.000Z', to: ['team@example.com'], ...email }
    // the job payload carries numbers, not an image
    expect(JSON.stringify(payload).length).toBeLessThan(8_000)
    const written: unknown[] = []
    const writers = { notifications: { write: async (rows: unknown[]) => void written.push(...rows) } } as unknown as Writers
    const process = createNotifyProcessor({
      mailer: createMailer({ smtpUrl: smtp.url, outboxDir: '/nonexistent' }),
      from: 'alerts@example.com',
      writers,
      retryAfterMaxMs: 60_000,
      now: () => new Date(payload.decidedAt),
      logger: silentLogger,
    })
    // a JSON round trip, as through Redis
    await process({ data: JSON.parse(JSON.stringify(payload)) } as Job)

    const message = smtp.messages.find((m) => m.subject === email.subject)!
    expect(message).toBeDefined()
    expect(message.text).toContain(sentence)
    expect(message.text).toContain('Objective: Grow brand awareness — Be the specialty coffee brand people in Jakarta and Bandung know and follow.')
    expect(message.text).toContain('Forecast for the period end: 8,400 (80% range 8,150 – 8,650, from the last 14 days)')
    expect(message.text).toContain('Publish the two weekly coffee-class reels') // the objective's recommended actions
    const html = String(message.html)
    expect(html).toContain(sentence)
    expect(html).toContain('What the plan says to do')

    // the chart: a real PNG, attached inline, referenced by the HTML through its Content-ID
    const chart = message.attachments.find((a) => a.contentType === 'image/png')!
    expect(chart).toBeDefined()
    expect(chart.cid).toBe(CHART_CID)
    expect(chart.content.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true)
    expect(chart.content.readUInt32BE(16)).toBe(1280) // IHDR width: twice the 640 px SVG
    expect(chart.content.length).toBeGreaterThan(5_000) // lines and text were drawn, not an empty canvas
    // mailparser marks an attachment `related` and swaps its cid: reference for a data: URL only
    // when the HTML part refers to that Content-ID
    expect(chart.related).toBe(true)
    expect(html).toContain(`<img src="data:image/png;base64,${chart.content.toString('base64')}"`)
    expect(email.html).toContain(`<img src="cid:${CHART_CID}"`)

    // the dashboard link opens the KPI's panel over its period
    const link = `http://grafana.example:3000/d/${KPI_PANEL.dashboardUid}?viewPanel=${KPI_PANEL.panelId}&var-kpi=fb-followers-quarter&from=${Date.parse('2026-02-28T17:00:00Z')}&to=${Date.parse('2026-03-31T17:00:00Z')}`
    expect(message.text).toContain(`Dashboard: ${link}`)
    expect(html).toContain(link.replace(/&/g, '&amp;'))
    expect(written).toHaveLength(1)
  })

  it('links to a panel that exists on the dashboard', () => {
    const dashboard = JSON.parse(readFileSync('dashboards/kpi-overview.json', 'utf8')) as { uid: string; panels: Array<{ id: number; title: string }> }
    expect(dashboard.uid).toBe(KPI_PANEL.dashboardUid)
    expect(dashboard.panels.find((p) => p.id === KPI_PANEL.panelId)?.title).toBe('Actual vs target vs expected to date')
  })

  it('words an at_most forecast as a limit, and a resolved email has no chart', () => {
    const evaluation = marchEvaluation()
    const capped = {
      ...evaluation,
      kpi: { ...evaluation.kpi, comparator: 'at_most' as const, metric: 'reactions_anger', kind: 'total' as const, target: 60 },
      actual: 40,
      forecast: { end: 70, low: 64, high: 76, recentPerDay: 2.5, neededPerDay: 1.3, gap: 1 / 6, steps: 14 },
    }
    const email = renderKpiEmail(plan, capped, 'firing')
    expect(email.text).toContain('On course to end March at 70 reactions anger, 17% over the 60 limit; stays within it at no more than +1.3/day from now, recent pace +2.5/day.')
    expect(email.subject).toContain('on course for 70 (17% over)')
    const resolved = renderKpiEmail(plan, { ...evaluation, status: 'on_track' }, 'resolved')
    expect(resolved.chart).toBeUndefined()
    expect(resolved.html).not.toContain('cid:')
    expect(resolved.subject).toBe('[social-kpi] RESOLVED: Facebook followers — 7,496 of 10,000')
  })

  it('gives the reason in the status line when the forecast overruled the pace or it is too early to tell', () => {
    const evaluation = marchEvaluation()
    const status = (email: { text: string }) => email.text.split('\n').find((line) => line.startsWith('Status: '))
    // behind pace, and the forecast agrees: the plain status, and the subject says short
    const behind = renderKpiEmail(plan, evaluation, 'firing')
    expect(status(behind)).toBe('Status: at risk')
    expect(behind.subject).toMatch(/^\[social-kpi\] AT RISK: .*\(16% short\)$/)
    // on pace, but the forecast band ends clearly short
    const trend = renderKpiEmail(plan, { ...evaluation, actual: 8_500, basis: 'forecast' }, 'firing')
    expect(status(trend)).toBe('Status: at risk: on pace so far, but the recent trend ends clearly short')
    // back on track because the forecast reaches the target, or because it is too early to tell
    const rescued = renderKpiEmail(plan, { ...evaluation, status: 'on_track', basis: 'forecast', forecast: { ...evaluation.forecast!, end: 10_100, gap: 0.01 } }, 'resolved')
    expect(rescued.subject).toBe('[social-kpi] RESOLVED: Facebook followers — 7,496 of 10,000')
    expect(status(rescued)).toBe('Status: on track: behind the expected pace so far, but the recent trend reaches the target')
    const early = renderKpiEmail(plan, { ...evaluation, status: 'on_track', basis: 'early' }, 'resolved')
    expect(status(early)).toBe('Status: on track: too early to tell — it may fall short, but too little of the period has passed to call it at risk')
    expect(early.html).toContain('on track: too early to tell')
  })

  it('says why there is no forecast when the collection has stopped', () => {
    const note = 'no forecast: no followers data from main since 10 Mar 2026, so its collection has stopped'
    const email = renderKpiEmail(plan, { ...marchEvaluation(), forecast: null, forecastNote: { accountId: 'main', since: new Date('2026-03-10T05:00:00Z') } }, 'firing')
    expect(email.text.split('\n')).toContain(`Forecast: ${note}`)
    expect(email.text).not.toContain('Forecast for the period end')
    expect(email.subject).not.toContain('on course for')
  })
})
