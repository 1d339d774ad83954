import type { KpiEvaluation } from '../kpi/evaluate.ts'
import { basisNote } from '../kpi/pacing.ts'

const COLORS: Record<string, string> = { on_track: '\x1b[32m', achieved: '\x1b[36m', at_risk: '\x1b[33m', missed: '\x1b[31m', unknown: '\x1b[90m' }
const RESET = '\x1b[0m'

const format = (value: number | null, rate: boolean) => (value === null ? '—' : rate ? value.toFixed(4) : Math.round(value).toLocaleString('en-US'))

/**
 * The KPI table for the terminal: one line per KPI, status coloured when the output is a TTY, with
 * its reason when the status alone would mislead ("on_track (too early to tell)").
 */
export function formatKpiTable(evaluations: KpiEvaluation[], options: { color: boolean }): string {
  const header = ['KPI', 'STATUS', 'ACTUAL', 'TARGET', 'EXPECTED NOW', 'ATTAIN.', 'PERIOD']
  const rows = evaluations.map((e) => {
    const rate = e.kpi.kind === 'rate'
    const note = basisNote(e.status, e.basis, e.kpi.comparator, 'short')
    return [
      e.kpi.id,
      note ? `${e.status} (${note})` : e.status,
      format(e.actual, rate),
      `${e.kpi.comparator === 'at_most' ? '≤' : '≥'} ${format(e.kpi.target, rate)}`,
      format(e.expectedToDate, rate),
      e.attainment === null ? '—' : `${Math.round(e.attainment * 100)}%`,
      e.period.label,
    ]
  })
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: string[], status?: string) =>
    cells
      .map((cell, i) => {
        const padded = i >= 2 && i <= 5 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)
        return i === 1 && status && options.color ? `${COLORS[status] ?? ''}${padded}${RESET}` : padded
      })
      .join('  ')
      .trimEnd()
  return [line(header), ...rows.map((row, i) => line(row, evaluations[i]!.status))].join('\n')
}
