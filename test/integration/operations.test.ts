import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { queueBoardLink, startAdminServer, type AdminServer } from '../../cli/admin-server.ts'
import { startOpsServer, type OpsServer } from '../../cli/ops-server.ts'
import { startRuntime } from '../../cli/runtime.ts'
import { clockFrom } from '../../core/clock.ts'
import { planAccounts } from '../../plan/plan.ts'
import { runDemoRound, type DemoRound } from '../helpers/demo-round.ts'
import { silentLogger, testConfig } from '../helpers/runtime.ts'
import { until } from '../helpers/until.ts'

/**
 * The operator's view after one real round (the example plan against the simulator, BullMQ on the
 * real Redis, the embedded ClickHouse, emails over real SMTP): the ops listener's /metrics,
 * /healthz and /readyz, and the admin endpoint's /metrics and queue board with its one-time link,
 * session cookie, and refusals of other sites, other Hosts and changes it does not offer.
 */
const AT = new Date('2026-11-18T10:00:00+07:00')
const METRICS_TOKEN = 'metrics-token-0123456789abcdef'
let demo: DemoRound
let ops: OpsServer
let admin: AdminServer
let adminDir: string

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
}

function http(port: number, path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => (text += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }))
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

/** The value of one sample in Prometheus's text format, or undefined when the series is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line)
    if (!match || match[1] !== name) continue
    const given = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]))
    if (Object.entries(labels).every(([k, v]) => given[k] === v)) return Number(match[3])
  }
  return undefined
}

const scrape = async () => {
  const answer = await http(ops.port, '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })
  expect(answer.status).toBe(200)
  return answer.text
}

beforeAll(async () => {
  demo = await runDemoRound('operations', AT)
  ops = await startOpsServer({ host: '127.0.0.1', port: 0, token: METRICS_TOKEN, registry: demo.runtime.telemetry.registry, readiness: demo.runtime.readiness, logger: silentLogger })
  adminDir = mkdtempSync(join(tmpdir(), 'social-kpi-operations-admin-'))
  admin = await startAdminServer({ ch: demo.runtime.ch!, port: 0, dataDir: adminDir, logger: silentLogger, registry: demo.runtime.telemetry.registry, queues: demo.runtime.queues })
}, 300_000)

afterAll(async () => {
  await admin?.close()
  await ops?.close()
  await demo?.close()
  if (adminDir) rmSync(adminDir, { recursive: true, force: true })
})

describe('/metrics after a round', () => {
  it('wants METRICS_TOKEN, and serves nothing but GET /metrics, /healthz and /readyz', async () => {
    expect((await http(ops.port, '/metrics')).status).toBe(401)
    expect((await http(ops.port, '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}x` } })).status).toBe(401)
    expect((await http(ops.port, '/metrics', { method: 'POST', headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(405)
    expect((await http(ops.port, '/sql', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(404)
    expect((await http(ops.port, '/queues/', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(404)
  })

  it('counts the API requests of every network the round collected, by outcome', async () => {
    const text = await scrape()
    const collected = await demo.runtime.queues.collect.getCompleted()
    const networks = [...new Set(collected.map((job) => (job.data as { network: string }).network))]
    expect(networks.length).toBeGreaterThanOrEqual(7)
    for (const network of networks) {
      expect(sample(text, 'social_kpi_api_requests_total', { network, outcome: 'ok' }), network).toBeGreaterThan(0)
      expect(sample(text, 'social_kpi_api_request_duration_seconds_count', { network }), network).toBeGreaterThanOrEqual(sample(text, 'social_kpi_api_requests_total', { network, outcome: 'ok' })!)
    }
    expect(text).toContain('# TYPE social_kpi_api_requests_total counter')
    expect(text).toContain('# TYPE social_kpi_api_request_duration_seconds histogram')
  })

  it('counts the rows written as ClickHouse stored them, and the writer queue', async () => {
    const text = await scrape()
    const [stored] = await demo.runtime.ch!.rows<{ n: string }>('SELECT count() AS n FROM observations')
    expect(Number(stored!.n)).toBeGreaterThan(100)
    expect(sample(text, 'social_kpi_rows_written_total', { table: 'observations' })).toBe(Number(stored!.n))
    expect(sample(text, 'social_kpi_rows_written_total', { table: 'kpi_evaluations' })).toBeGreaterThanOrEqual(demo.plan.kpis.length)
    expect(sample(text, 'social_kpi_writer_pending_rows', { table: 'observations' })).toBe(0)
    expect(sample(text, 'social_kpi_rows_failed_total', { table: 'observations' })).toBeUndefined()
  })

  it('times the round and its evaluation, and counts the jobs and the queues in Redis', async () => {
    const text = await scrape()
    const counts = await demo.runtime.queues.collect.getJobCounts('completed', 'failed')
    // Every failed attempt counts; a job that failed for good failed once per attempt.
    const failedAttempts = (await demo.runtime.queues.collect.getFailed()).reduce((sum, job) => sum + job.attemptsMade, 0)
    expect(counts.completed! + counts.failed!).toBe(planAccounts(demo.plan).length)
    expect(sample(text, 'social_kpi_round_duration_seconds_count')).toBe(1)
    expect(sample(text, 'social_kpi_round_duration_seconds_sum')).toBeGreaterThan(0)
    expect(sample(text, 'social_kpi_evaluation_duration_seconds_count', { outcome: 'ok' })).toBe(1)
    expect(sample(text, 'social_kpi_jobs_total', { queue: 'collect', outcome: 'completed' })).toBe(counts.completed)
    expect(sample(text, 'social_kpi_jobs_total', { queue: 'collect', outcome: 'failed' }) ?? 0).toBe(failedAttempts)
    expect(sample(text, 'social_kpi_jobs_total', { queue: 'evaluate', outcome: 'completed' })).toBe(1)
    expect(sample(text, 'social_kpi_queue_jobs', { queue: 'collect', state: 'completed' })).toBe(counts.completed)
    expect(sample(text, 'social_kpi_queue_jobs', { queue: 'collect', state: 'failed' })).toBe(counts.failed)
    expect(sample(text, 'social_kpi_queue_jobs', { queue: 'evaluate', state: 'completed' })).toBe(1)
    expect(sample(text, 'social_kpi_queue_jobs', { queue: 'notify', state: 'waiting' })).toBe(0)
    expect(sample(text, 'social_kpi_process_resident_memory_bytes')).toBeGreaterThan(0)
  })

  it('counts each notification sent, as the mail server received them', async () => {
    expect(demo.smtp.messages.length).toBeGreaterThan(0)
    // The worker's completed event follows the job's completion in Redis: poll until it is counted.
    await until('every delivered email counted', async () => sample(await scrape(), 'social_kpi_notifications_total', { channel: 'email', outcome: 'sent' }) === demo.smtp.messages.length)
    const text = await scrape()
    expect(sample(text, 'social_kpi_notifications_total', { channel: 'email', outcome: 'refused' })).toBeUndefined()
    expect(sample(text, 'social_kpi_jobs_total', { queue: 'notify', outcome: 'completed' })).toBe(demo.smtp.messages.length)
  })

  it('holds no token, account or secret', async () => {
    const text = await scrape()
    for (const account of planAccounts(demo.plan)) {
      expect(text).not.toContain(`good-token-${account.id}`)
      expect(text).not.toContain(`"${account.id}"`)
    }
    expect(text).not.toContain(METRICS_TOKEN)
  })
})

describe('/healthz and /readyz', () => {
  it('a taken METRICS_PORT is one error naming it', async () => {
    await expect(startOpsServer({ host: '127.0.0.1', port: ops.port, registry: demo.runtime.telemetry.registry, readiness: demo.runtime.readiness, logger: silentLogger })).rejects.toThrow(
      new RegExp(`^METRICS_PORT \\(${ops.port}\\): the ops endpoint cannot listen on 127\\.0\\.0\\.1:${ops.port} \\(EADDRINUSE\\)`),
    )
  })

  it('is alive and ready when Redis and ClickHouse answer and the workers run', async () => {
    expect(await http(ops.port, '/healthz')).toMatchObject({ status: 200, text: 'ok\n' })
    const ready = await http(ops.port, '/readyz')
    expect(ready.status).toBe(200)
    expect(JSON.parse(ready.text)).toEqual({ status: 'ready', checks: { redis: { ok: true }, clickhouse: { ok: true }, workers: { ok: true } } })
  })

  it('answers 503 with the reason when Redis does not answer, and while shutting down', async () => {
    const test = testConfig('operations-down', { REDIS_URL: 'redis://:hunter2-secret@127.0.0.1:1' })
    const runtime = await startRuntime({ config: test.config, plan: demo.plan, logger: silentLogger, scheduler: false, workers: false, now: clockFrom(AT) })
    const down = await startOpsServer({ host: '127.0.0.1', port: 0, registry: runtime.telemetry.registry, readiness: runtime.readiness, logger: silentLogger })
    try {
      expect((await http(down.port, '/healthz')).status).toBe(200)
      const answer = await http(down.port, '/readyz')
      expect(answer.status).toBe(503)
      const report = JSON.parse(answer.text) as { status: string; checks: { redis: { ok: boolean; detail: string } } }
      expect(report.status).toBe('not ready')
      expect(report.checks.redis.ok).toBe(false)
      expect(report.checks.redis.detail).toMatch(/^REDIS_URL \(127\.0\.0\.1:1\): ./)
      expect(answer.text).not.toContain('hunter2-secret')
      // Without a token /metrics is open; with Redis away it still answers, without the queue depth.
      const metrics = await http(down.port, '/metrics')
      expect(metrics.status).toBe(200)
      expect(sample(metrics.text, 'social_kpi_queue_jobs', { queue: 'collect', state: 'waiting' })).toBeUndefined()
      expect(metrics.text).toContain('social_kpi_process_resident_memory_bytes')
      await runtime.shutdown()
      const stopping = await http(down.port, '/readyz')
      expect(stopping.status).toBe(503)
      expect(JSON.parse(stopping.text)).toEqual({ status: 'not ready', checks: { process: { ok: false, detail: 'shutting down' } } })
    } finally {
      await down.close()
      await runtime.shutdown()
      test.cleanup()
    }
  })
})

describe('the admin endpoint: /metrics and the queue board', () => {
  const endpoint = () => JSON.parse(readFileSync(join(adminDir, 'admin.json'), 'utf8')) as { port: number; secret: string }
  const local = () => `http://127.0.0.1:${admin.port}`

  it('serves /metrics with the secret only, and not to a browser', async () => {
    const { port, secret } = endpoint()
    const auth = { authorization: `Bearer ${secret}` }
    const metrics = await http(port, '/metrics', { headers: auth })
    expect(metrics.status).toBe(200)
    expect(sample(metrics.text, 'social_kpi_round_duration_seconds_count')).toBe(1)
    expect((await http(port, '/metrics')).status).toBe(401)
    expect((await http(port, '/metrics', { headers: { ...auth, origin: 'https://evil.example' } })).status).toBe(403)
  })

  it('opens the board with a one-time link that sets a strict session cookie', async () => {
    const { port, secret } = endpoint()
    expect((await http(port, '/queues/')).status).toBe(401)
    expect((await http(port, '/queues/api/queues', { headers: { cookie: `social_kpi_board_${port}=guessed` } })).status).toBe(401)
    const link = await queueBoardLink({ port, secret })
    const path = new URL(link.url).pathname + new URL(link.url).search
    expect(link.url.startsWith(`${local()}/queues/login?code=`)).toBe(true)
    // Followed from another site, through a rebound DNS name, or with a foreign Origin: refused.
    expect((await http(port, path, { headers: { 'sec-fetch-site': 'cross-site' } })).status).toBe(403)
    expect((await http(port, path, { headers: { 'sec-fetch-site': 'same-site' } })).status).toBe(403)
    expect((await http(port, path, { headers: { host: `evil.example:${port}` } })).status).toBe(403)
    expect((await http(port, path, { headers: { origin: 'https://evil.example' } })).status).toBe(403)
    const opened = await http(port, path, { headers: { 'sec-fetch-site': 'none' } })
    expect(opened.status).toBe(303)
    expect(opened.headers.location).toBe('/queues/')
    const cookie = String(opened.headers['set-cookie'])
    expect(cookie).toMatch(new RegExp(`^social_kpi_board_${port}=[\\w-]{40,}; HttpOnly; SameSite=Strict; Path=/queues; Max-Age=\\d+$`))
    // Once only.
    expect((await http(port, path, { headers: { 'sec-fetch-site': 'none' } })).status).toBe(401)

    const session = cookie.split(';')[0]!
    const page = await http(port, '/queues/', { headers: { cookie: session, 'sec-fetch-site': 'none' } })
    expect(page.status).toBe(200)
    expect(page.headers['x-frame-options']).toBe('DENY')
    expect(page.text).toContain('social-kpi queues')
    const list = await http(port, '/queues/api/queues', { headers: { cookie: session, 'sec-fetch-site': 'same-origin' } })
    expect(list.status).toBe(200)
    const names = (JSON.parse(list.text) as { queues: { name: string }[] }).queues.map((queue) => queue.name).sort()
    expect(names).toEqual(['collect', 'evaluate', 'notify'])
  })

  it('keeps the session to same-origin requests on this Host, and changes to retry and promote', async () => {
    const { port, secret } = endpoint()
    const link = await queueBoardLink({ port, secret })
    const opened = await http(port, new URL(link.url).pathname + new URL(link.url).search)
    const session = String(opened.headers['set-cookie']).split(';')[0]!
    const api = '/queues/api/queues'
    expect((await http(port, api, { headers: { cookie: session, 'sec-fetch-site': 'cross-site' } })).status).toBe(403)
    expect((await http(port, api, { headers: { cookie: session, origin: `http://127.0.0.1:${port + 1}` } })).status).toBe(403)
    expect((await http(port, api, { headers: { cookie: session, host: `rebound.example:${port}` } })).status).toBe(403)
    // CSRF: a change needs this page's Origin; SameSite=Strict aside, no Origin is no change.
    const retry = `${api}/collect/retry/failed`
    expect((await http(port, retry, { method: 'PUT', headers: { cookie: session } })).status).toBe(403)
    expect((await http(port, retry, { method: 'PUT', headers: { cookie: session, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } })).status).toBe(403)
    expect((await http(port, retry, { method: 'PUT', headers: { cookie: session, origin: local(), 'sec-fetch-site': 'same-origin' } })).status).toBe(200)
    // Not offered: they would break what the runtime keeps (one evaluation at a time, deduplicating ids).
    const own = { cookie: session, origin: local(), 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' }
    expect((await http(port, `${api}/evaluate/concurrency`, { method: 'PUT', headers: own, body: '{"concurrency":4}' })).status).toBe(403)
    expect((await http(port, `${api}/collect/obliterate`, { method: 'PUT', headers: own })).status).toBe(403)
    expect((await http(port, `${api}/notify/add`, { method: 'POST', headers: own, body: '{"name":"x","data":{}}' })).status).toBe(403)
    // A path that climbs out of the board stays in the board (and finds nothing there).
    const climbed = await http(port, '/queues/../metrics', { headers: { cookie: session } })
    expect(climbed.status).toBe(404)
    expect(climbed.text).not.toContain('social_kpi_')
    expect((await http(port, '/queues/../sql', { method: 'POST', headers: own, body: '{"query":"SELECT 1"}' })).status).toBe(403)
    expect(await demo.runtime.queues.evaluate.getGlobalConcurrency()).toBe(1)
    expect(await demo.runtime.queues.collect.getJobCountByTypes('completed', 'failed', 'waiting', 'active', 'delayed', 'prioritized')).toBe(planAccounts(demo.plan).length)
  })
})
