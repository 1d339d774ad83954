/**
 * A local, deterministic stand-in for the social networks' APIs and their authorization servers,
 * for tests and the demo. Each network is one simulator module in the registry
 * (simulator/networks.ts), served under the paths its environment names. It listens on
 * 127.0.0.1 only and uses nothing but node:http.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createNetworks } from './networks.ts'
import type { FaultPage, InjectedError, SimRequest, SimResponse, SimulatedNetwork } from './network.ts'
import { createOAuth, type OAuthHooks, type OAuthNetwork } from './oauth.ts'
import { opaqueId } from './random.ts'
import { utcMidnight } from './time.ts'

export { DEMO_PAGES } from './scenario.ts'
export { DEMO_INSTAGRAM_ACCOUNTS } from './graph-instagram.ts'
export { DEMO_AD_ACCOUNTS } from './graph-ads.ts'
export { DEMO_X_USERS } from './x-scenario.ts'
export { DEMO_LINKEDIN_ORGANIZATIONS } from './linkedin-scenario.ts'
export { DEMO_CHANNELS } from './youtube-scenario.ts'
export { DEMO_PROPERTIES } from './ga4-scenario.ts'
export { TIKTOK_DEMO_ACCOUNTS } from './tiktok-scenario.ts'
export type { OAuthHooks, OAuthNetwork, OAuthStats } from './oauth.ts'
export { simulatorEnvironment } from './networks.ts'

export interface SimulatorOptions {
  /** Default 0: a free port chosen by the system. The host is always 127.0.0.1. */
  port?: number
  /** Default 42. */
  seed?: number
  /** The simulator's clock: the one the caller's collectors use. The world is anchored to its UTC day at start. */
  now: () => Date
  /** Per-token call budget in a sliding hour; default 4800. */
  callsPerHour?: number
}

/** An injected failure, for tests, answered in the format of the network that owns the path. */
export interface SimulatedFault {
  /** Matched against the URL pathname (e.g. /\/insights$/); absent = any. */
  path?: RegExp
  /** How many matching requests fail; then the fault is used up. */
  times: number
  /** HTTP status, default 400. */
  status?: number
  /** An error in the network's own error body (Graph: fbtrace_id is added, type defaults to OAuthException). */
  error?: InjectedError
  /** A raw body instead of an error (e.g. an HTML 502 page), sent as text/html unless headers say otherwise. */
  body?: string
  /** e.g. { 'Retry-After': '1' } or an X-Business-Use-Case-Usage with estimated_time_to_regain_access. */
  headers?: Record<string, string>
  /**
   * Answers this many milliseconds late (an API slower than the caller's timeout). Alone, without
   * status, error or body, the usual answer comes late; with them, the injected failure does.
   */
  delayMs?: number
  /**
   * A list that never ends, on the cursor-paged lists (Graph edges such as Facebook posts, Instagram
   * media and ads insights; X timelines; TikTok video lists; YouTube playlist items): the first
   * matching request gets its usual page with a next-page cursor added, every later one an empty
   * page with a next cursor: a new one each time (`endless`), or the same one again (`repeated`).
   * Each request counts against `times`: give more than the walk's cap. Other answers pass as they are.
   */
  paging?: 'endless' | 'repeated'
  /**
   * A 200 answer of this many bytes instead of the usual one: a JSON document padded to that size
   * (an empty `data` list and a long string), streamed in chunks, so the simulator never holds it.
   */
  hugeBodyBytes?: number
}

export interface RunningSimulator {
  /** e.g. http://127.0.0.1:43123 (collectors append /v25.0/...). */
  url: string
  injectFault(fault: SimulatedFault): void
  /** Removes every injected fault, used up or not (e.g. an endless list's remaining pages). */
  clearFaults(): void
  /** The requests received (the latest 10,000), tokens included: a test-only object, never to be logged. */
  requests(): Array<{ method: string; path: string; query: Record<string, string>; token: string | undefined }>
  /** The simulated authorization servers' test hooks (simulator/oauth.ts). */
  oauth: OAuthHooks
  close(): Promise<void>
}

interface LoggedRequest {
  method: string
  path: string
  query: Record<string, string>
  token: string | undefined
}

/** The request log keeps the most recent requests only, so a long demo run stays small. */
const MAX_LOGGED_REQUESTS = 10_000

/** What a fault without `error` or `body` answers: Graph's generic failure. */
const UNKNOWN_ERROR = { message: 'An unknown error has occurred.', type: 'OAuthException', code: 1 }
/** What an unexpected simulator failure answers: Graph's transient service error. */
const SERVICE_ERROR = { message: 'An unexpected error has occurred. Please retry your request later.', type: 'OAuthException', code: 2 }

