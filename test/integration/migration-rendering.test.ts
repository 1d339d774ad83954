import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openClickHouse, type ClickHouse } from '../../core/clickhouse.ts'
import { loadConfig } from '../../core/config.ts'
import { createLogger } from '../../core/logger.ts'
import { migrate, migrateOptions, renderMigrations, splitStatements } from '../../core/migrations.ts'
import { uniqueSuffix } from '../helpers/runtime.ts'

/**
 * Both shapes of the migrations from one source (core/migrations.ts renderStatement): as written
 * for one server, and for a cluster (CLICKHOUSE_CLUSTER). No cluster runs here: the clustered
 * statements are checked for what they must say and parsed by ClickHouse's own parser; the
 * unclustered ones are applied to the embedded engine.
 */
const MIGRATIONS = join(import.meta.dirname, '..', '..', 'infra', 'clickhouse', 'migrations')
const CLUSTER = 'kpi_cluster'
const logger = createLogger({ level: 'silent' })
let ch: ClickHouse
let dataDir: string
const database = `test_rendering_${uniqueSuffix()}`

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'social-kpi-rendering-'))
  ch = await openClickHouse({ url: loadConfig().CLICKHOUSE_URL, database, dataDir })
})
afterAll(async () => {
  await ch?.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined)
  await ch?.close()
  rmSync(dataDir, { recursive: true, force: true })
})

const files = readdirSync(MIGRATIONS)
  .filter((name) => /^\d{4}_.*\.sql$/.test(name))
  .sort()
/** MergeTree tables the files create, read independently of the renderer. */
const tables = files.flatMap((name) => [...readFileSync(join(MIGRATIONS, name), 'utf8').matchAll(/CREATE TABLE IF NOT EXISTS (\w+)\s*\([\s\S]*?\)\s*ENGINE = \w*MergeTree/g)].map((m) => m[1]!))

describe('migrations for one server', () => {
  it('are the files’ own statements, unchanged, and apply to the embedded engine', async () => {
    const rendered = await renderMigrations(MIGRATIONS)
    expect(rendered.map((file) => file.name)).toEqual(files)
    for (const file of rendered) expect(file.statements).toEqual(splitStatements(readFileSync(join(MIGRATIONS, file.name), 'utf8')))
    const result = await migrate(ch, logger)
    expect(result.applied).toEqual(files)
    const existing = (await ch.rows<{ name: string; engine: string }>('SELECT name, engine FROM system.tables WHERE database = currentDatabase()')).map((t) => t.name)
    for (const table of tables) expect(existing).toContain(table)
    expect(existing).toEqual(expect.arrayContaining(['observation_hours', 'observation_objects', 'observation_days', 'observation_hours_mv', 'observation_objects_mv', 'observation_days_mv']))
  })

  it('sets, changes and removes the raw-observation retention at migrate', async () => {
    const ttl = async () => (await ch.rows<{ e: string }>("SELECT engine_full AS e FROM system.tables WHERE database = currentDatabase() AND name = 'observations'"))[0]!.e
    await migrate(ch, logger, { observationsRetentionDays: 400 })
    expect(await ttl()).toContain('TTL toDateTime(observed_at) + toIntervalDay(400)')
    await migrate(ch, logger, { observationsRetentionDays: 90 })
    expect(await ttl()).toContain('TTL toDateTime(observed_at) + toIntervalDay(90)')
    await migrate(ch, logger, {})
    expect(await ttl()).not.toContain('TTL')
    const rollups = (
      await ch.rows<{ e: string }>("SELECT engine_full AS e FROM system.tables WHERE database = currentDatabase() AND name IN ('observation_hours', 'observation_objects', 'observation_days')")
    ).map((r) => r.e)
    for (const engine of rollups) expect(engine).not.toContain('TTL')
  })
})

describe('CLICKHOUSE_CLUSTER and OBSERVATIONS_RETENTION_DAYS', () => {
  it('are read from the environment once, and a bad value names its variable', () => {
    expect(migrateOptions(loadConfig({ CLICKHOUSE_CLUSTER: 'kpi_cluster', OBSERVATIONS_RETENTION_DAYS: '400' }))).toEqual({ cluster: 'kpi_cluster', observationsRetentionDays: 400 })
    expect(migrateOptions(loadConfig({ CLICKHOUSE_CLUSTER: '', OBSERVATIONS_RETENTION_DAYS: '' }))).toEqual({})
    expect(() => loadConfig({ CLICKHOUSE_CLUSTER: 'a cluster; DROP' })).toThrow(/CLICKHOUSE_CLUSTER/)
    expect(() => loadConfig({ OBSERVATIONS_RETENTION_DAYS: '0' })).toThrow(/OBSERVATIONS_RETENTION_DAYS/)
  })
})

