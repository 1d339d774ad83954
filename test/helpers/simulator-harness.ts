import { afterAll, beforeAll } from 'vitest'
import type { CollectContext } from '../../ingest/collectors/types.ts'
import type { ObservationRow } from '../../core/tables.ts'
import type { Job } from 'bullmq'
import { openCredentials } from '../../ingest/auth/index.ts'
import { createCollectors } from '../../ingest/collectors/index.ts'
import { planAccounts, type Plan, type PlanAccount } from '../../plan/plan.ts'
import { simulatorEnvironment } from '../../simulator/index.ts'
import { createCollectProcessor, type CollectResult } from '../../workers/collect-worker.ts'
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../simulator/index.ts'
import { createWriters, type Writers } from '../../core/tables.ts'
import { openTestClickHouse, type TestClickHouse } from './clickhouse.ts'
import { silentLogger, testConfig } from './runtime.ts'

export interface SimulatorHarness {
  /** The file's simulator (seed 42, on the given clock). */
  readonly sim: RunningSimulator
  readonly db: TestClickHouse
  readonly writers: Writers
  /** Another simulator on the same clock, closed with the file. */
  start(options?: Partial<SimulatorOptions>): Promise<RunningSimulator>
  /** A collect context that stores rows through the writers and also keeps them in `sink`. */
  context(options: { account: PlanAccount; token: string; at: Date; lookbackDays?: number; sink?: ObservationRow[]; gate?: CollectContext['gate'] }): CollectContext
  /**
   * The collect job's processor, as the worker runs it, against `sim` (default: the file's), with
   * every static token of the plan set (`good-token-<account id>`), short backoff, and `env` on
   * top; its rounds are at `roundAt()` (default: the clock). Closed with the file.
   */
  collectJobs(options: { plan: Plan; sim?: RunningSimulator; env?: Record<string, string>; roundAt?: () => Date }): (account: PlanAccount) => Promise<CollectResult>
}

/**
 * What every collector contract test needs: a simulator, a migrated ClickHouse with writers, and
 * contexts for the collector. Call once at the top of a test file; the hooks clean up after it.
 */
export function useSimulatorHarness(name: string, clock: () => Date): SimulatorHarness {
  const started: RunningSimulator[] = []
  let sim: RunningSimulator | undefined
  let db: TestClickHouse | undefined
  let writers: Writers | undefined
  const start = async (options: Partial<SimulatorOptions> = {}) => {
    const s = await startSimulator({ now: clock, seed: 42, ...options })
    started.push(s)
    return s
  }
  beforeAll(async () => {
    sim = await start()
    db = await openTestClickHouse(name)
    writers = createWriters(db.ch, { maxRows: 5000, flushIntervalMs: 20, logger: silentLogger })
  })
  const cleanups: Array<() => void> = []
  afterAll(async () => {
    for (const cleanup of cleanups) cleanup()
    await writers?.close()
    await Promise.all(started.map((s) => s.close()))
    await db?.cleanup()
  })
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is ready only inside tests (after beforeAll)`)
    return value
  }
  return {
    get sim() {
      return ready(sim, 'the simulator')
    },
    get db() {
      return ready(db, 'ClickHouse')
    },
    get writers() {
      return ready(writers, 'the writers')
    },
    start,
    collectJobs({ plan, sim: target, env = {}, roundAt = clock }) {
      const tokens = Object.fromEntries(planAccounts(plan).flatMap((a) => (a.tokenEnv ? [[a.tokenEnv, `good-token-${a.id}`]] : [])))
      const test = testConfig(name, { ...simulatorEnvironment((target ?? ready(sim, 'the simulator')).url), ...tokens, ...env })
      cleanups.push(test.cleanup)
      const processor = createCollectProcessor({
        plan,
        ch: ready(db, 'ClickHouse').ch,
        writers: ready(writers, 'the writers'),
        collectors: createCollectors(test.config, { retry: { baseDelayMs: 5 } }),
        credentials: openCredentials({ config: test.config, plan, now: clock, logger: silentLogger }),
        lookbackDays: 28,
        now: clock,
        logger: silentLogger,
      })
      return (account) => processor({ data: { roundAt: roundAt().toISOString(), network: account.network, accountId: account.id } } as Job)
    },
    context({ account, token, at, lookbackDays = 28, sink = [], gate }) {
      return {
        account,
        token,
        roundAt: at,
        now: () => at,
        lookbackDays,
        logger: silentLogger,
        gate,
        emit: async (rows) => {
          sink.push(...rows)
          await ready(writers, 'the writers').observations.write(rows)
        },
      }
    },
  }
}
