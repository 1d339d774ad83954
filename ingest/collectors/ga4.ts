import type { AxiosResponse } from 'axios'
import { DateTime, IANAZone } from 'luxon'
import { z } from 'zod'
import { ApiRateLimitError } from '../../core/errors.ts'
import type { Speaker } from '../../core/i18n/index.ts'
import { ga4Segment, type Ga4Settings } from '../../core/networks/ga4.ts'
import { googleDialect, googleRefusal, msUntilNextHour, msUntilNextMidnight, parseCount } from '../google-api.ts'
import { pageWalk } from '../paging.ts'
import { defineCollector } from './define.ts'
import { isCurrencyCode, type CollectContext, type CollectSummary, type HistoryWindow } from './types.ts'

/**
 * Google Analytics 4 through the Data API v1beta `runReport` (social-apis.md §7.2): daily
 * sessions and key events of the sessions the account's settings select (channel groups or
 * sources), re-read over the look-back window since GA4 completes a day within about 2 days.
 *
 * Quota: GA4 meters tokens per property (per day, per hour, per project per hour) and reports
 * what is left in `propertyQuota`, which we ask for. When a bucket is spent we wait until it
 * refills (the next hour; the next midnight of the property's time zone for the daily bucket)
 * and remember that per property, so later rounds do not call in vain. A 429 that says nothing
 * we can read waits until the next hour, when the hourly buckets (the usual culprits) refill.
 */
export interface Ga4CollectorTuning {
  /** Rows per runReport page (`limit`); GA4's default is 10,000. */
  pageSize?: number
}

/** The answer's shape: the fields read here. Headers come even with no rows; values are strings. */
const quotaStatus = z.object({ consumed: z.number().optional(), remaining: z.number().optional() })
type QuotaStatus = z.output<typeof quotaStatus>
type PropertyQuota = Partial<Record<string, QuotaStatus>>

const runReportResponse = z.object({
  dimensionHeaders: z.array(z.object({ name: z.string() })),
  metricHeaders: z.array(z.object({ name: z.string(), type: z.string().optional() })),
  rows: z.array(z.object({ dimensionValues: z.array(z.object({ value: z.string().optional() })).optional(), metricValues: z.array(z.object({ value: z.string().optional() })).optional() })).optional(),
  rowCount: z.number().optional(),
  /**
   * The property's time zone, and `currencyCode`: "the property's current currency_code" unless
   * the request named one (Data API v1beta ResponseMetaData, Google's client reference:
   * cloud.google.com/ruby/docs/reference/google-analytics-data-v1beta/latest/Google-Analytics-Data-V1beta-ResponseMetaData).
   */
  metadata: z.object({ timeZone: z.string().optional(), currencyCode: z.string().optional() }).optional(),
  propertyQuota: z.record(z.string(), quotaStatus).optional(),
})
type RunReportResponse = z.output<typeof runReportResponse>

const API_VERSION = 'v1beta'
const DEFAULT_PAGE_SIZE = 10_000
/**
 * The report walk's cap, in rows: a million is 90 days of over 11,000 dimension values; a plan's
 * report asks for a few values (and its segments') a day.
 */
const MAX_REPORT_ROWS = 1_000_000
const HOURLY_BUCKETS = ['tokensPerHour', 'tokensPerProjectPerHour', 'potentiallyThresholdedRequestsPerHour', 'serverErrorsPerProjectPerHour']
const CONCURRENCY_WAIT_MS = 30_000

