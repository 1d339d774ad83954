/**
 * Rounds under a throttled network, the whole process: `social-kpi start` on a plan of many
 * accounts (half Facebook Pages, half X accounts) collecting every minute, against the simulator
 * in this process, which answers every Page's node with 429 and a long Retry-After. It reports
 * how many rounds were enqueued and evaluated, how (all jobs done, or at the deadline), how many
 * accounts each left pending, the most collect jobs held back at once, the X KPI's evaluations
 * and the process's peak RSS. Figures, not a pass/fail: issue 21 asked for them by hand.
 *
 *   npm run bench:rounds -- [--accounts 200] [--minutes 7] [--no-throttle]
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { findAdminServer, queryAdminServer } from '../cli/admin-server.ts'
import { systemClock } from '../core/clock.ts'
import { simulatorEnvironment, startSimulator } from '../simulator/index.ts'
import { parseFlags, positive, UsageError } from './worker-load.ts'

const HELP = `Usage: npm run bench:rounds -- [options]

Runs social-kpi start on a plan of --accounts accounts (half Facebook Pages, half X accounts) with
a round every minute, the Pages throttled (429, Retry-After 10 minutes) unless --no-throttle, for
--minutes, then prints what happened to every round. Needs Redis at REDIS_URL (default
redis://127.0.0.1:6379).

Options:
  --accounts N     accounts in the plan (default 200)
  --minutes N      how long to run (default 7)
  --no-throttle    leave the Pages alone (the reference)
  -h, --help       show this help
`

interface RoundRow {
  round_time: string
  accounts: number
  collected: number
  coalesced: number
  pending: string[]
  evaluated_by: string
  lag_s: number
}

async function main(): Promise<number> {
  const values = parseFlags({
    accounts: { type: 'string', default: '200' },
    minutes: { type: 'string', default: '7' },
    'no-throttle': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  })
  if (values.help) {
    process.stdout.write(HELP)
    return 0
  }
  const accounts = positive('accounts', values.accounts)
  const minutes = positive('minutes', values.minutes)
  if (accounts < 2) throw new UsageError('--accounts must be at least 2')
  const pages = Math.floor(accounts / 2)
  const users = accounts - pages

  const dataDir = mkdtempSync(join(tmpdir(), 'social-kpi-bench-rounds-'))
  const queuePrefix = `bench-rounds-${process.pid}`
  const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379'
  const sim = await startSimulator({ now: systemClock, callsPerHour: 1_000_000 })
  if (!values['no-throttle'])
    sim.injectFault({ path: /^\/v25\.0\/3\d{14}$/, status: 429, headers: { 'Retry-After': '600' }, body: '{"error":{"message":"Too many calls","code":4}}', times: 10_000_000 })
  const plan = {
    company: { name: 'Bench rounds', timezone: 'Asia/Jakarta' },
    objectives: [{ id: 'reach', name: 'Reach' }],
    strategy: {
      networks: [
        { network: 'facebook', accounts: Array.from({ length: pages }, (_, i) => ({ id: `page-${i}`, name: `Page ${i}`, apiId: String(300_000_000_000_000 + i), tokenEnv: `BENCH_FB_TOKEN_${i}` })) },
        { network: 'x', accounts: Array.from({ length: users }, (_, i) => ({ id: `x-${i}`, name: `X ${i}`, apiId: String(1_700_000_000_000_000_000n + BigInt(i)), tokenEnv: `BENCH_X_TOKEN_${i}` })) },
      ],
    },
    collection: { schedule: '* * * * *', evaluateSchedule: '0 0 1 1 *' },
    kpis: [
      { id: 'fb-followers', name: 'Facebook followers', objective: 'reach', network: 'facebook', metric: 'followers', kind: 'level', target: 1, period: 'month' },
      { id: 'x-followers', name: 'X followers', objective: 'reach', network: 'x', metric: 'followers', kind: 'level', target: 1, period: 'month' },
    ],
    alerting: { recipients: ['team@example.com'] },
  }
  const planFile = join(dataDir, 'plan.json')
  writeFileSync(planFile, JSON.stringify(plan))
  const child = spawn(process.execPath, ['bin/social-kpi.js', 'start', '--plan', planFile], {
    env: {
      ...process.env,
      ...simulatorEnvironment(sim.url),
      // A token per account, as Page tokens and X user-context tokens are: each has its own limits.
      ...Object.fromEntries(Array.from({ length: pages }, (_, i) => [`BENCH_FB_TOKEN_${i}`, `good-token-bench-fb-${i}`])),
      ...Object.fromEntries(Array.from({ length: users }, (_, i) => [`BENCH_X_TOKEN_${i}`, `good-token-bench-x-${i}`])),
      DATA_DIR: dataDir,
      QUEUE_PREFIX: queuePrefix,
      REDIS_URL: redisUrl,
      START_PRIVATE_REDIS: 'false',
      ADMIN_PORT: '0',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (chunk) => (stderr = (stderr + chunk).slice(-20_000)))
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null })
  const collect = new Queue('collect', { connection: redis, prefix: queuePrefix })
  let mostDelayed = 0
  let mostWaiting = 0
  let peakRssMb = 0
  const started = performance.now()
  try {
    process.stderr.write(`running ${accounts} accounts (${pages} Pages${values['no-throttle'] ? '' : ', throttled'}, ${users} X) for ${minutes} min…\n`)
    while (performance.now() - started < minutes * 60_000) {
      if (child.exitCode !== null) throw new Error(`social-kpi start ended (${child.exitCode}): ${stderr.slice(-2000)}`)
      const counts = await collect.getJobCounts('delayed', 'waiting')
      mostDelayed = Math.max(mostDelayed, counts.delayed ?? 0)
      mostWaiting = Math.max(mostWaiting, counts.waiting ?? 0)
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8')
      peakRssMb = Math.max(peakRssMb, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024)
      await new Promise((resolve) => setTimeout(resolve, 2_000))
    }
    const endpoint = await findAdminServer(dataDir)
    if (!endpoint) throw new Error('the process has no admin endpoint')
    const rows = async <T>(query: string) =>
      (await queryAdminServer(endpoint, query, 'JSONEachRow'))
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as T)
    const rounds = await rows<RoundRow>(
      "SELECT toString(r.round_at) AS round_time, accounts, collected, coalesced, pending, evaluated_by, round(dateDiff('millisecond', r.round_at, r.evaluated_at) / 1000, 1) AS lag_s FROM collection_rounds AS r FINAL ORDER BY r.round_at",
    )
    const [x] = await rows<{ n: string; judged: string }>("SELECT count() AS n, countIf(status != 'unknown') AS judged FROM kpi_evaluations FINAL WHERE kpi_id = 'x-followers'")
    const enqueued = Math.floor(minutes) + 1
    process.stdout.write(`\n${accounts} accounts (${pages} Facebook Pages${values['no-throttle'] ? '' : ' throttled'}, ${users} X), a round every minute, for ${minutes} min\n`)
    process.stdout.write(`rounds evaluated: ${rounds.length} (about ${enqueued} due)\n`)
    process.stdout.write('round (UTC)          collected  coalesced  pending  evaluated by  after (s)\n')
    for (const r of rounds)
      process.stdout.write(
        `${r.round_time.slice(0, 19)}  ${String(r.collected).padStart(9)}  ${String(r.coalesced).padStart(9)}  ${String(r.pending.length).padStart(7)}  ${r.evaluated_by.padEnd(12)}  ${String(r.lag_s).padStart(9)}\n`,
      )
    process.stdout.write(`most collect jobs delayed at once: ${mostDelayed}; most waiting: ${mostWaiting}\n`)
    process.stdout.write(`X KPI evaluations: ${x?.n ?? 0}, judged (not unknown): ${x?.judged ?? 0}\n`)
    process.stdout.write(`peak RSS of the process: ${Math.round(peakRssMb)} MB\n`)
    return 0
  } finally {
    child.kill('SIGTERM')
    await new Promise((resolve) => child.once('exit', resolve))
    await collect.obliterate({ force: true }).catch(() => undefined)
    await collect.close()
    for (const key of await redis.keys(`${queuePrefix}:*`)) await redis.del(key)
    redis.disconnect()
    await sim.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(error instanceof UsageError ? 2 : 1)
  },
)
