/**
 * The Graph API host: versioned paths, the access token, debug_token, and the node families of the
 * networks that live on Graph (Facebook Pages, Instagram accounts, ad accounts), each served by its
 * own module (graph-pages.ts, graph-instagram.ts, graph-ads.ts) with its own budget and headers.
 */
import { GraphError, graphErrorBody, invalidParameter, linkWith, unsupportedRequest, type GraphFamily } from './graph-common.ts'
import type { FaultPage, SimRequest, SimResponse, SimulatedNetwork } from './network.ts'
import { HOUR_MS, pacificLongTime } from './time.ts'

const VERSIONED = /^\/(v\d+\.0)(\/.*)?$/
const JSON_TYPE = 'application/json; charset=UTF-8'

export interface GraphApiOptions {
  /** The node families; the path's object id picks one, else the fallback (Pages). */
  families: GraphFamily[]
  /** GET /{version}/debug_token: the answer for `input_token` (simulator/oauth.ts). */
  debugToken?: (inputToken: string, nowMs: number) => unknown
}

/** Graph takes the token from `Authorization: Bearer …` or the `access_token` parameter. */
function tokenOf(request: SimRequest): string | undefined {
  const header = request.headers.authorization
  const bearer = typeof header === 'string' ? /^Bearer\s+(.+)$/i.exec(header.trim())?.[1] : undefined
  return bearer ?? request.query.get('access_token') ?? undefined
}

/** The request's token if Graph would accept it; otherwise the Graph error for it. */
function checkToken(token: string | undefined, nowMs: number): string {
  if (!token) {
    throw new GraphError(
      { message: 'An access token is required to request this resource.', type: 'OAuthException', code: 104 },
      { headers: { 'WWW-Authenticate': 'OAuth "Facebook Platform" "invalid_request" "An access token is required to request this resource."' } },
    )
  }
  // HTTP status for code 190 is UNCONFIRMED (400 or 401 in the wild); we answer 400.
  if (token.startsWith('expired')) {
    const expiredAt = Math.floor(nowMs / HOUR_MS) * HOUR_MS - HOUR_MS
    const message = `Error validating access token: Session has expired on ${pacificLongTime(expiredAt)}. The current time is ${pacificLongTime(nowMs)}.`
    throw new GraphError({ message, type: 'OAuthException', code: 190, error_subcode: 463 }, { headers: { 'WWW-Authenticate': `OAuth "Facebook Platform" "invalid_token" "${message}"` } })
  }
  if (token.startsWith('invalid')) {
    const message = 'Invalid OAuth access token - Cannot parse access token'
    throw new GraphError({ message, type: 'OAuthException', code: 190, error_subcode: 467 }, { headers: { 'WWW-Authenticate': `OAuth "Facebook Platform" "invalid_token" "${message}"` } })
  }
  return token
}

export function createGraphApi(options: GraphApiOptions): SimulatedNetwork {
  const { families } = options

  function handle(request: SimRequest): SimResponse {
    const nowMs = request.now.getTime()
    const versioned = VERSIONED.exec(request.pathname)
    const version = versioned?.[1]
    const segments = (versioned ? (versioned[2] ?? '') : request.pathname)
      .split('/')
      .filter((s) => s !== '')
      .map(safeDecode)
    const baseHeaders: Record<string, string> = { 'Content-Type': JSON_TYPE, 'x-fb-trace-id': request.traceId }
    if (version) baseHeaders['facebook-api-version'] = version
    const objectId = segments[0] ?? ''
    // An unversioned path is charged to the fallback family, then refused.
    const fallback = families.find((f) => f.fallback)
    const family = version ? (families.find((f) => !f.fallback && f.owns(objectId)) ?? fallback) : fallback
    let headers = baseHeaders
    try {
      const token = checkToken(tokenOf(request), nowMs)
      if (!family) throw unsupportedRequest(request.method, objectId)
      headers = { ...baseHeaders, ...family.admit(token, segments, nowMs) }
      if (!version || request.method !== 'GET') throw unsupportedRequest(request.method, objectId)
      return { status: 200, headers, body: JSON.stringify(route(request, segments, token, family, nowMs)) }
    } catch (error) {
      if (!(error instanceof GraphError)) throw error
      return { status: error.status, headers: { ...headers, ...error.headers }, body: graphErrorBody(error.fields, request.traceId) }
    }
  }

  function route(request: SimRequest, segments: string[], token: string, family: GraphFamily, nowMs: number): unknown {
    if (segments.length === 1 && segments[0] === 'debug_token' && options.debugToken) {
      const inputToken = request.query.get('input_token')
      if (!inputToken) throw invalidParameter('(#100) The parameter input_token is required')
      return options.debugToken(inputToken, nowMs)
    }
    return family.route(request, segments, token, nowMs)
  }

  return {
    prefix: '/',
    tokenOf,
    handle,
    errorBody: (error, traceId) => graphErrorBody({ ...error, type: error.type ?? 'OAuthException' }, traceId),
    continueList,
  }
}

/** A Graph edge page (`data` and `paging`) with a next page at a fault's cursor (simulator/index.ts). */
function continueList(body: Record<string, unknown>, request: SimRequest, page: FaultPage): boolean {
  if (!Array.isArray(body.data)) return false
  if (!page.keepItems) body.data = []
  const after = Buffer.from(`fault:${page.step}`).toString('base64url')
  body.paging = { cursors: { before: after, after }, next: linkWith(request.baseUrl, request.pathname, request.query, { after }) }
  return true
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}
