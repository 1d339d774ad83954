import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jobIds } from '../../core/queues.ts'
import { loadPlan, planAccounts, planSpeaker, type Plan } from '../../plan/plan.ts'
import { startSimulator, type RunningSimulator } from '../../simulator/index.ts'
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.ts'
import { until } from '../helpers/until.ts'
import {
  adminMetric,
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
 * `social-kpi start` killed with SIGKILL at three moments of its first round, each time started
 * again a minute later on the same DATA_DIR and queues: (a) mid-collection, some accounts done,
 * one half-way with part of its rows stored, others not begun; (b) after the round's KPIs were
 * judged and its alerts decided and stored, while the mail server has every alert email in hand
 * and has not answered; (c) while the batching writer holds an account's rows not yet flushed.
 * What each restart stores must equal a clean run of the same round against the same simulated
 * answers: no row lost, none twice (under FINAL, as users read, and raw rows against FINAL),
 * metrics_daily and the KPIs unchanged, each alert emailed exactly once; and nothing the killed
 * process left behind (DATA_DIR/clickhouse.lock, DATA_DIR/admin.json, BullMQ's job locks) may
 * stop the restart or its round. Each moment is caught by what the process shows (its jobs in
 * Redis, its log lines, its /metrics, what the simulator and the mail server received), held
 * there by a slow answer, never by a guessed sleep.
 */
const REDIS_URL = 'redis://127.0.0.1:6379'
const AT = new Date(CHAOS_AT)
// 16:00 in Jakarta: the round every run collects, and each restart names again.
const ROUND = new Date('2026-11-26T09:00:00Z')
// The simulators stand still at AT: the clean run and the killed ones get the very same answers.
const frozen = () => AT
const PLAN_FILE = 'examples/plan.yaml'
const ANALYTICS = /^\/youtube-analytics\/v2\/reports$/
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
type Bed = Awaited<ReturnType<typeof bed>>

/** The clean run of the round, started once (by whichever test needs it first) and compared with each restart. */
let clean: Promise<{ bed: Bed; process: StartedProcess }> | undefined
const cleanRun = () =>
  (clean ??= (async () => {
    const reference = await bed('clean')
    const started = reference.start(AT)
    await started.untilOutput('Running:', 120_000)
    return { bed: reference, process: started }
  })())

const YOUTUBE = planAccounts(await loadPlan(PLAN_FILE)).find((a) => a.network === 'youtube')!
const subjects = (smtp: TestSmtp) => smtp.messages.map((m) => m.subject ?? '').sort()

/** The collect queue's jobs of the killed process, by state, and the YouTube job's rows stored so far. */
async function withCollectQueue<T>(prefix: string, use: (collect: Queue, connection: Redis) => Promise<T>): Promise<T> {
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null })
  const collect = new Queue('collect', { connection, prefix })
  try {
    return await use(collect, connection)
  } finally {
    await collect.close()
    connection.disconnect()
  }
}
const jobsIn = async (collect: Queue, state: 'completed' | 'active' | 'waiting') => (await collect.getJobs([state])).map((j) => j.id!).sort()
const youtubeRows = async (dataDir: string) => Number((await adminRows<{ n: string }>(dataDir, 'SELECT count() AS n FROM observations WHERE account_id = {id:String}', { id: YOUTUBE.id }))[0]!.n)

/** SIGKILL, and what the killed process leaves behind: its engine's lock and its admin endpoint file. */
async function kill(killed: StartedProcess) {
  killed.child.kill('SIGKILL')
  expect((await killed.exited).signal).toBe('SIGKILL')
  expect(Number(readFileSync(join(killed.dataDir, 'clickhouse.lock'), 'utf8'))).toBe(killed.child.pid)
  expect(existsSync(join(killed.dataDir, 'admin.json'))).toBe(true)
}

/**
 * Starts the killed run again a minute later (same slot, so the same round), waits for its round,
 * and checks it against the clean run: the same rows, daily values, KPIs and emails, all accounts
 * healthy, raw rows agreeing with FINAL. Returns the figures' counts.
 */
