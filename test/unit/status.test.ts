import { describe, expect, it } from 'vitest'
import { attainmentBar, paceNeeded } from '../../cli/status.ts'

describe('status view helpers', () => {
  it('draws attainment as a 10-cell bar, full only at 100 %', () => {
    expect(attainmentBar(0.95)).toBe('█████████░')
    expect(attainmentBar(1.8)).toBe('██████████')
    expect(attainmentBar(-0.3)).toBe('░░░░░░░░░░')
    expect(attainmentBar(null)).toBe('··········')
  })

  it('says the daily pace needed to reach an at-least target against the pace so far', () => {
    const kpi = { kind: 'total', comparator: 'at_least', status: 'at_risk', actual: 3000, target: 9000, period_start: '2026-11-01 00:00:00.000', period_end: '2026-12-01 00:00:00.000', latest_at: '2026-11-11 00:00:00.000' }
    // 6,000 left over 20 days; 3,000 in 10 days so far
    expect(paceNeeded(kpi)).toBe('needs +300/day, so far +300/day')
    expect(paceNeeded({ ...kpi, status: 'achieved' })).toBe('target reached')
    expect(paceNeeded({ ...kpi, kind: 'rate' })).toBe('')
    expect(paceNeeded({ ...kpi, comparator: 'at_most' })).toBe('')
  })
})
