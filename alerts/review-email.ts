import { DateTime } from 'luxon'
import type { Payload, ReviewChart } from '../core/queues.ts'
import type { ReviewLanguage } from '../plan/plan.ts'
import { decimalsOf, kpiKind } from '../kpi/kinds/index.ts'
import { shortfall, type KpiReview, type ObjectiveReview, type PeriodReview } from '../kpi/review.ts'
import { escapeHtml } from './email.ts'
import { objectiveChart, reviewChartCid, reviewChartSize } from './review-chart.ts'
import { WORDS, type ReviewWords } from './review-words.ts'

/**
 * A period review (kpi/review.ts) in words: plain text (the terminal and the email's text part),
 * HTML (the email, or a standalone page with the charts embedded), and CSV (one row per KPI).
 * The fixed words follow the plan's language (alerts/review-words.ts); the CSV's column names
 * and values stay the same in every language, so a spreadsheet or a script can rely on them.
 */

interface Format {
  w: ReviewWords
  zone: string
  number(value: number | null, kind?: string): string
  percent(fraction: number | null): string
  signed(value: number, kind?: string): string
  date(iso: string): string
  time(iso: string): string
  periodName(kind: PeriodReview['kind'], period: { start: string; end: string }): string
}

function formatter(review: PeriodReview, language: ReviewLanguage): Format {
  const w = WORDS[language as keyof typeof WORDS]!
  const zone = review.timezone
  const number = (value: number | null, kind?: string) => {
    if (value === null) return w.noData
    // A kind's own decimals (a rate's 4); else one decimal under 10, as in 2.5/day.
    const digits = decimalsOf(kind) || (Math.abs(value) < 10 && !Number.isInteger(value) ? 1 : 0)
    return value.toLocaleString(w.locale, { maximumFractionDigits: digits, minimumFractionDigits: 0 })
  }
  return {
    w,
    zone,
    number,
    percent: (fraction) => (fraction === null ? '—' : new Intl.NumberFormat(w.locale, { style: 'percent', maximumFractionDigits: 0 }).format(fraction)),
    signed: (value, kind) => `${value > 0 ? '+' : value < 0 ? '−' : '±'}${number(Math.abs(value), kind)}`,
    date: (iso) => DateTime.fromISO(iso, { zone }).setLocale(w.locale).toFormat('d LLL yyyy'),
    time: (iso) => `${DateTime.fromISO(iso, { zone }).setLocale(w.locale).toFormat('d LLL yyyy, HH:mm')}`,
    periodName: (kind, period) => w.period(kind, new Date(period.start), new Date(period.end), zone),
  }
}

/** A verdict in words; no verdict says why and names the accounts missing: "no verdict (incomplete data: main)". */
function verdictWords(f: Format, v: KpiReview['verdict']): string {
  const word = f.w.status[v.status]
  if (v.status !== 'unknown' || !v.reason) return word
  return `${word} (${f.w.reason[v.reason]}${v.missingAccounts?.length ? `: ${v.missingAccounts.join(', ')}` : ''})`
}

/** One KPI in one line: "Facebook likes: missed — 6,480 of at least 9,000 (72%); −340 (−5%) vs October 2026". */
function kpiLine(f: Format, review: PeriodReview, kpi: KpiReview): string {
  const v = kpi.verdict
  const judged = v.stored ? '' : '*'
  const head = `${kpi.name}: ${verdictWords(f, v)}${judged} — ${f.number(v.actual, kpi.kind)} ${f.w.of} ${f.w.comparator[kpi.comparator]} ${f.number(v.target, kpi.kind)} (${f.percent(v.attainment)})`
  return `${head}; ${changeText(f, review, kpi)}`
}

function changeText(f: Format, review: PeriodReview, kpi: KpiReview): string {
  // without a verdict the number may count only some accounts: nothing to compare
  if (kpi.verdict.status === 'unknown') return '—'
  if (kpi.change === null || !kpi.previous) return f.w.noPrevious
  const previous = `${f.periodName(review.kind, review.previous)}${kpi.previous.stored ? '' : '*'}`
  return f.w.change(f.signed(kpi.change, kpi.kind), kpi.changeShare === null ? null : `${kpi.changeShare >= 0 ? '+' : '−'}${f.percent(Math.abs(kpi.changeShare))}`, previous)
}

