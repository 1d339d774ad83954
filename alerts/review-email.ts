import { DateTime } from 'luxon'
import { type Speaker, speaker } from '../core/i18n/index.ts'
import type { Network } from '../core/metrics.ts'
import type { Payload, ReviewChart } from '../core/queues.ts'
import { decimalsOf, kpiKind } from '../kpi/kinds/index.ts'
import { shortfall, type AlertEpisode, type KpiReview, type ObjectiveReview, type PeriodReview, type PostLine } from '../kpi/review.ts'
import { reasonNote, statusWords } from '../kpi/statuses.ts'
import type { ReviewKind } from '../plan/plan.ts'
import { defaultUnit, kpiDisplay, type KpiDisplay } from '../plan/units.ts'
import { escapeHtml } from './email.ts'
import { objectiveChart, reviewChartCid, reviewChartSize } from './review-chart.ts'

/**
 * A period review (kpi/review.ts) in words: plain text (the terminal and the email's text part),
 * HTML (the email, or a standalone page with the charts embedded), and CSV (one row per KPI).
 * Every sentence comes from the message catalogue (core/i18n/messages/, section `review`) in the
 * review's language (`review.language`, which defaults to `company.language`); numbers, money,
 * percentages and times go through the Speaker, in the zone the review was built in (the plan's
 * `company.timezone`), with the zone named. The CSV's column names and values stay the same in
 * every language, so a spreadsheet or a script can rely on them.
 */

/** Where a review has nothing to show: no attainment, nothing to compare. */
const DASH = '—'

/** The speaker of a review: its language, on the plan's clock (the zone the review was built in). */
const reviewSpeaker = (review: PeriodReview, language: string): Speaker => speaker(language, review.timezone)

/** How a KPI's numbers are shown: its unit (the plan's, or the default for a review stored before it carried one), money in its verdict's currency. */
function displayOf(kpi: KpiReview): KpiDisplay {
  const unit = kpi.unit ?? defaultUnit({ network: kpi.network as Network, kind: kpi.kind, metric: kpi.metric, denominator: kpi.denominator })
  return kpiDisplay({ unit }, kpi.verdict)
}

/** A KPI's number in its unit: a rate as a percentage, money in its currency; a count keeps one decimal under 10 (2.5/day). */
function amount(s: Speaker, kpi: KpiReview, value: number | null): string {
  const digits = value === null ? 0 : decimalsOf(kpi.kind) || (Math.abs(value) < 10 && !Number.isInteger(value) ? 1 : 0)
  return s.value(value, displayOf(kpi), digits)
}

/** A change in the KPI's unit with its sign: +272, −0.05%, ±0. */
const signedAmount = (s: Speaker, kpi: KpiReview, value: number) => `${value > 0 ? '+' : value < 0 ? '−' : '±'}${amount(s, kpi, Math.abs(value))}`

/** A share in whole percent: attainment 67%, a shortfall of 33%. */
const wholePercent = (s: Speaker, fraction: number | null) => (fraction === null ? DASH : s.percent(fraction, 0))

const signedShare = (s: Speaker, share: number) => `${share >= 0 ? '+' : '−'}${s.percent(Math.abs(share), 0)}`

/** "at least 1,000", "at most 60", "at least 3%". */
const targetText = (s: Speaker, kpi: KpiReview, value: number) => s.t(`common.${kpi.comparator}`, { value: amount(s, kpi, value) })

const monthFormats = new Map<string, Intl.DateTimeFormat>()

/** A period by name, in the plan's zone: November 2026 (Intl), Q4 2026, 2026, the week of 23–29 Nov 2026. */
export function reviewPeriodName(s: Speaker, kind: ReviewKind, period: { start: string; end: string }): string {
  const start = new Date(period.start)
  const local = DateTime.fromJSDate(start, { zone: s.zone })
  switch (kind) {
    case 'month': {
      const key = `${s.locale}\u0000${s.zone}`
      let format = monthFormats.get(key)
      if (!format) {
        format = new Intl.DateTimeFormat(s.locale, { month: 'long', year: 'numeric', timeZone: s.zone })
        monthFormats.set(key, format)
      }
      return format.format(start)
    }
    case 'quarter':
      return s.t('review.period.quarter', { quarter: local.quarter, year: String(local.year) })
    case 'year':
      return s.t('review.period.year', { year: String(local.year) })
    case 'week':
      return s.t('review.period.week', { days: s.period(start, new Date(period.end)) })
  }
}

