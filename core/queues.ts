import { Queue, UnrecoverableError, type ConnectionOptions, type JobsOptions } from 'bullmq'
import { z } from 'zod'
import { issuePath } from './errors.ts'
import { NETWORKS } from './metrics.ts'

const isoTime = z.iso.datetime({ offset: true })

const chartPoint = z.tuple([z.number(), z.number()])
/**
 * The numbers behind a KPI email's chart (times in epoch ms), rendered to PNG when the email is
 * sent (alerts/chart.ts), so the payload stays small and free of binary data.
 */
const kpiChartSchema = z.object({
  title: z.string(),
  timezone: z.string(),
  start: z.number(),
  end: z.number(),
  at: z.number(),
  target: z.number(),
  comparator: z.enum(['at_least', 'at_most']),
  /** The pace line: expected value over the period. */
  pace: z.array(chartPoint).max(400),
  /** The KPI's actual value at daily steps. */
  actual: z.array(chartPoint).max(400),
  forecast: z.object({ from: z.number(), current: z.number(), end: z.number(), low: z.number(), high: z.number() }).nullable(),
  /** The language of its legend and dates (company.language); absent in charts decided before it existed (English). */
  language: z.string().optional(),
  /** A rate's axis reads in percent; absent: plain numbers. */
  percent: z.boolean().optional(),
})
export type KpiChart = z.infer<typeof kpiChartSchema>

/**
 * The numbers behind one objective's chart in a period review (alerts/review-chart.ts): each KPI's
 * progress towards its target (1 = the target) at daily steps, against the pace line; the words
 * are the review's language.
 */
const reviewChartSchema = z.object({
  title: z.string(),
  timezone: z.string(),
  locale: z.string(),
  start: z.number(),
  end: z.number(),
  /** The pace line: the share of the target expected over the period. */
  pace: z.array(chartPoint).max(400),
  series: z.array(z.object({ name: z.string(), points: z.array(chartPoint).max(400) })).max(12),
  legend: z.object({ pace: z.string(), target: z.string() }),
})
export type ReviewChart = z.infer<typeof reviewChartSchema>

/**
 * The facts of one alert transition, version 1: what Slack and webhook channels render from at
 * send time, and the body of a webhook (docs/alerting.md, "The webhook's JSON"). Plain data only:
 * no secret, no rendering. Times are ISO strings.
 */
const alertFactsSchema = z.object({
  version: z.literal(1),
  kind: z.enum(['kpi', 'crisis']),
  key: z.string().min(1),
  event: z.enum(['firing', 'repeat', 'resolved']),
  /** The alert's state before and after the transition (ok, pending, firing). */
  transition: z.object({ from: z.string(), to: z.string() }),
  /** A KPI's status (at_risk, missed, on_track, achieved) or a crisis's accounts; for a resolved alert, what fired. */
  label: z.string(),
  severity: z.enum(['warning', 'critical']).nullable(),
  /** One line, as an email subject would say it, without the `[social-kpi]` tag. */
  title: z.string(),
  /** A few plain sentences: the forecast in words, or the crisis finding. */
  summary: z.string(),
  company: z.string(),
  timezone: z.string(),
  /** The language of title, summary and actions (company.language: en, id); absent in facts decided before it existed (English). */
  language: z.string().optional(),
  kpi: z
    .object({
      id: z.string(),
      name: z.string(),
      network: z.string(),
      metric: z.string(),
      kind: z.string(),
      comparator: z.enum(['at_least', 'at_most']),
      status: z.string(),
      actual: z.number().nullable(),
      target: z.number(),
      expectedToDate: z.number().nullable(),
      attainment: z.number().nullable(),
      forecast: z.object({ end: z.number(), low: z.number(), high: z.number() }).nullable(),
      /** Why there is no verdict (status `unknown`; kpi/statuses.ts STATUS_REASONS), else null; absent in facts decided before it existed. */
      statusReason: z.string().nullable().optional(),
      /** The accounts whose data is missing or stale, for reasons `incomplete` and `data_problem`. */
      missingAccounts: z.array(z.string()).optional(),
      /** For reason `data_problem`: what is wrong (kpi/statuses.ts DATA_PROBLEMS) and its numbers; absent otherwise and in older facts. */
      dataProblem: z.object({ cause: z.string(), facts: z.record(z.string(), z.string()) }).optional(),
      /** How its numbers are shown (percent, ratio, count, currency: plan/units.ts), and the currency of money (ISO 4217); absent in older facts. */
      unit: z.string().optional(),
      currency: z.string().optional(),
    })
    .optional(),
  objective: z.object({ id: z.string(), name: z.string() }).optional(),
  period: z.object({ label: z.string(), start: isoTime, end: isoTime }).optional(),
  crisis: z.object({ trigger: z.string(), reason: z.string(), accounts: z.array(z.object({ id: z.string(), name: z.string(), network: z.string() })) }).optional(),
  /** What the plan says to do (empty on a resolved notice). */
  actions: z.array(z.string()),
  /** When the condition first held, and when this transition was decided. */
  since: isoTime,
  decidedAt: isoTime,
  link: z.string().optional(),
})
export type AlertFacts = z.infer<typeof alertFactsSchema>

