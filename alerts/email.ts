import { DateTime } from 'luxon'
import type { KpiChart } from '../core/queues.ts'
import { forecastForNote, type KpiEvaluation } from '../kpi/evaluate.ts'
import { kpiKind } from '../kpi/kinds/index.ts'
import { basisNote } from '../kpi/pacing.ts'
import { statusText, statusWords } from '../kpi/statuses.ts'
import { CHART_CID } from './chart.ts'
import { planSpeaker, type Plan } from '../plan/plan.ts'
import type { AlertEvent } from './rules.ts'

export interface RenderedEmail {
  subject: string
  text: string
  html: string
  /** The numbers of the KPI chart; the notify worker renders and attaches it (cid CHART_CID). */
  chart?: KpiChart
}

/** A KPI number in words: `no data`, `4,000`, `0.0312` (`digits`: the KPI kind's `decimals`); shared by every channel's rendering. */
export const number = (value: number | null, digits = 0) => (value === null ? 'no data' : value.toLocaleString('en-US', { maximumFractionDigits: Math.abs(value) < 1 ? 4 : digits }))

/** Text for HTML: every email's one escaping (alert, grouped, crisis and review emails). */
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

function render(
  subject: string,
  lines: Array<[string, string]>,
  list: { title: string; items: string[] } | undefined,
  footer: string[],
  extra: { lead?: string[]; chart?: boolean; link?: string } = {},
): RenderedEmail {
  const lead = extra.lead ?? []
  const text = [
    ...(lead.length ? [...lead, ''] : []),
    ...lines.map(([label, value]) => `${label}: ${value}`),
    ...(list?.items.length ? ['', `${list.title}:`, ...list.items.map((item, i) => `  ${i + 1}. ${item}`)] : []),
    ...(footer.length ? ['', ...footer] : []),
  ].join('\n')
  const html = `<!doctype html><html><body style="font-family:sans-serif">
<h2 style="margin:0 0 12px">${escapeHtml(subject)}</h2>
${lead.map((line, i) => `<p style="${i === 0 ? 'font-size:16px;margin:0 0 12px' : 'color:#333;margin:0 0 12px'}">${escapeHtml(line)}</p>`).join('')}
${extra.chart ? `<p>${extra.link ? `<a href="${escapeHtml(extra.link)}">` : ''}<img src="cid:${CHART_CID}" width="640" height="280" alt="Chart: actual vs target, the pace line and the forecast" style="max-width:100%;height:auto;border:0">${extra.link ? '</a>' : ''}</p>` : ''}
<table cellpadding="4" style="border-collapse:collapse">${lines.map(([label, value]) => `<tr><th align="left">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`).join('')}</table>
${list?.items.length ? `<h3>${escapeHtml(list.title)}</h3><ol>${list.items.map((item) => `<li>${escapeHtml(item)}</li>`).join('')}</ol>` : ''}
${extra.link ? `<p><a href="${escapeHtml(extra.link)}">Open the KPI on the dashboard</a></p>` : footer.map((line) => `<p style="color:#555">${escapeHtml(line)}</p>`).join('')}
</body></html>`
  return { subject, text, html }
}

/** The Grafana panel a KPI email links to: "Actual vs target vs expected to date" (dashboards/kpi-overview.json). */
export const KPI_PANEL = { dashboardUid: 'social-kpi-overview', panelId: 3 }

const signed = (value: number, digits: number) => `${value >= 0 ? '+' : '−'}${number(Math.abs(value), digits)}`
const percent = (fraction: number) => `${Math.round(Math.abs(fraction) * 100)}%`

/** "November", "Q4", "2026", "the week", "the day", "the period" (custom), in the plan's zone. */
function periodName(kpi: KpiEvaluation['kpi'], period: KpiEvaluation['period'], zone: string): string {
  const start = DateTime.fromJSDate(period.start, { zone })
  switch (kpi.period) {
    case 'month':
      return start.toFormat('LLLL')
    case 'quarter':
      return `Q${start.quarter}`
    case 'year':
      return String(start.year)
    case 'week':
      return 'the week'
    case 'day':
      return 'the day'
    default:
      return 'the period'
  }
}

/** What the KPI counts, in words: "followers", "followers gained", "likes", "reactions anger". */
const unitOf = (kpi: KpiEvaluation['kpi']) => kpiKind(kpi.kind).unit(kpi.metric.replace(/_/g, ' '))

/**
 * The forecast in a marketer's words: "On course to end March at 8,400 followers, 16% short of the
 * 10,000 target; needs +53/day from now, recent pace +31/day." Null without a forecast.
 */
