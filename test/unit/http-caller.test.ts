import type { AxiosInstance, AxiosResponse } from 'axios'
import { AxiosError } from 'axios'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { DEFAULT_HTTP_MAX_ANSWER_BYTES, loadConfig } from '../../core/config.ts'
import { ApiAnswerTooLargeError, ApiError, ApiRateLimitError, TokenError } from '../../core/errors.ts'
import { graphDialect, graphUsage } from '../../ingest/graph-api.ts'
import { googleDialect } from '../../ingest/google-api.ts'
import { createApiCaller, createHttp, type ApiDialect } from '../../ingest/http.ts'
import { displayDialect } from '../../ingest/tiktok-api.ts'

/** A fake HTTP client answering from a script, recording every call. */
function scripted(answers: Array<Partial<AxiosResponse> | Error>, baseURL?: string) {
  const calls: string[] = []
  const http = {
    defaults: { baseURL },
    async request({ url }: { url: string }) {
      calls.push(url)
      const next = answers.shift()
      if (!next) throw new Error('no more answers')
      if (next instanceof Error) throw next
      return { status: 200, headers: {}, data: {}, ...next } as AxiosResponse
    },
  } as unknown as AxiosInstance
  return { http, calls }
}

const graphError = (code: number, subcode?: number, status = 400): Partial<AxiosResponse> => ({
  status,
  data: { error: { message: `(#${code}) test`, type: 'OAuthException', code, error_subcode: subcode, fbtrace_id: 'abc' } },
})

/** For calls whose answer's shape is not the point of the test. */
const anyBody = z.any()

/** The caller's clock: it stands still, so every wait below is exact. */
const NOW = new Date('2026-12-31T16:59:30Z')

function caller(answers: Array<Partial<AxiosResponse> | Error>) {
  const { http, calls } = scripted(answers)
  const slept: number[] = []
  const api = createApiCaller({
    http,
    dialect: graphDialect,
    now: () => NOW,
    retry: { maxRetries: 3, baseDelayMs: 100, maxInlineWaitMs: 30_000 },
    sleep: async (ms) => void slept.push(ms),
    random: () => 0.5,
  })
  return { api, calls, slept }
}

