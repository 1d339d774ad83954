import { createHash, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Registry } from 'prom-client'
import { SocialKpiError } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'

/**
 * The ops listener, for Prometheus and for compose or Kubernetes probes: GET /metrics, /healthz
 * and /readyz, nothing else, nothing that writes or shows data. It is apart from the admin
 * endpoint because that one is loopback-only and wants the secret from DATA_DIR/admin.json,
 * which a Prometheus in another container has neither of. Off unless METRICS_PORT is set; binds
 * METRICS_HOST (127.0.0.1 unless told, 0.0.0.0 in compose). With METRICS_TOKEN set, /metrics
 * asks for it as a bearer token; the probes never do (they reveal only up or not, and why).
 */
export interface OpsServer {
  port: number
  close(): Promise<void>
}

/** What /readyz reports: each dependency, and whether all of them answer. */
export interface Readiness {
  ready: boolean
  checks: Record<string, { ok: boolean; detail?: string }>
}

export interface OpsServerOptions {
  host: string
  port: number
  token?: string
  registry: Registry
  readiness: () => Promise<Readiness>
  logger: Logger
}

const digest = (text: string) => createHash('sha256').update(text).digest()

/** The registry's series in Prometheus's text format (shared with the admin endpoint's /metrics). */
export async function answerMetrics(registry: Registry, res: ServerResponse): Promise<void> {
  const body = await registry.metrics()
  res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' }).end(body)
}

/** 200 when every check passes, else 503; the JSON says which check failed and why. */
async function answerReadiness(readiness: () => Promise<Readiness>, res: ServerResponse): Promise<void> {
  const report = await readiness()
  res
    .writeHead(report.ready ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' })
    .end(`${JSON.stringify({ status: report.ready ? 'ready' : 'not ready', checks: report.checks })}\n`)
}

export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const expected = options.token ? digest(options.token) : undefined
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('only GET\n')
      return
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' }).end('ok\n')
      return
    }
    if (path === '/readyz') return answerReadiness(options.readiness, res)
    if (path === '/metrics') {
      if (expected) {
        const given = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1]
        if (!given || !timingSafeEqual(digest(given), expected)) {
          res.writeHead(401, { 'www-authenticate': 'Bearer', 'content-type': 'text/plain' }).end('METRICS_TOKEN is required as a bearer token\n')
          return
        }
      }
      return answerMetrics(options.registry, res)
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('GET /metrics, /healthz or /readyz\n')
  }
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      options.logger.error({ err, url: req.url }, 'ops endpoint request failed')
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
      res.end('internal error\n')
    })
  })
  // A probe that never finishes its request must not hold a socket for ever.
  server.requestTimeout = 10_000
  server.headersTimeout = 5_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause: NodeJS.ErrnoException) =>
      reject(
        new SocialKpiError(
          'PORT_UNAVAILABLE',
          `METRICS_PORT (${options.port}): the ops endpoint cannot listen on ${options.host}:${options.port} (${cause.code ?? cause.message}); set METRICS_PORT to a free port, or METRICS_HOST to an address of this machine`,
          { cause },
        ),
      ),
    )
    server.listen(options.port, options.host, resolve)
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : options.port
  options.logger.info({ host: options.host, port, auth: expected ? 'bearer' : 'none' }, 'ops endpoint listening: /metrics, /healthz, /readyz')
  return {
    port,
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
