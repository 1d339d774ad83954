import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLogger } from '../../core/logger.ts'
import { loadConfig, type Config } from '../../core/config.ts'
import { removeRedisKeysAtEnd } from './redis-keys.ts'

export const silentLogger = createLogger({ level: process.env.TEST_LOG_LEVEL || 'silent' })

/**
 * A suffix no other test process shares (databases, queue prefixes). Not the time: under
 * libfaketime every process's clock starts at the same instant.
 */
export const uniqueSuffix = (): string => `${process.pid}_${randomBytes(4).toString('hex')}`

/**
 * A config for one test file: its own data dir, database and queue prefix, on the real Redis. The
 * prefix's keys are removed when the file ends (redis-keys.ts); `cleanup()` removes the data dir.
 */
export function testConfig(name: string, overrides: Record<string, string> = {}): { config: Config; cleanup(): void } {
  const dataDir = mkdtempSync(join(tmpdir(), `social-kpi-${name}-`))
  const unique = `${name}_${uniqueSuffix()}`
  const config = loadConfig({
    ...process.env,
    DATA_DIR: dataDir,
    CLICKHOUSE_DATABASE: `test_${unique}`,
    QUEUE_PREFIX: `test-${unique}`,
    WRITER_FLUSH_MS: '50',
    SHUTDOWN_TIMEOUT_MS: '15000',
    ...overrides,
  })
  removeRedisKeysAtEnd(config.QUEUE_PREFIX)
  return { config, cleanup: () => rmSync(dataDir, { recursive: true, force: true }) }
}
