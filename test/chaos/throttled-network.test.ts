import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { parsePlan, planAccounts } from '../../plan/plan.ts'
import { startSimulator, type RunningSimulator } from '../../simulator/index.ts'
import { until } from '../helpers/until.ts'
import { adminReader, adminRows, CHAOS_AT, describeInconsistencies, killLeftovers, rawVersusFinal, recordFigures, scratch, startProcess, type StartedProcess } from './bed.ts'

/**
 * One network throttled among many accounts: 20 Facebook Pages whose Graph API answers 429 with
 * Retry-After of five minutes, beside 20 X accounts, on a round every 10 seconds with a deadline
 * of 4. Every round is evaluated by its deadline, naming the Pages still pending; the X KPI is
 * judged on every round; the throttled Pages keep one held-back job each however many rounds
 * come (the backlog stays at 20, not 20 per round); the Facebook KPI has no verdict (its Pages
 * were never collected) and sends no KPI alert.
 */
const PAGES = 20
const USERS = 20

const dirs = scratch('throttled')
let sim: RunningSimulator | undefined
let app: StartedProcess | undefined
const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null })
afterAll(async () => {
  await app?.stop()
  killLeftovers()
  await sim?.close()
  redis.disconnect()
  dirs.cleanup()
})

function loadPlan() {
  const page = (i: number) => ({ id: `page-${i}`, name: `Page ${i}`, apiId: String(300_000_000_000_000 + i), tokenEnv: `FB_PAGE_${i}_TOKEN` })
  const user = (i: number) => ({ id: `x-${i}`, name: `X ${i}`, apiId: String(1_700_000_000_000_000_000n + BigInt(i)), tokenEnv: `X_${i}_TOKEN` })
  const document = {
    company: { name: 'Throttled Co', timezone: 'Asia/Jakarta' },
    objectives: [{ id: 'reach', name: 'Reach' }],
    strategy: {
      networks: [
        { network: 'facebook', accounts: Array.from({ length: PAGES }, (_, i) => page(i)) },
        { network: 'x', accounts: Array.from({ length: USERS }, (_, i) => user(i)) },
      ],
    },
    collection: { schedule: '*/10 * * * * *', evaluateSchedule: '0 0 1 1 *', roundDeadline: '4s' },
    kpis: [
      { id: 'fb-followers', name: 'Facebook followers', objective: 'reach', network: 'facebook', metric: 'followers', kind: 'level', target: 1, period: 'month' },
      { id: 'x-followers', name: 'X followers', objective: 'reach', network: 'x', metric: 'followers', kind: 'level', target: 1, period: 'month' },
    ],
    alerting: { recipients: ['team@example.com'] },
  }
  const file = join(dirs.dataDir, 'plan.yaml')
  writeFileSync(file, JSON.stringify(document))
  return { file, plan: parsePlan(document, file) }
}

