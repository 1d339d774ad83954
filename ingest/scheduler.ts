import { CronExpressionParser } from 'cron-parser'
import cron, { type ScheduledTask } from 'node-cron'
import type { Clock } from '../core/clock.ts'
import type { Logger } from '../core/logger.ts'
import { DEFAULT_JOB_OPTIONS, jobIds, QUEUES, type Payload, type Queues } from '../core/queues.ts'
import { planAccounts, type Plan } from '../kpi/plan.ts'

/**
 * The round a moment belongs to: the latest tick of the schedule at or before it. Two schedulers,
 * a retried tick or `collect --once` within the same slot all name the same round, and so the
 * same job ids.
 */
export function roundTimeFor(schedule: string, at: Date, timezone: string): Date {
  const next = CronExpressionParser.parse(schedule, { currentDate: new Date(at.getTime() + 1000), tz: timezone })
  return next.prev().toDate()
}

/** The time between two rounds of a schedule, around `at`. */
export function scheduleIntervalMs(schedule: string, at: Date, timezone: string): number {
  const ticks = CronExpressionParser.parse(schedule, { currentDate: at, tz: timezone })
  const first = ticks.next().toDate().getTime()
  return ticks.next().toDate().getTime() - first
}

export interface RoundJobs {
  roundAt: Date
  evaluateJobId: string
  collectJobIds: string[]
}

/**
 * Enqueues one collection round as a BullMQ flow: a collect job per account, and the round's
 * evaluation as their parent, which runs once every collect job has finished (failed ones
 * included: their accounts are judged on what is stored).
 */
export async function enqueueRound(queues: Queues, plan: Plan, roundAt: Date): Promise<RoundJobs> {
  const accounts = planAccounts(plan)
  const children = accounts.map((account) => {
    const data: Payload<'collect'> = { roundAt: roundAt.toISOString(), network: account.network, accountId: account.id }
    return {
      name: 'collect',
      queueName: QUEUES.collect.name,
      data,
      opts: { ...DEFAULT_JOB_OPTIONS, jobId: jobIds.collect(account.network, account.id, roundAt), ignoreDependencyOnFailure: true },
    }
  })
  const evaluateData: Payload<'evaluate'> = { at: roundAt.toISOString(), reason: 'round' }
  const evaluateJobId = jobIds.evaluate('round', roundAt)
  await queues.flows.add({ name: 'evaluate', queueName: QUEUES.evaluate.name, data: evaluateData, opts: { ...DEFAULT_JOB_OPTIONS, jobId: evaluateJobId }, children })
  return { roundAt, evaluateJobId, collectJobIds: children.map((child) => child.opts.jobId) }
}

export async function enqueueEvaluation(queues: Queues, at: Date, reason: Payload<'evaluate'>['reason']): Promise<string> {
  const jobId = jobIds.evaluate(reason, at)
  const data: Payload<'evaluate'> = { at: at.toISOString(), reason }
  await queues.evaluate.add('evaluate', data, { jobId })
  return jobId
}

export interface Scheduler {
  stop(): Promise<void>
}

/**
 * Starts the plan's schedules. Ticks only enqueue; the work happens in the workers. node-cron
 * decides when a tick fires; the clock names its round, so an offset clock (CLOCK_START) rounds
 * in its own time, as everything else that asks it does.
 */
export function startScheduler(deps: { plan: Plan; queues: Queues; now: Clock; logger: Logger }): Scheduler {
  const { plan, queues, now, logger } = deps
  const timezone = plan.company.timezone
  const tasks: ScheduledTask[] = [
    cron.schedule(
      plan.collection.schedule,
      async () => {
        try {
          const round = await enqueueRound(queues, plan, roundTimeFor(plan.collection.schedule, now(), timezone))
          logger.info({ round: round.roundAt.toISOString(), accounts: round.collectJobIds.length }, 'collection round enqueued')
        } catch (err) {
          logger.error({ err }, 'could not enqueue a collection round')
        }
      },
      { timezone, name: 'collect', noOverlap: true },
    ),
    cron.schedule(
      plan.collection.evaluateSchedule,
      async () => {
        try {
          await enqueueEvaluation(queues, roundTimeFor(plan.collection.evaluateSchedule, now(), timezone), 'schedule')
        } catch (err) {
          logger.error({ err }, 'could not enqueue an evaluation')
        }
      },
      { timezone, name: 'evaluate', noOverlap: true },
    ),
  ]
  logger.info({ collect: plan.collection.schedule, evaluate: plan.collection.evaluateSchedule, timezone }, 'scheduler started')
  return {
    async stop() {
      for (const task of tasks) await task.destroy()
    },
  }
}
