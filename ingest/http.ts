import axios, { AxiosError, type AxiosInstance, type AxiosRequestConfig, type AxiosResponse } from 'axios'
import type { z } from 'zod'
import type { Clock } from '../core/clock.ts'
import { DEFAULT_HTTP_MAX_ANSWER_BYTES } from '../core/config.ts'
import { ApiAnswerTooLargeError, ApiError, ApiRateLimitError, TokenError } from '../core/errors.ts'
import { scrubSecrets } from '../core/logger.ts'
import type { ApiObserver, ApiOutcome } from '../core/telemetry.ts'
import type { RequestGate } from './quota.ts'
import { readBody } from './response.ts'

/** What an API's failure means, decided by the API's own dialect (error codes, headers). */
export type Failure =
  | { kind: 'token'; apiCode: string; message: string }
  | { kind: 'throttled'; waitMs: number; message: string }
  | { kind: 'transient'; message: string; apiCode?: string }
  | { kind: 'permanent'; message: string; apiCode?: string }

/** How one API speaks: how it reports failures and how its successful answers say "slow down". */
export interface ApiDialect {
  network: string
  /**
   * What went wrong, or null for a success. Some APIs answer 200 with an error inside. `now` is
   * the caller's clock when the answer arrived, for waits given as a time (Retry-After dates, resets).
   */
  classify(response: AxiosResponse, now: Date): Failure | null
  /** After a success: how long to pause before the next call, from usage headers (0 = none). */
  pauseAfter(response: AxiosResponse, now: Date): number
}

export interface RetryPolicy {
  /** Attempts after the first, for transient failures and short throttles. */
  maxRetries: number
  /** First backoff step; doubles per attempt, with full jitter. */
  baseDelayMs: number
  /** Longest wait spent inside a job; a longer throttle becomes a ApiRateLimitError for the queue. */
  maxInlineWaitMs: number
}

const DEFAULT_RETRY: RetryPolicy = { maxRetries: 4, baseDelayMs: 500, maxInlineWaitMs: 30_000 }

/**
 * Each call names the shape of its answer: a zod schema of the fields the collector reads. A
 * success that is not JSON or not that shape is a transient failure, retried like a 5xx, whose
 * message names the network and endpoint (`youtube GET /youtube/v3/channels: the response lacks "items"`).
 */
export interface ApiCaller {
  get<S extends z.ZodType>(url: string, schema: S, config?: AxiosRequestConfig): Promise<z.output<S>>
  /** For APIs that read with POST (GA4 runReport). Retried like a GET: such reads are idempotent. */
  post<S extends z.ZodType>(url: string, body: unknown, schema: S, config?: AxiosRequestConfig): Promise<z.output<S>>
  /** How this caller's errors name a call: the network, the method and the path without the query (`facebook GET /v25.0/1/posts`). */
  describe(method: 'GET' | 'POST', url: string): string
}

export interface ApiCallerOptions {
  http: AxiosInstance
  dialect: ApiDialect
  /** The shared call budget (ingest/quota.ts); asked before every request. */
  gate?: RequestGate
  /** The process clock (the collect context's `now`): pauses and resets are measured on it. */
  now: Clock
  /** Counts every request by how it ended (the collect context's `apiObserver`); none when absent. */
  observer?: ApiObserver
  retry?: RetryPolicy
  sleep?: (ms: number) => Promise<void>
  random?: () => number
}

/**
 * An axios instance with a timeout (axios has none by default) and a size cap on answers
 * (HTTP_MAX_ANSWER_BYTES; axios reads any size by default): a longer body is cut off as it
 * arrives, never held whole. Request bodies (our own: GA4's report requests) have the same cap.
 */
export function createHttp(options: { baseURL: string; timeoutMs: number; headers?: Record<string, string>; maxAnswerBytes?: number }): AxiosInstance {
  const maxBytes = options.maxAnswerBytes ?? DEFAULT_HTTP_MAX_ANSWER_BYTES
  return axios.create({
    baseURL: options.baseURL,
    timeout: options.timeoutMs,
    headers: { 'User-Agent': 'social-kpi', ...options.headers },
    // Every status comes back as a response; the dialect decides what it means.
    validateStatus: () => true,
    maxRedirects: 0,
    maxContentLength: maxBytes,
    maxBodyLength: maxBytes,
  })
}