/** Every queue, its payload schema and its job defaults, in one registry. */
export const QUEUES = {
  collect: {
    name: 'collect',
    payload: z.object({
      roundAt: isoTime,
      network: z.enum(NETWORKS),
      accountId: z.string().min(1),
      /** Present for a backfill chunk: the days to read from the API's history. */
      window: z.object({ from: z.iso.date(), to: z.iso.date() }).optional(),
    }),
  },
  evaluate: {
    name: 'evaluate',
    payload: z.object({ at: isoTime, reason: z.enum(['round', 'schedule', 'manual']) }),
  },
  notify: {
    name: 'notify',
    payload: z
      .object({
        notificationId: z.string().min(1),
        alertKey: z.string().min(1),
        /** An alert's transition, or `review`: a period review (alerts/reviews.ts). */
        event: z.enum(['firing', 'repeat', 'resolved', 'review']),
        decidedAt: isoTime,
        /** The channel target: a name from the plan's `alerting.channels`; absent: email to `to`. */
        channel: z.string().min(1).optional(),
        /** Email recipients; empty for another channel. */
        to: z.array(z.string()),
        /** For email the subject; for another channel the facts' title (what records and `status` show). */
        subject: z.string(),
        /** What a Slack or webhook channel renders from; email carries its rendered text and HTML. */
        facts: alertFactsSchema.optional(),
        text: z.string(),
        html: z.string(),
        /** For a KPI email: the chart, referenced from the HTML as `cid:` + CHART_CID. */
        chart: kpiChartSchema.optional(),
        /** For a period review: one chart per objective, each referenced from the HTML as `cid:` + its cid. */
        charts: z
          .array(z.object({ cid: z.string().min(1), chart: reviewChartSchema }))
          .max(20)
          .optional(),
        /** Text attachments (a review's CSV), kept small: the payload is stored until the email is sent. */
        attachments: z
          .array(z.object({ filename: z.string().min(1), contentType: z.string().min(1), content: z.string().max(500_000) }))
          .max(5)
          .optional(),
      })
      .superRefine((payload, ctx) => {
        if (payload.channel === undefined && payload.to.length === 0) ctx.addIssue({ code: 'custom', path: ['to'], message: 'an email needs at least one recipient' })
        if (payload.channel !== undefined && !payload.facts) ctx.addIssue({ code: 'custom', path: ['facts'], message: `channel "${payload.channel}" needs the alert facts` })
      }),
  },
} as const

export type QueueKey = keyof typeof QUEUES
export type Payload<K extends QueueKey> = z.infer<(typeof QUEUES)[K]['payload']>

/**
 * Completed jobs are kept for a week so that their deterministic ids keep deduplicating a
 * repeated tick or a second scheduler; failures are kept longer for inspection.
 */
export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 5_000 },
  removeOnComplete: { age: 7 * 24 * 3600, count: 50_000 },
  removeOnFail: { age: 30 * 24 * 3600 },
}

/**
 * A notification email: retried over about 20 minutes (10 s doubling, 8 tries); one whose tries
 * run out is recorded as undelivered and sent again at the next evaluation (alerts/redelivery.ts).
 */
export const NOTIFY_JOB_OPTIONS: JobsOptions = { attempts: 8, backoff: { type: 'exponential', delay: 10_000 } }

/** Validates a job's data; an invalid payload is never retried. */
export function parsePayload<K extends QueueKey>(key: K, data: unknown): Payload<K> {
  const result = QUEUES[key].payload.safeParse(data)
  if (result.success) return result.data as Payload<K>
  const detail = result.error.issues.map((issue) => `${issuePath(issue.path) || '(payload)'}: ${issue.message}`).join('; ')
  throw new UnrecoverableError(`invalid ${key} job payload: ${detail}`)
}

/** Job ids may not contain ':'; times are written compactly (20261126T0715). */
export function timeStamp(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')
}

export const jobIds = {
  collect: (network: string, accountId: string, roundAt: Date) => `collect-${network}-${accountId}-${timeStamp(roundAt)}`,
  evaluate: (reason: string, at: Date) => `evaluate-${reason}-${timeStamp(at)}`,
  backfill: (network: string, accountId: string, from: string, to: string) => `backfill-${network}-${accountId}-${from}-${to}`,
}

export interface Queues {
  collect: Queue
  evaluate: Queue
  notify: Queue
  close(): Promise<void>
}

export function createQueues(connection: ConnectionOptions, prefix: string): Queues {
  const options = { connection, prefix, defaultJobOptions: DEFAULT_JOB_OPTIONS }
  const queues = {
    collect: new Queue(QUEUES.collect.name, options),
    evaluate: new Queue(QUEUES.evaluate.name, options),
    notify: new Queue(QUEUES.notify.name, options),
  }
  return {
    ...queues,
    async close() {
      await Promise.all([queues.collect.close(), queues.evaluate.close(), queues.notify.close()])
    },
  }
}
