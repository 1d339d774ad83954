import type { AxiosInstance, AxiosResponse } from 'axios'
import { AxiosError } from 'axios'
import { register as globalRegistry, Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { boardChangeAllowed } from '../../cli/queue-board.ts'
import { loadConfig as load } from '../../core/config.ts'
import { createTelemetry } from '../../core/telemetry.ts'
import { graphDialect } from '../../ingest/graph-api.ts'
import { createApiCaller } from '../../ingest/http.ts'

/** A fake HTTP client answering from a script. */
function scripted(answers: Array<Partial<AxiosResponse> | Error>): AxiosInstance {
  return {
    defaults: {},
    async request() {
      const next = answers.shift()
      if (!next) throw new Error('no more answers')
      if (next instanceof Error) throw next
      return { status: 200, headers: {}, data: {}, ...next } as AxiosResponse
    },
  } as unknown as AxiosInstance
}

const NOW = new Date('2027-03-01T00:05:00+07:00')
const graphError = (code: number, status = 400): Partial<AxiosResponse> => ({ status, data: { error: { message: `(#${code}) test`, type: 'OAuthException', code } } })

async function outcomesOf(answers: Array<Partial<AxiosResponse> | Error>, schema: z.ZodType = z.any()) {
  const seen: string[] = []
  const api = createApiCaller({
    http: scripted(answers),
    dialect: graphDialect,
    now: () => NOW,
    retry: { maxRetries: 3, baseDelayMs: 1, maxInlineWaitMs: 30_000 },
    sleep: async () => {},
    observer: { request: (network, outcome, seconds) => void seen.push(`${network}:${outcome}:${seconds >= 0}`) },
  })
  await api.get('/x', schema).catch(() => undefined)
  return seen
}

describe('the API caller counts every request by how it ended', () => {
  it('ok, a 5xx retried, no answer, an answer of the wrong shape', async () => {
    const timeout = new AxiosError('timeout', 'ECONNABORTED')
    expect(await outcomesOf([{ status: 502, data: 'bad gateway' }, timeout, { data: { wrong: true } }, { data: { id: '1' } }], z.object({ id: z.string() }))).toEqual([
      'facebook:error:true',
      'facebook:no_answer:true',
      'facebook:invalid_answer:true',
      'facebook:ok:true',
    ])
  })

  it('a throttle, then a refused token, which ends the call', async () => {
    expect(await outcomesOf([{ ...graphError(4), headers: { 'retry-after': '1' } }, graphError(190, 401)])).toEqual(['facebook:throttled:true', 'facebook:token_refused:true'])
  })

  it('a permanent error, not retried', async () => {
    expect(await outcomesOf([graphError(100)])).toEqual(['facebook:permanent_error:true'])
  })
})

describe('the registry', () => {
  it("is the one passed in: two processes' worth in one test do not clash, and the global default registry stays empty", async () => {
    const a = createTelemetry(new Registry())
    const b = createTelemetry(new Registry())
    a.api.request('x', 'ok', 0.2)
    a.api.request('x', 'ok', 0.3)
    b.api.request('x', 'throttled', 0.1)
    const text = await a.registry.metrics()
    expect(text).toContain('social_kpi_api_requests_total{network="x",outcome="ok"} 2')
    expect(text).not.toContain('outcome="throttled"')
    expect(await b.registry.metrics()).toContain('social_kpi_api_requests_total{network="x",outcome="throttled"} 1')
    expect(await globalRegistry.metrics()).not.toContain('social_kpi_')
  })

  it('reads queue depth and writer backlog when scraped; a queue that does not answer is left out, not fatal', async () => {
    const errors: unknown[] = []
    const telemetry = createTelemetry(new Registry(), { onScrapeError: (err) => void errors.push(err) })
    let waiting = 3
    telemetry.watchQueues([
      { name: 'collect', getJobCounts: async () => ({ waiting, active: 1 }) },
      { name: 'notify', getJobCounts: () => Promise.reject(new Error('Connection is closed.')) },
    ])
    telemetry.watchWriters(() => [{ table: 'observations', rows: 42 }])
    const first = await telemetry.registry.metrics()
    expect(first).toContain('social_kpi_queue_jobs{queue="collect",state="waiting"} 3')
    expect(first).toContain('social_kpi_queue_jobs{queue="collect",state="failed"} 0')
    expect(first).not.toContain('queue="notify"')
    expect(first).toContain('social_kpi_writer_pending_rows{table="observations"} 42')
    expect(errors).toHaveLength(1)
    waiting = 0
    expect(await telemetry.registry.metrics()).toContain('social_kpi_queue_jobs{queue="collect",state="waiting"} 0')
  })

  it('keeps channel labels to short names', async () => {
    const telemetry = createTelemetry(new Registry())
    telemetry.notification('sent', 'team-slack')
    telemetry.notification('refused', 'https://hooks.slack.com/services/T000/B000/secret')
    const text = await telemetry.registry.metrics()
    expect(text).toContain('social_kpi_notifications_total{channel="team-slack",outcome="sent"} 1')
    expect(text).toContain('social_kpi_notifications_total{channel="other",outcome="refused"} 1')
    expect(text).not.toContain('hooks.slack.com')
  })
})

describe('the ops listener settings', () => {
  // A queue prefix given: loadConfig then leaves DATA_DIR alone (no I/O in the unit tier).
  const loadConfig = (env: Record<string, string>) => load({ QUEUE_PREFIX: 'unit', ...env })
  it('are off by default, on loopback when only a port is given', () => {
    expect(loadConfig({}).METRICS_PORT).toBeUndefined()
    expect(loadConfig({ METRICS_PORT: '9465' })).toMatchObject({ METRICS_PORT: 9465, METRICS_HOST: '127.0.0.1' })
    expect(loadConfig({ METRICS_PORT: '', METRICS_HOST: '' })).toMatchObject({ METRICS_PORT: undefined, METRICS_HOST: '127.0.0.1' })
  })

  it('refuse a port that is no port, an address with a scheme, and a short token, naming the variable', () => {
    expect(() => loadConfig({ METRICS_PORT: 'nine' })).toThrow(/METRICS_PORT/)
    expect(() => loadConfig({ METRICS_PORT: '70000' })).toThrow(/METRICS_PORT/)
    expect(() => loadConfig({ METRICS_HOST: 'http://0.0.0.0' })).toThrow(/METRICS_HOST: must be an address/)
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN: must be at least 16 characters/)
  })

  it('the token counts as a secret for the scrubber', () => {
    expect(loadConfig({ METRICS_TOKEN: 'a-long-metrics-token-value' }).secretValues([])).toContain('a-long-metrics-token-value')
  })
})

