import { Queue } from 'bullmq'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { processAlerts } from '../../alerts/engine.ts'
import { toClickHouseTime } from '../../core/clickhouse.ts'
import { ApiError } from '../../core/errors.ts'
import { createRedis, type Redis } from '../../core/redis.ts'
import { loadPlan, planAccounts, type Plan } from '../../plan/plan.ts'
import type { RunningSimulator } from '../../simulator/index.ts'
import { readSourceHealth } from '../../ingest/source-health.ts'
import { silentLogger } from '../helpers/runtime.ts'
import { queuePrefix } from '../helpers/redis-keys.ts'
import { useSimulatorHarness } from '../helpers/simulator-harness.ts'

/**
 * A 200 that is not the documented shape (issue 14, item 3): an HTML page, JSON cut short, JSON
 * without the fields a collector reads. Each is a failure of that account's round with a plain
 * message naming the network and endpoint, retried within bounds; nothing of it is stored, the
 * other accounts collect as usual, and a round that stored nothing does not count as fresh data.
 */
const NOW = new Date('2026-11-26T09:00:00Z')
const MINUTE = 60_000
let now = NOW
const harness = useSimulatorHarness('malformed', () => now)
const plan: Plan = await loadPlan('examples/plan.yaml')
let redis: Redis
let notify: Queue

beforeAll(async () => {
  redis = createRedis('redis://127.0.0.1:6379', 'worker')
  notify = new Queue('notify', { connection: redis, prefix: queuePrefix('malformed') })
})
afterAll(async () => {
  await notify?.obliterate({ force: true })
  await notify?.close()
  redis?.disconnect()
})

const account = (id: string) => planAccounts(plan).find((a) => a.id === id)!
const MAIN = account('kopi-nusantara')
const BANDUNG = account('kopi-nusantara-bandung')
const YOUTUBE = account('kopi-nusantara-youtube')
const LINKEDIN = account('kopi-nusantara-linkedin')

/** The collect job's processor against `sim`, as the worker runs it: one retry, short backoff. */
const processorFor = (sim: RunningSimulator) => harness.collectJobs({ plan, sim, env: { HTTP_MAX_RETRIES: '1', HTTP_TIMEOUT_MS: '5000' }, roundAt: () => now })

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.unreachable('the round should fail'),
    (error: unknown) => error as ApiError,
  )
const stored = async (accountId: string) => Number((await harness.db.ch.rows<{ n: string }>('SELECT count() AS n FROM observations FINAL WHERE account_id = {id:String}', { id: accountId }))[0]!.n)
const healthOf = async (accountId: string) => (await readSourceHealth(harness.db.ch)).find((h) => h.accountId === accountId)
const json = { 'Content-Type': 'application/json; charset=UTF-8' }

