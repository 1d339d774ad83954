import { describe, expect, it } from 'vitest'
import { forecastEnd, robustSpread, trimmedMean, type ForecastInput } from '../../kpi/forecast.ts'

const day = (d: number) => new Date(Date.UTC(2026, 2, d)) // March 2026
const input: ForecastInput = {
  current: 6_000,
  steps: [30, 32, 28, 31, 30, 29, 33, 31, 30, 30, 32, 29, 31, 30],
  dataUntil: day(17),
  at: day(17),
  periodEnd: new Date(Date.UTC(2026, 3, 1)), // 15 days left
  target: 10_000,
  comparator: 'at_least',
}

describe('robust statistics', () => {
  it('trims the largest and smallest tenth (at least one each side from five values)', () => {
    expect(trimmedMean([1, 2, 3, 4])).toBe(2.5) // fewer than five: nothing trimmed
    expect(trimmedMean([1, 2, 3, 4, 100])).toBe(3) // drops 1 and 100
    expect(trimmedMean([-700, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 31])).toBe(30) // a sudden drop is not a trend
  })

  it('measures spread as 1.4826 × the median absolute deviation', () => {
    // median 3; deviations 2, 1, 0, 1, 97 → median 1
    expect(robustSpread([1, 2, 3, 4, 100])).toBeCloseTo(1.4826, 10)
    expect(robustSpread([5, 5, 5])).toBe(0)
  })
})

describe('forecastEnd', () => {
  it('extends the recent daily trend to the period end, with an 80 % band', () => {
    const f = forecastEnd(input)!
    // sorted: 28 29 29 30 30 30 30 30 31 31 31 32 32 33 → trim one each side (⌊1.4⌋) → 12 values summing to 365
    const drift = 365 / 12
    expect(f.recentPerDay).toBeCloseTo(drift, 10)
    expect(f.end).toBeCloseTo(6_000 + drift * 15, 10) // 6,456.25
    // median 30; |deviations| sorted: 0 0 0 0 0 1 1 1 1 1 2 2 2 3 → median 1 → σ = 1.4826
    // sd = σ × √(15 × (1 + 15/14)) = 1.4826 × √31.0714…; band ± 1.28155 sd
    const sd = 1.4826 * Math.sqrt(15 * (1 + 15 / 14))
    expect(f.high - f.end).toBeCloseTo(1.2815515655446004 * sd, 10)
    expect(f.end - f.low).toBeCloseTo(1.2815515655446004 * sd, 10)
    expect(f.neededPerDay).toBeCloseTo(4_000 / 15, 10) // 266.7 a day from now
    expect(f.gap).toBeCloseTo((6_000 + drift * 15 - 10_000) / 10_000, 10)
    expect(f.steps).toBe(14)
  })

  it('reads the issue example: 8,400 at the end of March, 16 % short; needs +53/day, recent +31/day', () => {
    // a first-quarter target of 10,000; on 18 January 73 days are left; 6,137 now, +31 a day
    const jan18 = new Date('2026-01-18T00:00:00Z')
    const f = forecastEnd({ ...input, current: 6_137, steps: new Array(14).fill(31), dataUntil: jan18, at: jan18 })!
    expect(f.end).toBe(8_400) // 6,137 + 31 × 73
    expect(f.gap).toBeCloseTo(-0.16, 12)
    expect(f.recentPerDay).toBe(31)
    expect(f.neededPerDay).toBeCloseTo(3_863 / 73, 10) // 52.9 → "+53/day"
    expect(f.low).toBe(8_400) // steady steps: no noise, no band
    expect(f.high).toBe(8_400)
  })

  it('skips days without data and counts the horizon from the last reported day', () => {
    // daily counts arrive a day late: the last step has no data yet
    const f = forecastEnd({ ...input, steps: [10, null, 10, 10, 10, null], dataUntil: day(16), at: day(17) })!
    expect(f.steps).toBe(4)
    expect(f.end).toBe(6_000 + 10 * 16) // 16 days from March 16 to April 1
    expect(f.neededPerDay).toBeCloseTo(4_000 / 15, 10) // but the need counts from now
  })

  it('does not forecast from fewer than three days of data', () => {
    expect(forecastEnd({ ...input, steps: [null, 5, 6, null] })).toBeNull()
  })

  it('gives an at_most KPI the allowance left per day', () => {
    const f = forecastEnd({ ...input, comparator: 'at_most', target: 60, current: 30, steps: [2, 2, 2, 2, 2], dataUntil: day(17) })!
    expect(f.end).toBe(60) // 30 + 2 × 15
    expect(f.neededPerDay).toBe(2) // (60 − 30) ÷ 15
    expect(f.gap).toBe(0)
  })
})
