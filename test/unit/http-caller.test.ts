import type { AxiosInstance, AxiosResponse } from 'axios'
import { AxiosError } from 'axios'
import { describe, expect, it } from 'vitest'
import { ApiError, RateLimitError, TokenError } from '../../core/errors.ts'
import { graphDialect, graphUsage } from '../../ingest/graph-api.ts'
import { createApiCaller } from '../../ingest/http.ts'

/** A fake HTTP client answering from a script, recording every call. */
function scripted(answers: Array<Partial<AxiosResponse> | Error>) {
  const calls: string[] = []
  const http = {
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

/** The caller's clock: it stands still, so every wait below is exact. */
const NOW = new Date('2026-12-31T16:59:30Z')

function caller(answers: Array<Partial<AxiosResponse> | Error>) {
  const { http, calls } = scripted(answers)
  const slept: number[] = []
  const api = createApiCaller({ http, dialect: graphDialect, now: () => NOW, retry: { maxRetries: 3, baseDelayMs: 100, maxInlineWaitMs: 30_000 }, sleep: async (ms) => void slept.push(ms), random: () => 0.5 })
  return { api, calls, slept }
}

describe('API caller with the Graph dialect', () => {
  it('retries throttle codes 4, 17, 32, 613 and 80001, waiting as the usage header says', async () => {
    for (const code of [4, 17, 32, 613, 80001]) {
      const regain = { 'x-business-use-case-usage': JSON.stringify({ '1': [{ type: 'pages', call_count: 100, total_cputime: 5, total_time: 5, estimated_time_to_regain_access: 0 }] }), 'retry-after': '2' }
      const { api, slept } = caller([{ ...graphError(code), headers: regain }, { data: { ok: code } }])
      expect(await api.get('/x')).toEqual({ ok: code })
      expect(slept).toEqual([2000])
    }
  })

  it('measures a Retry-After given as an HTTP date on its own clock', async () => {
    // 30 s before midnight in Jakarta on New Year's Eve; the server says: come back at midnight.
    const { api, slept } = caller([{ status: 429, headers: { 'retry-after': 'Thu, 31 Dec 2026 17:00:00 GMT' } }, { data: 'ok' }])
    expect(await api.get('/x')).toBe('ok')
    expect(slept).toEqual([30_000])
  })

  it('hands a long throttle to the queue instead of blocking the worker', async () => {
    const headers = { 'x-business-use-case-usage': JSON.stringify({ '1': [{ type: 'pages', call_count: 100, estimated_time_to_regain_access: 7 }] }) }
    const { api, calls } = caller([{ ...graphError(80001), headers }])
    const error = await api.get<any>('/x').catch((e: any) => e)
    expect(error).toBeInstanceOf(RateLimitError)
    expect(error.retryAfterMs).toBe(7 * 60_000)
    expect(calls).toHaveLength(1)
  })

  it('stops at once on an expired token (190/463) and on a missing permission', async () => {
    const expired = await caller([graphError(190, 463)]).api.get<any>('/x').catch((e: any) => e)
    expect(expired).toBeInstanceOf(TokenError)
    expect(expired.apiCode).toBe('190/463')
    const permission = await caller([graphError(200)]).api.get<any>('/x').catch((e: any) => e)
    expect(permission).toBeInstanceOf(TokenError)
  })

  it('backs off with jitter on transient failures, then gives up after the bounded retries', async () => {
    const reset = new AxiosError('socket hang up', 'ECONNRESET')
    const { api, slept, calls } = caller([reset, graphError(2, undefined, 500), { status: 502, data: '<html>bad gateway</html>' }, reset])
    const error = await api.get<any>('/x').catch((e: any) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error.retryable).toBe(true)
    expect(calls).toHaveLength(4)
    expect(slept).toEqual([75, 150, 300, 600])
  })

  it('does not retry a permanent error such as an invalid metric', async () => {
    const { api, calls } = caller([graphError(100)])
    const error = await api.get<any>('/x').catch((e: any) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error.retryable).toBe(false)
    expect(calls).toHaveLength(1)
  })

  it('pauses the next call when usage headers pass 95 %', async () => {
    const busy = { 'x-app-usage': JSON.stringify({ call_count: 96, total_time: 10, total_cputime: 10 }) }
    const { api, slept } = caller([{ data: 1, headers: busy }, { data: 2 }])
    expect(await api.get('/a')).toBe(1)
    const error = await api.get<any>('/b').catch((e: any) => e)
    expect(error).toBeInstanceOf(RateLimitError)
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
