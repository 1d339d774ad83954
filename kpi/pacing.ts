import type { Speaker } from '../core/i18n/index.ts'
import { kpiKind, type KpiKind } from './kinds/index.ts'
import type { EvidenceOverrides, Kpi } from '../plan/plan.ts'
import type { KpiStatus } from './statuses.ts'

/** How the target is expected to accrue over the period (the plan's `pace`). */
export type Pace = Kpi['pace']

/** The forecast for the period end, as far as `judge` needs it (see kpi/forecast.ts). */
export interface ForecastBand {
  /** The central forecast. */
  end: number
  /** Central 80 % band. */
  low: number
  high: number
}

/** The evidence rule in effect: `minExpected` null means the time rule alone. */
export interface EvidenceRule {
  /** The share of the period (0..1, real time) after which there is evidence. */
  minElapsed: number
  /** The progress expected by now, in KPI units, from which there is evidence earlier. */
  minExpected: number | null
}

/** 0.1 of the period: 3 days of a month, 16.8 hours of a week, 9 days of a quarter, 36.5 days of a year. */
export const DEFAULT_MIN_ELAPSED = 0.1

/**
 * The evidence rule for a tolerance, with the plan's overrides. The default `minExpected` is the
 * expected count at which a shortfall the size of the tolerance is two standard deviations of
 * Poisson chance: tolerance × λ = 2√λ, so λ = 4 ÷ tolerance² (400 at 0.1, 100 at 0.2, 1,600 at
 * 0.05); none at tolerance 0, where any shortfall counts and only time can be the evidence.
 */
export function evidenceRule(tolerance: number, overrides: EvidenceOverrides = {}): EvidenceRule {
  const poisson = tolerance > 0 ? Math.ceil(4 / tolerance ** 2) : null
  const minExpected = overrides.minExpected === undefined ? poisson : overrides.minExpected === 'none' ? null : overrides.minExpected
  return { minElapsed: overrides.minElapsed ?? DEFAULT_MIN_ELAPSED, minExpected }
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
  /** The end-of-period forecast (see kpi/forecast.ts); none when there is too little history. */
  forecast?: ForecastBand | null
  /** When the KPI may be called at risk; the defaults of `evidenceRule` when left out. */
  evidence?: EvidenceOverrides
}

/**
 * Why the status is what it is:
 * - `pace`: the pace so far (and, for at_risk, a forecast that agrees, when there is one);
 * - `forecast`: the forecast overrules the pace: on pace but the trend ends clearly short
 *   (at_risk), or behind pace but the trend reaches the target within the tolerance (on_track);
 * - `early`: it would be at risk, but there is not yet enough evidence (on_track).
 */
export type StatusBasis = 'pace' | 'forecast' | 'early'

export interface Judgement {
  expectedToDate: number | null
  status: KpiStatus
  /** actual ÷ target for at_least; for at_most 1 while within the limit, else target ÷ actual; null without data. */
  attainment: number | null
  basis: StatusBasis
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
 * Pacing, by what the KPI's kind says of itself (kpi/kinds/). Amounts (total, growth: origin
 * `zero`) are expected to reach `target × share` by now; a level (origin `start`) is expected to
 * move from its period-start baseline towards the target by the same share; `share` is the
 * elapsed fraction (linear) or the plan's pace curve at that fraction. A kind without `pacing` (a
 * rate) has no pace and is compared with the target itself.
 *
 * Status: `achieved` once an at_least amount or level reaches the target (or, when the period has
 * ended, whenever the target is met); `missed` when the period ended short, or an at_most amount
 * has already passed its ceiling; otherwise `on_track` when within `tolerance` of the pace.
 * Tolerance is measured on the progress expected so far, not on the whole level.
 *
 * Behind the pace is `at_risk` only when the forecast (when there is one) agrees, its end
 * missing the target by more than the tolerance; when it does not, `on_track` with basis
 * `forecast`. On pace, but with even the favourable end of the forecast band missing by more
 * than the tolerance, is `at_risk` with basis `forecast`. Either `at_risk` needs evidence (see
 * `hasEvidence`); without it the KPI is `on_track` with basis `early`. `missed` and `achieved`
 * need none: they are facts, not predictions.
 */
