import type { Kpi, KpiKind } from './plan.ts'

export const KPI_STATUSES = ['on_track', 'at_risk', 'achieved', 'missed', 'unknown'] as const
export type KpiStatus = (typeof KPI_STATUSES)[number]

/** How the target is expected to accrue over the period (the plan's `pace`). */
export type Pace = Kpi['pace']

/** The forecast's band for the period end, as far as `judge` needs it. */
export interface ForecastBand {
  low: number
  high: number
}

export interface PacingInput {
  kind: KpiKind
  comparator: 'at_least' | 'at_most'
  target: number
  /** Fraction of shortfall against the pace that still counts as on track (0.1 = 10 %). */
  tolerance: number
  /** The KPI's value so far; null when there is no data. */
  actual: number | null
  /** For `level`: the level at the start of the period, when known. */
  baseline: number | null
  /** Elapsed part of the period, 0..1. */
  fraction: number
  periodEnded: boolean
  /** Linear when left out. */
  pace?: Pace
  /** The end-of-period forecast band (see kpi/forecast.ts); none when there is too little history. */
  forecast?: ForecastBand | null
}

export interface Judgement {
  expectedToDate: number | null
  status: KpiStatus
  /** actual ÷ target for at_least; for at_most 1 while within the limit, else target ÷ actual; null without data. */
  attainment: number | null
  /** Why the status is what it is: the pace so far, or the forecast (on pace, but the trend ends clearly short). */
  basis: 'pace' | 'forecast'
}

/**
 * The part of the target expected by `fraction` of the period. Linear: the fraction itself. A
 * curve `[c1, …, cn]` gives the cumulative share at the end of each of n equal steps (c at 0 is
 * 0), and is interpolated linearly within a step: [0.4, 0.7, 0.9, 1] expects 40 % after the
 * first quarter, 20 % after the first eighth, 78 % at 60 %.
 */
export function expectedShare(pace: Pace | undefined, fraction: number): number {
  const f = Math.min(1, Math.max(0, fraction))
  if (pace === undefined || pace === 'linear') return f
  const curve = pace.curve
  const position = f * curve.length
  const step = Math.min(curve.length - 1, Math.floor(position))
  const before = step === 0 ? 0 : curve[step - 1]!
  const after = curve[step]!
  return before + (after - before) * (position - step)
}

/**
 * Pacing. Amounts (total, growth) are expected to reach `target × share` by now; a level is
 * expected to move from its period-start baseline towards the target by the same share; `share`
 * is the elapsed fraction (linear) or the plan's pace curve at that fraction. A rate has no pace
 * and is compared with the target itself.
 *
 * Status: `achieved` once an at_least amount or level reaches the target (or, when the period has
 * ended, whenever the target is met); `missed` when the period ended short, or an at_most amount
 * has already passed its ceiling; otherwise `on_track` when within `tolerance` of the pace, else
 * `at_risk`. Tolerance is measured on the progress expected so far, not on the whole level.
 *
 * A forecast can only make things stricter: a KPI on pace whose forecast band ends clearly on the
 * wrong side of the target (even its favourable end misses by more than the tolerance) is
 * `at_risk` with basis `forecast`. A forecast never turns `at_risk` into `on_track`.
 */
export function judge(input: PacingInput): Judgement {
  const { kind, comparator, target, tolerance, actual, baseline, fraction, periodEnded } = input
  const base = kind === 'level' ? baseline : 0
  const share = expectedShare(input.pace, fraction)
  const expectedToDate = kind === 'rate' ? target : base === null ? null : base + (target - base) * share
  const result = (status: KpiStatus, basis: Judgement['basis'] = 'pace'): Judgement => ({ expectedToDate, status, attainment, basis })
  if (actual === null || Number.isNaN(actual)) return { expectedToDate, status: 'unknown', attainment: null, basis: 'pace' }

  const attainment = comparator === 'at_least' ? actual / target : actual <= target ? 1 : target / actual
  const met = comparator === 'at_least' ? actual >= target : actual <= target
  if (periodEnded) return result(met ? 'achieved' : 'missed')

  const forecastShort = (): boolean => {
    const band = input.forecast
    if (!band || kind === 'rate') return false
    if (comparator === 'at_least') {
      const start = base ?? 0
      return band.high - start < (target - start) * (1 - tolerance)
    }
    return band.low > target * (1 + tolerance)
  }
  const paced = (onPace: boolean): Judgement => (!onPace ? result('at_risk') : forecastShort() ? result('at_risk', 'forecast') : result('on_track'))

  if (comparator === 'at_least') {
    if (met && kind !== 'rate') return result('achieved')
    if (kind === 'rate') return result(actual >= target * (1 - tolerance) ? 'on_track' : 'at_risk')
    if (expectedToDate === null || base === null) return result('unknown')
    return paced(actual - base >= (expectedToDate - base) * (1 - tolerance))
  }

  // at_most
  if (kind === 'total' && !met) return result('missed')
  if (kind === 'rate') return result(actual <= target * (1 + tolerance) ? 'on_track' : 'at_risk')
  if (kind === 'level') return paced(actual <= target)
  if (expectedToDate === null) return result('unknown')
  return paced(actual <= expectedToDate * (1 + tolerance) || actual <= 0)
}
