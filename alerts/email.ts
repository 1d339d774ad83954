import { DateTime } from 'luxon'
import type { KpiEvaluation } from '../kpi/evaluate.ts'
import type { Plan } from '../kpi/plan.ts'
import type { AlertEvent } from './rules.ts'

export interface RenderedEmail {
  subject: string
  text: string
  html: string
}

const STATUS_WORDS: Record<string, string> = {
  on_track: 'on track',
  at_risk: 'at risk',
  achieved: 'achieved',
  missed: 'missed',
  unknown: 'unknown (no data)',
}

const number = (value: number | null, digits = 0) =>
  value === null ? 'no data' : value.toLocaleString('en-US', { maximumFractionDigits: Math.abs(value) < 1 ? 4 : digits })

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

function render(subject: string, lines: Array<[string, string]>, list: { title: string; items: string[] } | undefined, footer: string[]): RenderedEmail {
  const text = [
    ...lines.map(([label, value]) => `${label}: ${value}`),
    ...(list && list.items.length ? ['', `${list.title}:`, ...list.items.map((item, i) => `  ${i + 1}. ${item}`)] : []),
    ...(footer.length ? ['', ...footer] : []),
  ].join('\n')
  const html = `<!doctype html><html><body style="font-family:sans-serif">
<h2 style="margin:0 0 12px">${escapeHtml(subject)}</h2>
<table cellpadding="4" style="border-collapse:collapse">${lines.map(([label, value]) => `<tr><th align="left">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`).join('')}</table>
${list && list.items.length ? `<h3>${escapeHtml(list.title)}</h3><ol>${list.items.map((item) => `<li>${escapeHtml(item)}</li>`).join('')}</ol>` : ''}
${footer.map((line) => `<p style="color:#555">${escapeHtml(line)}</p>`).join('')}
</body></html>`
  return { subject, text, html }
}

/** The email for a KPI alert: which KPI, actual vs target vs expected-to-date, the period, and what the plan says to do. */
export function renderKpiEmail(plan: Plan, evaluation: KpiEvaluation, event: AlertEvent, options: { grafanaUrl?: string } = {}): RenderedEmail {
  const { kpi, period } = evaluation
  const objective = plan.objectives.find((o) => o.id === kpi.objective)
  const zone = plan.company.timezone
  const when = (date: Date) => DateTime.fromJSDate(date, { zone }).toFormat('yyyy-MM-dd HH:mm')
  const status = STATUS_WORDS[evaluation.status] ?? evaluation.status
  const digits = kpi.kind === 'rate' ? 4 : 0
  const prefix = event === 'resolved' ? 'RESOLVED' : event === 'repeat' ? `STILL ${status.toUpperCase()}` : status.toUpperCase()
  const subject = `[social-kpi] ${prefix}: ${kpi.name} — ${number(evaluation.actual, digits)} of ${number(kpi.target, digits)}${
    evaluation.expectedToDate !== null && kpi.kind !== 'rate' && event !== 'resolved' ? ` (expected ${number(evaluation.expectedToDate, digits)} by now)` : ''
  }`
  const elapsed = Math.round(((Math.min(evaluation.evaluatedAt.getTime(), period.end.getTime()) - period.start.getTime()) / (period.end.getTime() - period.start.getTime())) * 100)
  const lines: Array<[string, string]> = [
    ['KPI', `${kpi.name} (${kpi.id})`],
    ['Objective', objective ? objective.name : kpi.objective],
    ['Status', status],
    ['Network', `${kpi.network}, metric ${kpi.metric}${kpi.denominator ? ` ÷ ${kpi.denominator}` : ''} (${kpi.kind})`],
    ['Period', `${period.label}: ${when(period.start)} – ${when(period.end)} ${zone} (${elapsed}% elapsed)`],
    ['Actual', number(evaluation.actual, digits)],
    ['Target', `${kpi.comparator === 'at_least' ? 'at least' : 'at most'} ${number(kpi.target, digits)}`],
    ['Expected by now', number(evaluation.expectedToDate, digits)],
    ['Evaluated at', `${when(evaluation.evaluatedAt)} ${zone}`],
  ]
  const actions = kpi.actions ?? objective?.actions ?? []
  const footer = options.grafanaUrl ? [`Dashboard: ${options.grafanaUrl.replace(/\/$/, '')}/d/social-kpi-overview?var-kpi=${encodeURIComponent(kpi.id)}`] : []
  return render(subject, lines, event === 'resolved' ? undefined : { title: 'What the plan says to do', items: actions }, footer)
}

/** The email for an account that stopped collecting because its token or permissions were refused. */
export function renderSourceEmail(
  source: { network: string; accountId: string; accountName: string; errorCode: string; error: string; advice: string; since: Date },
  event: AlertEvent,
): RenderedEmail {
  const subject =
    event === 'resolved'
      ? `[social-kpi] RESOLVED: ${source.network} account "${source.accountName}" collects again`
      : `[social-kpi] ACTION NEEDED: ${source.network} account "${source.accountName}" cannot be collected (${source.errorCode})`
  const lines: Array<[string, string]> = [
    ['Account', `${source.accountName} (${source.accountId}) on ${source.network}`],
    ['Status', event === 'resolved' ? 'collecting again' : 'unhealthy: not collected'],
    ['Since', source.since.toISOString()],
  ]
  if (event !== 'resolved') {
    lines.push(['Error', `${source.errorCode}: ${source.error}`], ['What to do', source.advice], ['Other accounts', 'still collected as usual'])
  }
  return render(subject, lines, undefined, [])
}

/** The email for an account whose newest data is older than its schedule allows. */
export function renderFreshnessEmail(
  source: { network: string; accountId: string; accountName: string; lastSuccessAt: Date | null; staleAfterMs: number; lastError: string; quotaResetsAt: Date | null; since: Date },
  event: AlertEvent,
): RenderedEmail {
  const subject =
    event === 'resolved'
      ? `[social-kpi] RESOLVED: ${source.network} account "${source.accountName}" has fresh data again`
      : `[social-kpi] STALE DATA: ${source.network} account "${source.accountName}" has not been collected since ${source.lastSuccessAt ? source.lastSuccessAt.toISOString() : 'it was added'}`
  const lines: Array<[string, string]> = [
    ['Account', `${source.accountName} (${source.accountId}) on ${source.network}`],
    ['Last successful collection', source.lastSuccessAt ? source.lastSuccessAt.toISOString() : 'never'],
  ]
  if (event !== 'resolved') {
    lines.push(['Expected', `at least every ${Math.round(source.staleAfterMs / 60_000)} minutes`])
    if (source.lastError) lines.push(['Last error', source.lastError])
    if (source.quotaResetsAt) lines.push(['API quota', `exhausted; the API allows calls again from ${source.quotaResetsAt.toISOString()}`])
    lines.push(['Meanwhile', "this account's KPIs are judged on the data stored so far"])
  }
  return render(subject, lines, undefined, [])
}
