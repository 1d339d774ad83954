import { toClickHouseTime } from '../../core/clickhouse.ts'
import type { ObservationRow } from '../../ingest/collectors/types.ts'

/** An observation row for hand-made test data: Facebook, account `main` unless told otherwise. */
export function observation(
  metric: string,
  shape: ObservationRow['shape'],
  objectId: string,
  observedAt: string,
  value: number,
  extra: { account?: string; created?: string; collected?: string } = {},
): ObservationRow {
  const t = (iso: string) => toClickHouseTime(new Date(iso))
  return {
    network: 'facebook',
    account_id: extra.account ?? 'main',
    object_type: shape === 'counter' ? 'post' : 'account',
    object_id: objectId,
    metric,
    shape,
    observed_at: t(observedAt),
    value,
    object_created_at: extra.created ? t(extra.created) : null,
    source_field: 'test',
    api_version: 'v25.0',
    collected_at: t(extra.collected ?? observedAt),
  }
}
