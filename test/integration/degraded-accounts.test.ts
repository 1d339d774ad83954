import { Queue } from 'bullmq'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { processAlerts } from '../../alerts/engine.ts'
import { createRedis, type Redis } from '../../core/redis.ts'
import { loadPlan, planAccounts, type Plan } from '../../plan/plan.ts'
import type { RunningSimulator } from '../../simulator/index.ts'
import { readSourceHealth } from '../../ingest/source-health.ts'
import { silentLogger } from '../helpers/runtime.ts'
import { queuePrefix } from '../helpers/redis-keys.ts'
import { useSimulatorHarness } from '../helpers/simulator-harness.ts'

/**
 * Partial failure is a state: when the API refuses one part of an account (LinkedIn's follower
 * statistics, a TikTok Business video list) the rest is still collected, and an account whose
 * refused metric a KPI needs is `degraded`, with one email naming the metric, the KPI it starves
 * and what to do, and a resolved notice once the metric comes back.
 */
const NOW = new Date('2026-11-26T09:00:00Z')
const MINUTE = 60_000
let now = NOW
const harness = useSimulatorHarness('degraded', () => now)
const plan: Plan = await loadPlan('examples/plan.yaml')
const account = (id: string) => planAccounts(plan).find((a) => a.id === id)!
const LINKEDIN = account('kopi-nusantara-linkedin')
const TIKTOK_BUSINESS = account('kopi-nusantara-bandung-tiktok')
const INSTAGRAM = account('kopi-nusantara-instagram')
let redis: Redis
let notify: Queue
const json = { 'Content-Type': 'application/json; charset=UTF-8' }

beforeAll(() => {
  redis = createRedis('redis://127.0.0.1:6379', 'worker')
  notify = new Queue('notify', { connection: redis, prefix: queuePrefix('degraded') })
})
afterAll(async () => {
  await notify?.obliterate({ force: true })
  await notify?.close()
  redis?.disconnect()
})

const processorFor = (sim: RunningSimulator) => harness.collectJobs({ plan, sim, env: { HTTP_MAX_RETRIES: '1' }, roundAt: () => now })

const stored = async (accountId: string, metric: string) =>
  Number((await harness.db.ch.rows<{ n: string }>('SELECT count() AS n FROM observations FINAL WHERE account_id = {id:String} AND metric = {metric:String}', { id: accountId, metric }))[0]!.n)
const healthOf = async (accountId: string) => (await readSourceHealth(harness.db.ch)).find((h) => h.accountId === accountId)
const deps = () => ({ plan, ch: harness.db.ch, writers: harness.writers, notifyQueue: notify, tokenAdvice: () => 'renew it', staleAfterMs: 600 * MINUTE, logger: silentLogger })
const emails = async (prefix: string) =>
  (await notify.getJobs(['waiting', 'delayed', 'completed'])).map((job) => job.data as { subject: string; text: string }).filter((e) => e.subject.startsWith(prefix))

