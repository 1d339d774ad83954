import { spawn, type ChildProcess } from 'node:child_process'
import { Redis, ReplyError } from 'ioredis'
import { makeDataDir } from './config.ts'
import { SocialKpiError, connectionProblem, errnoCode } from './errors.ts'
import type { Logger } from './logger.ts'

export type { Redis }

/**
 * Producers fail fast when Redis is away (`enableOfflineQueue: false`), so a scheduler tick errors
 * instead of piling up in memory; workers wait for Redis forever (`maxRetriesPerRequest: null`),
 * as BullMQ requires for blocking connections.
 */
export function createRedis(url: string, role: 'producer' | 'worker'): Redis {
  return new Redis(
    url,
    role === 'producer'
      ? { enableOfflineQueue: false, maxRetriesPerRequest: 3, connectTimeout: 5_000, lazyConnect: false }
      : { maxRetriesPerRequest: null, enableReadyCheck: true, connectTimeout: 5_000 },
  )
}

/** What answers at a Redis URL: Redis, nothing, a Redis that refuses us, or something else. */
export type RedisProbe = { ok: true } | { ok: false; kind: 'unreachable'; code?: string; problem: string } | { ok: false; kind: 'refused' | 'not_redis'; problem: string }

/**
 * Connects to `url` once, without retries, and says what answered within `timeoutMs`: PONG, a
 * socket error (by its code), a Redis error reply (by its code, the reply's first word, which is
 * how the protocol names the kind of error: NOAUTH, WRONGPASS, ERR), or a connection that was
 * made but never spoke Redis. ioredis rejects `connect()` with "Connection is closed" whatever
 * happened; the reason is what it emits as `error`.
 */
async function probeRedis(url: string, timeoutMs = 1_500): Promise<RedisProbe> {
  // disconnectTimeout: a refused socket never reports its close, and ioredis would hold the process 2 s for it.
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    disconnectTimeout: 100,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  })
  const errors: Error[] = []
  let connected = false
  probe.on('error', (error: Error) => errors.push(error))
  probe.on('connect', () => (connected = true))
  let pong = false
  try {
    await probe.connect()
    pong = (await probe.ping()) === 'PONG'
  } catch (error) {
    errors.push(error as Error)
  } finally {
    probe.disconnect()
  }
  const reply = errors.find((error): error is Error => error instanceof ReplyError)
  if (reply) return { ok: false, kind: 'refused', problem: refusal(reply) }
  if (pong) return { ok: true }
  const code = errors.map(errnoCode).find((c) => c !== undefined)
  if (code && !connected) return { ok: false, kind: 'unreachable', code, problem: connectionProblem(code)! }
  if (connected) return { ok: false, kind: 'not_redis', problem: 'something there accepts connections but does not speak Redis (is it the right port?)' }
  return { ok: false, kind: 'unreachable', problem: `no answer within ${timeoutMs} ms` }
}

/** A Redis error reply in plain words; its kind is the reply's first word (the protocol's error code). */
function refusal(reply: Error): string {
  const text = reply.message.split('\n')[0]!.trim()
  const kind = /^[A-Z]+/.exec(text)?.[0]
  if (kind === 'NOAUTH') return 'Redis asks for a password (NOAUTH); give it as the password of REDIS_URL'
  if (kind === 'WRONGPASS') return 'Redis refused the user or password (WRONGPASS); check them in REDIS_URL'
  return `Redis refused: ${text}`
}

/** Answers whether something speaks Redis at `url`, within `timeoutMs`. */
export async function redisAnswers(url: string, timeoutMs = 1_500): Promise<boolean> {
  return (await probeRedis(url, timeoutMs)).ok
}

export interface PrivateRedis {
  stop(): Promise<void>
}

/**
 * For the all-in-one `start` on a laptop: when nothing answers at a loopback REDIS_URL and
 * `redis-server` is installed, run a private one with its files under DATA_DIR/redis.
 */
export async function ensureRedis(url: string, options: { dataDir: string; allowPrivate: boolean; logger: Logger }): Promise<PrivateRedis | undefined> {
  const probe = await probeRedis(url)
  if (probe.ok) return undefined
  const parsed = new URL(url)
  const where = `REDIS_URL (${parsed.host})`
  const loopback = ['127.0.0.1', 'localhost', '[::1]', '::1'].includes(parsed.hostname)
  // Only a port where nothing listens is free for a private server.
  if (probe.kind !== 'unreachable' || probe.code !== 'ECONNREFUSED' || !options.allowPrivate || !loopback) {
    const hint = probe.kind === 'unreachable' && probe.code === 'ECONNREFUSED' ? '; start Redis or point REDIS_URL at one' : ''
    throw new SocialKpiError('REDIS_UNAVAILABLE', `${where}: ${probe.problem}${hint}`)
  }
  const dir = makeDataDir(options.dataDir, 'redis')
  const port = parsed.port || '6379'
  let child: ChildProcess
  try {
    child = spawn('redis-server', ['--port', port, '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' })
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve)
      child.once('error', reject)
    })
  } catch (cause) {
    throw new SocialKpiError('REDIS_UNAVAILABLE', `${where}: nothing answers, and redis-server could not be started (${errnoCode(cause) ?? 'error'}); install Redis or point REDIS_URL at one`, {
      cause,
    })
  }
  for (let attempt = 0; attempt < 50; attempt++) {
    if (child.exitCode !== null) {
      throw new SocialKpiError(
        'REDIS_UNAVAILABLE',
        `${where}: nothing answers, and the private redis-server started for it exited at once (code ${child.exitCode}); start Redis or point REDIS_URL at one`,
      )
    }
    if (await redisAnswers(url, 500)) {
      options.logger.info({ port, dir }, 'started a private redis-server for this run')
      return {
        async stop() {
          if (child.exitCode !== null) return
          const exited = new Promise((resolve) => child.once('exit', resolve))
          child.kill('SIGTERM')
          await exited
        },
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  child.kill('SIGKILL')
  throw new SocialKpiError('REDIS_UNAVAILABLE', `${where}: nothing answers, and the private redis-server started for it did not answer within 5 s; start Redis or point REDIS_URL at one`)
}
