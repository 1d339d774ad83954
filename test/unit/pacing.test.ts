import { describe, expect, it } from 'vitest'
import { DEFAULT_MIN_ELAPSED, basisNote, evidenceRule, expectedShare, judge, type PacingInput } from '../../kpi/pacing.ts'
import { speaker } from '../../core/i18n/index.ts'
const ENGLISH = speaker('en', 'UTC')

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
    expect(judge({ ...base, actual: 460, forecast: { end: 850, low: 800, high: 899 } })).toMatchObject({ status: 'at_risk', basis: 'forecast' })
    expect(judge({ ...base, actual: 460, forecast: { end: 850, low: 800, high: 901 } })).toMatchObject({ status: 'on_track', basis: 'pace' })
    // a level: progress from the baseline (10,000); bar = 10,000 + 2,000 × 0.9 = 11,800
    const level = { ...base, kind: 'level' as const, target: 12_000, baseline: 10_000, actual: 11_000 }
    expect(judge({ ...level, forecast: { end: 11_600, low: 11_500, high: 11_790 } }).status).toBe('at_risk')
    expect(judge({ ...level, forecast: { end: 11_600, low: 11_500, high: 11_810 } }).status).toBe('on_track')
    // at_most: at risk when even the low end passes the limit by more than the tolerance (100 × 1.1)
    const cap = { ...base, comparator: 'at_most' as const, target: 100, actual: 40 }
    expect(judge({ ...cap, forecast: { end: 120, low: 111, high: 130 } })).toMatchObject({ status: 'at_risk', basis: 'forecast' })
    expect(judge({ ...cap, forecast: { end: 120, low: 109, high: 130 } }).status).toBe('on_track')
    // rates have no forecast rule
    expect(judge({ ...base, kind: 'rate', target: 0.05, actual: 0.05, forecast: { end: 0, low: 0, high: 0 } }).status).toBe('on_track')
  })

  it('calls a KPI behind its pace at risk only when its forecast end also misses by more than the tolerance', () => {
    // 440 < 500 × 0.9 = 450: behind the pace; the bar for the end is 1,000 × 0.9 = 900
    expect(judge({ ...base, actual: 440 })).toMatchObject({ status: 'at_risk', basis: 'pace' }) // no forecast: pace alone
    expect(judge({ ...base, actual: 440, forecast: { end: 899, low: 700, high: 1100 } })).toMatchObject({ status: 'at_risk', basis: 'pace' })
    expect(judge({ ...base, actual: 440, forecast: { end: 900, low: 700, high: 1100 } })).toMatchObject({ status: 'on_track', basis: 'forecast' })
    expect(judge({ ...base, actual: 440, forecast: { end: 1350, low: 1200, high: 1500 } })).toMatchObject({ status: 'on_track', basis: 'forecast' })
    // a level: the end's progress from the baseline; bar = 10,000 + 2,000 × 0.9 = 11,800
    const level = { ...base, kind: 'level' as const, target: 12_000, baseline: 10_000, actual: 10_850 } // gain 850 < 900
    expect(judge({ ...level, forecast: { end: 11_790, low: 11_500, high: 12_100 } })).toMatchObject({ status: 'at_risk', basis: 'pace' })
    expect(judge({ ...level, forecast: { end: 11_810, low: 11_500, high: 12_100 } })).toMatchObject({ status: 'on_track', basis: 'forecast' })
    // at_most: 56 > 50 × 1.1 = 55 is over the pace; at risk only when the end passes 100 × 1.1 = 110
    const cap = { ...base, comparator: 'at_most' as const, target: 100, actual: 56 }
    expect(judge({ ...cap, forecast: { end: 111, low: 100, high: 120 } })).toMatchObject({ status: 'at_risk', basis: 'pace' })
    expect(judge({ ...cap, forecast: { end: 110, low: 100, high: 120 } })).toMatchObject({ status: 'on_track', basis: 'forecast' })
  })
})