function forecastSentence(evaluation: KpiEvaluation, zone: string): string | null {
  const { kpi, forecast } = evaluation
  if (!forecast) return null
  const perDay = Math.max(Math.abs(forecast.neededPerDay), Math.abs(forecast.recentPerDay)) < 10 ? 1 : 0
  const head = `On course to end ${periodName(kpi, evaluation.period, zone)} at ${number(forecast.end)} ${unitOf(kpi)}`
  const recent = `recent pace ${signed(forecast.recentPerDay, perDay)}/day`
  if (kpi.comparator === 'at_least') {
    if (forecast.end < kpi.target) return `${head}, ${percent(forecast.gap)} short of the ${number(kpi.target)} target; needs ${signed(forecast.neededPerDay, perDay)}/day from now, ${recent}.`
    return `${head}, ${percent(forecast.gap)} above the ${number(kpi.target)} target; ${signed(Math.max(0, forecast.neededPerDay), perDay)}/day from now would do, ${recent}.`
  }
  const allowance = forecast.neededPerDay <= 0 ? 'no more may be added' : `stays within it at no more than ${signed(forecast.neededPerDay, perDay)}/day from now`
  if (forecast.end > kpi.target) return `${head}, ${percent(forecast.gap)} over the ${number(kpi.target)} limit; ${allowance}, ${recent}.`
  return `${head}, ${percent(forecast.gap)} under the ${number(kpi.target)} limit; ${allowance}, ${recent}.`
}

/** The chart numbers for a KPI email (rendered to PNG at send time): actual, pace, target, forecast. */
function kpiChart(evaluation: KpiEvaluation, zone: string): KpiChart | undefined {
  const { kpi, period, forecast } = evaluation
  const history = evaluation.history ?? []
  const kind = kpiKind(kpi.kind)
  if (kind.trend === null || history.length < 2) return undefined
  const start = period.start.getTime()
  const length = period.end.getTime() - start
  const base = kind.origin === 'start' ? (evaluation.baseline ?? history[0]!.value) : 0
  const pace = kpi.pace
  const shares: Array<[number, number]> =
    pace === 'linear'
      ? [
          [0, 0],
          [1, 1],
        ]
      : [[0, 0], ...pace.curve.map((c, i): [number, number] => [(i + 1) / pace.curve.length, c])]
  const last = history[history.length - 1]!
  const numbers = [kpi.target, ...history.map((p) => p.value), ...(forecast ? [forecast.end, forecast.low, forecast.high] : []), evaluation.baseline ?? 0]
  // The payload schema takes finite numbers only; a chart is not worth failing the alert.
  if (!numbers.every(Number.isFinite)) return undefined
  return {
    title: `${kpi.name} · ${period.label}`,
    timezone: zone,
    start,
    end: period.end.getTime(),
    at: evaluation.evaluatedAt.getTime(),
    target: kpi.target,
    comparator: kpi.comparator,
    pace: shares.map(([f, share]) => [start + f * length, base + (kpi.target - base) * share]),
    actual: history.map((point) => [point.at.getTime(), point.value]),
    forecast: forecast ? { from: last.at.getTime(), current: last.value, end: forecast.end, low: forecast.low, high: forecast.high } : null,
  }
}

/** A link to the KPI's panel on the Grafana dashboard, over the KPI's period. */
function grafanaPanelUrl(grafanaUrl: string, evaluation: KpiEvaluation): string {
  const query = new URLSearchParams({
    viewPanel: String(KPI_PANEL.panelId),
    'var-kpi': evaluation.kpi.id,
    from: String(evaluation.period.start.getTime()),
    to: String(evaluation.period.end.getTime()),
  })
  return `${grafanaUrl.replace(/\/$/, '')}/d/${KPI_PANEL.dashboardUid}?${query.toString()}`
}

/** The pieces of a KPI alert email, shared by the single email and the grouped one (alerts/group-email.ts). */
export interface KpiEmailParts {
  subject: string
  /** The forecast in words and the objective, as opening paragraphs. */
  lead: string[]
  lines: Array<[string, string]>
  /** What the plan says to do; empty on a resolved notice. */
  actions: string[]
  link?: string
  chart?: KpiChart
}

