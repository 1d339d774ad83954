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
 * other schedules; `alerting` replaces those fields of its `alerting` (channels, routes); `auth`
 * gives accounts (by id) an `auth` in place of their static `tokenEnv`.
 */
export function writePlan(
  dir: string,
  options: {
    accounts?: string[]
    schedule?: string
    evaluateSchedule?: string
    crisisTriggers?: boolean
    alerting?: Record<string, unknown>
    auth?: Record<string, Record<string, unknown>>
  } = {},
): { file: string; plan: Plan } {
  const document = parse(readFileSync('examples/plan.yaml', 'utf8')) as {
    strategy: { networks: Array<{ network: string; accounts: Array<{ id: string; tokenEnv?: string; auth?: Record<string, unknown> }> }> }
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
  for (const account of document.strategy.networks.flatMap((n) => n.accounts)) {
    const auth = options.auth?.[account.id]
    if (!auth) continue
    delete account.tokenEnv
    account.auth = auth
  }
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
  /** The command and its options before `--plan`; default `start`. */
  command?: string[]
}

const running = new Set<ChildProcess>()

/** `node bin/social-kpi.js start --plan FILE` (or another command), with the simulator's environment and a static token per account that names a tokenEnv. */
export function startProcess(options: ProcessOptions): StartedProcess {
  const tokens = Object.fromEntries(
    planAccounts(options.plan)
      .filter((a) => a.tokenEnv)
      .map((a) => [a.tokenEnv, `good-token-${a.id}`]),
  )
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
  const child = spawn(process.execPath, ['bin/social-kpi.js', ...(options.command ?? ['start']), '--plan', options.planFile], { env, stdio: ['ignore', 'pipe', 'pipe'] })
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

/** A read-only query's rows: through a running process's admin endpoint (adminReader), or an engine opened here. */
export type Rows = <T>(query: string, params?: Record<string, unknown>) => Promise<T[]>

/** The running process's data, read as `social-kpi sql` does. */
export const adminReader =
  (dataDir: string): Rows =>
  (query, params) =>
    adminRows(dataDir, query, params)

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

/** A series' value on the running process's GET /metrics (its admin endpoint); undefined when it has none. */
export async function adminMetric(dataDir: string, series: string): Promise<number | undefined> {
  const endpoint = await findAdminServer(dataDir)
  if (!endpoint) throw new Error(`no running social-kpi answers for ${dataDir}`)
  const answer = await fetch(`http://127.0.0.1:${endpoint.port}/metrics`, { headers: { authorization: `Bearer ${endpoint.secret}` }, signal: AbortSignal.timeout(5_000) })
  if (!answer.ok) throw new Error(`GET /metrics answered ${answer.status}`)
  const line = (await answer.text()).split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

/** A process's peak resident memory (VmHWM in /proc/<pid>/status), in MiB; undefined once it has ended. */
export function peakRssMiB(pid: number): number | undefined {
  try {
    const kib = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    return kib === undefined ? undefined : Math.round(Number(kib) / 1024)
  } catch {
    return undefined
  }
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

/**
 * How each ReplacingMergeTree table is written (infra/clickhouse/migrations), for rawVersusFinal.
 * `fact`: a key names one fact, so a row written again (a re-delivered batch, a job run again after
 * a kill) must carry the same values; only its version and written_at may differ. (Observations
 * are facts here because the chaos bed's simulators stand still: a re-read gets the same answer.)
 * `state`: a key's row is replaced by design and the newest version wins: a status, a delivery's
 * progress, a verdict re-judged as late data arrives, and an evaluation or a round run again (a
 * retried job, a round Redis lost) with what is known then (migrations 0003 and 0025). A table
 * missing here stops the check, naming it: a new table is classified when it is added.
 */
export const TABLE_KINDS: Readonly<Record<string, 'fact' | 'state'>> = {
  observations: 'fact',
  // what an account's API says of it (its currency): each round reads it again, the same answer
  account_facts: 'fact',
  alerts: 'fact',
  period_reviews: 'fact',
  plan_objective_versions: 'fact',
  plan_kpi_versions: 'fact',
  plan_account_versions: 'fact',
  plan_situation_versions: 'fact',
  schema_migrations: 'fact',
  kpi_evaluations: 'state',
  collection_rounds: 'state',
  kpi_verdicts: 'state',
  source_health: 'state',
  alert_state: 'state',
  alert_notifications: 'state',
  alert_decisions: 'state',
  silences: 'state',
  plans: 'state',
}

/** One table's raw rows (without FINAL) against what FINAL shows, key by key. */
export interface TableCheck {
  table: string
  kind: 'fact' | 'state'
  rawRows: number
  finalRows: number
  keys: number
  /** Keys of raw rows that FINAL does not show at all (e.g. dropped by an is_deleted column). */
  keysMissing: number
  /** Rows FINAL shows beyond one per key, plus keys whose FINAL row is not of the newest version (e.g. a key split over partitions). */
  notNewest: number
  /** Raw rows whose values (all but the version and written_at) differ from their key's FINAL row. */
  differing: number
  /** Up to three of those rows (key, raw row, FINAL's row), when there are any: what to look at first. */
  examples: string[]
}

export interface RawVersusFinal {
  tables: TableCheck[]
  /**
   * What FINAL hides or gets wrong: keys missing, keys not at their newest version, and in `fact`
   * tables the rows written again with other values (duplicates a reader of FINAL never sees).
   */
  inconsistencies: number
  /** Rows beyond one per key that repeat their key's values: what idempotent re-writes look like. */
  sameValueRewrites: number
  /** Rows of `state` tables replaced by a newer one with other values, as designed. */
  updates: number
}

/**
 * Compares every ReplacingMergeTree table's raw rows with FINAL: every raw key is in FINAL, FINAL
 * holds one row per key and it is the newest version, and (in `fact` tables) no row of a key
 * differs from the one FINAL shows. What users read is FINAL; this shows what FINAL would hide.
 */
export async function rawVersusFinal(rows: Rows, kinds: Readonly<Record<string, 'fact' | 'state'>> = TABLE_KINDS): Promise<RawVersusFinal> {
  const tables = await rows<{ name: string; engine_full: string; sorting_key: string }>(
    "SELECT name, engine_full, sorting_key FROM system.tables WHERE database = currentDatabase() AND engine = 'ReplacingMergeTree' ORDER BY name",
  )
  const unknown = tables.map((t) => t.name).filter((name) => !kinds[name])
  if (unknown.length > 0) throw new Error(`rawVersusFinal: ReplacingMergeTree tables not in TABLE_KINDS (test/chaos/bed.ts): ${unknown.join(', ')}; say whether each is a fact or a state`)
  const checks: TableCheck[] = []
  for (const { name, engine_full, sorting_key } of tables) {
    const [version = ''] = (/^ReplacingMergeTree\(([^)]*)\)/.exec(engine_full)?.[1] ?? '').split(',').map((a) => a.trim())
    const columns = await rows<{ name: string }>('SELECT name FROM system.columns WHERE database = currentDatabase() AND table = {table:String} ORDER BY position', { table: name })
    const body = columns.map((c) => c.name).filter((c) => c !== version && c !== 'written_at')
    const quote = (identifier: string) => `\`${identifier.replace(/`/g, '\\`')}\``
    const select = (final: string) =>
      `SELECT tuple(${sorting_key}) AS _key, toString(tuple(${body.map(quote).join(', ')})) AS _body, ${version ? quote(version) : '0'} AS _version FROM ${quote(name)}${final}`
    const [found] = await rows<Record<'raw_rows' | 'final_rows' | 'keys' | 'keys_missing' | 'final_extra' | 'not_newest' | 'differing', string>>(
      `WITH raw AS (${select('')}), fin AS (${select(' FINAL')})
       SELECT (SELECT count() FROM raw) AS raw_rows, (SELECT count() FROM fin) AS final_rows, (SELECT uniqExact(_key) FROM raw) AS keys,
         (SELECT count() FROM (SELECT DISTINCT _key FROM raw) WHERE _key NOT IN (SELECT _key FROM fin)) AS keys_missing,
         (SELECT count() - uniqExact(_key) FROM fin) AS final_extra,
         (SELECT count() FROM (SELECT _key, max(_version) AS newest FROM raw GROUP BY _key) AS r INNER JOIN fin AS f ON r._key = f._key WHERE f._version != r.newest) AS not_newest,
         (SELECT count() FROM raw AS r INNER JOIN fin AS f ON r._key = f._key WHERE r._body != f._body) AS differing`,
    )
    const n = (field: keyof NonNullable<typeof found>) => Number(found![field])
    const examples =
      n('differing') > 0
        ? (
            await rows<{ key: string; raw: string; final: string }>(
              `WITH raw AS (${select('')}), fin AS (${select(' FINAL')})
               SELECT toString(r._key) AS key, r._body AS raw, f._body AS final FROM raw AS r INNER JOIN fin AS f ON r._key = f._key WHERE r._body != f._body ORDER BY key LIMIT 3`,
            )
          ).map((e) => `${e.key}: ${e.raw} (FINAL: ${e.final})`)
        : []
    checks.push({
      table: name,
      kind: kinds[name]!,
      rawRows: n('raw_rows'),
      finalRows: n('final_rows'),
      keys: n('keys'),
      keysMissing: n('keys_missing'),
      notNewest: n('final_extra') + n('not_newest'),
      differing: n('differing'),
      examples,
    })
  }
  const sum = (of: (c: TableCheck) => number) => checks.reduce((total, c) => total + of(c), 0)
  return {
    tables: checks,
    inconsistencies: sum((c) => c.keysMissing + c.notNewest + (c.kind === 'fact' ? c.differing : 0)),
    sameValueRewrites: sum((c) => Math.max(0, c.rawRows - c.keys - c.differing)),
    updates: sum((c) => (c.kind === 'state' ? c.differing : 0)),
  }
}

/** The tables where rawVersusFinal found something, one line each, for an assertion's message. */
export function describeInconsistencies(result: RawVersusFinal): string[] {
  return result.tables
    .filter((c) => c.keysMissing + c.notNewest + (c.kind === 'fact' ? c.differing : 0) > 0)
    .map(
      (c) =>
        `${c.table} (${c.kind}): ${c.rawRows} raw rows, ${c.finalRows} under FINAL; ${c.keysMissing} keys missing, ${c.notNewest} not at the newest version, ${c.differing} rows differing from FINAL's${c.examples.length ? `, e.g. ${c.examples.join('; ')}` : ''}`,
    )
}

/** One line of the summary table printed at the end of the suite (test/chaos/summary.ts). */
export interface ChaosFigures {
  scenario: string
  rowsLost: number
  duplicates: number
  /** rawVersusFinal's inconsistencies at the end of the scenario: what FINAL hides (0 when raw and FINAL agree). */
  rawVersusFinal: number
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