describe('evidence before alarm', () => {
  // Purchases from Meta ads, December 2026 in Jakarta: 31 days = 744 hours.
  const purchases: PacingInput = { kind: 'total', comparator: 'at_least', target: 600, tolerance: 0.1, actual: 0, baseline: null, fraction: 0, periodEnded: false }
  const hours = (h: number) => h / 744

  it('derives the default rule from the tolerance: a tenth of the period, or 4 ÷ tolerance² expected', () => {
    expect(DEFAULT_MIN_ELAPSED).toBe(0.1)
    expect(evidenceRule(0.1)).toEqual({ minElapsed: 0.1, minExpected: 400 })
    expect(evidenceRule(0.2)).toEqual({ minElapsed: 0.1, minExpected: 100 })
    expect(evidenceRule(0.05)).toEqual({ minElapsed: 0.1, minExpected: 1600 })
    expect(evidenceRule(0.3)).toEqual({ minElapsed: 0.1, minExpected: 45 }) // 4 ÷ 0.09 = 44.4
    expect(evidenceRule(0)).toEqual({ minElapsed: 0.1, minExpected: null }) // the time rule alone
    expect(evidenceRule(0.1, { minElapsed: 0.05, minExpected: 50 })).toEqual({ minElapsed: 0.05, minExpected: 50 })
    expect(evidenceRule(0.1, { minExpected: 'none' })).toEqual({ minElapsed: 0.1, minExpected: null })
  })

  it('18 hours into the month, 10 of 600 purchases is too early to call at risk', () => {
    // f = 18 / 744 = 0.0242; expected 600 × 0.0242 = 14.5, bar 13.1: 10 is behind. 14.5 < 400 and
    // 0.0242 < 0.1: no evidence yet
    const early = judge({ ...purchases, fraction: hours(18), actual: 10 })
    expect(early.expectedToDate).toBeCloseTo(14.516, 3)
    expect(early).toMatchObject({ status: 'on_track', basis: 'early' })
    // the demo's email: its forecast (672, 12 % above the target) beats the target anyway
    expect(judge({ ...purchases, fraction: hours(18), actual: 10, forecast: { end: 672, low: 420, high: 924 } })).toMatchObject({ status: 'on_track', basis: 'forecast' })
    // a forecast that says short does not make it evidence
    expect(judge({ ...purchases, fraction: hours(18), actual: 10, forecast: { end: 300, low: 100, high: 500 } })).toMatchObject({ status: 'on_track', basis: 'early' })
  })

  it('on day 5, pace and forecast decide together', () => {
    // f = 5 / 31 = 0.1613 ≥ 0.1: evidence. Expected 96.8, bar 87.1: 60 is behind
    const day5 = { ...purchases, fraction: 5 / 31, actual: 60 }
    expect(judge(day5)).toMatchObject({ status: 'at_risk', basis: 'pace' })
    expect(judge({ ...day5, forecast: { end: 672, low: 560, high: 784 } })).toMatchObject({ status: 'on_track', basis: 'forecast' })
    // the end must miss 600 × 0.9 = 540 to agree with the pace
    expect(judge({ ...day5, forecast: { end: 480, low: 400, high: 560 } })).toMatchObject({ status: 'at_risk', basis: 'pace' })
    expect(judge({ ...day5, forecast: { end: 539, low: 480, high: 600 } })).toMatchObject({ status: 'at_risk', basis: 'pace' })
    expect(judge({ ...day5, forecast: { end: 540, low: 480, high: 600 } })).toMatchObject({ status: 'on_track', basis: 'forecast' })
  })

  it('has evidence from a tenth of the period', () => {
    // 0.0999: expected 59.9 (bar 53.9), 0.1: expected 60 (bar 54); 30 is behind both, and under 400 expected
    expect(judge({ ...purchases, fraction: 0.0999, actual: 30 })).toMatchObject({ status: 'on_track', basis: 'early' })
    expect(judge({ ...purchases, fraction: 0.1, actual: 30 })).toMatchObject({ status: 'at_risk', basis: 'pace' })
  })

  it('has evidence earlier once 4 ÷ tolerance² is expected', () => {
    // likes ≥ 9,000 a month: after 33 h 9,000 × 33 / 744 = 399.2 expected, after 34 h 411.3
    const likes = { ...purchases, target: 9000, actual: 300 }
    expect(judge({ ...likes, fraction: hours(33) })).toMatchObject({ status: 'on_track', basis: 'early' }) // 300 < 359.3
    expect(judge({ ...likes, fraction: hours(34) })).toMatchObject({ status: 'at_risk', basis: 'pace' }) // 300 < 370.2
    // tolerance 0.2: 100 expected is enough; 9,000 × 9 / 744 = 108.9 expected, bar 87.1
    expect(judge({ ...likes, tolerance: 0.2, fraction: hours(9), actual: 80 })).toMatchObject({ status: 'at_risk', basis: 'pace' })
    expect(judge({ ...likes, tolerance: 0.2, fraction: hours(8), actual: 70 })).toMatchObject({ status: 'on_track', basis: 'early' }) // 96.8 < 100
  })

  it('counts the progress of a level from its baseline, not the level itself', () => {
    // followers 10,000 → 20,000 in the quarter; at f = 0.05 the gain expected is 500 ≥ 400
    const level = { ...purchases, kind: 'level' as const, target: 20_000, baseline: 10_000, fraction: 0.05 }
    expect(judge({ ...level, actual: 10_400 })).toMatchObject({ expectedToDate: 10_500, status: 'at_risk', basis: 'pace' }) // gain 400 < 450
    // 10,000 → 12,000: a gain of 100 expected is no evidence, although the level is 10,100
    expect(judge({ ...level, target: 12_000, actual: 10_050 })).toMatchObject({ expectedToDate: 10_100, status: 'on_track', basis: 'early' }) // 50 < 90
  })

  it('uses the time rule alone at tolerance 0, for rates and for at_most levels', () => {
    // tolerance 0: 100,000 views, 2,419 expected after 18 h, still no evidence
    expect(judge({ ...purchases, target: 100_000, tolerance: 0, fraction: hours(18), actual: 2000 })).toMatchObject({ status: 'on_track', basis: 'early' })
    expect(judge({ ...purchases, target: 100_000, tolerance: 0, fraction: 0.1, actual: 9999 })).toMatchObject({ status: 'at_risk', basis: 'pace' }) // 9,999 < 10,000
    // a rate has nothing counted: even minExpected 0 gives no evidence before the tenth
    const rate = { ...purchases, kind: 'rate' as const, target: 0.03, actual: 0.02, evidence: { minExpected: 0 } }
    expect(judge({ ...rate, fraction: 0.05 })).toMatchObject({ status: 'on_track', basis: 'early' }) // 0.02 < 0.027
    expect(judge({ ...rate, fraction: 0.1 })).toMatchObject({ status: 'at_risk', basis: 'pace' })
    // an at_most level is compared with its ceiling, not paced
    const ceiling = { ...purchases, kind: 'level' as const, comparator: 'at_most' as const, target: 50, baseline: 40, actual: 60, evidence: { minExpected: 0 } }
    expect(judge({ ...ceiling, fraction: 0.05 })).toMatchObject({ status: 'on_track', basis: 'early' })
    expect(judge({ ...ceiling, fraction: 0.1 })).toMatchObject({ status: 'at_risk', basis: 'pace' })
  })

  it("gates the forecast's own alarm too", () => {
    // on pace (15 ≥ 13.1 after 18 h) but even the band's high end, 500, misses 540
    const band = { end: 300, low: 100, high: 500 }
    expect(judge({ ...purchases, fraction: hours(18), actual: 15, forecast: band })).toMatchObject({ status: 'on_track', basis: 'early' })
    // day 5: 90 ≥ 87.1 on pace, the same band
    expect(judge({ ...purchases, fraction: 5 / 31, actual: 90, forecast: band })).toMatchObject({ status: 'at_risk', basis: 'forecast' })
  })

  it("takes the plan's overrides: minElapsed 0.05 and minExpected 50", () => {
    const evidence = { minElapsed: 0.05, minExpected: 50 }
    // 36 h: f = 0.0484 < 0.05 and 29 expected < 50; 38 h: f = 0.0511
    expect(judge({ ...purchases, evidence, fraction: hours(36), actual: 20 })).toMatchObject({ status: 'on_track', basis: 'early' }) // 20 < 26.1
    expect(judge({ ...purchases, evidence, fraction: hours(38), actual: 20 })).toMatchObject({ status: 'at_risk', basis: 'pace' }) // 20 < 27.6
    // target 3,000: 18 h expect 72.6 ≥ 50
    expect(judge({ ...purchases, target: 3000, evidence, fraction: hours(18), actual: 50 })).toMatchObject({ status: 'at_risk', basis: 'pace' }) // 50 < 65.3
    // minElapsed 0: the old behaviour, at risk at once
    expect(judge({ ...purchases, evidence: { minElapsed: 0 }, fraction: hours(18), actual: 10 })).toMatchObject({ status: 'at_risk', basis: 'pace' })
  })

  it('never gates facts: a spent budget is missed, a reached target achieved', () => {
    // 1 hour in (f = 0.0013)
    expect(judge({ ...purchases, comparator: 'at_most', target: 100, fraction: hours(1), actual: 101 })).toMatchObject({ status: 'missed', basis: 'pace' })
    expect(judge({ ...purchases, fraction: hours(1), actual: 600 })).toMatchObject({ status: 'achieved', basis: 'pace' })
    expect(judge({ ...purchases, fraction: hours(1), actual: null }).status).toBe('unknown')
    // on pace early is plainly on track, not "too early"
    expect(judge({ ...purchases, fraction: hours(18), actual: 14 })).toMatchObject({ status: 'on_track', basis: 'pace' })
  })
})