export function kpiEmailParts(plan: Plan, evaluation: KpiEvaluation, event: AlertEvent, options: { grafanaUrl?: string } = {}): KpiEmailParts {
  const { kpi, period, forecast } = evaluation
  const objective = plan.objectives.find((o) => o.id === kpi.objective)
  const zone = plan.company.timezone
  const when = (date: Date) => DateTime.fromJSDate(date, { zone }).toFormat('yyyy-MM-dd HH:mm')
  const kind = kpiKind(kpi.kind)
  const speak = planSpeaker(plan)
  const status = statusWords(speak, evaluation.status)
  // Why, when the status alone would mislead: the forecast overruled the pace, or it is too early.
  const note = basisNote(speak, evaluation.status, evaluation.basis, kpi.comparator, forecastForNote(evaluation))
  const digits = kind.decimals
  const prefix = event === 'resolved' ? 'RESOLVED' : event === 'repeat' ? `STILL ${status.toUpperCase()}` : status.toUpperCase()
  const gap =
    event === 'resolved'
      ? ''
      : forecast && kind.trend !== null
        ? `, on course for ${number(forecast.end)} (${percent(forecast.gap)} ${kpi.comparator === 'at_least' ? (forecast.gap < 0 ? 'short' : 'above') : forecast.gap > 0 ? 'over' : 'under'})`
        : evaluation.expectedToDate !== null && kind.paced
          ? ` (expected ${number(evaluation.expectedToDate, digits)} by now)`
          : ''
  const subject = `[social-kpi] ${prefix}: ${kpi.name} — ${number(evaluation.actual, digits)} of ${number(kpi.target, digits)}${gap}`
  const elapsed = Math.round(((Math.min(evaluation.evaluatedAt.getTime(), period.end.getTime()) - period.start.getTime()) / (period.end.getTime() - period.start.getTime())) * 100)
  const perDay = forecast && Math.max(Math.abs(forecast.neededPerDay), Math.abs(forecast.recentPerDay)) < 10 ? 1 : 0
  const lines: Array<[string, string]> = [
    ['KPI', `${kpi.name} (${kpi.id})`],
    ['Objective', objective ? objective.name : kpi.objective],
    ['Status', note ? `${status}: ${note}` : statusText(speak, evaluation.status, evaluation.reason, evaluation.missingAccounts, 'long', evaluation.problem ?? null)],
    ['Network', `${kpi.network}, metric ${kpi.metric}${kpi.denominator ? ` ÷ ${kpi.denominator}` : ''} (${kpi.kind})`],
    ['Period', `${period.label}: ${when(period.start)} – ${when(period.end)} ${zone} (${elapsed}% elapsed)`],
    ['Actual', number(evaluation.actual, digits)],
    ['Target', `${kpi.comparator === 'at_least' ? 'at least' : 'at most'} ${number(kpi.target, digits)}`],
    ['Expected by now', number(evaluation.expectedToDate, digits)],
  ]
  if (forecast) {
    lines.push(
      ['Forecast for the period end', `${number(forecast.end)} (80% range ${number(forecast.low)} – ${number(forecast.high)}, from the last ${forecast.steps} days)`],
      [kpi.comparator === 'at_least' ? 'Needed from now' : 'Allowed from now', `${signed(forecast.neededPerDay, perDay)}/day`],
      ['Recent pace', `${signed(forecast.recentPerDay, perDay)}/day`],
    )
  } else if (evaluation.forecastNote) {
    lines.push(['Forecast', evaluation.forecastNote])
  }
  lines.push(['Evaluated at', `${when(evaluation.evaluatedAt)} ${zone}`])
  const actions = event === 'resolved' ? [] : (kpi.actions ?? objective?.actions ?? [])
  const chart = event === 'resolved' ? undefined : kpiChart(evaluation, zone)
  const link = options.grafanaUrl ? grafanaPanelUrl(options.grafanaUrl, evaluation) : undefined
  const sentence = event === 'resolved' ? null : forecastSentence(evaluation, zone)
  const lead = [sentence, objective?.description ? `Objective: ${objective.name} — ${objective.description}` : null].filter((l): l is string => l !== null)
  return { subject, lead, lines, actions, ...(link ? { link } : {}), ...(chart ? { chart } : {}) }
}

/**
 * The email for a KPI alert: the forecast in words, actual vs target vs expected-to-date, the
 * period, a chart (attached inline at send time), what the plan says to do, and a dashboard link.
 */
export function renderKpiEmail(plan: Plan, evaluation: KpiEvaluation, event: AlertEvent, options: { grafanaUrl?: string } = {}): RenderedEmail {
  const parts = kpiEmailParts(plan, evaluation, event, options)
  return {
    ...render(parts.subject, parts.lines, event === 'resolved' ? undefined : { title: 'What the plan says to do', items: parts.actions }, parts.link ? [`Dashboard: ${parts.link}`] : [], {
      lead: parts.lead,
      chart: parts.chart !== undefined,
      link: parts.link,
    }),
    ...(parts.chart ? { chart: parts.chart } : {}),
  }
}