/**
 * Whether axios gave up on an answer for its size (maxContentLength). Axios reports it as
 * ERR_BAD_RESPONSE without a response; with our instances (every status is a response, JSON is
 * parsed leniently, http(s) only) the one other ERR_BAD_RESPONSE, a body cut off by the server,
 * carries the response it had begun.
 */
function isAnswerTooLarge(error: AxiosError): boolean {
  return error.code === AxiosError.ERR_BAD_RESPONSE && error.response === undefined
}

const FAILURE_OUTCOME: Record<Failure['kind'], ApiOutcome> = { token: 'token_refused', throttled: 'throttled', transient: 'error', permanent: 'permanent_error' }

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Calls one API with bounded retries: transient failures back off exponentially with jitter,
 * throttles wait as long as the API asks (Retry-After, usage headers) when that is short, and a
 * refused token stops at once. A success is returned only as the shape its call declares
 * (ingest/response.ts); anything else is transient. Errors carry no request config, so no token
 * can leak through them.
 */
export function createApiCaller(options: ApiCallerOptions): ApiCaller {
  const retry = options.retry ?? DEFAULT_RETRY
  const sleep = options.sleep ?? realSleep
  const random = options.random ?? Math.random
  let pauseUntil = 0
  const now = () => options.now().getTime()

  async function honourPause(): Promise<void> {
    const until = pauseUntil
    const wait = until - now()
    if (wait > 0) {
      if (wait > retry.maxInlineWaitMs) throw new ApiRateLimitError(`${options.dialect.network} asked us to pause for ${Math.ceil(wait / 1000)} s`, wait)
      await sleep(wait)
      // Waited out: a clock that stands still (a test's) must not make every later call wait again.
      if (pauseUntil === until) pauseUntil = 0
    }
    // Our own budget: wait for a slot when one frees soon, else hand the job back to the queue.
    for (;;) {
      const budgetWait = (await options.gate?.take()) ?? 0
      if (budgetWait <= 0) return
      if (budgetWait > retry.maxInlineWaitMs) {
        throw new ApiRateLimitError(`${options.dialect.network}: this account's share of the documented call limit is spent for now`, budgetWait)
      }
      await sleep(budgetWait)
    }
  }

  async function request<S extends z.ZodType>(config: AxiosRequestConfig, schema: S): Promise<z.output<S>> {
    let lastFailure: Failure | undefined
    /** Whether the last failure was an answer that is not the documented shape. */
    let invalidAnswer = false
    /** What a transient failure's message starts with, so it says which call failed: `youtube GET /youtube/v3/videos`. */
    const call = describe(config)
    for (let attempt = 0; attempt <= retry.maxRetries; attempt++) {
      await honourPause()
      let response: AxiosResponse
      const sent = performance.now()
      const observe = (outcome: ApiOutcome) => options.observer?.request(options.dialect.network, outcome, (performance.now() - sent) / 1000)
      try {
        response = await options.http.request(config)
      } catch (error) {
        if (!axios.isAxiosError(error)) throw error
        if (isAnswerTooLarge(error)) {
          // The same request would bring the same answer: not retried within the round.
          observe('invalid_answer')
          const limit = config.maxContentLength ?? options.http.defaults?.maxContentLength
          throw new ApiAnswerTooLargeError(`${call}: the answer is larger than ${limit} bytes (HTTP_MAX_ANSWER_BYTES); it was cut off unread`)
        }
        observe('no_answer')
        // No response at all: timeout, reset, refused. Worth another try. Axios says ECONNABORTED
        // (ETIMEDOUT with clarifyTimeoutError) when its timeout ended the request.
        const timeoutMs = config.timeout ?? options.http.defaults?.timeout
        const timedOut = (error.code === 'ECONNABORTED' || error.code === 'ETIMEDOUT') && !!timeoutMs
        lastFailure = { kind: 'transient', message: `${call}: ${timedOut ? `no answer within ${timeoutMs} ms (HTTP_TIMEOUT_MS)` : `no answer (${error.code ?? 'network error'})`}` }
        invalidAnswer = false
        await sleep(backoff(attempt))
        continue
      }
      const answeredAt = options.now()
      const ok = response.status >= 200 && response.status < 300
      const body = ok ? readBody(response, schema) : undefined
      // A success that is not JSON (a proxy's HTML page, a body cut short) is not shown to the
      // dialect, which would only find text where it looks for its error envelope.
      const notJson = body !== undefined && !body.ok && !body.json
      let failure = notJson ? null : options.dialect.classify(response, answeredAt)
      if (!failure && !notJson) {
        const pause = options.dialect.pauseAfter(response, answeredAt)
        if (pause > 0) pauseUntil = Math.max(pauseUntil, answeredAt.getTime() + pause)
        if (body?.ok) {
          observe('ok')
          return body.value
        }
      }
      // The API answered, but not with the documented shape: retried like a server error.
      invalidAnswer = !failure
      observe(invalidAnswer ? 'invalid_answer' : FAILURE_OUTCOME[failure!.kind])
      failure ??= { kind: 'transient', message: `${call}: ${body && !body.ok ? body.problem : `the API answered HTTP ${response.status}`}` }
      // The dialect's words for a server error ("Graph API answered HTTP 502") say what, not where.
      if (failure.kind === 'transient' && !failure.message.startsWith(`${call}:`)) failure = { ...failure, message: `${call}: ${failure.message}` }
      lastFailure = failure
      switch (lastFailure.kind) {
        case 'token':
          throw new TokenError(options.dialect.network, lastFailure.apiCode, scrubSecrets(lastFailure.message))
        case 'permanent':
          throw new ApiError(scrubSecrets(lastFailure.message), { status: response.status, apiCode: lastFailure.apiCode, retryable: false })
        case 'throttled':
          if (lastFailure.waitMs > retry.maxInlineWaitMs || attempt === retry.maxRetries) {
            throw new ApiRateLimitError(scrubSecrets(lastFailure.message), lastFailure.waitMs)
          }
          await sleep(lastFailure.waitMs)
          break
        case 'transient':
          await sleep(backoff(attempt))
          break
      }
    }
    const failure = lastFailure!
    if (failure.kind === 'throttled') throw new ApiRateLimitError(scrubSecrets(failure.message), failure.waitMs)
    throw new ApiError(`${scrubSecrets(failure.message)} (gave up after ${retry.maxRetries + 1} attempts)`, {
      apiCode: 'apiCode' in failure ? failure.apiCode : undefined,
      retryable: true,
      code: invalidAnswer ? 'API_RESPONSE_INVALID' : undefined,
    })
  }

  /** How errors name a call: `youtube GET /youtube/v3/channels`. */
  function describe(config: AxiosRequestConfig): string {
    return `${options.dialect.network} ${(config.method ?? 'GET').toUpperCase()} ${endpoint(config)}`
  }

  /** The request's path on the server (base URL's path included, query left out): `/youtube/v3/channels`. */
  function endpoint(config: AxiosRequestConfig): string {
    const base = options.http.defaults?.baseURL ?? ''
    const url = config.url ?? ''
    const full = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) || !base ? url : `${base.replace(/\/+$/, '')}/${url.replace(/^\/+/, '')}`
    try {
      return new URL(full, 'http://api.invalid').pathname
    } catch {
      return full.split('?')[0]!
    }
  }

  return {
    get: <S extends z.ZodType>(url: string, schema: S, config?: AxiosRequestConfig) => request({ ...config, method: 'GET', url }, schema),
    post: <S extends z.ZodType>(url: string, body: unknown, schema: S, config?: AxiosRequestConfig) => request({ ...config, method: 'POST', url, data: body }, schema),
    describe: (method, url) => describe({ method, url }),
  }

  function backoff(attempt: number): number {
    const cap = retry.baseDelayMs * 2 ** attempt
    return Math.round(cap / 2 + random() * (cap / 2))
  }
}

/** Reads a Retry-After header (seconds or an HTTP date, measured from `now`) in milliseconds. */
export function retryAfterMs(response: AxiosResponse, now: Date): number | undefined {
  const header = response.headers['retry-after']
  if (header === undefined) return undefined
  const seconds = Number(header)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000)
  const date = Date.parse(String(header))
  return Number.isFinite(date) ? Math.max(0, date - now.getTime()) : undefined
}
