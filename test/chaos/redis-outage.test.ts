import { afterAll, describe, expect, it } from 'vitest'
import { slotsBetween } from '../../ingest/scheduler.ts'
import { startSimulator, type RunningSimulator } from '../../simulator/index.ts'
import { createTestRedisServer, type TestRedisServer } from '../helpers/redis-server.ts'
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.ts'
import { pause, until } from '../helpers/until.ts'
import {
  adminReader,
  adminRows,
  CHAOS_AT,
  describeInconsistencies,
  dropKeys,
  killLeftovers,
  rawVersusFinal,
  recordFigures,
  scratch,
  startProcess,
  writePlan,
  type LogLine,
  type StartedProcess,
} from './bed.ts'

/**
 * `social-kpi start` on a Redis of its own that goes away twice while a collection job is in
 * flight: stopped for a minute and started again with its data, then stopped and started again
 * empty. The process must survive both, say what is happening, enqueue the rounds it missed and
 * the ones Redis lost, and end with every round of its schedule collected and evaluated, each
 * alert emailed once.
 */
const AT = new Date(CHAOS_AT)
const frozen = () => AT
const SCHEDULE = '*/15 * * * * *'
const TZ = 'Asia/Jakarta'
let redis: TestRedisServer | undefined
let sim: RunningSimulator | undefined
let smtp: TestSmtp | undefined
let started: StartedProcess | undefined
const dirs = scratch('redis-outage')
/** The log lines of each outage, from the stop to "Redis is back". */
const outageLogs: LogLine[][] = []
/** What the process says about its Redis connections and queues when they fail. */
const CONNECTION_NOISE = ['worker error', 'redis (worker) error', 'redis (producer) error']

afterAll(async () => {
  await started?.stop(15_000)
  killLeftovers()
  await sim?.close()
  await smtp?.close()
  if (redis) await dropKeys(redis.url, dirs.queuePrefix)
  await redis?.close()
  dirs.cleanup()
})

const LINKEDIN_SIZE = /^\/linkedin\/rest\/networkSizes\//

