import { describe, expect, it } from 'vitest'
import { judge, type PacingInput } from '../../kpi/pacing.ts'

const base: PacingInput = { kind: 'total', comparator: 'at_least', target: 1000, tolerance: 0.1, actual: 0, baseline: null, fraction: 0.5, periodEnded: false }

describe('judge', () => {
  it('paces a total linearly and allows the tolerance', () => {
    expect(judge({ ...base, actual: 460 })).toEqual({ expectedToDate: 500, status: 'on_track', attainment: 0.46 })
    expect(judge({ ...base, actual: 440 }).status).toBe('at_risk')
  })

  it('calls an at_least amount achieved as soon as it meets the target', () => {
    expect(judge({ ...base, actual: 1000 }).status).toBe('achieved')
  })

  it('decides achieved or missed when the period has ended', () => {
    expect(judge({ ...base, fraction: 1, periodEnded: true, actual: 999 }).status).toBe('missed')
    expect(judge({ ...base, fraction: 1, periodEnded: true, actual: 1000 }).status).toBe('achieved')
  })

  it('paces a level from its period-start baseline', () => {
    const level = { ...base, kind: 'level' as const, target: 12_000, baseline: 10_000 }
    // expected 11,000 at half time; tolerance is 10 % of the 1,000 gain expected so far
    expect(judge({ ...level, actual: 10_950 })).toMatchObject({ expectedToDate: 11_000, status: 'on_track' })
    expect(judge({ ...level, actual: 10_850 }).status).toBe('at_risk')
  })

  it('is unknown without data, and for a level without a baseline', () => {
    expect(judge({ ...base, actual: null })).toEqual({ expectedToDate: 500, status: 'unknown', attainment: null })
    expect(judge({ ...base, kind: 'level', baseline: null, actual: 5 }).status).toBe('unknown')
  })

  it('compares a rate with the target itself', () => {
    const rate = { ...base, kind: 'rate' as const, target: 0.05 }
    expect(judge({ ...rate, actual: 0.046 })).toMatchObject({ expectedToDate: 0.05, status: 'on_track' })
    expect(judge({ ...rate, actual: 0.04 }).status).toBe('at_risk')
  })

  it('treats at_most totals as a budget', () => {
    const cap = { ...base, comparator: 'at_most' as const, target: 100 }
    expect(judge({ ...cap, actual: 54 }).status).toBe('on_track')
    expect(judge({ ...cap, actual: 56 }).status).toBe('at_risk')
    expect(judge({ ...cap, actual: 101 }).status).toBe('missed')
    expect(judge({ ...cap, actual: 50 }).attainment).toBe(1)
    expect(judge({ ...cap, actual: 125 }).attainment).toBe(0.8)
  })
})
