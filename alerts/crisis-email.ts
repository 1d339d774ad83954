import { DateTime } from 'luxon'
import type { CrisisTrigger } from '../plan/crisis-schema.ts'
import type { CrisisEvaluation } from '../kpi/crisis.ts'
import type { Plan, PlanAccount } from '../plan/plan.ts'
import { escapeHtml, type RenderedEmail } from './email.ts'
import type { AlertEvent } from './rules.ts'

const n = (value: number) => value.toLocaleString('en-US', { maximumFractionDigits: 1 })

/** The trigger in words, as the guide means it. */
export function describeTrigger(trigger: CrisisTrigger): string {
  switch (trigger.kind) {
    case 'follower_drop':
      return `followers fall more than ${n(trigger.dropPercent)} % within ${n(trigger.windowHours)} h`
    case 'negative_reactions':
      return `${trigger.metric} more than ${n(trigger.deviations)} deviations above the usual for the same weekday and hour (last ${trigger.baselineWeeks} weeks)`
    case 'engagement_collapse':
      return `${trigger.metric} more than ${n(trigger.dropPercent)} % below the usual for the same weekday and hour (last ${trigger.baselineWeeks} weeks)`
  }
}

/**
 * The email to the crisis guide's contacts: what fired and why, the accounts and the time window,
 * then the guide's steps in order and who to call. A resolved notice names what cleared.
 */
export function renderCrisisEmail(plan: Plan, evaluation: CrisisEvaluation, event: AlertEvent, context: { accounts: PlanAccount[]; since: Date; grafanaUrl?: string }): RenderedEmail {
  const guide = plan.crisis
  const zone = plan.company.timezone
  const when = (date: Date) => `${DateTime.fromJSDate(date, { zone }).toFormat('yyyy-MM-dd HH:mm')} ${zone}`
  const { trigger } = evaluation
  const names = context.accounts.map((a) => a.name).join(', ') || 'no account'
  const subject =
    event === 'resolved'
      ? `[social-kpi] RESOLVED CRISIS: ${names} — ${describeTrigger(trigger)} no longer holds`
      : `[social-kpi] CRISIS${event === 'repeat' ? ' STILL OPEN' : ''}: ${names} — ${describeTrigger(trigger)}`
  const lines: Array<[string, string]> = [
    ['Trigger', `${trigger.id}: ${describeTrigger(trigger)}`],
    ['Accounts', context.accounts.map((a) => `${a.name} (${a.id}) on ${a.network}`).join('; ') || 'none'],
  ]
  if (event === 'resolved') {
    lines.push(['Status', `resolved: ${evaluation.reason}`], ['Open since', when(context.since)], ['Resolved at', when(evaluation.evaluatedAt)])
  } else {
    lines.push(
      ['What happened', evaluation.reason],
      ['Time window', evaluation.window ? `${when(evaluation.window.from)} – ${when(evaluation.window.to)}` : 'unknown'],
      ['Detected at', when(evaluation.evaluatedAt)],
      ['Meanwhile', `ordinary KPI alerts on ${names} are held until this crisis is resolved`],
    )
  }
  const steps = event === 'resolved' ? [] : (guide?.steps ?? [])
  const contacts = (guide?.contacts ?? []).map((c) => [c.name, c.role, c.email, c.phone].filter(Boolean).join(', '))
  const footer = context.grafanaUrl ? [`Dashboard: ${context.grafanaUrl.replace(/\/$/, '')}/d/social-kpi-overview`] : []

  const text = [
    ...lines.map(([label, value]) => `${label}: ${value}`),
    ...(steps.length ? ['', 'Steps of the crisis guide, in order:', ...steps.map((step, i) => `  ${i + 1}. ${step}`)] : []),
    ...(contacts.length ? ['', 'Crisis contacts:', ...contacts.map((c) => `  - ${c}`)] : []),
    ...(footer.length ? ['', ...footer] : []),
  ].join('\n')
  const html = `<!doctype html><html><body style="font-family:sans-serif">
<h2 style="margin:0 0 12px;color:${event === 'resolved' ? '#2e7d32' : '#c62828'}">${escapeHtml(subject)}</h2>
<table cellpadding="4" style="border-collapse:collapse">${lines.map(([label, value]) => `<tr><th align="left" valign="top">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`).join('')}</table>
${steps.length ? `<h3>Steps of the crisis guide, in order</h3><ol>${steps.map((step) => `<li>${escapeHtml(step)}</li>`).join('')}</ol>` : ''}
${contacts.length ? `<h3>Crisis contacts</h3><ul>${contacts.map((c) => `<li>${escapeHtml(c)}</li>`).join('')}</ul>` : ''}
${footer.map((line) => `<p style="color:#555">${escapeHtml(line)}</p>`).join('')}
</body></html>`
  return { subject, text, html }
}
