import { spawn, type ChildProcess } from 'node:child_process'
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inject } from 'vitest'
import { parse, stringify } from 'yaml'
import { findAdminServer, queryAdminServer } from '../../cli/admin-server.ts'
import { parsePlan, planAccounts, type Plan } from '../../plan/plan.ts'
import { simulatorEnvironment } from '../../simulator/index.ts'
import { removeRedisKeys } from '../helpers/redis-keys.ts'
import { uniqueSuffix } from '../helpers/runtime.ts'
import { until } from '../helpers/until.ts'

/**
 * The chaos suite's test bed: the real `social-kpi start` in a child process of its own (its own
 * DATA_DIR and queue prefix, CLOCK_START set, static tokens), pointed at the built-in simulator,
 * a real SMTP receiver and a real Redis, all on loopback; read through its admin endpoint, as
 * `social-kpi sql` does while it runs. Everything it starts it stops, within bounds.
 */

/** Thursday 26 Nov 2026, 16:05 in Jakarta: the round of 16:00 (09:00 UTC), late in a month. */
export const CHAOS_AT = '2026-11-26T16:05:00+07:00'

/**
 * The example plan, narrowed to some accounts (and the KPIs and crisis triggers they serve), on
 * other schedules; `alerting` replaces those fields of its `alerting` (channels, routes).
 */
export function writePlan(
  dir: string,
  options: { accounts?: string[]; schedule?: string; evaluateSchedule?: string; crisisTriggers?: boolean; alerting?: Record<string, unknown> } = {},
): { file: string; plan: Plan } {
  const document = parse(readFileSync('examples/plan.yaml', 'utf8')) as {
    strategy: { networks: Array<{ network: string; accounts: Array<{ id: string }> }> }
    kpis: Array<{ network: string; accounts?: string[] }>
    crisis?: { triggers?: Array<{ network?: string }> }
    collection: Record<string, unknown>
    alerting: Record<string, unknown>
  }
  if (options.accounts) {
    const keep = new Set(options.accounts)
    document.strategy.networks = document.strategy.networks.map((n) => ({ ...n, accounts: n.accounts.filter((a) => keep.has(a.id)) })).filter((n) => n.accounts.length > 0)
    const networks = new Set(document.strategy.networks.map((n) => n.network))
    document.kpis = document.kpis.filter((k) => networks.has(k.network) && (k.accounts ?? []).every((id) => keep.has(id)))
    if (document.crisis?.triggers) document.crisis.triggers = document.crisis.triggers.filter((t) => !t.network || networks.has(t.network))
  }
  if (options.crisisTriggers === false) delete document.crisis?.triggers
  if (options.schedule) document.collection.schedule = options.schedule
  if (options.evaluateSchedule) document.collection.evaluateSchedule = options.evaluateSchedule
  if (options.alerting) Object.assign(document.alerting, options.alerting)
  const file = join(dir, 'plan.yaml')
  writeFileSync(file, stringify(document))
  return { file, plan: parsePlan(document, file) }
}

export interface LogLine {
  /** pino's label: info, warn, error, …; `raw` for a line that is not JSON. */
  level: string
  msg: string
  [field: string]: unknown
}