export const createGa4Collector = defineCollector<'ga4', Ga4CollectorTuning>('ga4', {
  // The dialect is made per report: it reads the property's time zone and quota from the answers.
  apis: { data: {} },
  apiVersion: () => API_VERSION,
  build({ session, caller }, tuning) {
    const pageSize = tuning.pageSize ?? DEFAULT_PAGE_SIZE
    /** Per property: until when its quota is known to be spent. Survives rounds. */
    const blockedUntil = new Map<string, number>()

    /** Daily sessions and conversions of one date range (GA4's own date words allowed), all pages. */
    async function readDays(context: CollectContext, dateRange: { startDate: string; endDate: string }): Promise<CollectSummary> {
      const s = session(context)
      const { accountId: propertyId, settings, summary } = s
      const blocked = (blockedUntil.get(propertyId) ?? 0) - context.now().getTime()
      if (blocked > 0) throw new ApiRateLimitError(`GA4 property ${propertyId}: its token quota is spent; it refills in ${Math.ceil(blocked / 60_000)} min`, blocked)

      let timeZone = 'UTC'
      let lastQuota: PropertyQuota | undefined
      const api = caller(
        context,
        'data',
        googleDialect({
          network: 'ga4',
          api: 'GA4 Data API',
          dailyQuotaWaitMs: () => msUntilNextMidnight(context.now(), timeZone),
          exhaustedWaitMs: () => (lastQuota && quotaWaitMs(lastQuota, context.now(), timeZone)) || msUntilNextHour(context.now()),
          pauseAfter(response: AxiosResponse) {
            const body = response.data as RunReportResponse | undefined
            if (typeof body?.metadata?.timeZone === 'string' && IANAZone.isValidZone(body.metadata.timeZone)) timeZone = body.metadata.timeZone
            if (!body?.propertyQuota) return 0
            lastQuota = body.propertyQuota
            const wait = quotaWaitMs(lastQuota, context.now(), timeZone)
            if (wait > 0) blockedUntil.set(propertyId, context.now().getTime() + wait)
            return wait
          },
        }),
      )

      // The KPIs that narrow this account (kpis[].filter) are served by the same report: it asks for
      // their values too, and their days are stored per segment beside the account's total.
      const prefix = `${settings.dimension}=`
      const segments = new Set((context.segments ?? []).filter((segment) => segment.startsWith(prefix)))
      const asked = [...new Set([...settings.values, ...[...segments].map((segment) => segment.slice(prefix.length))].map((v) => v.toLowerCase()))]
      const request = reportRequest({ ...settings, values: asked }, dateRange)
      const own = new Set(settings.values.map((value) => value.toLowerCase()))
      const perDay = new Map<string, Day>()
      const perSegment = new Map<string, Map<string, Day>>()
      try {
        const path = `/v1beta/properties/${encodeURIComponent(propertyId)}:runReport`
        const walk = pageWalk({ api, method: 'POST', url: path, maxPages: Math.ceil(MAX_REPORT_ROWS / pageSize) })
        let offset = 0
        for (;;) {
          const report = await api.post(path, { ...request, offset, limit: pageSize }, runReportResponse)
          const rows = report.rows ?? []
          const currency = report.metadata?.currencyCode
          if (isCurrencyCode(currency)) summary.facts = [{ fact: 'currency', value: currency, sourceField: 'runReport.metadata.currencyCode' }]
          addRows(report, settings, summary, (dimensionValue) => [
            ...(own.has(dimensionValue.toLowerCase()) ? [perDay] : []),
            ...(segments.has(ga4Segment(settings.dimension, dimensionValue)) ? [mapOf(perSegment, ga4Segment(settings.dimension, dimensionValue))] : []),
          ])
          // No `rows` means no data; otherwise page on with `offset` until `rowCount` is reached.
          if (rows.length === 0 || offset + rows.length >= (report.rowCount ?? 0)) break
          offset = walk.next(offset + rows.length)
        }
      } catch (error) {
        if (error instanceof ApiRateLimitError) blockedUntil.set(propertyId, context.now().getTime() + error.retryAfterMs)
        throw error
      }

      const { observe } = s
      const daysOf = (days: Map<string, Day>, objectType: 'account' | 'segment', objectId: string, scope: string) =>
        [...days].flatMap(([date, values]) => {
          const start = DateTime.fromFormat(date, 'yyyyMMdd', { zone: timeZone })
          if (!start.isValid) {
            if (objectType === 'account') summary.skipped.push(`GA4 row dated ${JSON.stringify(date)}: not a date`)
            return []
          }
          const common = { objectType, objectId, observedAt: start.toJSDate(), dayZone: timeZone }
          return [
            ...(values.sessions !== undefined ? [observe({ ...common, metric: 'sessions', value: values.sessions, sourceField: `runReport.sessions[${scope}]` })] : []),
            ...(values.conversions !== undefined ? [observe({ ...common, metric: 'conversions', value: values.conversions, sourceField: `runReport.${settings.conversionMetric}[${scope}]` })] : []),
          ]
        })
      const rows = [
        ...daysOf(perDay, 'account', propertyId, `${settings.dimension}=${settings.values.join('|')}`),
        ...[...perSegment].flatMap(([segment, days]) => daysOf(days, 'segment', segment, segment)),
      ]
      await s.emit(rows)
      return summary
    }

    return {
      tokenAdvice: ga4TokenAdvice,
      history: {
        maxWindowDays: 180,
        maxAgeDays: 3 * 365,
        notes: [],
        backfill: (context: CollectContext, window: HistoryWindow) =>
          readDays(context, { startDate: window.from, endDate: DateTime.fromISO(window.to, { zone: 'UTC' }).minus({ days: 1 }).toISODate()! }),
      },
      // GA4 completes a day within about 2 days: the look-back window is re-read every round.
      collect: (context: CollectContext) => readDays(context, { startDate: `${context.lookbackDays}daysAgo`, endDate: 'today' }),
    }
  },
})

