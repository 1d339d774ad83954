/**
 * Facebook Pages inside the Graph simulator (social-apis.md §1): the Page and Post nodes, the
 * /posts edge and insights, each Page's usage headers and per-token call budget. Every answer is
 * computed from the scenario (scenario.ts) at the simulator clock's current time. The Graph host
 * (graph-routes.ts) hands it every object id no other family owns: Graph treats those as Pages.
 */
import { createCallWindow } from './call-window.ts'
import {
  GraphError,
  linkWith,
  nonexistingField,
  parseFields,
  parseTimeParam,
  unsupportedRequest,
  invalidParameter,
  type FieldRequest,
  type GraphFamily,
  type GraphFamilyRequest,
} from './graph-common.ts'
import { pageInsights, postInsights, type InsightsCall } from './graph-insights.ts'
import type { SimulatorModule } from './network.ts'
import { createScenario, type Post, type PostCounts, type Scenario, type Story } from './scenario.ts'
import { graphTime, HOUR_MS } from './time.ts'

const PAGE_ID = /^\d+$/
const POST_ID = /^(\d+)_(\d+)$/

const PAGE_FIELDS = ['id', 'name', 'followers_count', 'fan_count', 'talking_about_count'] as const
const POST_FIELDS = ['id', 'created_time', 'message', 'permalink_url', 'shares', 'reactions', 'comments'] as const
const DEFAULT_PAGE_FIELDS = 'id,name'
/** Graph's default for a post: created_time, message (when there is one) and id. */
const DEFAULT_POST_FIELDS = 'created_time,message,id'

const POSTS_DEFAULT_LIMIT = 25
/** Larger `limit` values are capped to this, as Graph caps edge pages. */
const POSTS_MAX_LIMIT = 100

/** Reaction types accepted by `reactions.type(X)`, mapped to the scenario's insight keys. */
const REACTION_FILTER: Record<string, keyof PostCounts['reactions'] | null> = {
  NONE: null,
  LIKE: 'like',
  LOVE: 'love',
  WOW: 'wow',
  HAHA: 'haha',
  SAD: 'sorry',
  ANGRY: 'anger',
  THANKFUL: null,
  PRIDE: null,
  CARE: null,
}

export interface PagesGraphOptions {
  scenario: Scenario
  /** Calls per token in any sliding hour. */
  callsPerHour: number
}