async function restartAndCompare(chaos: Bed) {
  const restartedAt = performance.now()
  const restarted = chaos.start(new Date(AT.getTime() + 60_000))
  const [reference] = await Promise.all([cleanRun(), restarted.untilOutput('Running:', 150_000)])
  const restartSeconds = Math.round((performance.now() - restartedAt) / 1000)

  // The restart took over: no "in use", the lock and the admin file are its own, the same round.
  // the round's instant as the terminal prints it: in the plan's zone, its language
  expect(restarted.stdout()).toContain(`Round ${planSpeaker(plan).dateTime(ROUND)}:`)
  expect(restarted.stdout()).not.toMatch(/another social-kpi process/)
  expect(Number(readFileSync(join(chaos.dataDir, 'clickhouse.lock'), 'utf8'))).toBe(restarted.child.pid)
  expect(JSON.parse(readFileSync(join(chaos.dataDir, 'admin.json'), 'utf8')).pid).toBe(restarted.child.pid)

  const want = await storedData(reference.process.dataDir)
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
  expect(await perAccount(restarted.dataDir)).toEqual(await perAccount(reference.process.dataDir))

  // The KPIs judged the same, once per KPI; every account healthy.
  const kpis = (dataDir: string) =>
    adminRows<{ kpi_id: string; status: string; actual: number | null; n: string }>(
      dataDir,
      "SELECT kpi_id, status, actual, count() OVER (PARTITION BY kpi_id) AS n FROM kpi_evaluations FINAL WHERE evaluated_at = {at:DateTime64(3, 'UTC')} ORDER BY kpi_id",
      { at: '2026-11-26 09:00:00.000' },
    )
  expect((await kpis(restarted.dataDir)).length).toBe(plan.kpis.length)
  expect(await kpis(restarted.dataDir)).toEqual(await kpis(reference.process.dataDir))
  const health = await adminRows<{ account_id: string; status: string }>(restarted.dataDir, 'SELECT account_id, status FROM source_health FINAL ORDER BY account_id')
  expect(health.map((h) => h.status)).toEqual(planAccounts(plan).map(() => 'healthy'))

  // Each alert once: the restart sends what the clean run sends, nothing twice (`Running:` comes after the round's emails).
  expect(reference.bed.smtp.messages.length).toBeGreaterThanOrEqual(1)
  expect(subjects(chaos.smtp)).toEqual(subjects(reference.bed.smtp))
  const sent = await adminRows<{ n: string; ids: string }>(restarted.dataDir, "SELECT count() AS n, uniqExact(notification_id) AS ids FROM alert_notifications FINAL WHERE delivery = 'sent'")
  expect(Number(sent[0]!.n)).toBe(reference.bed.smtp.messages.length)

  // Raw rows against FINAL: what was written twice was written with the same values.
  const raw = await rawVersusFinal(adminReader(restarted.dataDir))
  expect(describeInconsistencies(raw)).toEqual([])

  const stopped = async () => {
    expect((await restarted.stop()).code).toBe(0)
    expect(restarted.stdout()).toContain('Stopped cleanly.')
    expect(existsSync(join(chaos.dataDir, 'clickhouse.lock'))).toBe(false)
  }
  return {
    counts: {
      rowsLost: observations.missing.length,
      duplicates: observations.extra.length + daily.changed.length + daily.extra.length + (chaos.smtp.messages.length - new Set(subjects(chaos.smtp)).size),
      rawVersusFinal: raw.inconsistencies,
      emailsExpected: reference.bed.smtp.messages.length,
      emailsSent: chaos.smtp.messages.length,
    },
    raw,
    restartSeconds,
    stopped,
  }
}

