import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { removeDataDirRedisKeys } from '../helpers/redis-keys.ts'
import { until } from '../helpers/until.ts'

const dataDir = mkdtempSync(join(tmpdir(), 'social-kpi-cli-'))
afterAll(async () => {
  await removeDataDirRedisKeys(dataDir)
  rmSync(dataDir, { recursive: true, force: true })
})

// Every command runs at a named instant, whatever the machine's date: a Wednesday in the middle
// of a month in the demo plan's zone (Asia/Jakarta), on the process clock CLOCK_START sets.
const env = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn', ADMIN_PORT: '0', CLOCK_START: '2026-11-18T10:00:00+07:00' }

function cli(args: string[], extraEnv: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, ['bin/social-kpi.js', ...args], { env: { ...env, ...extraEnv }, encoding: 'utf8', timeout: 120_000 })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

describe('social-kpi CLI', () => {
  it('has --help on every command', () => {
    const commands = [
      [],
      ['start'],
      ['scheduler'],
      ['worker'],
      ['migrate'],
      ['collect'],
      ['evaluate'],
      ['plan'],
      ['plan', 'validate'],
      ['sql'],
      ['simulator'],
      ['status'],
      ['backfill'],
      ['silence'],
      ['silence', 'add'],
    ]
    for (const command of commands) {
      const result = cli([...command, '--help'])
      expect(result.code, command.join(' ')).toBe(0)
      expect(result.stdout).toMatch(/Usage: social-kpi/)
    }
    expect(cli(['--help']).stdout).toContain('plan validate'.split(' ')[0])
  })

  it('plan validate prints a summary of a valid plan', () => {
    const result = cli(['plan', 'validate', 'examples/rencana-media-sosial.yaml'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/valid plan for "Kopi Nusantara"/)
    expect(result.stdout).toMatch(/10 accounts on 8 networks, 14 KPIs/)
  })

  it('plan validate names every bad path of a broken plan and exits 1', () => {
    const result = cli(['plan', 'validate', 'test/fixtures/broken-plan.yaml'])
    expect(result.code).toBe(1)
    // each path names the item's id beside its index
    for (const path of [
      'company.timezone',
      'strategy.networks[0] (facebook).accounts[0] (main).tokenEnv',
      'kpis[1] (likes).period',
      'kpis[1] (likes).objective',
      'kpis[2] (clicks).target: must be a positive number',
      'kpis[3] (ctr).denominator',
      'alerting.recipients[0]',
    ]) {
      expect(result.stderr).toContain(path)
    }
    expect(result.stderr).toContain('test/fixtures/broken-plan.yaml')
    expect(result.stderr).not.toMatch(/\n\s+at /) // no stack trace for a user's mistake
  })

  it('starts nothing on an invalid plan', () => {
    const result = cli(['start', '--plan', 'test/fixtures/broken-plan.yaml'])
    expect(result.code).toBe(1)
    expect(result.stdout).not.toContain('Running')
    expect(result.stderr).toContain('kpis[2] (clicks).target')
  })

  it('plan validate counts in the right plurals, reads a 3% target, and refuses an id YAML would round', () => {
    const file = join(dataDir, 'small-plan.yaml')
    const plan = (apiId: string) =>
      [
        'company: { name: Kopi Kecil, timezone: Asia/Jakarta }',
        'objectives: [{ id: reach, name: Reach }]',
        'strategy:',
        '  networks:',
        '    - network: instagram',
        `      accounts: [{ id: kopi-ig, name: Kopi, apiId: ${apiId}, tokenEnv: INSTAGRAM_TOKEN }]`,
        'kpis:',
        '  - { id: ig-reach-rate, name: Reach rate, objective: reach, network: instagram, metric: reach, denominator: views, kind: rate, target: 45%, period: month }',
        'alerting: { recipients: [team@example.com] }',
        'crisis:',
        '  contacts: [{ name: Dewi, email: dewi@example.com }]',
        '  steps: [Confirm the facts]',
        '  triggers: [{ id: drop, kind: follower_drop, dropPercent: 5 }]',
      ].join('\n')
    writeFileSync(file, plan('"17841400000000001"'))
    const valid = cli(['plan', 'validate', file])
    expect(valid.stderr).toBe('')
    expect(valid.stdout).toContain('0 audiences, 1 objective, 1 account on 1 network, 1 KPI')
    expect(valid.stdout).toContain('- ig-reach-rate: rate of reach/views ≥ 0.45 (45%) per month')
    expect(valid.stdout).toContain('crisis guide: 1 step, 1 contact, 1 trigger')
    writeFileSync(file, plan('17841400000000001'))
    const rounded = cli(['plan', 'validate', file])
    expect(rounded.code).toBe(1)
    expect(rounded.stderr).toContain(
      'strategy.networks[0] (instagram).accounts[0] (kopi-ig).apiId: 17841400000000001 has more digits than a number keeps exactly (it would be read as 17841400000000000); write it in quotes, "17841400000000001"',
    )
  })

  it('collect --once runs the demo round, and sql shows metrics_daily per network and metric', () => {
    const collect = cli(['collect', '--once'])
    expect(collect.stderr).toBe('')
    expect(collect.code).toBe(0)
    expect(collect.stdout).toContain('DEMO')
    expect(collect.stdout).toMatch(/Round 18 Nov 2026, 10:00 GMT\+7: [\d,]+ observations stored/)
    expect(collect.stdout).toMatch(/fb-likes-month\s+at risk/)
    expect(readdirSync(join(dataDir, 'outbox')).some((f) => f.endsWith('.eml'))).toBe(true)
    const sql = cli(['sql', 'SELECT network, metric, count() > 0 AS has_days FROM metrics_daily GROUP BY ALL ORDER BY metric', '--format', 'CSV'])
    expect(sql.code).toBe(0)
    expect(sql.stdout).toContain('"facebook","followers",1')
    expect(sql.stdout).toContain('"facebook","likes",1')
    expect(sql.stdout).toContain('"facebook","clicks",1')
    // every source of the example plan lands in the same view
    const networks = cli(['sql', 'SELECT DISTINCT network FROM metrics_daily ORDER BY network', '--format', 'TSV'])
    expect(networks.stdout.trim().split('\n')).toEqual(['facebook', 'ga4', 'instagram', 'linkedin', 'meta_ads', 'tiktok', 'x', 'youtube'])
    const conversions = cli(['sql', "SELECT DISTINCT network FROM metrics_daily WHERE metric = 'conversions' ORDER BY network", '--format', 'TSV'])
    expect(conversions.stdout.trim().split('\n')).toEqual(['ga4', 'meta_ads'])
    // the currency each money account's API told, for the evaluator and analysts
    const currencies = cli(['sql', "SELECT network, account_id, value FROM account_facts FINAL WHERE fact = 'currency' ORDER BY network", '--format', 'TSV'])
    expect(currencies.stdout.trim().split('\n')).toEqual(['ga4\tkopi-nusantara-shop\tIDR', 'meta_ads\tkopi-nusantara-ads\tIDR'])
  })

  it('status shows the KPI table, open alerts and source health', () => {
    const result = cli(['status'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/fb-likes-month\s+at risk\s+[█░]{10}\s+\d+%/)
    // the pace beside a status resting on the forecast is the forecast's recent pace
    expect(result.stdout).toMatch(/needs \+[\d,]+\/day, (so far|recent pace) [+-]?[\d,]+\/day/)
    expect(result.stdout).toContain('kpi.fb-likes-month (at risk)')
    expect(result.stdout).toMatch(/facebook\/kopi-nusantara\s+healthy/)
  })

  it('evaluate --once --at evaluates as of that time', () => {
    const result = cli(['evaluate', '--once', '--at', '2026-11-20T12:00:00+07:00'])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('KPIs as of 20 Nov 2026, 12:00 GMT+7')
    expect(result.stdout).toMatch(/fb-followers-quarter/)
    const bad = cli(['evaluate', '--once', '--at', 'yesterday'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('--at')
  })

  it('start runs until Ctrl-C, answers sql meanwhile, and stops cleanly', async () => {
    const child = spawn(process.execPath, ['bin/social-kpi.js', 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    await until('Running: (or the exit of start)', () => stdout.includes('Running:') || child.exitCode !== null, 90_000, 200)
    expect(stdout).toContain('Running:')
    const sql = cli(['sql', 'SELECT count() > 0 FROM observations', '--format', 'TSV'])
    expect(sql.stderr).toBe('')
    expect(sql.stdout.trim()).toBe('1')
    const second = cli(['collect', '--once'])
    expect(second.code).toBe(1)
    expect(second.stderr).toMatch(/another social-kpi process is running on .* holds its embedded ClickHouse/)
    child.kill('SIGINT')
    expect(await exited).toBe(0)
    expect(stdout).toContain('Stopped cleanly.')
    expect(stderr).toBe('')
  })
})