describe('the queue board offers retry and promote, nothing else that changes', () => {
  it.each([
    ['PUT', '/api/queues/collect/retry/failed', true],
    ['PUT', '/api/queues/notify/retry/completed', true],
    ['PUT', '/api/queues/notify/collect-facebook-x-20270228T170500Z/retry', true],
    ['PUT', '/api/queues/collect/promote', true],
    ['PUT', '/api/queues/collect/some-job/promote?x=1', true],
    ['PUT', '/api/queues/evaluate/concurrency', false],
    ['PUT', '/api/queues/collect/obliterate', false],
    ['PUT', '/api/queues/collect/empty', false],
    ['PUT', '/api/queues/collect/pause', false],
    ['PUT', '/api/queues/pause', false],
    ['PUT', '/api/queues/collect/clean/completed', false],
    ['POST', '/api/queues/notify/add', false],
    ['PATCH', '/api/queues/notify/some-job/update-data', false],
    ['PUT', '/api/queues/collect/rate-limit', false],
    ['PUT', '/api/queues/collect/retry/../../evaluate/concurrency', false],
    // Routed by Bull Board to its queue-wide clean and retry routes, not to a job's.
    ['PUT', '/api/queues/collect/clean/retry', false],
    ['PUT', '/api/queues/collect/clean/promote', false],
    ['PUT', '/api/queues/collect/retry/retry', false],
  ])('%s %s: %s', (method, path, allowed) => {
    expect(boardChangeAllowed(method, path)).toBe(allowed)
  })
})
