import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { clickHouseSilenceStore, type SilenceStore } from '../alerts/silences.ts'
import { openClickHouse } from '../core/clickhouse.ts'
import type { Config } from '../core/config.ts'
import { createLogger } from '../core/logger.ts'
import { migrate, migrateOptions } from '../core/migrations.ts'
import { findAdminServer, queryAdminServer, writeSilencesAdminServer } from './admin-server.ts'
import { noDataError } from './data-dir.ts'

/**
 * ClickHouse access for the CLI: the server, the running process (embedded mode), or the data
 * directory itself. `text` runs an analyst's statement read-only (ClickHouse.readOnlyText) on
 * every path; the one write is silences, through the admin endpoint's own route.
 */
export interface Reader extends SilenceStore {
  text(query: string, format: string, params?: Record<string, unknown>): Promise<string>
  close(): Promise<void>
}

/**
 * `migrate`: apply pending migrations when the database is opened here (a running process has
 * applied them already), so a command that writes finds its table on a fresh DATA_DIR. Without
 * it the reader only reads: a DATA_DIR without a store is not given one, and a database without
 * our tables is one plain line (NO_DATA), not ClickHouse's unknown-table error with the query.
 */
export async function openReader(config: Config, options: { migrate?: boolean } = {}): Promise<Reader> {
  if (!config.CLICKHOUSE_URL) {
    const endpoint = await findAdminServer(config.dataDir)
    if (endpoint !== undefined) {
      const text = (query: string, format: string, params?: Record<string, unknown>) => queryAdminServer(endpoint, query, format, params)
      return {
        text,
        async rows<T>(query: string, params?: Record<string, unknown>) {
          const body = await text(query, 'JSONEachRow', params)
          return body
            .split('\n')
            .filter((line) => line.trim())
            .map((line) => JSON.parse(line) as T)
        },
        writeSilences: (rows) => writeSilencesAdminServer(endpoint, rows),
        async close() {},
      }
    }
  }
  if (!config.CLICKHOUSE_URL && !options.migrate && !existsSync(join(config.dataDir, 'clickhouse'))) throw noDataError(config.dataDir)
  const ch = await openClickHouse({ url: config.CLICKHOUSE_URL, database: config.CLICKHOUSE_DATABASE, dataDir: config.dataDir })
  try {
    if (options.migrate) await migrate(ch, createLogger({ level: 'silent' }), migrateOptions(config))
    else {
      // Every start applies the migrations first: without their record, nothing was ever collected or evaluated here.
      const [found] = await ch.rows<{ n: string | number }>("SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = 'schema_migrations'")
      if (Number(found?.n ?? 0) === 0) throw noDataError(config.dataDir, { CLICKHOUSE_URL: config.CLICKHOUSE_URL, CLICKHOUSE_DATABASE: ch.database })
    }
  } catch (error) {
    await ch.close()
    throw error
  }
  const silences = clickHouseSilenceStore(ch)
  return {
    text: (query, format, params) => ch.readOnlyText(query, { format, params }),
    rows: (query, params) => ch.rows(query, params),
    writeSilences: (rows) => silences.writeSilences(rows),
    close: () => ch.close(),
  }
}
