import type { ClickHouse } from './clickhouse.ts'
import type { Logger } from './logger.ts'
import type { MetricShape, Network } from './metrics.ts'
import { BatchingWriter } from './clickhouse-writer.ts'
import type { WriterObserver } from './telemetry.ts'

/** One row of the `observations` table, as written. */
export interface ObservationRow {
  network: Network
  account_id: string
  /** `segment`: one value of an API dimension of the account's daily counts (kpis[].filter), stored beside its total. */
  object_type: 'account' | 'post' | 'segment'
  object_id: string
  metric: string
  shape: MetricShape
  observed_at: string
  /** For a daily bucket: the day as the API labels it, in the API's own zone (`api_day_zone`). */
  api_day?: string | null
  api_day_zone?: string
  value: number
  object_created_at: string | null
  source_field: string
  api_version: string
  collected_at: string
}

/** What kpi_evaluations and kpi_verdicts store of the plan's KPI. */
export interface KpiColumns {
  kpi_id: string
  kpi_name: string
  objective_id: string
  network: string
  metric: string
  kind: string
  comparator: string
  target: number
  /** How the KPI is shown (plan/units.ts: percent, ratio, count, currency; migration 0026). */
  unit: string
  /** ISO 4217 code of a money KPI's amounts, when its accounts told it; '' otherwise. */
  currency: string
}

/** A KPI's status as both tables store it: why there is no verdict (migration 0024). */
export interface KpiStatusColumns {
  status: string
  /** For `unknown`: why (kpi/statuses.ts STATUS_REASONS); '' for any other status, and in rows written before migration 0024. */
  status_reason: string
  /** For `unknown` with reason `incomplete` or `data_problem`: the accounts whose data is missing or stale. */
  missing_accounts: string[]
  /** For reason `data_problem`: what is wrong (kpi/statuses.ts DATA_PROBLEMS; migration 0026); '' otherwise. */
  status_cause: string
  /** The cause's numbers: metric and value, or each account's currency. */
  cause_facts: Record<string, string>
}

/** What an account's API says of the account itself (table `account_facts`, migration 0026): today its `currency`. */
export interface AccountFactRow {
  network: Network
  account_id: string
  fact: string
  value: string
  source_field: string
  collected_at: string
}

export interface KpiEvaluationRow extends KpiColumns, KpiStatusColumns {
  evaluated_at: string
  period_start: string
  period_end: string
  actual: number | null
  expected_to_date: number | null
  attainment: number | null
  written_at: string
}

/** A period's final verdict (table `kpi_verdicts`, migration 0010): one row per KPI and period. */
export interface KpiVerdictRow extends KpiColumns, KpiStatusColumns {
  period_start: string
  period_end: string
  period_label: string
  actual: number | null
  attainment: number | null
  /** When the verdict was judged: the version, so the best-informed judgement wins. */
  judged_at: string
  /** When the grace window for late data ends; until then the verdict may still change. */
  settles_at: string
  written_at: string
}

/** A collection round as evaluated (table `collection_rounds`, migration 0025): one row per plan and round. */
export interface CollectionRoundRow {
  plan_key: string
  round_at: string
  accounts: number
  collected: number
  degraded: number
  failing: number
  unhealthy: number
  failed: number
  coalesced: number
  /** Accounts (`network/accountId`) whose job had not ended when the round was evaluated. */
  pending: string[]
  /** `all_ended` or `deadline`. */
  evaluated_by: string
  evaluated_at: string
  written_at: string
}

/** A period review as built and sent (table `period_reviews`, migration 0013): one row per plan, kind and period. */
export interface PeriodReviewRow {
  plan_key: string
  period_kind: string
  period_start: string
  period_end: string
  period_label: string
  kpis: number
  achieved: number
  missed: number
  unknown: number
  objectives: number
  objectives_met: number
  /** The review as JSON (kpi/review.ts periodReviewSchema). */
  review: string
  notification_id: string
  recipients: string[]
  known_at: string
  built_at: string
  written_at: string
}

/** The newest evaluation the alert engine decided on, per plan (table `alert_decisions`, migration 0011). */
export interface AlertDecisionRow {
  plan_key: string
  decided_at: string
  written_at: string
}

export interface SourceHealthRow {
  network: string
  account_id: string
  /** degraded: collected, but the API refused metrics a KPI needs (`refused_metrics`). */
  status: 'healthy' | 'degraded' | 'unhealthy' | 'failing' | 'throttled'
  last_success_at: string | null
  last_error_at: string | null
  last_error_code: string
  last_error: string
  refused_metrics?: string[]
  quota_resets_at: string | null
  updated_at: string
}

export interface AlertStateRow {
  alert_key: string
  subject_kind: string
  subject_id: string
  status: string
  since: string
  last_notified_at: string | null
  last_status_label: string
  version: number
  /** Absent in rows written before migration 0008. */
  clear_since?: string | null
}

/** One transition of an alert (table `alerts`, migration 0008). */
export interface AlertHistoryRow {
  at: string
  alert_key: string
  subject_kind: string
  subject_id: string
  objective_id: string
  from_status: string
  to_status: string
  label: string
  /** firing, repeat, resolved, or '' for a quiet transition (→ pending, pending → ok, …). */
  event: string
  group_key: string
  recipients: string[]
  /** The channels besides email the transition was sent to (migration 0019). */
  channels?: string[]
  notification_id: string
  silenced: boolean
  written_at: string
}

