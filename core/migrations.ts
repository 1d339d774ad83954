import { readdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { SocialKpiError } from './errors.ts'
import type { ClickHouse } from './clickhouse.ts'
import type { Config } from './config.ts'
import type { Logger } from './logger.ts'

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'infra', 'clickhouse', 'migrations')
const FILE_NAME = /^(\d{4})_[\w-]+\.sql$/

export interface MigrationResult {
  applied: string[]
  alreadyApplied: string[]
  /** Tables and views an applied migration creates that were missing, re-created from their statements. */
  recreated: string[]
}

/** Splits a migration file into statements: `;` at the end of a line ends one. Comments are dropped. */
export function splitStatements(sql: string): string[] {
  const withoutComments = sql
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n')
  return withoutComments
    .split(/;\s*(?:\n|$)/)
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0)
}

/**
 * What one migration statement does to the schema, read from our own migration files: creates
 * a table or view, changes a table's columns or a view's query, drops an object, or moves data (INSERT, ALTER …
 * DELETE), which is not schema.
 */
type StatementEffect = { kind: 'create' | 'alter' | 'drop'; object: string } | { kind: 'data' }

const CREATE = /^CREATE\s+(?:OR\s+REPLACE\s+)?(?:TABLE|VIEW|MATERIALIZED\s+VIEW|DICTIONARY)\s+(?:IF\s+NOT\s+EXISTS\s+)?([\w.]+)/i
const ALTER_COLUMNS = /^ALTER\s+TABLE\s+([\w.]+)\s+(?:(?:ADD|MODIFY|DROP|RENAME|COMMENT)\s+COLUMN|MODIFY\s+QUERY)\b/i
const DROP = /^DROP\s+(?:TABLE|VIEW|DICTIONARY)\s+(?:IF\s+EXISTS\s+)?([\w.]+)/i

function statementEffect(statement: string): StatementEffect {
  const create = CREATE.exec(statement)
  if (create) return { kind: 'create', object: create[1]! }
  const alter = ALTER_COLUMNS.exec(statement)
  if (alter) return { kind: 'alter', object: alter[1]! }
  const drop = DROP.exec(statement)
  if (drop) return { kind: 'drop', object: drop[1]! }
  return { kind: 'data' }
}

// ---------------------------------------------------------------------------------------------
// One source, two shapes. The migration files are written for one server; with a cluster
// (CLICKHOUSE_CLUSTER) each statement is rendered for it, as Langfuse keeps clustered and
// unclustered migrations, but from the same files:
// - a MergeTree table `t` becomes `t_local` on every node (ON CLUSTER, the Replicated engine with
//   the {shard}/{replica} macros) and `t` a Distributed table over it, so every reader and writer
//   keeps using `t`. Rows go to a shard by the first two ORDER BY columns (network, account_id for
//   observations and its rollups), so the rows a ReplacingMergeTree or AggregatingMergeTree must
//   merge, and a materialized view's rows, live on the same shard as their source rows;
// - a materialized view reads and writes the local tables (it sees the inserts of its own node),
//   also when its query is changed (MODIFY QUERY);
// - views, column changes (on both tables) and mutations (on the local one) run ON CLUSTER;
// - data statements (INSERT … SELECT backfills) run once, through the Distributed tables.

export interface MigrateOptions {
  /** Where the numbered files are (default infra/clickhouse/migrations). */
  dir?: string
  /** Render for this cluster (CLICKHOUSE_CLUSTER). */
  cluster?: string
  /** Keep raw observations this many days (OBSERVATIONS_RETENTION_DAYS); the rollups keep everything. */
  observationsRetentionDays?: number
}

/** The migration options the environment asks for. */
export const migrateOptions = (config: Pick<Config, 'CLICKHOUSE_CLUSTER' | 'OBSERVATIONS_RETENTION_DAYS'>): MigrateOptions => ({
  ...(config.CLICKHOUSE_CLUSTER ? { cluster: config.CLICKHOUSE_CLUSTER } : {}),
  ...(config.OBSERVATIONS_RETENTION_DAYS ? { observationsRetentionDays: config.OBSERVATIONS_RETENTION_DAYS } : {}),
})

