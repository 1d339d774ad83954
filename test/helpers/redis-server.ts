import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { redisAnswers } from '../../core/redis.ts'
import { until } from './until.ts'

/** A TCP port on loopback that nothing listens on (at the time of asking). */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })

/** A redis-server of the test's own on a free loopback port, to stop and start at will (an outage). */
export interface TestRedisServer {
  readonly url: string
  readonly port: number
  /** Starts it: with the data it saved when last stopped with `keepData`, else empty. */
  start(): Promise<void>
  /** Stops it (SIGTERM). `keepData`: it saves its data first and starts with it again; else it starts empty. */
  stop(options?: { keepData?: boolean }): Promise<void>
  /** Stops it and removes its directory. */
  close(): Promise<void>
}

// The server is infrastructure, not code under test: when the suite runs under libfaketime (CI's
// second run), it starts without the preloaded library, which hangs redis-server's daemonizing.
const serverEnv = () => Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'LD_PRELOAD' && !name.startsWith('FAKETIME')))

export async function createTestRedisServer(name: string): Promise<TestRedisServer> {
  const dir = mkdtempSync(join(tmpdir(), `social-kpi-${name}-redis-`))
  const port = await freePort()
  const url = `redis://127.0.0.1:${port}`
  const pidFile = join(dir, 'redis.pid')
  const dumpFile = 'dump.rdb'
  const wait = (what: string, check: () => Promise<boolean> | boolean) => until(what, check, 15_000, 50)

  /** One command over a raw connection (no client library, no reconnects): its first reply line. */
  const command = (...args: string[]) =>
    new Promise<string>((resolve, reject) => {
      const socket = createConnection({ host: '127.0.0.1', port })
      socket.setTimeout(10_000, () => socket.destroy(new Error(`redis-server on ${port} did not answer ${args[0]}`)))
      socket.once('error', reject)
      socket.once('data', (chunk) => {
        socket.end()
        resolve(chunk.toString('utf8').split('\r\n')[0]!)
      })
      socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`)
    })

  const alive = (pid: number) => {
    try {
      process.kill(pid, 0)
      return true
    } catch {
      return false
    }
  }

  const server: TestRedisServer = {
    url,
    port,
    async start() {
      execFileSync(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--save',
          '',
          '--appendonly',
          'no',
          '--maxmemory-policy',
          'noeviction',
          '--dir',
          dir,
          '--dbfilename',
          dumpFile,
          '--pidfile',
          pidFile,
          '--daemonize',
          'yes',
        ],
        { env: serverEnv(), timeout: 10_000 },
      )
      await wait('redis-server to answer', () => redisAnswers(url, 300))
    },
    async stop(options = {}) {
      let pid: number
      try {
        pid = Number(readFileSync(pidFile, 'utf8').trim())
      } catch {
        return
      }
      if (!alive(pid)) return
      // Without save points a stop saves nothing: SAVE first when the data is to be kept.
      if (options.keepData) {
        const reply = await command('SAVE')
        if (reply !== '+OK') throw new Error(`redis-server on ${port} did not save: ${reply}`)
      }
      try {
        process.kill(pid, 'SIGTERM')
      } catch {
        return
      }
      await wait('redis-server to stop', () => !alive(pid))
      if (!options.keepData) rmSync(join(dir, dumpFile), { force: true })
    },
    async close() {
      await server.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
  return server
}
