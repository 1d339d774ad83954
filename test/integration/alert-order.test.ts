import type { Queue } from 'bullmq'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { processAlerts, type AlertEngineDeps } from '../../alerts/engine.ts'
import type { Redis } from '../../core/redis.ts'
import type { KpiEvaluation } from '../../kpi/evaluate.ts'
import { parsePlan, type Plan } from '../../plan/plan.ts'
import type { SourceHealth } from '../../ingest/source-health.ts'
import type { TestClickHouse } from '../helpers/clickhouse.ts'
import { novemberEvaluation, openAlertBed, type AlertBed } from '../helpers/alert-bed.ts'

/**
 * Evaluations that reach the alert engine out of order (a backlog of retried jobs after an outage)
 * must not resolve what is still failing: an evaluation older than the newest one decided on is
 * stored but decides nothing. Real ClickHouse and Redis; the notify queue is read, not worked.
 */
let db: TestClickHouse
let redis: Redis
let queue: Queue
let prefix: string
let bed: AlertBed
const example = parseYaml(readFileSync('examples/plan.yaml', 'utf8')) as Record<string, unknown>
const plan: Plan = parsePlan(example, 'examples/plan.yaml')

beforeAll(async () => {
  bed = await openAlertBed('alert_order')
  ;({ db, redis, queue, prefix } = bed)
})
afterAll(async () => bed?.close())

const minutes = (m: number) => new Date(Date.UTC(2026, 10, 20, 3) + m * 60_000)
const deps: () => AlertEngineDeps = () => bed.engineDeps(plan, { redis, lockPrefix: prefix })

const likes = (status: KpiEvaluation['status'], at: Date): KpiEvaluation => novemberEvaluation(plan, 'fb-likes-month', status, at)

/** The main Page: failing since its last success at minute 0, so stale once an hour has passed. */
const health: SourceHealth[] = [
  {
    network: 'facebook',
    accountId: 'kopi-nusantara',
    status: 'failing',
    lastSuccessAt: minutes(0),
    lastErrorAt: minutes(100),
    lastErrorCode: '2',
    lastError: 'service unavailable',
    quotaResetsAt: null,
    updatedAt: minutes(100),
  },
]

const sent = async () =>
  (await queue.getJobs(['waiting', 'delayed', 'completed', 'failed', 'active'])).map((j) => `${(j.data as { alertKey: string; event: string }).alertKey} ${(j.data as { event: string }).event}`).sort()

describe('alerts decided in time order only', () => {
  it('sends no false RESOLVED when older evaluations arrive after newer ones', async () => {
    // minute 90: likes at risk, and the Page stale (90 min since its last success): both fire
    expect(await processAlerts(deps(), [likes('at_risk', minutes(90))], health, minutes(90))).toBe(2)
    // the backlog: minute 30 (data "fresh", likes on track as judged then) and minute 60 arrive late
    expect(await processAlerts(deps(), [likes('on_track', minutes(30))], health, minutes(30))).toBe(0)
    expect(await processAlerts(deps(), [likes('on_track', minutes(60))], health, minutes(60))).toBe(0)
    // minute 120: still failing; no new email within the repeat interval
    expect(await processAlerts(deps(), [likes('at_risk', minutes(120))], health, minutes(120))).toBe(0)
    // the same instant again (a retried job) is decided again and sends nothing new
    expect(await processAlerts(deps(), [likes('at_risk', minutes(120))], health, minutes(120))).toBe(0)
    expect(await sent()).toEqual(['freshness.facebook.kopi-nusantara firing', 'kpi.fb-likes-month firing'])
    const states = await db.ch.rows<{ alert_key: string; status: string }>(
      "SELECT alert_key, status FROM alert_state FINAL WHERE alert_key IN ('kpi.fb-likes-month', 'freshness.facebook.kopi-nusantara') ORDER BY alert_key",
    )
    expect(states).toEqual([
      { alert_key: 'freshness.facebook.kopi-nusantara', status: 'firing' },
      { alert_key: 'kpi.fb-likes-month', status: 'firing' },
    ])
    // minute 150: the KPI recovers for real: one RESOLVED
    expect(await processAlerts(deps(), [likes('on_track', minutes(150))], health, minutes(150))).toBe(1)
    expect(await sent()).toEqual(['freshness.facebook.kopi-nusantara firing', 'kpi.fb-likes-month firing', 'kpi.fb-likes-month resolved'])
  })
})
