import { fromClickHouseTime, toClickHouseTime, type ClickHouse } from '../core/clickhouse.ts'
import type { SourceHealthRow, Writers } from '../core/tables.ts'

export interface SourceHealth {
  network: string
  accountId: string
  status: SourceHealthRow['status']
  lastSuccessAt: Date | null
  lastErrorAt: Date | null
  lastErrorCode: string
  lastError: string
  /** For a degraded account: the metrics the API refused that a KPI needs. */
  refusedMetrics?: string[]
  quotaResetsAt: Date | null
  updatedAt: Date
}

/** The current health of every account that has been collected at least once. */
export async function readSourceHealth(ch: ClickHouse): Promise<SourceHealth[]> {
  const rows = await ch.rows<SourceHealthRow>('SELECT * FROM source_health FINAL ORDER BY network, account_id')
  return rows.map((row) => ({
    network: row.network,
    accountId: row.account_id,
    status: row.status,
    lastSuccessAt: row.last_success_at ? fromClickHouseTime(row.last_success_at) : null,
    lastErrorAt: row.last_error_at ? fromClickHouseTime(row.last_error_at) : null,
    lastErrorCode: row.last_error_code,
    lastError: row.last_error,
    refusedMetrics: row.refused_metrics ?? [],
    quotaResetsAt: row.quota_resets_at ? fromClickHouseTime(row.quota_resets_at) : null,
    updatedAt: fromClickHouseTime(row.updated_at),
  }))
}

/** Records one collection outcome, keeping the last success when this one failed. */
export async function recordSourceHealth(
  ch: ClickHouse,
  writers: Writers,
  outcome: { network: string; accountId: string; at: Date; status: SourceHealthRow['status']; errorCode?: string; error?: string; refusedMetrics?: string[]; quotaResetsAt?: Date },
): Promise<void> {
  const [previous] = await ch.rows<Pick<SourceHealthRow, 'last_success_at'>>('SELECT last_success_at FROM source_health FINAL WHERE network = {network:String} AND account_id = {account:String}', {
    network: outcome.network,
    account: outcome.accountId,
  })
  const at = toClickHouseTime(outcome.at)
  const healthy = outcome.status === 'healthy'
  // A degraded round collected: it is a success for freshness, with its refusal kept as the error.
  const collected = healthy || outcome.status === 'degraded'
  await writers.health.write(
    [
      {
        network: outcome.network,
        account_id: outcome.accountId,
        status: outcome.status,
        last_success_at: collected ? at : (previous?.last_success_at ?? null),
        last_error_at: healthy ? null : at,
        last_error_code: outcome.errorCode ?? '',
        last_error: outcome.error ?? '',
        refused_metrics: outcome.refusedMetrics ?? [],
        quota_resets_at: outcome.quotaResetsAt ? toClickHouseTime(outcome.quotaResetsAt) : null,
        updated_at: at,
      },
    ],
    { flushNow: true },
  )
}