function nextText(f: Format, review: PeriodReview, kpi: KpiReview): string[] {
  const n = kpi.next
  if (!n) return []
  // Under 10 a day keeps one decimal (number()); a level's change per day has its sign.
  const { origin } = kpiKind(kpi.kind)
  const perDay = (value: number | null) => (value === null ? null : origin === 'start' ? f.signed(value) : f.number(value))
  return [
    f.w.nextNeeds({ next: f.periodName(review.kind, n), perDay: perDay(n.perDay), target: f.number(n.target, kpi.kind), comparator: kpi.comparator, origin, thisPerDay: perDay(n.thisPerDay) }),
    n.trendTarget === null ? f.w.noTrend : f.w.trend(n.trendFrom, f.number(n.trendTarget, kpi.kind)),
  ]
}

/** The headline: objectives met, KPIs achieved, and the KPI furthest from its target. */
function headline(f: Format, review: PeriodReview): string[] {
  const all = review.objectives.flatMap((o) => o.kpis)
  const furthest = all
    .filter((k) => k.verdict.status === 'missed')
    .map((k) => ({ k, short: shortfall(k) ?? 0 }))
    .sort((a, b) => b.short - a.short)[0]
  const lines = [`${f.w.summary(review.summary)}.${furthest ? ` ${f.w.furthest(furthest.k.name, f.percent(furthest.short), furthest.k.comparator)}` : ''}`]
  if (new Date(review.knownAt) < new Date(review.settlesAt)) lines.push(f.w.provisional(`${f.time(review.settlesAt)} (${f.zone})`))
  return lines
}

const metOf = (o: ObjectiveReview) => (o.met === true ? 'met' : o.met === false ? 'notMet' : 'uncertain')

/** The action lists of an objective's missed KPIs, each once, with the KPIs it is for. */
function actionGroups(objective: ObjectiveReview): Array<{ kpis: string[]; actions: string[] }> {
  const groups = new Map<string, { kpis: string[]; actions: string[] }>()
  for (const kpi of objective.kpis) {
    if (kpi.actions.length === 0) continue
    const key = JSON.stringify(kpi.actions)
    const group = groups.get(key) ?? { kpis: [], actions: kpi.actions }
    group.kpis.push(kpi.name)
    groups.set(key, group)
  }
  return [...groups.values()]
}

const accountOf = (f: Format, line: { accountId: string; objectId: string; createdAt: string | null; gained: number }) =>
  f.w.post(line.objectId, line.accountId, f.number(line.gained), line.createdAt ? f.date(line.createdAt) : null)

function gapDays(f: Format, days: string[]): string {
  // Consecutive days as ranges: 8–12 Nov, 20 Nov.
  const ranges: Array<[string, string]> = []
  for (const day of days) {
    const last = ranges[ranges.length - 1]
    if (last && DateTime.fromISO(last[1]).plus({ days: 1 }).toISODate() === day) last[1] = day
    else ranges.push([day, day])
  }
  const name = (day: string) => DateTime.fromISO(day).setLocale(f.w.locale).toFormat('d LLL')
  const shown = ranges.slice(0, 8).map(([a, b]) => (a === b ? name(a) : `${name(a)} – ${name(b)}`))
  return ranges.length > 8 ? `${shown.join(', ')}, …` : shown.join(', ')
}

function kpiNames(review: PeriodReview, ids: string[]): string {
  const names = new Map(review.objectives.flatMap((o) => o.kpis.map((k) => [k.id, k.name])))
  return ids.map((id) => names.get(id) ?? id).join(', ')
}

function gapText(f: Format, review: PeriodReview, g: PeriodReview['gaps'][number]): string {
  const account = `${g.network}/${g.accountId}`
  if (g.shape === 'counter') return f.w.unreadPosts(account, g.metric, kpiNames(review, g.kpiIds))
  return f.w.gap(account, g.metric, gapDays(f, g.missingDays), g.missingDays.length, g.days, kpiNames(review, g.kpiIds))
}

