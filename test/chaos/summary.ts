import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import type { ChaosFigures } from './bed.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where each chaos test file leaves its figures (test/chaos/bed.ts recordFigures). */
    chaosSummaryDir: string
  }
}

/**
 * The chaos project's global setup: a directory for the figures of every scenario, and at the end
 * of the run one table of them on stdout (scenario, rows lost, duplicates, raw rows against FINAL,
 * emails expected vs sent).
 */
export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'social-kpi-chaos-summary-'))
  project.provide('chaosSummaryDir', dir)
  return () => {
    const figures = readdirSync(dir)
      .flatMap((file) => readFileSync(join(dir, file), 'utf8').split('\n'))
      .filter((line) => line.trim())
      .map((line) => JSON.parse(line) as ChaosFigures)
      .sort((a, b) => a.scenario.localeCompare(b.scenario))
    rmSync(dir, { recursive: true, force: true })
    if (figures.length > 0) process.stdout.write(`\n${formatFigures(figures)}\n`)
  }
}

export function formatFigures(figures: ChaosFigures[]): string {
  const header = ['scenario', 'rows lost', 'duplicates', 'raw≠FINAL', 'emails expected', 'emails sent', 'notes']
  const rows = figures.map((f) => [f.scenario, String(f.rowsLost), String(f.duplicates), String(f.rawVersusFinal), String(f.emailsExpected), String(f.emailsSent), f.note ?? ''])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i >= 1 && i <= 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  return ['Chaos suite', line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}
