import type { Queue } from 'bullmq'
import type { ClickHouse } from '../core/clickhouse.ts'
import type { Logger } from '../core/logger.ts'
import { timeStamp, type Payload } from '../core/queues.ts'
import type { CrisisEvaluation } from '../kpi/crisis.ts'
import type { KpiEvaluation } from '../kpi/evaluate.ts'
import { kpiAccounts, planAccounts, type Plan } from '../kpi/plan.ts'
import type { SourceHealth } from '../workers/source-health.ts'
import type { Writers } from '../workers/writers.ts'
import { renderCrisisEmail } from './crisis-email.ts'
import { renderFreshnessEmail, renderKpiEmail, renderSourceEmail, type RenderedEmail } from './email.ts'
import { decideAlert, type AlertSignal, type AlertState, type AlertSubject } from './rules.ts'
import { readAlertStates, writeAlertStates } from './state-store.ts'

export interface AlertEngineDeps {
  plan: Plan
  ch: ClickHouse
  writers: Writers
  notifyQueue: Queue
  /** What an account owner must do after a refused token, per network. */
  tokenAdvice(network: string, apiCode: string, tokenEnv: string): string
  grafanaUrl?: string
  /** An account whose last successful collection is older than this is stale (about two rounds missed). */
  staleAfterMs: number
  logger: Logger
}

const FAILING = new Set(['at_risk', 'missed'])
const FINE = new Set(['on_track', 'achieved'])
// The alert_state column is a free string; AlertSubject (alerts/rules.ts) does not name crises yet.
const CRISIS_SUBJECT: AlertSubject = 'crisis'

/** A crisis alert's label is the sorted ids of the accounts involved, so it also says what to inhibit. */
const accountsOf = (state: AlertState | undefined) => (state?.status === 'firing' && state.label ? state.label.split(',') : [])

/**
 * Turns evaluations, crisis triggers and source health into alert transitions. Each notification
 * is a job with a deterministic id (alert, event, evaluation time), enqueued before the new state
 * is stored: a retried evaluation re-decides the same transitions and BullMQ drops the repeated jobs.
 *
 * Crises come first: a crisis alert (`crisis.<trigger id>`) goes to the crisis guide's contacts,
 * once when it opens and once when it resolves. While it is open, ordinary KPI alerts are held
 * (inhibited) for every KPI whose accounts are all in an open crisis: they are not decided at all,
 * so nothing is sent or recorded, and they are decided afresh once the crisis resolves. A KPI that
 * also covers an account outside the crisis keeps alerting: the other accounts may need attention.
 */
