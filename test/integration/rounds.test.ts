import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRuntime, type Runtime } from '../../cli/runtime.ts'
import { waitForJob } from '../../cli/wait.ts'
import type { Reader } from '../../cli/reader.ts'
import { formatStatus } from '../../cli/status.ts'
import { clockFrom } from '../../core/clock.ts'
import { jobIds } from '../../core/queues.ts'
import { enqueueRound } from '../../ingest/scheduler.ts'
import { loadPlan, planAccounts, type Plan } from '../../plan/plan.ts'
import { simulatorEnvironment, startSimulator, type RunningSimulator } from '../../simulator/index.ts'
import { silentLogger, testConfig } from '../helpers/runtime.ts'
import { until } from '../helpers/until.ts'

/**
 * Rounds that finish: a round is evaluated when its last job ends or at its deadline, whichever
 * comes first, so a throttled account never holds up the evaluation of the others; the throttled
 * account keeps one pending job, which later rounds wait for instead of adding their own.
 * Deadlines are given per round here (a second, or an hour when the test shows that the last job
 * ending is what starts the evaluation), so nothing depends on how fast this machine is.
 */
const AT = new Date('2026-11-26T09:05:00Z') // 16:05 in Jakarta
const ROUND_1 = new Date('2026-11-26T09:00:00Z')
const ROUND_2 = new Date('2026-11-26T09:15:00Z')
const ROUND_2B = new Date('2026-11-26T09:20:00Z')
const ROUND_3 = new Date('2026-11-26T09:30:00Z')
const HOUR = 3_600_000
/** The Bandung Page's node answers 429 with Retry-After of an hour: its job is held back, not failed. */
const THROTTLED = 'kopi-nusantara-bandung'
const THROTTLED_PAGE = /^\/v25\.0\/104729384756205$/

let sim: RunningSimulator
let runtime: Runtime
let plan: Plan
let cleanup: () => void

beforeAll(async () => {
  const clock = clockFrom(AT)
  sim = await startSimulator({ now: clock })
  plan = await loadPlan('examples/plan.yaml')
  const tokens = Object.fromEntries(planAccounts(plan).map((account) => [account.tokenEnv, `good-token-${account.id}`]))
  const test = testConfig('rounds', { ...simulatorEnvironment(sim.url), ...tokens })
  cleanup = test.cleanup
  runtime = await startRuntime({ config: test.config, plan, logger: silentLogger, scheduler: false, workers: true, now: clock })
})
afterAll(async () => {
  await runtime?.shutdown()
  await sim?.close()
  cleanup?.()
})

const roundRow = async (roundAt: Date) =>
  (
    await runtime.ch!.rows<{ accounts: number; collected: number; coalesced: number; pending: string[]; evaluated_by: string }>(
      'SELECT accounts, collected, coalesced, pending, evaluated_by FROM collection_rounds FINAL WHERE round_at = {at:DateTime64(3)}',
      { at: roundAt.toISOString().replace('T', ' ').replace('Z', '') },
    )
  )[0]
const jobsOf = async (accountId: string) =>
  (await runtime.queues.collect.getJobs(['delayed', 'waiting', 'active', 'completed', 'failed'])).filter((job) => (job.data as { accountId: string }).accountId === accountId)

