/**
 * The GA4 Data API v1beta `runReport` under /ga4 (social-apis.md §7.2), answered from
 * simulator/ga4-scenario.ts at the simulator clock's time.
 *
 * Contract kept: `POST /v1beta/properties/{id}:runReport` with a JSON body (`Content-Type:
 * application/json` and an OAuth bearer token are required); `dateRanges` (YYYY-MM-DD, `today`,
 * `yesterday`, `NdaysAgo`, in the property's time zone), `dimensions`, `metrics` (`sessions`,
 * `keyEvents`, the older name `conversions`, and `keyEvents:<event>`), `dimensionFilter`
 * (`filter` with `stringFilter` or `inListFilter`, `andGroup`, `orGroup`, `notExpression`),
 * `orderBys`, `limit`/`offset` against `rowCount`; metric values are strings; `rows` (and
 * `rowCount`) are left out when there is no data; `metadata.timeZone`; `propertyQuota` when
 * `returnPropertyQuota` is set; errors in the newer Google style (`code`, `message`, `status`).
 *
 * Property quotas (a standard property's): 200,000 tokens per property per day (the property's
 * day), 40,000 per property per hour and 14,000 per project per property per hour (clock hours;
 * a token stands for a project). A request costs 5 tokens plus one per 20 rows of its result;
 * a spent bucket answers 429 RESOURCE_EXHAUSTED until it refills. One date range per request.
 *
 * Test tokens besides those of simulator/google-common.ts: `noaccess…` belongs to a Google
 * account without access to the property (403 PERMISSION_DENIED).
 */
import { DateTime } from 'luxon'
import { bearerToken, errorResponse, GoogleApiError, injectedGoogleError, jsonResponse, missingCredential, tokenProblem } from './google-common.ts'
import { createGa4Scenario, KEY_EVENTS, type Ga4Cell, type Ga4Scenario, type KeyEventName, type PropertyProfile } from './ga4-scenario.ts'
import type { NetworkContext, SimRequest, SimResponse, SimulatedNetwork, SimulatorModule } from './network.ts'

export { DEMO_PROPERTIES } from './ga4-scenario.ts'

const ROUTE = /^\/ga4\/v1beta\/properties\/([^/:]+):runReport$/
const DIMENSIONS = ['date', 'sessionDefaultChannelGroup', 'sessionSource', 'sessionMedium', 'sessionSourceMedium'] as const
type Dimension = (typeof DIMENSIONS)[number]
const DEFAULT_LIMIT = 10_000
const MAX_LIMIT = 250_000
/** Longest date range answered (GA4 keeps 14 months of detail by default; this bounds the work). */
const MAX_RANGE_DAYS = 800
const SCHEMA_LINK = 'For a list of valid dimensions and metrics, see https://developers.google.com/analytics/devguides/reporting/data/v1/api-schema'
const QUOTA_LINK = 'To learn more, see https://developers.google.com/analytics/devguides/reporting/data/v1/quotas'

const GA4_QUOTAS = { tokensPerDay: 200_000, tokensPerHour: 40_000, tokensPerProjectPerHour: 14_000 } as const