export async function processAlerts(deps: AlertEngineDeps, evaluations: KpiEvaluation[], health: SourceHealth[], at: Date, crises: CrisisEvaluation[] = []): Promise<number> {
  const { plan } = deps
  const previous = await readAlertStates(deps.ch)
  const policy = { repeatIntervalMs: plan.alerting.repeatInterval, notifyResolved: plan.alerting.notifyResolved }
  const changed: AlertState[] = []
  const notifications: Payload<'notify'>[] = []

  const handle = (signal: AlertSignal, render: (event: 'firing' | 'repeat' | 'resolved', state: AlertState) => RenderedEmail, repeat = true, to: string[] = plan.alerting.recipients) => {
    const decision = decideAlert(previous.get(signal.key), signal, at, repeat ? policy : { ...policy, repeatIntervalMs: null })
    if (decision.changed) changed.push(decision.next)
    if (decision.event) {
      const email = render(decision.event, decision.next)
      notifications.push({
        notificationId: `notify-${signal.key}-${decision.event}-${timeStamp(at)}`,
        alertKey: signal.key,
        event: decision.event,
        decidedAt: at.toISOString(),
        to,
        ...email,
      })
    }
    return decision.next
  }

  const accountsById = new Map(planAccounts(plan).map((account) => [account.id, account]))
  const inhibited = new Set<string>()
  const contacts = plan.crisis?.contacts.map((c) => c.email) ?? []
  for (const crisis of crises) {
    const key = `crisis.${crisis.trigger.id}`
    const before = previous.get(key)
    // While open, the accounts involved only grow, so a flapping account does not re-notify.
    const involved = [...new Set([...accountsOf(before), ...crisis.accounts.map((a) => a.id)])].sort()
    const next = handle(
      { key, subjectKind: CRISIS_SUBJECT, subjectId: crisis.trigger.id, failing: crisis.firing, label: crisis.firing ? involved.join(',') : 'ok' },
      (event, state) =>
        renderCrisisEmail(plan, crisis, event, {
          accounts: (event === 'resolved' ? accountsOf(before) : involved).flatMap((id) => accountsById.get(id) ?? []),
          since: event === 'resolved' ? (before?.since ?? state.since) : state.since,
          grafanaUrl: deps.grafanaUrl,
        }),
      false,
      contacts.length ? contacts : plan.alerting.recipients,
    )
    for (const id of accountsOf(next)) inhibited.add(id)
  }

  const held: string[] = []
  for (const evaluation of evaluations) {
    const covered = kpiAccounts(plan, evaluation.kpi)
    if (covered.length > 0 && covered.every((account) => inhibited.has(account.id))) {
      held.push(evaluation.kpi.id)
      continue
    }
    const status = evaluation.status
    handle(
      { key: `kpi.${evaluation.kpi.id}`, subjectKind: 'kpi', subjectId: evaluation.kpi.id, failing: FAILING.has(status) ? true : FINE.has(status) ? false : null, label: status },
      (event) => renderKpiEmail(plan, evaluation, event, { grafanaUrl: deps.grafanaUrl }),
    )
  }

  // An account whose token was refused alerts once (no reminders), and again when it recovers.
  const byAccount = new Map(health.map((h) => [`${h.network}.${h.accountId}`, h]))
  for (const account of planAccounts(plan)) {
    const state = byAccount.get(`${account.network}.${account.id}`)
    if (!state) continue
    const failing = state.status === 'unhealthy' ? true : state.status === 'healthy' ? false : null
    handle(
      { key: `source.${account.network}.${account.id}`, subjectKind: 'source', subjectId: `${account.network}/${account.id}`, failing, label: state.status },
      (event, alert) =>
        renderSourceEmail(
          {
            network: account.network,
            accountId: account.id,
            accountName: account.name,
            errorCode: state.lastErrorCode,
            error: state.lastError,
            advice: state.lastErrorCode === 'token_missing' ? `Set the environment variable ${account.tokenEnv} to the account's access token and restart.` : deps.tokenAdvice(account.network, state.lastErrorCode, account.tokenEnv),
            since: alert.since,
          },
          event,
        ),
      false,
    )
  }

  // Data older than the schedule allows: one alert, then a resolved notice once fresh again. An
  // account with a refused token already has its own alert, so it is not also called stale.
  for (const account of planAccounts(plan)) {
    const state = byAccount.get(`${account.network}.${account.id}`)
    if (!state) continue
    const age = state.lastSuccessAt ? at.getTime() - state.lastSuccessAt.getTime() : Number.POSITIVE_INFINITY
    const failing = state.status === 'unhealthy' ? null : age > deps.staleAfterMs
    handle(
      { key: `freshness.${account.network}.${account.id}`, subjectKind: 'source', subjectId: `${account.network}/${account.id}`, failing, label: failing ? 'stale' : 'fresh' },
      (event, alert) =>
        renderFreshnessEmail(
          {
            network: account.network,
            accountId: account.id,
            accountName: account.name,
            lastSuccessAt: state.lastSuccessAt,
            staleAfterMs: deps.staleAfterMs,
            lastError: state.lastError ? `${state.lastErrorCode}: ${state.lastError}` : '',
            quotaResetsAt: state.quotaResetsAt,
            since: alert.since,
          },
          event,
        ),
      false,
    )
  }

  for (const notification of notifications) {
    await deps.notifyQueue.add('notify', notification, { jobId: notification.notificationId, attempts: 8, backoff: { type: 'exponential', delay: 10_000 } })
  }
  if (changed.length) await writeAlertStates(deps.writers, changed)
  if (held.length) deps.logger.info({ kpis: held, accounts: [...inhibited] }, 'KPI alerts held during an open crisis')
  if (notifications.length) deps.logger.info({ notifications: notifications.map((n) => n.subject) }, 'alerts decided')
  return notifications.length
}