export function judge(input: PacingInput): Judgement {
  const { comparator, target, tolerance, actual, baseline, fraction, periodEnded } = input
  const kind = kpiKind(input.kind)
  const { pacing } = kind
  const base = kind.origin === 'start' ? baseline : 0
  const share = expectedShare(input.pace, fraction)
  // What is expected by now is what the status is judged against: the target itself for a kind
  // held to it (a rate; an at-most level, under its ceiling), and for a level that started at or
  // past an at-least target (nothing to gain: it is to stay there), else the pace line from the
  // origin. A line from 31,961 followers down to a target of 9,000 expects nothing anyone wants.
  const heldToTarget = pacing === null || (pacing.ceiling === 'target' && comparator === 'at_most') || (comparator === 'at_least' && base !== null && base >= target)
  const expectedToDate = heldToTarget ? target : base === null ? null : base + (target - base) * share
  const result = (status: KpiStatus, basis: StatusBasis = 'pace'): Judgement => ({ expectedToDate, status, attainment, basis })
  if (actual === null || Number.isNaN(actual)) return { expectedToDate, status: 'unknown', attainment: null, basis: 'pace' }

  const attainment = comparator === 'at_least' ? actual / target : actual <= target ? 1 : target / actual
  const met = comparator === 'at_least' ? actual >= target : actual <= target
  if (periodEnded) return result(met ? 'achieved' : 'missed')

  // Pace and forecast say "at risk"; this says whether it may be said yet.
  const atRisk = (basis: StatusBasis): Judgement => {
    const rule = evidenceRule(tolerance, input.evidence)
    // The counted progress expected by now; rates, and at_most KPIs held to the ceiling itself (levels), are not paced.
    const progress = pacing === null || (pacing.ceiling === 'target' && comparator === 'at_most') || expectedToDate === null ? null : Math.abs(expectedToDate - (base ?? 0))
    return hasEvidence(rule, fraction, progress) ? result('at_risk', basis) : result('on_track', 'early')
  }
  const paced = (onPace: boolean): Judgement => {
    const band = input.forecast
    if (!band) return onPace ? result('on_track') : atRisk('pace')
    const start = base ?? 0
    const short = (end: number) => (comparator === 'at_least' ? end - start < (target - start) * (1 - tolerance) : end > target * (1 + tolerance))
    if (onPace) return short(comparator === 'at_least' ? band.high : band.low) ? atRisk('forecast') : result('on_track')
    return short(band.end) ? atRisk('pace') : result('on_track', 'forecast')
  }

  if (comparator === 'at_least') {
    if (met && pacing !== null) return result('achieved')
    if (pacing === null) return actual >= target * (1 - tolerance) ? result('on_track') : atRisk('pace')
    if (expectedToDate === null || base === null) return result('unknown')
    return paced(actual - base >= (expectedToDate - base) * (1 - tolerance))
  }

  // at_most
  if (kind.onlyGrows && !met) return result('missed')
  if (pacing === null) return actual <= target * (1 + tolerance) ? result('on_track') : atRisk('pace')
  if (pacing.ceiling === 'target') return paced(actual <= target)
  if (expectedToDate === null) return result('unknown')
  return paced(actual <= expectedToDate * (1 + tolerance) || actual <= 0)
}

/**
 * Whether there is evidence enough to call a KPI at risk: `minElapsed` of the period has passed,
 * or, earlier, the progress expected by now (`expectedProgress`, in KPI units; null when not
 * counted) has reached `minExpected`.
 */
function hasEvidence(rule: EvidenceRule, fraction: number, expectedProgress: number | null): boolean {
  if (fraction >= rule.minElapsed) return true
  return rule.minExpected !== null && expectedProgress !== null && expectedProgress >= rule.minExpected
}

/** What a status's note may say of the forecast: where it ends, against the target. */
export interface ForecastEnd {
  /** The forecast value at the period end. */
  end: number
  target: number
  /**
   * The KPI's tolerance, and for a level its baseline (the progress is what the tolerance is
   * measured on): with them, a note says only what the forecast shows, also for a row read back
   * out of step; without them (a stored row), the basis is taken as the pacing gave it.
   */
  tolerance?: number
  base?: number | null
}

/** Whether a forecast's end reaches the target, misses it within the tolerance, or beyond it (null: the tolerance is not known). */
function forecastReach(comparator: 'at_least' | 'at_most', f: ForecastEnd): 'reaches' | 'within' | 'beyond' | 'misses' {
  const reaches = comparator === 'at_least' ? f.end >= f.target : f.end <= f.target
  if (reaches) return 'reaches'
  if (f.tolerance === undefined) return 'misses'
  const base = f.base ?? 0
  const within = comparator === 'at_least' ? f.end - base >= (f.target - base) * (1 - f.tolerance) : f.end <= f.target * (1 + f.tolerance)
  return within ? 'within' : 'beyond'
}

/**
 * The reason for a status, in a marketer's words, when the status alone would mislead: the
 * forecast overruled the pace, or it is too early to tell. Null when the status says it all.
 * `short` is for tables. The emails, the terminal tables and the replay all use it, so they
 * never disagree. A note about the forecast is given only with the forecast it is about, and says
 * what that forecast shows: one that reaches the target is not "short", one a little short of it
 * (within the tolerance) does not "reach" it; without a forecast there is no such note.
 */
export function basisNote(
  speaker: Speaker,
  status: KpiStatus,
  basis: StatusBasis | undefined,
  comparator: 'at_least' | 'at_most',
  forecast: ForecastEnd | null,
  form: 'long' | 'short' = 'long',
): string | null {
  const key = basisNoteKey(status, basis, comparator, forecast)
  return key === null ? null : speaker.t(`basis.${form}.${key}`)
}

/** Which note (the catalogue's `basis.short|long.<key>`) a status and its basis call for; null for none. */
function basisNoteKey(status: KpiStatus, basis: StatusBasis | undefined, comparator: 'at_least' | 'at_most', forecast: ForecastEnd | null): string | null {
  const atLeast = comparator === 'at_least'
  // Early because behind the pace, or because the forecast ends short: it may fall short either way.
  if (status === 'on_track' && basis === 'early') return 'early'
  if (basis !== 'forecast' || !forecast) return null
  const reach = forecastReach(comparator, forecast)
  const reaches = reach === 'reaches'
  // on track by a forecast that misses by more than the tolerance: a row out of step, no words for it
  if (status === 'on_track' && reach !== 'beyond') {
    if (atLeast) return reaches ? 'behind_reaches' : 'behind_within'
    return reaches ? 'over_within_limit' : 'over_just_over'
  }
  // A forecast that reaches the target cannot be what calls it at risk (a row read back out of step).
  if (status === 'at_risk' && (reach === 'beyond' || reach === 'misses')) return atLeast ? 'on_pace_short' : 'within_pace_over'
  return null
}
