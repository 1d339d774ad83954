import { createHash } from 'node:crypto'
import { ClickHouseError } from '@clickhouse/client'
import type { ClickHouse } from './clickhouse.ts'
import { SocialKpiError } from './errors.ts'
import type { Logger } from './logger.ts'
import type { WriterObserver } from './telemetry.ts'

export interface BatchingWriterOptions {
  ch: ClickHouse
  table: string
  /** Flush when this many rows wait. */
  maxRows: number
  /** Flush at the latest this long after the first row arrived. */
  flushIntervalMs: number
  /** Insert attempts per batch before its writers are told it failed. */
  maxAttempts?: number
  logger: Logger
  /** Counts stored and failed rows (Prometheus); none when absent. */
  observer?: WriterObserver
  sleep?: (ms: number) => Promise<void>
}

interface Pending<Row> {
  rows: Row[]
  resolve: () => void
  reject: (error: unknown) => void
}

/** Errors that a later attempt may not hit: overload, timeouts, replicas and Keeper away. */
const RETRYABLE_CLICKHOUSE_CODES = new Set(['159', '164', '202', '203', '209', '210', '241', '242', '252', '285', '319', '425', '999'])

/**
 * The one way rows reach ClickHouse: rows are batched (flush on size or time, never two flushes at
 * once, at most one batch per flush interval while rows trickle), each batch carries an idempotency token derived from its content (a re-sent batch is
 * dropped by ClickHouse), failed inserts retry a bounded number of times, and `write` resolves
 * only once its rows are stored — so a job that completes never loses what it wrote.
 */
export class BatchingWriter<Row extends object> {
  readonly #options: Required<Omit<BatchingWriterOptions, 'sleep' | 'observer'>> & Pick<BatchingWriterOptions, 'sleep' | 'observer'>
  #queue: Pending<Row>[] = []
  #queuedRows = 0
  #timer: NodeJS.Timeout | undefined
  /** Set while a batch went out less than a flush interval ago: rows arriving then wait for the timer. */
  #recentBatch: NodeJS.Timeout | undefined
  #flushing: Promise<void> | undefined
  #closed = false
  #rowsWritten = 0
  #flushingRows = 0

  constructor(options: BatchingWriterOptions) {
    this.#options = { maxAttempts: 5, ...options }
  }

  get rowsWritten(): number {
    return this.#rowsWritten
  }

  /** Rows waiting for a flush (those of a flush under way included). */
  get pendingRows(): number {
    return this.#queuedRows + this.#flushingRows
  }

  get table(): string {
    return this.#options.table
  }

  /**
   * Queues rows; resolves when they are stored, rejects when their batch finally failed.
   * `flushNow` sends the batch at once, for rows that the next step reads back.
   */
  write(rows: Row[], options: { flushNow?: boolean } = {}): Promise<void> {
    if (this.#closed) return Promise.reject(new SocialKpiError('CLICKHOUSE_WRITE_FAILED', `writer for ${this.#options.table} is closed`))
    if (rows.length === 0) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ rows, resolve, reject })
      this.#queuedRows += rows.length
      // While a flush runs, rows wait for it to finish: it sends what gathered meanwhile at once.
      if ((options.flushNow || this.#queuedRows >= this.#options.maxRows) && !this.#flushing) void this.flush()
      // After a quiet interval the first rows go out at the next turn of the event loop (rows
      // written in the same turn join them), rather than waiting a whole interval for company.
      else this.#timer ??= setTimeout(() => void this.flush(), this.#recentBatch || this.#flushing ? this.#options.flushIntervalMs : 0)
    })
  }

  /** Stores everything queued so far. Concurrent calls share the running flush. */
  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing
    if (this.#queue.length === 0) return
    clearTimeout(this.#timer)
    this.#timer = undefined
    const batch = this.#queue
    this.#queue = []
    this.#queuedRows = 0
    clearTimeout(this.#recentBatch)
    this.#recentBatch = setTimeout(() => {
      this.#recentBatch = undefined
    }, this.#options.flushIntervalMs)
    this.#recentBatch.unref()
    this.#flushing = this.#insertBatch(batch).finally(() => {
      this.#flushing = undefined
    })
    await this.#flushing
    // Group commit: rows that arrived during an insert have waited as long as it took, so they go
    // out now as the next batch. Under load, batches grow with the insert's own latency (each
    // insert carries a fixed cost, materialized views included) and the writer never sits idle on
    // the timer while jobs wait for their rows; when rows trickle, inserts stay one per interval.
    // First one turn of the event loop, so that the writers this insert released queue their next
    // rows into this batch rather than a small one after it.
    await new Promise((resolve) => setImmediate(resolve))
    if (this.#queue.length > 0) await this.flush()
  }

  /** Flushes and refuses further writes. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return
    await this.flush()
    this.#closed = true
    clearTimeout(this.#recentBatch)
  }

  async #insertBatch(batch: Pending<Row>[]): Promise<void> {
    const rows = batch.flatMap((pending) => pending.rows)
    this.#flushingRows = rows.length
    let stored = 0
    try {
      for (let offset = 0; offset < rows.length; offset += this.#options.maxRows) {
        const chunk = rows.slice(offset, offset + this.#options.maxRows)
        await this.#insertWithRetry(chunk)
        stored += chunk.length
        this.#options.observer?.written(this.#options.table, chunk.length)
      }
      this.#rowsWritten += rows.length
      for (const pending of batch) pending.resolve()
    } catch (error) {
      this.#options.observer?.failed(this.#options.table, rows.length - stored)
      for (const pending of batch) pending.reject(error)
    } finally {
      this.#flushingRows = 0
    }
  }

  async #insertWithRetry(rows: Row[]): Promise<void> {
    const { ch, table, maxAttempts, logger } = this.#options
    const token = createHash('sha256').update(table).update(JSON.stringify(rows)).digest('hex')
    for (let attempt = 1; ; attempt++) {
      try {
        await ch.client.insert({ table, values: rows, format: 'JSONEachRow', clickhouse_settings: { insert_deduplication_token: token } })
        return
      } catch (cause) {
        const retryable = isRetryable(cause)
        if (!retryable || attempt >= maxAttempts) {
          throw new SocialKpiError('CLICKHOUSE_WRITE_FAILED', `insert of ${rows.length} rows into ${table} failed${retryable ? ` after ${attempt} attempts` : ''}`, { cause })
        }
        const delay = Math.min(10_000, 200 * 2 ** attempt) * (0.5 + Math.random() / 2)
        logger.warn({ err: cause, table, attempt, delayMs: Math.round(delay) }, 'insert failed, retrying')
        await (this.#options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms))))(delay)
      }
    }
  }
}

function isRetryable(error: unknown): boolean {
  if (error instanceof ClickHouseError) return RETRYABLE_CLICKHOUSE_CODES.has(String(error.code))
  // Not a ClickHouse answer at all: the connection failed (reset, refused, timed out).
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  return typeof code === 'string' && ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'UND_ERR_SOCKET'].includes(code)
}