describe('a round with a throttled account', () => {
  it('is evaluated when every job has ended, without waiting for its deadline', async () => {
    // An hour's deadline: the evaluation can only run this soon because the last job promoted it.
    const round = await enqueueRound(runtime.queues, runtime.rounds, plan, ROUND_1, HOUR)
    const result = await waitForJob(runtime.queues.evaluate, round.evaluateJobId, { timeoutMs: 120_000 })
    expect(result.state).toBe('completed')
    const row = await roundRow(ROUND_1)
    expect(row).toMatchObject({ accounts: planAccounts(plan).length, collected: planAccounts(plan).length, coalesced: 0, pending: [], evaluated_by: 'all_ended' })
  })

  it('is evaluated at its deadline, naming the account still pending, and the other networks are judged on this round', async () => {
    sim.injectFault({ path: THROTTLED_PAGE, times: 1, status: 429, headers: { 'Retry-After': '3600' }, body: '{"error":{"message":"Too many calls","code":4}}' })
    const round = await enqueueRound(runtime.queues, runtime.rounds, plan, ROUND_2, HOUR)
    const evaluation = (await runtime.queues.evaluate.getJob(round.evaluateJobId))!
    expect(evaluation.opts.delay).toBe(HOUR)
    await until('all but the throttled account done', async () => (await runtime.rounds.state(ROUND_2))?.pending.join() === `facebook/${THROTTLED}`, 60_000)
    // The throttled job waits as long as the API asked, and holds nothing up: its deadline comes (here: now).
    const held = (await runtime.queues.collect.getJob(jobIds.collect('facebook', THROTTLED, ROUND_2)))!
    expect(await held.getState()).toBe('delayed')
    expect(await runtime.queues.evaluate.getJobState(round.evaluateJobId)).toBe('delayed')
    await evaluation.promote()
    const result = await waitForJob(runtime.queues.evaluate, round.evaluateJobId, { timeoutMs: 120_000 })
    expect(result.state).toBe('completed')
    expect(result.value).toMatchObject({ pending: [`facebook/${THROTTLED}`] })
    expect(await roundRow(ROUND_2)).toMatchObject({ collected: planAccounts(plan).length - 1, pending: [`facebook/${THROTTLED}`], evaluated_by: 'deadline' })
    const judged = await runtime.ch!.rows<{ kpi_id: string; status: string }>(
      "SELECT kpi_id, status FROM kpi_evaluations FINAL WHERE evaluated_at = {at:DateTime64(3)} AND network IN ('instagram', 'x', 'youtube')",
      { at: ROUND_2.toISOString().replace('T', ' ').replace('Z', '') },
    )
    expect(judged.length).toBeGreaterThanOrEqual(3)
    expect(judged.every((row) => row.status !== 'unknown')).toBe(true)
    expect(await runtime.rounds.heldBackJobs()).toEqual(new Map([[`facebook/${THROTTLED}`, held.id]]))
    // `status` says so, and /metrics counts the held-back account and the round evaluated at its deadline.
    const status = await formatStatus({ rows: (query: string, params?: Record<string, unknown>) => runtime.ch!.rows(query, params) } as unknown as Reader, { color: false, now: AT })
    expect(status).toContain(`26 Nov 2026, 09:15 UTC  10 accounts: 9 collected; evaluated at its deadline, 1 pending: facebook/${THROTTLED}`)
    // The worker counts the round when its job completes, just after the state the test waited for.
    await until('the round counted', async () => (await runtime.telemetry.registry.metrics()).includes('social_kpi_round_pending_accounts 1'))
    const metrics = await runtime.telemetry.registry.metrics()
    expect(metrics).toMatch(/^social_kpi_collect_held_back_accounts 1$/m)
    expect(metrics).toMatch(/^social_kpi_rounds_evaluated_total\{evaluated_by="deadline"\} 1$/m)
    expect(metrics).toMatch(/^social_kpi_round_pending_accounts 1$/m)
  })

  it('is evaluated when its deadline runs out, with the held-back job counted for it', async () => {
    // A round of the throttled account alone, with a short deadline: nothing else can end it.
    const alone: Plan = {
      ...plan,
      strategy: { networks: plan.strategy.networks.filter((n) => n.network === 'facebook').map((n) => ({ ...n, accounts: n.accounts.filter((a) => a.id === THROTTLED) })) },
    }
    const round = await enqueueRound(runtime.queues, runtime.rounds, alone, ROUND_2B, 500)
    expect(round.coalesced).toEqual([`facebook/${THROTTLED}`])
    const result = await waitForJob(runtime.queues.evaluate, round.evaluateJobId, { timeoutMs: 60_000 })
    expect(result.state).toBe('completed')
    expect(await roundRow(ROUND_2B)).toMatchObject({ accounts: 1, coalesced: 1, pending: [`facebook/${THROTTLED}`], evaluated_by: 'deadline' })
  })

  it('gets no second job in the next round: the held-back job collects for it, and both rounds are done when it ends', async () => {
    const round = await enqueueRound(runtime.queues, runtime.rounds, plan, ROUND_3, HOUR)
    expect(round.coalesced).toEqual([`facebook/${THROTTLED}`])
    expect(await jobsOf(THROTTLED).then((jobs) => jobs.filter((job) => job.id!.endsWith('T0930Z')))).toEqual([])
    const held = (await runtime.queues.collect.getJob(jobIds.collect('facebook', THROTTLED, ROUND_2)))!
    expect(held.data).toMatchObject({ roundAt: ROUND_3.toISOString() })
    // Every other account ends; the round still waits for the held-back one (its deadline is an hour away).
    await until('the others done', async () => (await runtime.rounds.state(ROUND_3))?.pending.length === 1, 60_000)
    expect(await runtime.queues.evaluate.getJobState(round.evaluateJobId)).toBe('delayed')
    // The throttle is over: the held-back job runs, collects for round 3, and its end has round 3 evaluated.
    await held.promote()
    const result = await waitForJob(runtime.queues.evaluate, round.evaluateJobId, { timeoutMs: 120_000 })
    expect(result.state).toBe('completed')
    expect(await roundRow(ROUND_3)).toMatchObject({ coalesced: 1, pending: [], evaluated_by: 'all_ended' })
    const stamped = await runtime.ch!.rows<{ observed_at: string }>(
      "SELECT DISTINCT toString(observed_at) AS observed_at FROM observations FINAL WHERE account_id = {account:String} AND metric = 'followers' AND source_field = 'followers_count'",
      { account: THROTTLED },
    )
    expect(stamped.map((r) => r.observed_at).sort()).toEqual(['2026-11-26 09:00:00.000', '2026-11-26 09:30:00.000'])
    expect(await runtime.rounds.heldBackJobs()).toEqual(new Map())
  })
})
