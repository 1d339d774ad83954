import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { cliSandbox, runCli } from '../helpers/cli.ts'
import { pause, until as waitUntil } from '../helpers/until.ts'

/**
 * Start-up failures as an operator meets them: each prints one plain line naming the variable or
 * the path, and the process exits 1 within a bounded time after closing what it opened (no
 * hang). SIGTERM stops `start` during start-up and while running.
 */
const sandbox = cliSandbox('startup')
const servers: Server[] = []
const sockets: Socket[] = []
afterAll(async () => {
  for (const socket of sockets) socket.destroy()
  for (const server of servers) await new Promise((resolve) => server.close(resolve))
  sandbox.cleanup()
})

const environment = sandbox.environment
/** Runs the CLI to its end (killed after 30 s); how long it took, its exit code and stderr lines. */
const cli = (args: string[], env: NodeJS.ProcessEnv) => runCli(args, env)

/** A started CLI whose output the test watches. */
function spawned(args: string[], env: NodeJS.ProcessEnv) {
  const child: ChildProcess = spawn(process.execPath, ['bin/social-kpi.js', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  const output = { stdout: '', stderr: '' }
  child.stdout!.on('data', (chunk) => (output.stdout += chunk))
  child.stderr!.on('data', (chunk) => (output.stderr += chunk))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
  return {
    child,
    output,
    exited,
    /** Whether stdout shows `text` within `limitMs` (false at once if the process ended). */
    async until(text: string, limitMs = 90_000) {
      await waitUntil(`"${text}" on stdout`, () => output.stdout.includes(text) || child.exitCode !== null, limitMs, 50).catch(() => undefined)
      return output.stdout.includes(text)
    },
    /** Waits for the exit, at most `limitMs` (then kills it, and the result says so). */
    async exit(limitMs: number) {
      const started = performance.now()
      const timer = setTimeout(() => child.kill('SIGKILL'), limitMs)
      const result = await exited
      clearTimeout(timer)
      return { ...result, ms: performance.now() - started }
    },
  }
}

/** A TCP port that accepts connections and never answers: a ClickHouse that hangs. */
async function silentServer(): Promise<number> {
  const server = createServer((socket) => sockets.push(socket))
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as { port: number }).port
}

describe('a start that cannot start', () => {
  it('exits 1 with one line naming CLICKHOUSE_URL when nothing answers there', () => {
    const result = cli(['start'], environment({ CLICKHOUSE_URL: 'http://127.0.0.1:1' }))
    expect(result.code).toBe(1)
    expect(result.stderrLines).toEqual([expect.stringMatching(/^error: CLICKHOUSE_URL \(127\.0\.0\.1:1\): nothing answers \(ECONNREFUSED\)$/)])
    expect(result.ms).toBeLessThan(20_000)
  }, 40_000)

  it('exits 1 with one line naming SMTP_URL when it is not an SMTP URL', () => {
    const result = cli(['start'], environment({ SMTP_URL: 'ftp://mail.example.com' }))
    expect(result.code).toBe(1)
    expect(result.stderrLines).toEqual([expect.stringMatching(/^error: invalid environment: SMTP_URL: must be an smtp:\/\/ or smtps:\/\/ URL/)])
    expect(result.ms).toBeLessThan(20_000)
  }, 40_000)

  it('exits 1 with one line naming each invalid variable, in the demo too', () => {
    const result = cli(['start'], environment({ HTTP_TIMEOUT_MS: 'soon', START_PRIVATE_REDIS: 'maybe' }))
    expect(result.code).toBe(1)
    expect(result.stderrLines).toHaveLength(1)
    expect(result.stderrLines[0]).toMatch(/^error: invalid environment: .*START_PRIVATE_REDIS: must be true or false/)
    expect(result.stderrLines[0]).toContain('HTTP_TIMEOUT_MS')
    expect(result.ms).toBeLessThan(20_000)
  }, 40_000)

  it('exits 1 with one line naming ADMIN_PORT when the port is taken, after closing the engine it opened', async () => {
    const taken = createServer()
    servers.push(taken)
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const env = environment({ ADMIN_PORT: String((taken.address() as { port: number }).port) })
    const result = cli(['start'], env)
    expect(result.code).toBe(1)
    expect(result.stderrLines).toEqual([expect.stringMatching(/^error: ADMIN_PORT \(\d+\): the admin endpoint cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\)/)])
    expect(result.ms).toBeLessThan(20_000)
    // The engine was opened and closed again: nothing holds the data directory.
    expect(existsSync(join(env.DATA_DIR!, 'clickhouse.lock'))).toBe(false)
  }, 40_000)
})

describe('two starts on one DATA_DIR', () => {
  it('the second exits 1 with one line naming DATA_DIR; the first runs until SIGTERM and stops cleanly', async () => {
    const env = environment()
    const first = spawned(['start'], env)
    const second = spawned(['start'], env)
    try {
      const loser = await Promise.race([first.exited.then(() => second), second.exited.then(() => first)]).then((winner) => (winner === first ? second : first))
      const winner = loser === first ? second : first
      const lost = await loser.exit(30_000)
      expect(lost.code).toBe(1)
      const lines = loser.output.stderr.split('\n').filter((line) => line.trim())
      expect(lines).toEqual([expect.stringMatching(/^error: (DATA_DIR \(.*\): )?another social-kpi process .*is running on .*holds its embedded ClickHouse/)])
      expect(lines[0]).toContain(env.DATA_DIR!)

      expect(await winner.until('Running:')).toBe(true)
      winner.child.kill('SIGTERM')
      const stopped = await winner.exit(30_000)
      expect(stopped.code).toBe(0)
      expect(winner.output.stdout).toContain('Stopped cleanly.')
      expect(winner.output.stderr).toBe('')
      expect(existsSync(join(env.DATA_DIR!, 'admin.json'))).toBe(false)
      expect(existsSync(join(env.DATA_DIR!, 'clickhouse.lock'))).toBe(false)
    } finally {
      first.child.kill('SIGKILL')
      second.child.kill('SIGKILL')
    }
  }, 180_000)
})

describe('SIGTERM during start-up', () => {
  it('stops a start that waits for a ClickHouse that never answers', async () => {
    const port = await silentServer()
    const start = spawned(['start'], environment({ CLICKHOUSE_URL: `http://127.0.0.1:${port}` }))
    try {
      expect(await start.until('DEMO')).toBe(true)
      await pause(500)
      start.child.kill('SIGTERM')
      const result = await start.exit(15_000)
      expect(result.signal).toBeNull()
      expect(result.code).toBe(0)
      expect(result.ms).toBeLessThan(5_000)
      expect(start.output.stdout).toContain('SIGTERM: stopping')
      expect(start.output.stdout).not.toContain('Running:')
      expect(start.output.stderr).toBe('')
    } finally {
      start.child.kill('SIGKILL')
    }
  }, 60_000)

  it('stops the embedded demo while it opens its engine and collects the first round', async () => {
    const env = environment()
    const start = spawned(['start'], env)
    try {
      expect(await start.until('DEMO')).toBe(true)
      start.child.kill('SIGTERM')
      const result = await start.exit(30_000)
      expect(result.code).toBe(0)
      expect(result.ms).toBeLessThan(20_000)
      expect(start.output.stdout).not.toContain('Running:')
      expect(start.output.stdout).toContain('Stopped cleanly.')
      expect(start.output.stderr).toBe('')
      expect(existsSync(join(env.DATA_DIR!, 'clickhouse.lock'))).toBe(false)
    } finally {
      start.child.kill('SIGKILL')
    }
  }, 60_000)
})
