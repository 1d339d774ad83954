import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { createServer, get, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { queuePrefix } from '../helpers/redis-keys.ts'
import { until } from '../helpers/until.ts'

/**
 * `social-kpi sql` and the loopback admin endpoint are for their owner: the secret in
 * DATA_DIR/admin.json, no browser, read-only SQL (ClickHouse readonly = 1, no file()/url(), no
 * INTO OUTFILE); silences are written through their own route. Through a running `start`
 * (embedded mode), and on the data directory itself once it has stopped.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'social-kpi-admin-'))
const scratch = mkdtempSync(join(tmpdir(), 'social-kpi-admin-files-'))
/** A port nothing listens on now, for the ops listener (its port must be known before start). */
const freePort = await new Promise<number>((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port } = probe.address() as { port: number }
    probe.close(() => resolve(port))
  })
})
const env = {
  ...process.env,
  DATA_DIR: dataDir,
  LOG_LEVEL: 'warn',
  ADMIN_PORT: '0',
  METRICS_PORT: String(freePort),
  QUEUE_PREFIX: queuePrefix('admin'),
  CLOCK_START: '2026-11-18T10:00:00+07:00',
}
let start: ChildProcess | undefined
let startOutput = { stdout: '', stderr: '' }

const cli = (args: string[]) => {
  const result = spawnSync(process.execPath, ['bin/social-kpi.js', ...args], { env, encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}
const sql = (query: string, ...options: string[]) => cli(['sql', query, ...options])

/** What `sql` must show for a statement it refuses: exit 1 and one plain line. */
function expectRefused(result: ReturnType<typeof cli>, reason: RegExp) {
  expect(result.code).toBe(1)
  expect(result.stdout).toBe('')
  const lines = result.stderr.split('\n').filter((line) => line.trim())
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/^error: /)
  expect(lines[0]).toMatch(reason)
}

function post(port: number, path: string, options: { headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: options.headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => (text += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

beforeAll(async () => {
  start = spawn(process.execPath, ['bin/social-kpi.js', 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  startOutput = { stdout: '', stderr: '' }
  start.stdout!.on('data', (chunk) => (startOutput.stdout += chunk))
  start.stderr!.on('data', (chunk) => (startOutput.stderr += chunk))
  await until('Running: (or the exit of start)', () => startOutput.stdout.includes('Running:') || start!.exitCode !== null, 120_000, 200)
  expect(startOutput.stdout).toContain('Running:')
}, 150_000)

afterAll(async () => {
  if (start && start.exitCode === null) {
    const exited = new Promise((resolve) => start!.on('exit', resolve))
    start.kill('SIGKILL')
    await exited
  }
  rmSync(dataDir, { recursive: true, force: true })
  rmSync(scratch, { recursive: true, force: true })
})

describe('sql through the running process', () => {
  it('reads, with a trailing FORMAT clause or --format', () => {
    const own = sql('SELECT 1 AS one, count() > 0 AS has_rows FROM observations FORMAT JSONEachRow')
    expect(own.stderr).toBe('')
    expect(own.stdout.trim()).toBe('{"one":1,"has_rows":1}')
    const given = sql('SELECT 1 AS one;', '--format', 'CSVWithNames')
    expect(given.code).toBe(0)
    expect(given.stdout).toBe('"one"\n1\n')
    expect(sql('SHOW TABLES', '--format', 'TSV').stdout.split('\n')).toContain('silences')
  })

  it('refuses writes, DDL and reads of the machine, and the tables stay as they were', () => {
    const alertRows = sql('SELECT count() FROM alert_state', '--format', 'TSV').stdout
    expectRefused(sql('DROP TABLE silences'), /read-only.*Drop/)
    expectRefused(sql('DROP TABLE alert_state'), /read-only/)
    expectRefused(sql('ALTER TABLE alert_state DELETE WHERE 1'), /read-only.*Alter/)
    expectRefused(sql("INSERT INTO silences (id, kpi_id) VALUES ('sil-forged', 'x')"), /read-only.*Insert/)
    expectRefused(sql("SELECT * FROM file('/etc/passwd', 'LineAsString')"), /read-only.*file\(\)/)
    expectRefused(sql("SELECT file('/etc/passwd')"), /read-only.*file\(\)/)
    expectRefused(sql(`INSERT INTO FUNCTION file('${scratch}/written.txt', 'LineAsString') SELECT 'x'`), /read-only/)
    // url(), s3(), remote(): refused by ClickHouse's readonly = 1 itself.
    expectRefused(sql("SELECT * FROM url('http://127.0.0.1:1/', 'LineAsString')"), /read-only \(ClickHouse readonly = 1\): .*Cannot execute query in readonly mode/)
    expectRefused(sql(`SELECT 1 INTO OUTFILE '${scratch}/outfile.txt'`), /read-only: INTO OUTFILE/)
    expectRefused(sql('SELECT 1; DROP TABLE silences'), /Multi-statements are not allowed/)
    expectRefused(sql('KILL QUERY WHERE 1'), /read-only.*KillQuery/)
    expectRefused(sql('SET readonly = 0'), /read-only/)
    expect(existsSync(join(scratch, 'written.txt'))).toBe(false)
    expect(existsSync(join(scratch, 'outfile.txt'))).toBe(false)
    expect(sql('EXISTS TABLE silences', '--format', 'TSV').stdout.trim()).toBe('1')
    expect(sql('SELECT count() FROM alert_state', '--format', 'TSV').stdout).toBe(alertRows)
    expect(sql("SELECT count() FROM silences WHERE id = 'sil-forged'", '--format', 'TSV').stdout.trim()).toBe('0')
  })

  it("prints ClickHouse's error for a typo as one plain line and exits 1", () => {
    expectRefused(sql('SELEC 1'), /^error: Syntax error: failed at position/)
    expectRefused(sql('SELECT * FROM no_such_table'), /no_such_table/)
    expect(sql('SELEC 1').stderr).not.toContain('formatQuerySingleLine')
  })

  it('still writes silences, through their own route', () => {
    const add = cli(['silence', 'add', '--kpi', 'fb-likes-month', '--until', '2d', '--reason', 'admin route', '--by', 'test'])
    expect(add.stderr).toBe('')
    expect(add.code).toBe(0)
    const id = /: (sil-[0-9a-f]{8})\n/.exec(add.stdout)![1]
    expect(sql(`SELECT reason FROM silences FINAL WHERE id = '${id}'`, '--format', 'TSV').stdout.trim()).toBe('admin route')
    expect(cli(['silence', 'expire', id!]).code).toBe(0)
  })
})

describe('the admin endpoint', () => {
  it('keeps its secret in DATA_DIR/admin.json, readable by its owner only', () => {
    const file = join(dataDir, 'admin.json')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const admin = JSON.parse(readFileSync(file, 'utf8')) as { port: number; secret: string }
    expect(admin.port).toBeGreaterThan(0)
    expect(admin.secret.length).toBeGreaterThanOrEqual(32)
  })

  it('refuses requests without the secret, from a browser, for a foreign Host, not JSON, or too large', async () => {
    const { port, secret } = JSON.parse(readFileSync(join(dataDir, 'admin.json'), 'utf8')) as { port: number; secret: string }
    const json = { 'content-type': 'application/json' }
    const auth = { ...json, authorization: `Bearer ${secret}` }
    const select = JSON.stringify({ query: 'SELECT 40 + 2 AS answer', format: 'TSV' })
    const drop = JSON.stringify({ query: 'DROP TABLE silences' })

    expect(await post(port, '/sql', { headers: auth, body: select })).toEqual({ status: 200, text: '42\n' })
    expect((await post(port, '/sql', { headers: json, body: drop })).status).toBe(401)
    expect((await post(port, '/sql', { headers: { ...json, authorization: `Bearer ${secret.slice(0, -1)}x` }, body: drop })).status).toBe(401)
    // A web page: it sends an Origin; a form or text/plain needs no preflight; DNS rebinding sends its own Host.
    expect((await post(port, '/sql', { headers: { ...auth, origin: 'https://evil.example' }, body: drop })).status).toBe(403)
    expect((await post(port, '/sql', { headers: { ...auth, 'sec-fetch-site': 'cross-site' }, body: drop })).status).toBe(403)
    expect((await post(port, '/sql', { headers: { ...auth, host: `evil.example:${port}` }, body: drop })).status).toBe(403)
    expect((await post(port, '/sql', { headers: { ...auth, 'content-type': 'text/plain' }, body: drop })).status).toBe(415)
    expect((await post(port, '/sql', { headers: { ...auth, 'content-length': String(2 * 1024 * 1024) }, body: '' }).catch(() => ({ status: 413 }))).status).toBe(413)
    // With the secret, SQL is still read-only, and the generic insert route is gone.
    const refused = await post(port, '/sql', { headers: auth, body: drop })
    expect(refused.status).toBe(400)
    expect(JSON.parse(refused.text)).toMatchObject({ error: { code: 'SQL_REFUSED' } })
    expect((await post(port, '/insert', { headers: auth, body: JSON.stringify({ table: 'alert_state', values: [{ alert_key: 'forged' }] }) })).status).toBe(404)
    const forged = await post(port, '/silences', { headers: auth, body: JSON.stringify({ rows: [{ id: 'sil-forged' }] }) })
    expect(forged.status).toBe(400)
    expect(sql('EXISTS TABLE silences', '--format', 'TSV').stdout.trim()).toBe('1')
    expect(sql("SELECT count() FROM alert_state WHERE alert_key = 'forged'", '--format', 'TSV').stdout.trim()).toBe('0')
  })
})

describe('the ops listener of start', () => {
  const fetchOps = (path: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      get({ host: '127.0.0.1', port: freePort, path }, (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk) => (text += chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
      }).on('error', reject)
    })

  it('answers /healthz, /readyz and /metrics on METRICS_PORT, with the first round in the series', async () => {
    expect(await fetchOps('/healthz')).toEqual({ status: 200, text: 'ok\n' })
    const ready = await fetchOps('/readyz')
    expect(ready.status).toBe(200)
    expect(JSON.parse(ready.text)).toMatchObject({ status: 'ready', checks: { redis: { ok: true }, clickhouse: { ok: true }, workers: { ok: true } } })
    const metrics = await fetchOps('/metrics')
    expect(metrics.status).toBe(200)
    expect(metrics.text).toMatch(/^social_kpi_round_duration_seconds_count 1$/m)
    expect(metrics.text).toMatch(/^social_kpi_api_requests_total\{network="facebook",outcome="ok"\} [1-9]/m)
    expect((await fetchOps('/sql')).status).toBe(404)
  })
})

describe('social-kpi queues', () => {
  it("prints a one-time link to the running process's queue board", async () => {
    const printed = cli(['queues'])
    expect(printed.stderr).toBe('')
    expect(printed.code).toBe(0)
    const link = new URL(/(http:\/\/127\.0\.0\.1:\d+\/queues\/login\?code=\S+)/.exec(printed.stdout)![1]!)
    const open = () =>
      new Promise<{ status: number; cookie: string }>((resolve, reject) => {
        request({ host: '127.0.0.1', port: Number(link.port), path: link.pathname + link.search, headers: { 'sec-fetch-site': 'none' } }, (res) => {
          res.resume()
          resolve({ status: res.statusCode ?? 0, cookie: String(res.headers['set-cookie'] ?? '') })
        })
          .on('error', reject)
          .end()
      })
    const first = await open()
    expect(first.status).toBe(303)
    expect(first.cookie).toMatch(/HttpOnly; SameSite=Strict; Path=\/queues/)
    expect((await open()).status).toBe(401)
  })
})

describe('sql on the data directory, with no process running', () => {
  it('is read-only too', async () => {
    const exited = new Promise((resolve) => start!.on('exit', resolve))
    start!.kill('SIGTERM')
    await exited
    expect(startOutput.stdout).toContain('Stopped cleanly.')
    expect(existsSync(join(dataDir, 'admin.json'))).toBe(false)
    // The ops listener closed with the process.
    await expect(new Promise((resolve, reject) => get({ host: '127.0.0.1', port: freePort, path: '/healthz' }, resolve).on('error', reject))).rejects.toMatchObject({ code: 'ECONNREFUSED' })
    expect(cli(['queues'])).toMatchObject({ code: 1, stdout: '', stderr: expect.stringMatching(/^error: no running social-kpi start or worker for DATA_DIR .*\n$/) })
    expectRefused(sql('DROP TABLE silences'), /read-only/)
    expectRefused(sql("SELECT file('/etc/passwd')"), /file\(\)/)
    expect(sql('SELECT count() > 0 FROM observations FORMAT TSV').stdout.trim()).toBe('1')
    expect(sql('EXISTS TABLE silences', '--format', 'TSV').stdout.trim()).toBe('1')
  }, 60_000)
})
