/**
 * The LinkedIn Marketing API contract for organization Pages (social-apis.md §4) under the
 * `/linkedin` prefix: `/rest/networkSizes/{urn}`, `/rest/organizationalEntityFollowerStatistics`
 * and `/rest/organizationalEntityShareStatistics`, answered from simulator/linkedin-scenario.ts.
 *
 * - `LinkedIn-Version: YYYYMM` is required: missing → 400 VERSION_MISSING; a version not yet
 *   released or past its sunset (the 15th of the same month a year later, as LinkedIn's
 *   migration table shows: 202510 → 2026-10-15) → 426 NONEXISTENT_VERSION.
 * - `X-Restli-Protocol-Version: 2.0.0` selects Rest.li 2.0: `timeIntervals=(timeRange:(start:…,
 *   end:…),timeGranularityType:DAY)`, and a URN key in the path must be URL-encoded. Without the
 *   header, Rest.li 1.0 applies: only the dotted form `timeIntervals.timeRange.start=…` parses
 *   and a raw URN key is fine. Each form is refused with 400 under the other protocol.
 * - Auth: `Authorization: Bearer`. No token → 401 "Empty oauth2_access_token"; a token starting
 *   with `expired` → 401 EXPIRED_ACCESS_TOKEN (65602), `revoked` → 401 REVOKED_ACCESS_TOKEN
 *   (65601), `invalid` → 401 65600, `noadmin` → 403 ACCESS_DENIED (a member who is not a Page
 *   ADMINISTRATOR).
 * - Limits: a daily budget per token (the simulator's `callsPerHour`, counted per UTC day),
 *   reset at 00:00 UTC; over it, 429 with no rate-limit header.
 * - Time-bound statistics: one element per complete UTC day (or month) in the range; the range
 *   must start within the past 12 months and at least 2 days before today (UTC). Paged with
 *   `start`/`count` (default 10); a page past the end has no elements.
 */
import type { InjectedError, NetworkContext, SimRequest, SimResponse, SimulatedNetwork, SimulatorModule } from './network.ts'
import { createLinkedInScenario, type DayStatistics, type LinkedInScenario } from './linkedin-scenario.ts'
import { parseRestli, RestliSyntaxError, type RestliValue } from './linkedin-restli.ts'
import { DAY_MS } from './time.ts'

const PREFIX = '/linkedin'
const JSON_TYPE = 'application/json'
const ORGANIZATION_URN = /^urn:li:(organization|organizationBrand):(\d+)$/
const VERSION = /^(\d{4})(\d{2})(\.\d{2})?$/
const DEFAULT_COUNT = 10
const MAX_COUNT = 1000

interface ErrorFields {
  status: number
  serviceErrorCode?: number
  code?: string
  message: string
}

/** A LinkedIn error answer; handlers throw it and the dispatcher renders it. */
class LinkedInError extends Error {
  constructor(
    readonly fields: ErrorFields,
    readonly headers: Record<string, string> = {},
  ) {
    super(fields.message)
  }
}

const badRequest = (message: string, code?: string) => new LinkedInError({ status: 400, ...(code ? { code } : {}), message })

function renderError(fields: ErrorFields): string {
  const { status, serviceErrorCode, code, message } = fields
  const body: Record<string, unknown> = { status }
  if (serviceErrorCode !== undefined) body.serviceErrorCode = serviceErrorCode
  if (code !== undefined) body.code = code
  body.message = message
  return JSON.stringify(body)
}

function tokenOf(request: SimRequest): string | undefined {
  const header = request.headers.authorization
  return typeof header === 'string' ? /^Bearer\s+(.+)$/i.exec(header.trim())?.[1] : undefined
}

