import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'

/** One request the receiver got, and how it answered. */
export interface ReceivedRequest {
  path: string
  headers: IncomingHttpHeaders
  /** The raw body, as signed. */
  body: string
  status: number
  /** When it arrived, in ms on the monotonic clock (`performance.now()`): for gaps between requests. */
  receivedAtMs: number
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:<port><path>`. */
  url(path: string): string
  /** Every request, in order, with the status it was answered. */
  requests: ReceivedRequest[]
  /** The bodies answered 2xx on `path`, parsed. */
  accepted(path: string): unknown[]
  /**
   * Answers the next `count` requests on `path` with `status`, `body` (Slack's error strings:
   * `channel_is_archived`) and `headers` (`Retry-After`).
   */
  failNext(path: string, count: number, status: number, body?: string, headers?: Record<string, string>): void
  /** Answers the next `count` requests on `path` 200 with its headers at once and its body only after `afterMs`: a slow receiver. */
  /** Answers 200 after `afterMs`; with `statusFirst`, its status and headers at once and only the body late. */
  answerLate(path: string, count: number, afterMs: number, options?: { statusFirst?: boolean }): void
  close(): Promise<void>
}

interface Fault {
  path: string
  count: number
  status: number
  body: string
  headers: Record<string, string>
  afterMs?: number
  statusFirst?: boolean
}

/**
 * A real HTTP server on loopback that acts as a Slack incoming webhook (answers 200 `ok`, as Slack
 * does) and as a webhook endpoint, on whatever paths a test gives its channels.
 */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = []
  const faults: Fault[] = []
  const timers = new Set<NodeJS.Timeout>()
  const server: Server = createServer((req, res) => {
    const receivedAtMs = performance.now()
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const path = req.url ?? '/'
      const fault = faults.find((f) => f.count > 0 && f.path === path)
      if (fault) fault.count--
      const status = fault?.status ?? 200
      requests.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status, receivedAtMs })
      res.writeHead(status, { 'Content-Type': 'text/plain', ...fault?.headers })
      const body = fault?.body ?? 'ok'
      if (fault?.afterMs === undefined) {
        res.end(body)
        return
      }
      if (fault.statusFirst) res.flushHeaders()
      const timer = setTimeout(() => {
        timers.delete(timer)
        res.end(body)
      }, fault.afterMs)
      timers.add(timer)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    requests,
    accepted: (path) => requests.filter((r) => r.path === path && r.status < 300).map((r) => JSON.parse(r.body) as unknown),
    failNext(path, count, status, body = '', headers = {}) {
      faults.push({ path, count, status, body, headers })
    },
    answerLate(path, count, afterMs, options = {}) {
      faults.push({ path, count, status: 200, body: 'ok', headers: {}, afterMs, statusFirst: options.statusFirst })
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer)
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
