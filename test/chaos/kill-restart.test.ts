import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jobIds } from '../../core/queues.ts'
import { loadPlan, planAccounts, type Plan } from '../../plan/plan.ts'
import { startSimulator, type RunningSimulator } from '../../simulator/index.ts'
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.ts'
import { until } from '../helpers/until.ts'
import {
  adminReader,
  adminRows,
  CHAOS_AT,
  compare,
  describeInconsistencies,
  dropKeys,
  killLeftovers,
  rawVersusFinal,
  recordFigures,
  scratch,
  startProcess,
  storedData,
  type StartedProcess,
} from './bed.ts'

/**
 * `social-kpi start` killed with SIGKILL in the middle of its first round (some accounts
 * collected, one half-way with part of its rows stored, others not begun), then started again a
 * minute later on the same DATA_DIR and queues. What it stores must equal a clean run of the same
 * round against the same simulated answers: no row lost, none twice (under FINAL, as users read),
 * metrics_daily and the KPIs unchanged, each alert emailed once; and nothing the killed process
 * left behind (DATA_DIR/clickhouse.lock, DATA_DIR/admin.json, BullMQ's job locks) may stop the
 * restart or its round.
 */
const REDIS_URL = 'redis://127.0.0.1:6379'
const AT = new Date(CHAOS_AT)
// 16:00 in Jakarta: the round both runs collect, and the restart names again.
const ROUND = new Date('2026-11-26T09:00:00Z')
// The simulators stand still at AT: the clean run and the killed one get the very same answers.
const frozen = () => AT
const PLAN_FILE = 'examples/plan.yaml'
let plan: Plan
const sims: RunningSimulator[] = []
const smtps: TestSmtp[] = []
const scratches: Array<ReturnType<typeof scratch>> = []
const processes: StartedProcess[] = []

beforeAll(async () => {
  plan = await loadPlan(PLAN_FILE)
})
afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop(15_000)))
  killLeftovers()
  await Promise.all([...sims.map((s) => s.close()), ...smtps.map((s) => s.close())])
  for (const s of scratches) {
    await dropKeys(REDIS_URL, s.queuePrefix)
    s.cleanup()
  }
})

async function bed(name: string) {
  const sim = await startSimulator({ now: frozen, seed: 42 })
  const smtp = await startTestSmtp()
  const dirs = scratch(name)
  sims.push(sim)
  smtps.push(smtp)
  scratches.push(dirs)
  const start = (clockStart: Date, env: Record<string, string> = {}) => {
    const started = startProcess({
      planFile: PLAN_FILE,
      plan,
      dataDir: dirs.dataDir,
      queuePrefix: dirs.queuePrefix,
      simulatorUrl: sim.url,
      smtpUrl: smtp.url,
      clockStart: clockStart.toISOString(),
      env,
    })
    processes.push(started)
    return started
  }
  return { sim, smtp, ...dirs, start }
}

const YOUTUBE = planAccounts(await loadPlan(PLAN_FILE)).find((a) => a.network === 'youtube')!
const subjects = (smtp: TestSmtp) => smtp.messages.map((m) => m.subject ?? '').sort()

