import { describe, expect, it } from 'vitest'
import { formatKpiTable, type KpiTableRow } from '../../cli/kpi-table.ts'
import type { Reader } from '../../cli/reader.ts'
import { attainmentBar, formatStatus, paceNeeded } from '../../cli/status.ts'
import type { KpiEvaluation } from '../../kpi/evaluate.ts'
import { parsePlan } from '../../plan/plan.ts'
import { speaker } from '../../core/i18n/index.ts'
const ENGLISH = speaker('en', 'UTC')

describe('status view helpers', () => {
  it('draws attainment as a 10-cell bar, full only at 100 %', () => {
    expect(attainmentBar(0.95)).toBe('█████████░')
    expect(attainmentBar(1.8)).toBe('██████████')
    expect(attainmentBar(-0.3)).toBe('░░░░░░░░░░')
    expect(attainmentBar(null)).toBe('··········')
  })

  it('says the daily pace needed to reach an at-least target against the pace so far', () => {
    const kpi = {
      kind: 'total',
      comparator: 'at_least',
      status: 'at_risk',
      actual: 3000,
      target: 9000,
      period_start: '2026-11-01 00:00:00.000',
      period_end: '2026-12-01 00:00:00.000',
      latest_at: '2026-11-11 00:00:00.000',
    }
    // 6,000 left over 20 days; 3,000 in 10 days so far
    expect(paceNeeded(kpi, ENGLISH)).toBe('needs +300/day, so far +300/day')
    expect(paceNeeded({ ...kpi, status: 'achieved' }, ENGLISH)).toBe('target reached')
    expect(paceNeeded({ ...kpi, kind: 'rate' }, ENGLISH)).toBe('')
    expect(paceNeeded({ ...kpi, comparator: 'at_most' }, ENGLISH)).toBe('')
  })
})

describe('the KPI tables say why a KPI behind its pace is on track', () => {
  const plan = parsePlan(
    {
      company: { name: 'C', timezone: 'Asia/Jakarta' },
      objectives: [{ id: 'o', name: 'O' }],
      strategy: { networks: [{ network: 'facebook', accounts: [{ id: 'page', name: 'Page', apiId: '1', tokenEnv: 'T' }] }] },
      kpis: [{ id: 'purchases', name: 'P', objective: 'o', network: 'facebook', metric: 'clicks', kind: 'total', target: 600, period: 'month' }],
      alerting: { recipients: ['x@example.com'] },
    },
    'p.yaml',
  )
  // December 1, 18:00 in Jakarta: 10 of the 14.5 expected
  const evaluation: KpiEvaluation = {
    kpi: plan.kpis[0]!,
    evaluatedAt: new Date('2026-12-01T11:00:00Z'),
    period: { start: new Date('2026-11-30T17:00:00Z'), end: new Date('2026-12-31T17:00:00Z'), label: '2026-12' },
    actual: 10,
    expectedToDate: 14.5,
    attainment: 10 / 600,
    status: 'on_track',
    basis: 'early',
  }

  it('formatKpiTable (collect, evaluate)', () => {
    const lines = (e: KpiTableRow) => formatKpiTable([e], { color: false, speaker: ENGLISH }).split('\n')[1]!
    expect(lines(evaluation)).toMatch(/^purchases {2}on track \(too early to tell\) {2}\s*10 {2}/)
    expect(lines({ ...evaluation, basis: 'forecast', forecast: { end: 640 } })).toMatch(/^purchases {2}on track \(behind pace, forecast reaches the target\) /)
    // a note about the forecast needs the forecast: without one, the status alone
    expect(lines({ ...evaluation, basis: 'forecast' })).toMatch(/^purchases {2}on track {2}/)
    expect(lines({ ...evaluation, basis: 'pace', actual: 14 })).toMatch(/^purchases {2}on track {2}/)
    // the colour is the status's own
    expect(formatKpiTable([evaluation], { color: true, speaker: ENGLISH })).toContain('\x1b[32mon track (too early to tell)')
    // no verdict: the reason and the accounts missing
    expect(lines({ ...evaluation, status: 'unknown', attainment: null, reason: 'data_problem', missingAccounts: ['main', 'second'] })).toMatch(
      /^purchases {2}no verdict \(stale data: main, second\) {2}/,
    )
    expect(lines({ ...evaluation, status: 'unknown', actual: null, attainment: null, reason: 'too_early', missingAccounts: [] })).toMatch(/^purchases {2}no verdict \(too early\) {2}/)
  })

  it('formatStatus (status), from the stored status_basis', async () => {
    const row = {
      kpi_id: 'purchases',
      kpi_name: 'P',
      kind: 'total',
      comparator: 'at_least',
      status: 'on_track',
      status_basis: 'early',
      actual: 10,
      target: 600,
      expected_to_date: 14.5,
      attainment: 0.0167,
      period_start: '2026-11-30 17:00:00.000',
      period_end: '2026-12-31 17:00:00.000',
      latest_at: '2026-12-01 11:00:00.000',
    }
    // a database with status_basis (migration 0007) and the reasons (0024), without silences (0009)
    const columns = [
      { table: 'kpi_evaluations', name: 'status_basis' },
      { table: 'kpi_evaluations', name: 'status_reason' },
      { table: 'kpi_verdicts', name: 'status_reason' },
    ]
    const reader = (rows: object[], verdicts: object[] = []) =>
      ({
        rows: async (query: string) =>
          query.includes('system.columns') ? columns : query.includes('system.tables') ? [{ n: 0 }] : query.includes('kpi_evaluations') ? rows : query.includes('kpi_verdicts') ? verdicts : [],
      }) as unknown as Reader
    const now = new Date('2026-12-01T11:05:00Z')
    expect(await formatStatus(reader([row]), { color: false, now })).toMatch(/\npurchases {2}on track \(too early to tell\) {2}/)
    expect(await formatStatus(reader([{ ...row, status: 'at_risk', status_basis: 'forecast', forecast_end: 420 }]), { color: false, now })).toMatch(
      /\npurchases {2}at risk \(on pace, forecast short\) {2}/,
    )
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the colours are ANSI escapes
    expect(await formatStatus(reader([{ ...row, status_basis: 'pace' }]), { color: true, now })).toMatch(/\npurchases {2}\x1b\[32mon track\x1b\[0m {2}/)
    // no verdict: why, and which accounts
    const partial = { ...row, status: 'unknown', status_basis: 'pace', attainment: null, status_reason: 'incomplete', missing_accounts: ['main'] }
    expect(await formatStatus(reader([partial]), { color: false, now })).toMatch(/\npurchases {2}no verdict \(incomplete data: main\) {2}/)
    // a campaign that ended on 1 Dec 00:00 local: its final verdict, not its last running status
    const campaign = {
      ...row,
      kpi_id: 'launch',
      status: 'at_risk',
      status_basis: 'pace',
      period_start: '2026-11-09 17:00:00.000',
      period_end: '2026-11-30 17:00:00.000',
      latest_at: '2026-11-30 16:45:00.000',
    }
    const verdict = { kpi_id: 'launch', period_start: '2026-11-09 17:00:00.000', status: 'missed', actual: 30, attainment: 0.05, status_reason: '', missing_accounts: [] }
    expect(await formatStatus(reader([campaign], [verdict]), { color: false, now })).toMatch(/\nlaunch {2}missed \(final verdict\) {2}/)
  })
})
