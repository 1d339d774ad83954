import { Worker } from 'bullmq'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createQueues, type Queues } from '../../core/queues.ts'
import { createRedis, type Redis } from '../../core/redis.ts'
import { enqueueBackfill, planBackfill } from '../../ingest/backfill.ts'
import { openCredentials } from '../../ingest/auth/index.ts'
import { createCollectors } from '../../ingest/collectors/index.ts'
import { loadPlan, type Plan } from '../../plan/plan.ts'
import { simulatorEnvironment, startSimulator, type RunningSimulator } from '../../simulator/index.ts'
import { createCollectProcessor } from '../../workers/collect-worker.ts'
import { createWriters, type Writers } from '../../core/tables.ts'
import { openTestClickHouse, type TestClickHouse } from '../helpers/clickhouse.ts'
import { silentLogger, testConfig } from '../helpers/runtime.ts'
import { until } from '../helpers/until.ts'

const NOW = new Date('2026-11-26T09:00:00Z')
let sim: RunningSimulator
let db: TestClickHouse
let writers: Writers
let plan: Plan
let redis: Redis
const opened: Queues[] = []
let cleanupConfig: () => void
let config: ReturnType<typeof testConfig>['config']

beforeAll(async () => {
  sim = await startSimulator({ now: () => NOW })
  db = await openTestClickHouse('backfill')
  writers = createWriters(db.ch, { maxRows: 5000, flushIntervalMs: 20, logger: silentLogger })
  plan = await loadPlan('examples/plan.yaml')
  const test = testConfig('backfill', { ...simulatorEnvironment(sim.url), FB_PAGE_TOKEN: 'main-token', FB_BANDUNG_PAGE_TOKEN: 'bandung-token' })
  config = test.config
  cleanupConfig = test.cleanup
  redis = createRedis(config.REDIS_URL, 'worker')
})
afterAll(async () => {
  for (const queues of opened) {
    await queues.collect.obliterate({ force: true })
    await queues.close()
  }
  redis?.disconnect()
  await writers?.close()
  await sim?.close()
  await db?.cleanup()
  cleanupConfig?.()
})

const request = { from: '2026-04-01', to: '2026-11-20', network: 'facebook' }

function startWorker(prefix: string) {
  const processor = createCollectProcessor({
    plan,
    ch: db.ch,
    writers,
    collectors: createCollectors(config),
    credentials: openCredentials({ config, plan, now: () => NOW, logger: silentLogger }),
    lookbackDays: 28,
    now: () => NOW,
    logger: silentLogger,
  })
  return new Worker('collect', processor, { connection: redis, prefix, concurrency: 1 })
}

async function runUntil(queues: Queues, done: (completed: number) => boolean) {
  let completed = 0
  await until('the backfill to progress', async () => done((completed = await queues.collect.getCompletedCount())), 60_000, 50)
  return completed
}

/** The stored history, without the collection time (which differs between runs by design). */
async function history(): Promise<string[]> {
  const rows = await db.ch.rows<Record<string, unknown>>("SELECT network, account_id, metric, toString(observed_at) AS at, value FROM observations FINAL WHERE observed_at < '2026-11-21' ORDER BY ALL")
  return rows.map((r) => JSON.stringify(r))
}

describe('backfill', () => {
  it('splits the range into chunks the API accepts and says what is not available', () => {
    const backfill = planBackfill(plan, createCollectors(config), { from: '2023-01-01', to: '2026-11-20', network: 'facebook' }, NOW)
    expect(backfill.chunks.every((c) => (Date.parse(c.window.to) - Date.parse(c.window.from)) / 86_400_000 <= 89)).toBe(true)
    expect(backfill.chunks[0]!.window.from).toBe('2024-11-26')
    expect(backfill.unavailable.map((u) => u.reason)).toContain('days before 2024-11-26 are beyond what the API keeps (730 days)')
    expect(() => planBackfill(plan, createCollectors(config), { from: '2026-13-01' }, NOW)).toThrow(/--from: "2026-13-01" is not a date/)
    // X keeps no history, and a personal TikTok account neither: said plainly, no chunks
    const all = planBackfill(plan, createCollectors(config), { from: '2026-10-01', to: '2026-11-20' }, NOW)
    expect(all.chunks.some((c) => c.network === 'x' || c.accountId === 'kopi-nusantara-tiktok')).toBe(false)
    expect(all.unavailable).toContainEqual({ network: 'x', accountId: 'kopi-nusantara-x', reason: 'this API keeps no history: only current counts, collected from now on' })
    expect(all.unavailable).toContainEqual({ network: 'tiktok', accountId: 'kopi-nusantara-tiktok', reason: 'this API keeps no history: only current counts, collected from now on' })
    expect(all.chunks.some((c) => c.accountId === 'kopi-nusantara-bandung-tiktok')).toBe(true)
    expect(() => planBackfill(plan, createCollectors(config), { from: '2026-01-01', accountId: 'nope' }, NOW)).toThrow(/no account of the plan matches --account nope/)
  })

  it('ends an interrupted and restarted backfill with exactly the rows of an uninterrupted one', async () => {
    const chunks = planBackfill(plan, createCollectors(config), request, NOW).chunks
    expect(chunks.length).toBe(6) // two Pages × three windows of at most 89 days

    // 1. uninterrupted, on its own queues
    const clean = createQueues(redis, `${config.QUEUE_PREFIX}-clean`)
    opened.push(clean)
    await enqueueBackfill(clean, chunks)
    const cleanWorker = startWorker(`${config.QUEUE_PREFIX}-clean`)
    await runUntil(clean, (n) => n === chunks.length)
    await cleanWorker.close()
    await writers.flush()
    const expected = await history()
    expect(expected.length).toBeGreaterThan(1000)
    await db.ch.command('TRUNCATE TABLE observations')

    // 2. interrupted after two chunks, then the same command again
    const queues = createQueues(redis, `${config.QUEUE_PREFIX}-interrupted`)
    opened.push(queues)
    await enqueueBackfill(queues, chunks)
    const first = startWorker(`${config.QUEUE_PREFIX}-interrupted`)
    await runUntil(queues, (n) => n >= 2)
    await first.close()
    const done = await queues.collect.getCompletedCount()
    expect(done).toBeLessThan(chunks.length)
    const again = await enqueueBackfill(queues, chunks)
    expect(again.alreadyDone).toBe(done)
    const second = startWorker(`${config.QUEUE_PREFIX}-interrupted`)
    await runUntil(queues, (n) => n === chunks.length)
    await second.close()
    await writers.flush()
    expect(await history()).toEqual(expected)

    // 3. repeating a finished backfill adds nothing
    const rawBefore = (await db.ch.rows<{ n: string }>('SELECT count() AS n FROM observations'))[0]!.n
    expect(await enqueueBackfill(queues, chunks)).toEqual({ added: 0, retried: 0, alreadyDone: chunks.length })
    expect((await db.ch.rows<{ n: string }>('SELECT count() AS n FROM observations'))[0]!.n).toBe(rawBefore)
  })
})