describe('the process killed with SIGKILL mid-round and started again', () => {
  it('stores the round exactly as a clean run does, emails each alert once, and is not held up by what the killed process left', async () => {
    const chaos = await bed('killed')
    // YouTube's analytics report answers 8 s late, once: the YouTube job has stored its channel
    // and video rows and waits on it when the process is killed.
    chaos.sim.injectFault({ path: /^\/youtube-analytics\/v2\/reports$/, delayMs: 8_000, times: 1 })
    const first = chaos.start(AT, { WORKER_CONCURRENCY: '2' })
    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null })
    const collect = new Queue('collect', { connection, prefix: chaos.queuePrefix })
    const youtubeJob = jobIds.collect('youtube', YOUTUBE.id, ROUND)
    let atKill: { completed: string[]; active: string[]; waiting: string[]; youtubeRows: number }
    try {
      await until(
        'the YouTube job half-way (rows stored, the analytics report awaited) with other accounts done and some not begun',
        async () => {
          if (first.child.exitCode !== null) throw new Error(`the first process ended: ${first.stdout()}`)
          if (!chaos.sim.requests().some((r) => r.path === '/youtube-analytics/v2/reports')) return false
          const ids = async (state: 'completed' | 'active' | 'waiting') => (await collect.getJobs([state])).map((j) => j.id!).sort()
          const [completed, active, waiting] = [await ids('completed'), await ids('active'), await ids('waiting')]
          const [stored] = await adminRows<{ n: string }>(chaos.dataDir, 'SELECT count() AS n FROM observations WHERE account_id = {id:String}', { id: YOUTUBE.id })
          atKill = { completed, active, waiting, youtubeRows: Number(stored!.n) }
          return active.includes(youtubeJob) && atKill.youtubeRows > 0 && completed.length >= 1 && waiting.length >= 1
        },
        60_000,
        50,
      )
      first.child.kill('SIGKILL')
      expect((await first.exited).signal).toBe('SIGKILL')
      expect(atKill!.completed).not.toContain(youtubeJob)
      // What the killed process left behind: its engine's lock, its admin endpoint file, and BullMQ's lock on the YouTube job.
      expect(Number(readFileSync(join(chaos.dataDir, 'clickhouse.lock'), 'utf8'))).toBe(first.child.pid)
      expect(existsSync(join(chaos.dataDir, 'admin.json'))).toBe(true)
      expect(await connection.exists(`${chaos.queuePrefix}:collect:${youtubeJob}:lock`)).toBe(1)
    } finally {
      await collect.close()
      connection.disconnect()
    }

    // Started again a minute later (same slot, so the same round); a clean run of the round beside it.
    const restartedAt = performance.now()
    const restarted = chaos.start(new Date(AT.getTime() + 60_000))
    const reference = await bed('clean')
    const clean = reference.start(AT)
    let restartSeconds = 0
    await Promise.all([clean.untilOutput('Running:', 120_000), restarted.untilOutput('Running:', 150_000).then(() => (restartSeconds = Math.round((performance.now() - restartedAt) / 1000)))])

    // The restart took over: no "in use", the lock and the admin file are its own, the same round.
    expect(restarted.stdout()).toContain(`Round ${ROUND.toISOString()}:`)
    expect(restarted.stdout()).not.toMatch(/another social-kpi process/)
    expect(Number(readFileSync(join(chaos.dataDir, 'clickhouse.lock'), 'utf8'))).toBe(restarted.child.pid)
    expect(JSON.parse(readFileSync(join(chaos.dataDir, 'admin.json'), 'utf8')).pid).toBe(restarted.child.pid)

    const want = await storedData(clean.dataDir)
    const got = await storedData(restarted.dataDir)
    const observations = compare(want.observations, got.observations)
    const daily = compare(want.metricsDaily, got.metricsDaily)
    expect(want.observations.size).toBeGreaterThan(1000)
    expect(observations).toEqual({ missing: [], extra: [], changed: [] })
    expect(daily).toEqual({ missing: [], extra: [], changed: [] })
    // Every account has its rows of the round, as many as in the clean run.
    const perAccount = (dataDir: string) => adminRows<{ account_id: string; n: string }>(dataDir, 'SELECT account_id, count() AS n FROM observations FINAL GROUP BY account_id ORDER BY account_id')
    expect((await perAccount(restarted.dataDir)).map((r) => r.account_id)).toEqual(
      planAccounts(plan)
        .map((a) => a.id)
        .sort(),
    )
    expect(await perAccount(restarted.dataDir)).toEqual(await perAccount(clean.dataDir))

    // The KPIs judged the same, once per KPI; every account healthy.
    const kpis = (dataDir: string) =>
      adminRows<{ kpi_id: string; status: string; actual: number | null; n: string }>(
        dataDir,
        "SELECT kpi_id, status, actual, count() OVER (PARTITION BY kpi_id) AS n FROM kpi_evaluations FINAL WHERE evaluated_at = {at:DateTime64(3, 'UTC')} ORDER BY kpi_id",
        { at: '2026-11-26 09:00:00.000' },
      )
    expect((await kpis(restarted.dataDir)).length).toBe(plan.kpis.length)
    expect(await kpis(restarted.dataDir)).toEqual(await kpis(clean.dataDir))
    const health = await adminRows<{ account_id: string; status: string }>(restarted.dataDir, 'SELECT account_id, status FROM source_health FINAL ORDER BY account_id')
    expect(health.map((h) => h.status)).toEqual(planAccounts(plan).map(() => 'healthy'))

    // Each alert once: the restart sends what the clean run sends, nothing twice (`Running:` comes after the round's emails).
    expect(reference.smtp.messages.length).toBeGreaterThanOrEqual(1)
    expect(subjects(chaos.smtp)).toEqual(subjects(reference.smtp))
    const sent = await adminRows<{ n: string; ids: string }>(restarted.dataDir, "SELECT count() AS n, uniqExact(notification_id) AS ids FROM alert_notifications FINAL WHERE delivery = 'sent'")
    expect(Number(sent[0]!.n)).toBe(reference.smtp.messages.length)

    // Raw rows against FINAL: what was written twice was written with the same values.
    const raw = await rawVersusFinal(adminReader(restarted.dataDir))
    expect(describeInconsistencies(raw)).toEqual([])

    recordFigures({
      scenario: '1 SIGKILL mid-round, restart',
      rowsLost: observations.missing.length,
      duplicates: observations.extra.length + daily.changed.length + daily.extra.length + (chaos.smtp.messages.length - new Set(subjects(chaos.smtp)).size),
      rawVersusFinal: raw.inconsistencies,
      emailsExpected: reference.smtp.messages.length,
      emailsSent: chaos.smtp.messages.length,
      note: `killed with ${atKill!.completed.length}/${planAccounts(plan).length} accounts done and YouTube half-way (${atKill!.youtubeRows} rows stored, written again after the restart); the restart's round done in ${restartSeconds} s (the stalled-job check hands the killed job over within 15 s)`,
    })

    expect((await restarted.stop()).code).toBe(0)
    expect(restarted.stdout()).toContain('Stopped cleanly.')
    expect(existsSync(join(chaos.dataDir, 'clickhouse.lock'))).toBe(false)
  })
})
