import { CronExpressionParser } from 'cron-parser'
import cron, { type ScheduledTask } from 'node-cron'
import type { Clock } from '../core/clock.ts'
import type { Logger } from '../core/logger.ts'
import type { Redis } from '../core/redis.ts'
import type { JobsOptions } from 'bullmq'
import { DEFAULT_JOB_OPTIONS, jobIds, type Payload, type Queues } from '../core/queues.ts'
import { planAccounts, type Plan } from '../plan/plan.ts'
import { roundDeadlineMs } from '../plan/schedule.ts'
import { accountKey, type RoundMember, type RoundTracker } from './rounds.ts'

/**
 * The round a moment belongs to: the latest tick of the schedule at or before it. Two schedulers,
 * a retried tick or `collect --once` within the same slot all name the same round, and so the
 * same job ids.
 */
export function roundTimeFor(schedule: string, at: Date, timezone: string): Date {
  const next = CronExpressionParser.parse(schedule, { currentDate: new Date(at.getTime() + 1000), tz: timezone })
  return next.prev().toDate()
}

export interface RoundJobs {
  roundAt: Date
  evaluateJobId: string
  /** The jobs the round waits for: its own, and the held-back jobs of throttled accounts it shares. */
  collectJobIds: string[]
  /** Accounts (`network/accountId`) whose held-back job from an earlier round collects for this one too. */
  coalesced: string[]
}

/** Held-back jobs that are still waiting to run (delayed by a throttle, or queued again). */
const WAITING_STATES = new Set(['delayed', 'waiting', 'prioritized'])

/**
 * Enqueues one collection round: a collect job per account, and the round's evaluation as a job
 * delayed by the round's deadline (`deadlineMs`). The round is registered with the tracker, so
 * the job that ends it last promotes the evaluation; an account still pending at the deadline is
 * named by the evaluation and does not hold it up. An account whose job of an earlier round is
 * held back by throttling gets no new job: that job collects for this round too (its data says
 * so), so a throttled account has one pending job, not one per round.
 */
export async function enqueueRound(queues: Queues, tracker: RoundTracker, plan: Plan, roundAt: Date, deadlineMs = roundDeadlineMs(plan, roundAt)): Promise<RoundJobs> {
  const evaluateData: Payload<'evaluate'> = { at: roundAt.toISOString(), reason: 'round' }
  const evaluateJobId = jobIds.evaluate('round', roundAt)
  // First, so that jobs ending at once find it to promote.
  await queues.evaluate.add('evaluate', evaluateData, { ...DEFAULT_JOB_OPTIONS, jobId: evaluateJobId, delay: deadlineMs })
  const heldBack = await tracker.heldBackJobs()
  const members: RoundMember[] = []
  const children: Array<{ name: string; data: Payload<'collect'>; opts: JobsOptions }> = []
  const coalesced: string[] = []
  for (const account of planAccounts(plan)) {
    const key = accountKey({ network: account.network, accountId: account.id })
    const heldId = heldBack.get(key)
    const held = heldId ? await queues.collect.getJob(heldId) : undefined
    if (heldId && held && WAITING_STATES.has(await held.getState())) {
      // Collects for the newest round it stands for, so its readings carry that round's time.
      if (Date.parse((held.data as Payload<'collect'>).roundAt) < roundAt.getTime()) await held.updateData({ ...(held.data as Payload<'collect'>), roundAt: roundAt.toISOString() })
      members.push({ jobId: heldId, network: account.network, accountId: account.id })
      coalesced.push(key)
      continue
    }
    if (heldId) await tracker.release(key, heldId)
    const jobId = jobIds.collect(account.network, account.id, roundAt)
    members.push({ jobId, network: account.network, accountId: account.id })
    children.push({ name: 'collect', data: { roundAt: roundAt.toISOString(), network: account.network, accountId: account.id }, opts: { ...DEFAULT_JOB_OPTIONS, jobId } })
  }
  await tracker.open(roundAt, members, coalesced.length)
  await queues.collect.addBulk(children)
  // Jobs that had ended before the round was registered (a slot enqueued again, a held-back job
  // finishing just now) could not leave it: they leave it here.
  const states = await Promise.all(members.map((m) => queues.collect.getJobState(m.jobId)))
  for (const [i, state] of states.entries()) if (state === 'completed' || state === 'failed') await tracker.ended(members[i]!, state === 'completed' ? 'collected' : 'failed')
  return { roundAt, evaluateJobId, collectJobIds: members.map((m) => m.jobId), coalesced }
}

