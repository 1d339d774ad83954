import type { KpiKind } from './plan.ts'

export const KPI_STATUSES = ['on_track', 'at_risk', 'achieved', 'missed', 'unknown'] as const
export type KpiStatus = (typeof KPI_STATUSES)[number]

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
}

export interface Judgement {
  expectedToDate: number | null
  status: KpiStatus
  /** actual ÷ target for at_least; for at_most 1 while within the limit, else target ÷ actual; null without data. */
  attainment: number | null
}

/**
 * Linear pacing. Amounts (total, growth) are expected to reach `target × fraction` by now; a level
 * is expected to move from its period-start baseline towards the target in a straight line; a
 * rate has no pace and is compared with the target itself.
 *
 * Status: `achieved` once an at_least amount or level reaches the target (or, when the period has
 * ended, whenever the target is met); `missed` when the period ended short, or an at_most amount
 * has already passed its ceiling; otherwise `on_track` when within `tolerance` of the pace, else
 * `at_risk`. Tolerance is measured on the progress expected so far, not on the whole level.
 */
export function judge(input: PacingInput): Judgement {
  const { kind, comparator, target, tolerance, actual, baseline, fraction, periodEnded } = input
  const base = kind === 'level' ? baseline : 0
  const expectedToDate = kind === 'rate' ? target : base === null ? null : base + (target - base) * fraction
  if (actual === null || Number.isNaN(actual)) return { expectedToDate, status: 'unknown', attainment: null }

  const attainment = comparator === 'at_least' ? actual / target : actual <= target ? 1 : target / actual
  const met = comparator === 'at_least' ? actual >= target : actual <= target
  if (periodEnded) return { expectedToDate, status: met ? 'achieved' : 'missed', attainment }

  if (comparator === 'at_least') {
    if (met && kind !== 'rate') return { expectedToDate, status: 'achieved', attainment }
    if (kind === 'rate') return { expectedToDate, status: actual >= target * (1 - tolerance) ? 'on_track' : 'at_risk', attainment }
    if (expectedToDate === null || base === null) return { expectedToDate, status: 'unknown', attainment }
    const onPace = actual - base >= (expectedToDate - base) * (1 - tolerance)
    return { expectedToDate, status: onPace ? 'on_track' : 'at_risk', attainment }
  }

  // at_most
  if (kind === 'total' && !met) return { expectedToDate, status: 'missed', attainment }
  if (kind === 'rate' || kind === 'level') return { expectedToDate, status: actual <= target * (1 + (kind === 'rate' ? tolerance : 0)) ? 'on_track' : 'at_risk', attainment }
  if (expectedToDate === null) return { expectedToDate, status: 'unknown', attainment }
  return { expectedToDate, status: actual <= expectedToDate * (1 + tolerance) || actual <= 0 ? 'on_track' : 'at_risk', attainment }
}
