import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRuntime, type Runtime } from '../../cli/runtime.ts'
import { systemClock } from '../../core/clock.ts'
import { createLogger } from '../../core/logger.ts'
import { createQueues, timeStamp, type Queues } from '../../core/queues.ts'
import { createRedis, type Redis } from '../../core/redis.ts'
import { startScheduler, type Scheduler } from '../../ingest/scheduler.ts'
import { createRoundTracker } from '../../ingest/rounds.ts'
import { loadPlan, type Plan } from '../../plan/plan.ts'
import { createTestRedisServer, type TestRedisServer } from '../helpers/redis-server.ts'
import { testConfig, uniqueSuffix } from '../helpers/runtime.ts'
import { pause, until as waitUntil } from '../helpers/until.ts'

/**
 * Rounds survive a Redis outage: a private redis-server, stopped and started again empty (it keeps
 * nothing on disk) while a scheduler ticks every second. The rounds due meanwhile are enqueued when
 * it is back, so are the unfinished rounds it lost, and the evaluate queue's global concurrency
 * of 1 is set again.
 */
let redis: TestRedisServer
let url: string
let plan: Plan
const SECOND = 1_000

const until = (what: string, check: () => Promise<boolean> | boolean, timeoutMs = 15_000) => waitUntil(what, check, timeoutMs, 50)

// A private redis-server (test/helpers/redis-server.ts), stopped and started again empty.
const startRedis = () => redis.start()
const stopRedis = () => redis.stop()

/** A logger whose lines the test reads. */
function capturingLogger() {
  const lines: Array<{ msg: string; missed?: string[]; lost?: string[] }> = []
  return { lines, logger: createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line)) } }) }
}
/** The round times whose evaluate job Redis holds, in any state. */
async function roundsHeld(queues: Queues): Promise<string[]> {
  const jobs = await queues.evaluate.getJobs(['waiting-children', 'waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized'])
  return jobs
    .map((job) => job.id!)
    .filter((id) => id.startsWith('evaluate-round-'))
    .sort()
}
const roundId = (at: Date) => `evaluate-round-${timeStamp(at)}`
/** Every whole second from `from` to `to`, as round job ids. */
const everySecond = (from: Date, to: Date) => {
  const ids: string[] = []
  for (let t = Math.ceil(from.getTime() / SECOND) * SECOND; t <= to.getTime(); t += SECOND) ids.push(roundId(new Date(t)))
  return ids
}

beforeAll(async () => {
  redis = await createTestRedisServer('redis-outage')
  url = redis.url
  const example = await loadPlan('examples/plan.yaml')
  plan = { ...example, collection: { ...example.collection, schedule: '* * * * * *', evaluateSchedule: '0 0 1 1 *' } }
  await startRedis()
})
afterAll(async () => {
  await redis?.close()
})

describe('a Redis outage while the scheduler runs', () => {
  it('enqueues the rounds missed while Redis was down and the unfinished ones it lost, then keeps ticking', async () => {
    const { lines, logger } = capturingLogger()
    const producer: Redis = createRedis(url, 'producer')
    producer.on('error', () => undefined)
    const queues = createQueues(producer, `test-outage-${uniqueSuffix()}`)
    for (const queue of [queues.collect, queues.evaluate, queues.notify]) queue.on('error', () => undefined)
    let scheduler: Scheduler | undefined
    try {
      await queues.evaluate.waitUntilReady()
      // No workers: every round stays unfinished, as rounds in flight are when Redis goes.
      scheduler = startScheduler({
        plan,
        queues,
        rounds: createRoundTracker({ redis: producer, prefix: queues.collect.opts.prefix!, evaluateQueue: queues.evaluate }),
        now: systemClock,
        logger,
        redis: producer,
      })
      await until('three rounds', async () => (await roundsHeld(queues)).length >= 3)
      const enqueuedBefore = await roundsHeld(queues)
      await stopRedis()
      const down = systemClock()
      await pause(4_500)
      await startRedis()
      const up = systemClock()
      await until('the catch-up', () => lines.some((l) => l.msg.startsWith('Redis is back')))
      const back = lines.find((l) => l.msg.startsWith('Redis is back'))!
      const after = await roundsHeld(queues)

      // Every round due while Redis was down is there, with its deterministic id …
      const due = everySecond(new Date(down.getTime() + SECOND), new Date(up.getTime() - SECOND))
      expect(due.length).toBeGreaterThanOrEqual(2)
      expect(after).toEqual(expect.arrayContaining(due))
      expect(back.missed!.map((at) => roundId(new Date(at)))).toEqual(expect.arrayContaining(due))
      // … and so is every round enqueued before (Redis restarted empty lost them, unfinished): as
      // lost, or as missed when Redis went while its enqueue was answered (the tick then owes it).
      const recovered = [...back.lost!, ...back.missed!].map((at) => roundId(new Date(at)))
      expect(recovered).toEqual(expect.arrayContaining(enqueuedBefore))
      expect(back.lost!.length).toBeGreaterThanOrEqual(enqueuedBefore.length - 1)
      expect(after).toEqual(expect.arrayContaining(back.lost!.map((at) => roundId(new Date(at)))))
      expect(after).toEqual(expect.arrayContaining(enqueuedBefore))
      expect(back.msg).toBe(`Redis is back: ${back.missed!.length} missed rounds enqueued, ${back.lost!.length} unfinished rounds it had lost enqueued again`)
      // The scheduler keeps running.
      await until('a round after the outage', async () => (await roundsHeld(queues)).at(-1)! > roundId(new Date(up.getTime() + SECOND)))
    } finally {
      await scheduler?.stop()
      await queues.close()
      producer.disconnect()
    }
  })

  it('applies the evaluate queue’s global concurrency of 1 again after Redis restarted empty', async () => {
    const { lines, logger } = capturingLogger()
    // Jobs active when Redis restarted empty can keep a BullMQ worker from closing: the bounded shutdown ends it.
    const test = testConfig('redis_outage', { REDIS_URL: url, SHUTDOWN_TIMEOUT_MS: '3000' })
    let runtime: Runtime | undefined
    try {
      runtime = await startRuntime({ config: test.config, plan, logger, scheduler: true, workers: true, now: systemClock })
      expect(await runtime.queues.evaluate.getGlobalConcurrency()).toBe(1)
      await until('a round', async () => (await roundsHeld(runtime!.queues)).length >= 1)
      await stopRedis()
      const down = systemClock()
      await pause(3_500)
      await startRedis()
      const up = systemClock()
      const concurrency = () => runtime!.queues.evaluate.getGlobalConcurrency().catch(() => 'unreachable')
      await until('the global concurrency to be set again', async () => (await concurrency()) === 1).catch(() => undefined)
      expect(await concurrency()).toBe(1)
      expect(lines.map((l) => l.msg)).toContain('Redis is back: queue settings applied again')
      // The rounds due meanwhile are enqueued by the runtime's scheduler too.
      const due = everySecond(new Date(down.getTime() + SECOND), new Date(up.getTime() - SECOND))
      const holdsDue = async () => {
        const held = await roundsHeld(runtime!.queues)
        return due.every((id) => held.includes(id))
      }
      await until('the missed rounds', holdsDue).catch(() => undefined)
      expect(await roundsHeld(runtime.queues)).toEqual(expect.arrayContaining(due))
    } finally {
      await runtime?.shutdown()
      test.cleanup()
    }
  })
})
