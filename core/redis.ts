import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { SocialKpiError } from './errors.ts'
import type { Logger } from './logger.ts'

export type { Redis }

/**
 * Producers fail fast when Redis is away (`enableOfflineQueue: false`), so a scheduler tick errors
 * instead of piling up in memory; workers wait for Redis forever (`maxRetriesPerRequest: null`),
 * as BullMQ requires for blocking connections.
 */
export function createRedis(url: string, role: 'producer' | 'worker'): Redis {
  return new Redis(url, role === 'producer'
    ? { enableOfflineQueue: false, maxRetriesPerRequest: 3, connectTimeout: 5_000, lazyConnect: false }
    : { maxRetriesPerRequest: null, enableReadyCheck: true, connectTimeout: 5_000 })
}

/** Answers whether something speaks Redis at `url`, within `timeoutMs`. */
export async function redisAnswers(url: string, timeoutMs = 1_500): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false })
  probe.on('error', () => undefined)
  try {
    await probe.connect()
    return (await probe.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    probe.disconnect()
  }
}

export interface PrivateRedis {
  stop(): Promise<void>
}

/**
 * For the all-in-one `start` on a laptop: when nothing answers at a loopback REDIS_URL and
 * `redis-server` is installed, run a private one with its files under DATA_DIR/redis.
 */
export async function ensureRedis(url: string, options: { dataDir: string; allowPrivate: boolean; logger: Logger }): Promise<PrivateRedis | undefined> {
  if (await redisAnswers(url)) return undefined
  const parsed = new URL(url)
  const loopback = ['127.0.0.1', 'localhost', '[::1]', '::1'].includes(parsed.hostname)
  if (!options.allowPrivate || !loopback) {
    throw new SocialKpiError('REDIS_UNAVAILABLE', `nothing answers at REDIS_URL (${parsed.host}); start Redis or point REDIS_URL at one`)
  }
  const dir = join(options.dataDir, 'redis')
  mkdirSync(dir, { recursive: true })
  const port = parsed.port || '6379'
  let child: ChildProcess
  try {
    child = spawn('redis-server', ['--port', port, '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' })
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve)
      child.once('error', reject)
    })
  } catch (cause) {
    throw new SocialKpiError('REDIS_UNAVAILABLE', `nothing answers at REDIS_URL (${parsed.host}) and redis-server could not be started; install Redis or set REDIS_URL`, { cause })
  }
  for (let attempt = 0; attempt < 50; attempt++) {
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
  throw new SocialKpiError('REDIS_UNAVAILABLE', `a private redis-server on port ${port} did not answer`)
}
