import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { createClient, type ClickHouseClient } from '@clickhouse/client'
import { createChdbConnection } from 'chdb/connection'

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
  close(): Promise<void>
}

export interface ClickHouseOptions {
  /** `http(s)://user:pass@host:8123/db`; absent means the embedded engine. */
  url?: string
  /** Overrides the database named in the URL (default `social_kpi`). */
  database?: string
  /** Where the embedded engine keeps its data. */
  dataDir: string
}

const DEFAULT_DATABASE = 'social_kpi'
const DATABASE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * Opens ClickHouse through @clickhouse/client: chdb in-process when no URL is given, the server
 * otherwise. The same SQL runs on both; the database is created when missing.
 */
export async function openClickHouse(options: ClickHouseOptions): Promise<ClickHouse> {
  const serverUrl = options.url ? new URL(options.url) : undefined
  const fromUrl = serverUrl?.pathname.replace(/^\//, '') || undefined
  const database = options.database ?? fromUrl ?? DEFAULT_DATABASE
  if (!DATABASE_NAME.test(database)) throw new Error(`invalid ClickHouse database name: ${database}`)

  let client: ClickHouseClient
  if (serverUrl) {
    const bootstrap = createClient({
      url: `${serverUrl.protocol}//${serverUrl.host}`,
      username: decodeURIComponent(serverUrl.username) || 'default',
      password: decodeURIComponent(serverUrl.password),
      request_timeout: 30_000,
    })
    try {
      await bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` })
    } finally {
      await bootstrap.close()
    }
    client = createClient({
      url: `${serverUrl.protocol}//${serverUrl.host}`,
      username: decodeURIComponent(serverUrl.username) || 'default',
      password: decodeURIComponent(serverUrl.password),
      database,
      request_timeout: 30_000,
      clickhouse_settings: { date_time_input_format: 'best_effort' },
    })
  } else {
    const path = join(options.dataDir, 'clickhouse')
    mkdirSync(path, { recursive: true })
    client = createClient({ connection: createChdbConnection({ path }) } as Parameters<typeof createClient>[0])
    // chdb ignores the client's `database` option; the session keeps the USE.
    await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` })
    await client.command({ query: `USE ${database}` })
    await client.command({ query: `SET date_time_input_format = 'best_effort'` })
    // chdb applies per-query settings as SETs on its one session, where they stay. An insert
    // without a deduplication token would then reuse the previous batch's token and be dropped
    // silently, so every insert states its token, empty when it has none.
    const insert = client.insert.bind(client)
    client.insert = ((params: Parameters<typeof insert>[0]) =>
      insert({ ...params, clickhouse_settings: { insert_deduplication_token: '', ...params.clickhouse_settings } })) as typeof client.insert
  }

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
    async close() {
      await client.close()
    },
  }
}

/** ClickHouse wants `YYYY-MM-DD hh:mm:ss.sss` for DateTime64 parameters and JSON rows. */
export function toClickHouseTime(date: Date): string {
  return date.toISOString().replace('T', ' ').replace('Z', '')
}

/** Parses a DateTime64 value as returned in JSON (UTC, no zone suffix). */
export function fromClickHouseTime(value: string): Date {
  return new Date(value.replace(' ', 'T') + 'Z')
}
