/**
 * What a KPI is measured from: the selection of observations it reads and the source that answers
 * for them (kpi/clickhouse-source.ts over the rollups; a raw-observation source in the tests).
 * Here, beside the kinds, because every kind measures through it.
 */

import type { MetricShape } from '../../core/metrics.ts'

/** Which observations a KPI reads: one metric of some accounts of one network. */
export interface MetricSelection {
  network: string
  accountIds: string[]
  metric: string
  /** Only these segments of the accounts' daily counts (a KPI's `filter`); absent: the accounts' own totals. */
  segments?: string[]
}

/** One account of one network. */
export interface AccountRef {
  network: string
  accountId: string
}

/**
 * What the stored data says of one account's collection around an instant (`recentData`): the
 * evaluator gives no verdict on a KPI one of whose accounts is stale or was not collected in the
 * period (docs/kpi-semantics.md, "When there is no verdict").
 */
export interface RecentData extends AccountRef {
  /**
   * Per metric of the account: its newest observation at or before the instant, when it is not
   * older than the window's start for its shape (`dailySince` for daily counts, stamped at their
   * day's start; `since` for the others). Metrics without one are left out.
   */
  metrics: Array<{ metric: string; shape: MetricShape; at: Date }>
  /** Its last successful collection as source health has it (only the newest state is kept, whenever it was); null when never, or unknown. */
  lastSuccessAt: Date | null
  /** Whether source health knows the account (a collection of it ended, well or not); false: nothing recorded, as in data written by hand. */
  healthKnown: boolean
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
  /** Each account's recent observations, per metric, at or before `at` (see RecentData), and its last successful collection. */
  recentData(accounts: AccountRef[], at: Date, window: { since: Date; dailySince: Date }): Promise<RecentData[]>
  /** Each account's newest observation of any metric at or before `at`; null for an account without one. */
  lastSeen(accounts: AccountRef[], at: Date): Promise<Array<AccountRef & { at: Date | null }>>
  /**
   * Each account's currency as its API told it (the `account_facts` table): the currency of its
   * money metrics (Meta ads spend and purchase values). Accounts never told are left out. Optional:
   * a source without it knows no currency (the plan's `settings.currency` is used where given).
   */
  currencies?(accounts: AccountRef[]): Promise<Array<AccountRef & { currency: string }>>
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
