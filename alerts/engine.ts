import { createHash } from 'node:crypto'
import type { JobsOptions, Queue } from 'bullmq'
import { toClickHouseTime, type ClickHouse } from '../core/clickhouse.ts'
import type { Speaker } from '../core/i18n/index.ts'
import type { Logger } from '../core/logger.ts'
import type { Clock } from '../core/clock.ts'
import { NOTIFY_JOB_OPTIONS, timeStamp, type AlertFacts, type Payload } from '../core/queues.ts'
import type { CrisisEvaluation } from '../kpi/crisis.ts'
import { customPeriodEnded, type KpiEvaluation } from '../kpi/evaluate.ts'
import { kpiAccounts, planAccounts, planKey, planSpeaker, type AlertRoute, type Kpi, type Plan, type PlanAccount } from '../plan/plan.ts'
import type { Redis } from '../core/redis.ts'
import type { SourceHealth } from '../ingest/source-health.ts'
import type { KnownExpiry } from '../ingest/auth/expiry.ts'
import type { AlertHistoryRow, Writers } from '../core/tables.ts'
import { renderCrisisEmail } from './crisis-email.ts'
import { renderGroupEmail } from './group-email.ts'
import { withRedisLock } from '../core/lock.ts'
import { renderCredentialExpiryEmail, renderDegradedEmail, renderFreshnessEmail, renderKpiEmail, renderSourceEmail, type RenderedEmail } from './email.ts'
import { crisisFacts, kpiFacts } from './facts.ts'
import { decideAlert, severityOf, type AlertDecision, type AlertEvent, type AlertPolicy, type AlertSignal, type AlertState } from './rules.ts'
import { alertPolicies, closing, crisisAccounts, crisisSignal, endedKpiSignal, heldByCrisis, kpiSignal } from './signals.ts'
import { redeliverUndelivered } from './redelivery.ts'
import { readAlertStates, readNewestDecision, writeAlertStates, writeNewestDecision } from './state-store.ts'

export interface AlertEngineDeps {
  plan: Plan
  ch: ClickHouse
  writers: Writers
  notifyQueue: Queue
  /** What an account owner must do after its credentials were refused or are missing (`apiCode`), in the speaker's language. */
  tokenAdvice(speaker: Speaker, account: PlanAccount, apiCode: string): string
  grafanaUrl?: string
  /** An account whose last successful collection is older than this is stale (about two rounds missed). */
  staleAfterMs: number
  logger: Logger
  /**
   * A silence (planned pause) covering this alert: the transition is decided and recorded as
   * usual, but no notification is sent.
   */
  silenced?: (alertKey: string, subject: { kpiId?: string; objectiveId?: string }) => boolean
  /**
   * With Redis, "read state → enqueue → write state" runs under a short lock keyed by the plan,
   * so evaluators in several processes (`evaluate --once` beside the workers) never decide the
   * same transition twice. `lockPrefix` keeps deployments (and tests) sharing a Redis apart.
   */
  redis?: Redis
  lockPrefix?: string
  /** Retries of one notify job; default NOTIFY_JOB_OPTIONS (tests shorten the backoff). */
  notifyJobOptions?: JobsOptions
  /** When records are written; default the evaluation time. */
  now?: Clock
  /** Credentials with a known end (ingest/auth/expiry.ts): each warns once, credentialWarningDays ahead. */
  credentialExpiries?: () => Promise<KnownExpiry[]>
}

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
 *
 * KPI alerts follow the plan's `alerting.for` (pending first) and `keepFiringFor`, are routed per
 * KPI, objective or severity, and grouped per objective or plan into one email (`groupBy`).
 * Crisis alerts go to the crisis guide's contacts (or a `crisis: true` route's recipients), source
 * alerts to `alerting.recipients`. A route's `channels` add one Slack or webhook notification per
 * transition and channel, carrying the alert facts (alerts/facts.ts). A silenced alert is decided
 * and recorded but not sent. Every transition is a row of the `alerts` table. The signals are
 * shared with the rule preview (alerts/signals.ts).
 * Notifications whose tries ran out at an earlier evaluation are sent again first (alerts/redelivery.ts).
 * With `deps.redis`, the whole decision runs under a lock keyed by the plan (see AlertEngineDeps).
 */