/** A verdict in words; no verdict says why and names the accounts missing: "no verdict (incomplete data: main)". */
function verdictWords(s: Speaker, v: KpiReview['verdict']): string {
  const word = statusWords(s, v.status)
  const note = v.status === 'unknown' ? reasonNote(s, v.reason, v.missingAccounts ?? [], v.problem ?? null) : null
  return note ? s.t('status.with_reason', { status: word, reason: note }) : word
}

/** One KPI in one line: "Facebook likes: missed — 6,480 of at least 9,000 (72%); −340 (−5%) vs October 2026". */
function kpiLine(s: Speaker, review: PeriodReview, kpi: KpiReview): string {
  const v = kpi.verdict
  return s.t('review.kpi', {
    name: kpi.name,
    verdict: `${verdictWords(s, v)}${v.stored ? '' : '*'}`,
    actual: amount(s, kpi, v.actual),
    target: targetText(s, kpi, v.target),
    attainment: wholePercent(s, v.attainment),
    change: changeText(s, review, kpi),
  })
}

function changeText(s: Speaker, review: PeriodReview, kpi: KpiReview): string {
  // without a verdict the number may count only some accounts: nothing to compare
  if (kpi.verdict.status === 'unknown') return DASH
  if (kpi.change === null || !kpi.previous) return s.t('review.change.no_previous')
  const previous = `${reviewPeriodName(s, review.kind, review.previous)}${kpi.previous.stored ? '' : '*'}`
  const delta = signedAmount(s, kpi, kpi.change)
  return kpi.changeShare === null ? s.t('review.change.plain', { delta, previous }) : s.t('review.change.with_share', { delta, share: signedShare(s, kpi.changeShare), previous })
}

function nextText(s: Speaker, review: PeriodReview, kpi: KpiReview): string[] {
  const n = kpi.next
  if (!n) return []
  // A level's change per day has its sign; an amount's per day is what it takes.
  const { origin } = kpiKind(kpi.kind)
  const perDay = (value: number | null) => (value === null ? null : origin === 'start' ? signedAmount(s, kpi, value) : amount(s, kpi, value))
  const next = reviewPeriodName(s, review.kind, n)
  const needed = perDay(n.perDay)
  const done = perDay(n.thisPerDay)
  let line: string
  if (needed === null) line = s.t('review.next.needs', { next, target: targetText(s, kpi, n.target) })
  else {
    const key = kpi.comparator === 'at_least' || origin === 'start' ? 'needs_per_day' : 'allows_per_day'
    line = s.t(`review.next.${key}${done === null ? '' : '_compared'}`, { next, perDay: needed, target: amount(s, kpi, n.target), thisPerDay: done ?? '' })
  }
  const trend = n.trendTarget === null ? s.t('review.next.no_trend') : s.t('review.next.trend', { periods: s.list(n.trendFrom), value: amount(s, kpi, n.trendTarget) })
  return [line, trend]
}

const summaryText = (s: Speaker, review: PeriodReview) => {
  const { objectivesMet, objectives, achieved, kpis, missed, unknown } = review.summary
  return s.t('review.summary', { met: objectivesMet, objectives, achieved, kpis, missed, unknown })
}

/** The headline: objectives met, KPIs achieved, and the KPI furthest from its target; provisional while late data may change it. */
function headline(s: Speaker, review: PeriodReview): string[] {
  const summary = summaryText(s, review)
  const furthest = review.objectives
    .flatMap((o) => o.kpis)
    .filter((k) => k.verdict.status === 'missed')
    .map((k) => ({ k, short: shortfall(k) ?? 0 }))
    .sort((a, b) => b.short - a.short)[0]
  const lines = [
    furthest
      ? s.t(`review.headline.${furthest.k.comparator === 'at_least' ? 'short_of' : 'over_limit'}`, { summary, kpi: furthest.k.name, short: wholePercent(s, furthest.short) })
      : s.t('review.headline.plain', { summary }),
  ]
  if (new Date(review.knownAt) < new Date(review.settlesAt)) lines.push(s.t('review.provisional', { until: s.dateTime(new Date(review.settlesAt)) }))
  return lines
}

const metOf = (o: ObjectiveReview) => (o.met === true ? 'met' : o.met === false ? 'not_met' : 'uncertain')

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

const postText = (s: Speaker, line: PostLine) => {
  const values = { post: line.objectId, account: line.accountId, gained: s.number(line.gained) }
  return line.createdAt ? s.t('review.posts.post_published', { ...values, date: s.date(new Date(line.createdAt)) }) : s.t('review.posts.post', values)
}

const dayFormats = new Map<string, Intl.DateTimeFormat>()

