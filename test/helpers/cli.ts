import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { queuePrefix } from './redis-keys.ts'

/** The CLI's entry point, by its full path: a test may run it from another directory (`cwd`). */
export const CLI_BIN = fileURLToPath(new URL('../../bin/social-kpi.js', import.meta.url))

/**
 * Temporary data directories for spawned CLIs, each with its own queues (their Redis keys removed
 * when the file ends); `cleanup()` removes the directories.
 */
export function cliSandbox(name: string) {
  const dirs: string[] = []
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), `social-kpi-${name}-`))
    dirs.push(dir)
    return dir
  }
  return {
    tempDir,
    /** The environment of a CLI run at a named instant on a fresh DATA_DIR; `extra` wins. */
    environment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
      return { ...process.env, DATA_DIR: tempDir(), LOG_LEVEL: 'warn', ADMIN_PORT: '0', QUEUE_PREFIX: queuePrefix(name), CLOCK_START: '2026-11-18T10:00:00+07:00', ...extra }
    },
    cleanup() {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
    },
  }
}

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  ms: number
  stdout: string
  /** stderr without blank lines. */
  stderrLines: string[]
  /** What the process wrote to file descriptor 3 (see loaded-modules.mjs). */
  fd3: string
}

/**
 * Runs `node [nodeArgs] bin/social-kpi.js ...args` to its end (killed after `limitMs`): its exit
 * code, stdout and stderr lines. `input` is its stdin; `uid`/`gid` run it as another user.
 */
export function runCli(args: string[], env: NodeJS.ProcessEnv, options: { limitMs?: number; input?: string | Buffer; nodeArgs?: string[]; uid?: number; gid?: number; cwd?: string } = {}): CliResult {
  const started = performance.now()
  const result = spawnSync(process.execPath, [...(options.nodeArgs ?? []), CLI_BIN, ...args], {
    env,
    cwd: options.cwd,
    encoding: 'utf8',
    timeout: options.limitMs ?? 30_000,
    killSignal: 'SIGKILL',
    input: options.input,
    // Descriptor 3 only for a preload that reports on it: a process the CLI starts could hold it open.
    stdio: options.nodeArgs ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'],
    maxBuffer: 16 * 1024 * 1024,
    uid: options.uid,
    gid: options.gid,
  })
  return {
    code: result.status,
    signal: result.signal,
    ms: performance.now() - started,
    stdout: result.stdout,
    stderrLines: result.stderr.split('\n').filter((line) => line.trim()),
    fd3: (result.output[3] as string | null | undefined) ?? '',
  }
}

/**
 * runCli without blocking: for CLIs that talk to servers the test itself runs (spawnSync would
 * stop them from answering).
 */
export async function runCliAsync(args: string[], env: NodeJS.ProcessEnv, options: { limitMs?: number; nodeArgs?: string[]; uid?: number; gid?: number; cwd?: string } = {}): Promise<CliResult> {
  const started = performance.now()
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), CLI_BIN, ...args], {
    env,
    cwd: options.cwd,
    stdio: options.nodeArgs ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'],
    uid: options.uid,
    gid: options.gid,
  })
  const output = ['', '', '', '']
  for (const fd of [1, 2, 3]) (child.stdio[fd] as Readable | null)?.on('data', (chunk: Buffer) => (output[fd] += chunk.toString('utf8')))
  const timer = setTimeout(() => child.kill('SIGKILL'), options.limitMs ?? 30_000)
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null]
  clearTimeout(timer)
  return { code, signal, ms: performance.now() - started, stdout: output[1]!, stderrLines: output[2]!.split('\n').filter((line) => line.trim()), fd3: output[3]! }
}