describe(`migrations for a cluster (CLICKHOUSE_CLUSTER=${CLUSTER})`, () => {
  it('puts every DDL statement ON CLUSTER, and parses', async () => {
    const rendered = await renderMigrations(MIGRATIONS, CLUSTER)
    expect(rendered.map((file) => file.name)).toEqual(files)
    for (const { name, statements } of rendered) {
      for (const statement of statements) {
        if (/^(CREATE|ALTER|DROP)\b/i.test(statement)) expect(statement, `${name}: ${statement.slice(0, 80)}`).toMatch(new RegExp(`\\bON CLUSTER ${CLUSTER}\\b`))
        else expect(statement, name).toMatch(/^INSERT\b/i)
        expect(statement).not.toMatch(/non_replicated_deduplication_window/)
        // ClickHouse's own parser accepts it (parsing runs nothing)
        const [parsed] = await ch.rows<{ ok: string }>('SELECT formatQuerySingleLine({text:String}) AS ok', { text: statement })
        expect(parsed!.ok.length, `${name}: ${statement.slice(0, 80)}`).toBeGreaterThan(0)
      }
    }
  })

  it('makes each MergeTree table a Replicated local table on every node and a Distributed table over it', async () => {
    const all = (await renderMigrations(MIGRATIONS, CLUSTER)).flatMap((file) => file.statements)
    expect(tables).toEqual(expect.arrayContaining(['observations', 'kpi_evaluations', 'observation_hours', 'observation_objects', 'observation_days']))
    for (const table of tables) {
      const local = all.find((s) => s.startsWith(`CREATE TABLE IF NOT EXISTS ${table}_local ON CLUSTER ${CLUSTER}`))
      expect(local, table).toBeDefined()
      expect(local).toMatch(/ENGINE = Replicated\w*MergeTree\('\/clickhouse\/tables\/\{shard\}\/\{database\}\/\{table\}', '\{replica\}'/)
      expect(local, table).toMatch(/ENGINE = Replicated\w*MergeTree\([^\n]*\)\s+(ORDER|PARTITION|PRIMARY) BY/)
      const distributed = all.find((s) => s.startsWith(`CREATE TABLE IF NOT EXISTS ${table} ON CLUSTER ${CLUSTER}`))
      expect(distributed, table).toMatch(new RegExp(`AS ${table}_local\\s+ENGINE = Distributed\\(${CLUSTER}, currentDatabase\\(\\), ${table}_local, cityHash64\\(`))
    }
    const observations = all.find((s) => s.startsWith('CREATE TABLE IF NOT EXISTS observations_local'))!
    expect(observations).toContain("ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', collected_at)")
    expect(observations).toContain('ORDER BY (network, account_id, metric, object_type, object_id, observed_at)')
    // observations and its rollups are sharded alike: an account's rows and their rollups share a shard
    for (const table of ['observations', 'observation_hours', 'observation_objects', 'observation_days', 'observation_readings']) {
      expect(all.find((s) => s.startsWith(`CREATE TABLE IF NOT EXISTS ${table} ON CLUSTER`))).toContain('cityHash64(network, account_id)')
    }
  })

  it('lets materialized views read and write the local tables, and changes columns on both tables', async () => {
    const all = (await renderMigrations(MIGRATIONS, CLUSTER)).flatMap((file) => file.statements)
    const views = all.filter((s) => /^CREATE MATERIALIZED VIEW/.test(s))
    expect(views.length).toBeGreaterThanOrEqual(2)
    for (const view of views) {
      expect(view).toMatch(/ TO \w+_local AS/)
      expect(view).toMatch(/FROM observations_local\b/)
    }
    const codecs = all.filter((s) => s.includes('MODIFY COLUMN observed_at'))
    expect(codecs).toEqual([
      `ALTER TABLE observations_local ON CLUSTER ${CLUSTER} MODIFY COLUMN observed_at DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1))`,
      `ALTER TABLE observations ON CLUSTER ${CLUSTER} MODIFY COLUMN observed_at DateTime64(3, 'UTC')`,
    ])
    // a mutation changes rows, which only the local tables hold
    expect(all.filter((s) => s.includes('DELETE WHERE evaluated_at = period_end'))).toEqual([
      `ALTER TABLE kpi_evaluations_local ON CLUSTER ${CLUSTER} DELETE WHERE evaluated_at = period_end SETTINGS mutations_sync = 2`,
    ])
    // a view's changed query reads the local tables too
    const changed = all.filter((s) => /MODIFY QUERY/.test(s))
    expect(changed.length).toBeGreaterThan(0)
    for (const statement of changed) {
      expect(statement).toMatch(new RegExp(`^ALTER TABLE \\w+_mv ON CLUSTER ${CLUSTER} MODIFY QUERY`))
      expect(statement).toMatch(/FROM observations_local\b/)
    }
    // plain views read the Distributed tables
    const metricsDaily = all.filter((s) => /VIEW (IF NOT EXISTS )?metrics_daily/.test(s))
    expect(metricsDaily.length).toBeGreaterThan(0)
    for (const view of metricsDaily) expect(view).toMatch(/FROM observations FINAL/)
  })
})
