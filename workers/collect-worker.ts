import { DelayedError, UnrecoverableError, type Job } from 'bullmq'
import { toClickHouseTime, type ClickHouse } from '../core/clickhouse.ts'
import { ApiError, ApiRateLimitError, TokenError } from '../core/errors.ts'
import { scrubSecrets, type Logger, type Scrubber } from '../core/logger.ts'
import type { Network } from '../core/metrics.ts'
import { parsePayload, type Payload } from '../core/queues.ts'
import type { Collector, CollectSummary } from '../ingest/collectors/types.ts'
import type { ObservationRow } from '../core/tables.ts'
import { accountMetrics, accountSegments, planAccounts, type Plan, type PlanAccount } from '../plan/plan.ts'
import type { RequestGate } from '../ingest/quota.ts'
import type { ApiObserver } from '../core/telemetry.ts'
import type { Credentials } from '../ingest/auth/credentials.ts'
import type { ExpiryWatch } from '../ingest/auth/expiry.ts'
import { recordSourceHealth } from '../ingest/source-health.ts'
import { accountKey, type RoundOutcome, type RoundTracker } from '../ingest/rounds.ts'
import type { SourceHealthRow, Writers } from '../core/tables.ts'

export interface CollectDeps {
  plan: Plan
  ch: ClickHouse
  writers: Writers
  collectors: Record<Network, Collector>
  /** Each account's token: static from the environment, or renewed from the token store (ingest/auth). */
  credentials: Credentials
  /** Asks the API when static tokens end (Meta), after a collection that worked; none when absent. */
  expiryWatch?: ExpiryWatch
  lookbackDays: number
  now: () => Date
  logger: Logger
  /** The account's share of its network's call limit; open when absent. */
  gateFor?: (account: PlanAccount) => RequestGate
  /** Counts the API requests per network (core/telemetry.ts); none when absent. */
  apiObserver?: ApiObserver
  /** Which rounds wait for which jobs (ingest/rounds.ts); a round's last job to end has it evaluated. */
  rounds?: RoundTracker
  /**
   * The process's scrubber (it knows every token): what leaves a job (stored errors, BullMQ's
   * failedReason and stacktrace, the summary it returns) goes through it. Patterns only when absent.
   */
  scrub?: Scrubber
}

/** What a round that stored nothing for its account records: it is not a success, so the data is not fresh. */
const NO_OBSERVATIONS = { code: 'no_observations', message: 'the round stored no observations' } as const

export type CollectResult = { status: 'collected'; summary: CollectSummary } | { status: 'unhealthy'; errorCode: string }

/** Whether this attempt is the job's last: it failed for good, or no retry is left. */
const lastAttempt = (job: Job, error: unknown) => error instanceof UnrecoverableError || (job.attemptsMade ?? 0) + 1 >= (job.opts?.attempts ?? 1)

/**
 * Collects one account for one round. A refused token marks only that account unhealthy (the job
 * succeeds, so the round goes on); a throttle puts the job back for as long as the API asked; any
 * other failure is recorded and thrown, for BullMQ's bounded retries, unless the API's dialect
 * called it permanent, which is not retried. A round that stored no
 * observation is recorded as failing, so its account's last success (and freshness) stays where it was.
 */