/** One runReport body: a date range in the property's days, by date and the filter's dimension. */
function reportRequest(settings: Ga4Settings, dateRange: { startDate: string; endDate: string }) {
  return {
    dateRanges: [dateRange],
    dimensions: [{ name: 'date' }, { name: settings.dimension }],
    metrics: [{ name: 'sessions' }, { name: settings.conversionMetric }],
    dimensionFilter: { filter: { fieldName: settings.dimension, inListFilter: { values: settings.values, caseSensitive: false } } },
    // A stable order keeps offset paging consistent while today's numbers still grow.
    orderBys: [{ dimension: { dimensionName: 'date' } }, { dimension: { dimensionName: settings.dimension } }],
    keepEmptyRows: false,
    returnPropertyQuota: true,
  }
}

type Day = { sessions?: number; conversions?: number }

const mapOf = <K, V>(map: Map<K, Map<string, V>>, key: K): Map<string, V> => {
  let inner = map.get(key)
  if (!inner) map.set(key, (inner = new Map()))
  return inner
}

/**
 * Adds one page's rows to the per-day sums that `sums` picks for the row's dimension value (the
 * account's total, a segment, both or none); values are strings typed by `metricHeaders`.
 */
function addRows(report: RunReportResponse, settings: Ga4Settings, summary: CollectSummary, sums: (dimensionValue: string) => Array<Map<string, Day>>): void {
  const dateIndex = report.dimensionHeaders.findIndex((h) => h.name === 'date')
  const valueIndex = report.dimensionHeaders.findIndex((h) => h.name === settings.dimension)
  const metrics = report.metricHeaders
  const columns = [
    ['sessions', metrics.findIndex((h) => h.name === 'sessions')],
    ['conversions', metrics.findIndex((h) => h.name === settings.conversionMetric)],
  ] as const
  if (dateIndex < 0) return
  for (const row of report.rows ?? []) {
    const date = row.dimensionValues?.[dateIndex]?.value
    if (!date) continue
    // A row without the dimension is the filtered whole (the filter asked only for these values).
    const targets = sums(valueIndex < 0 ? settings.values[0]! : (row.dimensionValues?.[valueIndex]?.value ?? ''))
    for (const [key, index] of columns) {
      if (index < 0) continue
      const value = parseMetricValue(row.metricValues?.[index]?.value, metrics[index]?.type)
      if (value === undefined) {
        summary.skipped.push(`GA4 ${metrics[index]?.name} on ${date}: ${JSON.stringify(row.metricValues?.[index]?.value)} is not a number`)
        continue
      }
      for (const days of targets) {
        const day = days.get(date) ?? {}
        day[key] = (day[key] ?? 0) + value
        days.set(date, day)
      }
    }
  }
}

/** A metric value (a string) parsed by its declared type: whole numbers for TYPE_INTEGER. */
function parseMetricValue(value: unknown, type: string | undefined): number | undefined {
  if (type === undefined || type === 'TYPE_INTEGER') return parseCount(value)
  if (typeof value !== 'string' || value.trim() === '') return undefined
  const parsed = Number(value)
  return Number.isFinite(parsed) ? parsed : undefined
}

/**
 * How long until the spent bucket of `quota` refills (0 when none is spent). A bucket is spent when
 * what is left would not pay for another request like this one (`remaining` < `consumed`).
 * UNCONFIRMED: GA4 says tokens "return in under an hour" / "in under 24 hours"; we wait for the
 * next whole hour and the property's next midnight.
 */
function quotaWaitMs(quota: PropertyQuota, now: Date, timeZone: string): number {
  const spent = (status: QuotaStatus | undefined) => typeof status?.remaining === 'number' && status.remaining < Math.max(1, status.consumed ?? 0)
  if (spent(quota.tokensPerDay)) return msUntilNextMidnight(now, timeZone)
  if (HOURLY_BUCKETS.some((name) => spent(quota[name]))) return msUntilNextHour(now)
  if (spent(quota.concurrentRequests)) return CONCURRENCY_WAIT_MS
  return 0
}

const SCOPE = 'https://www.googleapis.com/auth/analytics.readonly'

/** What the property's owner must do when Google refuses the token, in words for the alert email. */
function ga4TokenAdvice(speaker: Speaker, apiCode: string, tokenEnv: string): string {
  return speaker.t(`advice.ga4.${googleRefusal(apiCode)}`, { scope: SCOPE, tokenEnv })
}
