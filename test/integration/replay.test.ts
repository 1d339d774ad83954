import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { formatReplay, replay } from '../../alerts/replay.ts'
import { toClickHouseTime } from '../../core/clickhouse.ts'
import { clickHouseKpiSource } from '../../kpi/clickhouse-source.ts'
import { clickHouseCrisisSource } from '../../kpi/crisis-source.ts'
import { parsePlan, type Plan } from '../../plan/plan.ts'
import { openTestClickHouse, type TestClickHouse } from '../helpers/clickhouse.ts'

/**
 * Rule preview over 90 days of hand-made history: the main Page holds 1,200 followers except a dip
 * to 900 from 2026-02-10 12:00 to 2026-02-14 00:00 UTC (both included). The KPI (at least 1,000 followers) is at
 * risk during the dip; the crisis trigger (a fall of more than 2 % within 24 h) sees the fall once.
 */
let db: TestClickHouse
const DAY = 86_400_000
const START = Date.UTC(2026, 0, 1)
const day = (iso: string) => `${iso} 00:00`

const planDocument = (alerting: Record<string, unknown> = {}) => ({
  company: { name: 'Kopi Nusantara', timezone: 'UTC' },
  objectives: [{ id: 'awareness', name: 'Awareness' }],
  strategy: { networks: [{ network: 'facebook', accounts: [{ id: 'main', name: 'Kopi Nusantara', apiId: '104729384756102', tokenEnv: 'FB_MAIN' }] }] },
  kpis: [{ id: 'followers', name: 'Followers', objective: 'awareness', network: 'facebook', accounts: ['main'], metric: 'followers', kind: 'level', target: 1000, period: 'month' }],
  alerting: { recipients: ['team@example.com'], ...alerting },
  crisis: {
    contacts: [{ name: 'Dewi', email: 'dewi@example.com' }],
    steps: ['Confirm the facts'],
    triggers: [{ id: 'follower-drop', kind: 'follower_drop', dropPercent: 2, windowHours: 24 }],
  },
})

const followersAt = (t: number) => (t >= Date.UTC(2026, 1, 10, 12) && t <= Date.UTC(2026, 1, 14) ? 900 : 1200)

beforeAll(async () => {
  db = await openTestClickHouse('replay')
  const rows = []
  for (let t = START; t < START + 90 * DAY; t += DAY / 2) {
    rows.push({
      network: 'facebook',
      account_id: 'main',
      object_type: 'page',
      object_id: '104729384756102',
      metric: 'followers',
      shape: 'gauge',
      observed_at: toClickHouseTime(new Date(t)),
      value: followersAt(t),
      object_created_at: null,
      source_field: 'followers_count',
      api_version: 'v25.0',
      collected_at: toClickHouseTime(new Date(t)),
    })
  }
  // A regional Page, read like the main one until 10 March 00:00, then no more.
  const regional = rows.filter((r) => r.observed_at <= '2026-03-10 00:00:00.000').map((r) => ({ ...r, account_id: 'regional', object_id: '104729384756205', value: 500 }))
  await db.ch.client.insert({ table: 'observations', values: [...rows, ...regional], format: 'JSONEachRow' })
}, 120_000)

afterAll(async () => {
  await db?.cleanup()
})

const written = async () =>
  Object.fromEntries(
    await Promise.all(['kpi_evaluations', 'alert_state', 'alert_notifications'].map(async (table) => [table, Number((await db.ch.rows<{ n: string }>(`SELECT count() AS n FROM ${table}`))[0]!.n)])),
  )

const run = (plan: Plan) =>
  replay({
    plan,
    from: new Date(START),
    to: new Date(START + 90 * DAY),
    stepMs: DAY,
    sources: { kpi: clickHouseKpiSource(db.ch), crisis: clickHouseCrisisSource(db.ch) },
  })

const iso = (d: Date) => d.toISOString().slice(0, 16).replace('T', ' ')

