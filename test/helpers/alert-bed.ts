import { Queue } from 'bullmq'
import { createRedis, type Redis } from '../../core/redis.ts'
import type { KpiEvaluation } from '../../kpi/evaluate.ts'
import type { Plan } from '../../kpi/plan.ts'
import { createWriters, type Writers } from '../../workers/writers.ts'
import { openTestClickHouse, type TestClickHouse } from './clickhouse.ts'
import { silentLogger, uniqueSuffix } from './runtime.ts'

/** What the alert engine's tests share: a migrated ClickHouse, its writers, the real Redis and a notify queue of their own. */
export interface AlertBed {
  db: TestClickHouse
  writers: Writers
  redis: Redis
  queue: Queue
  /** The queue prefix (also the alert lock's), unique to the test file. */
  prefix: string
  close(): Promise<void>
}

export async function openAlertBed(name: string): Promise<AlertBed> {
  const db = await openTestClickHouse(name)
  const writers = createWriters(db.ch, { maxRows: 1000, flushIntervalMs: 20, logger: silentLogger })
  const redis = createRedis('redis://127.0.0.1:6379', 'worker')
  const prefix = `test-${name.replace(/_/g, '-')}-${uniqueSuffix()}`
  const queue = new Queue('notify', { connection: redis, prefix })
  return {
    db,
    writers,
    redis,
    queue,
    prefix,
    async close() {
      await writers.close()
      await queue.obliterate({ force: true })
      await queue.close()
      redis.disconnect()
      await db.cleanup()
    },
  }
}

/** A KPI evaluation of November 2026 in Jakarta, with the given status and numbers. */
export function novemberEvaluation(
  plan: Plan,
  kpiId: string,
  status: KpiEvaluation['status'],
  at: Date,
  numbers: { actual: number; expectedToDate: number } = { actual: 400, expectedToDate: 600 },
): KpiEvaluation {
  const kpi = plan.kpis.find((k) => k.id === kpiId)!
  return { kpi, evaluatedAt: at, period: { start: new Date('2026-10-31T17:00:00Z'), end: new Date('2026-11-30T17:00:00Z'), label: '2026-11' }, ...numbers, attainment: 0.44, status }
}
