import type { KpiEvaluation } from '../kpi/evaluate.ts'
import { KPI_STATUS_MEANINGS, KPI_STATUSES, severityRank } from '../kpi/statuses.ts'
import { planSpeaker, type Plan } from '../plan/plan.ts'
import { escapeHtml, kpiEmailParts, SUBJECT_TAG, type RenderedEmail } from './email.ts'
import type { AlertEvent } from './rules.ts'

export interface GroupedAlert {
  evaluation: KpiEvaluation
  event: AlertEvent
}

const EVENT_ORDER: Record<AlertEvent, number> = { firing: 0, repeat: 1, resolved: 2 }
/** The summary's counts: each failing status, the worst first ("2 missed, 1 at risk"), then the resolved ones (email.group.count). */
const COUNTED: Array<[string, (a: GroupedAlert) => boolean]> = [
  ...KPI_STATUSES.filter((status) => KPI_STATUS_MEANINGS[status].failing)
    .sort((a, b) => severityRank(b) - severityRank(a))
    .map((status): [string, (a: GroupedAlert) => boolean] => [status, (a) => a.event !== 'resolved' && a.evaluation.status === status]),
  ['resolved', (a) => a.event === 'resolved'],
]

/**
 * One email for the KPI alerts of one evaluation that share a group (an objective, or the whole
 * plan) and recipients: a summary line per KPI at the top, then each KPI as its own email would
 * show it (forecast in words, the numbers, what the plan says to do). Charts are left to the
 * single-KPI emails: one email carries one inline chart.
 */
export function renderGroupEmail(plan: Plan, title: string, alerts: GroupedAlert[], options: { grafanaUrl?: string } = {}): RenderedEmail {
  const sorted = [...alerts].sort((a, b) => EVENT_ORDER[a.event] - EVENT_ORDER[b.event] || a.evaluation.kpi.id.localeCompare(b.evaluation.kpi.id))
  const speaker = planSpeaker(plan)
  const parts = sorted.map((alert) => kpiEmailParts(plan, alert.evaluation, alert.event, options))
  const headline = (subject: string) => subject.replace(`${SUBJECT_TAG} `, '')
  const counts = COUNTED.map(([status, test]) => [status, sorted.filter(test).length] as const)
    .filter(([, n]) => n > 0)
    .map(([status, n]) => speaker.t('email.group.count', { status, count: speaker.number(n) }))
  const subject = `${SUBJECT_TAG} ${speaker.t('email.group.subject', { title, counts: counts.join(', '), total: sorted.length })}`
  const actionsTitle = speaker.t('email.kpi.actions')

  const text = [
    speaker.t('email.group.intro', { total: sorted.length, title }),
    ...parts.map((p) => `  - ${headline(p.subject)}`),
    ...parts.flatMap((p) => [
      '',
      `=== ${headline(p.subject)} ===`,
      ...(p.lead.length ? [...p.lead, ''] : []),
      ...p.lines.map(([label, value]) => `${label}: ${value}`),
      ...(p.actions.length ? ['', `${actionsTitle}:`, ...p.actions.map((item, i) => `  ${i + 1}. ${item}`)] : []),
      ...(p.link ? ['', speaker.t('email.kpi.dashboard', { link: p.link })] : []),
    ]),
  ].join('\n')

  const section = (p: (typeof parts)[number]) => `<hr>
<h3 style="margin:12px 0">${escapeHtml(headline(p.subject))}</h3>
${p.lead.map((line) => `<p style="color:#333;margin:0 0 12px">${escapeHtml(line)}</p>`).join('')}
<table cellpadding="4" style="border-collapse:collapse">${p.lines.map(([label, value]) => `<tr><th align="left">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`).join('')}</table>
${p.actions.length ? `<h4>${escapeHtml(actionsTitle)}</h4><ol>${p.actions.map((item) => `<li>${escapeHtml(item)}</li>`).join('')}</ol>` : ''}
${p.link ? `<p><a href="${escapeHtml(p.link)}">${escapeHtml(speaker.t('email.kpi.open_dashboard'))}</a></p>` : ''}`
  const html = `<!doctype html><html><body style="font-family:sans-serif">
<h2 style="margin:0 0 12px">${escapeHtml(subject)}</h2>
<ul>${parts.map((p) => `<li>${escapeHtml(headline(p.subject))}</li>`).join('')}</ul>
${parts.map(section).join('\n')}
</body></html>`
  return { subject, text, html }
}
