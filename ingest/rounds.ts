import type { Queue } from 'bullmq'
import { jobIds } from '../core/queues.ts'
import type { Redis } from '../core/redis.ts'

/**
 * Which collect jobs each open round still waits for, kept in Redis so that every worker process
 * sees the same picture. A round is evaluated when its last job ends (the job that ends it
 * promotes the round's delayed evaluate job) or at its deadline (the delay running out),
 * whichever comes first; the evaluation then reads who is still pending and names them.
 *
 * An account whose job is held back by throttling is not given a new job every round: the rounds
 * that come meanwhile wait for that one job (coalesced), which collects for the newest of them.
 *
 * Keys (under the queue prefix): `rounds:open` (sorted set of open round times, ms), per round a
 * hash (`accounts`, and one counter per outcome) and the set of its pending members
 * (`<jobId> <network>/<accountId>`); `collect:throttled` maps an account to its held-back job.
 * The scripts touch keys they compute (one per open round), which a Redis Cluster would refuse:
 * like the queue prefix, this assumes one Redis (docs/scaling.md).
 */

/** How an account's part of a round ended (as its source health says: failing = answered, but nothing stored; failed = out of tries). */
export const ROUND_OUTCOMES = ['collected', 'degraded', 'failing', 'unhealthy', 'failed'] as const
export type RoundOutcome = (typeof ROUND_OUTCOMES)[number]

export interface RoundMember {
  jobId: string
  network: string
  accountId: string
}

export interface RoundState {
  /** Accounts the round was enqueued for. */
  accounts: number
  /** Of those, accounts whose held-back job of an earlier round collects for this one. */
  coalesced: number
  /** Accounts whose job has not ended, as `network/accountId`. */
  pending: string[]
  /** How the ended ones ended. */
  outcomes: Partial<Record<RoundOutcome, number>>
}

export interface RoundTracker {
  /**
   * Registers a round and the jobs it waits for (once: a second enqueue of the same slot keeps the
   * first registration). Returns false when the round was registered before.
   */
  open(roundAt: Date, members: RoundMember[], coalesced?: number): Promise<boolean>
  /** A job ended: it leaves every open round that waits for it; rounds left with nothing pending are evaluated now. */
  ended(member: RoundMember, outcome: RoundOutcome): Promise<Date[]>
  /** The round's accounts, who is pending and how the others ended; undefined when Redis does not know the round. */
  state(roundAt: Date): Promise<RoundState | undefined>
  /** The round was evaluated: it waits no more. */
  close(roundAt: Date): Promise<void>
  /** The round's evaluation runs now if it is still waiting for its deadline. */
  evaluateNow(roundAt: Date): Promise<void>
  /** The account's job was put back by throttling: later rounds wait for it instead of adding their own. */
  heldBack(member: RoundMember): Promise<void>
  /** Held-back jobs by account (`network/accountId` → job id). */
  heldBackJobs(): Promise<Map<string, string>>
  /** Forgets a held-back job (it ended, or it is gone). */
  release(account: string, jobId: string): Promise<void>
}

/** Redis forgets a round's keys this long after it was opened (its evaluation is long done by then). */
const ROUND_TTL_S = 2 * 86_400

const member = (m: RoundMember) => `${m.jobId} ${m.network}/${m.accountId}`
export const accountKey = (m: { network: string; accountId: string }) => `${m.network}/${m.accountId}`

/** SREM the member from every open round; count its outcome where it was pending; return the rounds left empty. */
const ENDED = `
local done = {}
for _, round in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local pending = ARGV[1] .. round .. ':pending'
  if redis.call('SREM', pending, ARGV[2]) == 1 then
    redis.call('HINCRBY', ARGV[1] .. round, ARGV[3], 1)
    if redis.call('SCARD', pending) == 0 then table.insert(done, round) end
  end
end
return done`

/** Registers a round unless it is known: its hash, its pending set, its place among the open rounds. */
const OPEN = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'accounts', ARGV[3], 'coalesced', ARGV[4])
for i = 5, #ARGV do redis.call('SADD', KEYS[2], ARGV[i]) end
redis.call('ZADD', KEYS[3], ARGV[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[1] - ARGV[2] * 1000)
return 1`

/** Forgets a held-back job only while it is still the one recorded for the account. */
const RELEASE = "if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) else return 0 end"

export function createRoundTracker(deps: { redis: Redis; prefix: string; evaluateQueue: Pick<Queue, 'getJob'> }): RoundTracker {
  const base = `${deps.prefix}:round:`
  const openKey = `${deps.prefix}:rounds:open`
  const throttledKey = `${deps.prefix}:collect:throttled`
  const roundKey = (roundAt: Date) => `${base}${roundAt.getTime()}`

  const evaluateNow = async (roundAt: Date) => {
    const job = await deps.evaluateQueue.getJob(jobIds.evaluate('round', roundAt))
    // Promoting is only for a job still waiting for its deadline; one already running or done is left be.
    if (!job || !(await job.isDelayed())) return
    await job.promote().catch(async (error: unknown) => {
      if (await job.isDelayed()) throw error
    })
  }

  return {
    async open(roundAt, members, coalesced = 0) {
      const key = roundKey(roundAt)
      const opened = await deps.redis.eval(OPEN, 3, key, `${key}:pending`, openKey, String(roundAt.getTime()), String(ROUND_TTL_S), String(members.length), String(coalesced), ...members.map(member))
      return opened === 1
    },
    async ended(m, outcome) {
      const done = (await deps.redis.eval(ENDED, 1, openKey, base, member(m), outcome)) as string[]
      const rounds = done.map((ms) => new Date(Number(ms)))
      for (const roundAt of rounds) await evaluateNow(roundAt)
      return rounds
    },
    async state(roundAt) {
      const key = roundKey(roundAt)
      const [hash, pending] = await Promise.all([deps.redis.hgetall(key), deps.redis.smembers(`${key}:pending`)])
      if (!hash.accounts) return undefined
      const outcomes: RoundState['outcomes'] = {}
      for (const outcome of ROUND_OUTCOMES) if (hash[outcome]) outcomes[outcome] = Number(hash[outcome])
      return { accounts: Number(hash.accounts), coalesced: Number(hash.coalesced ?? 0), pending: pending.map((p) => p.slice(p.indexOf(' ') + 1)).sort(), outcomes }
    },
    async close(roundAt) {
      await deps.redis.zrem(openKey, String(roundAt.getTime()))
    },
    evaluateNow,
    async heldBack(m) {
      await deps.redis.hset(throttledKey, accountKey(m), m.jobId)
    },
    async heldBackJobs() {
      return new Map(Object.entries(await deps.redis.hgetall(throttledKey)))
    },
    async release(account, jobId) {
      await deps.redis.eval(RELEASE, 1, throttledKey, account, jobId)
    },
  }
}
