import { readdir, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { SocialKpiError } from './errors.ts'
import type { ClickHouse } from './clickhouse.ts'
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
 * a table or view, changes a table's columns, drops an object, or moves data (INSERT, ALTER …
 * DELETE), which is not schema.
 */
type StatementEffect = { kind: 'create' | 'alter' | 'drop'; object: string } | { kind: 'data' }

const CREATE = /^CREATE\s+(?:OR\s+REPLACE\s+)?(?:TABLE|VIEW|MATERIALIZED\s+VIEW|DICTIONARY)\s+(?:IF\s+NOT\s+EXISTS\s+)?([\w.]+)/i
const ALTER_COLUMNS = /^ALTER\s+TABLE\s+([\w.]+)\s+(?:ADD|MODIFY|DROP|RENAME|COMMENT)\s+COLUMN\b/i
const DROP = /^DROP\s+(?:TABLE|VIEW|DICTIONARY)\s+(?:IF\s+EXISTS\s+)?([\w.]+)/i

export function statementEffect(statement: string): StatementEffect {
  const create = CREATE.exec(statement)
  if (create) return { kind: 'create', object: create[1]! }
  const alter = ALTER_COLUMNS.exec(statement)
  if (alter) return { kind: 'alter', object: alter[1]! }
  const drop = DROP.exec(statement)
  if (drop) return { kind: 'drop', object: drop[1]! }
  return { kind: 'data' }
}

/**
 * Applies the numbered, append-only migrations in order and records each in `schema_migrations`.
 * Safe to run twice and from two processes: every statement is idempotent (IF NOT EXISTS).
 * `schema_migrations` is not taken on trust: a table or view that an applied migration creates
 * (and no later one drops) but that is missing — dropped by hand — is created again by re-running,
 * in order, that object's own CREATE and column changes (all IF [NOT] EXISTS). Data statements
 * are not re-run: they moved rows that a re-created, empty table does not have.
 */
export async function migrate(ch: ClickHouse, logger: Logger, dir: string = MIGRATIONS_DIR): Promise<MigrationResult> {
  await ch.command(
    `CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
     ENGINE = ReplacingMergeTree(applied_at) ORDER BY version`,
  )
  const done = new Set(
    (await ch.rows<{ version: number }>('SELECT version FROM schema_migrations FINAL')).map((row) => Number(row.version)),
  )
  const files = (await readdir(dir)).filter((name) => FILE_NAME.test(name)).sort()
  const result: MigrationResult = { applied: [], alreadyApplied: [], recreated: [] }
  const statementsOf = new Map<string, string[]>()
  for (const name of files) statementsOf.set(name, splitStatements(await readFile(join(dir, name), 'utf8')))
  const applied = files.filter((name) => done.has(Number(FILE_NAME.exec(name)![1])))
  result.recreated = await recreateMissing(ch, logger, applied.map((name) => ({ name, statements: statementsOf.get(name)! })))
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
  return result
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
  for (const { name, statements } of applied) {
    for (const [index, statement] of statements.entries()) {
      const effect = statementEffect(statement)
      if (effect.kind === 'data' || !missing.has(effect.object)) continue
      try {
        await ch.command(statement)
      } catch (cause) {
        throw new SocialKpiError('MIGRATION_FAILED', `re-creating ${effect.object}: migration ${name}, statement ${index + 1}, failed`, { cause })
      }
      if (effect.kind === 'create') logger.warn({ migration: name, object: effect.object }, `${effect.object} was missing although ${name} is applied: created it again (it starts empty)`)
    }
  }
  return [...missing]
}
