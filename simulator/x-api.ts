/**
 * The X API v2 contract (social-apis.md §3) under the `/x` prefix: `GET /2/users/:id`,
 * `GET /2/users/:id/tweets` and `GET /2/tweets?ids=`, answered from simulator/x-scenario.ts at
 * the simulator clock's time.
 *
 * - Auth: `Authorization: Bearer <token>` only. No token, or one starting with `expired` or
 *   `invalid`, answers 401 (problem body); one starting with `unenrolled` answers 403
 *   client-forbidden. A token starting with `app-` is an app-only Bearer Token; any other token
 *   is a user-context token of the account it reads.
 * - Non-public metrics: only with a user-context token and only for the account's own posts
 *   created within the last 30 days. Otherwise the post is left out of `data` and `errors[]`
 *   carries one "Field Authorization Error" per refused field, in a 200.
 * - Rate limits: every answer carries `x-rate-limit-limit/remaining/reset` (reset in epoch
 *   seconds) for a 15-minute window per token and endpoint that starts with its first call; the
 *   limit is X's 900 per window, or a quarter of the simulator's hourly budget if smaller. Over
 *   the limit: 429 with the problem body `{"title":"Too Many Requests",...}`.
 * - Every answer carries `Date` from the simulator clock, so a client can measure the reset.
 */
import type { FaultPage, InjectedError, NetworkContext, SimRequest, SimResponse, SimulatedNetwork, SimulatorModule } from './network.ts'
import { createXScenario, type Tweet, type XScenario } from './x-scenario.ts'
import { DAY_MS } from './time.ts'

const PREFIX = '/x'
const JSON_TYPE = 'application/json; charset=utf-8'
const PROBLEMS = 'https://api.twitter.com/2/problems'
const WINDOW_MS = 15 * 60_000
const DOCUMENTED_LIMIT = 900
const NON_PUBLIC_MAX_AGE_MS = 30 * DAY_MS
/** The user timeline reaches back this many posts at most. */
const TIMELINE_CAP = 3_200
const USER_ID = /^[0-9]{1,19}$/
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/

const USER_FIELDS = new Set([
  'affiliation',
  'confirmed_email',
  'connection_status',
  'created_at',
  'description',
  'entities',
  'id',
  'is_identity_verified',
  'location',
  'most_recent_tweet_id',
  'name',
  'parody',
  'pinned_tweet_id',
  'profile_banner_url',
  'profile_image_url',
  'protected',
  'public_metrics',
  'receives_your_dm',
  'subscription',
  'subscription_type',
  'url',
  'username',
  'verified',
  'verified_followers_count',
  'verified_type',
  'withheld',
])
const TWEET_FIELDS = new Set([
  'article',
  'attachments',
  'author_id',
  'card_uris',
  'community_id',
  'context_annotations',
  'conversation_id',
  'created_at',
  'display_text_range',
  'edit_controls',
  'edit_history_tweet_ids',
  'entities',
  'geo',
  'id',
  'in_reply_to_user_id',
  'lang',
  'media_metadata',
  'non_public_metrics',
  'note_tweet',
  'organic_metrics',
  'possibly_sensitive',
  'promoted_metrics',
  'public_metrics',
  'referenced_tweets',
  'reply_settings',
  'scopes',
  'source',
  'suggested_source_links',
  'text',
  'withheld',
])
const PRIVATE_FIELDS = {
  non_public_metrics: ['impression_count', 'url_link_clicks', 'user_profile_clicks'],
  organic_metrics: ['impression_count', 'like_count', 'reply_count', 'retweet_count', 'url_link_clicks', 'user_profile_clicks'],
  promoted_metrics: ['impression_count', 'like_count', 'reply_count', 'retweet_count', 'url_link_clicks', 'user_profile_clicks'],
} as const
type PrivateField = keyof typeof PRIVATE_FIELDS

/** An X error answer; handlers throw it and the dispatcher renders it. */
class XError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`X API ${status}`)
  }
}

