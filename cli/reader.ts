import { openClickHouse } from '../core/clickhouse.ts'
import type { Config } from '../core/config.ts'
import { SocialKpiError } from '../core/errors.ts'
import { findAdminServer, queryAdminServer } from './admin-server.ts'

/** Read access for the CLI: the server, the running process (embedded mode), or the data directory itself. */
export interface Reader {
  text(query: string, format: string, params?: Record<string, unknown>): Promise<string>
  rows<T>(query: string, params?: Record<string, unknown>): Promise<T[]>
  close(): Promise<void>
}

export async function openReader(config: Config): Promise<Reader> {
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
        async close() {},
      }
    }
  }
  const ch = await openClickHouse({ url: config.CLICKHOUSE_URL, database: config.CLICKHOUSE_DATABASE, dataDir: config.dataDir })
  return {
    async text(query, format, params) {
      const result = await ch.client.query({ query, format: format as 'JSONEachRow', query_params: params })
      return result.text()
    },
    rows: (query, params) => ch.rows(query, params),
    close: () => ch.close(),
  }
}
