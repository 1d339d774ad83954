import { loadConfig } from '../../core/config.ts'
import { Redis } from 'ioredis'
import { uniqueSuffix } from './runtime.ts'

/**
 * The Redis keys a test file leaves: every queue, lock, quota and credential key of ours starts
 * with the queue prefix (`<prefix>:collect:…`, `<prefix>:quota:…`, `<prefix>-clean:…`), so a
 * file's unique prefix finds them all. Other test files run at the same time on the same Redis:
 * keys are found with SCAN and removed with UNLINK, never KEYS or FLUSHDB.
 */
const prefixes = new Set<string>()

/**
 * A queue prefix no other test process shares, registered so that its keys are removed when the
 * test file ends (test/helpers/redis-cleanup.setup.ts, a setup file of the integration and chaos
 * projects).
 */
export function queuePrefix(name: string): string {
  const prefix = `test-${name}-${uniqueSuffix()}`
  removeRedisKeysAtEnd(prefix)
  return prefix
}

/** Registers a prefix whose keys are removed when the test file ends. */
export function removeRedisKeysAtEnd(prefix: string): void {
  prefixes.add(prefix)
}

/**
 * Removes every key that starts with `prefix`, in SCAN batches; returns how many there were. A
 * Redis that does not answer is an error, not a wait.
 */
export async function removeRedisKeys(prefix: string, url = loadConfig().REDIS_URL): Promise<number> {
  if (!prefix) throw new Error('removeRedisKeys needs a prefix: an empty one would match every key')
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, connectTimeout: 5_000 })
  redis.on('error', () => undefined)
  try {
    await redis.connect()
    let removed = 0
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) removed += await redis.unlink(...keys)
    } while (cursor !== '0')
    return removed
  } finally {
    redis.disconnect()
  }
}

/**
 * The prefix a CLI run on `dataDir` without QUEUE_PREFIX uses (social-kpi-<instance-id>, the
 * embedded engine's default), for files that give their CLIs only a DATA_DIR. Call it before the
 * directory is removed.
 */
export const removeDataDirRedisKeys = (dataDir: string): Promise<number> => removeRedisKeys(loadConfig({ DATA_DIR: dataDir }).QUEUE_PREFIX)

/** Removes the keys of every registered prefix (the setup file calls it after the file's own afterAll). */
export async function removeRegisteredRedisKeys(): Promise<void> {
  for (const prefix of prefixes) await removeRedisKeys(prefix)
  prefixes.clear()
}