/** Local days (YYYY-MM-DD) as the language writes them, consecutive ones as ranges: "8–10 Nov and 20 Nov". */
function gapDays(s: Speaker, days: string[]): string {
  const ranges: Array<[string, string]> = []
  for (const day of days) {
    const last = ranges[ranges.length - 1]
    if (last && DateTime.fromISO(last[1], { zone: 'UTC' }).plus({ days: 1 }).toISODate() === day) last[1] = day
    else ranges.push([day, day])
  }
  // The days are already the plan's: written as calendar days, in UTC.
  let format = dayFormats.get(s.locale)
  if (!format) {
    format = new Intl.DateTimeFormat(s.locale, { day: 'numeric', month: 'short', timeZone: 'UTC' })
    dayFormats.set(s.locale, format)
  }
  const day = (iso: string) => new Date(`${iso}T00:00:00Z`)
  const shown = ranges.slice(0, 8).map(([a, b]) => (a === b ? format.format(day(a)) : format.formatRange(day(a), day(b))))
  return ranges.length > 8 ? s.t('review.gaps.more', { days: new Intl.ListFormat(s.locale, { type: 'unit', style: 'short' }).format(shown) }) : s.list(shown)
}

const kpiName = (review: PeriodReview, id: string) => review.objectives.flatMap((o) => o.kpis).find((k) => k.id === id)?.name ?? id

function gapText(s: Speaker, review: PeriodReview, g: PeriodReview['gaps'][number]): string {
  const account = `${g.network}/${g.accountId}`
  const kpis = s.list(g.kpiIds.map((id) => kpiName(review, id)))
  if (g.shape === 'counter') return s.t('review.gaps.unread_posts', { account, metric: g.metric, kpis })
  const all = g.missingDays.length === g.days
  return s.t(`review.gaps.${all ? 'all' : 'some'}`, { account, metric: g.metric, days: gapDays(s, g.missingDays), missing: g.missingDays.length, total: g.days, count: g.kpiIds.length, kpis })
}

/** An alert or crisis of the period, from when to when: "KPI Likes this month: at risk, from 20 Nov 2026, 12:00 GMT+7 to …". */
function alertText(s: Speaker, review: PeriodReview, a: AlertEpisode): string {
  const alert =
    a.kind === 'kpi'
      ? s.t('review.alerts.kpi', { subject: kpiName(review, a.subject), status: statusWords(s, a.label) })
      : a.kind === 'crisis'
        ? s.t('review.alerts.crisis', { subject: a.subject, accounts: s.list(a.label.split(',').filter(Boolean)) })
        : s.t(`review.alerts.${a.kind}`, { subject: a.subject })
  const values = { alert, from: s.dateTime(new Date(a.firedAt)), silenced: a.silenced ? 'yes' : 'no' }
  return a.resolvedAt ? s.t('review.alerts.resolved', { ...values, to: s.dateTime(new Date(a.resolvedAt)) }) : s.t('review.alerts.open', values)
}

function silenceText(s: Speaker, silence: PeriodReview['silences'][number]): string {
  const values = { what: silence.what, when: s.period(new Date(silence.startsAt), new Date(silence.endsAt)), reason: silence.reason }
  return silence.createdBy ? s.t('review.silences.line_by', { ...values, by: silence.createdBy }) : s.t('review.silences.line', values)
}

const builtFrom = (s: Speaker, review: PeriodReview) => s.t('review.built_from', { knownAt: s.dateTime(new Date(review.knownAt)) })
const titleOf = (s: Speaker, review: PeriodReview) => s.t('review.title', { period: reviewPeriodName(s, review.kind, review.period), company: review.company })
const judgedAnywhere = (review: PeriodReview) => review.objectives.some((o) => o.kpis.some((k) => !k.verdict.stored || (k.previous && !k.previous.stored)))