export interface AlertNotificationRow {
  notification_id: string
  alert_key: string
  event: string
  /** `email`, or the plan's channel name (migration 0019); absent: email. */
  channel?: string
  decided_at: string
  recipients: string[]
  subject: string
  delivery: NotificationDelivery
  /** Where it went; for a notification not sent, why not. */
  delivered_to: string
  /** The notify job this row closes (migration 0012): the notification id, or a later attempt's id. */
  attempt_id: string
  /** How many tries that job made. */
  attempts: number
  /** The notify job's data (JSON) while it is not sent, so it can be sent again without Redis; else ''. */
  payload: string
  written_at: string
}

/**
 * How a notification's delivery ended: `sent`; `failed`, refused for good (SMTP 5xx), not retried;
 * `undelivered`, its tries ran out, sent again at the next evaluation; `retrying`, sent again and
 * on its way.
 */
export type NotificationDelivery = 'sent' | 'failed' | 'undelivered' | 'retrying'

/** The plan version in force, per plan (table `plans`, migration 0018); the plan tables' views show it. */
export interface PlanRow {
  plan_key: string
  plan_hash: string
  company: string
  timezone: string
  week_start: string
  language: string
  /** When this version was put in force. */
  loaded_at: string
  /** Grows with every switch to another version: the newest pointer wins under FINAL. */
  version: number
}

/** Columns every row of a plan version carries (tables `plan_*_versions`, migration 0018). */
interface PlanVersionColumns {
  plan_key: string
  plan_hash: string
  position: number
}

export interface PlanObjectiveRow extends PlanVersionColumns {
  objective_id: string
  name: string
  description: string
  actions: string[]
  kpis: string[]
}

export interface PlanKpiRow extends PlanVersionColumns {
  kpi_id: string
  name: string
  objective_id: string
  network: string
  metric: string
  denominator: string
  kind: string
  target: number
  comparator: string
  tolerance: number
  /** day … year, or `custom` with period_from and period_to. */
  period: string
  period_from: string | null
  period_to: string | null
  accounts: string[]
  actions: string[]
}

export interface PlanAccountRow extends PlanVersionColumns {
  network: string
  account_id: string
  name: string
  api_id: string
  auth_kind: string
  posting_frequency: string
  language: string
  content_focus: string
  kpis: string[]
}

/** One item of the situation: a SWOT line, an audience, the summary, a tool, a crisis step. */
export interface PlanSituationRow extends PlanVersionColumns {
  section: string
  item_id: string
  title: string
  text: string
}

export interface Writers {
  observations: BatchingWriter<ObservationRow>
  accountFacts: BatchingWriter<AccountFactRow>
  evaluations: BatchingWriter<KpiEvaluationRow>
  verdicts: BatchingWriter<KpiVerdictRow>
  health: BatchingWriter<SourceHealthRow>
  alertState: BatchingWriter<AlertStateRow>
  notifications: BatchingWriter<AlertNotificationRow>
  alertHistory: BatchingWriter<AlertHistoryRow>
  alertDecisions: BatchingWriter<AlertDecisionRow>
  reviews: BatchingWriter<PeriodReviewRow>
  rounds: BatchingWriter<CollectionRoundRow>
  plans: BatchingWriter<PlanRow>
  planObjectives: BatchingWriter<PlanObjectiveRow>
  planKpis: BatchingWriter<PlanKpiRow>
  planAccounts: BatchingWriter<PlanAccountRow>
  planSituation: BatchingWriter<PlanSituationRow>
  flush(): Promise<void>
  close(): Promise<void>
}

/** One batching writer per table, all built the same way. */
export function createWriters(ch: ClickHouse, options: { maxRows: number; flushIntervalMs: number; logger: Logger; observer?: WriterObserver }): Writers {
  const make = <Row extends object>(table: string) =>
    new BatchingWriter<Row>({ ch, table, maxRows: options.maxRows, flushIntervalMs: options.flushIntervalMs, logger: options.logger.child({ module: 'writer', table }), observer: options.observer })
  const writers = {
    observations: make<ObservationRow>('observations'),
    accountFacts: make<AccountFactRow>('account_facts'),
    evaluations: make<KpiEvaluationRow>('kpi_evaluations'),
    verdicts: make<KpiVerdictRow>('kpi_verdicts'),
    health: make<SourceHealthRow>('source_health'),
    alertState: make<AlertStateRow>('alert_state'),
    notifications: make<AlertNotificationRow>('alert_notifications'),
    alertHistory: make<AlertHistoryRow>('alerts'),
    alertDecisions: make<AlertDecisionRow>('alert_decisions'),
    reviews: make<PeriodReviewRow>('period_reviews'),
    rounds: make<CollectionRoundRow>('collection_rounds'),
    plans: make<PlanRow>('plans'),
    planObjectives: make<PlanObjectiveRow>('plan_objective_versions'),
    planKpis: make<PlanKpiRow>('plan_kpi_versions'),
    planAccounts: make<PlanAccountRow>('plan_account_versions'),
    planSituation: make<PlanSituationRow>('plan_situation_versions'),
  }
  const all = Object.values(writers)
  return {
    ...writers,
    async flush() {
      await Promise.all(all.map((writer) => writer.flush()))
    },
    async close() {
      await Promise.all(all.map((writer) => writer.close()))
    },
  }
}
