import { speaker } from '../core/i18n/index.ts'
const ENGLISH = speaker('en', 'UTC')
import { REDELIVER_WITHIN_MS } from '../alerts/redelivery.ts'
import { currentSilences, describeMatchers, silenceState, type Silence } from '../alerts/silences.ts'
import { toClickHouseTime } from '../core/clickhouse.ts'
import type { CollectionRoundRow } from '../core/tables.ts'
import { findKpiKind, formatKpiValue } from '../kpi/kinds/index.ts'
import { basisNote, type StatusBasis } from '../kpi/pacing.ts'
import { reasonNote, storedProblem, type KpiStatus } from '../kpi/statuses.ts'
import { KPI_STATUS_COLORS, RESET } from './kpi-table.ts'
import type { Reader } from './reader.ts'

interface LatestKpi {
  kpi_id: string
  kpi_name: string
  kind: string
  comparator: string
  status: string
  status_basis: string
  actual: number | null
  target: number
  expected_to_date: number | null
  attainment: number | null
  period_start: string
  period_end: string
  latest_at: string
  status_reason: string
  missing_accounts: string[]
  /** How its numbers are shown (percent, ratio, count, currency; plan/units.ts) and the currency of money (migration 0026); '' before. */
  unit?: string
  currency?: string
  /** For reason `data_problem`: its cause and numbers (migration 0026); '' and {} before. */
  status_cause?: string
  cause_facts?: Record<string, string>
  /** The forecast the status may rest on (migration 0007): its end, the pace it needs and the recent pace; null without one. */
  forecast_end?: number | null
  needed_per_day?: number | null
  recent_per_day?: number | null
  /** True when the row is the final verdict of a period that has ended (no running evaluation after it). */
  final?: boolean
}

const COLORS: Record<string, string> = {
  ...KPI_STATUS_COLORS,
  healthy: '\x1b[32m',
  degraded: '\x1b[33m',
  unhealthy: '\x1b[31m',
  failing: '\x1b[33m',
  throttled: '\x1b[33m',
  firing: '\x1b[31m',
}
const DAY_MS = 86_400_000
const time = (value: string) => new Date(`${value.replace(' ', 'T')}Z`)

/** A 10-cell bar for attainment (capped at 100 %). */
export function attainmentBar(attainment: number | null): string {
  if (attainment === null) return '··········'
  const filled = Math.max(0, Math.min(10, Math.floor(attainment * 10)))
  return '█'.repeat(filled) + '░'.repeat(10 - filled)
}

/**
 * What it takes to reach an at-least amount or level by the period's end, against the pace behind
 * the status: with a forecast, its recent pace, the one a status resting on the forecast speaks
 * of ("needs +117/day, recent pace +120/day"); without one, the average so far ("needs +53/day,
 * so far +31/day"). Only for kinds that accumulate.
 */
export function paceNeeded(
  kpi: Pick<LatestKpi, 'kind' | 'comparator' | 'actual' | 'target' | 'period_start' | 'period_end' | 'latest_at' | 'status' | 'needed_per_day' | 'recent_per_day'>,
  baseline = 0,
): string {
  if (kpi.actual === null || kpi.comparator !== 'at_least' || findKpiKind(kpi.kind)?.accumulates === false) return ''
  if (kpi.status === 'achieved') return 'target reached'
  const sign = (n: number) => `${Math.round(n) >= 0 ? '+' : ''}${Math.round(n).toLocaleString('en-US')}`
  if (kpi.needed_per_day != null && kpi.recent_per_day != null) return `needs ${sign(kpi.needed_per_day)}/day, recent pace ${sign(kpi.recent_per_day)}/day`
  const start = time(kpi.period_start).getTime()
  const end = time(kpi.period_end).getTime()
  const at = time(kpi.latest_at).getTime()
  const left = (end - at) / DAY_MS
  const done = (at - start) / DAY_MS
  if (left <= 0) return ''
  const needed = (kpi.target - kpi.actual) / left
  const sofar = done > 0 ? (kpi.actual - baseline) / done : 0
  return `needs ${sign(needed)}/day, so far ${sign(sofar)}/day`
}

/**
 * The status with its reason when the status alone would mislead (`on_track (too early to tell)`),
 * or why there is none (`unknown (incomplete data: main)`); a period's final verdict says so.
 */