describe('a throttled network among many accounts', () => {
  it('evaluates every round by its deadline, judges the other network, and keeps one held-back job per throttled account', async () => {
    const { file, plan } = loadPlan()
    sim = await startSimulator({ now: () => new Date(CHAOS_AT) })
    // Every Page's own node answers 429 for five minutes: each Page's job is held back by the throttle.
    sim.injectFault({ path: /^\/v25\.0\/3\d{14}$/, status: 429, headers: { 'Retry-After': '300' }, body: '{"error":{"message":"Too many calls","code":4}}', times: 100_000 })
    app = startProcess({ planFile: file, plan, dataDir: dirs.dataDir, queuePrefix: dirs.queuePrefix, simulatorUrl: sim.url, clockStart: CHAOS_AT, env: { WORKER_CONCURRENCY: '8' } })
    await app.untilOutput('Running:', 120_000)
    const collect = new Queue('collect', { connection: redis, prefix: dirs.queuePrefix })
    const evaluate = new Queue('evaluate', { connection: redis, prefix: dirs.queuePrefix })
    let mostHeldBack = 0
    // The newest round enqueued when every Page was first held back: every round after it must
    // wait for the Pages' held-back jobs instead of adding its own (no timing assumed: read off Redis).
    let allHeldAfter: number | undefined
    const rounds = () =>
      adminRows<{ round_at: string; accounts: number; collected: number; coalesced: number; pending: string[]; evaluated_by: string }>(
        dirs.dataDir,
        'SELECT toString(round_at) AS round_at, accounts, collected, coalesced, pending, evaluated_by FROM collection_rounds FINAL ORDER BY round_at',
      )
    try {
      await until(
        'two rounds evaluated after every Page was held back',
        async () => {
          mostHeldBack = Math.max(mostHeldBack, (await collect.getJobCounts('delayed')).delayed ?? 0)
          if (allHeldAfter === undefined && (await redis.hlen(`${dirs.queuePrefix}:collect:throttled`)) === PAGES) {
            // A round adds its evaluate job before it reads who is held back: every round whose
            // evaluate job comes after this one saw all the Pages held back.
            const ids = (await evaluate.getJobs(['delayed', 'waiting', 'active', 'completed', 'failed'])).map((j) => j.id ?? '').filter((id) => id.startsWith('evaluate-round-'))
            allHeldAfter = Math.max(0, ...ids.map((id) => Date.parse(id.replace(/^evaluate-round-(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'))))
          }
          const done = await rounds()
          return allHeldAfter !== undefined && done.filter((r) => Date.parse(`${r.round_at.replace(' ', 'T')}Z`) > allHeldAfter!).length >= 2
        },
        120_000,
        250,
      )
    } finally {
      await collect.close()
      await evaluate.close()
    }
    const evaluated = await rounds()
    // Every round, evaluated at its deadline with the Pages pending (none of them ever finishes).
    // The X accounts are collected (all of them, unless a busy machine leaves one for the next round).
    const pages = planAccounts(plan)
      .filter((a) => a.network === 'facebook')
      .map((a) => `facebook/${a.id}`)
    for (const round of evaluated) {
      expect(round.evaluated_by, round.round_at).toBe('deadline')
      expect(round.pending.filter((p) => p.startsWith('facebook/')).sort(), round.round_at).toEqual(pages.sort())
      expect(Number(round.collected), round.round_at).toBe(PAGES + USERS - round.pending.length)
    }
    const xCollected = evaluated.reduce((n, r) => n + Number(r.collected), 0)
    expect(xCollected).toBeGreaterThan(0)
    // Once every Page is held back, their held-back jobs collect for the later rounds: no new jobs for them.
    const later = evaluated.filter((r) => Date.parse(`${r.round_at.replace(' ', 'T')}Z`) > allHeldAfter!)
    expect(later.length).toBeGreaterThanOrEqual(2)
    for (const round of later) expect(Number(round.coalesced), round.round_at).toBe(PAGES)
    // The X KPI is judged on each round; the Facebook KPI has no verdict and sends nothing.
    const kpis = await adminRows<{ kpi_id: string; status: string; status_reason: string; n: string }>(
      dirs.dataDir,
      'SELECT kpi_id, argMax(status, evaluated_at) AS status, argMax(status_reason, evaluated_at) AS status_reason, count() AS n FROM kpi_evaluations FINAL GROUP BY kpi_id ORDER BY kpi_id',
    )
    expect(kpis.find((k) => k.kpi_id === 'x-followers')).toMatchObject({ status: 'achieved' })
    expect(Number(kpis.find((k) => k.kpi_id === 'x-followers')!.n)).toBeGreaterThanOrEqual(evaluated.length)
    expect(kpis.find((k) => k.kpi_id === 'fb-followers')).toMatchObject({ status: 'unknown', status_reason: 'incomplete' })
    const kpiAlerts = await adminRows<{ n: string }>(dirs.dataDir, "SELECT count() AS n FROM alert_notifications FINAL WHERE alert_key LIKE 'kpi.%'")
    expect(Number(kpiAlerts[0]!.n)).toBe(0)
    const raw = await rawVersusFinal(adminReader(dirs.dataDir))
    expect(describeInconsistencies(raw)).toEqual([])
    recordFigures({
      scenario: '9 one network throttled among many accounts',
      rowsLost: 0,
      duplicates: 0,
      rawVersusFinal: raw.inconsistencies,
      emailsExpected: 0,
      emailsSent: Number(kpiAlerts[0]!.n),
      note: `${PAGES} Pages throttled + ${USERS} X accounts, a round every 10 s with a 4 s deadline: ${evaluated.length} of ${evaluated.length} rounds evaluated at their deadline with the ${PAGES} Pages pending and ${xCollected} of ${evaluated.length * USERS} X collections done by then; at most ${mostHeldBack} collect jobs delayed at once; every round after all Pages were held back coalesced all ${PAGES}; the X KPI judged each round, the Facebook KPI without a verdict`,
    })
  })
})
