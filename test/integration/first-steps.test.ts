import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { CLI_BIN, runCli, runCliAsync } from '../helpers/cli.ts'
import { removeDataDirRedisKeys } from '../helpers/redis-keys.ts'
import { until } from '../helpers/until.ts'

/**
 * A new user's first steps, as the README gives them, from a fresh clone: `npm start` (the demo,
 * its data in ./data/demo), then in another shell the next commands without DATA_DIR. Every CLI
 * here runs in `clone`, a directory of its own (./data is relative to it), with no DATA_DIR and
 * no QUEUE_PREFIX, as a user's shell would have them.
 */
const clone = mkdtempSync(join(tmpdir(), 'social-kpi-first-steps-'))
const data = join(clone, 'data')
const demo = join(data, 'demo')
const { DATA_DIR: _unset, QUEUE_PREFIX: _none, ...shell } = process.env
const env = (at = '2026-11-18T10:00:00+07:00', extra: Record<string, string> = {}) => ({ ...shell, LOG_LEVEL: 'warn', ADMIN_PORT: '0', CLOCK_START: at, ...extra })
const cli = (args: string[], at?: string) => runCli(args, env(at), { cwd: clone, limitMs: 180_000 })

afterAll(async () => {
  if (existsSync(join(demo, 'instance-id'))) await removeDataDirRedisKeys(demo)
  rmSync(clone, { recursive: true, force: true })
})

/** The commands a user runs after `npm start`, as the README writes them. */
const READING = [['status'], ['sql', 'SELECT network, metric, count() FROM metrics_daily GROUP BY ALL'], ['report', '--period', '2026-10'], ['queues'], ['silence', 'list']]