async function enqueueEvaluation(queues: Queues, at: Date, reason: Payload<'evaluate'>['reason']): Promise<string> {
  const jobId = jobIds.evaluate(reason, at)
  const data: Payload<'evaluate'> = { at: at.toISOString(), reason }
  await queues.evaluate.add('evaluate', data, { jobId })
  return jobId
}

const errorLine = (err: unknown) => (err instanceof Error ? err.message : String(err))

export interface Scheduler {
  stop(): Promise<void>
}

/** At most this many missed rounds of one schedule are enqueued when Redis is back (a day of hourly rounds). */
const MAX_CATCH_UP_ROUNDS = 24

/**
 * The slots of a schedule from `from` to `until` (both included), oldest first, at most the newest
 * `max`; `more` says whether older ones were left out.
 */
export function slotsBetween(schedule: string, timezone: string, from: Date, until: Date, max: number): { slots: Date[]; more: boolean } {
  const ticks = CronExpressionParser.parse(schedule, { currentDate: new Date(until.getTime() + 1000), tz: timezone })
  const slots: Date[] = []
  while (slots.length <= max) {
    const slot = ticks.prev().toDate()
    if (slot < from) break
    slots.unshift(slot)
  }
  const more = slots.length > max
  return { slots: more ? slots.slice(1) : slots, more }
}

/** One schedule's enqueuing, with what it owes after Redis failed it. */
interface Track {
  what: 'collection round' | 'evaluation'
  schedule: string
  maxCatchUp: number
  /** Enqueues the slot's jobs; returns the id of the job that says the slot is done. */
  enqueue(slot: Date): Promise<string>
  /** The earliest slot not enqueued because Redis failed; null when nothing is owed. */
  owedFrom: Date | null
  /** Slots enqueued and not yet seen finished, oldest first: what Redis restarted empty would lose. */
  unfinished: Array<{ slot: Date; jobId: string }>
}

/**
 * Starts the plan's schedules. Ticks only enqueue; the work happens in the workers. node-cron
 * decides when a tick fires; the clock names its round, so an offset clock (CLOCK_START) rounds
 * in its own time, as everything else that asks it does.
 *
 * A tick that finds Redis away is owed, not dropped: when the connection is `ready` again (or the
 * next tick succeeds) the rounds missed since the last enqueued one are enqueued, at most
 * MAX_CATCH_UP_ROUNDS of them (the newest), and so are the unfinished rounds (enqueued, not yet
 * seen completed or failed; the newest MAX_CATCH_UP_ROUNDS) that Redis no longer holds because it
 * restarted empty. For the evaluate schedule only the newest slot is owed: an older evaluation
 * would decide no alert. Deterministic job ids keep all of this idempotent. What is owed is kept
 * in memory: a scheduler restarted during the outage starts afresh.
 */