describe('status and forecast never contradict each other', () => {
  it('calls nothing at risk whose own forecast reaches the target, at any point of the period', () => {
    // a grid over the period, the actual value and the forecast end, for a floor of 600 and a ceiling of 100
    const seen = { atRisk: 0, rescued: 0 }
    for (const fraction of [0.01, 0.05, 0.1, 0.3, 0.6, 0.9]) {
      for (const share of [0, 0.3, 0.6, 0.85, 1]) {
        for (const endShare of [0.5, 0.85, 0.9, 0.95, 1, 1.12]) {
          const floor = judge({
            kind: 'total',
            comparator: 'at_least',
            target: 600,
            tolerance: 0.1,
            actual: 600 * fraction * share,
            baseline: null,
            fraction,
            periodEnded: false,
            forecast: { end: 600 * endShare, low: 600 * endShare * 0.8, high: 600 * endShare * 1.2 },
          })
          if (floor.status === 'at_risk') {
            seen.atRisk++
            expect(600 * endShare, `f ${fraction}, ${share} of the pace, end ${endShare}`).toBeLessThan(600)
          }
          if (floor.basis === 'forecast' && floor.status === 'on_track') seen.rescued++
          const ceiling = judge({
            kind: 'total',
            comparator: 'at_most',
            target: 100,
            tolerance: 0.1,
            actual: Math.min(100, 100 * fraction * (2 - share)),
            baseline: null,
            fraction,
            periodEnded: false,
            forecast: { end: 100 * (2 - endShare), low: 100 * (2 - endShare) * 0.8, high: 100 * (2 - endShare) * 1.2 },
          })
          if (ceiling.status === 'at_risk') expect(100 * (2 - endShare), `f ${fraction}, end ${2 - endShare}`).toBeGreaterThan(100)
        }
      }
    }
    // the grid reaches both branches, so the checks above have something to check
    expect(seen.atRisk).toBeGreaterThan(10)
    expect(seen.rescued).toBeGreaterThan(10)
  })
})