describe('rule preview (replay)', () => {
  it('fires and resolves the crisis and the KPI on the expected days, holding the KPI while the crisis is open, and writes nothing', async () => {
    const result = await run(parsePlan(planDocument(), 'plan.json'))
    expect(result.steps).toBe(90)
    expect(result.events.map((e) => [iso(e.at), e.event, e.key])).toEqual([
      [day('2026-02-11'), 'firing', 'crisis.follower-drop'],
      [day('2026-02-12'), 'resolved', 'crisis.follower-drop'],
      [day('2026-02-12'), 'firing', 'kpi.followers'],
      [day('2026-02-15'), 'resolved', 'kpi.followers'],
    ])
    expect(result.events[0]!.detail).toMatch(/followers of Kopi Nusantara fell 25\.0 % \(1,200 → 900\)/)
    expect(result.events[2]!.detail).toMatch(/^at risk: actual 900, expected [\d,]+, target ≥ 1,000/)
    const kpi = result.summary.find((s) => s.key === 'kpi.followers')!
    expect(kpi).toMatchObject({ fired: 1, resolved: 1, repeats: 2, held: 1, firingMs: 3 * DAY, openAtEnd: false })
    expect(result.summary.find((s) => s.key === 'crisis.follower-drop')).toMatchObject({ fired: 1, resolved: 1, repeats: 0, firingMs: DAY })
    expect(await written()).toEqual({ kpi_evaluations: 0, alert_state: 0, alert_notifications: 0 })
  }, 180_000)

  it('counts the steps without a verdict, and why: a Page whose collection stopped', async () => {
    const document = planDocument()
    const regional = parsePlan(
      {
        ...document,
        strategy: { networks: [{ network: 'facebook', accounts: [{ id: 'regional', name: 'Regional', apiId: '104729384756205', tokenEnv: 'FB_REGIONAL' }] }] },
        kpis: [{ ...document.kpis[0]!, id: 'regional-followers', accounts: ['regional'], target: 400 }],
        crisis: undefined,
      },
      'plan.json',
    )
    // 1 to 15 March, daily at 00:00 UTC: read at 00:00 until 10 March; from 11 March its newest
    // reading is a day or more old, beyond the stale window (35 minutes): 5 steps without a verdict.
    const result = await replay({
      plan: regional,
      from: new Date('2026-03-01T00:00:00Z'),
      to: new Date('2026-03-16T00:00:00Z'),
      stepMs: DAY,
      sources: { kpi: clickHouseKpiSource(db.ch), crisis: clickHouseCrisisSource(db.ch) },
    })
    expect(result.events).toEqual([])
    expect(result.summary.find((s) => s.key === 'kpi.regional-followers')).toMatchObject({ fired: 0, noVerdict: { data_problem: 5 } })
    expect(formatReplay(result, regional, { color: false })).toMatch(/kpi\.regional-followers\s+0\s+0\s+0\s+0\s+5 \(5 stale data\)/)
  }, 180_000)

  it("applies the plan's `for`: a dip shorter than it never fires", async () => {
    const result = await run(parsePlan(planDocument({ for: '3d' }), 'plan.json'))
    expect(result.events.filter((e) => e.key === 'kpi.followers')).toEqual([])
    expect(result.events.filter((e) => e.key === 'crisis.follower-drop').map((e) => e.event)).toEqual(['firing', 'resolved'])
  }, 180_000)

  it('social-kpi evaluate --from/--to prints the timeline and the summary (90 days, daily)', async () => {
    const dir = db.dataDir
    const planFile = join(dir, 'plan.json')
    writeFileSync(planFile, JSON.stringify(planDocument()))
    // The CLI opens the same data directory: this process lets go of it first.
    await db.ch.close()
    const env = { ...process.env, DATA_DIR: dir, CLICKHOUSE_DATABASE: db.ch.database, LOG_LEVEL: 'warn' }
    const cli = (args: string[]) => spawnSync(process.execPath, ['bin/social-kpi.js', ...args], { env, encoding: 'utf8', timeout: 170_000 })
    const started = performance.now()
    const result = cli(['evaluate', '--from', '2026-01-01', '--to', '2026-04-01', '--step', '1d', '--plan', planFile])
    const elapsed = performance.now() - started
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
    expect(result.stdout).toContain('Replay 1 Jan 2026, 00:00 UTC → 1 Apr 2026, 00:00 UTC, step 1d: 90 evaluations of 1 KPI and 1 crisis trigger.')
    expect(result.stdout).toMatch(/11 Feb 2026, 00:00 UTC {2}FIRING {4}crisis\.follower-drop {2}followers of Kopi Nusantara fell 25\.0 %/)
    expect(result.stdout).toMatch(/12 Feb 2026, 00:00 UTC {2}FIRING {4}kpi\.followers {2}at risk: actual 900/)
    expect(result.stdout).toMatch(/15 Feb 2026, 00:00 UTC {2}RESOLVED {2}kpi\.followers\n/)
    expect(result.stdout).toMatch(/kpi\.followers\s+1\s+1\s+2\s+1\s+3d\s*\n/)
    expect(elapsed).toBeLessThan(150_000)
    const count = cli(['sql', 'SELECT (SELECT count() FROM kpi_evaluations) + (SELECT count() FROM alert_state) + (SELECT count() FROM alert_notifications)', '--format', 'TSV'])
    expect(count.stderr).toBe('')
    expect(count.stdout.trim()).toBe('0')
    const bad = cli(['evaluate', '--from', '2026-01-01', '--step', 'daily', '--plan', planFile])
    expect(bad.status).toBe(1)
    expect(bad.stderr).toContain('--step: "daily"')
  }, 180_000)
})
