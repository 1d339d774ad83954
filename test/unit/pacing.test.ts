import { describe, expect, it } from 'vitest'
import { expectedShare, judge, type PacingInput } from '../../kpi/pacing.ts'

const base: PacingInput = { kind: 'total', comparator: 'at_least', target: 1000, tolerance: 0.1, actual: 0, baseline: null, fraction: 0.5, periodEnded: false }

describe('judge', () => {
  it('paces a total linearly and allows the tolerance', () => {
    expect(judge({ ...base, actual: 460 })).toEqual({ expectedToDate: 500, status: 'on_track', attainment: 0.46, basis: 'pace' })
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
    expect(judge({ ...base, actual: null })).toEqual({ expectedToDate: 500, status: 'unknown', attainment: null, basis: 'pace' })
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

  it('paces along a curve the plan gives (a front-loaded launch)', () => {
    const launch = { curve: [0.4, 0.7, 0.9, 1] }
    // steps at 1/4, 2/4, 3/4, 4/4 of the period; 0 at the start, linear within a step
    expect(expectedShare(launch, 0)).toBe(0)
    expect(expectedShare(launch, 0.125)).toBeCloseTo(0.2, 12) // half of the first step: 0.4 / 2
    expect(expectedShare(launch, 0.25)).toBeCloseTo(0.4, 12)
    expect(expectedShare(launch, 0.6)).toBeCloseTo(0.78, 12) // 0.7 + (0.9 − 0.7) × (0.6 − 0.5) / 0.25
    expect(expectedShare(launch, 1)).toBe(1)
    expect(expectedShare('linear', 0.6)).toBe(0.6)
    expect(expectedShare(undefined, 0.3)).toBe(0.3)
    // a total of 1,000 at 1/8 of the period expects 200, not 125
    expect(judge({ ...base, fraction: 0.125, pace: launch, actual: 185 })).toMatchObject({ expectedToDate: 200, status: 'on_track' }) // 185 ≥ 180
    expect(judge({ ...base, fraction: 0.125, pace: launch, actual: 175 }).status).toBe('at_risk')
    // the same 175 is well ahead of a linear pace (125)
    expect(judge({ ...base, fraction: 0.125, actual: 175 }).status).toBe('on_track')
  })

  it('paces a level along a curve from its baseline', () => {
    const level = { ...base, kind: 'level' as const, target: 12_000, baseline: 10_000, pace: { curve: [0.5, 1] } }
    // at 60 % of the period: 0.5 + 0.5 × (0.6 − 0.5) / 0.5 = 0.6 of the 2,000 gain
    expect(judge({ ...level, fraction: 0.6, actual: 11_100 })).toMatchObject({ expectedToDate: 11_200, status: 'on_track' }) // gain 1,100 ≥ 1,080
    expect(judge({ ...level, fraction: 0.6, actual: 11_050 }).status).toBe('at_risk')
  })

  it('calls a KPI on pace at risk when even the favourable end of its forecast misses by more than the tolerance', () => {
    // on pace: 460 of the 500 expected; the bar for the end is 1,000 × 0.9 = 900
    expect(judge({ ...base, actual: 460, forecast: { low: 800, high: 899 } })).toMatchObject({ status: 'at_risk', basis: 'forecast' })
    expect(judge({ ...base, actual: 460, forecast: { low: 800, high: 901 } })).toMatchObject({ status: 'on_track', basis: 'pace' })
    // a forecast never rescues a KPI behind its pace
    expect(judge({ ...base, actual: 440, forecast: { low: 1200, high: 1500 } })).toMatchObject({ status: 'at_risk', basis: 'pace' })
    // a level: progress from the baseline (10,000); bar = 10,000 + 2,000 × 0.9 = 11,800
    const level = { ...base, kind: 'level' as const, target: 12_000, baseline: 10_000, actual: 11_000 }
    expect(judge({ ...level, forecast: { low: 11_500, high: 11_790 } }).status).toBe('at_risk')
    expect(judge({ ...level, forecast: { low: 11_500, high: 11_810 } }).status).toBe('on_track')
    // at_most: at risk when even the low end passes the limit by more than the tolerance (100 × 1.1)
    const cap = { ...base, comparator: 'at_most' as const, target: 100, actual: 40 }
    expect(judge({ ...cap, forecast: { low: 111, high: 130 } })).toMatchObject({ status: 'at_risk', basis: 'forecast' })
    expect(judge({ ...cap, forecast: { low: 109, high: 130 } }).status).toBe('on_track')
    // rates have no forecast rule
    expect(judge({ ...base, kind: 'rate', target: 0.05, actual: 0.05, forecast: { low: 0, high: 0 } }).status).toBe('on_track')
  })
})
