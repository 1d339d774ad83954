import { CronExpressionParser } from 'cron-parser'
import type { Plan } from './plan.ts'

/** The time between two rounds of a schedule, around `at`. */
export function scheduleIntervalMs(schedule: string, at: Date, timezone: string): number {
  const ticks = CronExpressionParser.parse(schedule, { currentDate: at, tz: timezone })
  const first = ticks.next().toDate().getTime()
  return ticks.next().toDate().getTime() - first
}

/** Slack on top of two rounds: retries and throttling may delay one round by a few minutes. */
const STALE_SLACK_MS = 5 * 60_000

/**
 * How old an account's data may be before it is stale: two missed rounds of the plan's collection
 * schedule plus a little slack (35 minutes for rounds every 15). One window, used by the freshness
 * alert (alerts/engine.ts) and by the evaluator, which gives no verdict on stale data
 * (kpi/evaluate.ts); the composition root computes it once and hands it to both.
 */
export function staleAfterMs(plan: Pick<Plan, 'collection' | 'company'>, at: Date): number {
  return 2 * scheduleIntervalMs(plan.collection.schedule, at, plan.company.timezone) + STALE_SLACK_MS
}

/** The longest a round waits for its accounts before it is evaluated: the plan's, else half the interval. */
export function roundDeadlineMs(plan: Pick<Plan, 'collection' | 'company'>, at: Date): number {
  return plan.collection.roundDeadline ?? Math.round(scheduleIntervalMs(plan.collection.schedule, at, plan.company.timezone) / 2)
}
