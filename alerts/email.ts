import { DateTime } from 'luxon'
import type { KpiChart } from '../core/queues.ts'
import { forecastForNote, type KpiEvaluation } from '../kpi/evaluate.ts'
import { kpiKind } from '../kpi/kinds/index.ts'
import { basisNote } from '../kpi/pacing.ts'
import { statusText, statusWords } from '../kpi/statuses.ts'
import { CHART_CID } from './chart.ts'
import { planSpeaker, type Plan } from '../plan/plan.ts'
import { kpiDisplay } from '../plan/units.ts'
import type { MessageValues, Speaker } from '../core/i18n/index.ts'
import type { AlertEvent } from './rules.ts'

export interface RenderedEmail {
  subject: string
  text: string
  html: string
  /** The numbers of the KPI chart; the notify worker renders and attaches it (cid CHART_CID). */
  chart?: KpiChart
}

/** Text for HTML: every email's one escaping (alert, grouped, crisis and review emails). */
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

function render(
  speaker: Speaker,
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
${extra.chart ? `<p>${extra.link ? `<a href="${escapeHtml(extra.link)}">` : ''}<img src="cid:${CHART_CID}" width="640" height="280" alt="${escapeHtml(speaker.t('email.kpi.chart_alt'))}" style="max-width:100%;height:auto;border:0">${extra.link ? '</a>' : ''}</p>` : ''}
<table cellpadding="4" style="border-collapse:collapse">${lines.map(([label, value]) => `<tr><th align="left">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`).join('')}</table>
${list?.items.length ? `<h3>${escapeHtml(list.title)}</h3><ol>${list.items.map((item) => `<li>${escapeHtml(item)}</li>`).join('')}</ol>` : ''}
${extra.link ? `<p><a href="${escapeHtml(extra.link)}">${escapeHtml(speaker.t('email.kpi.open_dashboard'))}</a></p>` : footer.map((line) => `<p style="color:#555">${escapeHtml(line)}</p>`).join('')}
</body></html>`
  return { subject, text, html }
}

/** The Grafana panel a KPI email links to: "Actual vs target vs expected to date" (dashboards/kpi-overview.json). */
export const KPI_PANEL = { dashboardUid: 'social-kpi-overview', panelId: 3 }

/** The tag before every subject: machine-readable, never translated (mail filters match it). */
export const SUBJECT_TAG = '[social-kpi]'
const tagged = (subject: string) => `${SUBJECT_TAG} ${subject}`
/** A tagged subject: the prefix words (RESOLVED, ACTION NEEDED, ...) and what happened. */
const headline = (speaker: Speaker, prefix: string, text: string) => tagged(speaker.t('email.headline', { prefix: speaker.t(`email.prefix.${prefix}`), text }))

/** "November", "Q4", "2026", "the week", "the day", "the period" (custom), in the plan's zone and language. */
function periodName(speaker: Speaker, kpi: KpiEvaluation['kpi'], period: KpiEvaluation['period']): string {
  const start = DateTime.fromJSDate(period.start, { zone: speaker.zone })
  const month = new Intl.DateTimeFormat(speaker.locale, { month: 'long', timeZone: speaker.zone }).format(period.start)
  return speaker.t('email.kpi.period_name', { period: typeof kpi.period === 'string' ? kpi.period : 'custom', month, quarter: start.quarter, year: String(start.year) })
}

/** A metric in words: "followers" / "pengikut"; one the catalogue does not name reads as its code. */
const metricName = (speaker: Speaker, metric: string) => {
  const key = `email.metric.${metric}`
  return speaker.has(key) ? speaker.t(key) : metric.replace(/_/g, ' ')
}

/**
 * What the KPI counts, in words: "followers", "followers gained", "likes" / "pengikut", "tambahan
 * pengikut", "suka". A metric or kind the catalogue does not name reads as the kind says it.
 */
function unitOf(speaker: Speaker, kpi: KpiEvaluation['kpi']): string {
  const metric = metricName(speaker, kpi.metric)
  const kindKey = `email.kind_unit.${kpi.kind}`
  return speaker.has(kindKey) ? speaker.t(kindKey, { metric }) : kpiKind(kpi.kind).unit(metric)
}

/** How a KPI's numbers read: its unit (a rate as a percentage, money in its currency) and its kind's decimals. */
function amounts(speaker: Speaker, evaluation: KpiEvaluation) {
  const display = kpiDisplay(evaluation.kpi, evaluation)
  const digits = kpiKind(evaluation.kpi.kind).decimals
  const { forecast } = evaluation
  // A pace of a few a day keeps one decimal: "+0.4/day", not "+0/day".
  const paceDigits = forecast && Math.max(Math.abs(forecast.neededPerDay), Math.abs(forecast.recentPerDay)) < 10 ? Math.max(digits, 1) : digits
  return {
    value: (value: number | null) => speaker.value(value, display, digits),
    perDay: (value: number) => speaker.t('common.per_day', { value: speaker.signed(value, display, paceDigits) }),
    gap: (fraction: number) => speaker.percent(Math.abs(fraction), 0),
  }
}

/**
 * The forecast in a marketer's words: "On course to end March at 8,400 followers, 16% short of the
 * 10,000 target; needs +53/day from now, recent pace +31/day." Null without a forecast.
 */
function forecastSentence(speaker: Speaker, evaluation: KpiEvaluation): string | null {
  const { kpi, forecast } = evaluation
  if (!forecast) return null
  const say = amounts(speaker, evaluation)
  const values = {
    period: periodName(speaker, kpi, evaluation.period),
    // A count says what it counts ("8,400 followers"); a rate or an amount of money says it by its sign.
    end: kpiDisplay(kpi, evaluation).unit === 'count' ? speaker.t('email.kpi.amount_of', { value: say.value(forecast.end), unit: unitOf(speaker, kpi) }) : say.value(forecast.end),
    gap: say.gap(forecast.gap),
    target: say.value(kpi.target),
    recent: say.perDay(forecast.recentPerDay),
  }
  if (kpi.comparator === 'at_least') {
    if (forecast.end < kpi.target) return speaker.t('email.kpi.lead_short', { ...values, needed: say.perDay(forecast.neededPerDay) })
    return speaker.t('email.kpi.lead_above', { ...values, needed: say.perDay(Math.max(0, forecast.neededPerDay)) })
  }
  const allowance = forecast.neededPerDay <= 0 ? speaker.t('email.kpi.allowance_none') : speaker.t('email.kpi.allowance', { needed: say.perDay(forecast.neededPerDay) })
  return speaker.t(forecast.end > kpi.target ? 'email.kpi.lead_over' : 'email.kpi.lead_under', { ...values, allowance })
}

/** The chart numbers for a KPI email (rendered to PNG at send time): actual, pace, target, forecast. */
function kpiChart(evaluation: KpiEvaluation, zone: string, language: string): KpiChart | undefined {
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
    language,
    ...(kpiDisplay(kpi, evaluation).unit === 'percent' ? { percent: true } : {}),
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
  const kind = kpiKind(kpi.kind)
  const speak = planSpeaker(plan)
  const say = amounts(speak, evaluation)
  const status = statusWords(speak, evaluation.status)
  // Why, when the status alone would mislead: the forecast overruled the pace, or it is too early.
  const note = basisNote(speak, evaluation.status, evaluation.basis, kpi.comparator, forecastForNote(evaluation))
  const prefix = event === 'resolved' ? speak.t('email.prefix.resolved') : speak.t(event === 'repeat' ? 'email.prefix.repeat' : 'email.prefix.firing', { status: evaluation.status })
  const heading = { prefix, name: kpi.name, actual: say.value(evaluation.actual), target: say.value(kpi.target) }
  const subject = tagged(
    event !== 'resolved' && forecast && kind.trend !== null
      ? speak.t('email.kpi.subject_forecast', {
          ...heading,
          end: say.value(forecast.end),
          gap: say.gap(forecast.gap),
          direction: kpi.comparator === 'at_least' ? (forecast.gap < 0 ? 'short' : 'above') : forecast.gap > 0 ? 'over' : 'under',
        })
      : event !== 'resolved' && evaluation.expectedToDate !== null && kind.paced
        ? speak.t('email.kpi.subject_expected', { ...heading, expected: say.value(evaluation.expectedToDate) })
        : speak.t('email.kpi.subject', heading),
  )
  const elapsed = (Math.min(evaluation.evaluatedAt.getTime(), period.end.getTime()) - period.start.getTime()) / (period.end.getTime() - period.start.getTime())
  const label = (key: string) => speak.t(`email.label.${key}`)
  const lines: Array<[string, string]> = [
    [label('kpi'), speak.t('email.kpi.kpi', { name: kpi.name, id: kpi.id })],
    [label('objective'), objective ? objective.name : kpi.objective],
    [
      label('status'),
      note ? speak.t('status.explained', { status, explanation: note }) : statusText(speak, evaluation.status, evaluation.reason, evaluation.missingAccounts, 'long', evaluation.problem ?? null),
    ],
    [
      label('network'),
      kpi.denominator
        ? speak.t('email.kpi.network_ratio', { network: kpi.network, metric: kpi.metric, denominator: kpi.denominator, kind: kpi.kind })
        : speak.t('email.kpi.network', { network: kpi.network, metric: kpi.metric, kind: kpi.kind }),
    ],
    [label('period'), speak.t('email.kpi.period', { label: period.label, range: speak.period(period.start, period.end), elapsed: speak.percent(elapsed, 0) })],
    [label('actual'), say.value(evaluation.actual)],
    [label('target'), speak.t(kpi.comparator === 'at_least' ? 'common.at_least' : 'common.at_most', { value: say.value(kpi.target) })],
    [label('expected'), say.value(evaluation.expectedToDate)],
  ]
  if (forecast) {
    lines.push(
      [label('forecast_end'), speak.t('email.kpi.forecast_end', { end: say.value(forecast.end), low: say.value(forecast.low), high: say.value(forecast.high), days: forecast.steps })],
      [label(kpi.comparator === 'at_least' ? 'needed' : 'allowed'), say.perDay(forecast.neededPerDay)],
      [label('recent'), say.perDay(forecast.recentPerDay)],
    )
  } else if (evaluation.forecastNote) {
    const { accountId, since } = evaluation.forecastNote
    lines.push([label('forecast'), speak.t('email.kpi.forecast_stopped', { metric: metricName(speak, kpi.metric), account: accountId, since: speak.date(since) })])
  }
  lines.push([label('evaluated_at'), speak.dateTime(evaluation.evaluatedAt)])
  const actions = event === 'resolved' ? [] : (kpi.actions ?? objective?.actions ?? [])
  const chart = event === 'resolved' ? undefined : kpiChart(evaluation, zone, speak.language)
  const link = options.grafanaUrl ? grafanaPanelUrl(options.grafanaUrl, evaluation) : undefined
  const sentence = event === 'resolved' ? null : forecastSentence(speak, evaluation)
  const lead = [sentence, objective?.description ? speak.t('email.kpi.objective_lead', { name: objective.name, description: objective.description }) : null].filter((l): l is string => l !== null)
  return { subject, lead, lines, actions, ...(link ? { link } : {}), ...(chart ? { chart } : {}) }
}

/**
 * The email for a KPI alert: the forecast in words, actual vs target vs expected-to-date, the
 * period, a chart (attached inline at send time), what the plan says to do, and a dashboard link.
 */
export function renderKpiEmail(plan: Plan, evaluation: KpiEvaluation, event: AlertEvent, options: { grafanaUrl?: string } = {}): RenderedEmail {
  const speaker = planSpeaker(plan)
  const parts = kpiEmailParts(plan, evaluation, event, options)
  return {
    ...render(
      speaker,
      parts.subject,
      parts.lines,
      event === 'resolved' ? undefined : { title: speaker.t('email.kpi.actions'), items: parts.actions },
      parts.link ? [speaker.t('email.kpi.dashboard', { link: parts.link })] : [],
      {
        lead: parts.lead,
        chart: parts.chart !== undefined,
        link: parts.link,
      },
    ),
    ...(parts.chart ? { chart: parts.chart } : {}),
  }
}

/** The line naming the KPIs an account leaves without a verdict while its data is missing (kpi/evaluate.ts). */
const withoutVerdict = (speaker: Speaker, kpis: string[]): [string, string] => [
  speaker.t('email.label.without_verdict'),
  kpis.length ? speaker.t('email.account.without_verdict', { kpis: kpis.join('; ') }) : speaker.t('email.account.without_verdict_none'),
]

/** An account in a source email's lines: "Brand (123) on facebook". */
const accountLine = (speaker: Speaker, account: { network: string; id: string; name: string }): [string, string] => [
  speaker.t('email.label.account'),
  speaker.t('email.account.on', { name: account.name, id: account.id, network: account.network }),
]

/** Other accounts named in a source email at most; the rest are counted. */
const OTHERS_NAMED = 5

/** Another account's problem as the source health shows it: its status and error code, or null when it was never collected. */
export type AccountProblem = { status: string; code: string } | null

/**
 * The email for an account that stopped collecting because its token or permissions were refused.
 * `others` are the plan's other accounts that had a problem at their last collection (or were never
 * collected), with it in words: the email says only what the source health shows about them.
 * `advice` is the collector's own, in the speaker's language (ingest/collectors `tokenAdvice`, catalogue `advice`);
 * the API's error beside it stays as the API said it.
 */
export function renderSourceEmail(
  speaker: Speaker,
  source: { network: string; accountId: string; accountName: string; errorCode: string; error: string; advice: string; since: Date; kpisWithoutVerdict?: string[] },
  event: AlertEvent,
  others: Array<{ network: string; accountId: string; accountName: string; problem: AccountProblem }> = [],
): RenderedEmail {
  const t = (key: string, values?: MessageValues) => speaker.t(key, values)
  const names = { network: source.network, name: source.accountName }
  const subject =
    event === 'resolved'
      ? headline(speaker, 'resolved', t('email.source.subject_resolved', names))
      : headline(speaker, 'action_needed', t('email.source.subject', { ...names, code: source.errorCode }))
  const lines: Array<[string, string]> = [
    accountLine(speaker, { network: source.network, id: source.accountId, name: source.accountName }),
    [t('email.label.status'), t(event === 'resolved' ? 'email.source.status_resolved' : 'email.source.status')],
    [t('email.label.since'), speaker.dateTime(source.since)],
  ]
  if (event !== 'resolved') {
    lines.push([t('email.label.error'), t('email.source.error', { code: source.errorCode, error: source.error })], [t('email.label.what_to_do'), source.advice])
    const problem = (p: AccountProblem) =>
      p === null ? t('email.account.not_collected') : p.code ? t('email.account.problem_code', { status: p.status, code: p.code }) : t('email.account.problem', { status: p.status })
    const named = others.slice(0, OTHERS_NAMED).map((o) => t('email.account.other', { name: o.accountName, network: o.network, id: o.accountId, problem: problem(o.problem) }))
    if (others.length > OTHERS_NAMED) named.push(t('email.account.more', { count: speaker.number(others.length - OTHERS_NAMED) }))
    lines.push(others.length ? [t('email.label.other_accounts_problem'), named.join('; ')] : [t('email.label.other_accounts'), t('email.source.others_none')])
    if (source.kpisWithoutVerdict) lines.push(withoutVerdict(speaker, source.kpisWithoutVerdict))
  }
  return render(speaker, subject, lines, undefined, [])
}

/**
 * The email for an account that collects, but whose API refused metrics a KPI needs. `detail` is
 * what the collector recorded (the API's refusal and its advice, English: ingest/collectors).
 */
export function renderDegradedEmail(
  speaker: Speaker,
  source: { network: string; accountId: string; accountName: string; metrics: string[]; kpis: string[]; detail: string; since: Date },
  event: AlertEvent,
): RenderedEmail {
  const t = (key: string, values?: MessageValues) => speaker.t(key, values)
  const names = { network: source.network, name: source.accountName }
  const subject =
    event === 'resolved'
      ? headline(speaker, 'resolved', t('email.degraded.subject_resolved', names))
      : headline(speaker, 'degraded', t('email.degraded.subject', { ...names, metrics: speaker.list(source.metrics) }))
  const lines: Array<[string, string]> = [
    accountLine(speaker, { network: source.network, id: source.accountId, name: source.accountName }),
    [t('email.label.status'), t(event === 'resolved' ? 'email.degraded.status_resolved' : 'email.degraded.status')],
    [t('email.label.since'), speaker.dateTime(source.since)],
  ]
  if (event !== 'resolved') {
    lines.push(
      [t('email.label.metrics_refused'), source.metrics.join(', ')],
      [t('email.label.kpis_without_data'), source.kpis.join('; ') || t('common.none')],
      [t('email.label.api_said'), source.detail],
      [t('email.label.other_metrics'), t('email.degraded.other_metrics')],
    )
  }
  return render(speaker, subject, lines, undefined, [])
}

/** The warning ahead of a credential's known end, and the notice once it was renewed. `advice` is ingest/auth's, in the speaker's language (credentialAdvice). */
export function renderCredentialExpiryEmail(
  speaker: Speaker,
  expiry: { account: { network: string; id: string; name: string }; what: string; endsAt: Date },
  event: AlertEvent,
  at: Date,
  advice: string,
): RenderedEmail {
  const t = (key: string, values?: MessageValues) => speaker.t(key, values)
  const { account } = expiry
  const days = Math.max(0, Math.floor((expiry.endsAt.getTime() - at.getTime()) / 86_400_000))
  const names = { what: t('email.credential.what', { what: expiry.what.replace(/ /g, '_') }), network: account.network, name: account.name }
  const subject =
    event === 'resolved'
      ? headline(speaker, 'resolved', t('email.credential.subject_resolved', names))
      : headline(speaker, 'action_needed', expiry.endsAt > at ? t('email.credential.subject_expires', { ...names, days }) : t('email.credential.subject_expired', names))
  const lines: Array<[string, string]> = [accountLine(speaker, account)]
  if (event !== 'resolved') {
    lines.push([t('email.label.ends'), speaker.dateTime(expiry.endsAt)], [t('email.label.what_to_do'), advice], [t('email.label.until_then'), t('email.credential.until_then')])
  } else {
    lines.push([t('email.label.status'), t('email.credential.status_resolved')])
  }
  return render(speaker, subject, lines, undefined, [])
}

/** The email for an account whose newest data is older than its schedule allows. `lastError` is the API's (English). */
export function renderFreshnessEmail(
  speaker: Speaker,
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
  const t = (key: string, values?: MessageValues) => speaker.t(key, values)
  const names = { network: source.network, name: source.accountName }
  const subject =
    event === 'resolved'
      ? headline(speaker, 'resolved', t('email.freshness.subject_resolved', names))
      : headline(speaker, 'stale', source.lastSuccessAt ? t('email.freshness.subject', { ...names, since: speaker.dateTime(source.lastSuccessAt) }) : t('email.freshness.subject_never', names))
  const lines: Array<[string, string]> = [
    accountLine(speaker, { network: source.network, id: source.accountId, name: source.accountName }),
    [t('email.label.last_success'), source.lastSuccessAt ? speaker.dateTime(source.lastSuccessAt) : t('common.never')],
  ]
  if (event !== 'resolved') {
    lines.push([t('email.label.expected_every'), t('email.freshness.every', { minutes: Math.round(source.staleAfterMs / 60_000) })])
    if (source.lastError) lines.push([t('email.label.last_error'), source.lastError])
    if (source.quotaResetsAt) lines.push([t('email.label.api_quota'), t('email.freshness.quota', { at: speaker.dateTime(source.quotaResetsAt) })])
    lines.push(withoutVerdict(speaker, source.kpisWithoutVerdict))
  }
  return render(speaker, subject, lines, undefined, [])
}
