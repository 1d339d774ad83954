import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Registry } from 'prom-client'
import { z } from 'zod'
import { clickHouseSilenceStore, silenceRowSchema, type SilenceRow } from '../alerts/silences.ts'
import type { ClickHouse } from '../core/clickhouse.ts'
import { SocialKpiError, type ErrorCode } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import type { Queues } from '../core/queues.ts'
import { answerMetrics } from './ops-server.ts'

/**
 * In embedded mode the running process owns the chdb data directory, so `social-kpi sql` sends
 * its query here instead of opening the database, and `silence add|expire` their rows.
 *
 * Only its owner may use it. It listens on loopback; DATA_DIR/admin.json (mode 0600, written by
 * the running process) holds its port and a random secret, which every request must carry
 * (`Authorization: Bearer …`, compared in constant time). A web page in a browser cannot reach
 * it: requests with an Origin (or Sec-Fetch-Site) header are refused, so are Host headers other
 * than 127.0.0.1:PORT or localhost:PORT (DNS rebinding), bodies that are not application/json (a
 * form or text/plain needs no CORS preflight) and bodies over 1 MB.
 *
 * Routes: POST /sql runs one read-only statement (ClickHouse.readOnlyText); POST /silences writes
 * rows of the silences table, and nothing else; GET /healthz; GET /metrics (the process's
 * Prometheus series); POST /queues-link makes a one-time link to the queue board.
 *
 * The queue board (Bull Board, under /queues) is for a browser, which cannot send the secret:
 * `social-kpi queues` asks for a one-time link (valid 2 minutes, used once) whose opening sets an
 * HttpOnly, SameSite=Strict session cookie for /queues. Board requests keep the Host check; a
 * browser's must be same-origin (Origin this endpoint, Sec-Fetch-Site same-origin, or none for a
 * link opened by hand), and one that changes something must carry that Origin (CSRF) and be a
 * retry or a promote (cli/queue-board.ts).
 */
export interface AdminServer {
  port: number
  close(): Promise<void>
}

/** Where the running process answers, from DATA_DIR/admin.json. */
export interface AdminEndpoint {
  port: number
  secret: string
}

const ADMIN_FILE = 'admin.json'
const ADMIN_BODY_LIMIT = 1024 * 1024

const sqlRequest = z.strictObject({
  query: z.string().min(1),
  format: z.string().regex(/^\w+$/, 'must be a ClickHouse format name').optional(),
  params: z.record(z.string(), z.unknown()).optional(),
})
const silencesRequest = z.strictObject({ rows: z.array(silenceRowSchema).min(1).max(100) })

class Refused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

export interface AdminServerOptions {
  ch: ClickHouse
  port: number
  dataDir: string
  logger: Logger
  /** Served at GET /metrics; absent: no such route. */
  registry?: Registry
  /** Shown by the queue board under /queues; absent: no board. */
  queues?: Queues
}

const BOARD_PATH = '/queues'
const LINK_TTL_MS = 2 * 60_000
const SESSION_TTL_MS = 8 * 3_600_000