const LOCAL_SUFFIX = '_local'
const CREATE_MERGE_TREE = /^CREATE\s+TABLE\s+(IF\s+NOT\s+EXISTS\s+)?(\w+)\s*(\([\s\S]*\))\s*ENGINE\s*=\s*(\w*MergeTree)(?:\(([^)]*)\))?([\s\S]*)$/i
const CREATE_TABLE = /^(CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?)(\w+)/i
const CREATE_VIEW = /^(CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+(?:IF\s+NOT\s+EXISTS\s+)?)(\w+)/i
const CREATE_MV = /^(CREATE\s+MATERIALIZED\s+VIEW\s+(?:IF\s+NOT\s+EXISTS\s+)?)(\w+)\s+TO\s+(\w+)([\s\S]*)$/i
const ALTER = /^ALTER\s+TABLE\s+(\w+)\s+([\s\S]*)$/i
// a view's changed query, as written or rendered for a cluster
const MODIFY_QUERY = /^ALTER\s+TABLE\s+(\w+)\s+(?:ON\s+CLUSTER\s+\w+\s+)?MODIFY\s+QUERY\s+([\s\S]*)$/i
const DROP_TABLE = /^(DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?)(\w+)([\s\S]*)$/i
const DROP_VIEW = /^(DROP\s+VIEW\s+(?:IF\s+EXISTS\s+)?)(\w+)([\s\S]*)$/i

/** The MergeTree tables the statements create (they become `_local` + Distributed on a cluster). */
function mergeTreeTables(statements: string[]): Set<string> {
  const tables = new Set<string>()
  for (const statement of statements) {
    const match = CREATE_MERGE_TREE.exec(statement)
    if (match) tables.add(match[2]!)
  }
  return tables
}

/**
 * One migration statement as it runs: itself without a cluster; with one, the statements that do
 * the same on the cluster (see above). `tables` are the MergeTree tables of all migrations.
 */
export function renderStatement(statement: string, tables: Set<string>, cluster?: string): string[] {
  if (!cluster) return [statement]
  const on = `ON CLUSTER ${cluster}`
  const local = (name: string) => (tables.has(name) ? `${name}${LOCAL_SUFFIX}` : name)
  const mergeTree = CREATE_MERGE_TREE.exec(statement)
  if (mergeTree) {
    const [, ifNotExists = '', name, columns, engine, args = '', rest] = mergeTree as unknown as string[]
    const path = `'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'`
    const settings = rest!.replace(/\bnon_replicated_deduplication_window\s*=\s*\d+\s*,?\s*/i, '').replace(/\s*SETTINGS\s*$/i, '')
    const orderBy = /ORDER\s+BY\s+(\([^)]*\)|\w+)/i.exec(rest!)?.[1] ?? 'tuple()'
    const keyColumns = orderBy
      .replace(/^\(|\)$/g, '')
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean)
      .slice(0, 2)
    const shardBy = keyColumns.length > 0 ? `cityHash64(${keyColumns.join(', ')})` : 'rand()'
    return [
      `CREATE TABLE ${ifNotExists}${name}${LOCAL_SUFFIX} ${on}\n${columns}\nENGINE = Replicated${engine}(${path}${args.trim() ? `, ${args.trim()}` : ''})${settings}`,
      `CREATE TABLE ${ifNotExists}${name} ${on} AS ${name}${LOCAL_SUFFIX}\nENGINE = Distributed(${cluster}, currentDatabase(), ${name}${LOCAL_SUFFIX}, ${shardBy})`,
    ]
  }
  const localTables = (sql: string) => sql.replace(/\b(FROM|JOIN)\s+(\w+)/gi, (_, keyword: string, table: string) => `${keyword} ${local(table)}`)
  const mv = CREATE_MV.exec(statement)
  if (mv) {
    const [, head, name, target, body] = mv as unknown as string[]
    return [`${head}${name} ${on} TO ${local(target!)}${localTables(body!)}`]
  }
  const viewQuery = MODIFY_QUERY.exec(statement)
  if (viewQuery) return [`ALTER TABLE ${viewQuery[1]} ${on} MODIFY QUERY ${localTables(viewQuery[2]!)}`]
  const view = CREATE_VIEW.exec(statement)
  if (view) return [statement.replace(CREATE_VIEW, `$1$2 ${on}`)]
  const table = CREATE_TABLE.exec(statement)
  if (table) return [statement.replace(CREATE_TABLE, `$1$2 ${on}`)]
  const alter = ALTER.exec(statement)
  if (alter) {
    const [, name, operation] = alter as unknown as string[]
    if (!tables.has(name!)) return [`ALTER TABLE ${name} ${on} ${operation}`]
    const onLocal = `ALTER TABLE ${name}${LOCAL_SUFFIX} ${on} ${operation}`
    // Column changes go to the Distributed table too (it has no storage, so no codecs there).
    if (/^(ADD|MODIFY|DROP|RENAME|COMMENT)\s+COLUMN\b/i.test(operation!)) {
      return [onLocal, `ALTER TABLE ${name} ${on} ${operation!.replace(/\s+CODEC\((?:[^()]|\([^()]*\))*\)/gi, '')}`]
    }
    return [onLocal]
  }
  const drop = DROP_TABLE.exec(statement)
  if (drop) {
    const [, head, name, rest] = drop as unknown as string[]
    return tables.has(name!) ? [`${head}${name} ${on}${rest}`, `${head}${name}${LOCAL_SUFFIX} ${on}${rest}`] : [`${head}${name} ${on}${rest}`]
  }
  const dropView = DROP_VIEW.exec(statement)
  if (dropView) return [statement.replace(DROP_VIEW, `$1$2 ${on}$3`)]
  return [statement]
}

