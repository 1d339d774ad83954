import type { Redis } from 'ioredis'
import type { QuotaPolicy } from '../core/metrics.ts'

/** Asks before each API call; answers how long to wait first (0: go). */
export interface RequestGate {
  take(): Promise<number>
}

const OPEN_GATE: RequestGate = { take: async () => 0 }

// A sliding-window log per quota key: drop calls older than the window, then admit the call when
// fewer than `limit` remain, else say when the oldest leaves. Atomic, and on Redis's own clock so
// that workers on several machines agree.
const SLIDING_WINDOW = `
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', nowMs - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], nowMs, nowMs .. '-' .. ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - nowMs)
`

/**
 * Keeps every worker within a network's documented call limit, shared through Redis. A quota the
 * API counts per account (per Page, per user token) is that account's own; a quota it counts per
 * app (YouTube's daily units) is split evenly between the plan's accounts on that network, so the
 * first accounts of a round cannot spend what the last ones need.
 */
export function createRequestGate(options: {
  redis: Redis
  prefix: string
  network: string
  accountId: string
  policy: QuotaPolicy | undefined
  /** How many accounts of the plan share an app-wide quota. */
  accountsSharing: number
}): RequestGate {
  const { policy } = options
  if (!policy) return OPEN_GATE
  const shared = policy.scope === 'app'
  const limit = shared ? Math.max(1, Math.floor(policy.limit / Math.max(1, options.accountsSharing))) : policy.limit
  const key = `${options.prefix}:quota:${options.network}:${options.accountId}`
  let sequence = 0
  return {
    async take() {
      sequence++
      const wait = (await options.redis.eval(SLIDING_WINDOW, 1, key, String(policy.windowMs), String(limit), `${process.pid}-${Math.random().toString(36).slice(2)}-${sequence}`)) as number
      return Number(wait)
    },
  }
}
