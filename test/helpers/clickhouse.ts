import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openClickHouse, type ClickHouse } from '../../core/clickhouse.ts'
import { migrate } from '../../core/migrations.ts'
import { createLogger } from '../../core/logger.ts'
import { loadConfig } from '../../core/config.ts'
import type { ObservationRow } from '../../core/tables.ts'
import { uniqueSuffix } from './runtime.ts'

export interface TestClickHouse {
  ch: ClickHouse
  dataDir: string
  cleanup(): Promise<void>
}

/**
 * A migrated ClickHouse for one test file: the embedded engine in a fresh temporary directory, or
 * the server at CLICKHOUSE_URL with a database of its own, holding `observations` (made with
 * observations.ts). Call once per test file (one chdb data directory per process).
 */
export async function openTestClickHouse(name: string, observations: ObservationRow[] = []): Promise<TestClickHouse> {
  const dataDir = mkdtempSync(join(tmpdir(), `social-kpi-${name}-`))
  const database = `test_${name.replace(/\W/g, '_')}_${uniqueSuffix()}`
  const ch = await openClickHouse({ url: loadConfig().CLICKHOUSE_URL, database, dataDir })
  await migrate(ch, createLogger({ level: 'silent' }))
  if (observations.length > 0) await ch.client.insert({ table: 'observations', format: 'JSONEachRow', values: observations })
  return {
    ch,
    dataDir,
    async cleanup() {
      await ch.command(`DROP DATABASE IF EXISTS ${database}`).catch(() => undefined)
      await ch.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