/** The review as plain text: the terminal's `report` and the email's text part. */
export function reviewText(review: PeriodReview, language: ReviewLanguage): string {
  const f = formatter(review, language)
  const title = `${f.w.title(f.periodName(review.kind, review.period))} — ${review.company}`
  const out: string[] = [title, '='.repeat(title.length), '', ...headline(f, review), '']
  out.push(`## ${f.w.sections.objectives}`, '')
  for (const objective of review.objectives) {
    out.push(`${objective.name} — ${f.w.objectiveMet[metOf(objective)]}`)
    for (const kpi of objective.kpis) {
      out.push(`  - ${kpiLine(f, review, kpi)}`)
      for (const line of nextText(f, review, kpi)) out.push(`      ${line}`)
    }
    for (const group of actionGroups(objective)) {
      out.push(`  ${f.w.planActions} (${group.kpis.join(', ')}):`)
      group.actions.forEach((action, i) => {
        out.push(`    ${i + 1}. ${action}`)
      })
    }
    out.push('')
  }
  if (review.objectives.some((o) => o.kpis.some((k) => !k.verdict.stored || (k.previous && !k.previous.stored)))) out.push(f.w.judgedNote, '')
  out.push(`## ${f.w.sections.posts}`, '')
  if (review.posts.length === 0) out.push(f.w.noPosts)
  for (const posts of review.posts) {
    out.push(f.w.posts(posts.network, posts.metric, posts.counted, f.number(posts.total)))
    if (posts.top.length) out.push(`  ${f.w.top}:`, ...posts.top.map((p, i) => `    ${i + 1}. ${accountOf(f, p)}`))
    if (posts.flat.length) out.push(`  ${f.w.flat}:`, ...posts.flat.map((p, i) => `    ${i + 1}. ${accountOf(f, p)}`))
  }
  out.push('', `## ${f.w.sections.alerts}`, '')
  if (review.alerts.length === 0) out.push(f.w.noAlerts)
  for (const a of review.alerts)
    out.push(`- ${f.w.alert(a.kind, a.subject, a.label)}, ${f.w.fired(f.time(a.firedAt), a.resolvedAt ? f.time(a.resolvedAt) : null)}${a.silenced ? `; ${f.w.silenced}` : ''}`)
  out.push('', `## ${f.w.sections.silences}`, '')
  if (review.silences.length === 0) out.push(f.w.noSilences)
  for (const s of review.silences) out.push(`- ${f.w.silence(s.what, f.time(s.startsAt), f.time(s.endsAt), s.reason, s.createdBy)}`)
  out.push('', `## ${f.w.sections.certainty}`, '')
  if (review.gaps.length === 0) out.push(f.w.noGaps)
  else {
    for (const g of review.gaps) out.push(`- ${gapText(f, review, g)}`)
    out.push('', f.w.certaintyNote)
  }
  out.push('', f.w.builtFrom(`${f.time(review.knownAt)} (${f.zone})`))
  return out.join('\n')
}

/**
 * The review as HTML. `image(cid, chart)` gives each objective chart's `src`: `cid:` in the email,
 * a data: URI in a standalone page.
 */
