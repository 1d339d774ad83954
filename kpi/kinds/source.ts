/**
 * What a KPI is measured from: the selection of observations it reads and the source that answers
 * for them (kpi/clickhouse-source.ts over the rollups; a raw-observation source in the tests).
 * Here, beside the kinds, because every kind measures through it.
 */

/** Which observations a KPI reads: one metric of some accounts of one network. */
export interface MetricSelection {
  network: string
  accountIds: string[]
  metric: string
  /** Only these segments of the accounts' daily counts (a KPI's `filter`); absent: the accounts' own totals. */
  segments?: string[]
}

/**
 * Where a KPI's numbers come from. `level` is the sum over the accounts of each account's latest
 * value at or before `at`; `amount` is what accrued in [from, to): daily counts summed, counters'
 * rise. Both are null when there is no data (no data is not zero).
 */
export interface KpiDataSource {
  level(selection: MetricSelection, at: Date): Promise<number | null>
  /**
   * Where a level's period starts from: each account's level at `start`, or, for an account first
   * read later (at or before `before`), its first reading. `at` is `start` when every account was
   * read by then, else the time of the latest of those first readings. Null without a reading.
   */
  startingLevel(selection: MetricSelection, start: Date, before: Date): Promise<{ value: number; at: Date } | null>
  /**
   * What accrued in [from, to). `knownAt` (default `to`) is when it is judged: an object created
   * inside [from, to) but first seen after `to`, by `knownAt`, brings what it had when first seen.
   */
  amount(selection: MetricSelection, from: Date, to: Date, knownAt?: Date): Promise<number | null>
  /** The newest observation of the selection at or before `at`, of its stalest account; null without data. */
  dataUntil(selection: MetricSelection, at: Date): Promise<{ at: Date; accountId: string } | null>
  /**
   * Optional, for speed: the level at each of `from`, `from + stepMs`, …, `to` (one query instead
   * of one per step). Without it the evaluator asks `level` step by step.
   */
  levelSeries?(selection: MetricSelection, from: Date, to: Date, stepMs: number): Promise<Array<number | null>>
  /** Optional, for speed: the amount of each step [from + k·stepMs, from + (k+1)·stepMs) up to `to`. */
  amountSeries?(selection: MetricSelection, from: Date, to: Date, stepMs: number): Promise<Array<number | null>>
  /**
   * Optional, for speed: a source for one evaluation of KPIs with these selections, which may
   * answer the questions they share (the same network, metric and window) with one query between
   * them. Its answers are the same; it is used for one evaluation and dropped.
   */
  batch?(selections: MetricSelection[]): KpiDataSource
}
