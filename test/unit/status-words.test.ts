import { describe, expect, it } from 'vitest'
import type { Reader } from '../../cli/reader.ts'
import { formatStatus } from '../../cli/status.ts'
import { basisNote, judge, type ForecastEnd, type StatusBasis } from '../../kpi/pacing.ts'
import { KPI_STATUSES } from '../../kpi/statuses.ts'
import { speaker } from '../../core/i18n/index.ts'
const ENGLISH = speaker('en', 'UTC')

/**
 * Issue 22, item 5: the words beside a status never contradict the numbers beside them. Every
 * status basis is checked against its sentence: for every combination the pacing can give (table
 * below), and for every status × basis × comparator × forecast a stored row could hold.
 */

type Comparator = 'at_least' | 'at_most'
type Forecast = 'absent' | 'reaches' | 'within' | 'beyond'

// A total of at least (or at most) 1,000 with a tolerance of 0.1; the forecast's end per case.
const TARGET = 1_000
const ENDS: Record<Comparator, Record<Exclude<Forecast, 'absent'>, number>> = {
  at_least: { reaches: 1_100, within: 950, beyond: 700 },
  at_most: { reaches: 900, within: 1_050, beyond: 1_300 },
}
const forecastOf = (comparator: Comparator, forecast: Forecast): ForecastEnd | null => (forecast === 'absent' ? null : { end: ENDS[comparator][forecast], target: TARGET, tolerance: 0.1 })

/** What a sentence claims, and what the numbers must then be. */
function claims(note: string | null) {
  const n = note ?? ''
  return {
    forecast: /forecast|trend/.test(n),
    behind: /^(behind|over) (pace|the expected pace)/.test(n),
    onPace: /^(on pace|within pace|within the expected pace)/.test(n),
    reaches: /reaches the target|within the limit|stays within the limit/.test(n),
    justMisses: /just (short|over)|within the tolerance of/.test(n),
    clearlyMisses: /forecast (short|over)|clearly (short|over)/.test(n),
    early: /too early/.test(n),
  }
}

/** Whether a forecast end reaches the target, misses within the tolerance, or beyond it. */
function where(comparator: Comparator, end: number): 'reaches' | 'within' | 'beyond' {
  if (comparator === 'at_least') return end >= TARGET ? 'reaches' : end >= TARGET * 0.9 ? 'within' : 'beyond'
  return end <= TARGET ? 'reaches' : end <= TARGET * 1.1 ? 'within' : 'beyond'
}

/** The claims a note makes about the forecast hold for the forecast shown beside it. */
function agreesWithForecast(note: string | null, comparator: Comparator, forecast: ForecastEnd | null): void {
  const c = claims(note)
  if (!forecast) {
    expect(c.forecast, `"${note}" speaks of a forecast that is not there`).toBe(false)
    return
  }
  const actual = where(comparator, forecast.end)
  if (c.reaches) expect(actual, `"${note}" beside a forecast ending at ${forecast.end}`).toBe('reaches')
  if (c.justMisses) expect(actual, `"${note}" beside a forecast ending at ${forecast.end}`).toBe('within')
  if (c.clearlyMisses) expect(actual, `"${note}" beside a forecast ending at ${forecast.end}`).toBe('beyond')
}