function problem(status: number, title: string, detail: string, type = 'about:blank', extra: Record<string, unknown> = {}): XError {
  return new XError(status, type === 'about:blank' ? { title, type, status, detail, ...extra } : { title, detail, type, ...extra })
}

function invalidRequest(parameter: string, value: string, message: string): XError {
  return new XError(400, {
    errors: [{ parameters: { [parameter]: [value] }, message }],
    title: 'Invalid Request',
    detail: 'One or more parameters to your request was invalid.',
    type: `${PROBLEMS}/invalid-request`,
  })
}

function tokenOf(request: SimRequest): string | undefined {
  const header = request.headers.authorization
  return typeof header === 'string' ? /^Bearer\s+(.+)$/i.exec(header.trim())?.[1] : undefined
}

interface Caller {
  token: string
  /** An app-only Bearer Token: public data only. */
  appOnly: boolean
}

function checkToken(token: string | undefined): Caller {
  if (!token || token.startsWith('expired') || token.startsWith('invalid')) throw problem(401, 'Unauthorized', 'Unauthorized')
  if (token.startsWith('unenrolled')) {
    throw new XError(403, {
      client_id: '28400183',
      detail:
        'When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project. You can create a project via the developer portal.',
      registration_url: 'https://developer.twitter.com/en/docs/projects/overview',
      title: 'Client Forbidden',
      required_enrollment: 'Appropriate Level of API Access',
      reason: 'client-not-enrolled',
      type: `${PROBLEMS}/client-forbidden`,
    })
  }
  return { token, appOnly: token.startsWith('app-') }
}

/** `a,b,c` checked against the allowed set; the first unknown value is a 400 as X words it. */
function fieldList(query: URLSearchParams, name: string, allowed: Set<string>): Set<string> {
  const raw = query.get(name)
  const out = new Set<string>()
  if (raw === null || raw === '') return out
  for (const part of raw.split(',')) {
    if (!allowed.has(part)) {
      throw invalidRequest(name, part, `The \`${name}\` query parameter value [${part}] is not one of [${[...allowed].join(',')}]`)
    }
    out.add(part)
  }
  return out
}

function timeParam(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name)
  if (raw === null) return undefined
  const ms = TIME.test(raw) ? Date.parse(raw) : Number.NaN
  if (!Number.isFinite(ms)) throw invalidRequest(name, raw, `Invalid '${name}':'${raw}'. '${name}' must be a valid RFC 3339 date-time, such as 2026-11-26T09:00:00Z`)
  return ms
}

const iso = (ms: number) => new Date(ms).toISOString()

/** Opaque-looking paging tokens naming a position in the user's timeline. */
function pageToken(kind: 'next' | 'previous', index: number): string {
  return `${kind === 'next' ? '7140dibdnow9' : '77qpymm88g5h'}${(index * 7 + 3).toString(36)}`
}

function readPageToken(raw: string): { kind: 'next' | 'previous'; index: number } {
  const match = /^(7140dibdnow9|77qpymm88g5h)([0-9a-z]+)$/.exec(raw)
  const n = match ? parseInt(match[2]!, 36) - 3 : Number.NaN
  if (!match || !Number.isSafeInteger(n) || n < 0 || n % 7 !== 0) {
    throw invalidRequest('pagination_token', raw, `The \`pagination_token\` query parameter value [${raw}] is not valid`)
  }
  return { kind: match[1] === '7140dibdnow9' ? 'next' : 'previous', index: n / 7 }
}