/** The review as plain text: the terminal's `report` and the email's text part. */
export function reviewText(review: PeriodReview, language: string): string {
  const s = reviewSpeaker(review, language)
  const title = titleOf(s, review)
  const out: string[] = [title, '='.repeat(title.length), '', ...headline(s, review), '']
  out.push(`## ${s.t('review.sections.objectives')}`, '')
  for (const objective of review.objectives) {
    out.push(s.t('review.objective.heading', { objective: objective.name, met: s.t(`review.objective.${metOf(objective)}`) }))
    for (const kpi of objective.kpis) {
      out.push(`  - ${kpiLine(s, review, kpi)}`)
      for (const line of nextText(s, review, kpi)) out.push(`      ${line}`)
    }
    for (const group of actionGroups(objective)) {
      out.push(`  ${s.t('review.plan_actions', { kpis: s.list(group.kpis) })}`)
      group.actions.forEach((action, i) => {
        out.push(`    ${i + 1}. ${action}`)
      })
    }
    out.push('')
  }
  if (judgedAnywhere(review)) out.push(s.t('review.judged_note'), '')
  out.push(`## ${s.t('review.sections.posts')}`, '')
  if (review.posts.length === 0) out.push(s.t('review.posts.none'))
  for (const posts of review.posts) {
    out.push(s.t('review.posts.line', { network: posts.network, metric: posts.metric, total: s.number(posts.total), count: posts.counted }))
    if (posts.top.length) out.push(`  ${s.t('review.posts.top')}`, ...posts.top.map((p, i) => `    ${i + 1}. ${postText(s, p)}`))
    if (posts.flat.length) out.push(`  ${s.t('review.posts.flat')}`, ...posts.flat.map((p, i) => `    ${i + 1}. ${postText(s, p)}`))
  }
  out.push('', `## ${s.t('review.sections.alerts')}`, '')
  if (review.alerts.length === 0) out.push(s.t('review.alerts.none'))
  for (const a of review.alerts) out.push(`- ${alertText(s, review, a)}`)
  out.push('', `## ${s.t('review.sections.silences')}`, '')
  if (review.silences.length === 0) out.push(s.t('review.silences.none'))
  for (const silence of review.silences) out.push(`- ${silenceText(s, silence)}`)
  out.push('', `## ${s.t('review.sections.certainty')}`, '')
  if (review.gaps.length === 0) out.push(s.t('review.gaps.none'))
  else {
    for (const g of review.gaps) out.push(`- ${gapText(s, review, g)}`)
    out.push('', s.t('review.gaps.note'))
  }
  out.push('', builtFrom(s, review))
  return out.join('\n')
}

/**
 * The review as HTML. `image(cid, chart)` gives each objective chart's `src`: `cid:` in the email,
 * a data: URI in a standalone page.
 */
