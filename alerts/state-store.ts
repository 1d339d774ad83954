import { fromClickHouseTime, toClickHouseTime, type ClickHouse } from '../core/clickhouse.ts'
import type { AlertStateRow, Writers } from '../core/tables.ts'
import type { AlertState } from './rules.ts'

/** Alert state lives in ClickHouse, so it survives restarts and is shared by every worker. */
export async function readAlertStates(ch: ClickHouse): Promise<Map<string, AlertState>> {
  const rows = await ch.rows<AlertStateRow>('SELECT * FROM alert_state FINAL')
  return new Map(
    rows.map((row) => [
      row.alert_key,
      {
        key: row.alert_key,
        subjectKind: row.subject_kind as AlertState['subjectKind'],
        subjectId: row.subject_id,
        status: row.status as AlertState['status'],
        since: fromClickHouseTime(row.since),
        lastNotifiedAt: row.last_notified_at ? fromClickHouseTime(row.last_notified_at) : null,
        label: row.last_status_label,
        version: Number(row.version),
        clearSince: row.clear_since ? fromClickHouseTime(row.clear_since) : null,
      },
    ]),
  )
}

export async function writeAlertStates(writers: Writers, states: AlertState[]): Promise<void> {
  await writers.alertState.write(
    states.map((state) => ({
      alert_key: state.key,
      subject_kind: state.subjectKind,
      subject_id: state.subjectId,
      status: state.status,
      since: toClickHouseTime(state.since),
      last_notified_at: state.lastNotifiedAt ? toClickHouseTime(state.lastNotifiedAt) : null,
      last_status_label: state.label,
      version: state.version,
      clear_since: state.clearSince ? toClickHouseTime(state.clearSince) : null,
    })),
    { flushNow: true },
  )
}

/** The newest evaluation time the engine has decided alerts on for a plan, or null before the first. */
export async function readNewestDecision(ch: ClickHouse, planKey: string): Promise<Date | null> {
  const [row] = await ch.rows<{ n: string | number; at: string }>('SELECT count() AS n, toString(max(decided_at)) AS at FROM alert_decisions WHERE plan_key = {plan:String}', { plan: planKey })
  return row && Number(row.n) > 0 ? fromClickHouseTime(row.at) : null
}

export async function writeNewestDecision(writers: Writers, planKey: string, at: Date, writtenAt: Date): Promise<void> {
  await writers.alertDecisions.write([{ plan_key: planKey, decided_at: toClickHouseTime(at), written_at: toClickHouseTime(writtenAt) }], { flushNow: true })
}
