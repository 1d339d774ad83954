import { REDELIVER_WITHIN_MS } from '../alerts/redelivery.ts'
import { currentSilences, silenceState, type Silence } from '../alerts/silences.ts'
import { toClickHouseTime } from '../core/clickhouse.ts'
import { ENGLISH_ON_UTC, type Speaker } from '../core/i18n/index.ts'
import type { CollectionRoundRow } from '../core/tables.ts'
import { findKpiKind } from '../kpi/kinds/index.ts'
import { basisNote, type StatusBasis } from '../kpi/pacing.ts'
import { reasonNote, statusWords, storedProblem, type KpiStatus } from '../kpi/statuses.ts'
import { KPI_UNITS, kpiDisplay, type KpiUnit } from '../plan/units.ts'
import { attainmentCell, KPI_STATUS_COLORS, kpiCell, tableLines, targetCell } from './kpi-table.ts'
import type { Reader } from './reader.ts'

export interface LatestKpi {
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

/** How a stored row's numbers are shown: its unit (migration 0026), else a rate as a percentage and anything else as a count. */
function rowDisplay(k: Pick<LatestKpi, 'kind' | 'unit' | 'currency'>) {
  const unit: KpiUnit = k.unit && (KPI_UNITS as readonly string[]).includes(k.unit) ? (k.unit as KpiUnit) : findKpiKind(k.kind)?.denominator === true ? 'percent' : 'count'
  return kpiDisplay({ unit }, k)
}

/**
 * What it takes to reach an at-least amount or level by the period's end, against the pace behind
 * the status: with a forecast, its recent pace, the one a status resting on the forecast speaks
 * of ("needs +117/day, recent pace +120/day"); without one, the average so far ("needs +53/day,
 * so far +31/day"). Only for kinds that accumulate.
 */
export function paceNeeded(
  kpi: Pick<LatestKpi, 'kind' | 'comparator' | 'actual' | 'target' | 'period_start' | 'period_end' | 'latest_at' | 'status' | 'needed_per_day' | 'recent_per_day' | 'unit' | 'currency'>,
  speaker: Speaker,
  baseline = 0,
): string {
  if (kpi.actual === null || kpi.comparator !== 'at_least' || findKpiKind(kpi.kind)?.accumulates === false) return ''
  if (kpi.status === 'achieved') return speaker.t('terminal.pace.reached')
  const display = rowDisplay(kpi)
  const sign = (n: number) => speaker.signed(Math.round(n), display)
  if (kpi.needed_per_day != null && kpi.recent_per_day != null) return speaker.t('terminal.pace.recent', { needed: sign(kpi.needed_per_day), recent: sign(kpi.recent_per_day) })
  const start = time(kpi.period_start).getTime()
  const end = time(kpi.period_end).getTime()
  const at = time(kpi.latest_at).getTime()
  const left = (end - at) / DAY_MS
  const done = (at - start) / DAY_MS
  if (left <= 0) return ''
  const needed = (kpi.target - kpi.actual) / left
  const sofar = done > 0 ? (kpi.actual - baseline) / done : 0
  return speaker.t('terminal.pace.so_far', { needed: sign(needed), sofar: sign(sofar) })
}

/**
 * The status in words with its reason when the status alone would mislead (`on track (too early
 * to tell)`), or why there is none (`no verdict (incomplete data: main)`); a period's final
 * verdict says so.
 */
function statusCell(
  speaker: Speaker,
  k: Pick<LatestKpi, 'status' | 'status_basis' | 'comparator' | 'status_reason' | 'missing_accounts' | 'status_cause' | 'cause_facts' | 'forecast_end' | 'target' | 'final'>,
): string {
  const forecast = k.forecast_end == null ? null : { end: k.forecast_end, target: k.target }
  const note =
    basisNote(speaker, k.status as KpiStatus, k.status_basis as StatusBasis, k.comparator === 'at_most' ? 'at_most' : 'at_least', forecast, 'short') ??
    reasonNote(speaker, k.status_reason, k.missing_accounts, storedProblem(k.status_reason, k.status_cause, k.cause_facts))
  const status = statusWords(speaker, k.status)
  if (k.final) return note ? speaker.t('terminal.final_verdict_note', { status, note }) : speaker.t('terminal.final_verdict', { status })
  return note ? speaker.t('status.with_reason', { status, reason: note }) : status
}

/** A source's health in words (`healthy`, `sehat`); a state with no words is shown as it is. */
export const healthWords = (speaker: Speaker, health: string) => (speaker.has(`terminal.health.${health}`) ? speaker.t(`terminal.health.${health}`) : health)

/** English on UTC: what `status` speaks when it has no plan to tell its language and zone. */

/** What the status page shows, read from the store: pure input of `statusPage`. */
export interface StatusData {
  kpis: LatestKpi[]
  alerts: Array<{ alert_key: string; last_status_label: string; since: string }>
  sources: Array<{ network: string; account_id: string; status: string; last_success_at: string | null; last_error_code: string; quota_resets_at: string | null }>
  undelivered: Array<{ decided_at: string; subject: string; delivery: string; delivered_to: string; channel: string }>
  silences: Silence[]
  rounds: RoundRow[]
}

/**
 * The terminal view of where the plan stands (`social-kpi status`), in the language and zone of
 * `speaker` (the plan's: planSpeaker); without one, English on UTC.
 */
export async function formatStatus(reader: Reader, options: { color: boolean; now: Date; speaker?: Speaker }): Promise<string> {
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
  return statusPage({ kpis, alerts, sources, undelivered, silences, rounds }, options)
}

/**
 * The status page from what was read: in the plan's language, every time in the plan's zone with
 * the zone named, a rate as a percentage and money in its currency. Pure (no I/O, no clock).
 */
export function statusPage(data: StatusData, options: { color: boolean; now: Date; speaker?: Speaker }): string {
  const speaker = options.speaker ?? ENGLISH_ON_UTC
  const at = (value: string) => speaker.dateTime(time(value))
  const column = (key: string) => speaker.t(`terminal.column.${key}`)
  const { kpis, alerts, sources, undelivered, silences, rounds } = data
  const parts: string[] = []
  if (kpis.length === 0) {
    parts.push(speaker.t('terminal.status.no_kpis'))
  } else {
    const latest = kpis
      .map((k) => k.latest_at)
      .sort()
      .at(-1)!
    parts.push(`${speaker.t('terminal.status.kpis', { time: at(latest) })}\n`)
    parts.push(
      ...tableLines(
        ['kpi', 'status', 'attainment', 'actual', 'target', 'expected', 'pace'].map(column),
        kpis.map((k) => {
          const display = rowDisplay(k)
          const cell = (value: number | null) => kpiCell(speaker, value, display, k.kind)
          return {
            cells: [
              k.kpi_id,
              statusCell(speaker, k),
              `${attainmentBar(k.attainment)} ${attainmentCell(speaker, k.attainment).padStart(4)}`,
              cell(k.actual),
              targetCell(speaker, k.comparator, cell(k.target)),
              cell(k.expected_to_date),
              paceNeeded(k, speaker),
            ],
            color: KPI_STATUS_COLORS[k.status],
          }
        }),
        { color: options.color, colorColumn: 1 },
      ),
    )
  }
  parts.push(`\n${speaker.t('terminal.status.alerts', { count: alerts.length })}`)
  for (const alert of alerts) {
    parts.push(`  ${speaker.t('terminal.status.alert', { key: alert.alert_key, label: statusWords(speaker, alert.last_status_label), time: at(alert.since) })}`)
  }
  parts.push(`\n${speaker.t('terminal.status.undelivered', { count: undelivered.length })}`)
  for (const n of undelivered) parts.push(`  ${undeliveredLine(speaker, n)}`)
  parts.push(`\n${speaker.t('terminal.status.silences', { count: silences.length })}`)
  for (const silence of silences) parts.push(`  ${formatSilence(silence, options.now, speaker)}`)
  parts.push(`\n${speaker.t('terminal.status.rounds', { count: rounds.length })}`)
  for (const round of rounds) parts.push(`  ${roundLine(round, speaker)}`)
  parts.push(`\n${speaker.t('terminal.status.sources')}`)
  if (sources.length === 0) parts.push(`  ${speaker.t('terminal.status.sources_none')}`)
  else {
    parts.push(
      ...tableLines(
        [`  ${column('account')}`, column('health'), column('last_success'), column('note')],
        sources.map((s) => ({
          cells: [
            `  ${s.network}/${s.account_id}`,
            healthWords(speaker, s.status),
            s.last_success_at ? at(s.last_success_at) : speaker.t('common.never'),
            [s.last_error_code, s.quota_resets_at ? speaker.t('terminal.status.quota_back', { time: at(s.quota_resets_at) }) : ''].filter(Boolean).join('; '),
          ],
          color: COLORS[s.status],
        })),
        { color: options.color, colorColumn: 1 },
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

/** `26 Nov 2026, 16:15 GMT+7  10 accounts: 8 collected, 1 failing; evaluated at its deadline, 1 pending: facebook/x (1 held back by a throttle, one job each)`. */
export function roundLine(round: RoundRow, speaker: Speaker): string {
  const outcomes = (['collected', 'degraded', 'failing', 'unhealthy', 'failed'] as const).filter((k) => round[k] > 0).map((k) => speaker.t(`terminal.round.${k}`, { count: round[k] }))
  const how =
    round.evaluated_by === 'deadline'
      ? speaker.t(round.coalesced > 0 ? 'terminal.round.deadline_coalesced' : 'terminal.round.deadline', {
          pending: round.pending.length,
          accounts: round.pending.join(', '),
          coalesced: round.coalesced,
        })
      : speaker.t('terminal.round.all_ended')
  const values = { time: speaker.dateTime(time(round.round_at)), accounts: round.accounts, how }
  return outcomes.length ? speaker.t('terminal.round.line', { ...values, outcomes: outcomes.join(', ') }) : speaker.t('terminal.round.line_bare', values)
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

/** An email (or a Slack or webhook message) that did not go out, and what happens next to it. */
function undeliveredLine(speaker: Speaker, n: { decided_at: string; subject: string; delivery: string; delivered_to: string; channel: string }): string {
  const viaChannel = n.channel !== '' && n.channel !== 'email'
  // A channel's URL lives in the variable the plan names (alerting.channels), not in recipients.
  const noteKey = viaChannel && n.delivery === 'failed' ? 'failed_channel' : n.delivery
  const note = speaker.has(`terminal.status.undelivered_note.${noteKey}`) ? speaker.t(`terminal.status.undelivered_note.${noteKey}`, { channel: n.channel }) : n.delivery
  return speaker.t('terminal.status.undelivered_line', {
    time: speaker.dateTime(time(n.decided_at)),
    subject: n.subject,
    viaChannel: viaChannel ? 'yes' : 'no',
    channel: n.channel,
    note,
    hasTo: n.delivered_to ? 'yes' : 'no',
    to: n.delivered_to,
  })
}

/** What a silence covers, in words: `kpi fb-likes-month`, `akun kopi-ig`. */
export function silenceMatcher(speaker: Speaker, m: Silence['matchers']): string {
  if (m.kpiId) return speaker.t('terminal.silence.matcher.kpi', { id: m.kpiId })
  if (m.objectiveId) return speaker.t('terminal.silence.matcher.objective', { id: m.objectiveId })
  if (m.accountId) return speaker.t('terminal.silence.matcher.account', { id: m.accountId })
  return speaker.t('terminal.silence.matcher.nothing')
}

/** One line per silence: `sil-1a2b3c4d  active   kpi fb-likes-month until 1 Mar 2026, 00:00 GMT+7 — relaunch week (by dewi)`. */
export function formatSilence(silence: Silence, now: Date, speaker: Speaker): string {
  const state = silenceState(silence, now)
  const states = Object.fromEntries((['active', 'pending', 'ended', 'expired'] as const).map((s) => [s, speaker.t(`terminal.silence.state.${s}`)]))
  const width = Math.max(...Object.values(states).map((words) => words.length))
  const values = {
    id: silence.id,
    state: states[state]!.padEnd(width),
    matcher: silenceMatcher(speaker, silence.matchers),
    start: speaker.dateTime(silence.startsAt),
    end: speaker.dateTime(silence.expiredAt && silence.expiredAt < silence.endsAt ? silence.expiredAt : silence.endsAt),
    reason: silence.reason,
    by: silence.createdBy,
  }
  const key = `terminal.silence.${state === 'pending' ? 'line_pending' : 'line'}${silence.createdBy ? '_by' : ''}`
  return speaker.t(key, values)
}
