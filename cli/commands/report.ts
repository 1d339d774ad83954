import { writeFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { DateTime } from 'luxon'
import type { ClickHouse } from '../../core/clickhouse.ts'
import { processClock } from '../../core/clock.ts'
import { loadConfig } from '../../core/config.ts'
import { ArgumentError } from '../../core/errors.ts'
import { CATALOGUES, LANGUAGES, speaker } from '../../core/i18n/index.ts'
import { exitCodes } from '../output.ts'
import { loadPlan, type ReviewKind } from '../../plan/plan.ts'

const FORMATS = ['text', 'html', 'csv'] as const

interface ReportOptions {
  period?: string
  week?: string
  quarter?: string
  year?: string
  format: string
  output?: string
  language?: string
  plan?: string
}

/** `--period` takes any label and reads the kind from its shape; the others name theirs. */
function chosenPeriod(opts: ReportOptions): { kind: ReviewKind; label: string; option: string } {
  const given = (['period', 'week', 'quarter', 'year'] as const).filter((name) => opts[name] !== undefined)
  if (given.length !== 1) throw new ArgumentError('report needs one of --period 2026-11, --week 2026-W48, --quarter 2026-Q4 or --year 2026')
  const name = given[0]!
  const label = opts[name]!.trim()
  if (name !== 'period') return { kind: name, label, option: `--${name}` }
  const kind: ReviewKind = /-W\d/.test(label) ? 'week' : /-Q\d/.test(label) ? 'quarter' : /^\d{4}$/.test(label) ? 'year' : 'month'
  return { kind, label, option: '--period' }
}

/**
 * `social-kpi report`: the review of an ended period. The review stored when it was sent, or,
 * for a period without one, built now from the stored verdicts and observations (as known now,
 * or at the end of its grace window). Reads only: in embedded mode through the running process.
 */
async function report(opts: ReportOptions): Promise<void> {
  // Loaded here, not with the command's definition: the chart renderer and the database are
  // not what `--help` or `plan validate` should pay for (see cli/main.ts).
  const { renderReviewChartPng } = await import('../../alerts/review-chart.ts')
  const { CSV_BOM, reviewCsv, reviewHtml, reviewPeriodName, reviewText } = await import('../../alerts/review-email.ts')
  const { clickHouseReviewSource, readStoredReview } = await import('../../alerts/review-source.ts')
  const { clickHouseKpiSource } = await import('../../kpi/clickhouse-source.ts')
  const { buildPeriodReview, namedPeriod, previousPeriod, reviewKpis, settlesAt } = await import('../../kpi/review.ts')
  const { openReader } = await import('../reader.ts')
  const { kind, label, option } = chosenPeriod(opts)
  const format = opts.format.toLowerCase()
  if (!(FORMATS as readonly string[]).includes(format)) throw new ArgumentError(`--format: "${opts.format}" is not one of ${FORMATS.join(', ')}`)
  if (opts.language !== undefined && !LANGUAGES.includes(opts.language))
    throw new ArgumentError(`--language: "${opts.language}" is not one of ${LANGUAGES.map((code) => `${code} (${CATALOGUES.get(code)!.name})`).join(', ')}`)
  // Without --plan, the demo's plan and data, as for start and collect.
  const { choosePlan, findData } = await import('../data-dir.ts')
  const chosen = choosePlan(opts.plan, process.env)
  const plan = await loadPlan(chosen.file)
  const config = loadConfig(await findData(chosen.env))
  const now = processClock(config)()
  const period = namedPeriod(kind, label, plan, option)
  const zone = plan.company.timezone
  const local = (date: Date) => DateTime.fromJSDate(date, { zone }).toFormat('yyyy-MM-dd HH:mm')
  if (period.end > now) throw new ArgumentError(`${option} ${label}: ${period.label} has not ended yet (it ends ${local(period.end)} ${zone}); a review is of an ended period`)
  if (reviewKpis(plan, kind).length === 0)
    throw new ArgumentError(
      `${option}: the plan measures no KPI per ${kind}, so there is nothing to review (KPI periods: ${[...new Set(plan.kpis.map((k) => (typeof k.period === 'string' ? k.period : 'custom')))].join(', ')})`,
    )
  // The review's language: review.language, which defaults to the plan's company.language.
  const language = opts.language ?? plan.review?.language ?? plan.company.language
  // Its notes on stderr speak that language too, on the plan's clock.
  const s = speaker(language, zone)
  const periodName = reviewPeriodName(s, kind, { start: period.start.toISOString(), end: period.end.toISOString() })

  const reader = await openReader(config)
  try {
    const ch: Pick<ClickHouse, 'rows'> = { rows: (query, params) => reader.rows(query, params) }
    const stored = await readStoredReview(ch, plan, kind, period)
    const settled = settlesAt(period)
    const knownAt = now < settled ? now : settled
    const shown = stored?.review ? stored : null
    const review = shown?.review ?? (await buildPeriodReview(plan, kind, period, knownAt, { kpi: clickHouseKpiSource(ch), review: clickHouseReviewSource(ch) }))
    const body =
      format === 'csv'
        ? reviewCsv(review)
        : format === 'html'
          ? reviewHtml(review, language, (_cid, chart) => `data:image/png;base64,${renderReviewChartPng(chart).toString('base64')}`)
          : `${reviewText(review, language)}\n`
    if (opts.output) {
      await writeFile(opts.output, format === 'csv' ? CSV_BOM + body : body)
      process.stderr.write(`${s.t('review.report.wrote', { file: opts.output })}\n`)
    } else {
      process.stdout.write(body)
    }
    // Where it came from, on stderr so that the HTML or CSV on stdout stays clean.
    const provisional = now < settled ? 'yes' : 'no'
    const until = s.dateTime(settled)
    process.stderr.write(
      `${
        shown
          ? s.t('review.report.as_sent', { period: periodName, sentAt: s.dateTime(shown.builtAt) })
          : stored
            ? s.t('review.report.unreadable', { period: periodName, sentAt: s.dateTime(stored.builtAt), provisional, until })
            : s.t('review.report.not_stored', { period: periodName, provisional, until })
      }\n`,
    )
    if (!shown && review.gaps.length > 0) {
      // From two periods earlier: the change and the trend need them too.
      const from = DateTime.fromJSDate(previousPeriod(kind, previousPeriod(kind, period, plan), plan).start, { zone: 'UTC' }).toISODate()
      const to = DateTime.fromJSDate(period.end, { zone: 'UTC' }).plus({ days: 1 }).toISODate()
      const command = `social-kpi backfill --from ${from} --to ${to}${opts.plan ? ` --plan ${opts.plan}` : ''}`
      process.stderr.write(`${s.t('review.report.gaps', { period: periodName, format: format === 'csv' ? 'csv' : 'text', section: s.t('review.sections.certainty'), command, provisional })}\n`)
    }
  } finally {
    await reader.close()
  }
}

export function registerReportCommand(program: Command): void {
  const command = program
    .command('report')
    .description('the review of an ended week, month, quarter or year against the plan: verdicts, change, top posts, alerts, what the next period needs')
    .option('--period <label>', 'a month (2026-11), or any period label: 2026-W48, 2026-Q4, 2026')
    .option('--week <week>', 'an ISO week, 2026-W48, or a day of it, 2026-11-23')
    .option('--quarter <quarter>', 'a quarter, 2026-Q4')
    .option('--year <year>', 'a year, 2026')
    .option('-f, --format <format>', `output: ${FORMATS.join(', ')} (csv: one row per KPI)`, 'text')
    .option('-o, --output <file>', 'write to this file instead of the terminal (a CSV file starts with a byte-order mark for spreadsheets)')
    .option('--language <language>', `the review's language: ${LANGUAGES.join(', ')} (default: the plan's review.language, else its company.language)`)
    .option('-p, --plan <file>', 'the social media plan (YAML or JSON); default: the demo')
    .addHelpText(
      'after',
      '\nExamples:\n  social-kpi report --period 2026-11 --plan plan.yaml\n  social-kpi report --week 2026-W48 --format html -o week-48.html --plan plan.yaml\n  social-kpi report --quarter 2026-Q4 --format csv --plan plan.yaml > q4.csv\nThe review sent when the period settled is shown as sent; a period without one is built from the stored data (docs/period-review.md).',
    )
    .action(report)
  exitCodes(command, { 1: 'a bad option, a period not ended, no data, or another error' })
}
