import { DateTime } from 'luxon'
import type { Config } from '../../core/config.ts'
import { ApiError } from '../../core/errors.ts'
import type { Logger } from '../../core/logger.ts'
import type { RetryPolicy } from '../http.ts'
import type { RequestGate } from '../quota.ts'
import type { ApiObserver } from '../../core/telemetry.ts'
import { METRICS, type Network } from '../../core/metrics.ts'
import { toClickHouseTime } from '../../core/clickhouse.ts'
import type { PlanAccount } from '../../plan/plan.ts'
import type { ObservationRow } from '../../core/tables.ts'
import type { Speaker } from '../../core/i18n/index.ts'

export interface CollectContext {
  account: PlanAccount
  /** The account's token, resolved from its `tokenEnv`. Never put it in logs, rows or errors. */
  token: string
  /** The scheduled time of this round: the observed time of snapshot values, so a re-run replaces them. */
  roundAt: Date
  now: () => Date
  /** Days of insights to re-read each round, since the API revises recent days. */
  lookbackDays: number
  /** Segments the plan's KPIs narrow this account to (kpis[].filter): stored beside its totals. */
  segments?: string[]
  logger: Logger
  /** The account's share of the network's call limit; the session's API callers ask it (define.ts). */
  gate?: RequestGate
  /** Counts the API requests (Prometheus); the session's API callers report to it (define.ts). */
  apiObserver?: ApiObserver
  /** Hands rows to the writer; the job completes only after they are stored, even if collection fails later. */
  emit(rows: ObservationRow[]): Promise<void>
}

export interface CollectSummary {
  observations: number
  /** Parts of the API that answered with a permanent error while the rest worked (retired metrics). */
  skipped: string[]
  /** Of those, the parts that starve whole metrics of the account: the account is then degraded if a KPI needs one. */
  refused?: RefusedPart[]
  /** What the API said of the account itself (its money's currency), stored in account_facts. */
  facts?: AccountFact[]
}

/** One thing an account's API says of the account: `currency`, the ISO 4217 code its amounts of money are in. */
export interface AccountFact {
  fact: 'currency'
  value: string
  /** Where it came from: `adaccount.currency`, `runReport.metadata.currencyCode`. */
  sourceField: string
}

/** An ISO 4217 code as APIs give it (three capitals); anything else is not stored. */
export const isCurrencyCode = (value: unknown): value is string => typeof value === 'string' && /^[A-Z]{3}$/.test(value)

/** A part of an API refused for good while the rest of the account was collected. */
export interface RefusedPart {
  /** What was asked, in words (`follower statistics`). */
  part: string
  /** The metrics it would have given. */
  metrics: string[]
  /** The API's reason, as its error said. */
  reason: string
  /** What to do about it, when the collector knows. */
  advice?: string
}

/** A part of a collection named for refusals: its words, and the metrics it gives (then a refusal degrades the account). */
export type CollectionPart = string | { part: string; metrics: string[]; advice?: string }

/** A collector knows one API and turns its answers into observations. Everything else is shared. */
export interface Collector {
  network: Network
  apiVersion: string
  collect(context: CollectContext): Promise<CollectSummary>
  /** What the account owner must do after the API refused the token with `apiCode`, in the speaker's language. */
  tokenAdvice(speaker: Speaker, apiCode: string, tokenEnv: string): string
  /**
   * History, for `social-kpi backfill`: the daily values the API still has for one window (at most
   * `history.maxWindowDays` long, reaching back at most `history.maxAgeDays`). Absent when the API
   * keeps no history (only current counts).
   */
  history?: {
    maxWindowDays: number
    maxAgeDays: number
    /** What the API cannot give for the past (e.g. follower levels before the retention limit). */
    notes: string[]
    /** Whether this account has history at all (e.g. only business accounts); default yes. */
    hasHistory?(account: PlanAccount): boolean
    backfill(context: CollectContext, window: HistoryWindow): Promise<CollectSummary>
  }
}

/** A backfill chunk: whole days in the API's own day buckets, `from` inclusive, `to` exclusive. */
export interface HistoryWindow {
  from: string
  to: string
}

export interface ObservationInput {
  objectType: ObservationRow['object_type']
  objectId: string
  metric: string
  observedAt: Date
  /**
   * For a daily bucket (shape `daily`): the zone whose day it is (GA4: the property's; Meta ads:
   * the ad account's; Graph insights and YouTube Analytics: Pacific). `observedAt` is that day's
   * local midnight, and the row keeps the day as the API labels it.
   */
  dayZone?: string
  value: number
  objectCreatedAt?: Date
  sourceField: string
}

/** Builds rows for one account and round, taking each metric's shape from the metric dictionary. */
export function observationFactory(network: Network, accountId: string, apiVersion: string, collectedAt: Date) {
  const collected = toClickHouseTime(collectedAt)
  return (input: ObservationInput): ObservationRow => {
    const definition = METRICS[network][input.metric]
    if (!definition) throw new Error(`metric ${input.metric} is not in the ${network} dictionary`)
    let apiDay: string | null = null
    if (definition.shape === 'daily') {
      if (!input.dayZone) throw new Error(`${network} ${input.metric} is a daily count: say whose day it is (dayZone)`)
      const local = DateTime.fromJSDate(input.observedAt, { zone: input.dayZone })
      if (!local.isValid || +local.startOf('day') !== +local) throw new Error(`${network} ${input.metric}: ${input.observedAt.toISOString()} is not a midnight in ${input.dayZone}`)
      apiDay = local.toISODate()
    }
    return {
      network,
      account_id: accountId,
      object_type: input.objectType,
      object_id: input.objectId,
      metric: input.metric,
      shape: definition.shape,
      observed_at: toClickHouseTime(input.observedAt),
      api_day: apiDay,
      api_day_zone: apiDay ? input.dayZone! : '',
      value: input.value,
      object_created_at: input.objectCreatedAt ? toClickHouseTime(input.objectCreatedAt) : null,
      source_field: input.sourceField,
      api_version: apiVersion,
      collected_at: collected,
    }
  }
}

/** What every collector factory gets from the composition root. */
export interface CollectorDeps {
  config: Config
  retry: RetryPolicy
  sleep?: (ms: number) => Promise<void>
}

/**
 * Runs one part of a collection; when the API refuses it for good (a retired metric, a report
 * not offered), notes it in the summary and goes on with the rest. Other errors propagate, and so
 * does a refusal `keep` says must stop the collection (e.g. an API version that no longer exists).
 */
export async function skipRefused<T>(summary: CollectSummary, what: CollectionPart, call: () => Promise<T>, keep?: (error: ApiError) => boolean): Promise<T | undefined> {
  try {
    return await call()
  } catch (error) {
    if (error instanceof ApiError && !error.retryable && !keep?.(error)) {
      noteRefused(summary, what, error)
      return undefined
    }
    throw error
  }
}

/**
 * Notes a part left out of the collection in the summary: refused for good by the API (its error),
 * or answered with what cannot be used (a reason in words). For a part that gives metrics, says
 * which ones starve.
 */
export function noteRefused(summary: CollectSummary, what: CollectionPart, why: ApiError | string): void {
  const part = typeof what === 'string' ? what : what.part
  const reason = typeof why === 'string' ? why : why.message
  summary.skipped.push(`${part}: ${reason}`)
  if (typeof what === 'string') return
  ;(summary.refused ??= []).push({ part, metrics: what.metrics, reason, ...(what.advice ? { advice: what.advice } : {}) })
}
