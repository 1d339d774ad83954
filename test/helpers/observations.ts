import { toClickHouseTime } from '../../core/clickhouse.ts'
import type { ObservationRow } from '../../core/tables.ts'

/**
 * An observation row for hand-made test data: Facebook, account `main`, a post (counters) or the
 * account (other shapes), collected when observed, unless `extra` says otherwise.
 */
export function observation(
  metric: string,
  shape: ObservationRow['shape'],
  objectId: string,
  observedAt: string,
  value: number,
  extra: { account?: string; objectType?: ObservationRow['object_type']; created?: string; collected?: string; sourceField?: string } = {},
): ObservationRow {
  const t = (iso: string) => toClickHouseTime(new Date(iso))
  return {
    network: 'facebook',
    account_id: extra.account ?? 'main',
    object_type: extra.objectType ?? (shape === 'counter' ? 'post' : 'account'),
    object_id: objectId,
    metric,
    shape,
    observed_at: t(observedAt),
    value,
    object_created_at: extra.created ? t(extra.created) : null,
    source_field: extra.sourceField ?? 'test',
    api_version: 'v25.0',
    collected_at: t(extra.collected ?? observedAt),
  }
}
