import { createServer, request, type Server } from 'node:http'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ClickHouse } from '../core/clickhouse.ts'
import type { Logger } from '../core/logger.ts'

/**
 * In embedded mode the running process owns the chdb data directory, so `social-kpi sql` sends
 * its query here instead of opening the database (and `silence add|expire` its rows, to /insert). Loopback only; the address is written to
 * DATA_DIR/admin.json for the CLI to find.
 */
export interface AdminServer {
  port: number
  close(): Promise<void>
}

const ADMIN_FILE = 'admin.json'
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

export async function startAdminServer(options: { ch: ClickHouse; port: number; dataDir: string; logger: Logger }): Promise<AdminServer> {
  const server: Server = createServer(async (req, res) => {
    if (req.method === 'GET' && req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n')
      return
    }
    if (req.method !== 'POST' || (req.url !== '/sql' && req.url !== '/insert')) {
      res.writeHead(404).end()
      return
    }
    let body = ''
    for await (const chunk of req) body += chunk
    if (req.url === '/insert') {
      // Rows for one table (e.g. `social-kpi silence add`), written as JSONEachRow by this process.
      try {
        const { table, values } = JSON.parse(body) as { table: unknown; values: unknown }
        if (typeof table !== 'string' || !TABLE_NAME.test(table) || !Array.isArray(values)) throw new Error('an insert needs a table name and a list of rows')
        await options.ch.client.insert({ table, values: values as Array<Record<string, unknown>>, format: 'JSONEachRow' })
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(`${values.length}\n`)
      } catch (error) {
        res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end(`${error instanceof Error ? error.message : String(error)}\n`)
      }
      return
    }
    try {
      const { query, format, params } = JSON.parse(body) as { query: string; format?: string; params?: Record<string, unknown> }
      const result = await options.ch.client.query({ query, format: (format ?? 'PrettyCompactMonoBlock') as 'JSONEachRow', query_params: params })
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(await result.text())
    } catch (error) {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end(`${error instanceof Error ? error.message : String(error)}\n`)
    }
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, '127.0.0.1', resolve)
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : options.port
  const file = join(options.dataDir, ADMIN_FILE)
  await writeFile(file, JSON.stringify({ port, pid: process.pid }))
  options.logger.debug({ port }, 'admin endpoint listening on loopback')
  return {
    port,
    async close() {
      await rm(file, { force: true })
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** The running process's admin endpoint, if one is alive for this data directory. */
export async function findAdminServer(dataDir: string): Promise<number | undefined> {
  try {
    const { port, pid } = JSON.parse(await readFile(join(dataDir, ADMIN_FILE), 'utf8')) as { port: number; pid: number }
    process.kill(pid, 0)
    return port
  } catch {
    return undefined
  }
}

export function queryAdminServer(port: number, query: string, format: string, params?: Record<string, unknown>): Promise<{ ok: boolean; text: string }> {
  return postAdminServer(port, '/sql', { query, format, params })
}

/** Inserts rows into a table through the running process. */
export function insertAdminServer(port: number, table: string, values: Array<Record<string, unknown>>): Promise<{ ok: boolean; text: string }> {
  return postAdminServer(port, '/insert', { table, values })
}

function postAdminServer(port: number, path: string, body: unknown): Promise<{ ok: boolean; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json' }, timeout: 120_000 }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => (text += chunk))
      res.on('end', () => resolve({ ok: res.statusCode === 200, text }))
    })
    req.on('timeout', () => req.destroy(new Error('the running social-kpi did not answer in time')))
    req.on('error', reject)
    req.end(JSON.stringify(body))
  })
}
