import type { MessageValues, Speaker } from '../core/i18n/index.ts'
import type { CrisisEvaluation } from '../kpi/crisis.ts'
import type { CrisisTrigger } from '../plan/crisis-schema.ts'
import { planSpeaker, type Plan, type PlanAccount } from '../plan/plan.ts'
import { escapeHtml, SUBJECT_TAG, type RenderedEmail } from './email.ts'
import type { AlertEvent } from './rules.ts'

/** The trigger in words, as the guide means it. */
export function describeTrigger(speaker: Speaker, trigger: CrisisTrigger): string {
  const n = (value: number) => speaker.number(value, 1)
  switch (trigger.kind) {
    case 'follower_drop':
      return speaker.t('email.crisis.trigger.follower_drop', { percent: speaker.percent(trigger.dropPercent / 100, 1), hours: trigger.windowHours })
    case 'negative_reactions':
      return speaker.t('email.crisis.trigger.negative_reactions', { metric: trigger.metric, deviations: n(trigger.deviations), weeks: trigger.baselineWeeks })
    case 'engagement_collapse':
      return speaker.t('email.crisis.trigger.engagement_collapse', { metric: trigger.metric, percent: speaker.percent(trigger.dropPercent / 100, 1), weeks: trigger.baselineWeeks })
  }
}

/**
 * What the crisis evaluation found, in words: one sentence per finding (its account, the values,
 * the time span in the plan's zone), or why nothing fired.
 */
export function crisisFinding(speaker: Speaker, evaluation: CrisisEvaluation): string {
  if (!evaluation.findings.length) return speaker.t(evaluation.firing === false ? 'email.crisis.within_limits' : 'email.crisis.no_data')
  const { trigger } = evaluation
  return evaluation.findings
    .map((f) => {
      const span = { account: f.account.name, start: speaker.dateTime(f.from), end: speaker.dateTime(f.to) }
      if (trigger.kind === 'follower_drop') {
        const fell = f.reference > 0 ? (f.reference - f.value) / f.reference : 0
        return speaker.t('email.crisis.finding.follower_drop', { ...span, percent: speaker.percent(fell, 1), from: speaker.number(f.reference), to: speaker.number(f.value) })
      }
      return speaker.t('email.crisis.finding.seasonal', { ...span, metric: trigger.metric, value: speaker.number(f.value), usual: speaker.number(f.reference, 1) })
    })
    .join('; ')
}

/** The accounts of a crisis by name, as the language lists them. */
const accountNames = (speaker: Speaker, accounts: PlanAccount[]) => (accounts.length ? speaker.list(accounts.map((a) => a.name)) : speaker.t('email.crisis.no_account'))

/**
 * The email to the crisis guide's contacts: what fired and why, the accounts and the time window,
 * then the guide's steps in order and who to call. A resolved notice names what cleared.
 */
export function renderCrisisEmail(plan: Plan, evaluation: CrisisEvaluation, event: AlertEvent, context: { accounts: PlanAccount[]; since: Date; grafanaUrl?: string }): RenderedEmail {
  const speaker = planSpeaker(plan)
  const t = (key: string, values?: MessageValues) => speaker.t(`email.crisis.${key}`, values)
  const guide = plan.crisis
  const when = (date: Date) => speaker.dateTime(date)
  const { trigger } = evaluation
  const names = accountNames(speaker, context.accounts)
  const described = describeTrigger(speaker, trigger)
  const reason = crisisFinding(speaker, evaluation)
  const subject = `${SUBJECT_TAG} ${t(event === 'resolved' ? 'subject_resolved' : event === 'repeat' ? 'subject_repeat' : 'subject', { accounts: names, trigger: described })}`
  const label = (key: string) => t(`label.${key}`)
  const lines: Array<[string, string]> = [
    [label('trigger'), t('trigger_line', { id: trigger.id, trigger: described })],
    [label('accounts'), context.accounts.map((a) => speaker.t('email.account.on', { name: a.name, id: a.id, network: a.network })).join('; ') || speaker.t('common.none')],
  ]
  if (event === 'resolved') {
    lines.push([label('status'), t('status_resolved', { reason })], [label('open_since'), when(context.since)], [label('resolved_at'), when(evaluation.evaluatedAt)])
  } else {
    lines.push(
      [label('what_happened'), reason],
      [label('time_window'), evaluation.window ? t('window', { from: when(evaluation.window.from), to: when(evaluation.window.to) }) : t('unknown')],
      [label('detected_at'), when(evaluation.evaluatedAt)],
      [label('meanwhile'), t('meanwhile', { accounts: names })],
    )
  }
  const steps = event === 'resolved' ? [] : (guide?.steps ?? [])
  const contacts = (guide?.contacts ?? []).map((c) => [c.name, c.role, c.email, c.phone].filter(Boolean).join(', '))
  const footer = context.grafanaUrl ? [speaker.t('email.kpi.dashboard', { link: `${context.grafanaUrl.replace(/\/$/, '')}/d/social-kpi-overview` })] : []

  const text = [
    ...lines.map(([label, value]) => `${label}: ${value}`),
    ...(steps.length ? ['', `${t('steps')}:`, ...steps.map((step, i) => `  ${i + 1}. ${step}`)] : []),
    ...(contacts.length ? ['', `${t('contacts')}:`, ...contacts.map((c) => `  - ${c}`)] : []),
    ...(footer.length ? ['', ...footer] : []),
  ].join('\n')
  const html = `<!doctype html><html><body style="font-family:sans-serif">
<h2 style="margin:0 0 12px;color:${event === 'resolved' ? '#2e7d32' : '#c62828'}">${escapeHtml(subject)}</h2>
<table cellpadding="4" style="border-collapse:collapse">${lines.map(([label, value]) => `<tr><th align="left" valign="top">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`).join('')}</table>
${steps.length ? `<h3>${escapeHtml(t('steps'))}</h3><ol>${steps.map((step) => `<li>${escapeHtml(step)}</li>`).join('')}</ol>` : ''}
${contacts.length ? `<h3>${escapeHtml(t('contacts'))}</h3><ul>${contacts.map((c) => `<li>${escapeHtml(c)}</li>`).join('')}</ul>` : ''}
${footer.map((line) => `<p style="color:#555">${escapeHtml(line)}</p>`).join('')}
</body></html>`
  return { subject, text, html }
}
