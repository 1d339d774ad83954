import { afterAll, beforeAll } from 'vitest'
import type { CollectContext, ObservationRow } from '../../ingest/collectors/types.ts'
import type { PlanAccount } from '../../kpi/plan.ts'
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../simulator/index.ts'
import { createWriters, type Writers } from '../../workers/writers.ts'
import { openTestClickHouse, type TestClickHouse } from './clickhouse.ts'
import { silentLogger } from './runtime.ts'

export interface SimulatorHarness {
  /** The file's simulator (seed 42, on the given clock). */
  readonly sim: RunningSimulator
  readonly db: TestClickHouse
  readonly writers: Writers
  /** Another simulator on the same clock, closed with the file. */
  start(options?: Partial<SimulatorOptions>): Promise<RunningSimulator>
  /** A collect context that stores rows through the writers and also keeps them in `sink`. */
  context(options: { account: PlanAccount; token: string; at: Date; lookbackDays?: number; sink?: ObservationRow[]; gate?: CollectContext['gate'] }): CollectContext
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
  afterAll(async () => {
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