export function reviewHtml(review: PeriodReview, language: string, image: (cid: string, chart: ReviewChart) => string): string {
  const s = reviewSpeaker(review, language)
  const e = escapeHtml
  const title = titleOf(s, review)
  const color = { achieved: '#1a7f37', missed: '#cf222e', unknown: '#6e7781' }
  const metColor = { met: color.achieved, not_met: color.missed, uncertain: color.unknown }
  const parts: string[] = []
  parts.push(`<h1 style="font-size:22px;margin:0 0 8px">${e(title)}</h1>`)
  for (const [i, line] of headline(s, review).entries()) parts.push(`<p style="${i === 0 ? 'font-size:16px' : 'color:#9a6700'};margin:0 0 12px">${e(line)}</p>`)
  parts.push(`<h2 style="font-size:18px">${e(s.t('review.sections.objectives'))}</h2>`)
  const columns = ['kpi', 'verdict', 'actual', 'target', 'attainment', 'previous'].map((c) => s.t(`review.columns.${c}`))
  for (const objective of review.objectives) {
    const met = metOf(objective)
    const heading = s.t('review.objective.heading', { objective: e(objective.name), met: `<span style="color:${metColor[met]}">${e(s.t(`review.objective.${met}`))}</span>` })
    parts.push(`<h3 style="font-size:16px;margin:16px 0 4px">${heading}</h3>`)
    if (objective.description) parts.push(`<p style="color:#555;margin:0 0 8px">${e(objective.description)}</p>`)
    const chart = objectiveChart(review, objective, s)
    if (chart) {
      const size = reviewChartSize(chart)
      parts.push(
        `<p><img src="${e(image(reviewChartCid(objective.id), chart))}" width="${size.width}" height="${size.height}" alt="${e(s.t('review.chart.alt', { objective: objective.name }))}" style="max-width:100%;height:auto;border:0"></p>`,
      )
    }
    parts.push(`<table cellpadding="4" style="border-collapse:collapse;font-size:14px"><tr>${columns.map((h) => `<th align="left" style="border-bottom:1px solid #ddd">${e(h)}</th>`).join('')}</tr>`)
    for (const kpi of objective.kpis) {
      const v = kpi.verdict
      parts.push(
        `<tr><td>${e(kpi.name)}</td><td style="color:${color[v.status]};font-weight:bold">${e(verdictWords(s, v))}${v.stored ? '' : '*'}</td><td align="right">${e(amount(s, kpi, v.actual))}</td><td>${e(targetText(s, kpi, v.target))}</td><td align="right">${e(wholePercent(s, v.attainment))}</td><td>${e(changeText(s, review, kpi))}</td></tr>`,
      )
    }
    parts.push('</table>')
    const missed = objective.kpis.filter((k) => k.next)
    if (missed.length) {
      parts.push(`<p style="margin:8px 0 4px"><b>${e(s.t('review.next.title'))}</b></p><ul style="margin:0">`)
      for (const kpi of missed) parts.push(`<li><b>${e(kpi.name)}</b>: ${nextText(s, review, kpi).map(e).join(' ')}</li>`)
      parts.push('</ul>')
    }
    for (const group of actionGroups(objective)) {
      parts.push(
        `<p style="margin:8px 0 4px"><b>${e(s.t('review.plan_actions', { kpis: s.list(group.kpis) }))}</b></p><ol style="margin:0">${group.actions.map((a) => `<li>${e(a)}</li>`).join('')}</ol>`,
      )
    }
  }
  if (judgedAnywhere(review)) parts.push(`<p style="color:#555;font-size:12px">${e(s.t('review.judged_note'))}</p>`)
  parts.push(`<h2 style="font-size:18px">${e(s.t('review.sections.posts'))}</h2>`)
  if (review.posts.length === 0) parts.push(`<p>${e(s.t('review.posts.none'))}</p>`)
  for (const posts of review.posts) {
    parts.push(`<h3 style="font-size:15px;margin:12px 0 4px">${e(s.t('review.posts.line', { network: posts.network, metric: posts.metric, total: s.number(posts.total), count: posts.counted }))}</h3>`)
    if (posts.top.length) parts.push(`<p style="margin:4px 0">${e(s.t('review.posts.top'))}</p><ol style="margin:0">${posts.top.map((p) => `<li>${e(postText(s, p))}</li>`).join('')}</ol>`)
    if (posts.flat.length) parts.push(`<p style="margin:4px 0">${e(s.t('review.posts.flat'))}</p><ol style="margin:0">${posts.flat.map((p) => `<li>${e(postText(s, p))}</li>`).join('')}</ol>`)
  }
  parts.push(`<h2 style="font-size:18px">${e(s.t('review.sections.alerts'))}</h2>`)
  parts.push(review.alerts.length === 0 ? `<p>${e(s.t('review.alerts.none'))}</p>` : `<ul>${review.alerts.map((a) => `<li>${e(alertText(s, review, a))}</li>`).join('')}</ul>`)
  parts.push(`<h2 style="font-size:18px">${e(s.t('review.sections.silences'))}</h2>`)
  parts.push(review.silences.length === 0 ? `<p>${e(s.t('review.silences.none'))}</p>` : `<ul>${review.silences.map((x) => `<li>${e(silenceText(s, x))}</li>`).join('')}</ul>`)
  parts.push(`<h2 style="font-size:18px">${e(s.t('review.sections.certainty'))}</h2>`)
  if (review.gaps.length === 0) parts.push(`<p>${e(s.t('review.gaps.none'))}</p>`)
  else {
    parts.push(`<ul>${review.gaps.map((g) => `<li>${e(gapText(s, review, g))}</li>`).join('')}</ul>`)
    parts.push(`<p style="color:#555">${e(s.t('review.gaps.note'))}</p>`)
  }
  parts.push(`<p style="color:#555;font-size:12px">${e(builtFrom(s, review))}</p>`)
  return `<!doctype html><html lang="${e(language)}"><head><meta charset="utf-8"><title>${e(title)}</title></head><body style="font-family:sans-serif;max-width:760px">\n${parts.join('\n')}\n</body></html>`
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
export function renderReviewEmail(review: PeriodReview, language: string): ReviewEmail {
  const s = reviewSpeaker(review, language)
  const charts: NonNullable<ReviewEmail['charts']> = []
  const html = reviewHtml(review, language, (cid, chart) => {
    charts.push({ cid, chart })
    return `cid:${cid}`
  })
  const attached = s.t('review.csv_attachment')
  return {
    // The [social-kpi] prefix is machine text: mail filters rely on it.
    subject: `[social-kpi] ${s.t('review.subject', { period: reviewPeriodName(s, review.kind, review.period), summary: summaryText(s, review) })}`,
    text: `${reviewText(review, language)}\n\n${attached}`,
    html: html.replace('</body>', `<p style="color:#555;font-size:12px">${escapeHtml(attached)}</p></body>`),
    charts,
    attachments: [{ filename: `${reviewFileName(review)}.csv`, contentType: 'text/csv; charset=utf-8', content: CSV_BOM + reviewCsv(review) }],
  }
}
