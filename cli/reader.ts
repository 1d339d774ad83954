import { openClickHouse } from '../core/clickhouse.ts'
import type { Config } from '../core/config.ts'
import { SocialKpiError } from '../core/errors.ts'
import { createLogger } from '../core/logger.ts'
import { migrate } from '../core/migrations.ts'
import { findAdminServer, insertAdminServer, queryAdminServer } from './admin-server.ts'

/**
 * ClickHouse access for the CLI: the server, the running process (embedded mode), or the data
 * directory itself. Mostly reads; `insert` is for the few rows people write by hand (silences).
 */
export interface Reader {
  text(query: string, format: string, params?: Record<string, unknown>): Promise<string>
  rows<T>(query: string, params?: Record<string, unknown>): Promise<T[]>
  insert(table: string, values: Array<Record<string, unknown>>): Promise<void>
  close(): Promise<void>
}

/**
 * `migrate`: apply pending migrations when the database is opened here (a running process has
 * applied them already), so a command that writes finds its table on a fresh DATA_DIR.
 */
export async function openReader(config: Config, options: { migrate?: boolean } = {}): Promise<Reader> {
  if (!config.CLICKHOUSE_URL) {
    const port = await findAdminServer(config.dataDir)
    if (port !== undefined) {
      const text = async (query: string, format: string, params?: Record<string, unknown>) => {
        const answer = await queryAdminServer(port, query, format, params)
        if (!answer.ok) throw new SocialKpiError('CONFIG_INVALID', answer.text.trim())
        return answer.text
      }
      return {
        text,
        async rows<T>(query: string, params?: Record<string, unknown>) {
          const body = await text(query, 'JSONEachRow', params)
          return body.split('\n').filter((line) => line.trim()).map((line) => JSON.parse(line) as T)
        },
        async insert(table, values) {
          const answer = await insertAdminServer(port, table, values)
          if (!answer.ok) throw new SocialKpiError('CLICKHOUSE_WRITE_FAILED', answer.text.trim())
        },
        async close() {},
      }
    }
  }
  const ch = await openClickHouse({ url: config.CLICKHOUSE_URL, database: config.CLICKHOUSE_DATABASE, dataDir: config.dataDir })
  if (options.migrate) await migrate(ch, createLogger({ level: 'silent' }))
  return {
    async text(query, format, params) {
      const result = await ch.client.query({ query, format: format as 'JSONEachRow', query_params: params })
      return result.text()
    },
    rows: (query, params) => ch.rows(query, params),
    async insert(table, values) {
      await ch.client.insert({ table, values, format: 'JSONEachRow' })
    },
    close: () => ch.close(),
  }
}