function createXApi(context: NetworkContext): SimulatedNetwork[] {
  const world: XScenario = createXScenario({ seed: context.seed, today: context.today })
  const limit = Math.max(1, Math.min(DOCUMENTED_LIMIT, Math.floor(context.callsPerHour / 4)))
  const windows = new Map<string, { resetMs: number; used: number }>()

  function rateLimit(key: string, nowMs: number): { headers: Record<string, string>; allowed: boolean } {
    let window = windows.get(key)
    if (!window || nowMs >= window.resetMs) {
      window = { resetMs: nowMs + WINDOW_MS, used: 0 }
      windows.set(key, window)
    }
    const allowed = window.used < limit
    if (allowed) window.used++
    return {
      allowed,
      headers: {
        'x-rate-limit-limit': String(limit),
        'x-rate-limit-remaining': String(limit - window.used),
        'x-rate-limit-reset': String(Math.ceil(window.resetMs / 1000)),
      },
    }
  }

  function handle(request: SimRequest): SimResponse {
    const nowMs = request.now.getTime()
    const path = request.pathname.slice(PREFIX.length)
    let headers: Record<string, string> = { 'Content-Type': JSON_TYPE, Date: request.now.toUTCString(), 'x-transaction-id': request.traceId.slice(0, 16) }
    try {
      const caller = checkToken(tokenOf(request))
      const route = routeOf(path, request.method)
      const limits = rateLimit(`${caller.token} ${route.group}`, nowMs)
      headers = { ...headers, ...limits.headers }
      if (!limits.allowed) throw problem(429, 'Too Many Requests', 'Too Many Requests')
      return { status: 200, headers, body: JSON.stringify(route.answer(request, caller, nowMs)) }
    } catch (error) {
      if (!(error instanceof XError)) throw error
      return { status: error.status, headers, body: JSON.stringify(error.body) }
    }
  }

  function routeOf(path: string, method: string): { group: string; answer: (request: SimRequest, caller: Caller, nowMs: number) => unknown } {
    const segments = path.split('/').filter((s) => s !== '')
    if (method === 'GET' && segments[0] === '2') {
      if (segments[1] === 'users' && segments.length === 3) return { group: 'users/:id', answer: (r, _c, now) => userLookup(segments[2]!, r.query, now) }
      if (segments[1] === 'users' && segments.length === 4 && segments[3] === 'tweets') {
        return { group: 'users/:id/tweets', answer: (r, c, now) => userTweets(segments[2]!, r.query, c, now) }
      }
      if (segments[1] === 'tweets' && segments.length === 2) return { group: 'tweets', answer: (r, c, now) => tweetsLookup(r.query, c, now) }
    }
    throw problem(404, 'Not Found Error', `The requested resource ${method} ${path} was not found.`)
  }

  function checkUserId(id: string): void {
    if (!USER_ID.test(id)) throw invalidRequest('id', id, `The \`id\` query parameter value [${id}] does not match ^[0-9]{1,19}$`)
  }

  function userLookup(id: string, query: URLSearchParams, nowMs: number): unknown {
    checkUserId(id)
    const fields = fieldList(query, 'user.fields', USER_FIELDS)
    const profile = world.user(id)
    const out: Record<string, unknown> = { id, name: profile.name, username: profile.username }
    if (fields.has('created_at')) out.created_at = iso(profile.createdMs)
    if (fields.has('description')) out.description = `${profile.name} di X.`
    if (fields.has('protected')) out.protected = false
    if (fields.has('verified')) out.verified = false
    if (fields.has('public_metrics')) {
      out.public_metrics = {
        followers_count: world.followers(id, nowMs),
        following_count: profile.following,
        tweet_count: profile.earlierPosts + world.timelineUpTo(id, nowMs).length,
        listed_count: profile.listed,
      }
    }
    return { data: out }
  }

  /** One post as X renders it, or the field errors that keep it out of `data`. */
  function render(tweet: Tweet, fields: Set<string>, caller: Caller, userId: string | undefined, nowMs: number, parameter: string): { data?: unknown; errors: unknown[] } {
    const refused: string[] = []
    const ownedAndRecent = !caller.appOnly && !tweet.repostOf && (userId === undefined || tweet.userId === userId) && nowMs - tweet.createdMs <= NON_PUBLIC_MAX_AGE_MS
    for (const field of Object.keys(PRIVATE_FIELDS) as PrivateField[]) {
      if (!fields.has(field)) continue
      // The simulated accounts never promote posts: promoted metrics are always refused.
      if (!ownedAndRecent || field === 'promoted_metrics') refused.push(...PRIVATE_FIELDS[field].map((name) => `${field}.${name}`))
    }
    if (refused.length > 0) {
      return {
        errors: refused.map((field) => ({
          value: tweet.id,
          detail: `Sorry, you are not authorized to access '${field}' on the Tweet with ${parameter} : [${tweet.id}].`,
          title: 'Field Authorization Error',
          resource_type: 'tweet',
          parameter,
          field,
          resource_id: tweet.id,
          section: 'data',
          type: `${PROBLEMS}/not-authorized-for-field`,
        })),
      }
    }
    const c = world.counts(tweet, nowMs)
    const out: Record<string, unknown> = { id: tweet.id, text: tweet.text, edit_history_tweet_ids: [tweet.id] }
    if (fields.has('created_at')) out.created_at = iso(tweet.createdMs)
    if (fields.has('author_id')) out.author_id = tweet.userId
    if (fields.has('conversation_id')) out.conversation_id = tweet.id
    if (fields.has('lang')) out.lang = 'in'
    if (fields.has('referenced_tweets') && tweet.repostOf) out.referenced_tweets = [{ type: 'retweeted', id: tweet.repostOf.id }]
    if (fields.has('public_metrics')) {
      out.public_metrics = tweet.repostOf
        ? { retweet_count: tweet.repostOf.reposts, reply_count: 0, like_count: 0, quote_count: 0, bookmark_count: 0, impression_count: 0 }
        : { retweet_count: c.reposts, reply_count: c.replies, like_count: c.likes, quote_count: c.quotes, bookmark_count: Math.floor(c.likes / 8), impression_count: c.impressions }
    }
    if (fields.has('non_public_metrics')) out.non_public_metrics = { impression_count: c.impressions, url_link_clicks: c.linkClicks, user_profile_clicks: c.profileClicks }
    if (fields.has('organic_metrics')) {
      out.organic_metrics = {
        impression_count: c.impressions,
        like_count: c.likes,
        reply_count: c.replies,
        retweet_count: c.reposts,
        url_link_clicks: c.linkClicks,
        user_profile_clicks: c.profileClicks,
      }
    }
    return { data: out, errors: [] }
  }

  /**
   * The user's timeline, newest first. X pages the timeline before it applies `exclude`, so a
   * page may hold fewer posts than `max_results`, even none, and still carry `next_token`; the
   * last page has none. With no post at all in the range the answer is `{"meta":{"result_count":0}}`.
   */
  function userTweets(id: string, query: URLSearchParams, caller: Caller, nowMs: number): unknown {
    checkUserId(id)
    const maxRaw = query.get('max_results')
    const max = maxRaw === null ? 10 : Number(maxRaw)
    if (!Number.isInteger(max) || max < 5 || max > 100) {
      throw invalidRequest('max_results', String(maxRaw), `The \`max_results\` query parameter value [${maxRaw}] is not between 5 and 100`)
    }
    const fields = fieldList(query, 'tweet.fields', TWEET_FIELDS)
    const exclude = fieldList(query, 'exclude', new Set(['retweets', 'replies']))
    const start = timeParam(query, 'start_time')
    const end = timeParam(query, 'end_time')
    if (start !== undefined && end !== undefined && end <= start) {
      throw invalidRequest('end_time', query.get('end_time')!, 'The `end_time` query parameter value must be after the `start_time` query parameter value')
    }
    const tokenRaw = query.get('pagination_token')
    const token = tokenRaw === null ? undefined : readPageToken(tokenRaw)

    const all = world.timelineUpTo(id, nowMs)
    // Newest first, within the most recent 3,200 and the time range.
    let range = all.slice(Math.max(0, all.length - TIMELINE_CAP)).reverse()
    range = range.filter((t) => (start === undefined || t.createdMs >= start) && (end === undefined || t.createdMs < end))
    if (range.length === 0) return { meta: { result_count: 0 } }

    let raw: Tweet[]
    if (token?.kind === 'previous') {
      const newer = range.filter((t) => t.index > token.index)
      raw = newer.slice(Math.max(0, newer.length - max))
    } else {
      const from = token ? range.findIndex((t) => t.index < token.index) : 0
      raw = from < 0 ? [] : range.slice(from, from + max)
    }
    const data: unknown[] = []
    const errors: unknown[] = []
    for (const tweet of raw) {
      if (tweet.repostOf && exclude.has('retweets')) continue
      const rendered = render(tweet, fields, caller, id, nowMs, 'id')
      if (rendered.data) data.push(rendered.data)
      errors.push(...rendered.errors)
    }
    const meta: Record<string, unknown> = { result_count: data.length }
    if (data.length > 0) {
      meta.newest_id = (data[0] as { id: string }).id
      meta.oldest_id = (data[data.length - 1] as { id: string }).id
    }
    const oldest = raw[raw.length - 1]
    const newest = raw[0]
    if (oldest && range[range.length - 1]!.index < oldest.index) meta.next_token = pageToken('next', oldest.index)
    if (newest && range[0]!.index > newest.index) meta.previous_token = pageToken('previous', newest.index)
    const out: Record<string, unknown> = {}
    if (data.length > 0) out.data = data
    if (errors.length > 0) out.errors = errors
    out.meta = meta
    return out
  }

  function tweetsLookup(query: URLSearchParams, caller: Caller, nowMs: number): unknown {
    const raw = query.get('ids') ?? ''
    const ids = raw.split(',').filter((s) => s !== '')
    if (ids.length === 0 || ids.length > 100) throw invalidRequest('ids', raw, `The number of values in the \`ids\` query parameter list [${ids.length}] is not between 1 and 100`)
    for (const id of ids) if (!USER_ID.test(id)) throw invalidRequest('ids', id, `The \`ids\` query parameter value [${id}] does not match ^[0-9]{1,19}$`)
    const fields = fieldList(query, 'tweet.fields', TWEET_FIELDS)
    const data: unknown[] = []
    const errors: unknown[] = []
    for (const id of ids) {
      const tweet = world.tweet(id, nowMs)
      if (!tweet) {
        errors.push({
          value: id,
          detail: `Could not find tweet with ids: [${id}].`,
          title: 'Not Found Error',
          resource_type: 'tweet',
          parameter: 'ids',
          resource_id: id,
          type: `${PROBLEMS}/resource-not-found`,
        })
        continue
      }
      const rendered = render(tweet, fields, caller, undefined, nowMs, 'ids')
      if (rendered.data) data.push(rendered.data)
      errors.push(...rendered.errors)
    }
    const out: Record<string, unknown> = {}
    if (data.length > 0) out.data = data
    if (errors.length > 0) out.errors = errors
    return out
  }

  return [
    {
      prefix: PREFIX,
      tokenOf,
      handle,
      errorBody: xErrorBody,
      continueList,
    },
  ]
}