function statusCell(
  k: Pick<LatestKpi, 'status' | 'status_basis' | 'comparator' | 'status_reason' | 'missing_accounts' | 'status_cause' | 'cause_facts' | 'forecast_end' | 'target' | 'final'>,
): string {
  const forecast = k.forecast_end == null ? null : { end: k.forecast_end, target: k.target }
  const note =
    basisNote(ENGLISH, k.status as KpiStatus, k.status_basis as StatusBasis, k.comparator === 'at_most' ? 'at_most' : 'at_least', forecast, 'short') ??
    reasonNote(ENGLISH, k.status_reason, k.missing_accounts, storedProblem(k.status_reason, k.status_cause, k.cause_facts))
  const notes = [...(k.final ? ['final verdict'] : []), ...(note ? [note] : [])]
  return notes.length ? `${k.status} (${notes.join('; ')})` : k.status
}

function table(header: string[], rows: string[][], options: { color: boolean; statusColumn?: number }): string {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => {
        const padded = cell.padEnd(widths[i]!)
        // The colour follows the status word, not its reason in brackets.
        const color = COLORS[cell.split(' ')[0]!]
        return options.color && i === options.statusColumn && color ? `${color}${padded}${RESET}` : padded
      })
      .join('  ')
      .trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}

/** The terminal view of where the plan stands. */
export async function formatStatus(reader: Reader, options: { color: boolean; now: Date }): Promise<string> {
  // A data directory last run before migration 0007 has no status_basis yet (every status was the
  // pace's), nor before 0024 the reasons for no verdict.
  const columns = new Set(
    (await reader.rows<{ table: string; name: string }>("SELECT table, name FROM system.columns WHERE database = currentDatabase() AND table IN ('kpi_evaluations', 'kpi_verdicts')")).map(
      (c) => `${c.table}.${c.name}`,
    ),
  )
  const basis = columns.has('kpi_evaluations.status_basis') ? 'argMax(status_basis, evaluated_at)' : "'pace'"
  const [reason, missing] = columns.has('kpi_evaluations.status_reason') ? ['argMax(status_reason, evaluated_at)', 'argMax(missing_accounts, evaluated_at)'] : ["''", 'CAST([] AS Array(String))']
  // The forecast (0007) behind a status resting on it, and the cause of a data problem (0026).
  const forecast = columns.has('kpi_evaluations.forecast_end')
    ? 'argMax(forecast_end, evaluated_at) AS forecast_end, argMax(needed_per_day, evaluated_at) AS needed_per_day, argMax(recent_per_day, evaluated_at) AS recent_per_day'
    : 'NULL AS forecast_end, NULL AS needed_per_day, NULL AS recent_per_day'
  const cause = columns.has('kpi_evaluations.status_cause')
    ? 'argMax(status_cause, evaluated_at) AS status_cause, argMax(cause_facts, evaluated_at) AS cause_facts, argMax(unit, evaluated_at) AS unit, argMax(currency, evaluated_at) AS currency'
    : "'' AS status_cause, CAST(map() AS Map(String, String)) AS cause_facts, '' AS unit, '' AS currency"
  const latest = await reader.rows<LatestKpi>(`
    SELECT kpi_id,
           argMax(kpi_name, evaluated_at) AS kpi_name, argMax(kind, evaluated_at) AS kind,
           argMax(comparator, evaluated_at) AS comparator, argMax(status, evaluated_at) AS status,
           ${basis} AS status_basis, ${reason} AS status_reason, ${missing} AS missing_accounts, ${forecast}, ${cause},
           argMax(actual, evaluated_at) AS actual, argMax(target, evaluated_at) AS target,
           argMax(expected_to_date, evaluated_at) AS expected_to_date, argMax(attainment, evaluated_at) AS attainment,
           toString(argMax(period_start, evaluated_at)) AS period_start, toString(argMax(period_end, evaluated_at)) AS period_end,
           toString(max(evaluated_at)) AS latest_at
    FROM kpi_evaluations FINAL
    GROUP BY kpi_id
    ORDER BY kpi_id`)
  const kpis = await withFinalVerdicts(reader, latest, options.now, columns.has('kpi_verdicts.status_reason'), columns.has('kpi_verdicts.status_cause'))
  const alerts = await reader.rows<{ alert_key: string; last_status_label: string; since: string }>(
    "SELECT alert_key, last_status_label, toString(since) AS since FROM alert_state FINAL WHERE status = 'firing' ORDER BY since",
  )
  const sources = await reader.rows<{ network: string; account_id: string; status: string; last_success_at: string | null; last_error_code: string; quota_resets_at: string | null }>(
    'SELECT network, account_id, status, toString(last_success_at) AS last_success_at, last_error_code, toString(quota_resets_at) AS quota_resets_at FROM source_health FINAL ORDER BY network, account_id',
  )
  // Emails that did not go out (refused, or tries ran out) from the last week, until they do.
  const undelivered = await reader.rows<{ decided_at: string; subject: string; delivery: string; delivered_to: string; channel: string }>(
    `SELECT toString(decided_at) AS decided_at, subject, delivery, delivered_to, channel FROM alert_notifications FINAL
     WHERE delivery != 'sent' AND written_at >= {since:DateTime64(3, 'UTC')} ORDER BY decided_at, subject`,
    { since: toClickHouseTime(new Date(options.now.getTime() - REDELIVER_WITHIN_MS)) },
  )
  // A data directory last run before migration 0009 has no silences table yet.
  const [hasSilences] = await reader.rows<{ n: string | number }>("SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = 'silences'")
  const silences = Number(hasSilences?.n ?? 0) > 0 ? await currentSilences(reader, options.now) : []
  const rounds = await recentRounds(reader)
  const parts: string[] = []
  if (kpis.length === 0) {
    parts.push('No KPI has been evaluated yet: run `social-kpi collect --once` or `social-kpi start`.')
  } else {
    parts.push(
      `KPIs (latest evaluation: ${kpis
        .map((k) => k.latest_at)
        .sort()
        .at(-1)} UTC)\n`,
    )
    parts.push(
      table(
        ['KPI', 'STATUS', 'ATTAINMENT', 'ACTUAL', 'TARGET', 'EXPECTED', 'PACE'],
        kpis.map((k) => [
          k.kpi_id,
          statusCell(k),
          `${attainmentBar(k.attainment)} ${k.attainment === null ? '  —' : `${Math.round(k.attainment * 100)}%`.padStart(4)}`,
          formatKpiValue(k.actual, k.kind),
          `${k.comparator === 'at_most' ? '≤' : '≥'} ${formatKpiValue(k.target, k.kind)}`,
          formatKpiValue(k.expected_to_date, k.kind),
          paceNeeded(k),
        ]),
        { color: options.color, statusColumn: 1 },
      ),
    )
  }
  parts.push(`\nOpen alerts: ${alerts.length === 0 ? 'none' : ''}`)
  for (const alert of alerts) parts.push(`  ${alert.alert_key} (${alert.last_status_label}) since ${alert.since} UTC`)
  parts.push(`\nUndelivered alert emails: ${undelivered.length === 0 ? 'none' : ''}`)
  for (const n of undelivered) parts.push(`  ${n.decided_at.slice(0, 16)} UTC  ${undeliveredLine(n)}`)
  parts.push(`\nSilences: ${silences.length === 0 ? 'none' : ''}`)
  for (const silence of silences) parts.push(formatSilence(silence, options.now))
  parts.push(`\nRounds: ${rounds.length === 0 ? 'none evaluated yet' : ''}`)
  for (const round of rounds) parts.push(`  ${roundLine(round)}`)
  parts.push('\nSources:')
  if (sources.length === 0) parts.push('  none collected yet')
  else {
    parts.push(
      table(
        ['  ACCOUNT', 'HEALTH', 'LAST SUCCESS (UTC)', 'NOTE'],
        sources.map((s) => [
          `  ${s.network}/${s.account_id}`,
          s.status,
          s.last_success_at ?? 'never',
          [s.last_error_code, s.quota_resets_at ? `quota back at ${s.quota_resets_at}` : ''].filter(Boolean).join('; '),
        ]),
        { color: options.color, statusColumn: 1 },
      ),
    )
  }
  return parts.join('\n')
}