describe('an account with a refused metric', () => {
  it('LinkedIn follower statistics refused: degraded with the reason and one email, its other metrics stored', async () => {
    const sim = await harness.start()
    const collect = processorFor(sim)
    const refusal = { serviceErrorCode: 100, code: 'INVALID_VALUE_FOR_FIELD', message: 'Invalid timeIntervals parameter', status: 400 }
    sim.injectFault({ path: /organizationalEntityFollowerStatistics$/, status: 400, headers: json, body: JSON.stringify(refusal), times: 20 })
    expect(await collect(LINKEDIN)).toMatchObject({ status: 'collected' })
    await harness.writers.flush()
    expect(await stored(LINKEDIN.id, 'followers_gained')).toBe(0)
    expect(await stored(LINKEDIN.id, 'likes')).toBe(28)
    expect(await stored(LINKEDIN.id, 'followers')).toBe(1)
    const health = await healthOf(LINKEDIN.id)
    expect(health).toMatchObject({ status: 'degraded', lastErrorCode: 'metric_refused', refusedMetrics: ['followers_gained'], lastSuccessAt: now })
    expect(health!.lastError).toMatch(
      /^follower statistics \(followers_gained\): .*Invalid timeIntervals parameter.* — LinkedIn gives follower statistics to a token of a member with the ADMINISTRATOR role/,
    )
    // The request is not retried as if transient: one call per round.
    expect(sim.requests().filter((r) => r.path.endsWith('organizationalEntityFollowerStatistics'))).toHaveLength(1)

    await processAlerts(deps(), [], await readSourceHealth(harness.db.ch), now)
    const degraded = await emails('[social-kpi] DEGRADED: linkedin')
    expect(degraded.map((e) => e.subject)).toEqual(['[social-kpi] DEGRADED: linkedin account "Kopi Nusantara on LinkedIn" gives no followers_gained'])
    expect(degraded[0]!.text).toContain('New LinkedIn followers this month (linkedin-followers-gained-month)')
    expect(degraded[0]!.text).toContain('ADMINISTRATOR role')

    // The next round: still refused, no second email; then collected again, one resolved notice.
    now = new Date(NOW.getTime() + 15 * MINUTE)
    await collect(LINKEDIN)
    await processAlerts(deps(), [], await readSourceHealth(harness.db.ch), now)
    expect(await emails('[social-kpi] DEGRADED: linkedin')).toHaveLength(1)
    const clean = await harness.start()
    now = new Date(NOW.getTime() + 30 * MINUTE)
    await processorFor(clean)(LINKEDIN)
    expect(await healthOf(LINKEDIN.id)).toMatchObject({ status: 'healthy', refusedMetrics: [] })
    await processAlerts(deps(), [], await readSourceHealth(harness.db.ch), now)
    expect((await emails('[social-kpi] RESOLVED: linkedin account "Kopi Nusantara on LinkedIn" gives every metric again')).length).toBe(1)
  })

  it('a TikTok Business account whose video list is refused still stores its daily metrics, and is degraded for the views KPI', async () => {
    now = NOW
    const sim = await harness.start()
    const collect = processorFor(sim)
    const refusal = { code: 40002, message: 'Video list is not available for this account', request_id: 'req-1', data: {} }
    sim.injectFault({ path: /\/business\/video\/list\/$/, status: 200, headers: json, body: JSON.stringify(refusal), times: 5 })
    expect(await collect(TIKTOK_BUSINESS)).toMatchObject({ status: 'collected' })
    await harness.writers.flush()
    expect(await stored(TIKTOK_BUSINESS.id, 'views')).toBe(0)
    expect(await stored(TIKTOK_BUSINESS.id, 'profile_views')).toBeGreaterThan(20)
    expect(await stored(TIKTOK_BUSINESS.id, 'followers')).toBeGreaterThan(20)
    const health = await healthOf(TIKTOK_BUSINESS.id)
    expect(health).toMatchObject({ status: 'degraded', lastErrorCode: 'metric_refused' })
    expect(health!.refusedMetrics).toEqual(['views'])
    expect(health!.lastError).toContain('Video list is not available for this account')
  })

  it('an Instagram day whose end_time ends no day: that value is skipped and the account degraded for new_followers, not failed', async () => {
    now = NOW
    const sim = await harness.start()
    const collect = processorFor(sim)
    const values = [
      { value: 31, end_time: '2026-11-25T08:00:00+0000' },
      { value: 33, end_time: '2026-11-25T20:00:00+0000' },
    ]
    const body = JSON.stringify({ data: [{ name: 'follower_count', period: 'day', values, id: `${INSTAGRAM.apiId}/insights/follower_count/day` }] })
    // The first insights request of a round is follower_count.
    sim.injectFault({ path: new RegExp(`^/v25\\.0/${INSTAGRAM.apiId}/insights$`), status: 200, headers: json, body, times: 1 })
    expect(await collect(INSTAGRAM)).toMatchObject({ status: 'collected' })
    await harness.writers.flush()
    expect(await stored(INSTAGRAM.id, 'new_followers')).toBe(1)
    expect(await stored(INSTAGRAM.id, 'clicks')).toBe(28)
    const health = await healthOf(INSTAGRAM.id)
    expect(health).toMatchObject({ status: 'degraded', lastErrorCode: 'metric_refused', refusedMetrics: ['new_followers'], lastSuccessAt: now })
    expect(health!.lastError).toBe('follower_count (new_followers): 1 of 2 daily values left out: end_time "2026-11-25T20:00:00+0000" is not the end of a day (a Pacific or UTC−07:00 midnight)')
  })
})
