import type { AlertFacts } from '../core/queues.ts'
import type { CrisisEvaluation } from '../kpi/crisis.ts'
import type { KpiEvaluation } from '../kpi/evaluate.ts'
import { planSpeaker, type Plan, type PlanAccount } from '../plan/plan.ts'
import { crisisFinding, describeTrigger } from './crisis-email.ts'
import { kpiEmailParts } from './email.ts'
import { severityOf, type AlertEvent, type AlertState } from './rules.ts'

/**
 * The facts of a transition, for the channels that render at send time (Slack, webhooks). The
 * words (title, summary, actions) are the email's own, so every channel says the same thing.
 */

/** What every transition's facts hold: before and after, and what fired (a resolved alert's label is the status that fired). */
interface TransitionFacts {
  key: string
  event: AlertEvent
  before: AlertState | undefined
  next: AlertState
  at: Date
}

const untag = (subject: string) => subject.replace(/^\[social-kpi\] /, '')

function common(plan: Plan, t: TransitionFacts) {
  const fired = t.event === 'resolved' ? (t.before?.label ?? t.next.label) : t.next.label
  return {
    version: 1 as const,
    key: t.key,
    event: t.event,
    transition: { from: t.before?.status ?? 'ok', to: t.next.status },
    label: fired,
    company: plan.company.name,
    timezone: plan.company.timezone,
    language: plan.company.language,
    since: (t.event === 'resolved' ? (t.before?.since ?? t.next.since) : t.next.since).toISOString(),
    decidedAt: t.at.toISOString(),
  }
}

export function kpiFacts(plan: Plan, evaluation: KpiEvaluation, t: TransitionFacts, options: { grafanaUrl?: string }): AlertFacts {
  const { kpi, period, forecast } = evaluation
  const parts = kpiEmailParts(plan, evaluation, t.event, options)
  const objective = plan.objectives.find((o) => o.id === kpi.objective)
  const base = common(plan, t)
  return {
    ...base,
    kind: 'kpi',
    severity: severityOf(base.label),
    title: untag(parts.subject),
    summary: parts.lead.join(' '),
    kpi: {
      id: kpi.id,
      name: kpi.name,
      network: kpi.network,
      metric: kpi.metric,
      kind: kpi.kind,
      comparator: kpi.comparator,
      status: evaluation.status,
      actual: evaluation.actual,
      target: kpi.target,
      expectedToDate: evaluation.expectedToDate,
      attainment: evaluation.attainment,
      forecast: forecast ? { end: forecast.end, low: forecast.low, high: forecast.high } : null,
      statusReason: evaluation.reason ?? null,
      missingAccounts: evaluation.missingAccounts ?? [],
      ...(evaluation.problem ? { dataProblem: evaluation.problem } : {}),
      unit: kpi.unit,
      ...(evaluation.currency ? { currency: evaluation.currency } : {}),
    },
    objective: { id: kpi.objective, name: objective?.name ?? kpi.objective },
    period: { label: period.label, start: period.start.toISOString(), end: period.end.toISOString() },
    actions: parts.actions,
    ...(parts.link ? { link: parts.link } : {}),
  }
}

export function crisisFacts(plan: Plan, crisis: CrisisEvaluation, t: TransitionFacts, context: { subject: string; accounts: PlanAccount[]; grafanaUrl?: string }): AlertFacts {
  const speaker = planSpeaker(plan)
  const reason = crisisFinding(speaker, crisis)
  return {
    ...common(plan, t),
    kind: 'crisis',
    severity: 'critical',
    title: untag(context.subject),
    summary: t.event === 'resolved' ? speaker.t('email.crisis.summary_resolved', { reason }) : reason,
    crisis: {
      trigger: speaker.t('email.crisis.trigger_line', { id: crisis.trigger.id, trigger: describeTrigger(speaker, crisis.trigger) }),
      reason,
      accounts: context.accounts.map((a) => ({ id: a.id, name: a.name, network: a.network })),
    },
    actions: t.event === 'resolved' ? [] : (plan.crisis?.steps ?? []),
    ...(context.grafanaUrl ? { link: `${context.grafanaUrl.replace(/\/$/, '')}/d/social-kpi-overview` } : {}),
  }
}