export function startScheduler(deps: { plan: Plan; queues: Queues; rounds: RoundTracker; now: Clock; logger: Logger; redis?: Redis; maxCatchUpRounds?: number }): Scheduler {
  const { plan, queues, now, logger } = deps
  const timezone = plan.company.timezone
  const collect: Track = {
    what: 'collection round',
    schedule: plan.collection.schedule,
    maxCatchUp: deps.maxCatchUpRounds ?? MAX_CATCH_UP_ROUNDS,
    enqueue: async (slot) => (await enqueueRound(queues, deps.rounds, plan, slot)).evaluateJobId,
    owedFrom: null,
    unfinished: [],
  }
  const evaluate: Track = {
    what: 'evaluation',
    schedule: plan.collection.evaluateSchedule,
    maxCatchUp: 1,
    enqueue: (slot) => enqueueEvaluation(queues, slot, 'schedule'),
    owedFrom: null,
    unfinished: [],
  }
  const slotNow = (track: Track) => roundTimeFor(track.schedule, now(), timezone)
  const remember = (track: Track, slot: Date, jobId: string) => {
    if (!track.unfinished.some((u) => u.jobId === jobId)) track.unfinished.push({ slot, jobId })
    track.unfinished.sort((a, b) => a.slot.getTime() - b.slot.getTime())
    track.unfinished.splice(0, Math.max(0, track.unfinished.length - track.maxCatchUp))
  }
  /** Forgets the slots whose jobs have finished: those are not enqueued again after a restart. */
  const prune = async (track: Track) => {
    const states = await Promise.all(track.unfinished.map((u) => queues.evaluate.getJobState(u.jobId)))
    track.unfinished = track.unfinished.filter((_, i) => states[i] !== 'completed' && states[i] !== 'failed')
  }
  /** Enqueues what the track owes; returns how many missed and how many lost slots it enqueued. */
  const catchUp = async (track: Track) => {
    // The debt is taken now, so a tick that fails meanwhile (Redis away again) owes its own slot.
    const from = track.owedFrom
    track.owedFrom = null
    try {
      const missed = from ? slotsBetween(track.schedule, timezone, from, slotNow(track), track.maxCatchUp) : { slots: [], more: false }
      const lost: Date[] = []
      for (const { slot, jobId } of track.unfinished) {
        if (!missed.slots.some((m) => m.getTime() === slot.getTime()) && !(await queues.evaluate.getJob(jobId))) lost.push(slot)
      }
      for (const slot of [...lost, ...missed.slots]) remember(track, slot, await track.enqueue(slot))
      if (missed.more)
        logger.warn({ schedule: track.schedule, from: from?.toISOString(), enqueued: missed.slots.length }, `older missed ${track.what}s were not enqueued (at most ${track.maxCatchUp})`)
      return { missed: missed.slots, lost }
    } catch (err) {
      // Still owed, from the earlier of the two if a tick failed meanwhile.
      const since = track.owedFrom as Date | null
      if (from && !(since && since < from)) track.owedFrom = from
      throw err
    }
  }
  let catchingUp: Promise<void> | undefined
  /** Catches up both schedules, once at a time; tells the user when Redis was away. */
  const catchUpAll = (back: boolean) =>
    (catchingUp ??= (async () => {
      try {
        const rounds = await catchUp(collect)
        const evaluations = await catchUp(evaluate)
        const missed = rounds.missed.length
        const lost = rounds.lost.length
        if (back || missed || lost) {
          logger.info(
            { missed: rounds.missed.map((d) => d.toISOString()), lost: rounds.lost.map((d) => d.toISOString()), evaluations: [...evaluations.lost, ...evaluations.missed].map((d) => d.toISOString()) },
            `Redis is back: ${missed} missed rounds enqueued${lost ? `, ${lost} unfinished rounds it had lost enqueued again` : ''}`,
          )
        }
      } catch (err) {
        // Expected while Redis is away: one plain line, the stack only at debug.
        logger.error({ reason: errorLine(err) }, 'could not enqueue the missed rounds yet; trying again when Redis answers')
        logger.debug({ err }, 'could not enqueue the missed rounds')
      } finally {
        catchingUp = undefined
      }
    })())
  const tick = (track: Track) => async () => {
    const slot = slotNow(track)
    try {
      remember(track, slot, await track.enqueue(slot))
    } catch (err) {
      track.owedFrom ??= slot
      logger.error({ slot: slot.toISOString(), reason: errorLine(err) }, `could not enqueue a ${track.what}; it is enqueued when Redis answers again`)
      logger.debug({ err }, `could not enqueue a ${track.what}`)
      return
    }
    if (track === collect) logger.info({ round: slot.toISOString(), accounts: planAccounts(plan).length }, 'collection round enqueued')
    // Redis answered again without a reconnect (a command had failed): pay what is owed, without
    // holding up the next tick (node-cron skips a tick while the last one runs).
    if (collect.owedFrom || evaluate.owedFrom) void catchUpAll(false)
    else await prune(track).catch((err: unknown) => logger.debug({ err }, 'could not check which rounds have finished'))
  }
  const tasks: ScheduledTask[] = [
    cron.schedule(plan.collection.schedule, tick(collect), { timezone, name: 'collect', noOverlap: true }),
    cron.schedule(plan.collection.evaluateSchedule, tick(evaluate), { timezone, name: 'evaluate', noOverlap: true }),
  ]
  let readyBefore = deps.redis?.status === 'ready'
  const onReady = () => {
    const back = readyBefore
    readyBefore = true
    void catchUpAll(back)
  }
  deps.redis?.on('ready', onReady)
  logger.info({ collect: plan.collection.schedule, evaluate: plan.collection.evaluateSchedule, timezone }, 'scheduler started')
  return {
    async stop() {
      deps.redis?.off('ready', onReady)
      for (const task of tasks) await task.destroy()
      await catchingUp
    },
  }
}
