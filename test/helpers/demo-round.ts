import { expect } from 'vitest'
import { startRuntime, type Runtime } from '../../cli/runtime.ts'
import { waitForIdle, waitForJob } from '../../cli/wait.ts'
import { clockFrom } from '../../core/clock.ts'
import { enqueueRound } from '../../ingest/scheduler.ts'
import { loadPlan, planAccounts, type Plan } from '../../plan/plan.ts'
import { simulatorEnvironment, startSimulator, type RunningSimulator } from '../../simulator/index.ts'
import { silentLogger, testConfig } from './runtime.ts'
import { startTestSmtp, type TestSmtp } from './smtp.ts'

export interface DemoRound {
  sim: RunningSimulator
  smtp: TestSmtp
  runtime: Runtime
  plan: Plan
  close(): Promise<void>
}

/**
 * The example plan against the simulator, on a clock that starts at `at` (shared by the simulator
 * and the runtime): one collection round at `at` through BullMQ into the embedded ClickHouse,
 * evaluated and alerted, its emails delivered to a real SMTP receiver. `planFile`: another plan
 * (the Indonesian example); `withoutToken`: accounts whose token variable is left unset.
 */
export async function runDemoRound(name: string, at: Date, options: { planFile?: string; withoutToken?: string[] } = {}): Promise<DemoRound> {
  const clock = clockFrom(at)
  const sim = await startSimulator({ now: clock })
  const smtp = await startTestSmtp()
  const plan = await loadPlan(options.planFile ?? 'examples/plan.yaml')
  // An account left without its token is unhealthy (token_missing) and alerted; the others collect.
  const tokens = Object.fromEntries(
    planAccounts(plan)
      .filter((account) => !options.withoutToken?.includes(account.id))
      .map((account) => [account.tokenEnv, `good-token-${account.id}`]),
  )
  const test = testConfig(name, { ...simulatorEnvironment(sim.url), ...tokens, SMTP_URL: smtp.url })
  const runtime = await startRuntime({ config: test.config, plan, logger: silentLogger, scheduler: false, workers: true, now: clock })
  const round = await enqueueRound(runtime.queues, runtime.rounds, plan, at)
  const result = await waitForJob(runtime.queues.evaluate, round.evaluateJobId, { timeoutMs: 240_000 })
  expect(result.state).toBe('completed')
  await waitForIdle(runtime.queues.notify, 30_000)
  return {
    sim,
    smtp,
    runtime,
    plan,
    async close() {
      await runtime.shutdown()
      await smtp.close()
      await sim.close()
      test.cleanup()
    },
  }
}
