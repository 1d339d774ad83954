import { Queue, QueueEvents, Worker } from 'bullmq'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRedis, type Redis } from '../../core/redis.ts'
import { openCredentials } from '../../ingest/auth/index.ts'
import { createCollectors } from '../../ingest/collectors/index.ts'
import { loadPlan, planAccounts, type Plan } from '../../plan/plan.ts'
import { simulatorEnvironment, type RunningSimulator } from '../../simulator/index.ts'
import { createCollectProcessor } from '../../workers/collect-worker.ts'
import { readSourceHealth } from '../../ingest/source-health.ts'
import { queuePrefix } from '../helpers/redis-keys.ts'
import { silentLogger, testConfig } from '../helpers/runtime.ts'
import { useSimulatorHarness } from '../helpers/simulator-harness.ts'

/**
 * A failure the API's dialect calls permanent (Graph's invalid parameter, code 100) fails the job
 * at once, although the collect queue allows 5 attempts; a transient one (Graph's code 2, HTTP 500)
 * is retried and then succeeds.
 */
const NOW = new Date('2026-11-26T09:00:00Z')
const harness = useSimulatorHarness('permanent', () => NOW)
const plan: Plan = await loadPlan('examples/plan.yaml')
const MAIN = planAccounts(plan).find((a) => a.id === 'kopi-nusantara')!
let redis: Redis
const cleanups: Array<() => unknown> = []

beforeAll(() => {
  redis = createRedis('redis://127.0.0.1:6379', 'worker')
})
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
  redis?.disconnect()
})

/** A collect queue with the product's 5 attempts (backoff shortened), worked by the real processor against `sim`. */
async function collectQueue(sim: RunningSimulator) {
  const tokens = Object.fromEntries(planAccounts(plan).flatMap((a) => (a.tokenEnv ? [[a.tokenEnv, `good-token-${a.id}`]] : [])))
  const test = testConfig('permanent', { ...simulatorEnvironment(sim.url), ...tokens })
  const prefix = queuePrefix('permanent')
  const processor = createCollectProcessor({
    plan,
    ch: harness.db.ch,
    writers: harness.writers,
    collectors: createCollectors(test.config, { retry: { baseDelayMs: 5, maxRetries: 0 } }),
    credentials: openCredentials({ config: test.config, plan, now: () => NOW, logger: silentLogger }),
    lookbackDays: 28,
    now: () => NOW,
    logger: silentLogger,
  })
  const queue = new Queue('collect', { connection: redis, prefix })
  const events = new QueueEvents('collect', { connection: createRedis('redis://127.0.0.1:6379', 'worker'), prefix })
  const worker = new Worker('collect', (job, token) => processor(job, token), { connection: createRedis('redis://127.0.0.1:6379', 'worker'), prefix })
  await events.waitUntilReady()
  cleanups.push(async () => {
    await worker.close()
    await events.close()
    await queue.obliterate({ force: true })
    await queue.close()
    test.cleanup()
  })
  return async (jobId: string) => {
    const job = await queue.add('collect', { roundAt: NOW.toISOString(), network: MAIN.network, accountId: MAIN.id }, { jobId, attempts: 5, backoff: { type: 'fixed', delay: 10 } })
    await job.waitUntilFinished(events, 30_000).catch(() => undefined)
    return (await queue.getJob(jobId))!
  }
}

const pageCalls = (sim: RunningSimulator) => sim.requests().filter((r) => r.path === `/v25.0/${MAIN.apiId}`).length

describe('permanent errors are not retried', () => {
  it('an invalid parameter fails the job on its first attempt: the API is called once', async () => {
    const sim = await harness.start()
    const run = await collectQueue(sim)
    sim.injectFault({ path: new RegExp(`^/v25\\.0/${MAIN.apiId}$`), error: { message: '(#100) Tried accessing nonexisting field (fan_count)', code: 100 }, times: 10 })
    const job = await run('permanent')
    expect(await job.getState()).toBe('failed')
    expect(job.attemptsMade).toBe(1)
    expect(job.failedReason).toMatch(/\(#100\) Tried accessing nonexisting field/)
    expect(pageCalls(sim)).toBe(1)
    expect((await readSourceHealth(harness.db.ch)).find((h) => h.accountId === MAIN.id)).toMatchObject({ status: 'failing', lastErrorCode: 'API_REQUEST_FAILED' })
  })

  it('a transient error is retried by the queue and then collects', async () => {
    const sim = await harness.start()
    const run = await collectQueue(sim)
    sim.injectFault({ path: new RegExp(`^/v25\\.0/${MAIN.apiId}$`), status: 500, error: { message: 'An unexpected error has occurred. Please retry your request later.', code: 2 }, times: 2 })
    const job = await run('transient')
    expect(await job.getState()).toBe('completed')
    expect(job.attemptsMade).toBe(3)
    expect(pageCalls(sim)).toBe(3)
  })
})