export interface StartedProcess {
  child: ChildProcess
  dataDir: string
  /** Its JSON log lines (stderr), parsed; a line that is not JSON is kept as `{ level: 'raw', msg }`. */
  logs: LogLine[]
  stdout(): string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Waits until stdout shows `text` (or fails naming it); fails at once if the process ended. */
  untilOutput(text: string, timeoutMs?: number): Promise<void>
  /** Waits for a log line; fails at once if the process ended. */
  untilLog(what: string, check: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>
  /** SIGTERM and the exit (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

export interface ProcessOptions {
  planFile: string
  plan: Plan
  dataDir: string
  queuePrefix: string
  simulatorUrl: string
  clockStart: string
  smtpUrl?: string
  redisUrl?: string
  env?: Record<string, string>
}

const running = new Set<ChildProcess>()

/** `node bin/social-kpi.js start --plan FILE`, with the simulator's environment and a token per account. */
export function startProcess(options: ProcessOptions): StartedProcess {
  const tokens = Object.fromEntries(planAccounts(options.plan).map((a) => [a.tokenEnv, `good-token-${a.id}`]))
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...simulatorEnvironment(options.simulatorUrl),
    ...tokens,
    DATA_DIR: options.dataDir,
    QUEUE_PREFIX: options.queuePrefix,
    CLOCK_START: options.clockStart,
    REDIS_URL: options.redisUrl ?? 'redis://127.0.0.1:6379',
    START_PRIVATE_REDIS: 'false',
    SMTP_URL: options.smtpUrl ?? '',
    ADMIN_PORT: '0',
    LOG_LEVEL: 'info',
    LOG_PRETTY: 'false',
    WRITER_FLUSH_MS: '200',
    SHUTDOWN_TIMEOUT_MS: '5000',
    ...options.env,
  }
  const child = spawn(process.execPath, ['bin/social-kpi.js', 'start', '--plan', options.planFile], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(child)
  let out = ''
  let partial = ''
  const logs: LogLine[] = []
  child.stdout!.on('data', (chunk) => (out += chunk))
  child.stderr!.on('data', (chunk) => {
    const lines = (partial + chunk).split('\n')
    partial = lines.pop()!
    for (const line of lines.filter((l) => l.trim())) {
      try {
        logs.push(JSON.parse(line) as LogLine)
      } catch {
        logs.push({ level: 'raw', msg: line })
      }
    }
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      running.delete(child)
      resolve({ code, signal })
    }),
  )
  const ended = () => child.exitCode !== null || child.signalCode !== null
  const describeEnd = () => `the process ended (${child.exitCode ?? child.signalCode}); stdout: ${out.slice(-2000)}; last logs: ${JSON.stringify(logs.slice(-5))}`
  return {
    child,
    dataDir: options.dataDir,
    logs,
    stdout: () => out,
    exited,
    async untilOutput(text, timeoutMs = 90_000) {
      await until(
        `"${text}" on stdout`,
        () => {
          if (out.includes(text)) return true
          if (ended()) throw new Error(`waiting for "${text}": ${describeEnd()}`)
          return false
        },
        timeoutMs,
        50,
      )
    },
    async untilLog(what, check, timeoutMs = 90_000) {
      let found: LogLine | undefined
      await until(
        what,
        () => {
          found = logs.find(check)
          if (found) return true
          if (ended()) throw new Error(`waiting for ${what}: ${describeEnd()}`)
          return false
        },
        timeoutMs,
        50,
      )
      return found!
    },
    async stop(timeoutMs = 30_000) {
      if (!ended()) child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
      const result = await exited
      clearTimeout(timer)
      return result
    },
  }
}

/** Kills what this file started and did not stop (a failed test), so nothing outlives the suite. */
export function killLeftovers(): void {
  for (const child of running) child.kill('SIGKILL')
}

/** A data directory and a queue prefix of their own, removed by `cleanup`. */
export function scratch(name: string): { dataDir: string; queuePrefix: string; cleanup(): void } {
  const dataDir = mkdtempSync(join(tmpdir(), `social-kpi-chaos-${name}-`))
  return { dataDir, queuePrefix: `test-chaos-${name}-${uniqueSuffix()}`, cleanup: () => rmSync(dataDir, { recursive: true, force: true }) }
}

/** Rows of a read-only query, through the running process's admin endpoint (as `social-kpi sql`). */
export async function adminRows<T>(dataDir: string, query: string, params?: Record<string, unknown>): Promise<T[]> {
  const endpoint = await findAdminServer(dataDir)
  if (!endpoint) throw new Error(`no running social-kpi answers for ${dataDir}`)
  const body = await queryAdminServer(endpoint, query, 'JSONEachRow', params)
  return body
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as T)
}

/** What a user reads of the observations: every row under FINAL, by key, and the analysts' daily view. */
export interface StoredData {
  /** network/account/metric/object_type/object_id/observed_at → value */
  observations: Map<string, number>
  /** day/network/account/metric → value, from the analysts' view. */
  metricsDaily: Map<string, number>
}

export async function storedData(dataDir: string): Promise<StoredData> {
  const rows = await adminRows<{ k: string; value: number }>(
    dataDir,
    "SELECT concat(network, '/', account_id, '/', metric, '/', object_type, '/', object_id, '/', toString(observed_at)) AS k, value FROM observations FINAL",
  )
  const daily = await adminRows<{ k: string; value: number }>(dataDir, "SELECT concat(toString(day), '/', network, '/', account_id, '/', metric) AS k, value FROM metrics_daily")
  return { observations: new Map(rows.map((r) => [r.k, r.value])), metricsDaily: new Map(daily.map((r) => [r.k, r.value])) }
}

/** How `actual` differs from `expected`: keys missing, keys extra, and keys whose value differs. */
export function compare(expected: Map<string, number>, actual: Map<string, number>): { missing: string[]; extra: string[]; changed: string[] } {
  const missing = [...expected.keys()].filter((k) => !actual.has(k))
  const extra = [...actual.keys()].filter((k) => !expected.has(k))
  const changed = [...expected.entries()].filter(([k, v]) => actual.has(k) && Math.abs(actual.get(k)! - v) > 1e-9 * Math.max(1, Math.abs(v))).map(([k]) => k)
  return { missing, extra, changed }
}

/** One line of the summary table printed at the end of the suite (test/chaos/summary.ts). */
export interface ChaosFigures {
  scenario: string
  rowsLost: number
  duplicates: number
  emailsExpected: number
  emailsSent: number
  note?: string
}

export function recordFigures(figures: ChaosFigures): void {
  appendFileSync(join(inject('chaosSummaryDir'), `${process.pid}.jsonl`), `${JSON.stringify(figures)}\n`)
}

/** Removes every Redis key under a queue prefix (the suite's own), so the shared Redis keeps nothing of it. */
export async function dropKeys(redisUrl: string, prefix: string): Promise<void> {
  // a Redis that is gone keeps nothing
  await removeRedisKeys(`${prefix}:`, redisUrl).catch(() => undefined)
}
