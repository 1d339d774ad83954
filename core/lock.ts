import { randomUUID } from 'node:crypto'
import { SocialKpiError } from './errors.ts'
import type { Redis } from './redis.ts'

/** Deletes the lock only if it still holds our token, so a late release never frees someone else's lock. */
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"

/** The lock was held by another process for longer than we were willing to wait. */
class LockTimeoutError extends SocialKpiError {
  constructor(message: string) {
    super('LOCK_TIMEOUT', message)
  }
}

export interface LockOptions {
  /** How long the lock lives if its holder dies without releasing it. */
  ttlMs?: number
  /** How long to wait for another holder before giving up. */
  waitMs?: number
  /** Who else holds such a lock, for the timeout message (default: another evaluator). */
  holder?: string
}

/**
 * Runs `work` while holding a short Redis lock (`SET key token NX PX ttl`), released with a fenced
 * delete. Waiting is polling with a little jitter: the work under such locks (an alert decision,
 * a token refresh) takes well under a second, so contention is rare and brief.
 */
export async function withRedisLock<T>(redis: Redis, key: string, work: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const ttlMs = options.ttlMs ?? 60_000
  const waitMs = options.waitMs ?? 30_000
  const token = randomUUID()
  // A duration, not a time of day: measured on the monotonic clock.
  const deadline = performance.now() + waitMs
  // A producer connection (no offline queue) refuses commands until it is ready; give it the wait.
  while (redis.status !== 'ready' && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
  while ((await redis.set(key, token, 'PX', ttlMs, 'NX')) !== 'OK') {
    if (performance.now() >= deadline) throw new LockTimeoutError(`${options.holder ?? 'another evaluator'} has held ${key} for more than ${Math.round(waitMs / 1000)} s; try again later`)
    await new Promise((resolve) => setTimeout(resolve, 25 + Math.random() * 50))
  }
  try {
    return await work()
  } finally {
    await redis.eval(RELEASE, 1, key, token)
  }
}
