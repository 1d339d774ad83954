import type { CrisisEvaluation } from '../kpi/crisis.ts'
import type { KpiEvaluation } from '../kpi/evaluate.ts'
import { kpiAccounts, type Kpi, type Plan } from '../plan/plan.ts'
import { KPI_STATUS_MEANINGS } from '../kpi/statuses.ts'
import type { AlertPolicy, AlertSignal, AlertState } from './rules.ts'

/**
 * The alert signals, pure and shared by the engine (alerts/engine.ts) and the rule preview
 * (alerts/replay.ts), so what a preview shows is what the engine would decide: which statuses
 * fail, how a crisis names its accounts, which KPIs an open crisis holds, and the plan's policies.
 */

/** A KPI's alert, by what its status means (kpi/statuses.ts): at_risk and missed fail, on_track and achieved are fine, unknown changes nothing. */
export function kpiSignal(evaluation: KpiEvaluation): AlertSignal {
  const { kpi, status } = evaluation
  return { key: `kpi.${kpi.id}`, subjectKind: 'kpi', subjectId: kpi.id, failing: KPI_STATUS_MEANINGS[status].failing, label: status }
}

/**
 * The alert of a KPI whose custom period has ended (kpi/evaluate.ts customPeriodEnded): it has
 * its final verdict (kpi_verdicts, the period review) and no running evaluation any more, so an
 * alert still open is closed without a notification (`closing`), to neither keep firing nor remind.
 */
export function endedKpiSignal(kpi: Kpi): AlertSignal {
  return { key: `kpi.${kpi.id}`, subjectKind: 'kpi', subjectId: kpi.id, failing: false, label: 'period_ended' }
}

/** The policy that closes an alert at once and quietly: no pending, no keep-firing, no resolved notice. */
export const closing = (policy: AlertPolicy): AlertPolicy => ({ ...policy, forMs: 0, keepFiringForMs: 0, notifyResolved: false })

/** The accounts of an open crisis alert: its label is their sorted ids, so it also says what to hold. */
export const crisisAccounts = (state: AlertState | undefined): string[] => (state?.status === 'firing' && state.label ? state.label.split(',') : [])

/**
 * A crisis trigger's alert (`crisis.<trigger id>`). While it is open the accounts involved only
 * grow, so an account that flaps in and out does not notify again.
 */
export function crisisSignal(crisis: CrisisEvaluation, before: AlertState | undefined): AlertSignal {
  const involved = [...new Set([...crisisAccounts(before), ...crisis.accounts.map((a) => a.id)])].sort()
  return { key: `crisis.${crisis.trigger.id}`, subjectKind: 'crisis', subjectId: crisis.trigger.id, failing: crisis.firing, label: crisis.firing ? involved.join(',') : 'ok' }
}

/**
 * A KPI whose accounts are all in an open crisis is held (inhibited): not decided at all. One that
 * also covers an account outside the crisis keeps alerting: the other accounts may need attention.
 */
export function heldByCrisis(plan: Plan, kpi: Kpi, inCrisis: ReadonlySet<string>): boolean {
  const covered = kpiAccounts(plan, kpi)
  return covered.length > 0 && covered.every((account) => inCrisis.has(account.id))
}

/**
 * The plan's policies: KPI alerts get the whole lifecycle (`for`, `keepFiringFor`, reminders);
 * crisis, token, freshness and credential alerts fire at once and never remind.
 */
export function alertPolicies(plan: Plan): { kpi: AlertPolicy; once: AlertPolicy } {
  const { alerting } = plan
  return {
    kpi: { repeatIntervalMs: alerting.repeatInterval, notifyResolved: alerting.notifyResolved, forMs: alerting.for, keepFiringForMs: alerting.keepFiringFor },
    once: { repeatIntervalMs: null, notifyResolved: alerting.notifyResolved },
  }
}