describe('API caller with the Graph dialect', () => {
  it('retries throttle codes 4, 17, 32, 613 and 80001, waiting as the usage header says', async () => {
    for (const code of [4, 17, 32, 613, 80001]) {
      const regain = {
        'x-business-use-case-usage': JSON.stringify({ '1': [{ type: 'pages', call_count: 100, total_cputime: 5, total_time: 5, estimated_time_to_regain_access: 0 }] }),
        'retry-after': '2',
      }
      const { api, slept } = caller([{ ...graphError(code), headers: regain }, { data: { ok: code } }])
      expect(await api.get('/x', anyBody)).toEqual({ ok: code })
      expect(slept).toEqual([2000])
    }
  })

  it('measures a Retry-After given as an HTTP date on its own clock', async () => {
    // 30 s before midnight in Jakarta on New Year's Eve; the server says: come back at midnight.
    const { api, slept } = caller([{ status: 429, headers: { 'retry-after': 'Thu, 31 Dec 2026 17:00:00 GMT' } }, { data: { ok: true } }])
    expect(await api.get('/x', anyBody)).toEqual({ ok: true })
    expect(slept).toEqual([30_000])
  })

  it('hands a long throttle to the queue instead of blocking the worker', async () => {
    const headers = { 'x-business-use-case-usage': JSON.stringify({ '1': [{ type: 'pages', call_count: 100, estimated_time_to_regain_access: 7 }] }) }
    const { api, calls } = caller([{ ...graphError(80001), headers }])
    const error = await api.get('/x', anyBody).catch((e: any) => e)
    expect(error).toBeInstanceOf(ApiRateLimitError)
    expect(error.retryAfterMs).toBe(7 * 60_000)
    expect(calls).toHaveLength(1)
  })

  it('stops at once on an expired token (190/463) and on a missing permission', async () => {
    const expired = await caller([graphError(190, 463)])
      .api.get('/x', anyBody)
      .catch((e: any) => e)
    expect(expired).toBeInstanceOf(TokenError)
    expect(expired.apiCode).toBe('190/463')
    const permission = await caller([graphError(200)])
      .api.get('/x', anyBody)
      .catch((e: any) => e)
    expect(permission).toBeInstanceOf(TokenError)
  })

  it('backs off with jitter on transient failures, then gives up after the bounded retries', async () => {
    const reset = new AxiosError('socket hang up', 'ECONNRESET')
    const { api, slept, calls } = caller([reset, graphError(2, undefined, 500), { status: 502, data: '<html>bad gateway</html>' }, reset])
    const error = await api.get('/x', anyBody).catch((e: any) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error.retryable).toBe(true)
    expect(calls).toHaveLength(4)
    expect(slept).toEqual([75, 150, 300, 600])
  })

  it('names the call that failed: a timeout says how long it waited, a 5xx which endpoint answered it', async () => {
    const timeout = new AxiosError('timeout of 1000ms exceeded', 'ECONNABORTED')
    const timedOut = scripted([timeout, timeout], 'https://graph.facebook.com/v25.0')
    timedOut.http.defaults.timeout = 1_000
    const slow = createApiCaller({ http: timedOut.http, dialect: graphDialect, now: () => NOW, retry: { maxRetries: 1, baseDelayMs: 1, maxInlineWaitMs: 30_000 }, sleep: async () => {} })
    expect((await slow.get('/1234/posts', anyBody).catch((e: Error) => e)).message).toBe('facebook GET /v25.0/1234/posts: no answer within 1000 ms (HTTP_TIMEOUT_MS) (gave up after 2 attempts)')
    const bad = { status: 502, headers: { 'content-type': 'text/html' }, data: '<html>bad gateway</html>' }
    const gateway = scripted([bad, bad], 'https://graph.facebook.com/v25.0')
    const down = createApiCaller({ http: gateway.http, dialect: graphDialect, now: () => NOW, retry: { maxRetries: 1, baseDelayMs: 1, maxInlineWaitMs: 30_000 }, sleep: async () => {} })
    expect((await down.get('/1234/posts', anyBody).catch((e: Error) => e)).message).toBe('facebook GET /v25.0/1234/posts: Graph API answered HTTP 502 (gave up after 2 attempts)')
  })

  it('does not retry a permanent error such as an invalid metric', async () => {
    const { api, calls } = caller([graphError(100)])
    const error = await api.get('/x', anyBody).catch((e: any) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error.retryable).toBe(false)
    expect(calls).toHaveLength(1)
  })

  it('pauses the next call when usage headers pass 95 %', async () => {
    const busy = { 'x-app-usage': JSON.stringify({ call_count: 96, total_time: 10, total_cputime: 10 }) }
    const { api, slept } = caller([{ data: 1, headers: busy }, { data: 2 }])
    expect(await api.get('/a', anyBody)).toBe(1)
    const error = await api.get('/b', anyBody).catch((e: any) => e)
    expect(error).toBeInstanceOf(ApiRateLimitError)
    expect(slept).toEqual([])
  })

  it('reads all three usage headers', () => {
    const usage = graphUsage({
      'x-app-usage': '{"call_count":28,"total_time":25,"total_cputime":25}',
      'x-ad-account-usage': '{"acc_id_util_pct":9.67,"reset_time_duration":100}',
      'x-business-use-case-usage': '{"123":[{"type":"pages","call_count":97,"total_cputime":23,"total_time":23,"estimated_time_to_regain_access":2}]}',
    })
    expect(usage).toEqual({ maxPercent: 97, regainAccessMs: 120_000 })
  })
})

