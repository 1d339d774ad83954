import type { Speaker } from '../core/i18n/index.ts'
import { forecastForNote, type KpiEvaluation } from '../kpi/evaluate.ts'
import { formatKpiValue } from '../kpi/kinds/index.ts'
import { basisNote } from '../kpi/pacing.ts'
import { KPI_STATUS_MEANINGS, KPI_STATUSES, reasonNote, storedProblem, type StatusTone } from '../kpi/statuses.ts'

/** The terminal colour of each tone a status has (kpi/statuses.ts). */
const TONE_COLORS: Record<StatusTone, string> = { good: '\x1b[32m', done: '\x1b[36m', warning: '\x1b[33m', bad: '\x1b[31m', none: '\x1b[90m' }
/** Each KPI status's terminal colour, for this table and `social-kpi status`. */
export const KPI_STATUS_COLORS: Record<string, string> = Object.fromEntries(KPI_STATUSES.map((status) => [status, TONE_COLORS[KPI_STATUS_MEANINGS[status].tone]]))
export const RESET = '\x1b[0m'

/** What the KPI table shows of an evaluation: one just made, or one read back from kpi_evaluations. */
export type KpiTableRow = Pick<KpiEvaluation, 'kpi' | 'status' | 'basis' | 'reason' | 'missingAccounts' | 'problem' | 'actual' | 'expectedToDate' | 'attainment'> & {
  /** The forecast's end, which a note about the forecast must agree with; null or absent without one. */
  forecast?: { end: number } | null
  period: Pick<KpiEvaluation['period'], 'label'>
}

/**
 * The KPI table for the terminal: one line per KPI, status coloured when the output is a TTY, with
 * its reason when the status alone would mislead ("on_track (too early to tell)") or there is no
 * verdict ("unknown (incomplete data: main)").
 */
export function formatKpiTable(evaluations: KpiTableRow[], options: { color: boolean; speaker: Speaker }): string {
  const header = ['KPI', 'STATUS', 'ACTUAL', 'TARGET', 'EXPECTED NOW', 'ATTAIN.', 'PERIOD']
  const rows = evaluations.map((e) => {
    const format = (value: number | null) => formatKpiValue(value, e.kpi.kind)
    const note =
      basisNote(options.speaker, e.status, e.basis, e.kpi.comparator, forecastForNote(e), 'short') ??
      reasonNote(options.speaker, e.reason, e.missingAccounts, e.problem ?? storedProblem(e.reason, null, null))
    return [
      e.kpi.id,
      note ? `${e.status} (${note})` : e.status,
      format(e.actual),
      `${e.kpi.comparator === 'at_most' ? '≤' : '≥'} ${format(e.kpi.target)}`,
      format(e.expectedToDate),
      e.attainment === null ? '—' : `${Math.round(e.attainment * 100)}%`,
      e.period.label,
    ]
  })
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: string[], status?: string) =>
    cells
      .map((cell, i) => {
        const padded = i >= 2 && i <= 5 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)
        return i === 1 && status && options.color ? `${KPI_STATUS_COLORS[status] ?? ''}${padded}${RESET}` : padded
      })
      .join('  ')
      .trimEnd()
  return [line(header), ...rows.map((row, i) => line(row, evaluations[i]!.status))].join('\n')
}
