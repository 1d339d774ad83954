import { timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { escapeHtml } from '../alerts/email.ts'
import { SocialKpiError } from '../core/errors.ts'

/** The path of the redirect URI registered with each network's app (docs/accounts.md). */
export const CALLBACK_PATH = '/callback'

/** The authorization response the browser brought back; `answer` writes the page the browser waits for. */
export interface ReceivedCallback {
  url: URL
  answer(outcome: { ok: boolean; message: string }): void
}

export interface LoopbackCallback {
  redirectUri: string
  /**
   * The first request that is the provider's redirect for `state`: a GET top-level navigation with
   * that state. Everything else is refused and the wait goes on; rejects after the timeout.
   */
  receive(state: string): Promise<ReceivedCallback>
  close(): void
}

/** What every answer carries: nothing cached, no referrer (the URL holds the code), nothing loaded. */
const HEADERS = {
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': "default-src 'none'",
}

/**
 * Why a request is not the provider's redirect, or undefined when it is. The redirect after
 * consent is a cross-site top-level navigation (RFC 8252 §7.3): a GET, `Sec-Fetch-Mode: navigate`
 * and `Sec-Fetch-Dest: document` when the browser sends Fetch Metadata, no `Origin` (browsers send
 * one on a GET only for CORS and script requests), and the pending `state` (RFC 6749 §10.12). A
 * page in another tab can make requests to this port, but not with that state.
 */
function refusal(request: IncomingMessage, url: URL, state: string | undefined): { status: number; allow?: string } | undefined {
  if (url.pathname !== CALLBACK_PATH) return { status: 404 }
  if (request.method !== 'GET') return { status: 405, allow: 'GET' }
  const mode = request.headers['sec-fetch-mode']
  const dest = request.headers['sec-fetch-dest']
  if ((mode !== undefined && mode !== 'navigate') || (dest !== undefined && dest !== 'document') || request.headers.origin !== undefined) return { status: 403 }
  const given = url.searchParams.get('state')
  if (state === undefined || given === null || !sameText(given, state)) return { status: 400 }
  return undefined
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/**
 * Listens on 127.0.0.1:`port` (0: any free port) for the browser's return from the consent page.
 * A refused request gets a bare status and "Not accepted.", before and after `state` is known; the
 * accepted one gets its page only when `answer` says how the connection went.
 */
export function listenForCallback(options: { port: number; timeoutMs: number }): Promise<LoopbackCallback> {
  let expected: string | undefined
  let deliver: ((received: ReceivedCallback) => void) | undefined
  let fail: ((error: Error) => void) | undefined
  const timer = setTimeout(() => fail?.(new SocialKpiError('TIMED_OUT', `no answer from the browser within ${Math.round(options.timeoutMs / 60_000)} minutes; run connect again`)), options.timeoutMs)
  timer.unref()

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', `http://127.0.0.1:${(server.address() as AddressInfo).port}`)
    const refused = refusal(request, url, expected)
    if (refused) {
      response.writeHead(refused.status, { ...HEADERS, 'Content-Type': 'text/plain; charset=utf-8', ...(refused.allow ? { Allow: refused.allow } : {}) }).end('Not accepted.\n')
      return
    }
    // One redirect per connect: the state is spent.
    expected = undefined
    const answer = (outcome: { ok: boolean; message: string }) => {
      if (response.headersSent) return
      response.writeHead(outcome.ok ? 200 : 400, { ...HEADERS, 'Content-Type': 'text/html; charset=utf-8' })
      response.end(`<!doctype html><meta charset="utf-8"><title>social-kpi</title><p>${escapeHtml(outcome.message)}</p>`)
    }
    deliver?.({ url, answer })
  })

  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      reject(
        new SocialKpiError(
          'PORT_UNAVAILABLE',
          error.code === 'EADDRINUSE'
            ? `port ${options.port} on 127.0.0.1 is in use; pass --port with the port of the redirect URI you registered`
            : `cannot listen on 127.0.0.1:${options.port} (${error.code})`,
          { cause: error },
        ),
      )
    })
    server.listen(options.port, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port
      resolve({
        redirectUri: `http://127.0.0.1:${port}${CALLBACK_PATH}`,
        receive(state) {
          expected = state
          return new Promise<ReceivedCallback>((res, rej) => {
            deliver = (received) => {
              clearTimeout(timer)
              res(received)
            }
            fail = rej
          })
        },
        close() {
          clearTimeout(timer)
          // The page just answered is still being written: idle connections close now, the rest shortly.
          server.close()
          server.closeIdleConnections()
          setTimeout(() => server.closeAllConnections(), 1_000).unref()
        },
      })
    })
  })
}