function createGa4Api(context: NetworkContext): SimulatedNetwork[] {
  const scenario = createGa4Scenario({ seed: context.seed, today: context.today })
  const buckets = new Map<string, number>()

  function handle(request: SimRequest): SimResponse {
    const propertyId = ROUTE.exec(request.pathname)?.[1]
    if (propertyId === undefined || request.method !== 'POST') {
      return errorResponse(new GoogleApiError({ code: 404, message: 'Method not found.', status: 'NOT_FOUND' }))
    }
    try {
      const token = bearerToken(request)
      if (!token) throw missingCredential('modern')
      const refused = tokenProblem(token, 'modern', 'analyticsdata.googleapis.com')
      if (refused) throw refused
      const profile = scenario.property(propertyId)
      if (token.startsWith('noaccess') || !profile || profile.createdMs > request.now.getTime()) {
        throw new GoogleApiError({
          code: 403,
          message: 'User does not have sufficient permissions for this property. To learn more about Property ID, see https://developers.google.com/analytics/devguides/reporting/data/v1/property-id.',
          status: 'PERMISSION_DENIED',
        })
      }
      const contentType = String(request.headers['content-type'] ?? '')
      let body: unknown
      try {
        body = /^application\/json\b/i.test(contentType) ? JSON.parse(request.body) : undefined
      } catch {
        body = undefined
      }
      if (!body || typeof body !== 'object' || Array.isArray(body)) invalid('Invalid JSON payload received. Unexpected token.')
      return jsonResponse(runReport(scenario, profile, body as RunReportRequest, request.now.getTime(), token))
    } catch (error) {
      if (error instanceof GoogleApiError) return errorResponse(error)
      throw error
    }
  }

  /** Spends `cost` tokens, or refuses with the message of the first spent bucket. */
  function spend(profile: PropertyProfile, token: string, nowMs: number, cost: number): Record<string, { consumed: number; remaining: number }> {
    const hour = Math.floor(nowMs / 3_600_000)
    const day = DateTime.fromMillis(nowMs, { zone: profile.timeZone }).toISODate()
    const keys = {
      tokensPerDay: `day|${profile.id}|${day}`,
      tokensPerHour: `hour|${profile.id}|${hour}`,
      tokensPerProjectPerHour: `project|${token}|${profile.id}|${hour}`,
    } as const
    const remaining = (name: keyof typeof keys) => GA4_QUOTAS[name] - (buckets.get(keys[name]) ?? 0)
    const messages: Record<keyof typeof keys, string> = {
      tokensPerDay: 'Exhausted property tokens per day. These quota tokens will return in under 24 hours.',
      tokensPerHour: 'Exhausted property tokens per hour. These quota tokens will return in under an hour.',
      tokensPerProjectPerHour: 'Exhausted property tokens for a project per hour. These quota tokens will return in under an hour.',
    }
    for (const name of ['tokensPerDay', 'tokensPerHour', 'tokensPerProjectPerHour'] as const) {
      if (remaining(name) <= 0) throw new GoogleApiError({ code: 429, message: `${messages[name]} ${QUOTA_LINK}`, status: 'RESOURCE_EXHAUSTED' })
    }
    if (buckets.size > 50_000) buckets.clear()
    const quota: Record<string, { consumed: number; remaining: number }> = {}
    for (const name of ['tokensPerDay', 'tokensPerHour'] as const) {
      buckets.set(keys[name], (buckets.get(keys[name]) ?? 0) + cost)
      quota[name] = { consumed: cost, remaining: remaining(name) }
    }
    quota.concurrentRequests = { consumed: 0, remaining: 10 }
    quota.serverErrorsPerProjectPerHour = { consumed: 0, remaining: 10 }
    quota.potentiallyThresholdedRequestsPerHour = { consumed: 0, remaining: 120 }
    buckets.set(keys.tokensPerProjectPerHour, (buckets.get(keys.tokensPerProjectPerHour) ?? 0) + cost)
    quota.tokensPerProjectPerHour = { consumed: cost, remaining: remaining('tokensPerProjectPerHour') }
    return quota
  }

  function runReport(scenario: Ga4Scenario, profile: PropertyProfile, request: RunReportRequest, nowMs: number, token: string): unknown {
    const [from, to] = dateRange(request, profile, nowMs)
    const dimensions = names(request.dimensions, 'dimensions').map((name) => {
      if (!(DIMENSIONS as readonly string[]).includes(name)) invalid(`Field ${name} is not a valid dimension. ${SCHEMA_LINK}`)
      return name as Dimension
    })
    if (dimensions.length > 9) invalid('Requests are limited to 9 dimensions.')
    const metrics = names(request.metrics, 'metrics')
    if (metrics.length === 0) invalid('Must specify at least one metric.')
    if (metrics.length > 10) invalid('Requests are limited to 10 metrics.')
    const readers = metrics.map((name) => metricReader(name))
    const filter = request.dimensionFilter === undefined ? () => true : compileFilter(request.dimensionFilter)
    const limit = request.limit === undefined || Number(request.limit) === 0 ? DEFAULT_LIMIT : Number(request.limit)
    const offset = request.offset === undefined ? 0 : Number(request.offset)
    if (!Number.isInteger(limit) || limit < 0) invalid('limit must be positive.')
    if (!Number.isInteger(offset) || offset < 0) invalid('offset must be positive.')

    // Group the world's cells by the requested dimensions, then drop all-zero rows.
    const groups = new Map<string, { dims: string[]; values: number[] }>()
    for (let day = from; day <= to; day = day.plus({ days: 1 })) {
      for (const cell of scenario.cells(profile.id, day.toISODate()!, nowMs)) {
        if (!filter(cell)) continue
        const dims = dimensions.map((d) => dimensionValue(cell, d))
        const key = JSON.stringify(dims)
        const entry = groups.get(key) ?? { dims, values: metrics.map(() => 0) }
        readers.forEach((read, i) => {
          entry.values[i]! += read(cell)
        })
        groups.set(key, entry)
      }
    }
    const rows = [...groups.values()].filter((row) => row.values.some((v) => v !== 0))
    rows.sort(comparator(request.orderBys, dimensions, metrics))
    const quota = spend(profile, token, nowMs, 5 + Math.ceil(rows.length / 20))

    const response: Record<string, unknown> = {
      dimensionHeaders: dimensions.map((name) => ({ name })),
      metricHeaders: metrics.map((name) => ({ name, type: 'TYPE_INTEGER' })),
    }
    const page = rows.slice(offset, offset + Math.min(limit, MAX_LIMIT))
    if (page.length > 0) {
      response.rows = page.map((row) => ({ dimensionValues: row.dims.map((value) => ({ value })), metricValues: row.values.map((v) => ({ value: String(v) })) }))
    }
    if (rows.length > 0) response.rowCount = rows.length
    response.metadata = { currencyCode: profile.currencyCode, timeZone: profile.timeZone }
    if (request.returnPropertyQuota === true) response.propertyQuota = quota
    response.kind = 'analyticsData#runReport'
    return response
  }

  return [
    {
      prefix: '/ga4',
      tokenOf: bearerToken,
      handle,
      errorBody: (error) => injectedGoogleError('modern', error),
    },
  ]
}

