import { readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ClickHouseError, ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client'
import { dataDirError, makeDataDir } from './config.ts'
import { SocialKpiError, connectionProblem, errnoCode } from './errors.ts'

export type { ClickHouseClient }

export interface ClickHouse {
  client: ClickHouseClient
  database: string
  /** `embedded` is chdb inside this process; `server` is a ClickHouse server over HTTP. */
  mode: 'embedded' | 'server'
  /** Runs a SELECT with `{name:Type}` parameters and returns its rows. */
  rows<T>(query: string, params?: Record<string, unknown>): Promise<T[]>
  /** Runs a statement that returns no rows (DDL, OPTIMIZE, ...). */
  command(query: string, params?: Record<string, unknown>): Promise<void>
  /**
   * Runs one analyst's statement read-only (see readOnlyStatement) and returns its output, in
   * `format` unless the statement ends with a FORMAT clause of its own. ClickHouse's refusals and
   * errors come back as one-line SocialKpiErrors (SQL_REFUSED, SQL_FAILED).
   */
  readOnlyText(query: string, options: { format: string; params?: Record<string, unknown> }): Promise<string>
  close(): Promise<void>
}

export interface ClickHouseOptions {
  /** `http(s)://user:pass@host:8123/db`; absent means the embedded engine. */
  url?: string
  /** Overrides the database named in the URL (default `social_kpi`). */
  database?: string
  /** Where the embedded engine keeps its data. */
  dataDir: string
  /** Gives up connecting to the server (a signal came during start-up). */
  signal?: AbortSignal
}

const DEFAULT_DATABASE = 'social_kpi'
const DATABASE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/
/** How long opening a ClickHouse server may take before the start says that nothing answers. */
const SERVER_OPEN_TIMEOUT_MS = 15_000

/**
 * Opens ClickHouse through @clickhouse/client: chdb in-process when no URL is given, the server
 * otherwise. The same SQL runs on both; the database is created when missing. A failure to open
 * is one plain SocialKpiError naming CLICKHOUSE_URL or DATA_DIR; the client's own logging is off
 * (our errors carry what it would print). The engine (chdb, some 150 MB of native code) is loaded
 * here, on first use, so that importing this module for its helpers costs nothing.
 */
export async function openClickHouse(options: ClickHouseOptions): Promise<ClickHouse> {
  const serverUrl = options.url ? new URL(options.url) : undefined
  const fromUrl = serverUrl?.pathname.replace(/^\//, '') || undefined
  const database = options.database ?? fromUrl ?? DEFAULT_DATABASE
  if (!DATABASE_NAME.test(database)) throw new SocialKpiError('CONFIG_INVALID', `invalid ClickHouse database name: ${database}`)

  let client: ClickHouseClient
  /** The session analysts' statements run in: `readonly = 1` for all of it (see readOnlyText). */
  let readOnlySession: () => Promise<{ client: ClickHouseClient; settings: Record<string, string> }>
  let release = () => {}
  if (serverUrl) {
    const connection = {
      url: `${serverUrl.protocol}//${serverUrl.host}`,
      username: decodeURIComponent(serverUrl.username) || 'default',
      password: decodeURIComponent(serverUrl.password),
      request_timeout: 30_000,
      log: { level: ClickHouseLogLevel.OFF },
    }
    const bootstrap = createClient(connection)
    const timeout = AbortSignal.timeout(SERVER_OPEN_TIMEOUT_MS)
    try {
      await bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}`, abort_signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout })
    } catch (cause) {
      options.signal?.throwIfAborted()
      const why = timeout.aborted ? `no answer within ${SERVER_OPEN_TIMEOUT_MS / 1000} s` : unavailable(cause)
      throw new SocialKpiError('CLICKHOUSE_UNAVAILABLE', `CLICKHOUSE_URL (${serverUrl.host}): ${why}`, { cause })
    } finally {
      await bootstrap.close()
    }
    client = createClient({ ...connection, database, clickhouse_settings: { date_time_input_format: 'best_effort' } })
    // On the server a setting can hold for one query: readonly goes with each analyst's statement.
    readOnlySession = async () => ({ client, settings: { readonly: '1' } })
  } else {
    const path = join(options.dataDir, 'clickhouse')
    release = lockDataDir(options.dataDir)
    let chdb: typeof import('chdb/connection')
    try {
      makeDataDir(options.dataDir, 'clickhouse')
      chdb = await import('chdb/connection')
    } catch (cause) {
      release()
      if (cause instanceof SocialKpiError) throw cause
      // ERR_DLOPEN_FAILED, MODULE_NOT_FOUND: no engine for this platform, or a broken install.
      throw new SocialKpiError(
        'CLICKHOUSE_UNAVAILABLE',
        `the embedded ClickHouse (chdb) could not be loaded (${errnoCode(cause) ?? firstLine(cause)}); reinstall (npm ci), or set CLICKHOUSE_URL to use a ClickHouse server`,
        { cause },
      )
    }
    try {
      client = createClient({ connection: chdb.createChdbConnection({ path }), log: { level: ClickHouseLogLevel.OFF } } as Parameters<typeof createClient>[0])
      // chdb ignores the client's `database` option; the session keeps the USE.
      await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` })
      await client.command({ query: `USE ${database}` })
      await client.command({ query: `SET date_time_input_format = 'best_effort'` })
    } catch (cause) {
      release()
      throw new SocialKpiError('CLICKHOUSE_UNAVAILABLE', `DATA_DIR (${options.dataDir}): the embedded ClickHouse could not open ${path}: ${firstLine(cause)}`, { cause })
    }
    // chdb applies per-query settings as SETs on its one session, where they stay. An insert
    // without a deduplication token would then reuse the previous batch's token and be dropped
    // silently, so every insert states its token, empty when it has none.
    const insert = client.insert.bind(client)
    client.insert = ((params: Parameters<typeof insert>[0]) => insert({ ...params, clickhouse_settings: { insert_deduplication_token: '', ...params.clickhouse_settings } })) as typeof client.insert
    // For the same reason `readonly` cannot hold for one query here: it would stay on the session
    // the service writes through. Analysts get a second session on the same engine, read-only for
    // good (readonly = 1 also forbids changing settings, readonly itself included).
    let opening: Promise<ClickHouseClient> | undefined
    readOnlySession = async () => {
      opening ??= (async () => {
        const session = createClient({ connection: chdb.createChdbConnection({ path }), log: { level: ClickHouseLogLevel.OFF } } as Parameters<typeof createClient>[0])
        await session.command({ query: `USE ${database}` })
        await session.command({ query: 'SET readonly = 1' })
        return session
      })()
      opening.catch(() => (opening = undefined))
      return { client: await opening, settings: {} }
    }
    const closeMain = client.close.bind(client)
    client.close = async () => {
      const session = await opening?.catch(() => undefined)
      opening = undefined
      await session?.close()
      await closeMain()
    }
  }

  const checked = new Map<string, string>()
  return {
    client,
    database,
    mode: serverUrl ? 'server' : 'embedded',
    async rows<T>(query: string, params?: Record<string, unknown>) {
      const result = await client.query({ query, query_params: params, format: 'JSONEachRow' })
      return (await result.json()) as T[]
    },
    async command(query: string, params?: Record<string, unknown>) {
      await client.command({ query, query_params: params })
    },
    async readOnlyText(query, { format, params }) {
      const session = await readOnlySession()
      const run = (statement: string, outputFormat: string, values?: Record<string, unknown>) => execText(session.client, statement, { ...session.settings, default_format: outputFormat }, values)
      try {
        let statement = checked.get(query)
        if (statement === undefined) {
          statement = await readOnlyStatement(run, query, params)
          if (checked.size >= 500) checked.clear()
          checked.set(query, statement)
        }
        return await run(statement, format, params)
      } catch (error) {
        if (error instanceof SocialKpiError) throw error
        // A syntax error is found while parsing the text inside our formatQuerySingleLine(...): leave that wrapper out of the message.
        const message = oneLine(error instanceof Error ? error.message : String(error)).replace(/:? In scope SELECT formatQuerySingleLine\(.*$/, '')
        if (clickHouseErrorType(error) === 'READONLY') {
          throw new SocialKpiError('SQL_REFUSED', `sql is read-only (ClickHouse readonly = 1): ${message} Writes go through the commands that own them (e.g. social-kpi silence add).`, {
            cause: error,
          })
        }
        throw new SocialKpiError('SQL_FAILED', message, { cause: error })
      }
    },
    async close() {
      try {
        await client.close()
      } finally {
        release()
      }
    },
  }
}