export async function processAlerts(deps: AlertEngineDeps, evaluations: KpiEvaluation[], health: SourceHealth[], at: Date, crises: CrisisEvaluation[] = []): Promise<number> {
  const plan = planKey(deps.plan)
  const decide = async () => {
    // Alerts move forward in time only: an evaluation older than one already decided on (a
    // backlog of retried jobs) would judge on older data and resolve what is still failing.
    // The same instant again (a retried job) is decided again: its notifications keep their ids.
    const newest = await readNewestDecision(deps.ch, plan)
    if (newest && at < newest) {
      deps.logger.info({ at: at.toISOString(), newest: newest.toISOString() }, 'evaluation older than the newest decided one: no alert decided')
      return 0
    }
    // Emails whose tries ran out go again first, so they are not overtaken by what follows them.
    await redeliverUndelivered(deps, at, deps.now?.() ?? at)
    const sent = await decideAndSend(deps, evaluations, health, at, crises)
    await writeNewestDecision(deps.writers, plan, at, at)
    return sent
  }
  if (!deps.redis) return decide()
  return withRedisLock(deps.redis, `${deps.lockPrefix ?? 'social-kpi'}:alert-lock:${plan}`, decide)
}

/** One decided transition, before it is grouped, routed and sent. */
interface Transition {
  signal: AlertSignal
  before: AlertState | undefined
  decision: AlertDecision
  objectiveId: string
  /** Present for a KPI alert: it may be routed and grouped. */
  kpi?: { evaluation: KpiEvaluation; kpi: Kpi }
  to: string[]
  /** The channels besides email (the route's `channels`). */
  channels: string[]
  render?: (event: AlertEvent, state: AlertState) => RenderedEmail
  /** The alert facts, for those channels; KPI and crisis alerts only. */
  facts?: (event: AlertEvent, state: AlertState) => AlertFacts
}

/** The route of a KPI alert: the first non-crisis route that matches; its recipients, when given, replace the plan's. */
function kpiRoute(plan: Plan, kpi: Kpi, label: string): AlertRoute | undefined {
  const severity = severityOf(label)
  return plan.alerting.routes.find(
    (r) => !r.crisis && (!r.kpis || r.kpis.includes(kpi.id)) && (!r.objectives || r.objectives.includes(kpi.objective)) && (!r.severity || (severity !== null && r.severity.includes(severity))),
  )
}

/** The group a KPI alert goes out in, or null to send it alone. */
function groupKeyOf(plan: Plan, kpi: Kpi): string | null {
  switch (plan.alerting.groupBy) {
    case 'objective':
      return `objective.${kpi.objective}`
    case 'plan':
      return 'plan'
    default:
      return null
  }
}

const shortHash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12)

