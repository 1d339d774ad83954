import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openClickHouse, type ClickHouse } from '../../core/clickhouse.ts'
import { loadConfig } from '../../core/config.ts'
import { createLogger } from '../../core/logger.ts'
import { migrate } from '../../core/migrations.ts'

/** Migrations on the real engine: an upgrade from a database that predates a migration. */
const MIGRATIONS = join(import.meta.dirname, '..', '..', 'infra', 'clickhouse', 'migrations')
const logger = createLogger({ level: 'silent' })
let ch: ClickHouse
let dataDir: string
let oldDir: string
const database = `test_migrations_${process.pid}_${Date.now()}`

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'social-kpi-migrations-'))
  oldDir = mkdtempSync(join(tmpdir(), 'social-kpi-migrations-0009-'))
  for (const name of readdirSync(MIGRATIONS).filter((n) => n < '0010')) copyFileSync(join(MIGRATIONS, name), join(oldDir, name))
  ch = await openClickHouse({ url: loadConfig().CLICKHOUSE_URL, database, dataDir })
})

afterAll(async () => {
  await ch?.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined)
  await ch?.close()
  rmSync(dataDir, { recursive: true, force: true })
  rmSync(oldDir, { recursive: true, force: true })
})

const evaluation = (evaluatedAt: string, periodStart: string, periodEnd: string, status: string, actual: number) => ({
  evaluated_at: evaluatedAt,
  kpi_id: 'likes',
  kpi_name: 'Likes',
  objective_id: 'o',
  network: 'facebook',
  metric: 'likes',
  kind: 'total',
  comparator: 'at_least',
  period_start: periodStart,
  period_end: periodEnd,
  actual,
  expected_to_date: null,
  target: 100,
  attainment: actual / 100,
  status,
  written_at: evaluatedAt,
})

describe('migration 0010 (final verdicts in their own table)', () => {
  it('moves the verdicts an older version kept in kpi_evaluations, keeps running evaluations, and is safe to run twice', async () => {
    await migrate(ch, logger, oldDir)
    await ch.client.insert({
      table: 'kpi_evaluations',
      format: 'JSONEachRow',
      values: [
        // a running evaluation of November, and November's verdict at its end (as 0.1 wrote it)
        evaluation('2026-11-20 00:00:00', '2026-11-01 00:00:00', '2026-12-01 00:00:00', 'at_risk', 50),
        evaluation('2026-12-01 00:00:00', '2026-11-01 00:00:00', '2026-12-01 00:00:00', 'missed', 80),
        evaluation('2026-12-01 06:00:00', '2026-12-01 00:00:00', '2027-01-01 00:00:00', 'on_track', 4),
      ],
    })
    const first = await migrate(ch, logger)
    expect(first.applied).toContain('0010_kpi_verdicts.sql')
    expect(await ch.rows('SELECT toString(evaluated_at) AS at, status FROM kpi_evaluations FINAL ORDER BY evaluated_at')).toEqual([
      { at: '2026-11-20 00:00:00.000', status: 'at_risk' },
      { at: '2026-12-01 06:00:00.000', status: 'on_track' },
    ])
    const verdicts = () => ch.rows('SELECT kpi_id, toString(period_start) AS period_start, status, actual, toString(settles_at) AS settles_at FROM kpi_verdicts FINAL')
    expect(await verdicts()).toEqual([{ kpi_id: 'likes', period_start: '2026-11-01 00:00:00.000', status: 'missed', actual: 80, settles_at: '2026-12-04 00:00:00.000' }])
    const second = await migrate(ch, logger)
    expect(second.applied).toEqual([])
    expect(await verdicts()).toHaveLength(1)
  })
})

describe('a table dropped by hand', () => {
  it('is created again, with the columns later migrations added, and the next run changes nothing', async () => {
    await migrate(ch, logger)
    const columns = async (table: string) =>
      (await ch.rows<{ name: string }>(`SELECT name FROM system.columns WHERE database = currentDatabase() AND table = {table:String} ORDER BY position`, { table })).map((row) => row.name)
    const before = { silences: await columns('silences'), kpi_evaluations: await columns('kpi_evaluations') }
    await ch.client.insert({
      table: 'silences',
      format: 'JSONEachRow',
      values: [{ id: 'sil-1', starts_at: '2026-11-18 00:00:00', ends_at: '2026-11-19 00:00:00', created_at: '2026-11-18 00:00:00', version: 1 }],
    })
    await ch.client.insert({
      table: 'kpi_verdicts',
      format: 'JSONEachRow',
      values: [
        {
          kpi_id: 'k',
          period_start: '2026-10-01 00:00:00',
          period_end: '2026-11-01 00:00:00',
          target: 1,
          status: 'missed',
          judged_at: '2026-11-01 00:00:00',
          settles_at: '2026-11-04 00:00:00',
          written_at: '2026-11-01 00:00:00',
        },
      ],
    })
    const verdictCount = async () => Number((await ch.rows<{ n: string }>('SELECT toString(count()) AS n FROM kpi_verdicts FINAL'))[0]!.n)
    const verdictsBefore = await verdictCount()
    await ch.command('DROP TABLE silences')
    await ch.command('DROP TABLE kpi_evaluations')

    const repaired = await migrate(ch, logger)
    expect(repaired.applied).toEqual([])
    expect(repaired.recreated.sort()).toEqual(['kpi_evaluations', 'silences'])
    expect(await columns('silences')).toEqual(before.silences)
    // 0003 creates kpi_evaluations, 0007 adds its forecast columns: both ran again, in order.
    expect(await columns('kpi_evaluations')).toEqual(before.kpi_evaluations)
    expect(before.kpi_evaluations).toContain('status_basis')
    expect(await ch.rows('SELECT * FROM silences FINAL')).toEqual([])
    // Tables that were there keep their rows, and nothing is copied into them again.
    expect(await verdictCount()).toBe(verdictsBefore)

    const again = await migrate(ch, logger)
    expect(again).toMatchObject({ applied: [], recreated: [] })
  })
})