/**
 * What `readonly = 1` leaves open, checked with ClickHouse's own parser rather than by reading
 * the text: the statement is parsed (formatQuerySingleLine, the text bound as a parameter, so
 * nothing in it runs) and must be exactly one statement; its syntax tree (EXPLAIN AST, which
 * runs nothing) must be a read (SELECT, SHOW, DESCRIBE, EXISTS, EXPLAIN), without INTO OUTFILE
 * and without the scalar file() function. readonly itself refuses DDL, INSERT, ALTER, SET and the
 * table functions that reach outside the database (file, url, s3, remote, mysql, ...). Measured
 * on chdb: readonly does not refuse INTO OUTFILE, the scalar file('/etc/passwd'), KILL QUERY, or a
 * second statement after `;` (which then runs). Returns the statement in ClickHouse's formatting,
 * which is what runs: no gap between what was checked and what runs.
 */
async function readOnlyStatement(run: (statement: string, format: string, params?: Record<string, unknown>) => Promise<string>, query: string, params?: Record<string, unknown>): Promise<string> {
  const [parsed] = jsonLines<{ statement: string }>(await run('SELECT formatQuerySingleLine({text:String}) AS statement', 'JSONEachRow', { text: query }))
  const statement = parsed!.statement
  const tree = jsonLines<{ explain: string }>(await run(`EXPLAIN AST ${statement}`, 'JSONEachRow', params)).map((row) => row.explain)
  const refuse = (why: string) => new SocialKpiError('SQL_REFUSED', `sql is read-only: ${why}`)
  const kind = /^\w+/.exec(tree[0] ?? '')?.[0] ?? ''
  if (!READ_STATEMENTS.test(kind)) throw refuse(`${kind.replace(/Query$/, '') || 'this statement'} is not a read (SELECT, SHOW, DESCRIBE, EXISTS or EXPLAIN)`)
  for (const [index, line] of tree.entries()) {
    const depth = line.length - line.trimStart().length
    const node = line.trimStart()
    // A literal right under a statement (or under EXPLAIN) is its INTO OUTFILE target (or its compression).
    const parent = [...tree.slice(0, index)].reverse().find((above) => above.length - above.trimStart().length === depth - 1)
    if (node.startsWith('Literal ') && parent !== undefined && (depth === 1 || parent.trimStart().startsWith('Explain'))) throw refuse('INTO OUTFILE writes a file; the output is printed here')
    if (/^Function file\b/.test(node)) throw refuse('file() reads the files of the machine ClickHouse runs on')
  }
  return statement
}