interface RunReportRequest {
  dateRanges?: Array<{ startDate?: string; endDate?: string }>
  dimensions?: Array<{ name?: string }>
  metrics?: Array<{ name?: string }>
  dimensionFilter?: unknown
  orderBys?: Array<{ desc?: boolean; dimension?: { dimensionName?: string }; metric?: { metricName?: string } }>
  limit?: number | string
  offset?: number | string
  returnPropertyQuota?: boolean
}

function invalid(message: string): never {
  throw new GoogleApiError({ code: 400, message, status: 'INVALID_ARGUMENT' })
}

function names(list: unknown, field: string): string[] {
  if (list === undefined) return []
  if (!Array.isArray(list)) invalid(`Invalid value at '${field}': expected a list.`)
  return list.map((item) => {
    const name = item && typeof item === 'object' ? (item as { name?: unknown }).name : undefined
    if (typeof name !== 'string' || name === '') invalid(`Invalid value at '${field}': every entry needs a name.`)
    return name
  })
}

/** The request's one date range as property-time-zone days (inclusive), clipped to today. */
function dateRange(request: RunReportRequest, profile: PropertyProfile, nowMs: number): [DateTime, DateTime] {
  const ranges = request.dateRanges
  if (!Array.isArray(ranges) || ranges.length === 0) invalid('Must specify at least one date range.')
  if (ranges.length > 1) invalid('The simulator answers one date range per request.')
  const today = DateTime.fromMillis(nowMs, { zone: profile.timeZone }).startOf('day')
  const parse = (value: unknown, field: string): DateTime => {
    if (value === 'today') return today
    if (value === 'yesterday') return today.minus({ days: 1 })
    const ago = typeof value === 'string' ? /^(\d+)daysAgo$/.exec(value) : null
    if (ago) return today.minus({ days: Number(ago[1]) })
    const date = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) ? DateTime.fromISO(value, { zone: profile.timeZone }) : undefined
    if (!date?.isValid) invalid(`Invalid value at 'date_ranges[0].${field}' (${String(value)}): use YYYY-MM-DD, today, yesterday or NdaysAgo.`)
    return date
  }
  const from = parse(ranges[0]!.startDate, 'start_date')
  const to = parse(ranges[0]!.endDate, 'end_date')
  if (from > to) invalid(`Invalid date range: start date ${from.toISODate()} is after end date ${to.toISODate()}.`)
  const last = to > today ? today : to
  const first = from < last.minus({ days: MAX_RANGE_DAYS }) ? last.minus({ days: MAX_RANGE_DAYS }) : from
  return [first, last]
}

function dimensionValue(cell: Ga4Cell, dimension: string): string {
  if (dimension === 'sessionSourceMedium') return `${cell.sessionSource} / ${cell.sessionMedium}`
  if (dimension === 'date' || dimension === 'sessionDefaultChannelGroup' || dimension === 'sessionSource' || dimension === 'sessionMedium') return cell[dimension]
  invalid(`Field ${dimension} is not a valid dimension. ${SCHEMA_LINK}`)
}

/** `sessions`; `keyEvents` and its older name `conversions`, optionally `:<event>`. */
function metricReader(name: string): (cell: Ga4Cell) => number {
  if (name === 'sessions') return (cell) => cell.sessions
  const match = /^(keyEvents|conversions)(?::([A-Za-z][A-Za-z0-9_]*))?$/.exec(name)
  if (!match) invalid(`Field ${name} is not a valid metric. ${SCHEMA_LINK}`)
  const event = match[2]
  if (event === undefined) return (cell) => Object.values(cell.keyEvents).reduce((a, b) => a + b, 0)
  // An event that is not a key event counts nothing.
  return (cell) => (event in KEY_EVENTS ? cell.keyEvents[event as KeyEventName] : 0)
}

type CellFilter = (cell: Ga4Cell) => boolean

