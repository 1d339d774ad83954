import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { removeDataDirRedisKeys } from '../helpers/redis-keys.ts'
import { until } from '../helpers/until.ts'

/** `social-kpi silence add|list|expire` and `status`, against a DATA_DIR of their own, alone and while `start` runs. */
const dirs: string[] = []
afterAll(async () => {
  for (const dir of dirs) {
    await removeDataDirRedisKeys(dir)
    rmSync(dir, { recursive: true, force: true })
  }
})

function environment() {
  const dataDir = mkdtempSync(join(tmpdir(), 'social-kpi-silences-'))
  dirs.push(dataDir)
  return { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn', ADMIN_PORT: '0' }
}

const cli = (env: NodeJS.ProcessEnv, args: string[]) => {
  const result = spawnSync(process.execPath, ['bin/social-kpi.js', ...args], { env, encoding: 'utf8', timeout: 120_000 })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}
const idOf = (stdout: string) => /: (sil-[0-9a-f]{8})\n/.exec(stdout)?.[1]
/** Each command runs at an instant the test names (18 Nov 2026, Asia/Jakarta), on the process clock CLOCK_START sets. */
const at = (env: NodeJS.ProcessEnv, time: string): NodeJS.ProcessEnv => ({ ...env, CLOCK_START: `2026-11-18T${time}+07:00` })

describe('social-kpi silence', () => {
  it('adds, lists, shows in status, and expires a silence; refuses bad input', () => {
    const env = environment()
    for (const command of [['silence'], ['silence', 'add'], ['silence', 'list'], ['silence', 'expire']]) {
      const help = cli(env, [...command, '--help'])
      expect(help.code, command.join(' ')).toBe(0)
      expect(help.stdout).toMatch(/Usage: social-kpi silence/)
    }
    const add = cli(at(env, '10:00:00'), ['silence', 'add', '--kpi', 'fb-likes-month', '--until', '2d', '--reason', 'relaunch week', '--by', 'dewi', '--plan', 'examples/plan.yaml'])
    expect(add.stderr).toBe('')
    expect(add.code).toBe(0)
    const id = idOf(add.stdout)
    expect(id).toBeDefined()
    const later = cli(at(env, '10:00:00'), ['silence', 'add', '--account', 'kopi-nusantara', '--from', '1d', '--until', '1w', '--reason', 'page migration'])
    expect(later.code).toBe(0)

    const list = cli(at(env, '10:01:00'), ['silence', 'list'])
    expect(list.code).toBe(0)
    expect(list.stdout).toMatch(new RegExp(`${id}\\s+active\\s+kpi fb-likes-month until 20 Nov 2026, 03:00 UTC — relaunch week \\(by dewi\\)`))
    expect(list.stdout).toMatch(/sil-[0-9a-f]{8}\s+pending\s+account kopi-nusantara from 19 Nov 2026, 03:00 UTC until 25 Nov 2026, 03:00 UTC — page migration/)

    const status = cli(at(env, '10:01:00'), ['status'])
    expect(status.code).toBe(0)
    expect(status.stdout).toMatch(new RegExp(`Silences:\\n  ${id}\\s+active\\s+kpi fb-likes-month`))

    const expire = cli(at(env, '10:02:00'), ['silence', 'expire', id!])
    expect(expire.code).toBe(0)
    expect(expire.stdout).toContain(`expired ${id} (kpi fb-likes-month)`)
    expect(cli(at(env, '10:03:00'), ['silence', 'expire', id!]).stdout).toContain('had already ended; nothing changed')
    const after = cli(at(env, '10:03:00'), ['silence', 'list'])
    expect(after.stdout).not.toContain(id)
    expect(cli(at(env, '10:03:00'), ['silence', 'list', '--all']).stdout).toMatch(new RegExp(`${id}\\s+expired`))
    expect(cli(at(env, '10:03:00'), ['status']).stdout).not.toContain(id)

    const unknown = cli(env, ['silence', 'expire', 'sil-00000000'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain('no silence "sil-00000000"')
    const noPlanId = cli(env, ['silence', 'add', '--kpi', 'no-such-kpi', '--until', '2d', '--reason', 'x', '--plan', 'examples/plan.yaml'])
    expect(noPlanId.code).toBe(1)
    expect(noPlanId.stderr).toContain('the plan has no KPI "no-such-kpi"')
    const two = cli(env, ['silence', 'add', '--kpi', 'a', '--objective', 'b', '--until', '2d', '--reason', 'x'])
    expect(two.code).toBe(1)
    expect(two.stderr).toContain('exactly one of --kpi, --objective or --account')
    const past = cli(at(env, '10:04:00'), ['silence', 'add', '--kpi', 'a', '--until', '2026-11-18T10:03:00+07:00', '--reason', 'x'])
    expect(past.code).toBe(1)
    expect(past.stderr).toContain('is in the past')
  }, 120_000)

  it('works while start runs, through the running process', async () => {
    const env = environment()
    const child = spawn(process.execPath, ['bin/social-kpi.js', 'start'], { env: at(env, '10:00:00'), stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    try {
      await until('Running: (or the exit of start)', () => stdout.includes('Running:') || child.exitCode !== null, 120_000, 200)
      expect(stdout).toContain('Running:')
      const add = cli(at(env, '10:05:00'), ['silence', 'add', '--objective', 'brand-awareness', '--until', '3h', '--reason', 'campaign pause'])
      expect(add.stderr).toBe('')
      expect(add.code).toBe(0)
      const id = idOf(add.stdout)!
      expect(cli(at(env, '10:06:00'), ['silence', 'list']).stdout).toMatch(new RegExp(`${id}\\s+active\\s+objective brand-awareness until 18 Nov 2026, 06:05 UTC`))
      expect(cli(at(env, '10:06:00'), ['status']).stdout).toMatch(new RegExp(`Silences:\\n  ${id}`))
      const sql = cli(env, ['sql', `SELECT reason FROM silences FINAL WHERE id = '${id}'`, '--format', 'TSV'])
      expect(sql.stdout.trim()).toBe('campaign pause')
      expect(cli(at(env, '10:07:00'), ['silence', 'expire', id]).code).toBe(0)
      expect(cli(at(env, '10:08:00'), ['silence', 'list']).stdout).not.toContain(id)
    } finally {
      child.kill('SIGINT')
    }
    expect(await exited).toBe(0)
    expect(stderr).toBe('')
  }, 240_000)
})