const READ_STATEMENTS = /^(SelectWithUnionQuery|SelectIntersectExceptQuery|SelectQuery|Show\w*|Describe\w*|Exists\w*|Explain)$/

async function execText(client: ClickHouseClient, query: string, settings: Record<string, string>, params?: Record<string, unknown>): Promise<string> {
  const result = await client.exec({ query, query_params: params, clickhouse_settings: settings })
  const chunks: Buffer[] = []
  for await (const chunk of result.stream) chunks.push(Buffer.from(chunk as Buffer))
  return Buffer.concat(chunks).toString('utf8')
}

/**
 * ClickHouse's error type (`READONLY`, `SYNTAX_ERROR`, ...) when `error` is a ClickHouseError. chdb
 * loads the CommonJS build of @clickhouse/client-common and we the ES module one, so its errors
 * are instances of a class of the same name, not of ours.
 */
function clickHouseErrorType(error: unknown): string | undefined {
  const isClickHouse = error instanceof ClickHouseError || (error instanceof Error && error.constructor.name === 'ClickHouseError')
  return isClickHouse ? String((error as { type?: unknown }).type ?? '') : undefined
}

const jsonLines = <T>(text: string): T[] =>
  text
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as T)
const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim()
const firstLine = (error: unknown) => oneLine((error instanceof Error ? error.message : String(error)).split('\n').find((line) => line.trim()) ?? 'unknown error')