describe('basisNote', () => {
  it('explains a status only when the status alone would mislead', () => {
    const reaches = { end: 1_100, target: 1_000 }
    const short = { end: 700, target: 1_000 }
    expect(basisNote(ENGLISH, 'on_track', 'early', 'at_least', null, 'short')).toBe('too early to tell')
    expect(basisNote(ENGLISH, 'on_track', 'early', 'at_least', null)).toBe('too early to tell — it may fall short, but too little of the period has passed to call it at risk')
    expect(basisNote(ENGLISH, 'on_track', 'forecast', 'at_least', reaches)).toBe('behind the expected pace so far, but the recent trend reaches the target')
    expect(basisNote(ENGLISH, 'on_track', 'forecast', 'at_most', { end: 900, target: 1_000 })).toBe('over the expected pace so far, but the recent trend stays within the limit')
    expect(basisNote(ENGLISH, 'at_risk', 'forecast', 'at_least', short)).toBe('on pace so far, but the recent trend ends clearly short')
    expect(basisNote(ENGLISH, 'at_risk', 'pace', 'at_least', short)).toBeNull()
    expect(basisNote(ENGLISH, 'on_track', 'pace', 'at_least', reaches)).toBeNull()
    expect(basisNote(ENGLISH, 'missed', 'pace', 'at_most', null)).toBeNull()
  })
})