export function createCollectProcessor(deps: CollectDeps) {
  const scrub = deps.scrub ?? scrubSecrets
  /**
   * Collects, then tells the rounds waiting for this job how it ended (a backfill chunk belongs to
   * no round). A throttled job is not over: it is held back, and later rounds wait for it.
   */
  return async (job: Job, lockToken?: string): Promise<CollectResult> => {
    const payload = parsePayload('collect', job.data)
    const member = { jobId: job.id ?? '', network: payload.network, accountId: payload.accountId }
    const settle = async (outcome: RoundOutcome) => {
      if (payload.window || !deps.rounds) return
      await deps.rounds.release(accountKey(member), member.jobId)
      await deps.rounds.ended(member, outcome).catch((err: unknown) => deps.logger.warn({ err, job: job.id }, 'could not tell the round this job ended; it is evaluated at its deadline'))
    }
    try {
      const result = await collectJob(job, payload, lockToken)
      await settle(result.status === 'unhealthy' ? 'unhealthy' : (result.outcome ?? 'collected'))
      return result.status === 'unhealthy' ? { status: 'unhealthy', errorCode: result.errorCode } : { status: 'collected', summary: result.summary }
    } catch (error) {
      if (error instanceof DelayedError) {
        if (!payload.window) await deps.rounds?.heldBack(member)
      } else if (lastAttempt(job, error)) await settle('failed')
      throw error
    }
  }

  async function collectJob(job: Job, payload: Payload<'collect'>, lockToken?: string): Promise<CollectResult & { outcome?: RoundOutcome }> {
    const account = planAccounts(deps.plan).find((a) => a.id === payload.accountId && a.network === payload.network)
    if (!account) throw new UnrecoverableError(`account ${payload.network}/${payload.accountId} is not in the plan`)
    const log = deps.logger.child({ network: account.network, account: account.id, round: payload.roundAt })
    const health = (status: SourceHealthRow['status'], errorCode?: string, error?: string, quotaResetsAt?: Date, refusedMetrics?: string[]) =>
      recordSourceHealth(deps.ch, deps.writers, { network: account.network, accountId: account.id, at: deps.now(), status, errorCode, error: error && scrub(error), quotaResetsAt, refusedMetrics })

    // Rows go to the writer as they arrive and are batched with other jobs' rows; the job ends
    // only once all of them are stored, also when the collector fails half-way.
    const writes: Promise<void>[] = []
    const stored = async () => {
      // Send this job's rows now rather than at the writer's timer, so the job frees its slot.
      await deps.writers.observations.flush()
      const results = await Promise.allSettled(writes)
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
      if (failed) throw failed.reason
    }
    const collector = deps.collectors[account.network]
    const needed = new Set(accountMetrics(deps.plan, account))
    const segments = accountSegments(deps.plan, account)
    try {
      if (payload.window && !collector.history) throw new UnrecoverableError(`${account.network} keeps no history to backfill`)
      const collectWith = (token: string) => {
        const context = {
          account,
          token,
          roundAt: new Date(payload.roundAt),
          now: deps.now,
          lookbackDays: deps.lookbackDays,
          segments,
          logger: log,
          gate: deps.gateFor?.(account),
          apiObserver: deps.apiObserver,
          emit: async (rows: ObservationRow[]) => void writes.push(deps.writers.observations.write(rows)),
        }
        return payload.window ? collector.history!.backfill(context, payload.window) : collector.collect(context)
      }
      let used = ''
      const collected = await (async () => {
        const token = (used = await deps.credentials.accessToken(account))
        try {
          return await collectWith(token)
        } catch (error) {
          // Refused although not yet expired by our clock (revoked, clock skew): renew once and go
          // again; rows already stored are stored again unchanged (writes are idempotent).
          const renewed = error instanceof TokenError ? await deps.credentials.renewAfterRefusal(account, token) : undefined
          if (!renewed) throw error
          log.info({ apiCode: (error as TokenError).apiCode }, 'the API refused the access token: renewed it, collecting again')
          return await collectWith((used = renewed))
        }
      })().finally(stored)
      const summary = { ...collected, skipped: collected.skipped.map(scrub) }
      // What the API said of the account itself (its currency): the newest collection's replaces the last.
      if (summary.facts?.length) {
        const at = toClickHouseTime(deps.now())
        const written = deps.writers.accountFacts.write(
          summary.facts.map((f) => ({ network: account.network, account_id: account.id, fact: f.fact, value: f.value, source_field: f.sourceField, collected_at: at })),
        )
        await deps.writers.accountFacts.flush()
        await written
      }
      for (const skipped of summary.skipped) log.warn({ skipped }, 'part of the API refused a metric; the rest was collected')
      // A backfill chunk may hold no data (days before the account existed); a round may not.
      if (!payload.window && summary.observations === 0) {
        const why = summary.skipped.length > 0 ? `${NO_OBSERVATIONS.message} (refused: ${summary.skipped.join('; ')})` : NO_OBSERVATIONS.message
        log.warn({ skipped: summary.skipped.length }, `${NO_OBSERVATIONS.message}: not counted as a successful collection`)
        await health('failing', NO_OBSERVATIONS.code, why)
        return { status: 'collected', summary, outcome: 'failing' }
      }
      // Collected, but a part the plan's KPIs need was refused: degraded, with why and what to do.
      const starving = (summary.refused ?? []).filter((part) => part.metrics.some((metric) => needed.has(metric)))
      if (!payload.window && starving.length > 0) {
        const metrics = [...new Set(starving.flatMap((part) => part.metrics.filter((metric) => needed.has(metric))))]
        const why = starving.map((part) => `${part.part} (${part.metrics.filter((m) => needed.has(m)).join(', ')}): ${part.reason}${part.advice ? ` — ${part.advice}` : ''}`).join('; ')
        log.warn({ metrics }, 'collected, but the API refused metrics a KPI needs: account degraded')
        await health('degraded', METRIC_REFUSED, why, undefined, metrics)
        return { status: 'collected', summary, outcome: 'degraded' }
      }
      await health('healthy')
      if (!payload.window) await deps.expiryWatch?.check(account, used)
      log.info({ observations: summary.observations }, 'collected')
      return { status: 'collected', summary }
    } catch (thrown) {
      // BullMQ keeps a failed job's message and stack in Redis: both leave here without secrets.
      const error = scrubError(thrown, scrub)
      if (error instanceof TokenError) {
        log.error({ err: error }, 'token refused: account marked unhealthy')
        await health('unhealthy', error.apiCode, error.message)
        return { status: 'unhealthy', errorCode: error.apiCode }
      }
      if (error instanceof ApiRateLimitError && lockToken) {
        log.warn({ retryAfterMs: error.retryAfterMs }, 'throttled: the job waits as long as the API asked')
        await health('throttled', error.code, error.message, new Date(deps.now().getTime() + error.retryAfterMs))
        // BullMQ's own time base: its Redis scripts compare delays with the system's Date.now, not our clock.
        await job.moveToDelayed(Date.now() + error.retryAfterMs, lockToken)
        throw new DelayedError()
      }
      const code = (error as { code?: string }).code ?? 'error'
      await health('failing', String(code), error instanceof Error ? error.message : String(error)).catch(() => undefined)
      // What the API's dialect calls permanent (an invalid parameter, a missing permission, an
      // unknown object) fails the same way on every try: BullMQ does not retry it.
      if (error instanceof ApiError && !error.retryable) {
        log.error({ err: error }, 'the API refused the collection for good: not retried')
        throw new UnrecoverableError(error.message)
      }
      throw error
    }
  }
}

/** A source_health error code: the round collected, but the API refused metrics a KPI needs. */
const METRIC_REFUSED = 'metric_refused'

/** The error with its message and stack scrubbed (in place, so its class and fields stay). */
function scrubError(error: unknown, scrub: Scrubber): unknown {
  if (!(error instanceof Error)) return new Error(scrub(String(error)))
  error.message = scrub(error.message)
  if (error.stack) error.stack = scrub(error.stack)
  return error
}