function createPagesGraph(options: PagesGraphOptions): GraphFamily {
  const { scenario, callsPerHour } = options
  const calls = createCallWindow(callsPerHour, HOUR_MS)

  function usageHeaders(percent: number, pageId: string | undefined, regainMinutes: number): Record<string, string> {
    const headers: Record<string, string> = {
      'X-App-Usage': JSON.stringify({ call_count: percent, total_time: percent, total_cputime: percent }),
    }
    if (pageId !== undefined) {
      headers['X-Business-Use-Case-Usage'] = JSON.stringify({
        [pageId]: [{ type: 'pages', call_count: percent, total_cputime: percent, total_time: percent, estimated_time_to_regain_access: regainMinutes }],
      })
    }
    return headers
  }

  /** Takes one call from the token's hourly budget: the usage headers of a success, or Graph's throttle error. */
  function admit(token: string, segments: string[], nowMs: number): Record<string, string> {
    const objectId = segments[0] ?? ''
    const pageId = PAGE_ID.test(objectId) ? objectId : POST_ID.exec(objectId)?.[1]
    const decision = calls.take(token, nowMs)
    if (!decision.allowed) {
      const regainMinutes = Math.max(1, Math.ceil(decision.regainMs / 60_000))
      throw new GraphError(
        {
          message:
            '(#80001) There have been too many calls to this Page account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.',
          type: 'OAuthException',
          code: 80001,
        },
        // HTTP status for throttling is UNCONFIRMED; Graph clients key on error.code.
        { headers: usageHeaders(100, pageId, regainMinutes) },
      )
    }
    return usageHeaders(Math.min(100, Math.floor((decision.used * 100) / callsPerHour)), pageId, 0)
  }

  function route(request: GraphFamilyRequest, segments: string[], nowMs: number): unknown {
    const [id = '', edge, extra, ...rest] = segments
    const postMatch = POST_ID.exec(id)
    const insights = (pageId: string, pathMetric: string | undefined): InsightsCall => ({
      scenario,
      pageId,
      objectId: id,
      pathMetric,
      query: request.query,
      pathname: request.pathname,
      baseUrl: request.baseUrl,
      nowMs,
    })
    if (rest.length > 0 || (extra !== undefined && edge !== 'insights')) throw unsupportedRequest(request.method, id)
    if (PAGE_ID.test(id)) {
      if (edge === undefined) return pageNode(id, request.query, nowMs)
      if (edge === 'posts') return postsEdge(request, id, nowMs)
      if (edge === 'insights') return pageInsights(insights(id, extra))
      throw nonexistingField(edge, 'Page')
    }
    if (postMatch) {
      const post = scenario.post(postMatch[1]!, Number(postMatch[2]), nowMs)
      if (!post) throw unsupportedRequest(request.method, id)
      if (edge === undefined) return postNode(post, parseFields(request.query.get('fields') ?? DEFAULT_POST_FIELDS, 'Post'), nowMs)
      if (edge === 'insights') return postInsights({ ...insights(postMatch[1]!, extra), post })
      throw nonexistingField(edge, 'Post')
    }
    throw unsupportedRequest(request.method, id)
  }

  function pageNode(pageId: string, query: URLSearchParams, nowMs: number): unknown {
    const fields = parseFields(query.get('fields'), 'Page') ?? parseFields(DEFAULT_PAGE_FIELDS, 'Page')!
    for (const field of fields) if (!(PAGE_FIELDS as readonly string[]).includes(field.name)) throw nonexistingField(field.name, 'Page')
    const profile = scenario.page(pageId)
    const out: Record<string, unknown> = {}
    for (const { name } of fields) {
      if (name === 'id') out.id = pageId
      else if (name === 'name') out.name = profile.name
      // New Page Experience Pages report followers as fan_count too (social-apis.md §1.2).
      else if (name === 'followers_count' || name === 'fan_count') out[name] = scenario.followers(pageId, nowMs)
      else if (name === 'talking_about_count') out.talking_about_count = scenario.talkingAbout(pageId, nowMs)
    }
    // Graph always includes the node's id, last when it was not asked for.
    if (!('id' in out)) out.id = pageId
    return out
  }

  function postNode(post: Post, fields: FieldRequest[] | undefined, nowMs: number): Record<string, unknown> {
    const requested = fields ?? parseFields(DEFAULT_POST_FIELDS, 'Post')!
    for (const field of requested) if (!(POST_FIELDS as readonly string[]).includes(field.name)) throw nonexistingField(field.name, 'Post')
    const counts = scenario.postCounts(post, nowMs)
    const out: Record<string, unknown> = {}
    for (const field of requested) {
      switch (field.name) {
        case 'id':
          out.id = post.id
          break
        case 'created_time':
          out.created_time = graphTime(post.createdMs)
          break
        case 'message':
          if (post.message !== undefined) out.message = post.message
          break
        case 'permalink_url':
          out.permalink_url = post.permalinkUrl
          break
        case 'shares':
          // Graph leaves `shares` out when a post has none.
          if (counts.shares > 0) out.shares = { count: counts.shares }
          break
        case 'reactions':
          out[field.key] = reactionsEdge(post, field, counts)
          break
        case 'comments':
          out[field.key] = commentsEdge(post, field, counts)
          break
      }
    }
    if (!('id' in out)) out.id = post.id
    return out
  }

  /**
   * `reactions[.type(X)][.limit(n)][.summary(total_count|true)]`. The simulator never lists
   * individual reactions: `data` is always empty, the summary carries the count.
   */
  function reactionsEdge(post: Post, field: FieldRequest, counts: PostCounts): unknown {
    const type = field.modifiers.get('type')?.toUpperCase()
    let total = counts.reactionsTotal
    if (type !== undefined) {
      if (!(type in REACTION_FILTER)) {
        // UNCONFIRMED: wording modelled on Graph's enum-parameter errors.
        throw invalidParameter(`(#100) type must be one of the following values: ${Object.keys(REACTION_FILTER).join(', ')}`)
      }
      const key = REACTION_FILTER[type]
      total = key ? counts.reactions[key] : 0
    }
    return edgeWithSummary(post, 'reactions', field, total, { total_count: total, viewer_reaction: 'NONE' })
  }

  function commentsEdge(post: Post, field: FieldRequest, counts: PostCounts): unknown {
    return edgeWithSummary(post, 'comments', field, counts.comments, { order: 'ranked', total_count: counts.comments, can_comment: true })
  }

  /** `{data: [], paging?, summary?}`: `summary(total_count)` gives the count, `summary(true)` the full summary. */
  function edgeWithSummary(post: Post, edge: string, field: FieldRequest, total: number, fullSummary: Record<string, unknown>): unknown {
    const out: Record<string, unknown> = { data: [] }
    if (total > 0) {
      const cursor = (end: string) => Buffer.from(`${post.id}:${edge}:${end}`).toString('base64url')
      out.paging = { cursors: { before: cursor('first'), after: cursor('last') } }
    }
    const summary = field.modifiers.get('summary')
    if (summary === 'total_count') out.summary = { total_count: total }
    else if (summary === 'true' || summary === '1') out.summary = fullSummary
    return out
  }

  /**
   * The /posts edge, newest first, with cursor paging. Graph pages the Page's feed and then
   * filters out stories that are not posts, so a page of `data` may be short or empty while
   * `next` is still present; `next` is absent only on the last page. `since`/`until` (unix
   * seconds or dates) restrict by created_time. `before` (paging backwards) is not supported.
   */
  function postsEdge(request: GraphFamilyRequest, pageId: string, nowMs: number): unknown {
    const query = request.query
    const fields = parseFields(query.get('fields'), 'Post')
    for (const field of fields ?? []) if (!(POST_FIELDS as readonly string[]).includes(field.name)) throw nonexistingField(field.name, 'Post')
    const limit = parseLimit(query.get('limit'))
    const since = parseTimeParam('since', query.get('since'))
    const until = parseTimeParam('until', query.get('until'))
    const after = query.get('after')
    const startBefore = after ? decodeCursor(after) : Number.POSITIVE_INFINITY

    let stories: readonly Story[] = scenario.storiesUpTo(pageId, until !== undefined ? Math.min(until, nowMs) : nowMs)
    if (since !== undefined) stories = stories.filter((s) => s.createdMs >= since)
    // Newest first, strictly older than the cursor.
    const older = stories.filter((s) => s.index < startBefore)
    const window = older.slice(Math.max(0, older.length - limit)).reverse()
    if (window.length === 0) return { data: [] }
    const data = window.flatMap((story) => (story.post ? [postNode(story.post, fields, nowMs)] : []))
    const first = window[0]!
    const last = window[window.length - 1]!
    const paging: Record<string, unknown> = { cursors: { before: encodeCursor(first.index), after: encodeCursor(last.index) } }
    if (older.length > window.length) {
      paging.next = linkWith(request.baseUrl, request.pathname, query, { limit: String(limit), after: encodeCursor(last.index), before: undefined })
    }
    return { data, paging }
  }

  return {
    // Graph answers any id no other family owns as a Page (or with an error about one).
    owns: () => true,
    fallback: true,
    admit,
    route: (request, segments, _token, nowMs) => route(request, segments, nowMs),
  }
}

