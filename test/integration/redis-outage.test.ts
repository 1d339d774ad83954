import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRuntime, type Runtime } from '../../cli/runtime.ts'
import { systemClock } from '../../core/clock.ts'
import { createLogger } from '../../core/logger.ts'
import { createQueues, timeStamp, type Queues } from '../../core/queues.ts'
import { createRedis, redisAnswers, type Redis } from '../../core/redis.ts'
import { startScheduler, type Scheduler } from '../../ingest/scheduler.ts'
import { loadPlan, type Plan } from '../../kpi/plan.ts'
import { testConfig, uniqueSuffix } from '../helpers/runtime.ts'
import { until as waitUntil } from '../helpers/until.ts'

/**
 * Rounds survive a Redis outage: a private redis-server, stopped and started again empty (it keeps
 * nothing on disk) while a scheduler ticks every second. The rounds due meanwhile are enqueued when
 * it is back, so are the unfinished rounds it lost, and the evaluate queue's global concurrency
 * of 1 is set again.
 */
let dir: string
let port: number
let url: string
let plan: Plan
const SECOND = 1_000

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
const until = (what: string, check: () => Promise<boolean> | boolean, timeoutMs = 15_000) => waitUntil(what, check, timeoutMs, 50)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

// The server is infrastructure, not code under test: when the suite runs under libfaketime (CI's
// second run), it starts without the preloaded library, which hangs redis-server's daemonizing.
const serverEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'LD_PRELOAD' && !name.startsWith('FAKETIME')))

async function startRedis() {
  execFileSync('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--dir', dir, '--pidfile', join(dir, 'redis.pid'), '--daemonize', 'yes'], { env: serverEnv, timeout: 10_000 })
  await until('redis-server to answer', () => redisAnswers(url, 300))
}
async function stopRedis() {
  let pid: number
  try {
    pid = Number(readFileSync(join(dir, 'redis.pid'), 'utf8').trim())
  } catch {
    return
  }
  try {
    process.kill(pid, 'SIGTERM')
  } catch {
    return
  }
  await until('redis-server to stop', () => {
    try {
      process.kill(pid, 0)
      return false
    } catch {
      return true
    }
  })
}

/** A logger whose lines the test reads. */
function capturingLogger() {
  const lines: Array<{ msg: string; missed?: string[]; lost?: string[] }> = []
  return { lines, logger: createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line)) } }) }
}
/** The round times whose evaluate job Redis holds, in any state. */
async function roundsHeld(queues: Queues): Promise<string[]> {
  const jobs = await queues.evaluate.getJobs(['waiting-children', 'waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized'])
  return jobs.map((job) => job.id!).filter((id) => id.startsWith('evaluate-round-')).sort()
}
const roundId = (at: Date) => `evaluate-round-${timeStamp(at)}`
/** Every whole second from `from` to `to`, as round job ids. */
const everySecond = (from: Date, to: Date) => {
  const ids: string[] = []
  for (let t = Math.ceil(from.getTime() / SECOND) * SECOND; t <= to.getTime(); t += SECOND) ids.push(roundId(new Date(t)))
  return ids
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'social-kpi-redis-outage-'))
  port = await freePort()
  url = `redis://127.0.0.1:${port}`
  const example = await loadPlan('examples/plan.yaml')
  plan = { ...example, collection: { ...example.collection, schedule: '* * * * * *', evaluateSchedule: '0 0 1 1 *' } }
  await startRedis()
})
afterAll(async () => {
  await stopRedis()
  rmSync(dir, { recursive: true, force: true })
})

describe('a Redis outage while the scheduler runs', () => {
  it('enqueues the rounds missed while Redis was down and the unfinished ones it lost, then keeps ticking', async () => {
    const { lines, logger } = capturingLogger()
    const producer: Redis = createRedis(url, 'producer')
    producer.on('error', () => undefined)
    const queues = createQueues(producer, `test-outage-${uniqueSuffix()}`)
    for (const queue of [queues.collect, queues.evaluate, queues.notify]) queue.on('error', () => undefined)
    queues.flows.on('error', () => undefined)
    let scheduler: Scheduler | undefined
    try {
      await queues.evaluate.waitUntilReady()
      // No workers: every round stays unfinished, as rounds in flight are when Redis goes.
      scheduler = startScheduler({ plan, queues, now: systemClock, logger, redis: producer })
      await until('three rounds', async () => (await roundsHeld(queues)).length >= 3)
      const enqueuedBefore = await roundsHeld(queues)
      await stopRedis()
      const down = systemClock()
      await sleep(4_500)
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
      // … and so is every round enqueued before (Redis restarted empty lost them, unfinished).
      expect(back.lost!.length).toBeGreaterThanOrEqual(3)
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
      await sleep(3_500)
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