describe('the process killed with SIGKILL and started again', () => {
  it('(a) mid-collection: stores the round exactly as a clean run does, emails each alert once, and is not held up by what the killed process left', async () => {
    const chaos = await bed('killed-a')
    // YouTube's analytics report answers 8 s late, once: the YouTube job has stored its channel
    // and video rows and waits on it when the process is killed.
    chaos.sim.injectFault({ path: ANALYTICS, delayMs: 8_000, times: 1 })
    const first = chaos.start(AT, { WORKER_CONCURRENCY: '2' })
    const youtubeJob = jobIds.collect('youtube', YOUTUBE.id, ROUND)
    let atKill: { completed: string[]; active: string[]; waiting: string[]; youtubeRows: number } | undefined
    await withCollectQueue(chaos.queuePrefix, async (collect, connection) => {
      await until(
        'the YouTube job half-way (rows stored, the analytics report awaited) with other accounts done and some not begun',
        async () => {
          if (first.child.exitCode !== null) throw new Error(`the first process ended: ${first.stdout()}`)
          if (!chaos.sim.requests().some((r) => ANALYTICS.test(r.path))) return false
          const [completed, active, waiting] = [await jobsIn(collect, 'completed'), await jobsIn(collect, 'active'), await jobsIn(collect, 'waiting')]
          atKill = { completed, active, waiting, youtubeRows: await youtubeRows(chaos.dataDir) }
          return active.includes(youtubeJob) && atKill.youtubeRows > 0 && completed.length >= 1 && waiting.length >= 1
        },
        60_000,
        50,
      )
      await kill(first)
      expect(atKill!.completed).not.toContain(youtubeJob)
      // BullMQ's lock on the YouTube job, left by the killed process.
      expect(await connection.exists(`${chaos.queuePrefix}:collect:${youtubeJob}:lock`)).toBe(1)
    })

    const { counts, restartSeconds, stopped } = await restartAndCompare(chaos)
    recordFigures({
      scenario: '1a SIGKILL mid-round, restart',
      ...counts,
      note: `killed with ${atKill!.completed.length}/${planAccounts(plan).length} accounts done and YouTube half-way (${atKill!.youtubeRows} rows stored, written again after the restart); the restart's round done in ${restartSeconds} s (the stalled-job check hands the killed job over within 15 s)`,
    })
    await stopped()
  })

  it('(b) after the alerts were decided and stored, before the mail server answered any of them: each alert emailed exactly once after the restart', async () => {
    const reference = await cleanRun()
    const alerts = reference.bed.smtp.messages.length
    const chaos = await bed('killed-b')
    // The mail server takes each alert email and never answers (keeping nothing): every notify job waits there.
    chaos.smtp.answerLate(alerts, Number.POSITIVE_INFINITY)
    const first = chaos.start(AT)
    const decided = await first.untilLog('the alerts decided', (l) => l.msg === 'alerts decided', 90_000)
    expect((decided.notifications as string[]).length).toBe(alerts)
    await until('every alert email at the mail server, unanswered', () => chaos.smtp.attempts.filter((a) => a.outcome === 'unanswered').length === alerts, 60_000, 50)
    // What is stored at the kill: the round's KPIs and the alerts' new state; no delivery recorded.
    const stored = async (query: string) => Number((await adminRows<{ n: string }>(chaos.dataDir, query))[0]!.n)
    const atKill = {
      kpis: await stored("SELECT count() AS n FROM kpi_evaluations FINAL WHERE evaluated_at = '2026-11-26 09:00:00.000'"),
      firing: await stored("SELECT count() AS n FROM alert_state FINAL WHERE status = 'firing'"),
      sent: await stored("SELECT count() AS n FROM alert_notifications FINAL WHERE delivery = 'sent'"),
    }
    expect(atKill.kpis).toBe(plan.kpis.length)
    expect(atKill.firing).toBeGreaterThanOrEqual(1)
    expect(atKill.sent).toBe(0)
    expect(chaos.smtp.messages).toEqual([])
    await kill(first)

    const { counts, restartSeconds, stopped } = await restartAndCompare(chaos)
    expect(chaos.smtp.attempts.map((a) => a.outcome).sort()).toEqual([...Array(alerts).fill('accepted'), ...Array(alerts).fill('unanswered')].sort())
    recordFigures({
      scenario: '1b SIGKILL after alerts decided, mail unanswered',
      ...counts,
      note: `killed with the round's ${atKill.kpis} KPIs judged, ${atKill.firing} alerts firing and ${alerts} emails in the mail server's hands, unanswered; after the restart (${restartSeconds} s) each sent once`,
    })
    await stopped()
  })

  it('(c) while the writer holds rows not yet flushed: the account is collected again, nothing lost', async () => {
    const chaos = await bed('killed-c')
    // One job at a time, and a flush interval longer than the test: after the first batch, rows
    // wait in the writer until a job ends. YouTube's rows wait there while its analytics report
    // answers late.
    chaos.sim.injectFault({ path: ANALYTICS, delayMs: 8_000, times: 1 })
    const first = chaos.start(AT, { WORKER_CONCURRENCY: '1', WRITER_FLUSH_MS: '120000' })
    const youtubeJob = jobIds.collect('youtube', YOUTUBE.id, ROUND)
    const pendingRows = () => adminMetric(chaos.dataDir, 'social_kpi_writer_pending_rows{table="observations"}')
    let atKill: { completed: number; pending: number; youtubeRows: number } | undefined
    await withCollectQueue(chaos.queuePrefix, async (collect) => {
      await until(
        'the YouTube job waiting on the analytics report with its rows in the writer, none stored',
        async () => {
          if (first.child.exitCode !== null) throw new Error(`the first process ended: ${first.stdout()}`)
          if (!chaos.sim.requests().some((r) => ANALYTICS.test(r.path))) return false
          const active = await jobsIn(collect, 'active')
          atKill = { completed: (await jobsIn(collect, 'completed')).length, pending: (await pendingRows()) ?? 0, youtubeRows: await youtubeRows(chaos.dataDir) }
          return active.includes(youtubeJob) && atKill.pending > 0
        },
        60_000,
        50,
      )
    })
    expect(atKill!.youtubeRows).toBe(0)
    await kill(first)

    const { counts, restartSeconds, stopped } = await restartAndCompare(chaos)
    recordFigures({
      scenario: '1c SIGKILL with rows in the writer, unflushed',
      ...counts,
      note: `killed with ${atKill!.pending} YouTube rows in the writer, none stored, ${atKill!.completed}/${planAccounts(plan).length} accounts done; the YouTube job ran again after the restart (${restartSeconds} s) and stored them`,
    })
    await stopped()
  })
})
