import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadPlan } from '../../plan/plan.ts'
import { removeDataDirRedisKeys } from '../helpers/redis-keys.ts'

/**
 * `social-kpi report` on the demo's data: one demo round on 2 December 2026, 10:00 in Jakarta
 * (November's verdicts are judged then, in their grace window), then November reviewed as text,
 * HTML and CSV; the same in Indonesian with the Indonesian plan; and, once an evaluation at the
 * end of the grace window has sent the review, the review as sent.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'social-kpi-report-'))
const env = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn', ADMIN_PORT: '0', CLOCK_START: '2026-12-02T10:00:00+07:00' }

function cli(args: string[]) {
  const result = spawnSync(process.execPath, ['bin/social-kpi.js', ...args], { env, encoding: 'utf8', timeout: 120_000 })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** RFC 4180 rows (the report's CSV quotes fields with commas or quotes). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"'
        i++
      } else if (c === '"') quoted = false
      else cell += c
    } else if (c === '"') quoted = true
    else if (c === ',') {
      row.push(cell)
      cell = ''
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell)
      rows.push(row)
      row = []
      cell = ''
      i++
    } else cell += c
  }
  return rows
}

let monthKpis: string[]

beforeAll(async () => {
  monthKpis = (await loadPlan('examples/plan.yaml')).kpis.filter((k) => k.period === 'month').map((k) => k.name)
  const collect = cli(['collect', '--once'])
  expect(collect.stderr).toBe('')
  expect(collect.code).toBe(0)
}, 180_000)
afterAll(async () => {
  await removeDataDirRedisKeys(dataDir)
  rmSync(dataDir, { recursive: true, force: true })
})

describe('social-kpi report', () => {
  it('prints November on the demo’s data, built from the stored verdicts, as provisional until they settle', () => {
    const result = cli(['report', '--period', '2026-11'])
    expect(result.code).toBe(0)
    const text = result.stdout
    expect(text).toMatch(/^Review of November 2026 — Kopi Nusantara\n=+\n\n\d+ of 3 objectives met; \d+ of 11 KPIs achieved/)
    expect(text).toContain('Provisional: late data may still change these verdicts until 4 Dec 2026, 00:00 GMT+7.')
    for (const name of monthKpis) expect(text).toContain(`  - ${name}: `)
    expect(text).toMatch(/## Posts that carried the period, and posts that fell flat\n\nfacebook · likes: [\d,]+ from \d+ posts\n {2}Carried the period:\n {4}1\. /)
    expect(text).toContain('## How certain the numbers are')
    expect(result.stderr).toContain('No review of November 2026 was stored')
    // The first round read insights 28 days back: the first days of November are a gap, and the report says how to fill it.
    expect(result.stderr).toContain('social-kpi backfill --from 2026-08-31 --to 2026-12-01')
  })

  it('writes CSV with one row per KPI, the numbers of kpi_verdicts', () => {
    const result = cli(['report', '--period', '2026-11', '--format', 'csv'])
    expect(result.code).toBe(0)
    const [header, ...rows] = parseCsv(result.stdout)
    expect(rows).toHaveLength(11)
    const col = (name: string) => header!.indexOf(name)
    expect(rows.map((r) => r[col('kpi')]).sort()).toEqual([...monthKpis].sort())
    const sql = cli(['sql', "SELECT kpi_id, actual, status FROM kpi_verdicts FINAL WHERE period_label = '2026-11' ORDER BY kpi_id", '--format', 'CSV'])
    // Rates to six decimals: the CSV rounds away floating-point noise beyond nine.
    const number = (text: string | undefined) => (text === '' || text === '\\N' ? '' : Number(Number(text).toFixed(6)))
    const stored = parseCsv(sql.stdout.replace(/\n/g, '\r\n')).map(([id, actual, status]) => [id, number(actual), status])
    const fromReport = rows.map((r) => [r[col('kpi_id')], number(r[col('actual')]), r[col('status')]]).sort((a, b) => String(a[0]).localeCompare(String(b[0])))
    expect(fromReport).toEqual(stored)
  })

  it('writes HTML with a chart per objective embedded, to a file', () => {
    const file = join(dataDir, 'november.html')
    const result = cli(['report', '--period', '2026-11', '--format', 'html', '--output', file])
    expect(result.code).toBe(0)
    expect(result.stdout).toBe('')
    const html = readFileSync(file, 'utf8')
    expect(html).toMatch(/^<!doctype html><html lang="en">/)
    expect(html.match(/<img src="data:image\/png;base64,/g)).toHaveLength(3)
    expect(html).toContain('<h2 style="font-size:18px">Alerts and crises</h2>')
  })

  it('reviews a week, in Indonesian with the Indonesian plan, and refuses a period that has not ended', () => {
    const week = cli(['report', '--week', '2026-W48', '--plan', 'examples/rencana-media-sosial.yaml'])
    expect(week.code).toBe(0)
    expect(week.stdout).toMatch(/^Tinjauan minggu 23–29 Nov 2026 — Kopi Nusantara/)
    expect(week.stdout).toContain('Komentar pada unggahan Facebook minggu ini: ')
    expect(week.stdout).toContain('## Seberapa pasti angkanya')
    const quarter = cli(['report', '--quarter', '2026-Q4'])
    expect(quarter.code).toBe(1)
    expect(quarter.stderr).toBe('error: --quarter 2026-Q4: 2026-Q4 has not ended yet (it ends 2027-01-01 00:00 Asia/Jakarta); a review is of an ended period\n')
    const none = cli(['report'])
    expect(none.code).toBe(1)
    expect(none.stderr).toContain('report needs one of --period 2026-11, --week 2026-W48, --quarter 2026-Q4 or --year 2026')
    expect(cli(['report', '--help']).stdout).toMatch(/Usage: social-kpi report/)
  })

  it('shows the review as sent, once an evaluation at the end of the grace window has sent it', () => {
    // The demo plan reviews weeks, months and quarters: at 4 Dec 00:00 November's verdicts have settled.
    const evaluate = cli(['evaluate', '--once', '--at', '2026-12-04T00:00:00+07:00'])
    expect(evaluate.code).toBe(0)
    const sent = readdirSync(join(dataDir, 'outbox')).filter((f) => /^review-[0-9a-f]{16}-month-20261031T170000Z\.eml$/.test(f))
    expect(sent).toHaveLength(1)
    const eml = readFileSync(join(dataDir, 'outbox', sent[0]!), 'utf8')
    expect(eml).toMatch(/Subject: \[social-kpi\] Review of November 2026: \d+ of 3 objectives met/)
    expect(eml).toContain('filename=social-kpi-review-2026-11.csv')
    const result = cli(['report', '--period', '2026-11'])
    expect(result.code).toBe(0)
    expect(result.stderr).toBe('The review of November 2026 as sent on 4 Dec 2026, 00:00 GMT+7.\n')
    expect(result.stdout).not.toContain('Provisional')
    expect(result.stdout).toContain('Built from everything stored up to 4 Dec 2026, 00:00 GMT+7.')
  })
})
