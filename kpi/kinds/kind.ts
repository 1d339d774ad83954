import type { MetricShape } from '../../core/metrics.ts'
import type { KpiDataSource, MetricSelection } from './source.ts'

/**
 * A KPI kind (docs/kpi-semantics.md): which metrics it reads, how it measures its value, how that
 * value moves over a period, and how it is written. One module per kind in this folder, listed in
 * `KPI_KIND_MODULES` (kpi/kinds/index.ts). The shared parts read these properties and never the
 * kind's name: the plan's validation (plan/plan.ts), the evaluator (kpi/evaluate.ts), pacing
 * (kpi/pacing.ts), the period review (kpi/review.ts) and every rendering.
 */

/** A level's starting point: its reading at the period start, or its first reading inside the period. */
export interface StartingPoint {
  value: number
  at: Date
}

/** What a kind measures with: the KPI's selections, its period, and up to when. */
export interface KindReading {
  source: KpiDataSource
  /** The KPI's metric. */
  metric: MetricSelection
  /** The denominator metric, for a kind that takes one. */
  denominator?: MetricSelection
  /** The period measured (only its span: a kind knows nothing of calendars). */
  period: { start: Date; end: Date }
  /** Amounts count observations before this instant (the period end, or just after the evaluation time). */
  upTo: Date
  /**
   * Levels are read at or before this instant (the evaluation time, or the period end): a reading
   * stamped a millisecond after the evaluation time is not yet known to it.
   */
  levelAt: Date
  /** When it is judged (see `KpiDataSource.amount`). */
  knownAt: Date
}

export interface Measurement {
  /** The KPI's value so far; null without data (no data is not zero). */
  actual: number | null
  /** For a kind read from levels: where its value starts (see `startingPoint`); null otherwise or without a reading. */
  start: StartingPoint | null
}

export interface KpiKindDefinition<Name extends string> {
  name: Name
  /** The metric shapes it reads (plan/plan.ts checks the metric, and the denominator, against them). */
  shapes: readonly MetricShape[]
  /** What it needs, for the plan's error message: "a level such as followers". */
  needs: string
  /** Whether it is a ratio of two metrics (`denominator` in the plan). */
  denominator: boolean
  /**
   * Where its value counts from: `start`, the level's own value, which starts wherever the period
   * starts (its baseline: the pace line's origin, and what the review's chart counts progress
   * from); `zero`, an amount that starts at 0 with every period.
   */
  origin: 'start' | 'zero'
  /** An amount that never falls within a period: an at-most one over its ceiling has missed for good, and a trend below zero means zero. */
  onlyGrows: boolean
  /**
   * Whether its value may be below zero over any metric: a change may (followers lost), a level,
   * an amount or a ratio of amounts may not, unless its metric is `signed` (core/networks/types.ts).
   * Below zero otherwise, the data is wrong: no verdict (kpi/evaluate.ts).
   */
  signed: boolean
  /**
   * The daily series behind its history, forecast and review chart: `level` (levels at day
   * boundaries, the value being the level, or its rise since the start), `amount` (what accrued each
   * day); null for none (a ratio has no forecast and no history).
   */
  trend: 'level' | 'amount' | null
  /**
   * How it is paced (kpi/pacing.ts): from its origin towards the target by the expected share of
   * the period. `ceiling` says what an at-most KPI is held to while the period runs: `target`, the
   * ceiling itself (a level may be anywhere under it), or `pace`, the part of the ceiling expected
   * by now (an amount). Null: not paced at all, compared with the target itself within the
   * tolerance (a rate), never achieved before the period ends.
   */
  pacing: { ceiling: 'target' | 'pace' } | null
  /** Decimals its values are written with: 4 for a rate (0.0312), 0 for counts and levels. */
  decimals: number
  /** What its value counts, in words, from the metric's words: "followers", "followers gained". Default: the metric's words. */
  unit?(metric: string): string
  /** Its value over [period.start, upTo) (an amount) or at `levelAt` (a level), and where it started. */
  measure(reading: KindReading): Promise<Measurement>
  /**
   * For a kind read from levels: where its value starts for the period starting at `start`, with
   * readings up to `before` (the review's chart and the evaluator both start there).
   */
  startingPoint?(source: KpiDataSource, selection: MetricSelection, start: Date, before: Date): Promise<StartingPoint | null>
}

export interface KpiKindModule<Name extends string = string> extends Readonly<KpiKindDefinition<Name>> {
  unit(metric: string): string
  /** Paced towards its target: has an expected-to-date (`pacing` is not null). */
  readonly paced: boolean
  /** Accumulates from zero at a pace (an amount): what it still needs per day can be said from the target alone. */
  readonly accumulates: boolean
}

/** A KPI kind's module: `export const total = defineKpiKind({ name: 'total', ... })`, then one line in kpi/kinds/index.ts. */
export function defineKpiKind<const Name extends string>(definition: KpiKindDefinition<Name>): KpiKindModule<Name> {
  const paced = definition.pacing !== null
  return Object.freeze({
    unit: (metric: string) => metric,
    ...definition,
    paced,
    accumulates: paced && definition.origin === 'zero',
  })
}
