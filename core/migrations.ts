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
 * Applies the numbered, append-only migrations in order and records each in `schema_migrations`.
 * Safe to run twice and from two processes: every statement is idempotent (IF NOT EXISTS).
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
  const result: MigrationResult = { applied: [], alreadyApplied: [] }
  for (const name of files) {
    const version = Number(FILE_NAME.exec(name)![1])
    if (done.has(version)) {
      result.alreadyApplied.push(name)
      continue
    }
    const statements = splitStatements(await readFile(join(dir, name), 'utf8'))
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