type RoundRow = Omit<CollectionRoundRow, 'plan_key' | 'evaluated_at' | 'written_at'>

/** The newest rounds as evaluated (collection_rounds, migration 0025; absent in an older data directory). */
async function recentRounds(reader: Reader): Promise<RoundRow[]> {
  const [exists] = await reader.rows<{ n: string | number }>("SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = 'collection_rounds'")
  if (Number(exists?.n ?? 0) === 0) return []
  const rows = await reader.rows<RoundRow>(
    'SELECT toString(round_at) AS round_at, accounts, collected, degraded, failing, unhealthy, failed, coalesced, pending, evaluated_by FROM collection_rounds FINAL ORDER BY round_at DESC LIMIT 3',
  )
  return rows.map((r) => ({ ...r, ...Object.fromEntries(['accounts', 'collected', 'degraded', 'failing', 'unhealthy', 'failed', 'coalesced'].map((k) => [k, Number(r[k as keyof RoundRow])])) }))
}

/** `2026-11-26 09:15 UTC  10 accounts: 8 collected, 1 failing; evaluated at its deadline, 1 pending: facebook/x (held back by a throttle)`. */
export function roundLine(round: RoundRow): string {
  const ended = (['collected', 'degraded', 'failing', 'unhealthy', 'failed'] as const).filter((k) => round[k] > 0).map((k) => `${round[k]} ${k}`)
  const how =
    round.evaluated_by === 'deadline'
      ? `evaluated at its deadline, ${round.pending.length} pending: ${round.pending.join(', ')}${round.coalesced > 0 ? ` (${round.coalesced} held back by a throttle, one job each)` : ''}`
      : 'evaluated when every account was done'
  return `${round.round_at.slice(0, 16)} UTC  ${round.accounts} accounts${ended.length ? `: ${ended.join(', ')}` : ''}; ${how}`
}