export function reviewHtml(review: PeriodReview, language: ReviewLanguage, image: (cid: string, chart: ReviewChart) => string): string {
  const f = formatter(review, language)
  const e = escapeHtml
  const title = `${f.w.title(f.periodName(review.kind, review.period))} — ${review.company}`
  const color = { achieved: '#1a7f37', missed: '#cf222e', unknown: '#6e7781' }
  const parts: string[] = []
  parts.push(`<h1 style="font-size:22px;margin:0 0 8px">${e(title)}</h1>`)
  for (const [i, line] of headline(f, review).entries()) parts.push(`<p style="${i === 0 ? 'font-size:16px' : 'color:#9a6700'};margin:0 0 12px">${e(line)}</p>`)
  parts.push(`<h2 style="font-size:18px">${e(f.w.sections.objectives)}</h2>`)
  for (const objective of review.objectives) {
    const met = metOf(objective)
    parts.push(
      `<h3 style="font-size:16px;margin:16px 0 4px">${e(objective.name)} — <span style="color:${met === 'met' ? color.achieved : met === 'notMet' ? color.missed : color.unknown}">${e(f.w.objectiveMet[met])}</span></h3>`,
    )
    if (objective.description) parts.push(`<p style="color:#555;margin:0 0 8px">${e(objective.description)}</p>`)
    const chart = objectiveChart(review, objective, f.w)
    if (chart) {
      const size = reviewChartSize(chart)
      parts.push(
        `<p><img src="${e(image(reviewChartCid(objective.id), chart))}" width="${size.width}" height="${size.height}" alt="${e(f.w.chartAlt(objective.name))}" style="max-width:100%;height:auto;border:0"></p>`,
      )
    }
    const c = f.w.columns
    parts.push(
      `<table cellpadding="4" style="border-collapse:collapse;font-size:14px"><tr>${[c.kpi, c.verdict, c.actual, c.target, c.attainment, c.previous].map((h) => `<th align="left" style="border-bottom:1px solid #ddd">${e(h)}</th>`).join('')}</tr>`,
    )
    for (const kpi of objective.kpis) {
      const v = kpi.verdict
      parts.push(
        `<tr><td>${e(kpi.name)}</td><td style="color:${color[v.status]};font-weight:bold">${e(verdictWords(f, v))}${v.stored ? '' : '*'}</td><td align="right">${e(f.number(v.actual, kpi.kind))}</td><td>${e(`${f.w.comparator[kpi.comparator]} ${f.number(v.target, kpi.kind)}`)}</td><td align="right">${e(f.percent(v.attainment))}</td><td>${e(changeText(f, review, kpi))}</td></tr>`,
      )
    }
    parts.push('</table>')
    const missed = objective.kpis.filter((k) => k.next)
    if (missed.length) {
      parts.push(`<p style="margin:8px 0 4px"><b>${e(f.w.whatNext)}</b></p><ul style="margin:0">`)
      for (const kpi of missed) parts.push(`<li><b>${e(kpi.name)}</b>: ${nextText(f, review, kpi).map(e).join(' ')}</li>`)
      parts.push('</ul>')
    }
    for (const group of actionGroups(objective)) {
      parts.push(`<p style="margin:8px 0 4px"><b>${e(f.w.planActions)}</b> (${e(group.kpis.join(', '))})</p><ol style="margin:0">${group.actions.map((a) => `<li>${e(a)}</li>`).join('')}</ol>`)
    }
  }
  if (review.objectives.some((o) => o.kpis.some((k) => !k.verdict.stored || (k.previous && !k.previous.stored)))) parts.push(`<p style="color:#555;font-size:12px">${e(f.w.judgedNote)}</p>`)
  parts.push(`<h2 style="font-size:18px">${e(f.w.sections.posts)}</h2>`)
  if (review.posts.length === 0) parts.push(`<p>${e(f.w.noPosts)}</p>`)
  for (const posts of review.posts) {
    parts.push(`<h3 style="font-size:15px;margin:12px 0 4px">${e(f.w.posts(posts.network, posts.metric, posts.counted, f.number(posts.total)))}</h3>`)
    if (posts.top.length) parts.push(`<p style="margin:4px 0">${e(f.w.top)}</p><ol style="margin:0">${posts.top.map((p) => `<li>${e(accountOf(f, p))}</li>`).join('')}</ol>`)
    if (posts.flat.length) parts.push(`<p style="margin:4px 0">${e(f.w.flat)}</p><ol style="margin:0">${posts.flat.map((p) => `<li>${e(accountOf(f, p))}</li>`).join('')}</ol>`)
  }
  parts.push(`<h2 style="font-size:18px">${e(f.w.sections.alerts)}</h2>`)
  parts.push(
    review.alerts.length === 0
      ? `<p>${e(f.w.noAlerts)}</p>`
      : `<ul>${review.alerts.map((a) => `<li>${e(`${f.w.alert(a.kind, a.subject, a.label)}, ${f.w.fired(f.time(a.firedAt), a.resolvedAt ? f.time(a.resolvedAt) : null)}${a.silenced ? `; ${f.w.silenced}` : ''}`)}</li>`).join('')}</ul>`,
  )
  parts.push(`<h2 style="font-size:18px">${e(f.w.sections.silences)}</h2>`)
  parts.push(
    review.silences.length === 0
      ? `<p>${e(f.w.noSilences)}</p>`
      : `<ul>${review.silences.map((s) => `<li>${e(f.w.silence(s.what, f.time(s.startsAt), f.time(s.endsAt), s.reason, s.createdBy))}</li>`).join('')}</ul>`,
  )
  parts.push(`<h2 style="font-size:18px">${e(f.w.sections.certainty)}</h2>`)
  if (review.gaps.length === 0) parts.push(`<p>${e(f.w.noGaps)}</p>`)
  else {
    parts.push(`<ul>${review.gaps.map((g) => `<li>${e(gapText(f, review, g))}</li>`).join('')}</ul>`)
    parts.push(`<p style="color:#555">${e(f.w.certaintyNote)}</p>`)
  }
  parts.push(`<p style="color:#555;font-size:12px">${e(f.w.builtFrom(`${f.time(review.knownAt)} (${f.zone})`))}</p>`)
  return `<!doctype html><html lang="${language}"><head><meta charset="utf-8"><title>${e(title)}</title></head><body style="font-family:sans-serif;max-width:760px">\n${parts.join('\n')}\n</body></html>`
}

