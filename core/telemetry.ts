import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client'

/**
 * The process's Prometheus series (docs/operations.md lists them). One Registry is made in the
 * composition root and passed in; nothing here registers on prom-client's global default
 * registry. Labels hold a network, a queue, a table or an outcome: never an account, a token or
 * anything a request carried.
 */

/** How one HTTP request to a network's API ended (ingest/http.ts). */
export type ApiOutcome = 'ok' | 'throttled' | 'token_refused' | 'error' | 'permanent_error' | 'invalid_answer' | 'no_answer'

/** Told of every request an API caller sends (each attempt counts). */
export interface ApiObserver {
  request(network: string, outcome: ApiOutcome, seconds: number): void
}

/** Told of every batch the ClickHouse writer stored or finally failed to store. */
export interface WriterObserver {
  written(table: string, rows: number): void
  failed(table: string, rows: number): void
}

/** How a notification job ended: sent, already sent before (a re-delivered job), refused for good, retried later, out of tries. */
export type NotificationOutcome = 'sent' | 'already_sent' | 'refused' | 'retrying' | 'undelivered'

/** The states BullMQ counts per queue, read at scrape time. */
const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'] as const

export interface QueueLike {
  name: string
  getJobCounts(...states: string[]): Promise<Record<string, number>>
}

export interface Telemetry {
  registry: Registry
  api: ApiObserver
  writer: WriterObserver
  /** A collection round ended with its evaluation: seconds from being enqueued. */
  roundFinished(seconds: number): void
  /** A round was evaluated, when all its jobs had ended or at its deadline with `pending` accounts left. */
  roundEvaluated(pending: number): void
  evaluationFinished(seconds: number, outcome: 'ok' | 'failed'): void
  jobFinished(queue: string, outcome: 'completed' | 'failed'): void
  notification(outcome: NotificationOutcome, channel: string): void
  /** Queue depth is read from Redis when Prometheus scrapes, not counted along the way. */
  watchQueues(queues: QueueLike[]): void
  /** Rows waiting in the writers, read when Prometheus scrapes. */
  watchWriters(pending: () => { table: string; rows: number }[]): void
  /** Accounts whose collection is held back by a throttle (one job each), read when Prometheus scrapes. */
  watchHeldBack(count: () => Promise<number>): void
}

const API_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
const ROUND_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600]
const EVALUATION_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]

/** A scrape must answer while Redis is away (BullMQ waits for a connection): its reads give up after this. */
const SCRAPE_READ_MS = 2_000

/** `promise`, or a rejection after `ms`: for the reads of a scrape or a readiness probe. */
export function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
  })
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}

/** A channel name as a label value: a short word, else `other` (labels must stay few). */
const channelLabel = (channel: string) => (/^[A-Za-z0-9][\w.-]{0,39}$/.test(channel) ? channel : 'other')

