import type { Queue } from 'bullmq'
import type { ClickHouse } from '../core/clickhouse.ts'
import type { Logger } from '../core/logger.ts'
import { timeStamp, type Payload } from '../core/queues.ts'
import type { KpiEvaluation } from '../kpi/evaluate.ts'
import { planAccounts, type Plan } from '../kpi/plan.ts'
import type { SourceHealth } from '../workers/source-health.ts'
import type { Writers } from '../workers/writers.ts'
import { renderFreshnessEmail, renderKpiEmail, renderSourceEmail, type RenderedEmail } from './email.ts'
import { decideAlert, type AlertSignal, type AlertState } from './rules.ts'
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

/**
 * Turns evaluations and source health into alert transitions. Each notification is a job with a
 * deterministic id (alert, event, evaluation time), enqueued before the new state is stored: a
 * retried evaluation re-decides the same transitions and BullMQ drops the repeated jobs.
 */
export async function processAlerts(deps: AlertEngineDeps, evaluations: KpiEvaluation[], health: SourceHealth[], at: Date): Promise<number> {
  const { plan } = deps
  const previous = await readAlertStates(deps.ch)
  const policy = { repeatIntervalMs: plan.alerting.repeatInterval, notifyResolved: plan.alerting.notifyResolved }
  const changed: AlertState[] = []
  const notifications: Payload<'notify'>[] = []

  const handle = (signal: AlertSignal, render: (event: 'firing' | 'repeat' | 'resolved', state: AlertState) => RenderedEmail, repeat = true) => {
    const decision = decideAlert(previous.get(signal.key), signal, at, repeat ? policy : { ...policy, repeatIntervalMs: null })
    if (decision.changed) changed.push(decision.next)
    if (!decision.event) return
    const email = render(decision.event, decision.next)
    notifications.push({
      notificationId: `notify-${signal.key}-${decision.event}-${timeStamp(at)}`,
      alertKey: signal.key,
      event: decision.event,
      decidedAt: at.toISOString(),
      to: plan.alerting.recipients,
      ...email,
    })
  }

  for (const evaluation of evaluations) {
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
  if (notifications.length) deps.logger.info({ notifications: notifications.map((n) => n.subject) }, 'alerts decided')
  return notifications.length
}