export async function startSimulator(options: SimulatorOptions): Promise<RunningSimulator> {
  const seed = options.seed ?? 42
  const now = options.now
  const callsPerHour = options.callsPerHour ?? 4800
  if (!Number.isFinite(seed)) throw new TypeError('seed must be a finite number')
  if (!Number.isInteger(callsPerHour) || callsPerHour < 1) throw new TypeError('callsPerHour must be a positive integer')

  const oauth = createOAuth({ seed, now })
  const networks: SimulatedNetwork[] = [...createNetworks({ seed, today: utcMidnight(now().getTime()), callsPerHour }, { debugToken: oauth.debugToken }), ...oauth.networks].sort(
    (a, b) => b.prefix.length - a.prefix.length,
  )
  /** Injected faults; a paging fault keeps its first answer (`first`) and how many pages it has served. */
  const faults: Array<{ fault: SimulatedFault; remaining: number; served: number; first?: SimResponse; anchorMs?: number }> = []
  const log: LoggedRequest[] = []
  const sameRequestCount = new Map<string, number>()
  let countsAt = Number.NaN
  let baseUrl = ''

  function networkFor(pathname: string): SimulatedNetwork | undefined {
    return networks.find((n) => pathname.startsWith(n.prefix))
  }

  function takeFault(pathname: string): (typeof faults)[number] | undefined {
    const entry = faults.find((f) => f.remaining > 0 && (!f.fault.path || f.fault.path.test(pathname)))
    if (!entry) return undefined
    entry.remaining--
    return entry
  }

  /** A paging fault's answer: the first request's usual page, then empty ones, each with a next cursor. */
  function pagedFault(entry: (typeof faults)[number], network: SimulatedNetwork, request: SimRequest): SimResponse {
    if (!entry.first) {
      // The first page is the list's own; later requests carry our cursors, which the network could not read.
      entry.first = network.handle(request)
      entry.anchorMs = request.now.getTime()
    }
    entry.served++
    const page: FaultPage = { step: entry.fault.paging === 'endless' ? entry.served : 1, anchorMs: entry.anchorMs!, keepItems: entry.served === 1 }
    let body: unknown
    try {
      body = JSON.parse(entry.first.body)
    } catch {
      return entry.first
    }
    if (entry.first.status !== 200 || !body || typeof body !== 'object' || !network.continueList?.(body as Record<string, unknown>, request, page)) return entry.first
    return { ...entry.first, body: JSON.stringify(body) }
  }

  function answer(req: IncomingMessage, body: string): SimResponse & { delayMs?: number; hugeBodyBytes?: number } {
    const method = req.method ?? 'GET'
    const url = new URL(req.url ?? '/', baseUrl)
    const at = now()
    // fbtrace_id: random-looking, but the same for the same request at the same instant.
    if (at.getTime() !== countsAt) {
      sameRequestCount.clear()
      countsAt = at.getTime()
    }
    const key = `${at.getTime()} ${method} ${req.url}`
    const occurrence = (sameRequestCount.get(key) ?? 0) + 1
    sameRequestCount.set(key, occurrence)
    const request: SimRequest = {
      method,
      pathname: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      baseUrl,
      now: at,
      traceId: opaqueId(23, seed, 'trace', key, occurrence),
      body,
    }
    const network = networkFor(url.pathname)
    const token = network?.tokenOf(request)
    log.push({ method, path: url.pathname, query: Object.fromEntries(url.searchParams), token })
    if (log.length > MAX_LOGGED_REQUESTS) log.splice(0, log.length - MAX_LOGGED_REQUESTS)
    if (!network) return { status: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: 'Not Found' }

    const entry = takeFault(url.pathname)
    const fault = entry?.fault
    const late = <R extends SimResponse>(response: R): R & { delayMs?: number } => (fault?.delayMs ? { ...response, delayMs: fault.delayMs } : response)
    if (fault?.paging) return late(pagedFault(entry!, network, request))
    if (fault?.hugeBodyBytes !== undefined) return late({ status: 200, headers: { 'Content-Type': 'application/json; charset=UTF-8', ...fault.headers }, body: '', hugeBodyBytes: fault.hugeBodyBytes })
    if (fault && (fault.delayMs === undefined || fault.status !== undefined || fault.error !== undefined || fault.body !== undefined)) {
      const raw = fault.body !== undefined
      const body = raw ? fault.body! : network.errorBody(fault.error ?? UNKNOWN_ERROR, request.traceId)
      const headers: Record<string, string> = { ...fault.headers }
      if (!Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) {
        headers['Content-Type'] = raw ? 'text/html; charset=utf-8' : 'application/json; charset=UTF-8'
      }
      return late({ status: fault.status ?? 400, headers, body })
    }
    // An access token the simulator issued that has expired or been revoked reaches the API as
    // one of its own `expired…`/`revoked…`/`invalid…` test tokens, refused in the API's words.
    const refusal = token === undefined ? undefined : oauth.refusal(token, at.getTime())
    try {
      return late(network.handle(refusal ? withToken(request, token!, `${refusal}-${token}`) : request))
    } catch {
      return late({ status: 500, headers: { 'Content-Type': 'application/json; charset=UTF-8' }, body: network.errorBody(SERVICE_ERROR, request.traceId) })
    }
  }

  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    // Bodies matter for POST APIs (GA4 runReport); read the whole body before answering.
    let body = ''
    req.setEncoding('utf8')
    for await (const chunk of req) body += chunk
    let response: SimResponse & { delayMs?: number; hugeBodyBytes?: number }
    try {
      response = answer(req, body)
    } catch {
      // Only a request line Node accepted but URL cannot parse gets here.
      response = { status: 400, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: 'Bad Request' }
    }
    // A slow answer: the timer does not keep the process alive, and a caller that gave up is not answered.
    if (response.delayMs) await new Promise((resolve) => setTimeout(resolve, response.delayMs).unref())
    if (res.destroyed) return
    res.writeHead(response.status, response.headers)
    if (response.hugeBodyBytes !== undefined) return streamHugeBody(res, response.hugeBodyBytes)
    res.end(response.body)
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  let closing: Promise<void> | undefined
  return {
    url: baseUrl,
    injectFault(fault) {
      if (!Number.isInteger(fault.times) || fault.times < 1) throw new TypeError('fault.times must be a positive integer')
      if (fault.delayMs !== undefined && !(Number.isFinite(fault.delayMs) && fault.delayMs >= 0)) throw new TypeError('fault.delayMs must be a duration in milliseconds')
      if (fault.paging !== undefined && fault.paging !== 'endless' && fault.paging !== 'repeated') throw new TypeError('fault.paging must be endless or repeated')
      if (fault.hugeBodyBytes !== undefined && !(Number.isInteger(fault.hugeBodyBytes) && fault.hugeBodyBytes >= HUGE_BODY_FRAME.length)) {
        throw new TypeError(`fault.hugeBodyBytes must be a whole number of bytes, at least ${HUGE_BODY_FRAME.length}`)
      }
      faults.push({ fault, remaining: fault.times, served: 0 })
    },
    clearFaults() {
      faults.length = 0
    },
    requests: () => log.map((entry) => ({ ...entry, query: { ...entry.query } })),
    oauth: oauth.hooks,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()))
        server.closeAllConnections()
      })
      return closing
    },
  }
}

