import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiRateLimitError } from '../../core/errors.ts'
import { createRedis, type Redis } from '../../core/redis.ts'
import { createCollectors } from '../../ingest/collectors/index.ts'
import type { CollectContext } from '../../ingest/collectors/types.ts'
import { createRequestGate } from '../../ingest/quota.ts'
import type { PlanAccount } from '../../plan/plan.ts'
import { simulatorEnvironment, startSimulator, type RunningSimulator } from '../../simulator/index.ts'
import { queuePrefix } from '../helpers/redis-keys.ts'
import { silentLogger, testConfig, uniqueSuffix } from '../helpers/runtime.ts'
import { pause } from '../helpers/until.ts'

let redis: Redis
let sim: RunningSimulator
const prefix = queuePrefix('quota')
const NOW = new Date('2026-11-26T09:00:00Z')

beforeAll(async () => {
  redis = createRedis('redis://127.0.0.1:6379', 'worker')
  // A small per-token budget, so that the test reaches it quickly.
  sim = await startSimulator({ now: () => NOW, callsPerHour: 40 })
})
afterAll(async () => {
  redis.disconnect()
  await sim?.close()
})

describe('request gate (shared call budget in Redis)', () => {
  it('admits `limit` calls per sliding window, then says how long to wait', async () => {
    const gate = createRequestGate({ redis, prefix, network: 'x', accountId: 'a', policy: { limit: 5, windowMs: 800, scope: 'account', source: 'test' }, accountsSharing: 1 })
    const waits: number[] = []
    for (let i = 0; i < 6; i++) waits.push(await gate.take())
    expect(waits.slice(0, 5)).toEqual([0, 0, 0, 0, 0])
    expect(waits[5]).toBeGreaterThan(0)
    expect(waits[5]).toBeLessThanOrEqual(800)
    await pause(waits[5]! + 20)
    expect(await gate.take()).toBe(0)
  })

  it("splits an app-wide quota evenly: one account cannot spend the others' share", async () => {
    const policy = { limit: 10, windowMs: 60_000, scope: 'app' as const, source: 'test' }
    const gate = (accountId: string) => createRequestGate({ redis, prefix, network: 'youtube', accountId, policy, accountsSharing: 2 })
    const a = gate('channel-a')
    const b = gate('channel-b')
    const admitted = async (g: typeof a) => {
      let n = 0
      while ((await g.take()) === 0 && n < 100) n++
      return n
    }
    expect(await admitted(a)).toBe(5)
    expect(await admitted(b)).toBe(5)
  })

  it('keeps a collector within the documented limit the simulator enforces, handing the rest to the queue', async () => {
    const { config, cleanup } = testConfig('quota', simulatorEnvironment(sim.url))
    try {
      const collector = createCollectors(config, { retry: { maxInlineWaitMs: 1_000 } }).facebook
      const account: PlanAccount = { id: 'main', name: 'Main', apiId: '104729384756102', tokenEnv: 'T', network: 'facebook' }
      const token = `quota-token-${uniqueSuffix()}`
      const context: CollectContext = {
        account,
        token,
        roundAt: NOW,
        now: () => NOW,
        lookbackDays: 28,
        logger: silentLogger,
        gate: createRequestGate({ redis, prefix, network: 'facebook', accountId: 'main', policy: { limit: 30, windowMs: 3_600_000, scope: 'account', source: 'test' }, accountsSharing: 1 }),
        emit: async () => undefined,
      }
      const error = await collector.collect(context).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ApiRateLimitError)
      expect((error as Error).message).toContain("this account's share of the documented call limit is spent")
      // The simulator (40 per hour for this token) saw exactly our budget of 30, so it never had to refuse us.
      expect(sim.requests().filter((r) => r.token === token)).toHaveLength(30)
    } finally {
      cleanup()
    }
  })
})
