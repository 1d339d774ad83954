import type { Job } from 'bullmq'
import type { ClickHouse } from '../core/clickhouse.ts'
import type { Logger } from '../core/logger.ts'
import { parsePayload } from '../core/queues.ts'
import { readSilencePredicate } from '../alerts/silences.ts'
import { processAlerts, type AlertEngineDeps } from '../alerts/engine.ts'
import { sendDueReviews } from '../alerts/reviews.ts'
import { clickHouseKpiSource } from '../kpi/clickhouse-source.ts'
import { evaluateCrisis, type CrisisEvaluation } from '../kpi/crisis.ts'
import { clickHouseCrisisSource } from '../kpi/crisis-source.ts'
import { evaluateClosedPeriods, evaluatePlan, type KpiEvaluation } from '../kpi/evaluate.ts'
import { planKey, type Plan } from '../plan/plan.ts'
import type { RoundState, RoundTracker } from '../ingest/rounds.ts'
import { toClickHouseTime } from '../core/clickhouse.ts'
import { readSourceHealth } from '../ingest/source-health.ts'
import { toEvaluationRow, toVerdictRow } from './evaluation-row.ts'
import type { Writers } from '../core/tables.ts'

export interface EvaluateDeps {
  plan: Plan
  ch: ClickHouse
  writers: Writers
  alerts: AlertEngineDeps
  now: () => Date
  logger: Logger
  /** Which jobs each round still waits for (ingest/rounds.ts): a round's evaluation names who is pending. */
  rounds?: RoundTracker
}

/**
 * Evaluates every KPI of the plan as of `at` (plus the final verdict of periods that just ended)
 * and every crisis trigger of its crisis guide, stores the KPI results, then decides alerts on the
 * current periods (crises first: an open crisis holds the KPI alerts of its accounts).
 */
export async function evaluateAndAlert(deps: EvaluateDeps, at: Date): Promise<KpiEvaluation[]> {
  return (await evaluateAll(deps, at)).evaluations
}

/** As evaluateAndAlert, also returning the crisis triggers' results. */
export async function evaluateAll(deps: EvaluateDeps, at: Date): Promise<{ evaluations: KpiEvaluation[]; crises: CrisisEvaluation[] }> {
  const source = clickHouseKpiSource(deps.ch)
  // The freshness alert's stale window: a KPI is not judged on data its account alert calls stale.
  const options = { staleAfterMs: deps.alerts.staleAfterMs }
  const evaluations = await evaluatePlan(deps.plan, at, source, options)
  const finals = await evaluateClosedPeriods(deps.plan, at, source, options)
  const writtenAt = deps.now()
  // Running evaluations and final verdicts live in separate tables, so the verdict of a period
  // that ended at `at` and the next period's first evaluation at `at` never replace each other.
  await Promise.all([
    deps.writers.evaluations.write(
      evaluations.map((e) => toEvaluationRow(e, writtenAt)),
      { flushNow: true },
    ),
    deps.writers.verdicts.write(
      finals.map((e) => toVerdictRow(e, at, writtenAt)),
      { flushNow: true },
    ),
  ])
  const crises = await evaluateCrisis(deps.plan, at, clickHouseCrisisSource(deps.ch))
  const health = await readSourceHealth(deps.ch)
  // Silences are read at each evaluation, so one added while running applies from the next.
  const notifications = await processAlerts({ ...deps.alerts, silenced: await readSilencePredicate(deps.ch, deps.plan, at) }, evaluations, health, at, crises)
  // A period whose verdicts have settled gets its review, once (alerts/reviews.ts). A review that
  // cannot be built does not fail the evaluation: nothing is stored, so the next one tries again.
  const reviews = await sendDueReviews({ ...deps.alerts, now: deps.now }, at).catch((err: unknown) => {
    deps.logger.error({ err, at: at.toISOString() }, 'the period review could not be built; it is tried again at the next evaluation')
    return []
  })
  const firing = crises.filter((c) => c.firing).map((c) => ({ trigger: c.trigger.id, accounts: c.accounts.map((a) => a.id), reason: c.reason }))
  deps.logger.info({ at: at.toISOString(), kpis: evaluations.length, crises: firing, notifications, ...(reviews.length ? { reviews } : {}) }, 'evaluated')
  return { evaluations, crises }
}

/**
 * A round's evaluation runs when its last job ends or at its deadline: what was pending then is
 * said in the log and stored (collection_rounds), and the round stops waiting.
 */
export function createEvaluateProcessor(deps: EvaluateDeps) {
  return async (job: Job) => {
    const payload = parsePayload('evaluate', job.data)
    const at = new Date(payload.at)
    const round = payload.reason === 'round' ? await deps.rounds?.state(at) : undefined
    if (round?.pending.length) deps.logger.warn({ round: payload.at, pending: round.pending }, `round evaluated at its deadline: ${round.pending.length} of ${round.accounts} accounts still pending`)
    const evaluations = await evaluateAndAlert(deps, at)
    if (round) {
      await deps.writers.rounds.write([collectionRoundRow(deps.plan, at, round, deps.now())], { flushNow: true })
      await deps.rounds!.close(at)
    }
    return { kpis: evaluations.map((e) => ({ kpi: e.kpi.id, status: e.status, actual: e.actual })), ...(round ? { pending: round.pending } : {}) }
  }
}

function collectionRoundRow(plan: Plan, roundAt: Date, round: RoundState, now: Date) {
  const written = toClickHouseTime(now)
  return {
    plan_key: planKey(plan),
    round_at: toClickHouseTime(roundAt),
    accounts: round.accounts,
    collected: round.outcomes.collected ?? 0,
    degraded: round.outcomes.degraded ?? 0,
    failing: round.outcomes.failing ?? 0,
    unhealthy: round.outcomes.unhealthy ?? 0,
    failed: round.outcomes.failed ?? 0,
    coalesced: round.coalesced,
    pending: round.pending,
    evaluated_by: round.pending.length ? 'deadline' : 'all_ended',
    evaluated_at: written,
    written_at: written,
  }
}