describe('API caller: a 200 that is not the documented shape', () => {
  const youtube = googleDialect({ network: 'youtube', api: 'YouTube Data API', dailyQuotaWaitMs: () => 3_600_000 })
  const channels = z.object({ kind: z.literal('youtube#channelListResponse'), items: z.array(z.object({ id: z.string() })).optional() })
  const videos = z.object({ items: z.array(z.object({ id: z.string(), statistics: z.object({ viewCount: z.string().optional() }).optional() })) })
  const html: Partial<AxiosResponse> = { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, data: '<html><body>Sign in to the Wi-Fi</body></html>' }
  const truncated: Partial<AxiosResponse> = { status: 200, headers: { 'content-type': 'application/json; charset=UTF-8' }, data: '{"kind":"youtube#channelListResponse","items":[{"id":"UCkopi' }

  function on(dialect: ApiDialect, baseURL: string, answers: Array<Partial<AxiosResponse> | Error>) {
    const { http, calls } = scripted(answers, baseURL)
    const slept: number[] = []
    const api = createApiCaller({ http, dialect, now: () => NOW, retry: { maxRetries: 2, baseDelayMs: 100, maxInlineWaitMs: 30_000 }, sleep: async (ms) => void slept.push(ms), random: () => 0.5 })
    return { api, calls, slept }
  }
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => expect.unreachable('the call should fail'),
      (error: unknown) => error as ApiError,
    )

  it('an HTML page is a transient failure naming the network and endpoint, retried within bounds', async () => {
    const { api, calls, slept } = on(youtube, 'https://www.googleapis.com/youtube/v3', [html, html, html])
    const error = await failure(api.get('/channels', channels, { params: { id: 'UCkopi' } }))
    expect(error).toBeInstanceOf(ApiError)
    expect(error.message).toBe('youtube GET /youtube/v3/channels: the response is not JSON (text/html) (gave up after 3 attempts)')
    expect(error.code).toBe('API_RESPONSE_INVALID')
    expect(error.retryable).toBe(true)
    expect(calls).toHaveLength(3)
    expect(slept).toEqual([75, 150, 300])
  })

  it('truncated JSON says so, and is not taken for an unknown channel', async () => {
    const { api } = on(youtube, 'https://www.googleapis.com/youtube/v3', [truncated, truncated, truncated])
    const error = await failure(api.get('/channels', channels))
    expect(error.message).toMatch(/^youtube GET \/youtube\/v3\/channels: the response is not valid JSON \(\d+ bytes of application\/json, cut short or malformed\)/)
    expect(error.apiCode).toBeUndefined()
  })

  it('JSON without the documented fields names what is missing or wrong, in plain words', async () => {
    const lacks = await failure(on(youtube, 'https://www.googleapis.com/youtube/v3', [{ data: {} }, { data: {} }, { data: {} }]).api.get('/videos', videos))
    expect(lacks.message).toBe('youtube GET /youtube/v3/videos: the response lacks "items" (gave up after 3 attempts)')
    const wrong = { data: { items: [{ id: 7, statistics: { viewCount: 12 } }] } }
    const typed = await failure(on(youtube, 'https://www.googleapis.com/youtube/v3', [wrong, wrong, wrong]).api.get('/videos', videos))
    expect(typed.message).toBe(
      'youtube GET /youtube/v3/videos: "items[0].id" in the response is a number, not text; "items[0].statistics.viewCount" in the response is a number, not text (gave up after 3 attempts)',
    )
    const kind = { data: { kind: 'youtube#videoListResponse' } }
    const other = await failure(on(youtube, 'https://www.googleapis.com/youtube/v3', [kind, kind, kind]).api.get('/channels', channels))
    expect(other.message).toContain(': "kind" in the response is not "youtube#channelListResponse"')
  })

  it('uses the answer once a retry brings the documented shape, and returns only the declared fields', async () => {
    const { api, calls } = on(youtube, 'https://www.googleapis.com/youtube/v3', [html, { data: { items: [{ id: 'v1', etag: 'x', statistics: { viewCount: '3' } }] } }])
    expect(await api.get('/videos', videos)).toEqual({ items: [{ id: 'v1', statistics: { viewCount: '3' } }] })
    expect(calls).toHaveLength(2)
  })

  it('judges a non-JSON 200 before the dialect looks for its envelope (TikTok)', async () => {
    const { api } = on(displayDialect, 'https://open.tiktokapis.com', [html, html, html])
    const error = await failure(api.get('/v2/user/info/', z.object({ data: z.object({}) }), { params: { fields: 'open_id' } }))
    expect(error.message).toBe('tiktok GET /v2/user/info/: the response is not JSON (text/html) (gave up after 3 attempts)')
  })

  it('leaves error statuses to the dialect: an HTML 502 is a server error, not a shape problem', async () => {
    const bad = { status: 502, headers: { 'content-type': 'text/html' }, data: '<html>bad gateway</html>' }
    const error = await failure(on(youtube, 'https://www.googleapis.com/youtube/v3', [bad, bad, bad]).api.get('/channels', channels))
    expect(error.message).toBe('youtube GET /youtube/v3/channels: YouTube Data API answered HTTP 502 (gave up after 3 attempts)')
    expect(error.code).toBe('API_REQUEST_FAILED')
  })
})