describe('Redis stopped for a minute, then restarted empty, while the process runs', () => {
  it('survives, says so, and collects and evaluates every round of the schedule, each alert emailed once', async () => {
    redis = await createTestRedisServer('chaos-outage')
    await redis.start()
    sim = await startSimulator({ now: frozen, seed: 42 })
    smtp = await startTestSmtp()
    const { file, plan } = writePlan(dirs.dataDir, { accounts: ['kopi-nusantara', 'kopi-nusantara-linkedin'], schedule: SCHEDULE, evaluateSchedule: '0 0 1 1 *' })
    const app = (started = startProcess({
      planFile: file,
      plan,
      dataDir: dirs.dataDir,
      queuePrefix: dirs.queuePrefix,
      simulatorUrl: sim.url,
      smtpUrl: smtp.url,
      redisUrl: redis.url,
      clockStart: CHAOS_AT,
    }))
    await app.untilOutput('Running:')

    /** Stops Redis while the LinkedIn job of the next round waits on a slow answer. */
    const stopMidJob = async (keepData: boolean) => {
      const before = sim!.requests().filter((r) => LINKEDIN_SIZE.test(r.path)).length
      sim!.injectFault({ path: LINKEDIN_SIZE, delayMs: 3_000, times: 1 })
      await until('a LinkedIn request in flight', () => sim!.requests().filter((r) => LINKEDIN_SIZE.test(r.path)).length > before, 30_000, 20)
      await redis!.stop({ keepData })
      return app.logs.length
    }
    const back = (from: number) => app.untilLog('Redis is back (rounds)', (l) => app.logs.indexOf(l) >= from && l.msg.startsWith('Redis is back:') && l.msg.includes('missed rounds'), 60_000)

    const outage1 = await stopMidJob(true)
    await pause(60_000)
    await redis.start()
    const back1 = await back(outage1)
    const outage2 = await stopMidJob(false)
    await pause(10_000)
    await redis.start()
    const back2 = await back(outage2)

    // The process lived through both, and said what happened: each tick it could not enqueue, then what it caught up.
    expect(app.child.exitCode).toBe(null)
    const between = (from: number, to: LogLine) => app.logs.slice(from, app.logs.indexOf(to))
    for (const [from, to] of [
      [outage1, back1],
      [outage2, back2],
    ] as const) {
      expect(between(from, to).filter((l) => l.msg === 'could not enqueue a collection round; it is enqueued when Redis answers again').length).toBeGreaterThanOrEqual(1)
    }
    expect(app.logs.filter((l) => l.msg === 'Redis is back: queue settings applied again').length).toBe(2)
    const missed1 = back1.missed as string[]
    expect(back1.msg).toBe(`Redis is back: ${missed1.length} missed rounds enqueued`)
    expect(missed1.length).toBeGreaterThanOrEqual(2)
    // Restarted empty, Redis lost the round in flight and those not yet seen finished: enqueued again.
    const lost2 = back2.lost as string[]
    expect(back2.msg).toBe(`Redis is back: ${(back2.missed as string[]).length} missed rounds enqueued, ${lost2.length} unfinished rounds it had lost enqueued again`)
    expect(lost2.length).toBeGreaterThanOrEqual(1)

    // Every round of the schedule, from the first to the last caught up, collected for both accounts and evaluated.
    const first = new Date('2026-11-26T09:05:00Z')
    const last = new Date([...(back2.missed as string[]), ...lost2].sort().at(-1)!)
    const slots = slotsBetween(SCHEDULE, TZ, first, last, 1_000).slots.map((d) => d.toISOString())
    const accounts = plan.strategy.networks.flatMap((n) => n.accounts.map((a) => a.id)).sort()
    const at = (iso: string) => iso.replace('T', ' ').replace('Z', '')
    const levels = () =>
      adminRows<{ slot: string; account_id: string; metrics: string[] }>(
        dirs.dataDir,
        "SELECT toString(observed_at) AS slot, account_id, arraySort(groupArray(metric)) AS metrics FROM observations FINAL WHERE object_type = 'account' AND observed_at BETWEEN {first:DateTime64(3, 'UTC')} AND {last:DateTime64(3, 'UTC')} GROUP BY slot, account_id ORDER BY slot, account_id",
        { first: at(slots[0]!), last: at(slots.at(-1)!) },
      )
    const evaluated = async () =>
      (
        await adminRows<{ slot: string }>(
          dirs.dataDir,
          "SELECT DISTINCT toString(evaluated_at) AS slot FROM kpi_evaluations FINAL WHERE evaluated_at BETWEEN {first:DateTime64(3, 'UTC')} AND {last:DateTime64(3, 'UTC')} ORDER BY slot",
          {
            first: at(slots[0]!),
            last: at(slots.at(-1)!),
          },
        )
      ).map((r) => r.slot)
    const want = slots.map(at)
    await until('every round collected and evaluated', async () => (await levels()).length === want.length * accounts.length && (await evaluated()).length === want.length, 90_000, 500).catch(
      () => undefined,
    )
    const got = await levels()
    // What the first round stored per account is what every round stores (the simulator stands still).
    const norm = new Map(got.filter((r) => r.slot === want[0]).map((r) => [r.account_id, r.metrics]))
    expect([...norm.keys()]).toEqual(accounts)
    let rowsLost = 0
    for (const slot of want) {
      for (const account of accounts) {
        const row = got.find((r) => r.slot === slot && r.account_id === account)
        rowsLost += norm.get(account)!.filter((m) => !row?.metrics.includes(m)).length
      }
    }
    expect(rowsLost).toBe(0)
    expect(got.map((r) => `${r.slot} ${r.account_id}`)).toEqual(want.flatMap((slot) => accounts.map((a) => `${slot} ${a}`)))
    expect(await evaluated()).toEqual(want)
    const health = await adminRows<{ account_id: string; status: string }>(dirs.dataDir, 'SELECT account_id, status FROM source_health FINAL ORDER BY account_id')
    expect(health).toEqual(accounts.map((account_id) => ({ account_id, status: 'healthy' })))

    // Each alert emailed once, however often its round ran again.
    const notifications = await adminRows<{ notification_id: string; delivery: string }>(dirs.dataDir, 'SELECT notification_id, delivery FROM alert_notifications FINAL ORDER BY notification_id')
    expect(notifications.length).toBeGreaterThanOrEqual(1)
    expect(notifications.map((n) => n.delivery)).toEqual(notifications.map(() => 'sent'))
    await until('the emails', () => smtp!.messages.length >= notifications.length, 30_000)
    const subjects = smtp.messages.map((m) => m.subject)
    expect(new Set(subjects).size).toBe(subjects.length)
    expect(subjects.length).toBe(notifications.length)

    outageLogs.push(between(outage1, back1), between(outage2, back2))
    // What an outage and an empty restart cause is said in plain lines: no stack trace at info or above.
    const withStack = app.logs
      .filter((l) => l.level !== 'debug' && typeof (l.err as { stack?: unknown } | undefined)?.stack === 'string')
      .map((l) => `${l.level}: ${l.msg}: ${(l.err as { message?: string }).message}`)
    expect(withStack).toEqual([])
    const lines = (from: number, to: LogLine) => between(from, to).length
    // Raw rows against FINAL: the rounds collected again and the evaluations run again wrote what they had written.
    const raw = await rawVersusFinal(adminReader(dirs.dataDir))
    expect(describeInconsistencies(raw)).toEqual([])
    // Rounds the scheduler had not yet seen finished when Redis restarted empty run again (at least once).
    const rounds = raw.tables.find((t) => t.table === 'collection_rounds')!
    const evaluatedTwice = rounds.rawRows - rounds.finalRows
    recordFigures({
      scenario: '2 Redis down 60 s, then restarted empty',
      rowsLost,
      duplicates: subjects.length - new Set(subjects).size,
      rawVersusFinal: raw.inconsistencies,
      emailsExpected: notifications.length,
      emailsSent: subjects.length,
      note: `${want.length} rounds: ${missed1.length} missed enqueued after the minute; ${lost2.length} lost + ${(back2.missed as string[]).length} missed enqueued after the empty restart; ${evaluatedTwice} rounds evaluated twice (run again after it, the later evaluation replacing the earlier); ${lines(outage1, back1)} + ${lines(outage2, back2)} log lines during the outages`,
    })
    const stopped = await app.stop()
    expect(stopped.code).toBe(0)
    expect(app.stdout()).toContain('Stopped cleanly.')
  })

  // Known defect, reported: every reconnect attempt logs the connection's error and each of the
  // three workers' copy of it at error level, with a stack (about a hundred lines for a minute's
  // outage), burying the scheduler's one plain line per tick. The fix belongs in cli/runtime.ts
  // (its producer/worker 'error' listeners and worker.on('error')): say once per outage that Redis
  // at REDIS_URL does not answer and that rounds due meanwhile are enqueued when it is back, then
  // stay quiet until 'ready'. Remove `.fails` when it holds.
  it('says once per outage that Redis does not answer, not once per queue and reconnect attempt', () => {
    expect(outageLogs).toHaveLength(2)
    // At most one line per connection (producer, worker) and queue (collect, evaluate, notify).
    for (const lines of outageLogs) expect(lines.filter((l) => CONNECTION_NOISE.includes(l.msg)).length).toBeLessThanOrEqual(5)
  })
})