export function createTelemetry(registry: Registry, options: { onScrapeError?: (err: unknown) => void } = {}): Telemetry {
  const registers = [registry]
  collectDefaultMetrics({ register: registry, prefix: 'social_kpi_' })

  const apiRequests = new Counter({
    name: 'social_kpi_api_requests_total',
    help: "HTTP requests to the networks' APIs, every attempt, by how they ended",
    labelNames: ['network', 'outcome'],
    registers,
  })
  const apiDuration = new Histogram({
    name: 'social_kpi_api_request_duration_seconds',
    help: "Time to an API's answer (or to giving up on it), per request",
    labelNames: ['network'],
    buckets: API_BUCKETS,
    registers,
  })
  const rowsWritten = new Counter({
    name: 'social_kpi_rows_written_total',
    help: 'Rows the batching writer inserted into ClickHouse (a re-sent batch ClickHouse drops as a repeat counts again)',
    labelNames: ['table'],
    registers,
  })
  const rowsFailed = new Counter({
    name: 'social_kpi_rows_failed_total',
    help: 'Rows whose batch the writer finally failed to store (their jobs fail and are retried)',
    labelNames: ['table'],
    registers,
  })
  const roundDuration = new Histogram({ name: 'social_kpi_round_duration_seconds', help: 'A collection round, from being enqueued to the end of its evaluation', buckets: ROUND_BUCKETS, registers })
  const evaluationDuration = new Histogram({
    name: 'social_kpi_evaluation_duration_seconds',
    help: 'One evaluate job: every KPI and crisis trigger judged, stored, alerts decided',
    labelNames: ['outcome'],
    buckets: EVALUATION_BUCKETS,
    registers,
  })
  const jobs = new Counter({
    name: 'social_kpi_jobs_total',
    help: 'Jobs this process finished, by queue and outcome (failed includes attempts that are retried)',
    labelNames: ['queue', 'outcome'],
    registers,
  })
  const notifications = new Counter({ name: 'social_kpi_notifications_total', help: 'Notification jobs by how they ended', labelNames: ['channel', 'outcome'], registers })
  const roundsEvaluated = new Counter({
    name: 'social_kpi_rounds_evaluated_total',
    help: 'Collection rounds evaluated, by what came first: every account done (all_ended) or the round deadline (deadline)',
    labelNames: ['evaluated_by'],
    registers,
  })
  const roundPending = new Gauge({ name: 'social_kpi_round_pending_accounts', help: 'Accounts still pending when the newest round was evaluated', registers })
  let heldBack: () => Promise<number> = async () => 0
  new Gauge({
    name: 'social_kpi_collect_held_back_accounts',
    help: 'Accounts whose collection is held back by a throttle: one pending job each, which later rounds wait for',
    registers,
    async collect() {
      const count = await within(SCRAPE_READ_MS, heldBack()).catch((err: unknown) => {
        options.onScrapeError?.(err)
        return undefined
      })
      if (count !== undefined) this.set(count)
    },
  })

  let queues: QueueLike[] = []
  let pending: () => { table: string; rows: number }[] = () => []
  new Gauge({
    name: 'social_kpi_queue_jobs',
    help: 'Jobs in each queue by state, read from Redis at scrape time',
    labelNames: ['queue', 'state'],
    registers,
    async collect() {
      this.reset()
      // Redis away: the series are left out of this scrape (and readyz says why), the rest still answers.
      const counts = await Promise.all(
        queues.map((queue) =>
          within(SCRAPE_READ_MS, queue.getJobCounts(...QUEUE_STATES)).catch((err: unknown) => {
            options.onScrapeError?.(err)
            return undefined
          }),
        ),
      )
      queues.forEach((queue, i) => {
        for (const state of QUEUE_STATES) if (counts[i]) this.set({ queue: queue.name, state }, counts[i]![state] ?? 0)
      })
    },
  })
  new Gauge({
    name: 'social_kpi_writer_pending_rows',
    help: 'Rows waiting in the batching writer for their flush',
    labelNames: ['table'],
    registers,
    collect() {
      this.reset()
      for (const { table, rows } of pending()) this.set({ table }, rows)
    },
  })

  return {
    registry,
    api: {
      request(network, outcome, seconds) {
        apiRequests.inc({ network, outcome })
        apiDuration.observe({ network }, seconds)
      },
    },
    writer: {
      written: (table, rows) => rowsWritten.inc({ table }, rows),
      failed: (table, rows) => rowsFailed.inc({ table }, rows),
    },
    roundFinished: (seconds) => roundDuration.observe(Math.max(0, seconds)),
    roundEvaluated(pending) {
      roundsEvaluated.inc({ evaluated_by: pending > 0 ? 'deadline' : 'all_ended' })
      roundPending.set(pending)
    },
    evaluationFinished: (seconds, outcome) => evaluationDuration.observe({ outcome }, seconds),
    jobFinished: (queue, outcome) => jobs.inc({ queue, outcome }),
    notification: (outcome, channel) => notifications.inc({ channel: channelLabel(channel), outcome }),
    watchQueues(list) {
      queues = list
    },
    watchWriters(source) {
      pending = source
    },
    watchHeldBack(count) {
      heldBack = count
    },
  }
}