describe('migration 0023 (the readings of an hour in their own table)', () => {
  const observation = (observedAt: string, collectedAt: string, value: number) => ({
    network: 'facebook',
    account_id: 'page-23',
    object_type: 'post',
    object_id: 'post-23',
    metric: 'likes',
    shape: 'counter',
    observed_at: observedAt,
    value,
    source_field: 'likes',
    api_version: 'v25.0',
    collected_at: collectedAt,
  })
  const readingsOf = async (db: ClickHouse = ch) =>
    (
      await db.rows<{ at: string; value: number }>(
        "SELECT toString(r.1) AS at, argMax(r.3, r.2) AS value FROM (SELECT arrayJoin(readings) AS r FROM observation_readings WHERE account_id = 'page-23') GROUP BY r.1 ORDER BY at",
      )
    ).map((r) => [r.at, Number(r.value)])
  const hourColumns = async (db: ClickHouse = ch) =>
    (await db.rows<{ name: string }>("SELECT name FROM system.columns WHERE database = currentDatabase() AND table = 'observation_hours'")).map((r) => r.name)

  it('moves the readings an older version kept in observation_hours, and the views write each table its own columns', async () => {
    const upTo0022 = mkdtempSync(join(tmpdir(), 'social-kpi-migrations-0022-'))
    try {
      const fresh = `${database}_0023`
      const old = await openClickHouse({ url: loadConfig().CLICKHOUSE_URL, database: fresh, dataDir })
      try {
        for (const name of readdirSync(MIGRATIONS).filter((n) => n < '0023')) copyFileSync(join(MIGRATIONS, name), join(upTo0022, name))
        await migrate(old, logger, upTo0022)
        // a reading, and a late correction of it, written before the upgrade
        await old.client.insert({
          table: 'observations',
          format: 'JSONEachRow',
          values: [observation('2026-11-20 10:15:00', '2026-11-20 10:16:00', 7), observation('2026-11-20 10:15:00', '2026-11-20 12:00:00', 8)],
        })
        expect(await hourColumns(old)).toContain('readings')
        const upgraded = await migrate(old, logger)
        // 0023 and the migrations after it
        expect(upgraded.applied).toEqual(
          readdirSync(MIGRATIONS)
            .filter((n) => n >= '0023')
            .sort(),
        )
        // and one written after it
        await old.client.insert({ table: 'observations', format: 'JSONEachRow', values: [observation('2026-11-20 10:30:00', '2026-11-20 10:31:00', 9)] })
        expect(await readingsOf(old)).toEqual([
          ['2026-11-20 10:15:00.000', 8],
          ['2026-11-20 10:30:00.000', 9],
        ])
        expect(await hourColumns(old)).not.toContain('readings')
        // the hour's states kept their rows across the upgrade and took the new one
        expect(await old.rows("SELECT toString(max(last_at)) AS newest, argMaxMerge(last) AS value FROM observation_hours WHERE account_id = 'page-23'")).toEqual([
          { newest: '2026-11-20 10:30:00.000', value: 9 },
        ])
      } finally {
        await old.command(`DROP DATABASE IF EXISTS ${fresh}`).catch(() => undefined)
        await old.close()
      }
    } finally {
      rmSync(upTo0022, { recursive: true, force: true })
    }
  })

  it('creates a view dropped by hand again with its newest query', async () => {
    await migrate(ch, logger)
    await ch.command('DROP VIEW observation_hours_mv')
    const repaired = await migrate(ch, logger)
    expect(repaired.recreated).toEqual(['observation_hours_mv'])
    const [view] = await ch.rows<{ q: string }>("SELECT create_table_query AS q FROM system.tables WHERE database = currentDatabase() AND name = 'observation_hours_mv'")
    expect(view!.q).not.toContain('readings')
    expect(await hourColumns()).not.toContain('readings')
    await ch.client.insert({ table: 'observations', format: 'JSONEachRow', values: [observation('2026-11-21 08:00:00', '2026-11-21 08:01:00', 3)] })
    expect(await ch.rows("SELECT toString(max(last_at)) AS newest, argMaxMerge(last) AS value FROM observation_hours WHERE account_id = 'page-23'")).toEqual([
      { newest: '2026-11-21 08:00:00.000', value: 3 },
    ])
    expect(await readingsOf()).toEqual([['2026-11-21 08:00:00.000', 3]])
    expect(await migrate(ch, logger)).toMatchObject({ applied: [], recreated: [] })
  })
})