function header(request: SimRequest, name: string): string | undefined {
  const value = request.headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** The version's window: released on the 1st of its month, sunset on the 15th a year later. */
function checkVersion(raw: string | undefined, nowMs: number): void {
  if (raw === undefined || raw.trim() === '') {
    throw new LinkedInError(
      { status: 400, code: 'VERSION_MISSING', message: 'A version must be present. Please specify a version by adding the LinkedIn-Version header.' },
      { 'X-Restli-Gateway-Error': 'true' },
    )
  }
  const match = VERSION.exec(raw.trim())
  const active = match
    ? nowMs >= Date.UTC(Number(match[1]), Number(match[2]) - 1, 1) && nowMs < Date.UTC(Number(match[1]) + 1, Number(match[2]) - 1, 15) && Number(match[2]) >= 1 && Number(match[2]) <= 12
    : false
  if (!active) {
    throw new LinkedInError({ status: 426, code: 'NONEXISTENT_VERSION', message: `Requested version ${raw.trim()} is not active` }, { 'X-Restli-Gateway-Error': 'true' })
  }
}

function checkToken(token: string | undefined, resource: string, version: string): string {
  if (!token) throw new LinkedInError({ status: 401, serviceErrorCode: 401, message: 'Empty oauth2_access_token' })
  if (token.startsWith('expired')) throw new LinkedInError({ status: 401, serviceErrorCode: 65602, code: 'EXPIRED_ACCESS_TOKEN', message: 'The token used in the request has expired' })
  if (token.startsWith('revoked')) {
    throw new LinkedInError({ status: 401, serviceErrorCode: 65601, code: 'REVOKED_ACCESS_TOKEN', message: 'The token used in the request has been revoked by the user' })
  }
  if (token.startsWith('invalid')) throw new LinkedInError({ status: 401, serviceErrorCode: 65600, message: 'Invalid access token' })
  if (token.startsWith('noadmin')) {
    throw new LinkedInError({ status: 403, serviceErrorCode: 100, code: 'ACCESS_DENIED', message: `Not enough permissions to access: ${resource}.GET.${version}` })
  }
  return token
}

function organizationId(urn: string | null | undefined, field: string): string {
  if (!urn) throw badRequest(`Missing required query parameter ${field}`, 'MISSING_FIELD')
  const match = ORGANIZATION_URN.exec(urn)
  if (!match) throw badRequest(`Invalid URN type for ${field}: ${urn}`, 'INVALID_URN_TYPE')
  return match[2]!
}

function integer(value: string | null, name: string, fallback: number, min: number, max: number): number {
  if (value === null) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max) throw badRequest(`Invalid value ${value} for query parameter ${name}`, 'INVALID_VALUE_FOR_FIELD')
  return n
}

interface TimeIntervals {
  start: number
  end: number
  granularity: 'DAY' | 'MONTH'
}

/** `timeIntervals` in the protocol the request speaks; undefined when absent (lifetime statistics). */
function timeIntervals(query: URLSearchParams, restli2: boolean): TimeIntervals | undefined {
  const structured = query.get('timeIntervals')
  const dotted = [...query.keys()].filter((key) => key.startsWith('timeIntervals.'))
  let start: string | undefined
  let end: string | undefined
  let granularity: string | undefined
  if (restli2) {
    if (dotted.length > 0)
      throw badRequest(`Query parameter ${dotted[0]} is not allowed with Rest.li protocol 2.0.0; use timeIntervals=(timeRange:(start:…,end:…),timeGranularityType:…)`, 'QUERY_PARAM_NOT_ALLOWED')
    if (structured === null) return undefined
    let parsed: RestliValue
    try {
      parsed = parseRestli(structured)
    } catch (error) {
      if (error instanceof RestliSyntaxError) throw badRequest(`Invalid timeIntervals parameter: ${error.message}`, 'INVALID_VALUE_FOR_FIELD')
      throw error
    }
    const object = typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {}
    const range = object.timeRange
    const rangeObject = range && typeof range === 'object' && !Array.isArray(range) ? range : {}
    start = typeof rangeObject.start === 'string' ? rangeObject.start : undefined
    end = typeof rangeObject.end === 'string' ? rangeObject.end : undefined
    granularity = typeof object.timeGranularityType === 'string' ? object.timeGranularityType : undefined
  } else {
    if (structured !== null) throw badRequest('Invalid value for query parameter timeIntervals: Rest.li 2.0 syntax needs the header X-Restli-Protocol-Version: 2.0.0', 'INVALID_VALUE_FOR_FIELD')
    if (dotted.length === 0) return undefined
    start = query.get('timeIntervals.timeRange.start') ?? undefined
    end = query.get('timeIntervals.timeRange.end') ?? undefined
    granularity = query.get('timeIntervals.timeGranularityType') ?? undefined
  }
  const startMs = Number(start)
  const endMs = end === undefined ? Number.POSITIVE_INFINITY : Number(end)
  if (!Number.isSafeInteger(startMs) || (end !== undefined && !Number.isSafeInteger(endMs)) || endMs <= startMs) {
    throw badRequest('Invalid timeIntervals parameter: timeRange needs a start and an end in epoch milliseconds, start before end', 'INVALID_VALUE_FOR_FIELD')
  }
  if (granularity !== 'DAY' && granularity !== 'MONTH')
    throw badRequest(`Invalid timeIntervals parameter: timeGranularityType ${granularity ?? '(missing)'} is not DAY or MONTH`, 'INVALID_VALUE_FOR_FIELD')
  return { start: startMs, end: endMs, granularity }
}