describe('the pacing gives a sentence that agrees with its numbers', () => {
  // comparator, pace, forecast, evidence → status, basis, the short sentence
  const table: Array<[Comparator, 'on' | 'behind', Forecast, 'evidence' | 'early', string, StatusBasis, string | null]> = [
    ['at_least', 'on', 'absent', 'evidence', 'on_track', 'pace', null],
    ['at_least', 'on', 'absent', 'early', 'on_track', 'pace', null],
    ['at_least', 'on', 'reaches', 'evidence', 'on_track', 'pace', null],
    ['at_least', 'on', 'reaches', 'early', 'on_track', 'pace', null],
    ['at_least', 'on', 'within', 'evidence', 'on_track', 'pace', null],
    ['at_least', 'on', 'within', 'early', 'on_track', 'pace', null],
    ['at_least', 'on', 'beyond', 'evidence', 'at_risk', 'forecast', 'on pace, forecast short'],
    ['at_least', 'on', 'beyond', 'early', 'on_track', 'early', 'too early to tell'],
    ['at_least', 'behind', 'absent', 'evidence', 'at_risk', 'pace', null],
    ['at_least', 'behind', 'absent', 'early', 'on_track', 'early', 'too early to tell'],
    ['at_least', 'behind', 'reaches', 'evidence', 'on_track', 'forecast', 'behind pace, forecast reaches the target'],
    ['at_least', 'behind', 'reaches', 'early', 'on_track', 'forecast', 'behind pace, forecast reaches the target'],
    ['at_least', 'behind', 'within', 'evidence', 'on_track', 'forecast', 'behind pace, forecast just short, within tolerance'],
    ['at_least', 'behind', 'within', 'early', 'on_track', 'forecast', 'behind pace, forecast just short, within tolerance'],
    ['at_least', 'behind', 'beyond', 'evidence', 'at_risk', 'pace', null],
    ['at_least', 'behind', 'beyond', 'early', 'on_track', 'early', 'too early to tell'],
    ['at_most', 'on', 'absent', 'evidence', 'on_track', 'pace', null],
    ['at_most', 'on', 'absent', 'early', 'on_track', 'pace', null],
    ['at_most', 'on', 'reaches', 'evidence', 'on_track', 'pace', null],
    ['at_most', 'on', 'reaches', 'early', 'on_track', 'pace', null],
    ['at_most', 'on', 'within', 'evidence', 'on_track', 'pace', null],
    ['at_most', 'on', 'within', 'early', 'on_track', 'pace', null],
    ['at_most', 'on', 'beyond', 'evidence', 'at_risk', 'forecast', 'within pace, forecast over'],
    ['at_most', 'on', 'beyond', 'early', 'on_track', 'early', 'too early to tell'],
    ['at_most', 'behind', 'absent', 'evidence', 'at_risk', 'pace', null],
    ['at_most', 'behind', 'absent', 'early', 'on_track', 'early', 'too early to tell'],
    ['at_most', 'behind', 'reaches', 'evidence', 'on_track', 'forecast', 'over pace, forecast within the limit'],
    ['at_most', 'behind', 'reaches', 'early', 'on_track', 'forecast', 'over pace, forecast within the limit'],
    ['at_most', 'behind', 'within', 'evidence', 'on_track', 'forecast', 'over pace, forecast just over, within tolerance'],
    ['at_most', 'behind', 'within', 'early', 'on_track', 'forecast', 'over pace, forecast just over, within tolerance'],
    ['at_most', 'behind', 'beyond', 'evidence', 'at_risk', 'pace', null],
    ['at_most', 'behind', 'beyond', 'early', 'on_track', 'early', 'too early to tell'],
  ]

  it.each(table)('%s, %s pace, forecast %s, %s → %s (%s): %s', (comparator, pace, forecast, evidence, status, basis, sentence) => {
    // half the period (evidence), or a twentieth of it without the count rule (too early)
    const fraction = evidence === 'evidence' ? 0.5 : 0.05
    const expected = TARGET * fraction
    const actual = pace === 'on' ? expected : comparator === 'at_least' ? expected * 0.5 : expected * 1.4
    const ends = forecastOf(comparator, forecast)
    const judged = judge({
      kind: 'total',
      comparator,
      target: TARGET,
      tolerance: 0.1,
      actual,
      baseline: null,
      fraction,
      periodEnded: false,
      forecast: ends && { end: ends.end, low: ends.end, high: ends.end },
      evidence: { minExpected: 'none' },
    })
    expect([judged.status, judged.basis]).toEqual([status, basis])
    const short = basisNote(ENGLISH, judged.status, judged.basis, comparator, ends, 'short')
    const long = basisNote(ENGLISH, judged.status, judged.basis, comparator, ends, 'long')
    expect(short).toBe(sentence)
    expect(long === null).toBe(short === null)
    for (const note of [short, long]) {
      const c = claims(note)
      // "behind pace" only when the actual value is behind it, "on pace" only when it is on it
      if (c.behind) expect(pace).toBe('behind')
      if (c.onPace) expect(pace).toBe('on')
      if (c.early) expect([judged.status, evidence]).toEqual(['on_track', 'early'])
      agreesWithForecast(note, comparator, ends)
    }
  })
})