/** A timeline page (`meta`) with a next page at a fault's `next_token` (simulator/index.ts). */
function continueList(body: Record<string, unknown>, _request: SimRequest, page: FaultPage): boolean {
  if (!body.meta || typeof body.meta !== 'object') return false
  if (!page.keepItems) {
    delete body.data
    delete body.errors
    body.meta = { result_count: 0 }
  }
  ;(body.meta as Record<string, unknown>).next_token = `7140dibdnow9c7btw4${String(page.step).padStart(8, '0')}`
  return true
}

/**
 * An injected error in X's words: with a `type` (a problem URL or `about:blank`) the RFC 7807
 * body `{title, detail, type, status}`, otherwise the legacy `{"errors":[{code, message}]}`.
 */
function xErrorBody(error: InjectedError): string {
  if (error.type) return JSON.stringify({ title: error.message, detail: error.message, type: error.type, status: error.code })
  return JSON.stringify({ errors: [{ code: error.code, message: error.message }] })
}

export { DEMO_X_USERS } from './x-scenario.ts'

/** X API v2, for the registry (simulator/networks.ts). */
export const xSimulator: SimulatorModule<'x'> = {
  network: 'x',
  mounts: { v2: '/x' },
  serve: (context) => ({ routes: createXApi(context) }),
}