/** Every migration file with its statements rendered for the target (one server, or a cluster). */
export async function renderMigrations(dir: string = MIGRATIONS_DIR, cluster?: string): Promise<Array<{ name: string; statements: string[] }>> {
  const files = (await readdir(dir)).filter((name) => FILE_NAME.test(name)).sort()
  const parsed = await Promise.all(files.map(async (name) => ({ name, statements: splitStatements(await readFile(join(dir, name), 'utf8')) })))
  const tables = mergeTreeTables([SCHEMA_MIGRATIONS, ...parsed.flatMap((file) => file.statements)])
  return parsed.map(({ name, statements }) => ({ name, statements: statements.flatMap((statement) => renderStatement(statement, tables, cluster)) }))
}

const SCHEMA_MIGRATIONS = `CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
     ENGINE = ReplacingMergeTree(applied_at) ORDER BY version`

/**
 * Applies the numbered, append-only migrations in order and records each in `schema_migrations`.
 * Safe to run twice and from two processes: every statement is idempotent (IF NOT EXISTS).
 * `schema_migrations` is not taken on trust: a table or view that an applied migration creates
 * (and no later one drops) but that is missing — dropped by hand — is created again by re-running,
 * in order, that object's own CREATE and column changes (all IF [NOT] EXISTS). Data statements
 * are not re-run: they moved rows that a re-created, empty table does not have.
 */
export async function migrate(ch: ClickHouse, logger: Logger, target: string | MigrateOptions = {}): Promise<MigrationResult> {
  const options = typeof target === 'string' ? { dir: target } : target
  const dir = options.dir ?? MIGRATIONS_DIR
  const tablesOfSchema = mergeTreeTables([SCHEMA_MIGRATIONS])
  for (const statement of renderStatement(SCHEMA_MIGRATIONS, tablesOfSchema, options.cluster)) await ch.command(statement)
  const done = new Set((await ch.rows<{ version: number }>('SELECT version FROM schema_migrations FINAL')).map((row) => Number(row.version)))
  const rendered = await renderMigrations(dir, options.cluster)
  const files = rendered.map((file) => file.name)
  const result: MigrationResult = { applied: [], alreadyApplied: [], recreated: [] }
  const statementsOf = new Map(rendered.map((file) => [file.name, file.statements]))
  const applied = files.filter((name) => done.has(Number(FILE_NAME.exec(name)![1])))
  result.recreated = await recreateMissing(
    ch,
    logger,
    applied.map((name) => ({ name, statements: statementsOf.get(name)! })),
  )
  for (const name of files) {
    const version = Number(FILE_NAME.exec(name)![1])
    if (done.has(version)) {
      result.alreadyApplied.push(name)
      continue
    }
    const statements = statementsOf.get(name)!
    for (const [index, statement] of statements.entries()) {
      try {
        await ch.command(statement)
      } catch (cause) {
        throw new SocialKpiError('MIGRATION_FAILED', `migration ${name}, statement ${index + 1}, failed`, { cause })
      }
    }
    await ch.client.insert({ table: 'schema_migrations', values: [{ version, name }], format: 'JSONEachRow' })
    logger.info({ migration: name }, 'applied migration')
    result.applied.push(name)
  }
  if (files.some((name) => name.startsWith('0020_'))) await applyRetention(ch, logger, options)
  return result
}

