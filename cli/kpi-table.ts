import type { Speaker } from '../core/i18n/index.ts'
import { forecastForNote, type KpiEvaluation } from '../kpi/evaluate.ts'
import { decimalsOf } from '../kpi/kinds/index.ts'
import { basisNote } from '../kpi/pacing.ts'
import { KPI_STATUS_MEANINGS, KPI_STATUSES, reasonNote, statusWords, storedProblem, type StatusTone } from '../kpi/statuses.ts'
import { kpiDisplay, type KpiDisplay } from '../plan/units.ts'

/** The terminal colour of each tone a status has (kpi/statuses.ts). */
const TONE_COLORS: Record<StatusTone, string> = { good: '\x1b[32m', done: '\x1b[36m', warning: '\x1b[33m', bad: '\x1b[31m', none: '\x1b[90m' }
/** Each KPI status's terminal colour, for this table and `social-kpi status`. */
export const KPI_STATUS_COLORS: Record<string, string> = Object.fromEntries(KPI_STATUSES.map((status) => [status, TONE_COLORS[KPI_STATUS_MEANINGS[status].tone]]))
export const RESET = '\x1b[0m'

/** What the KPI table shows of an evaluation: one just made, or one read back from kpi_evaluations. */
export type KpiTableRow = Pick<KpiEvaluation, 'kpi' | 'status' | 'basis' | 'reason' | 'missingAccounts' | 'problem' | 'actual' | 'expectedToDate' | 'attainment' | 'currency'> & {
  /** The forecast's end, which a note about the forecast must agree with; null or absent without one. */
  forecast?: { end: number } | null
  period: Pick<KpiEvaluation['period'], 'start' | 'end'>
}

/** A KPI's number in a table cell: in its unit (a rate as a percentage, money in its currency); `—` when there is none. */
export function kpiCell(speaker: Speaker, value: number | null | undefined, display: KpiDisplay, kind: unknown): string {
  return value == null ? '—' : speaker.value(value, display, decimalsOf(kind))
}

/** A target with its direction: `≥ 4,000`, `≤ 2%`. */
export const targetCell = (speaker: Speaker, comparator: string, value: string): string => speaker.t('terminal.target', { comparator, value })

/** Attainment as a whole percentage (`95%`), `—` without one. */
export const attainmentCell = (speaker: Speaker, attainment: number | null): string => (attainment === null ? '—' : speaker.percent(attainment, 0))

/** Lines of a table: columns padded to their widest cell, numbers (`numeric` columns) to the right, the status column coloured. */
export function tableLines(header: string[], rows: Array<{ cells: string[]; color?: string | undefined }>, options: { color: boolean; colorColumn?: number; numeric?: readonly number[] }): string[] {
  // Widths in characters as people see them (Indonesian headers are longer than English ones).
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row.cells[i]!.length)))
  const line = (cells: string[], color?: string) =>
    cells
      .map((cell, i) => {
        const padded = options.numeric?.includes(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)
        return options.color && color && i === options.colorColumn ? `${color}${padded}${RESET}` : padded
      })
      .join('  ')
      .trimEnd()
  return [line(header), ...rows.map((row) => line(row.cells, row.color))]
}

/**
 * The KPI table for the terminal, in the plan's language: one line per KPI, status in words and
 * coloured when the output is a TTY, with its reason when the status alone would mislead ("on
 * track (too early to tell)") or there is no verdict ("no verdict (incomplete data: main)"); a
 * rate as a percentage, money in its currency, the period inclusive in the plan's zone.
 */
export function formatKpiTable(evaluations: KpiTableRow[], options: { color: boolean; speaker: Speaker }): string {
  const { speaker } = options
  const column = (key: string) => speaker.t(`terminal.column.${key}`)
  const header = ['kpi', 'status', 'actual', 'target', 'expected_now', 'attainment_short', 'period'].map(column)
  const rows = evaluations.map((e) => {
    const display = kpiDisplay(e.kpi, e)
    const cell = (value: number | null) => kpiCell(speaker, value, display, e.kpi.kind)
    const note =
      basisNote(speaker, e.status, e.basis, e.kpi.comparator, forecastForNote(e), 'short') ?? reasonNote(speaker, e.reason, e.missingAccounts, e.problem ?? storedProblem(e.reason, null, null))
    const status = statusWords(speaker, e.status)
    return {
      cells: [
        e.kpi.id,
        note ? speaker.t('status.with_reason', { status, reason: note }) : status,
        cell(e.actual),
        targetCell(speaker, e.kpi.comparator, cell(e.kpi.target)),
        cell(e.expectedToDate),
        attainmentCell(speaker, e.attainment),
        speaker.period(e.period.start, e.period.end),
      ],
      color: KPI_STATUS_COLORS[e.status],
    }
  })
  return tableLines(header, rows, { color: options.color, colorColumn: 1, numeric: [2, 3, 4, 5] }).join('\n')
}