describe('first steps', () => {
  it('before anything ran: each reading command says in one line which DATA_DIR to set, and leaves no store behind', () => {
    for (const args of READING) {
      const result = cli(args)
      expect(result.code, args.join(' ')).toBe(1)
      expect(result.stderrLines, args.join(' ')).toHaveLength(1)
      expect(result.stderrLines[0], args.join(' ')).toMatch(/^error: no (social-kpi data|running social-kpi start|KPI has been evaluated yet)\b.*(DATA_DIR|data\/demo)/)
      expect(result.stdout, args.join(' ')).toBe('')
    }
    // not even ./data: no store, no instance id, nothing
    expect(existsSync(data)).toBe(false)
  }, 240_000)

  it('accounts takes the demo plan without --plan, as start does, and its tokens', () => {
    const result = cli(['accounts'])
    expect(result.stderrLines).toEqual([])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('facebook/kopi-nusantara')
    expect(result.stdout).not.toContain('MISSING')
    expect(existsSync(join(data, 'clickhouse'))).toBe(false)
    expect(existsSync(join(demo, 'clickhouse'))).toBe(false)
  })

  let firstSubjects: string[] = []

  it('after the demo ran: status, sql, report and silence list read the demo’s data without DATA_DIR', () => {
    const collect = cli(['collect', '--once'])
    expect(collect.stderrLines).toEqual([])
    expect(collect.code).toBe(0)
    expect(existsSync(join(demo, 'clickhouse'))).toBe(true)

    const status = cli(['status'])
    expect(status.stderrLines).toEqual([])
    expect(status.code).toBe(0)
    expect(status.stdout).toContain('fb-likes-month')
    const sql = cli(['sql', 'SELECT DISTINCT network FROM metrics_daily ORDER BY network', '--format', 'TSV'])
    expect(sql.stderrLines).toEqual([])
    expect(sql.stdout.trim().split('\n')).toContain('facebook')
    const evaluations = cli(['sql', 'SELECT kpi_id, status, actual, target FROM kpi_evaluations FINAL ORDER BY evaluated_at DESC LIMIT 10', '--format', 'CSVWithNames'])
    expect(evaluations.code).toBe(0)
    expect(evaluations.stdout.split('\n')[0]).toBe('"kpi_id","status","actual","target"')
    const report = cli(['report', '--period', '2026-10'])
    expect(report.code).toBe(0)
    expect(report.stdout.length).toBeGreaterThan(0)
    const silences = cli(['silence', 'list'])
    expect(silences.stderrLines).toEqual([])
    expect(silences.code).toBe(0)
    // the default ./data was looked at, never made
    expect(existsSync(join(data, 'clickhouse'))).toBe(false)

    firstSubjects = cli(['sql', 'SELECT DISTINCT subject FROM alert_notifications FINAL ORDER BY subject', '--format', 'TSVRaw']).stdout.trim().split('\n').filter(Boolean)
    expect(firstSubjects.length).toBeGreaterThan(0)
    for (const subject of firstSubjects) expect(collect.stdout).toContain(subject)
  }, 240_000)

  it('a restart lists only its own new emails, not the previous run’s', () => {
    // The next round of the schedule (every 15 minutes): the at-risk KPIs are still at risk, so no new email for them.
    const again = cli(['collect', '--once'], '2026-11-18T10:20:00+07:00')
    expect(again.stderrLines).toEqual([])
    expect(again.code).toBe(0)
    const mine = cli(['sql', "SELECT DISTINCT subject FROM alert_notifications FINAL WHERE written_at >= '2026-11-18 03:20:00' ORDER BY subject", '--format', 'TSVRaw'])
      .stdout.trim()
      .split('\n')
      .filter(Boolean)
    const old = firstSubjects.filter((subject) => !mine.includes(subject))
    expect(old.length).toBeGreaterThan(0)
    for (const subject of old) expect(again.stdout).not.toContain(subject)
    for (const subject of mine) expect(again.stdout).toContain(subject)
  }, 240_000)

  it('while the demo runs: queues, sql and status go through it', async () => {
    const child = spawn(process.execPath, [CLI_BIN, 'start'], { cwd: clone, env: env('2026-11-18T10:40:00+07:00'), stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    try {
      await until('Running: (or the exit of start)', () => stdout.includes('Running:') || child.exitCode !== null, 120_000, 200)
      const queues = await runCliAsync(['queues'], env('2026-11-18T10:41:00+07:00'), { cwd: clone })
      expect(queues.stderrLines).toEqual([])
      expect(queues.stdout).toMatch(/http:\/\/127\.0\.0\.1:\d+\/queues\/login\?code=/)
      const sql = await runCliAsync(['sql', 'SELECT count() > 0 FROM observations', '--format', 'TSV'], env('2026-11-18T10:41:00+07:00'), { cwd: clone })
      expect(sql.stderrLines).toEqual([])
      expect(sql.stdout.trim()).toBe('1')
      const status = await runCliAsync(['status'], env('2026-11-18T10:41:00+07:00'), { cwd: clone })
      expect(status.stderrLines).toEqual([])
      expect(status.stdout).toContain('fb-likes-month')
    } finally {
      child.kill('SIGINT')
    }
    expect(await exited).toBe(0)
    expect(existsSync(join(data, 'clickhouse'))).toBe(false)
  }, 240_000)

  it('an empty store in ./data (left by an earlier version) is a plain sentence naming DATA_DIR, not ClickHouse’s query dump', async () => {
    // What `status` used to leave: a store holding only an empty database.
    mkdirSync(data, { recursive: true })
    const { openClickHouse } = await import('../../core/clickhouse.ts')
    const ch = await openClickHouse({ dataDir: data })
    await ch.close()
    for (const args of [['status'], ['sql', 'SELECT count() FROM metrics_daily']]) {
      const result = cli(args)
      expect(result.code, args.join(' ')).toBe(1)
      expect(result.stderrLines, args.join(' ')).toEqual([
        `error: no KPI has been evaluated yet in DATA_DIR (${data}): run npx social-kpi start with this DATA_DIR first (npm start runs the demo in ./data/demo); the demo's data is in ./data/demo: set DATA_DIR=./data/demo`,
      ])
    }
  }, 240_000)
})

describe('stopping start under npx', () => {
  it('SIGTERM to npx’s pid stops the node process below it, which lets go of DATA_DIR', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'social-kpi-npx-'))
    try {
      // From the project's directory, as the README runs it: npx runs `sh -c social-kpi start`, which runs node.
      const npx = spawn('npx', ['--no-install', 'social-kpi', 'start'], { env: { ...env(), DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'pipe'] })
      let stdout = ''
      npx.stdout.on('data', (chunk) => (stdout += chunk))
      const lock = join(dataDir, 'clickhouse.lock')
      await until('Running: (or the exit of npx)', () => stdout.includes('Running:') || npx.exitCode !== null, 120_000, 200)
      expect(existsSync(lock)).toBe(true)
      const node = Number(readFileSync(lock, 'utf8').trim())
      expect(node).not.toBe(npx.pid)
      npx.kill('SIGTERM')
      const alive = () => {
        try {
          process.kill(node, 0)
          return true
        } catch {
          return false
        }
      }
      try {
        await until('the node process to end and free DATA_DIR', () => !alive() && !existsSync(lock), 60_000, 200)
      } finally {
        // nothing of this test left running, whatever happened
        if (alive()) process.kill(node, 'SIGKILL')
        if (npx.exitCode === null) npx.kill('SIGKILL')
      }
    } finally {
      await removeDataDirRedisKeys(dataDir)
      rmSync(dataDir, { recursive: true, force: true })
    }
  }, 240_000)
})