async function decideAndSend(deps: AlertEngineDeps, evaluations: KpiEvaluation[], health: SourceHealth[], at: Date, crises: CrisisEvaluation[]): Promise<number> {
  const { plan } = deps
  const previous = await readAlertStates(deps.ch)
  // `for` and `keep_firing_for` apply to KPI alerts; crises, tokens and freshness have their own windows.
  const { kpi: kpiPolicy, once } = alertPolicies(plan)
  const changed: AlertState[] = []
  const transitions: Transition[] = []

  // KPI alerts pass their policy; the others fire at once and never remind (`once`).
  const handle = (
    signal: AlertSignal,
    /** Undefined only for a signal whose policy never notifies. */
    render: ((event: AlertEvent, state: AlertState) => RenderedEmail) | undefined,
    to: string[] = plan.alerting.recipients,
    extra: { objectiveId?: string; kpi?: Transition['kpi']; policy?: AlertPolicy; channels?: string[]; facts?: Transition['facts'] } = {},
  ) => {
    const before = previous.get(signal.key)
    const decision = decideAlert(before, signal, at, extra.policy ?? once)
    if (decision.changed) changed.push(decision.next)
    if (decision.event || decision.next.status !== (before?.status ?? 'ok')) {
      transitions.push({
        signal,
        before,
        decision,
        objectiveId: extra.objectiveId ?? '',
        ...(extra.kpi ? { kpi: extra.kpi } : {}),
        to,
        channels: extra.channels ?? [],
        ...(render ? { render } : {}),
        ...(extra.facts ? { facts: extra.facts } : {}),
      })
    }
    return decision.next
  }

  const speak = planSpeaker(plan)
  const accountsById = new Map(planAccounts(plan).map((account) => [account.id, account]))
  const inhibited = new Set<string>()
  const contacts = plan.crisis?.contacts.map((c) => c.email) ?? []
  const crisisRoute = plan.alerting.routes.find((r) => r.crisis)
  for (const crisis of crises) {
    const before = previous.get(`crisis.${crisis.trigger.id}`)
    const signal = crisisSignal(crisis, before)
    const involved = crisis.firing ? signal.label.split(',') : []
    const accounts = (event: AlertEvent) => (event === 'resolved' ? crisisAccounts(before) : involved).flatMap((id) => accountsById.get(id) ?? [])
    const email = (event: AlertEvent, state: AlertState) =>
      renderCrisisEmail(plan, crisis, event, { accounts: accounts(event), since: event === 'resolved' ? (before?.since ?? state.since) : state.since, grafanaUrl: deps.grafanaUrl })
    const next = handle(signal, email, crisisRoute?.recipients ?? (contacts.length ? contacts : plan.alerting.recipients), {
      channels: crisisRoute?.channels,
      facts: (event, state) =>
        crisisFacts(plan, crisis, { key: signal.key, event, before, next: state, at }, { subject: email(event, state).subject, accounts: accounts(event), grafanaUrl: deps.grafanaUrl }),
    })
    for (const id of crisisAccounts(next)) inhibited.add(id)
  }

  const held: string[] = []
  for (const evaluation of evaluations) {
    const { kpi } = evaluation
    if (heldByCrisis(plan, kpi, inhibited)) {
      held.push(kpi.id)
      continue
    }
    const signal = kpiSignal(evaluation)
    handle(signal, (event) => renderKpiEmail(plan, evaluation, event, { grafanaUrl: deps.grafanaUrl }), plan.alerting.recipients, {
      objectiveId: kpi.objective,
      kpi: { evaluation, kpi },
      policy: kpiPolicy,
      facts: (event, state) => kpiFacts(plan, evaluation, { key: signal.key, event, before: previous.get(signal.key), next: state, at }, { grafanaUrl: deps.grafanaUrl }),
    })
  }

  // A campaign (custom period) that has ended has its verdict: its alert closes, quietly.
  for (const kpi of plan.kpis) if (customPeriodEnded(plan, kpi, at)) handle(endedKpiSignal(kpi), undefined, plan.alerting.recipients, { objectiveId: kpi.objective, policy: closing(kpiPolicy) })

  // The KPIs an account leaves without a verdict (its data missing or stale): its own alerts name them.
  const withoutVerdict = (account: PlanAccount) => evaluations.filter((e) => e.kpi.network === account.network && e.missingAccounts?.includes(account.id)).map((e) => `${e.kpi.name} (${e.kpi.id})`)

  // An account whose token was refused alerts once (no reminders), and again when it recovers.
  const byAccount = new Map(health.map((h) => [`${h.network}.${h.accountId}`, h]))
  // What the source health says about the other accounts, for the source email: only their problems.
  const problems = planAccounts(plan).flatMap((a) => {
    const state = byAccount.get(`${a.network}.${a.id}`)
    if (state?.status === 'healthy') return []
    return [{ network: a.network, accountId: a.id, accountName: a.name, problem: state ? { status: state.status, code: state.lastErrorCode } : null }]
  })
  for (const account of planAccounts(plan)) {
    const state = byAccount.get(`${account.network}.${account.id}`)
    if (!state) continue
    const failing = state.status === 'unhealthy' ? true : state.status === 'healthy' ? false : null
    handle({ key: `source.${account.network}.${account.id}`, subjectKind: 'source', subjectId: `${account.network}/${account.id}`, failing, label: state.status }, (event, alert) =>
      renderSourceEmail(
        speak,
        {
          network: account.network,
          accountId: account.id,
          accountName: account.name,
          errorCode: state.lastErrorCode,
          error: state.lastError,
          advice: deps.tokenAdvice(speak, account, state.lastErrorCode),
          since: alert.since,
          kpisWithoutVerdict: withoutVerdict(account),
        },
        event,
        problems.filter((p) => p.network !== account.network || p.accountId !== account.id),
      ),
    )
  }

  // Collected, but the API refused metrics a KPI needs: one alert naming them, the KPIs they
  // starve and the fix, and a resolved notice once they are collected again.
  for (const account of planAccounts(plan)) {
    const state = byAccount.get(`${account.network}.${account.id}`)
    if (!state) continue
    const failing = state.status === 'degraded' ? true : state.status === 'healthy' ? false : null
    handle(
      {
        key: `degraded.${account.network}.${account.id}`,
        subjectKind: 'source',
        subjectId: `${account.network}/${account.id}`,
        failing,
        label: failing ? (state.refusedMetrics ?? []).join(',') : state.status,
      },
      (event, alert) => {
        const metrics = state.refusedMetrics ?? []
        const starved = plan.kpis.filter(
          (kpi) => kpiAccounts(plan, kpi).some((a) => a.id === account.id) && (metrics.includes(kpi.metric) || (kpi.denominator !== undefined && metrics.includes(kpi.denominator))),
        )
        return renderDegradedEmail(
          speak,
          { network: account.network, accountId: account.id, accountName: account.name, metrics, kpis: starved.map((kpi) => `${kpi.name} (${kpi.id})`), detail: state.lastError, since: alert.since },
          event,
        )
      },
    )
  }

  // Data older than the schedule allows: one alert, then a resolved notice once fresh again. An
  // account with a refused token already has its own alert, so it is not also called stale.
  for (const account of planAccounts(plan)) {
    const state = byAccount.get(`${account.network}.${account.id}`)
    if (!state) continue
    const age = state.lastSuccessAt ? at.getTime() - state.lastSuccessAt.getTime() : Number.POSITIVE_INFINITY
    const failing = state.status === 'unhealthy' ? null : age > deps.staleAfterMs
    handle({ key: `freshness.${account.network}.${account.id}`, subjectKind: 'source', subjectId: `${account.network}/${account.id}`, failing, label: failing ? 'stale' : 'fresh' }, (event, alert) =>
      renderFreshnessEmail(
        speak,
        {
          network: account.network,
          accountId: account.id,
          accountName: account.name,
          lastSuccessAt: state.lastSuccessAt,
          staleAfterMs: deps.staleAfterMs,
          lastError: state.lastError ? `${state.lastErrorCode}: ${state.lastError}` : '',
          quotaResetsAt: state.quotaResetsAt,
          since: alert.since,
          kpisWithoutVerdict: withoutVerdict(account),
        },
        event,
      ),
    )
  }

  // A credential with a known end: one warning once it is within the plan's warning days, and a
  // resolved notice once it was renewed (or its end is no longer known).
  const warnMs = plan.alerting.credentialWarningDays * 86_400_000
  const expiring = new Set<string>()
  for (const expiry of (await deps.credentialExpiries?.()) ?? []) {
    const key = `credential.${expiry.account.network}.${expiry.account.id}.${expiry.what.replace(/ /g, '_')}`
    const failing = expiry.endsAt.getTime() - at.getTime() < warnMs
    if (failing) expiring.add(key)
    handle({ key, subjectKind: 'source', subjectId: `${expiry.account.network}/${expiry.account.id}`, failing, label: failing ? 'expiring' : 'valid' }, (event) =>
      renderCredentialExpiryEmail(speak, expiry, event, at, deps.tokenAdvice(speak, expiry.account, `expiring_${expiry.what.replace(/ /g, '_')}`)),
    )
  }
  for (const [key, state] of previous) {
    if (!key.startsWith('credential.') || expiring.has(key) || state.status !== 'firing') continue
    const [, network, accountId, what] = key.split('.')
    const account = planAccounts(plan).find((a) => a.network === network && a.id === accountId)
    if (!account) continue
    const expiry: KnownExpiry = { account, what: what!.replace(/_/g, ' ') as KnownExpiry['what'], endsAt: at }
    handle({ key, subjectKind: 'source', subjectId: `${network}/${accountId}`, failing: false, label: 'valid' }, (event) => renderCredentialExpiryEmail(speak, expiry, event, at, ''))
  }

  const { notifications, history } = planNotifications(deps, transitions, at)
  for (const notification of notifications) {
    await deps.notifyQueue.add('notify', notification, { ...(deps.notifyJobOptions ?? NOTIFY_JOB_OPTIONS), jobId: notification.notificationId })
  }
  if (changed.length) await writeAlertStates(deps.writers, changed)
  if (history.length) await deps.writers.alertHistory.write(history, { flushNow: true })
  if (held.length) deps.logger.info({ kpis: held, accounts: [...inhibited] }, 'KPI alerts held during an open crisis')
  const silenced = history.filter((h) => h.silenced && h.event).map((h) => h.alert_key)
  if (silenced.length) deps.logger.info({ alerts: silenced }, 'alerts silenced')
  if (notifications.length) deps.logger.info({ notifications: notifications.map((n) => n.subject) }, 'alerts decided')
  return notifications.length
}