describe('a 200 that is not the documented shape', () => {
  it('an HTML page or JSON cut short fails that account with a plain message, stores nothing of it, and leaves the others alone', async () => {
    const sim = await harness.start()
    const collect = processorFor(sim)
    sim.injectFault({ path: /^\/youtube\/v3\/channels$/, status: 200, headers: json, body: '{"kind":"youtube#channelListResponse","items":[{"id":"UCkopinus', times: 10 })
    sim.injectFault({ path: new RegExp(`^/v25\\.0/${BANDUNG.apiId}$`), status: 200, body: '<html><body><h1>Service temporarily unavailable</h1></body></html>', times: 10 })

    const youtube = await failure(collect(YOUTUBE))
    expect(youtube).toBeInstanceOf(ApiError)
    // Not "YouTube has no channel with id …: check the account's apiId": the apiId is fine.
    expect(youtube.message).toMatch(/^youtube GET \/youtube\/v3\/channels: the response is not valid JSON \(\d+ bytes of application\/json, cut short or malformed\) \(gave up after 2 attempts\)$/)
    expect(youtube.code).toBe('API_RESPONSE_INVALID')
    expect(youtube.retryable).toBe(true)

    const bandung = await failure(collect(BANDUNG))
    expect(bandung.message).toBe(`facebook GET /v25.0/${BANDUNG.apiId}: the response is not JSON (text/html) (gave up after 2 attempts)`)

    const main = await collect(MAIN)
    expect(main).toMatchObject({ status: 'collected' })
    await harness.writers.flush()
    expect(await stored(YOUTUBE.id)).toBe(0)
    expect(await stored(BANDUNG.id)).toBe(0)
    expect(await stored(MAIN.id)).toBeGreaterThan(100)

    expect(await healthOf(YOUTUBE.id)).toMatchObject({ status: 'failing', lastErrorCode: 'API_RESPONSE_INVALID', lastError: youtube.message, lastSuccessAt: null })
    expect(await healthOf(BANDUNG.id)).toMatchObject({ status: 'failing', lastErrorCode: 'API_RESPONSE_INVALID', lastError: bandung.message, lastSuccessAt: null })
    expect(await healthOf(MAIN.id)).toMatchObject({ status: 'healthy', lastErrorCode: '' })
    // Retried within bounds: the first try and one retry, then the job is BullMQ's to retry.
    expect(sim.requests().filter((r) => r.path === '/youtube/v3/channels')).toHaveLength(2)
  })

  it('JSON without the fields a collector reads names what is wrong instead of a TypeError or a silent gap', async () => {
    const sim = await harness.start()
    const collect = processorFor(sim)
    // Graph insights without `data` (today: "Cannot read properties of undefined (reading 'find')").
    sim.injectFault({ path: new RegExp(`^/v25\\.0/${MAIN.apiId}/insights$`), status: 200, headers: json, body: '{"paging":{}}', times: 10 })
    // LinkedIn's follower total as text (today: no follower row, and the account "healthy").
    sim.injectFault({ path: /^\/linkedin\/rest\/networkSizes\//, status: 200, headers: json, body: '{"firstDegreeSize":"12,400"}', times: 10 })

    const facebook = await failure(collect(MAIN))
    expect(facebook).toBeInstanceOf(ApiError)
    expect(facebook.message).toBe(`facebook GET /v25.0/${MAIN.apiId}/insights: the response lacks "data" (gave up after 2 attempts)`)
    const linkedin = await failure(collect(LINKEDIN))
    expect(linkedin.message).toBe('linkedin GET /linkedin/rest/networkSizes/urn%3Ali%3Aorganization%3A90000001: "firstDegreeSize" in the response is text, not a number (gave up after 2 attempts)')
    expect(await healthOf(LINKEDIN.id)).toMatchObject({ status: 'failing', lastErrorCode: 'API_RESPONSE_INVALID', lastError: linkedin.message })
    await harness.writers.flush()
    expect(await stored(LINKEDIN.id)).toBe(0)
  })

  it('a round that stored no observations is not a success: last success stays, and the freshness alert fires after the stale window', async () => {
    await harness.db.ch.command('TRUNCATE TABLE source_health')
    const sim = await harness.start()
    const collect = processorFor(sim)
    const t0 = new Date(NOW.getTime() + 60 * MINUTE)
    now = t0
    expect(await collect(MAIN)).toMatchObject({ status: 'collected' })
    expect(await healthOf(MAIN.id)).toMatchObject({ status: 'healthy', lastSuccessAt: t0 })

    // The next round: every answer is well formed, and empty (a Page node without counts, no posts, no insights).
    now = new Date(t0.getTime() + 50 * MINUTE)
    sim.injectFault({ path: new RegExp(`^/v25\\.0/${MAIN.apiId}$`), status: 200, headers: json, body: JSON.stringify({ id: MAIN.apiId }), times: 1 })
    sim.injectFault({ path: new RegExp(`^/v25\\.0/${MAIN.apiId}/posts$`), status: 200, headers: json, body: '{"data":[]}', times: 1 })
    sim.injectFault({ path: new RegExp(`^/v25\\.0/${MAIN.apiId}/insights$`), status: 200, headers: json, body: '{"data":[]}', times: 20 })
    expect(await collect(MAIN)).toMatchObject({ status: 'collected', summary: { observations: 0 } })
    const health = await healthOf(MAIN.id)
    expect(health).toMatchObject({ status: 'failing', lastErrorCode: 'no_observations', lastError: 'the round stored no observations', lastSuccessAt: t0 })
    expect(health!.lastErrorAt).toEqual(now)

    // 65 minutes after the last round that stored anything, with a stale window of an hour.
    const at = new Date(t0.getTime() + 65 * MINUTE)
    const deps = { plan, ch: harness.db.ch, writers: harness.writers, notifyQueue: notify, tokenAdvice: () => 'renew it', staleAfterMs: 60 * MINUTE, logger: silentLogger }
    await processAlerts(deps, [], await readSourceHealth(harness.db.ch), at)
    const emails = (await notify.getJobs(['waiting', 'delayed'])).map((job) => job.data as { subject: string; text: string })
    const stale = emails.filter((e) => e.subject.startsWith('[social-kpi] STALE DATA: facebook account "Kopi Nusantara"'))
    expect(stale.map((e) => e.subject)).toEqual([`[social-kpi] STALE DATA: facebook account "Kopi Nusantara" has not been collected since 26 Nov 2026, 17:00 GMT+7`]) // t0, in the plan's zone
    expect(stale[0]!.text).toContain('no_observations: the round stored no observations')
    expect(toClickHouseTime(health!.lastSuccessAt!)).toBe(toClickHouseTime(t0))
  })
})