export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const secret = randomBytes(32).toString('base64url')
  const expected = digest(secret)
  let port = options.port
  const silences = clickHouseSilenceStore(options.ch)
  // Imported here: `sql` and `silence` use this module's client side and need no Bull Board.
  const boardModule = options.queues ? await import('./queue-board.ts') : undefined
  const board = boardModule && options.queues ? { handle: boardModule.createQueueBoard(options.queues, BOARD_PATH), changeAllowed: boardModule.boardChangeAllowed } : undefined
  const links = expiringSet(LINK_TTL_MS)
  const sessions = expiringSet(SESSION_TTL_MS)
  // Cookies ignore ports: the name keeps two processes' sessions on one machine apart.
  const cookieName = () => `social_kpi_board_${port}`
  const hasSecret = (req: IncomingMessage) => {
    const given = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1]
    return given !== undefined && timingSafeEqual(digest(given), expected)
  }

  /** `path` is the request's own, not normalised (`/queues/../sql` is no board path and no API route). */
  const handleBoard = (req: IncomingMessage, res: ServerResponse, path: string, query: string) => {
    if (!board) throw new Refused(404, 'this process has no queue board')
    const origin = req.headers.origin
    if (origin !== undefined && origin !== `http://127.0.0.1:${port}` && origin !== `http://localhost:${port}`) throw new Refused(403, 'requests from another site are refused')
    const site = req.headers['sec-fetch-site']
    if (site !== undefined && site !== 'same-origin' && site !== 'none') throw new Refused(403, `requests from another site are refused (Sec-Fetch-Site: ${site})`)
    const safe = req.method === 'GET' || req.method === 'HEAD'
    if (path === `${BOARD_PATH}/login`) {
      if (!safe) throw new Refused(405, 'open the link with GET')
      if (!links.take(new URLSearchParams(query).get('code') ?? '')) throw new Refused(401, 'this link was used already or has expired; `social-kpi queues` prints a new one')
      const session = randomBytes(32).toString('base64url')
      sessions.add(session)
      res
        .writeHead(303, {
          location: `${BOARD_PATH}/`,
          'set-cookie': `${cookieName()}=${session}; HttpOnly; SameSite=Strict; Path=${BOARD_PATH}; Max-Age=${SESSION_TTL_MS / 1000}`,
          'cache-control': 'no-store',
          'referrer-policy': 'no-referrer',
        })
        .end()
      return
    }
    const bearer = hasSecret(req)
    if (!bearer && !sessions.has(readCookie(req.headers.cookie, cookieName()) ?? '')) throw new Refused(401, 'open the link `social-kpi queues` prints')
    // Beside SameSite=Strict: a browser's change must name this page as its origin.
    if (!safe && !bearer && origin === undefined) throw new Refused(403, 'a change from a browser must carry the Origin of this page')
    const inner = path.slice(BOARD_PATH.length) || '/'
    if (!safe && !board.changeAllowed(req.method ?? '', inner)) throw new Refused(403, `the queue board does not offer ${req.method} ${inner} (only retry and promote)`)
    res.setHeader('x-frame-options', 'DENY')
    res.setHeader('content-security-policy', "frame-ancestors 'none'")
    res.setHeader('referrer-policy', 'no-referrer')
    req.url = query ? `${inner}?${query}` : inner
    board.handle(req, res)
  }

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const host = req.headers.host
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) throw new Refused(403, `Host ${JSON.stringify(host ?? '')} is not this loopback endpoint`)
    const [path = '/', query = ''] = (req.url ?? '/').split(/\?(.*)/s)
    if (path === BOARD_PATH || path.startsWith(`${BOARD_PATH}/`)) return handleBoard(req, res, path, query)
    if (req.headers.origin !== undefined || req.headers['sec-fetch-site'] !== undefined) throw new Refused(403, 'requests from a browser are refused')
    if (!hasSecret(req)) throw new Refused(401, `the secret from ${ADMIN_FILE} is required`)
    const route = `${req.method} ${req.url}`
    if (route === 'GET /healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n')
      return
    }
    if (route === 'GET /metrics' && options.registry) return answerMetrics(options.registry, res)
    if (route === 'POST /queues-link' && board) {
      const code = randomBytes(24).toString('base64url')
      links.add(code)
      res.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify({ url: `http://127.0.0.1:${port}${BOARD_PATH}/login?code=${code}`, expiresInSeconds: LINK_TTL_MS / 1000 })}\n`)
      return
    }
    if (route !== 'POST /sql' && route !== 'POST /silences') throw new Refused(404, `no route ${route}`)
    const mediaType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
    if (mediaType !== 'application/json') throw new Refused(415, 'the body must be application/json')
    const body = await readBody(req)
    let json: unknown
    try {
      json = JSON.parse(body)
    } catch {
      throw new Refused(400, 'the body is not JSON')
    }
    if (route === 'POST /sql') {
      const parsed = sqlRequest.safeParse(json)
      if (!parsed.success) throw new Refused(400, `invalid request: ${z.prettifyError(parsed.error).replace(/\s+/g, ' ')}`)
      const { query, format, params } = parsed.data
      const text = await options.ch.readOnlyText(query, { format: format ?? 'PrettyCompactMonoBlock', params })
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(text)
      return
    }
    const parsed = silencesRequest.safeParse(json)
    if (!parsed.success) throw new Refused(400, `invalid silence rows: ${z.prettifyError(parsed.error).replace(/\s+/g, ' ')}`)
    await silences.writeSilences(parsed.data.rows)
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(`${parsed.data.rows.length}\n`)
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const status = error instanceof Refused ? error.status : error instanceof SocialKpiError ? 400 : 500
      const code = error instanceof SocialKpiError ? error.code : undefined
      if (error instanceof Refused) options.logger.warn({ status, url: req.url }, `admin endpoint refused a request: ${error.message}`)
      else if (status === 500) options.logger.error({ err: error, url: req.url }, 'admin endpoint request failed')
      // `connection: close`: a refused body is not read to its end.
      if (!res.headersSent) res.writeHead(status, { 'content-type': 'application/json', connection: 'close' })
      res.end(JSON.stringify({ error: { code, message: error instanceof Error ? error.message : String(error) } }))
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause: NodeJS.ErrnoException) =>
      reject(
        new SocialKpiError(
          'PORT_UNAVAILABLE',
          `ADMIN_PORT (${options.port}): the admin endpoint cannot listen on 127.0.0.1:${options.port} (${cause.code ?? cause.message}); set ADMIN_PORT to a free port, or 0 for any`,
          { cause },
        ),
      ),
    )
    server.listen(options.port, '127.0.0.1', resolve)
  })
  const address = server.address()
  port = typeof address === 'object' && address ? address.port : options.port
  const file = join(options.dataDir, ADMIN_FILE)
  // Written whole and private from the start: a temporary file created 0600, then renamed over.
  const temporary = `${file}.${process.pid}.tmp`
  try {
    await rm(temporary, { force: true })
    await writeFile(temporary, JSON.stringify({ port, pid: process.pid, secret } satisfies AdminEndpoint & { pid: number }), { mode: 0o600, flag: 'wx' })
    await rename(temporary, file)
  } catch (cause) {
    await new Promise<void>((resolve) => server.close(() => resolve()))
    throw new SocialKpiError('CONFIG_INVALID', `DATA_DIR (${options.dataDir}): cannot write ${ADMIN_FILE} (${(cause as NodeJS.ErrnoException).code ?? String(cause)})`, { cause })
  }
  options.logger.debug({ port }, 'admin endpoint listening on loopback')
  return {
    port,
    async close() {
      await rm(file, { force: true })
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

const digest = (text: string) => createHash('sha256').update(text).digest()

/**
 * Random tokens valid for `ttlMs` (elapsed time, performance.now()), kept as digests; `take`
 * uses one up. Bounded: the oldest go first past 100.
 */
function expiringSet(ttlMs: number) {
  const until = new Map<string, number>()
  const key = (token: string) => digest(token).toString('hex')
  const live = (token: string) => {
    const end = until.get(key(token))
    return end !== undefined && end > performance.now()
  }
  return {
    add(token: string) {
      for (const [k, end] of until) if (end <= performance.now()) until.delete(k)
      while (until.size >= 100) until.delete(until.keys().next().value!)
      until.set(key(token), performance.now() + ttlMs)
    },
    has: live,
    take(token: string) {
      const ok = token !== '' && live(token)
      until.delete(key(token))
      return ok
    },
  }
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=')
    if (k === name) return v.join('=')
  }
  return undefined
}

async function readBody(req: IncomingMessage): Promise<string> {
  if (Number(req.headers['content-length'] ?? 0) > ADMIN_BODY_LIMIT) throw new Refused(413, `the body is over ${ADMIN_BODY_LIMIT} bytes`)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > ADMIN_BODY_LIMIT) throw new Refused(413, `the body is over ${ADMIN_BODY_LIMIT} bytes`)
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** The running process's admin endpoint, if one is alive for this data directory. */
export async function findAdminServer(dataDir: string): Promise<AdminEndpoint | undefined> {
  try {
    const { port, pid, secret } = JSON.parse(await readFile(join(dataDir, ADMIN_FILE), 'utf8')) as { port: unknown; pid: number; secret: unknown }
    if (typeof port !== 'number' || typeof secret !== 'string') return undefined
    process.kill(pid, 0)
    return { port, secret }
  } catch {
    return undefined
  }
}

/** Runs one read-only statement through the running process; its output, or its error as a SocialKpiError. */
export async function queryAdminServer(endpoint: AdminEndpoint, query: string, format: string, params?: Record<string, unknown>): Promise<string> {
  return postAdminServer(endpoint, '/sql', { query, format, params })
}

/** A one-time link to the running process's queue board. */
export async function queueBoardLink(endpoint: AdminEndpoint): Promise<{ url: string; expiresInSeconds: number }> {
  return JSON.parse(await postAdminServer(endpoint, '/queues-link', {})) as { url: string; expiresInSeconds: number }
}

/** Writes silence rows through the running process. */
export async function writeSilencesAdminServer(endpoint: AdminEndpoint, rows: SilenceRow[]): Promise<void> {
  await postAdminServer(endpoint, '/silences', { rows })
}

function postAdminServer(endpoint: AdminEndpoint, path: string, body: unknown): Promise<string> {
  return new Promise((resolve, reject) => {
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${endpoint.secret}` }
    const req = request({ host: '127.0.0.1', port: endpoint.port, path, method: 'POST', headers, timeout: 120_000 }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => (text += chunk))
      res.on('end', () => {
        if (res.statusCode === 200) return resolve(text)
        let answer: { error?: { code?: ErrorCode; message?: string } } = {}
        try {
          answer = JSON.parse(text) as typeof answer
        } catch {
          // not one of our answers
        }
        reject(new SocialKpiError(answer.error?.code ?? 'CONFIG_INVALID', answer.error?.message ?? `the running social-kpi answered ${res.statusCode}: ${text.trim()}`))
      })
    })
    req.on('timeout', () => req.destroy(new SocialKpiError('TIMED_OUT', 'the running social-kpi did not answer in time')))
    req.on('error', reject)
    req.end(JSON.stringify(body))
  })
}