function parseLimit(value: string | null): number {
  if (value === null || value.trim() === '') return POSTS_DEFAULT_LIMIT
  const limit = Number(value)
  if (!Number.isInteger(limit) || limit < 1) {
    // UNCONFIRMED: Graph's wording for a bad limit.
    throw invalidParameter('(#100) The parameter limit must be a positive integer')
  }
  return Math.min(limit, POSTS_MAX_LIMIT)
}

/** Opaque-looking cursors (Graph's are base64 too); they name a position in the Page's feed. */
function encodeCursor(index: number): string {
  return Buffer.from(`feed:${index}`).toString('base64url')
}

function decodeCursor(cursor: string): number {
  const match = /^feed:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'))
  // UNCONFIRMED: Graph's wording for a cursor it cannot read.
  if (!match) throw invalidParameter('(#100) The After Cursor specified is invalid')
  return Number(match[1])
}

/** Facebook Pages: a Graph node family at the simulator's root (FACEBOOK_GRAPH_URL). */
export const facebookSimulator: SimulatorModule<'facebook'> = {
  network: 'facebook',
  mounts: { graph: '' },
  serve: (context) => ({ graphFamily: createPagesGraph({ scenario: createScenario({ seed: context.seed, today: context.today }), callsPerHour: context.callsPerHour }) }),
}