/** `{paging:{start,count,links},elements}` for one page of `all`. */
function paged(request: SimRequest, path: string, all: unknown[]): unknown {
  const start = integer(request.query.get('start'), 'start', 0, 0, Number.MAX_SAFE_INTEGER)
  const count = integer(request.query.get('count'), 'count', DEFAULT_COUNT, 1, MAX_COUNT)
  const elements = all.slice(start, start + count)
  const links: unknown[] = []
  const link = (rel: string, at: number) => {
    const query = new URLSearchParams(request.query)
    query.set('start', String(at))
    query.set('count', String(count))
    links.push({ type: 'application/json', rel, href: `${path}?${restliQueryString(query)}` })
  }
  if (start > 0) link('prev', Math.max(0, start - count))
  if (start + count < all.length) link('next', start + count)
  return { paging: { start, count, links }, elements }
}

function createLinkedInApi(context: NetworkContext): SimulatedNetwork[] {
  const world: LinkedInScenario = createLinkedInScenario({ seed: context.seed, today: context.today })
  const dailyLimit = Math.max(1, context.callsPerHour)
  const usage = new Map<string, { day: number; used: number }>()

  function take(token: string, nowMs: number): boolean {
    const day = Math.floor(nowMs / DAY_MS)
    let entry = usage.get(token)
    if (!entry || entry.day !== day) {
      entry = { day, used: 0 }
      usage.set(token, entry)
    }
    if (entry.used >= dailyLimit) return false
    entry.used++
    return true
  }

  function handle(request: SimRequest): SimResponse {
    const nowMs = request.now.getTime()
    const path = request.pathname.slice(PREFIX.length)
    const base: Record<string, string> = { 'Content-Type': JSON_TYPE, Date: request.now.toUTCString(), 'x-li-uuid': request.traceId.slice(0, 22) }
    try {
      const raw = path.split('/').filter((s) => s !== '')
      const segments = raw.map(safeDecode)
      if (segments[0] !== 'rest' || segments.length < 2) throw new LinkedInError({ status: 404, serviceErrorCode: 0, message: 'No virtual resource found' })
      const version = header(request, 'linkedin-version')
      checkVersion(version, nowMs)
      const protocol = header(request, 'x-restli-protocol-version')
      if (protocol !== undefined && protocol !== '2.0.0' && protocol !== '1.0.0') throw badRequest(`Unsupported Rest.li protocol version ${protocol}`)
      const token = checkToken(tokenOf(request), segments[1]!, version!.trim())
      if (!take(token, nowMs)) throw new LinkedInError({ status: 429, serviceErrorCode: 429, message: 'Resource level throttle limit for calls to this resource is reached.' })
      if (request.method !== 'GET') throw new LinkedInError({ status: 405, message: `Method ${request.method} is not allowed on ${segments[1]}` })
      // In Rest.li 2.0 `:` is structure, so a URN key must arrive URL-encoded (urn%3Ali%3A…); 1.0 takes it raw.
      if (protocol === '2.0.0' && raw[2]?.includes(':')) throw badRequest(`Invalid resource key ${raw[2]}: with Rest.li 2.0.0 a URN key must be URL-encoded`, 'INVALID_VALUE_FOR_FIELD')
      const body = route(request, segments.slice(1), protocol === '2.0.0', nowMs)
      return { status: 200, headers: { ...base, 'X-RestLi-Protocol-Version': protocol ?? '1.0.0' }, body: JSON.stringify(body) }
    } catch (error) {
      if (!(error instanceof LinkedInError)) throw error
      return { status: error.fields.status, headers: { ...base, ...error.headers }, body: renderError(error.fields) }
    }
  }

  function route(request: SimRequest, segments: string[], restli2: boolean, nowMs: number): unknown {
    const [resource, key, ...rest] = segments
    if (rest.length > 0) throw new LinkedInError({ status: 404, serviceErrorCode: 0, message: 'No virtual resource found' })
    if (resource === 'networkSizes' && key !== undefined) return networkSize(request.query, key, nowMs)
    if (key === undefined && (resource === 'organizationalEntityFollowerStatistics' || resource === 'organizationalEntityShareStatistics')) {
      if (request.query.get('q') !== 'organizationalEntity') throw badRequest(`Query parameter q must be organizationalEntity for ${resource}`, 'INVALID_VALUE_FOR_FIELD')
      const id = organizationId(request.query.get('organizationalEntity'), 'organizationalEntity')
      const intervals = timeIntervals(request.query, restli2)
      // Follower statistics: the range must also end at least 2 days before today (social-apis.md §4.2).
      if (resource === 'organizationalEntityFollowerStatistics' && intervals && intervals.end > Math.floor(nowMs / DAY_MS) * DAY_MS - 2 * DAY_MS) {
        throw badRequest('Invalid timeIntervals parameter: the range must end at least 2 days before today (UTC)', 'INVALID_VALUE_FOR_FIELD')
      }
      const elements = resource === 'organizationalEntityFollowerStatistics' ? followerStatistics(id, intervals, nowMs) : shareStatistics(id, intervals, nowMs)
      return paged(request, `/rest/${resource}`, elements)
    }
    throw new LinkedInError({ status: 404, serviceErrorCode: 0, message: 'No virtual resource found' })
  }

  function networkSize(query: URLSearchParams, key: string, nowMs: number): unknown {
    const id = organizationId(key, 'key')
    const edgeType = query.get('edgeType')
    if (edgeType === null) throw badRequest('Missing required query parameter edgeType', 'MISSING_FIELD')
    // Before version 202305 the value was spelled CompanyFollowedByMember; the versioned API refuses it.
    if (edgeType !== 'COMPANY_FOLLOWED_BY_MEMBER') throw badRequest(`Invalid value ${edgeType} for query parameter edgeType`, 'INVALID_VALUE_FOR_FIELD')
    return { firstDegreeSize: world.followers(id, nowMs) }
  }

  /** The range's complete UTC days, oldest first, or its months summed. */
  function buckets(intervals: TimeIntervals, nowMs: number): Array<{ start: number; end: number; days: number[] }> {
    const today = Math.floor(nowMs / DAY_MS) * DAY_MS
    if (intervals.start < today - 365 * DAY_MS || intervals.start > today - 2 * DAY_MS) {
      throw badRequest('Invalid timeIntervals parameter: the range must start within the past 12 months and at least 2 days before today (UTC)', 'INVALID_VALUE_FOR_FIELD')
    }
    const out: Array<{ start: number; end: number; days: number[] }> = []
    const last = Math.min(intervals.end, today)
    for (let day = Math.floor(intervals.start / DAY_MS) * DAY_MS; day + DAY_MS <= last; day += DAY_MS) {
      if (intervals.granularity === 'DAY') {
        out.push({ start: day, end: day + DAY_MS, days: [day] })
        continue
      }
      const date = new Date(day)
      const monthStart = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1)
      const current = out[out.length - 1]
      if (current && current.start === monthStart) {
        current.days.push(day)
        current.end = day + DAY_MS
      } else out.push({ start: monthStart, end: day + DAY_MS, days: [day] })
    }
    return out
  }

  function sumDays(id: string, days: number[], nowMs: number): DayStatistics {
    const total: DayStatistics = { organicFollowerGain: 0, paidFollowerGain: 0, impressionCount: 0, uniqueImpressionsCount: 0, likeCount: 0, clickCount: 0, commentCount: 0, shareCount: 0 }
    for (const day of days) {
      const stats = world.day(id, day, nowMs)
      if (!stats) continue
      for (const key of Object.keys(total) as Array<keyof DayStatistics>) total[key] += stats[key]
    }
    return total
  }

  function followerStatistics(id: string, intervals: TimeIntervals | undefined, nowMs: number): unknown[] {
    const urn = `urn:li:organization:${id}`
    if (!intervals) {
      // Lifetime demographics: no totals any more (use networkSizes), facets of organic followers.
      const followers = world.followers(id, nowMs)
      const split = (parts: Array<[string, string, number]>) =>
        parts.map(([key, value, share]) => ({ [key]: value, followerCounts: { organicFollowerCount: Math.floor(followers * share), paidFollowerCount: 0 } }))
      return [
        {
          organizationalEntity: urn,
          followerCountsByAssociationType: split([['associationType', 'EMPLOYEE', 0.03]]),
          followerCountsBySeniority: split([
            ['seniority', 'urn:li:seniority:3', 0.41],
            ['seniority', 'urn:li:seniority:4', 0.27],
            ['seniority', 'urn:li:seniority:5', 0.12],
          ]),
          followerCountsByStaffCountRange: split([
            ['staffCountRange', 'SIZE_2_TO_10', 0.22],
            ['staffCountRange', 'SIZE_11_TO_50', 0.31],
            ['staffCountRange', 'SIZE_10001_OR_MORE', 0.18],
          ]),
          followerCountsByGeoCountry: split([['geo', 'urn:li:geo:102478259', 0.86]]),
          followerCountsByIndustry: split([
            ['industry', 'urn:li:industry:34', 0.24],
            ['industry', 'urn:li:industry:27', 0.11],
          ]),
          followerCountsByFunction: split([
            ['function', 'urn:li:function:15', 0.19],
            ['function', 'urn:li:function:18', 0.14],
          ]),
          followerCountsByGeo: split([
            ['geo', 'urn:li:geo:103317282', 0.52],
            ['geo', 'urn:li:geo:104116203', 0.21],
          ]),
        },
      ]
    }
    return buckets(intervals, nowMs).map((bucket) => {
      const total = sumDays(id, bucket.days, nowMs)
      return {
        timeRange: { start: bucket.start, end: bucket.end },
        followerGains: { organicFollowerGain: total.organicFollowerGain, paidFollowerGain: total.paidFollowerGain },
        organizationalEntity: urn,
      }
    })
  }

  function shareStatistics(id: string, intervals: TimeIntervals | undefined, nowMs: number): unknown[] {
    const urn = `urn:li:organization:${id}`
    const element = (total: DayStatistics, timeRange?: { start: number; end: number }) => {
      const engaged = total.clickCount + total.likeCount + total.commentCount + total.shareCount
      const out: Record<string, unknown> = {
        totalShareStatistics: {
          uniqueImpressionsCount: total.uniqueImpressionsCount,
          shareCount: total.shareCount,
          engagement: total.impressionCount > 0 ? engaged / total.impressionCount : 0,
          clickCount: total.clickCount,
          likeCount: total.likeCount,
          impressionCount: total.impressionCount,
          commentCount: total.commentCount,
        },
        organizationalEntity: urn,
      }
      if (timeRange) out.timeRange = timeRange
      return out
    }
    if (!intervals) {
      // Lifetime statistics cover the rolling past 12 months only.
      const today = Math.floor(nowMs / DAY_MS) * DAY_MS
      const days: number[] = []
      for (let day = today - 365 * DAY_MS; day < today; day += DAY_MS) days.push(day)
      return [element(sumDays(id, days, nowMs))]
    }
    return buckets(intervals, nowMs).map((bucket) => element(sumDays(id, bucket.days, nowMs), { start: bucket.start, end: bucket.end }))
  }

  return [{ prefix: PREFIX, tokenOf, handle, errorBody: linkedInErrorBody }]
}