/** The CSV's columns: the same names in every language, and machine values (achieved, missed, unknown; the reason's code; account ids separated by spaces). */
export const REVIEW_CSV_COLUMNS = [
  'period_kind',
  'period',
  'period_start',
  'period_end',
  'objective_id',
  'objective',
  'kpi_id',
  'kpi',
  'network',
  'metric',
  'kind',
  'comparator',
  'target',
  'actual',
  'attainment',
  'status',
  'status_reason',
  'missing_accounts',
  'verdict_source',
  'previous_period',
  'previous_actual',
  'change',
  'change_share',
  'next_period',
  'next_target',
  'needed_per_day',
  'trend_target',
] as const

const csvCell = (value: string | number | null) => {
  if (value === null) return ''
  const text = String(value)
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

const round = (value: number | null, digits: number) => (value === null ? null : Math.round(value * 10 ** digits) / 10 ** digits)
/** Twelve significant digits: the value as stored, without floating-point noise (0.1 + 0.2). */
const clean = (value: number | null) => (value === null ? null : Number(value.toPrecision(12)))

/** The KPI table as CSV (RFC 4180: CRLF line ends, quoted where needed), one row per KPI. */
export function reviewCsv(review: PeriodReview): string {
  const rows = review.objectives.flatMap((o) =>
    o.kpis.map((k) => [
      review.kind,
      review.period.label,
      review.period.start,
      review.period.end,
      o.id,
      o.name,
      k.id,
      k.name,
      k.network,
      k.denominator ? `${k.metric}/${k.denominator}` : k.metric,
      k.kind,
      k.comparator,
      k.verdict.target,
      clean(k.verdict.actual),
      round(k.verdict.attainment, 4),
      k.verdict.status,
      k.verdict.reason ?? null,
      k.verdict.missingAccounts?.join(' ') ?? null,
      k.verdict.stored ? 'stored' : 'judged',
      k.previous?.label ?? null,
      clean(k.previous?.actual ?? null),
      clean(k.change),
      round(k.changeShare, 4),
      k.next?.label ?? null,
      k.next?.target ?? null,
      round(k.next?.perDay ?? null, 2),
      k.next?.trendTarget ?? null,
    ]),
  )
  return `${[[...REVIEW_CSV_COLUMNS], ...rows].map((row) => row.map(csvCell).join(',')).join('\r\n')}\r\n`
}

/** A byte-order mark first, so spreadsheet programs read the file as UTF-8. */
export const CSV_BOM = '\uFEFF'

/** The review's file name stem: social-kpi-review-2026-11. */
const reviewFileName = (review: PeriodReview) => `social-kpi-review-${review.period.label.replace(/[^\w-]+/g, '-')}`

export type ReviewEmail = Pick<Payload<'notify'>, 'subject' | 'text' | 'html' | 'charts' | 'attachments'>

/** The review email: HTML with one inline chart per objective, the text part, and the KPI table as CSV. */
export function renderReviewEmail(review: PeriodReview, language: ReviewLanguage): ReviewEmail {
  const f = formatter(review, language)
  const charts: NonNullable<ReviewEmail['charts']> = []
  const html = reviewHtml(review, language, (cid, chart) => {
    charts.push({ cid, chart })
    return `cid:${cid}`
  })
  return {
    subject: f.w.subject(f.periodName(review.kind, review.period), f.w.summary(review.summary)),
    text: `${reviewText(review, language)}\n\n${f.w.csvAttachment}`,
    html: html.replace('</body>', `<p style="color:#555;font-size:12px">${escapeHtml(f.w.csvAttachment)}</p></body>`),
    charts,
    attachments: [{ filename: `${reviewFileName(review)}.csv`, contentType: 'text/csv; charset=utf-8', content: CSV_BOM + reviewCsv(review) }],
  }
}