describe('API caller: an answer over HTTP_MAX_ANSWER_BYTES', () => {
  /** What axios throws when a body passes maxContentLength: ERR_BAD_RESPONSE, and no response. */
  const tooLarge = () => new AxiosError('maxContentLength size of 65536 exceeded', AxiosError.ERR_BAD_RESPONSE)
  /** What it throws when the server cuts a body short: the same code, with the response begun. */
  const cutShort = () => new AxiosError('stream has been aborted', AxiosError.ERR_BAD_RESPONSE, undefined, undefined, { status: 200, headers: {}, data: undefined } as AxiosResponse)

  it('fails at once with API_ANSWER_TOO_LARGE naming the network, the endpoint and the cap', async () => {
    const { http, calls } = scripted([tooLarge(), { data: {} }], 'https://graph.facebook.com/v25.0')
    http.defaults.maxContentLength = 65_536
    const api = createApiCaller({ http, dialect: graphDialect, now: () => NOW, retry: { maxRetries: 3, baseDelayMs: 1, maxInlineWaitMs: 30_000 }, sleep: async () => {} })
    const error = await api.get('/1234/posts', anyBody, { params: { access_token: 'secret-token', after: 'abc' } }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ApiAnswerTooLargeError)
    expect(error).toMatchObject({ code: 'API_ANSWER_TOO_LARGE', retryable: false })
    expect((error as Error).message).toBe('facebook GET /v25.0/1234/posts: the answer is larger than 65536 bytes (HTTP_MAX_ANSWER_BYTES); it was cut off unread')
    expect(calls).toHaveLength(1)
  })

  it('still retries a body the server cut short (the same axios code, but an answer had begun)', async () => {
    const { http, calls } = scripted([cutShort(), { data: { ok: true } }], 'https://graph.facebook.com/v25.0')
    const api = createApiCaller({ http, dialect: graphDialect, now: () => NOW, retry: { maxRetries: 3, baseDelayMs: 1, maxInlineWaitMs: 30_000 }, sleep: async () => {} })
    expect(await api.get('/1234/posts', anyBody)).toEqual({ ok: true })
    expect(calls).toHaveLength(2)
  })

  it('createHttp caps answers and request bodies, at HTTP_MAX_ANSWER_BYTES by default', () => {
    expect(createHttp({ baseURL: 'https://graph.facebook.com', timeoutMs: 1_000, maxAnswerBytes: 4_096 }).defaults).toMatchObject({ maxContentLength: 4_096, maxBodyLength: 4_096 })
    expect(createHttp({ baseURL: 'https://graph.facebook.com', timeoutMs: 1_000 }).defaults).toMatchObject({ maxContentLength: DEFAULT_HTTP_MAX_ANSWER_BYTES })
    expect(loadConfig({ QUEUE_PREFIX: 'unit' }).HTTP_MAX_ANSWER_BYTES).toBe(DEFAULT_HTTP_MAX_ANSWER_BYTES)
  })
})