function compileFilter(expression: unknown): CellFilter {
  if (!expression || typeof expression !== 'object') invalid('Invalid dimensionFilter.')
  const e = expression as Record<string, unknown>
  const group = (value: unknown): CellFilter[] => {
    const expressions = value && typeof value === 'object' ? (value as { expressions?: unknown }).expressions : undefined
    if (!Array.isArray(expressions)) invalid('A filter group needs expressions.')
    return expressions.map(compileFilter)
  }
  if (e.andGroup !== undefined) {
    const parts = group(e.andGroup)
    return (cell) => parts.every((f) => f(cell))
  }
  if (e.orGroup !== undefined) {
    const parts = group(e.orGroup)
    return (cell) => parts.some((f) => f(cell))
  }
  if (e.notExpression !== undefined) {
    const inner = compileFilter(e.notExpression)
    return (cell) => !inner(cell)
  }
  const filter = e.filter as Record<string, unknown> | undefined
  if (!filter || typeof filter.fieldName !== 'string') invalid('Invalid dimensionFilter: a filter needs a fieldName.')
  const field = filter.fieldName
  if (!(DIMENSIONS as readonly string[]).includes(field)) invalid(`Field ${field} is not a valid dimension. ${SCHEMA_LINK}`)
  const read = (cell: Ga4Cell) => dimensionValue(cell, field)
  if (filter.inListFilter !== undefined) {
    const list = filter.inListFilter as { values?: unknown; caseSensitive?: unknown }
    if (!Array.isArray(list.values) || list.values.length === 0 || !list.values.every((v) => typeof v === 'string')) {
      invalid('inListFilter.values must be a non-empty list of strings.')
    }
    const sensitive = list.caseSensitive === true
    const wanted = new Set((list.values as string[]).map((v) => (sensitive ? v : v.toLowerCase())))
    return (cell) => wanted.has(sensitive ? read(cell) : read(cell).toLowerCase())
  }
  if (filter.stringFilter !== undefined) {
    const s = filter.stringFilter as { matchType?: unknown; value?: unknown; caseSensitive?: unknown }
    if (typeof s.value !== 'string') invalid('stringFilter.value must be a string.')
    const sensitive = s.caseSensitive === true
    const norm = (text: string) => (sensitive ? text : text.toLowerCase())
    const value = norm(s.value)
    const match = s.matchType ?? 'EXACT'
    const tests: Record<string, (text: string) => boolean> = {
      EXACT: (text) => text === value,
      BEGINS_WITH: (text) => text.startsWith(value),
      ENDS_WITH: (text) => text.endsWith(value),
      CONTAINS: (text) => text.includes(value),
      FULL_REGEXP: (text) => new RegExp(`^(?:${s.value})$`, sensitive ? '' : 'i').test(text),
      PARTIAL_REGEXP: (text) => new RegExp(String(s.value), sensitive ? '' : 'i').test(text),
    }
    const test = tests[String(match)]
    if (!test) invalid(`Invalid stringFilter.matchType: ${String(match)}.`)
    return (cell) => test(match === 'FULL_REGEXP' || match === 'PARTIAL_REGEXP' ? read(cell) : norm(read(cell)))
  }
  invalid('Invalid dimensionFilter: use stringFilter or inListFilter.')
}

/** Rows in the order asked; by default the first metric descending, then the dimensions. */
function comparator(orderBys: RunReportRequest['orderBys'], dimensions: string[], metrics: string[]) {
  const keys: Array<{ index: number; metric: boolean; desc: boolean }> = []
  for (const order of orderBys ?? []) {
    if (order.dimension?.dimensionName !== undefined) {
      const index = dimensions.indexOf(order.dimension.dimensionName)
      if (index < 0) invalid(`orderBys names ${order.dimension.dimensionName}, which is not a dimension of the request.`)
      keys.push({ index, metric: false, desc: order.desc === true })
    } else if (order.metric?.metricName !== undefined) {
      const index = metrics.indexOf(order.metric.metricName)
      if (index < 0) invalid(`orderBys names ${order.metric.metricName}, which is not a metric of the request.`)
      keys.push({ index, metric: true, desc: order.desc === true })
    }
  }
  if (keys.length === 0) keys.push({ index: 0, metric: true, desc: true })
  dimensions.forEach((_, index) => {
    keys.push({ index, metric: false, desc: false })
  })
  return (a: { dims: string[]; values: number[] }, b: { dims: string[]; values: number[] }) => {
    for (const key of keys) {
      const diff = key.metric ? a.values[key.index]! - b.values[key.index]! : compareText(a.dims[key.index]!, b.dims[key.index]!)
      if (diff !== 0) return key.desc ? -diff : diff
    }
    return 0
  }
}

/** Code-point order: the same on every machine, unlike localeCompare. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** The GA4 Data API, for the registry (simulator/networks.ts). */
export const ga4Simulator: SimulatorModule<'ga4'> = {
  network: 'ga4',
  mounts: { data: '/ga4' },
  serve: (context) => ({ routes: createGa4Api(context) }),
}