/** OAuth apps the standalone simulator (`social-kpi simulator`) registers, for trying `social-kpi connect`. */
export const SIMULATOR_OAUTH_APPS: ReadonlyArray<{ network: OAuthNetwork; clientId: string; clientSecret: string }> = [
  { network: 'youtube', clientId: 'demo-google-client', clientSecret: 'demo-google-secret' },
  { network: 'x', clientId: 'demo-x-client', clientSecret: 'demo-x-secret' },
  { network: 'tiktok', clientId: 'demo-tiktok-client', clientSecret: 'demo-tiktok-secret' },
  { network: 'linkedin', clientId: 'demo-linkedin-client', clientSecret: 'demo-linkedin-secret' },
]

const HUGE_BODY_START = '{"data":[],"padding":"'
const HUGE_BODY_END = '"}'
const HUGE_BODY_FRAME = HUGE_BODY_START + HUGE_BODY_END
const HUGE_BODY_CHUNK = Buffer.alloc(64 * 1024, 'x')

/**
 * Writes a JSON document of exactly `bytes` bytes in 64 KiB chunks, as fast as the client reads,
 * without a Content-Length (a body whose end the client cannot know); stops when it hangs up.
 */
function streamHugeBody(res: ServerResponse, bytes: number): void {
  let left = bytes - HUGE_BODY_FRAME.length
  const write = () => {
    while (left > 0 && !res.destroyed) {
      const chunk = left >= HUGE_BODY_CHUNK.length ? HUGE_BODY_CHUNK : HUGE_BODY_CHUNK.subarray(0, left)
      left -= chunk.length
      if (!res.write(chunk)) return void res.once('drain', write)
    }
    if (!res.destroyed) res.end(HUGE_BODY_END)
  }
  res.write(HUGE_BODY_START)
  write()
}

/** The request with `from` replaced by `to` wherever it carries the token (headers, query). */
function withToken(request: SimRequest, from: string, to: string): SimRequest {
  const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, typeof value === 'string' ? value.replace(from, to) : value]))
  const query = new URLSearchParams([...request.query].map(([name, value]): [string, string] => [name, value === from ? to : value]))
  return { ...request, headers, query }
}