/**
 * Why a server could not be opened, in plain words: ClickHouse's own refusal (by its error type),
 * the socket's error code, or, with neither, an HTTP answer that is not ClickHouse's.
 */
function unavailable(cause: unknown): string {
  const type = clickHouseErrorType(cause)
  if (type !== undefined && LOGIN_REFUSED.has(type)) return `ClickHouse refused the user or password (${type}); check the user and password in CLICKHOUSE_URL`
  if (type !== undefined) return `ClickHouse refused (${type || 'error'}): ${firstLine(cause)}`
  return connectionProblem(errnoCode(cause)) ?? 'something answers there that is not ClickHouse (is it the HTTP port, 8123 or 8443?)'
}

const LOGIN_REFUSED = new Set(['AUTHENTICATION_FAILED', 'REQUIRED_PASSWORD', 'WRONG_PASSWORD', 'UNKNOWN_USER'])

// ---------------------------------------------------------------------------------------------
// The embedded engine's data directory belongs to one process. chdb refuses a second one itself,
// but only after printing its own message on stderr; this lock says it first, in one line.

const LOCK_FILE = 'clickhouse.lock'
const held = new Map<string, number>()

/** Takes DATA_DIR/clickhouse.lock for this process (again, when it holds it already); returns its release. */
function lockDataDir(dataDir: string): () => void {
  const file = join(dataDir, LOCK_FILE)
  if (!held.has(file)) {
    makeDataDir(dataDir)
    for (let attempt = 0; ; attempt++) {
      try {
        writeFileSync(file, `${process.pid}\n`, { flag: 'wx' })
        break
      } catch (cause) {
        if (errnoCode(cause) !== 'EEXIST') throw dataDirError(dataDir, LOCK_FILE, cause)
      }
      let owner: number | undefined
      try {
        owner = Number(readFileSync(file, 'utf8').trim())
      } catch (cause) {
        if (errnoCode(cause) !== 'ENOENT') throw dataDirError(dataDir, LOCK_FILE, cause)
      }
      if (owner !== undefined && owner !== process.pid && processAlive(owner)) throw dataDirInUse(dataDir, `pid ${owner}`)
      // Taken again each time it was freed: another process is starting on it right now.
      if (attempt >= 2) throw dataDirInUse(dataDir)
      // Left behind by a process that ended without closing (or by this one, before a restart with the same pid).
      try {
        if (owner !== undefined) unlinkSync(file)
      } catch (cause) {
        if (errnoCode(cause) !== 'ENOENT') throw dataDirError(dataDir, LOCK_FILE, cause)
      }
    }
  }
  held.set(file, (held.get(file) ?? 0) + 1)
  let released = false
  return () => {
    if (released) return
    released = true
    const count = (held.get(file) ?? 1) - 1
    if (count > 0) return void held.set(file, count)
    held.delete(file)
    try {
      if (Number(readFileSync(file, 'utf8').trim()) === process.pid) unlinkSync(file)
    } catch {
      // already gone
    }
  }
}

/**
 * The one line for a DATA_DIR another process holds (`holder` names it when known): said the same
 * way whether the lock or the running process's admin endpoint found it.
 */
export function dataDirInUse(dataDir: string, holder?: string): SocialKpiError {
  return new SocialKpiError(
    'DATA_DIR_IN_USE',
    `DATA_DIR (${dataDir}): another social-kpi process${holder ? ` (${holder})` : ''} is running on it and holds its embedded ClickHouse; stop it first or use another DATA_DIR (while start runs, sql, status and silence go through it)`,
  )
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** ClickHouse wants `YYYY-MM-DD hh:mm:ss.sss` for DateTime64 parameters and JSON rows. */
export function toClickHouseTime(date: Date): string {
  return date.toISOString().replace('T', ' ').replace('Z', '')
}

/** Parses a DateTime64 value as returned in JSON (UTC, no zone suffix). */
export function fromClickHouseTime(value: string): Date {
  return new Date(`${value.replace(' ', 'T')}Z`)
}