/** The line naming the KPIs an account leaves without a verdict while its data is missing (kpi/evaluate.ts). */
const withoutVerdict = (kpis: string[]): [string, string] => [
  'KPIs without a verdict',
  kpis.length ? `${kpis.join('; ')}: not judged on the other accounts until this one is collected again` : 'none at this evaluation',
]

/** Other accounts named in a source email at most; the rest are counted. */
const OTHERS_NAMED = 5

/**
 * The email for an account that stopped collecting because its token or permissions were refused.
 * `others` are the plan's other accounts that had a problem at their last collection (or were never
 * collected), with it in words: the email says only what the source health shows about them.
 */
export function renderSourceEmail(
  source: { network: string; accountId: string; accountName: string; errorCode: string; error: string; advice: string; since: Date; kpisWithoutVerdict?: string[] },
  event: AlertEvent,
  others: Array<{ network: string; accountId: string; accountName: string; problem: string }> = [],
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
    lines.push(['Error', `${source.errorCode}: ${source.error}`], ['What to do', source.advice])
    const named = others.slice(0, OTHERS_NAMED).map((o) => `${o.accountName} (${o.network}/${o.accountId}): ${o.problem}`)
    if (others.length > OTHERS_NAMED) named.push(`and ${others.length - OTHERS_NAMED} more`)
    lines.push(others.length ? ['Other accounts with a problem', named.join('; ')] : ['Other accounts', 'none had a problem at its last collection'])
    if (source.kpisWithoutVerdict) lines.push(withoutVerdict(source.kpisWithoutVerdict))
  }
  return render(subject, lines, undefined, [])
}

/** The email for an account that collects, but whose API refused metrics a KPI needs. */
export function renderDegradedEmail(
  source: { network: string; accountId: string; accountName: string; metrics: string[]; kpis: string[]; detail: string; since: Date },
  event: AlertEvent,
): RenderedEmail {
  const subject =
    event === 'resolved'
      ? `[social-kpi] RESOLVED: ${source.network} account "${source.accountName}" gives every metric again`
      : `[social-kpi] DEGRADED: ${source.network} account "${source.accountName}" gives no ${source.metrics.join(', ')}`
  const lines: Array<[string, string]> = [
    ['Account', `${source.accountName} (${source.accountId}) on ${source.network}`],
    ['Status', event === 'resolved' ? 'collecting every metric' : 'degraded: collected, except the metrics below'],
    ['Since', source.since.toISOString()],
  ]
  if (event !== 'resolved') {
    lines.push(
      ['Metrics refused', source.metrics.join(', ')],
      ['KPIs without data', source.kpis.join('; ') || 'none'],
      ['What the API said, and what to do', source.detail],
      ['Other metrics', 'collected as usual'],
    )
  }
  return render(subject, lines, undefined, [])
}

/** The warning ahead of a credential's known end, and the notice once it was renewed. */
export function renderCredentialExpiryEmail(
  expiry: { account: { network: string; id: string; name: string }; what: string; endsAt: Date },
  event: AlertEvent,
  at: Date,
  advice: string,
): RenderedEmail {
  const { account } = expiry
  const days = Math.max(0, Math.floor((expiry.endsAt.getTime() - at.getTime()) / 86_400_000))
  const subject =
    event === 'resolved'
      ? `[social-kpi] RESOLVED: the ${expiry.what} of ${account.network} account "${account.name}" was renewed`
      : `[social-kpi] ACTION NEEDED: the ${expiry.what} of ${account.network} account "${account.name}" ${expiry.endsAt > at ? `expires in ${days} day${days === 1 ? '' : 's'}` : 'has expired'}`
  const lines: Array<[string, string]> = [['Account', `${account.name} (${account.id}) on ${account.network}`]]
  if (event !== 'resolved') {
    lines.push(['Ends', expiry.endsAt.toISOString()], ['What to do', advice], ['Until then', 'the account is collected as usual'])
  } else {
    lines.push(['Status', 'no end within the warning window'])
  }
  return render(subject, lines, undefined, [])
}

/** The email for an account whose newest data is older than its schedule allows. */
export function renderFreshnessEmail(
  source: {
    network: string
    accountId: string
    accountName: string
    lastSuccessAt: Date | null
    staleAfterMs: number
    lastError: string
    quotaResetsAt: Date | null
    since: Date
    /** The KPIs this account leaves without a verdict (status unknown, its data missing or stale). */
    kpisWithoutVerdict: string[]
  },
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
    lines.push(withoutVerdict(source.kpisWithoutVerdict))
  }
  return render(subject, lines, undefined, [])
}