/**
 * Raw observations are kept OBSERVATIONS_RETENTION_DAYS when set (a TTL ClickHouse applies as it
 * merges), for ever when not; set at every migrate, so changing the variable takes effect at the
 * next start. The rollups, which every KPI reads, have no TTL.
 */
async function applyRetention(ch: ClickHouse, logger: Logger, options: MigrateOptions): Promise<void> {
  const table = options.cluster ? `observations${LOCAL_SUFFIX}` : 'observations'
  const on = options.cluster ? ` ON CLUSTER ${options.cluster}` : ''
  const [row] = await ch.rows<{ ttl: string }>(`SELECT extract(engine_full, 'TTL (.*?) SETTINGS') AS ttl FROM system.tables WHERE database = currentDatabase() AND name = {table:String}`, { table })
  const current = row?.ttl ?? ''
  const days = options.observationsRetentionDays
  const wanted = days ? `toDateTime(observed_at) + toIntervalDay(${days})` : ''
  if (current === wanted) return
  if (days) {
    await ch.command(`ALTER TABLE ${table}${on} MODIFY TTL toDateTime(observed_at) + INTERVAL ${Math.trunc(days)} DAY`)
    logger.info({ days }, `raw observations are kept ${days} days (OBSERVATIONS_RETENTION_DAYS); the rollups keep everything`)
  } else if (current) {
    await ch.command(`ALTER TABLE ${table}${on} REMOVE TTL`)
    logger.info('raw observations are kept for ever (OBSERVATIONS_RETENTION_DAYS unset)')
  }
}

/** Re-creates the tables and views the applied migrations made that are no longer there; returns their names. */
async function recreateMissing(ch: ClickHouse, logger: Logger, applied: Array<{ name: string; statements: string[] }>): Promise<string[]> {
  const expected = new Set<string>()
  for (const { statements } of applied) {
    for (const statement of statements) {
      const effect = statementEffect(statement)
      if (effect.kind === 'create') expected.add(effect.object)
      if (effect.kind === 'drop') expected.delete(effect.object)
    }
  }
  if (expected.size === 0) return []
  const existing = new Set((await ch.rows<{ name: string }>('SELECT name FROM system.tables WHERE database = currentDatabase()')).map((row) => row.name))
  const missing = new Set([...expected].filter((object) => !existing.has(object)))
  if (missing.size === 0) return []
  // A view is made again with its newest query: the query it was created with may select columns
  // a later migration dropped from its target.
  const newestQuery = new Map<string, string>()
  for (const { statements } of applied) {
    for (const statement of statements) {
      const changed = MODIFY_QUERY.exec(statement)
      if (changed) newestQuery.set(changed[1]!, changed[2]!)
    }
  }
  for (const { name, statements } of applied) {
    for (const [index, statement] of statements.entries()) {
      const effect = statementEffect(statement)
      if (effect.kind === 'data' || !missing.has(effect.object)) continue
      const query = newestQuery.get(effect.object)
      if (query && effect.kind === 'alter') continue
      try {
        await ch.command(query && effect.kind === 'create' ? statement.replace(/\bAS\s+SELECT\b[\s\S]*$/i, () => `AS ${query}`) : statement)
      } catch (cause) {
        throw new SocialKpiError('MIGRATION_FAILED', `re-creating ${effect.object}: migration ${name}, statement ${index + 1}, failed`, { cause })
      }
      if (effect.kind === 'create') logger.warn({ migration: name, object: effect.object }, `${effect.object} was missing although ${name} is applied: created it again (it starts empty)`)
    }
  }
  return [...missing]
}