/**
 * An injected error in LinkedIn's words: `code` is the serviceErrorCode, `type` the string code
 * (EXPIRED_ACCESS_TOKEN…). The `status` field mirrors the HTTP status LinkedIn would use for that
 * code: token codes 656xx → 401, 100 → 403, an HTTP-like code → itself, anything else → 500.
 */
function linkedInErrorBody(error: InjectedError): string {
  const code = error.code
  const status = code >= 65600 && code <= 65699 ? 401 : code === 100 ? 403 : code >= 400 && code <= 599 ? code : 500
  return renderError({ status, serviceErrorCode: code, ...(error.type ? { code: error.type } : {}), message: error.message })
}

/** A query string in Rest.li 2.0 form: URNs encoded, the structure of `(…)` values left as is. */
function restliQueryString(query: URLSearchParams): string {
  const encode = (value: string) => (value.startsWith('(') || value.startsWith('List(') ? value.replace(/[^A-Za-z0-9_.~():,-]/g, (ch) => encodeURIComponent(ch)) : encodeURIComponent(value))
  return [...query].map(([key, value]) => `${encodeURIComponent(key)}=${encode(value)}`).join('&')
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

export { DEMO_LINKEDIN_ORGANIZATIONS } from './linkedin-scenario.ts'

/** The LinkedIn Community Management API, for the registry (simulator/networks.ts). */
export const linkedinSimulator: SimulatorModule<'linkedin'> = {
  network: 'linkedin',
  mounts: { rest: '/linkedin' },
  serve: (context) => ({ routes: createLinkedInApi(context) }),
}