describe('every status and basis, with or without a forecast, as a stored row may hold them', () => {
  const combinations = KPI_STATUSES.flatMap((status) =>
    (['pace', 'forecast', 'early'] as const).flatMap((basis) =>
      (['at_least', 'at_most'] as const).flatMap((comparator) => (['absent', 'reaches', 'within', 'beyond'] as const).map((forecast) => [status, basis, comparator, forecast] as const)),
    ),
  )

  it.each(combinations)('%s, basis %s, %s, forecast %s: the sentence never contradicts the forecast', (status, basis, comparator, forecast) => {
    const ends = forecastOf(comparator, forecast)
    for (const form of ['short', 'long'] as const) {
      const note = basisNote(ENGLISH, status, basis, comparator, ends, form)
      agreesWithForecast(note, comparator, ends)
      // only an on-track or at-risk status rests on a basis worth saying
      if (status !== 'on_track' && status !== 'at_risk') expect(note).toBeNull()
      // "at risk" is never explained by a forecast that reaches the target
      if (status === 'at_risk') expect(claims(note).reaches).toBe(false)
    }
  })
})

describe('social-kpi status', () => {
  // 1 Dec 00:05 WIB: 0 clicks of 3,500 five minutes into December; last month's clicks (+120 a
  // day) carry a forecast that reaches the target. Before issue 22 the line read "on_track
  // (behind pace, forecast within reach)" beside "so far +0/day".
  const row = {
    kpi_id: 'fb-clicks-month',
    kpi_name: 'Clicks',
    kind: 'total',
    comparator: 'at_least',
    status: 'on_track',
    status_basis: 'forecast',
    status_reason: '',
    missing_accounts: [],
    actual: 0,
    target: 3_500,
    expected_to_date: 0.39,
    attainment: 0,
    period_start: '2026-11-30 17:00:00.000',
    period_end: '2026-12-31 17:00:00.000',
    latest_at: '2026-11-30 17:05:00.000',
    forecast_end: 3_719,
    needed_per_day: 112.9,
    recent_per_day: 120,
  }
  const reader = (rows: object[]) =>
    ({
      rows: async (query: string) => (query.includes('system.columns') ? [] : query.includes('system.tables') ? [{ n: 0 }] : query.includes('kpi_evaluations') ? rows : []),
    }) as unknown as Reader
  const now = new Date('2026-11-30T17:06:00Z')
  const line = async (r: object) => (await formatStatus(reader([r]), { color: false, now })).split('\n').find((l) => l.startsWith('fb-clicks-month'))!

  it("says the forecast's recent pace beside a status resting on it, not the average so far", async () => {
    const text = await line(row)
    expect(text).toContain('on track (behind pace, forecast reaches the target)')
    expect(text).toContain('needs +113/day, recent pace +120/day')
    expect(text).not.toContain('so far +0/day')
  })

  it('gives no forecast words without the forecast (a row from before the forecast columns)', async () => {
    const text = await line({ ...row, forecast_end: null, needed_per_day: null, recent_per_day: null })
    expect(text).toMatch(/^fb-clicks-month {2}on track {2}/)
    expect(text).not.toContain('forecast')
  })
})

describe('"expected now" is what the status is judged against', () => {
  const level = { kind: 'level' as const, tolerance: 0.1, periodEnded: false, fraction: 0.25, forecast: null }

  it('is the growth expected by now for a growth KPI, not the level', () => {
    // 9,000 followers gained in the month, a quarter through it: 2,250, whatever the level is
    expect(judge({ ...level, kind: 'growth', comparator: 'at_least', target: 9_000, actual: 1_200, baseline: null }).expectedToDate).toBe(2_250)
  })

  it('is the target for a level that started at or past its at-least target (issue 22: 31,961 expected of a target of 9,000)', () => {
    const judged = judge({ ...level, comparator: 'at_least', target: 9_000, actual: 31_961, baseline: 31_961 })
    expect(judged).toMatchObject({ status: 'achieved', expectedToDate: 9_000 })
    // a level still below its target is paced from its start towards it, as before
    expect(judge({ ...level, comparator: 'at_least', target: 12_000, actual: 10_400, baseline: 10_000 }).expectedToDate).toBe(10_500)
  })

  it('is the ceiling itself for an at-most level, which is judged against it', () => {
    expect(judge({ ...level, comparator: 'at_most', target: 50, actual: 45, baseline: 40 })).toMatchObject({ status: 'on_track', expectedToDate: 50 })
  })
})
