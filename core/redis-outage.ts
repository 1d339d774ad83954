import type { Logger } from './logger.ts'

/** Node's and ioredis's ways of saying "Redis is not there", by error code and class name. */
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN'])
const CONNECTION_CLASSES = new Set(['MaxRetriesPerRequestError'])

/** Whether an error only says that Redis does not answer (every client and queue sees the same outage). */
function isRedisConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  const code = (error as NodeJS.ErrnoException).code
  if (code && CONNECTION_CODES.has(code)) return true
  if (CONNECTION_CLASSES.has(error.name)) return true
  // ioredis rejects commands on a closed connection with a plain Error; its text is all there is.
  return error.message === 'Connection is closed.'
}

/**
 * BullMQ's answer when a job's keys or lock are gone (Redis restarted empty, or the lock ran out
 * and another worker took the job over): codes JobNotExist (-1) and JobLockNotExist (-2) of its
 * ErrorCode. The job's work is done again (a round is enqueued again, writes are idempotent).
 */
function isLostJobError(error: unknown): error is Error {
  const code = (error as { code?: unknown } | null)?.code
  return error instanceof Error && (code === -1 || code === -2)
}

export interface OutageReporter {
  /** For every client's and queue's `error` event: an outage is said once, anything else as it comes. */
  error(source: string, error: unknown): void
  /** For the `ready` event: the outage, if there was one, is over. */
  ready(): void
}

/**
 * One outage, one line: every connection and every queue reports the same refused connection on
 * each reconnect attempt, which buried what the user needs to know. The first says that Redis
 * does not answer and what happens meanwhile; the rest go to debug until Redis is ready again.
 */
export function createOutageReporter(logger: Logger, redisHost: string): OutageReporter {
  let since: number | undefined
  let repeated = 0
  return {
    error(source, error) {
      if (isLostJobError(error)) {
        logger.warn({ source, detail: error.message }, 'a job Redis no longer holds could not be finished here (Redis restarted empty, or another worker took it over); its work is done again')
        return
      }
      if (!isRedisConnectionError(error)) {
        logger.error({ source, err: error }, `${source} error`)
        return
      }
      if (since === undefined) {
        since = performance.now()
        repeated = 0
        logger.warn(
          { source, reason: error instanceof Error ? error.message : String(error) },
          `Redis at REDIS_URL (${redisHost}) does not answer: jobs wait, rounds due meanwhile are enqueued when it is back; retrying`,
        )
        return
      }
      repeated++
      logger.debug({ source, err: error }, `${source} error`)
    },
    ready() {
      if (since === undefined) return
      logger.info({ downForMs: Math.round(performance.now() - since), repeatedErrors: repeated }, 'Redis answers again')
      since = undefined
    },
  }
}