/**
 * A KPI whose latest evaluation is of a period that has ended by `now` (a campaign over, or no
 * evaluation since) shows that period's final verdict, when one is stored, rather than its last
 * running status.
 */
async function withFinalVerdicts(reader: Reader, kpis: LatestKpi[], now: Date, hasReasons: boolean, hasCauses: boolean): Promise<LatestKpi[]> {
  const ended = kpis.filter((k) => time(k.period_end) <= now)
  if (ended.length === 0) return kpis
  const verdicts = await reader.rows<Pick<LatestKpi, 'kpi_id' | 'status' | 'status_reason' | 'missing_accounts' | 'status_cause' | 'cause_facts' | 'actual' | 'attainment'> & { period_start: string }>(
    `SELECT kpi_id, toString(period_start) AS period_start, status, actual, attainment,
            ${hasReasons ? 'status_reason, missing_accounts' : "'' AS status_reason, CAST([] AS Array(String)) AS missing_accounts"},
            ${hasCauses ? 'status_cause, cause_facts' : "'' AS status_cause, CAST(map() AS Map(String, String)) AS cause_facts"}
     FROM kpi_verdicts FINAL WHERE kpi_id IN {ids:Array(String)}`,
    { ids: ended.map((k) => k.kpi_id) },
  )
  return kpis.map((k) => {
    const verdict = verdicts.find((v) => v.kpi_id === k.kpi_id && v.period_start === k.period_start)
    // A verdict rests on no pace nor forecast: none of the running evaluation's is shown beside it.
    const noPace = { status_basis: 'pace', expected_to_date: null, forecast_end: null, needed_per_day: null, recent_per_day: null }
    return verdict && time(k.period_end) <= now ? { ...k, ...verdict, ...noPace, final: true } : k
  })
}

/** What happens next to an email (or a Slack or webhook message) that did not go out. */
const UNDELIVERED_NOTE: Record<string, string> = {
  failed: 'refused for good, not sent again: check the recipients',
  undelivered: 'tries ran out: sent again at the next evaluation',
  retrying: 'being sent again',
}

function undeliveredLine(n: { subject: string; delivery: string; delivered_to: string; channel: string }): string {
  const viaChannel = n.channel !== '' && n.channel !== 'email'
  // A channel's URL lives in the variable the plan names (alerting.channels), not in recipients.
  const note =
    viaChannel && n.delivery === 'failed' ? `refused for good, not sent again: check alerting.channels.${n.channel} and the URL its variable holds` : (UNDELIVERED_NOTE[n.delivery] ?? n.delivery)
  return `${n.subject}${viaChannel ? ` [channel ${n.channel}]` : ''} — ${note}${n.delivered_to ? ` (${n.delivered_to})` : ''}`
}

const utc = (date: Date) => `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`

/** One line per silence: `sil-1a2b3c4d  active   kpi fb-likes-month until 2026-03-01 00:00 UTC — relaunch week (by dewi)`. */
export function formatSilence(silence: Silence, now: Date): string {
  const state = silenceState(silence, now)
  const when =
    state === 'pending' ? `from ${utc(silence.startsAt)} until ${utc(silence.endsAt)}` : `until ${utc(silence.expiredAt && silence.expiredAt < silence.endsAt ? silence.expiredAt : silence.endsAt)}`
  return `  ${silence.id}  ${state.padEnd(7)}  ${describeMatchers(silence.matchers)} ${when} — ${silence.reason}${silence.createdBy ? ` (by ${silence.createdBy})` : ''}`
}
