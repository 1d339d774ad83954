import type { JobsOptions, Queue } from 'bullmq'
import { toClickHouseTime, type ClickHouse } from '../core/clickhouse.ts'
import type { Clock } from '../core/clock.ts'
import type { Logger } from '../core/logger.ts'
import { NOTIFY_JOB_OPTIONS, timeStamp, type Payload } from '../core/queues.ts'
import type { Redis } from '../core/redis.ts'
import { clickHouseKpiSource } from '../kpi/clickhouse-source.ts'
import type { Period } from '../plan/periods.ts'
import { planKey, type Plan, type ReviewKind } from '../plan/plan.ts'
import { REVIEW_DUE_WITHIN_MS, buildPeriodReview, lastSettledPeriod, reviewKpis, settlesAt } from '../kpi/review.ts'
import type { Writers } from '../core/tables.ts'
import { withRedisLock } from '../core/lock.ts'
import { renderReviewEmail } from './review-email.ts'
import { clickHouseReviewSource, readStoredReview, toReviewRow } from './review-source.ts'

export interface ReviewDeps {
  plan: Plan
  ch: ClickHouse
  writers: Writers
  notifyQueue: Queue
  logger: Logger
  /** With Redis, "check stored → build → enqueue → store" runs under a lock per plan, as alert decisions do. */
  redis?: Redis
  lockPrefix?: string
  notifyJobOptions?: JobsOptions
  /** When records are written; default the evaluation time. */
  now?: Clock
}

/** The notify job (and notification) of a period's review: one per plan, kind and period. */
const reviewNotificationId = (plan: Plan, kind: ReviewKind, period: Period) => `review-${planKey(plan)}-${kind}-${timeStamp(period.start)}`

/**
 * Sends the period reviews that are due at `at`: for each kind of period the plan reviews, the
 * newest period whose verdicts have settled (its grace window ended), if that was less than
 * REVIEW_DUE_WITHIN_MS ago, if the evaluator stored verdicts for it (it was running then: a
 * database started later does not send reviews of periods it never judged), and if no review of
 * it is stored yet. The review is built as known when it settled, so building it again gives the
 * same one; its notify job's id is derived from the plan, kind and period, enqueued before the
 * review is stored, so a retried evaluation, a crash in between, or a second evaluator (under the
 * Redis lock) sends no second email. Returns the labels of the reviews enqueued.
 */
export async function sendDueReviews(deps: ReviewDeps, at: Date): Promise<string[]> {
  const { plan } = deps
  if (!plan.review) return []
  const sent: string[] = []
  for (const kind of plan.review.periods) {
    const period = lastSettledPeriod(kind, at, plan)
    const settled = settlesAt(period)
    if (at.getTime() - settled.getTime() >= REVIEW_DUE_WITHIN_MS) continue
    const kpis = reviewKpis(plan, kind)
    if (kpis.length === 0) continue
    const send = async () => {
      if (await readStoredReview(deps.ch, plan, kind, period)) return
      const [judged] = await deps.ch.rows<{ n: string | number }>("SELECT count() AS n FROM kpi_verdicts FINAL WHERE kpi_id IN {kpis:Array(String)} AND period_start = {start:DateTime64(3, 'UTC')}", {
        kpis: kpis.map((k) => k.id),
        start: toClickHouseTime(period.start),
      })
      if (Number(judged?.n ?? 0) === 0) {
        deps.logger.debug({ kind, period: period.label }, 'no final verdicts stored for this period: no review sent')
        return
      }
      const review = await buildPeriodReview(plan, kind, period, settled, { kpi: clickHouseKpiSource(deps.ch), review: clickHouseReviewSource(deps.ch) })
      // review.language defaults to company.language (plan/plan.ts); its numbers and times on the plan's clock.
      const email = renderReviewEmail(review, plan.review!.language ?? plan.company.language)
      const notificationId = reviewNotificationId(plan, kind, period)
      const to = plan.review!.recipients ?? plan.alerting.recipients
      const payload: Payload<'notify'> = { notificationId, alertKey: `review.${kind}`, event: 'review', decidedAt: at.toISOString(), to, ...email }
      await deps.notifyQueue.add('notify', payload, { ...(deps.notifyJobOptions ?? NOTIFY_JOB_OPTIONS), jobId: notificationId })
      const now = deps.now?.() ?? at
      await deps.writers.reviews.write([toReviewRow(plan, review, { notificationId, recipients: to, builtAt: at, writtenAt: now })], { flushNow: true })
      deps.logger.info({ kind, period: period.label, subject: email.subject, to }, 'period review sent')
      sent.push(period.label)
    }
    if (deps.redis) await withRedisLock(deps.redis, `${deps.lockPrefix ?? 'social-kpi'}:review-lock:${planKey(plan)}`, send)
    else await send()
  }
  return sent
}