/**
 * Turns the transitions of one evaluation into notify jobs and history rows. KPI alerts are routed
 * (first matching route, else the plan's recipients) and, with `groupBy`, gathered per objective
 * or per plan: the alerts of one group with the same recipients go out as one email. Silenced
 * alerts are recorded with their would-be recipients and no notification. Every id is derived
 * from the alert keys, events and evaluation time, so a retried evaluation makes the same jobs.
 */
function planNotifications(deps: AlertEngineDeps, transitions: Transition[], at: Date): { notifications: Payload<'notify'>[]; history: AlertHistoryRow[] } {
  const { plan } = deps
  const stamp = timeStamp(at)
  const notifications: Payload<'notify'>[] = []
  const notificationOf = new Map<Transition, { id: string; groupKey: string }>()
  const silencedSet = new Set<Transition>()
  const buckets = new Map<string, { groupKey: string; to: string[]; members: Transition[] }>()

  for (const t of transitions) {
    const event = t.decision.event
    if (!event) continue
    if (t.kpi) {
      // A resolved notice goes where the firing went: route on the status that fired.
      const route = kpiRoute(plan, t.kpi.kpi, event === 'resolved' ? (t.before?.label ?? '') : t.signal.label)
      t.to = route?.recipients ?? plan.alerting.recipients
      t.channels = route?.channels ?? []
    }
    const subject = t.kpi ? { kpiId: t.kpi.kpi.id, objectiveId: t.objectiveId } : {}
    if (deps.silenced?.(t.signal.key, subject)) {
      silencedSet.add(t)
      continue
    }
    // One notification per transition and channel, never grouped: a channel message is short.
    if (t.facts && t.channels.length) {
      const facts = t.facts(event, t.decision.next)
      for (const channel of t.channels) {
        notifications.push({
          notificationId: `notify-${t.signal.key}-${event}-${stamp}-${channel}`,
          alertKey: t.signal.key,
          event,
          decidedAt: at.toISOString(),
          channel,
          to: [],
          subject: facts.title,
          text: '',
          html: '',
          facts,
        })
      }
    }
    const groupKey = t.kpi ? groupKeyOf(plan, t.kpi.kpi) : null
    if (groupKey === null) {
      const id = `notify-${t.signal.key}-${event}-${stamp}`
      notifications.push({ notificationId: id, alertKey: t.signal.key, event, decidedAt: at.toISOString(), to: t.to, ...t.render!(event, t.decision.next) })
      notificationOf.set(t, { id, groupKey: '' })
      continue
    }
    const to = [...new Set(t.to)]
    const bucketKey = `${groupKey}|${[...to].sort().join(',')}`
    const bucket = buckets.get(bucketKey) ?? { groupKey, to, members: [] }
    bucket.members.push(t)
    buckets.set(bucketKey, bucket)
  }

  for (const { groupKey, to, members } of buckets.values()) {
    if (members.length === 1) {
      const [t] = members as [Transition]
      const event = t.decision.event!
      const id = `notify-${t.signal.key}-${event}-${stamp}`
      notifications.push({ notificationId: id, alertKey: t.signal.key, event, decidedAt: at.toISOString(), to: t.to, ...t.render!(event, t.decision.next) })
      notificationOf.set(t, { id, groupKey })
      continue
    }
    const events = members.map((t) => t.decision.event!)
    const event: AlertEvent = events.includes('firing') ? 'firing' : events.includes('repeat') ? 'repeat' : 'resolved'
    const id = `notify-group-${groupKey}-${shortHash([[...to].sort().join(','), ...members.map((t) => `${t.signal.key}:${t.decision.event}`).sort()].join('|'))}-${stamp}`
    const objective = groupKey.startsWith('objective.') ? plan.objectives.find((o) => `objective.${o.id}` === groupKey) : undefined
    const title = objective ? objective.name : plan.company.name
    const email = renderGroupEmail(
      plan,
      title,
      members.map((t) => ({ evaluation: t.kpi!.evaluation, event: t.decision.event! })),
      { grafanaUrl: deps.grafanaUrl },
    )
    notifications.push({ notificationId: id, alertKey: `group.${groupKey}`, event, decidedAt: at.toISOString(), to, ...email })
    for (const t of members) notificationOf.set(t, { id, groupKey })
  }

  const written = toClickHouseTime(at)
  const history: AlertHistoryRow[] = transitions.map((t) => {
    const sent = notificationOf.get(t)
    const silenced = silencedSet.has(t)
    return {
      at: written,
      alert_key: t.signal.key,
      subject_kind: t.signal.subjectKind,
      subject_id: t.signal.subjectId,
      objective_id: t.objectiveId,
      from_status: t.before?.status ?? 'ok',
      to_status: t.decision.next.status,
      label: t.decision.next.label,
      event: t.decision.event ?? '',
      group_key: sent?.groupKey ?? '',
      recipients: sent || silenced ? t.to : [],
      channels: sent || silenced ? t.channels : [],
      notification_id: sent?.id ?? '',
      silenced,
      written_at: written,
    }
  })
  return { notifications, history }
}
