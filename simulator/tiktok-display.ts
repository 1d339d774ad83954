/**
 * The TikTok Display API v2 (social-apis.md §6.1) under `/tiktok`: `GET /v2/user/info/` and
 * `POST /v2/video/list/`, with a Login Kit user token in `Authorization: Bearer …`.
 *
 * Every answer is `{"data":{…},"error":{"code":"ok","message":"","log_id":"…"}}`; failures carry
 * TikTok's readable code and HTTP status: access_token_invalid 401, scope_not_authorized 401,
 * scope_permission_missed 400, invalid_params 400, rate_limit_exceeded 429 (600 calls per
 * endpoint and token in a one-minute sliding window; no rate headers are documented).
 *
 * The token names the user (the API takes no user id): a token `<secret>~<open_id>` is that
 * user's, any other token the demo account's (TIKTOK_DEMO_ACCOUNTS.display). Tokens starting with
 * `expired` or `invalid` are refused, `noscope` lacks every scope, `novideo` lacks video.list and
 * `nostats` lacks user.info.stats. An injected fault's `type` is rendered as the error code.
 */
import { createCallWindow } from './call-window.ts'
import type { FaultPage, InjectedError, NetworkContext, SimRequest, SimResponse, SimulatedNetwork } from './network.ts'
import { continueVideoList, jsonResponse, subPath, tiktokLogId, videoPage } from './tiktok-common.ts'
import { TIKTOK_DEMO_ACCOUNTS, type TikTokScenario, type TikTokVideo } from './tiktok-scenario.ts'

const DISPLAY_PREFIX = '/tiktok'
/** Requests per endpoint and token in any minute (developers.tiktok.com/doc/tiktok-api-v2-rate-limit). */
const DISPLAY_CALLS_PER_MINUTE = 600

const USER_FIELDS = new Set([
  'open_id',
  'union_id',
  'avatar_url',
  'display_name',
  'username',
  'bio_description',
  'profile_deep_link',
  'is_verified',
  'follower_count',
  'following_count',
  'likes_count',
  'video_count',
])
/** Fields that need the user.info.stats scope. */
const STATS_FIELDS = new Set(['follower_count', 'following_count', 'likes_count', 'video_count'])
const VIDEO_FIELDS = new Set(['id', 'create_time', 'title', 'video_description', 'duration', 'cover_image_url', 'share_url', 'like_count', 'comment_count', 'share_count', 'view_count'])
const DEFAULT_MAX_COUNT = 10
const MAX_COUNT = 20

/** A Display API token for `openId`: what a test uses to read an account other than the demo one. */
export function displayTokenFor(openId: string, secret = 'act.simulated'): string {
  return `${secret}~${openId}`
}

class DisplayError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

const invalidParams = (message: string) => new DisplayError(400, 'invalid_params', message)
const scopeNotAuthorized = () => new DisplayError(401, 'scope_not_authorized', 'The user did not authorize the scope required for completing this request.')

function bearer(request: SimRequest): string | undefined {
  const header = request.headers.authorization
  return typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header.trim())?.[1] : undefined
}

export function createTikTokDisplayApi(context: NetworkContext, scenario: TikTokScenario): SimulatedNetwork {
  const calls = createCallWindow(DISPLAY_CALLS_PER_MINUTE, 60_000)
  const body = (data: unknown, logId: string) => ({ data, error: { code: 'ok', message: '', log_id: logId } })
  const errorBody = (code: string, message: string, logId: string) => JSON.stringify({ data: {}, error: { code, message, log_id: logId } })

  function handle(request: SimRequest): SimResponse {
    const nowMs = request.now.getTime()
    const logId = tiktokLogId(nowMs, context.seed, request.traceId)
    const headers = { 'x-tt-logid': logId }
    try {
      const token = bearer(request)
      if (!token) throw new DisplayError(401, 'access_token_invalid', 'The access token is invalid or not found in the request.')
      if (token.startsWith('expired') || token.startsWith('invalid')) throw new DisplayError(401, 'access_token_invalid', 'Access token is invalid, please refresh token and retry.')
      if (token.startsWith('noscope')) throw scopeNotAuthorized()
      const path = subPath(request.pathname, DISPLAY_PREFIX)
      const route = path === '/v2/user/info' ? 'user' : path === '/v2/video/list' ? 'videos' : undefined
      if (!route) throw new DisplayError(404, 'invalid_params', `The requested path ${path} does not exist.`)
      const decision = calls.take(`${token} ${route}`, nowMs)
      if (!decision.allowed) throw new DisplayError(429, 'rate_limit_exceeded', 'The API rate limit was exceeded. Please try again later.')
      const openId = token.includes('~') ? token.slice(token.lastIndexOf('~') + 1) : TIKTOK_DEMO_ACCOUNTS.display.id
      const data = route === 'user' ? userInfo(request, token, openId, nowMs) : videoList(request, token, openId, nowMs)
      return jsonResponse(200, body(data, logId), headers)
    } catch (error) {
      if (!(error instanceof DisplayError)) throw error
      return { status: error.status, headers: { 'Content-Type': 'application/json; charset=utf-8', ...headers }, body: errorBody(error.code, error.message, logId) }
    }
  }

  function requestedFields(request: SimRequest, known: Set<string>): string[] {
    const raw = request.query.get('fields')
    if (!raw || raw.trim() === '') throw invalidParams('fields is required.')
    const fields = [
      ...new Set(
        raw
          .split(',')
          .map((f) => f.trim())
          .filter((f) => f !== ''),
      ),
    ]
    const unknown = fields.filter((f) => !known.has(f))
    if (unknown.length > 0) throw invalidParams(`Invalid fields: ${unknown.join(',')}`)
    return fields
  }

  function userInfo(request: SimRequest, token: string, openId: string, nowMs: number): unknown {
    if (request.method !== 'GET') throw new DisplayError(405, 'invalid_params', 'Use GET for /v2/user/info/.')
    const fields = requestedFields(request, USER_FIELDS)
    if (token.startsWith('nostats') && fields.some((f) => STATS_FIELDS.has(f))) {
      throw new DisplayError(400, 'scope_permission_missed', 'Access token is invalid, some fields need additional scopes: user.info.stats')
    }
    const p = scenario.profile(openId)
    const values: Record<string, unknown> = {
      open_id: openId,
      union_id: `u-${openId}`,
      avatar_url: `https://p16-sign.tiktokcdn.com/simulated/${encodeURIComponent(openId)}.jpeg`,
      display_name: p.name,
      username: p.username,
      bio_description: 'Kopi pilihan Nusantara ☕',
      profile_deep_link: `https://vm.tiktok.com/${p.username}/`,
      is_verified: false,
      follower_count: scenario.followers(openId, nowMs),
      following_count: 40,
      likes_count: scenario.totalLikes(openId, nowMs),
      video_count: scenario.videoCount(openId, nowMs),
    }
    return { user: Object.fromEntries(fields.map((f) => [f, values[f]])) }
  }

  function videoList(request: SimRequest, token: string, openId: string, nowMs: number): unknown {
    if (request.method !== 'POST') throw new DisplayError(405, 'invalid_params', 'Use POST for /v2/video/list/.')
    if (token.startsWith('novideo')) throw scopeNotAuthorized()
    const contentType = String(request.headers['content-type'] ?? '')
    if (!/^application\/json\b/i.test(contentType)) throw invalidParams('Content-Type must be application/json.')
    const fields = requestedFields(request, VIDEO_FIELDS)
    let input: { max_count?: unknown; cursor?: unknown }
    try {
      input = request.body.trim() === '' ? {} : (JSON.parse(request.body) as typeof input)
    } catch {
      throw invalidParams('The request body is not valid JSON.')
    }
    if (typeof input !== 'object' || input === null) throw invalidParams('The request body must be a JSON object.')
    const maxCount = input.max_count ?? DEFAULT_MAX_COUNT
    if (typeof maxCount !== 'number' || !Number.isInteger(maxCount) || maxCount < 1 || maxCount > MAX_COUNT) throw invalidParams('max_count must be an integer from 1 to 20.')
    const cursor = input.cursor
    if (cursor !== undefined && (typeof cursor !== 'number' || !Number.isInteger(cursor) || cursor < 0)) throw invalidParams('cursor must be a UTC Unix timestamp in milliseconds.')

    const page = videoPage(scenario.videosUpTo(openId, nowMs), cursor, maxCount)
    return { videos: page.listed.map((v) => videoFields(v, fields, nowMs)), cursor: page.cursor, has_more: page.hasMore }
  }

  function videoFields(video: TikTokVideo, fields: string[], nowMs: number): Record<string, unknown> {
    const counts = scenario.counts(video, nowMs)
    const values: Record<string, unknown> = {
      id: video.id,
      create_time: Math.floor(video.createMs / 1000),
      title: 'Kopi susu gula aren, cara kami',
      video_description: 'Kopi susu gula aren, cara kami #kopi #nusantara',
      duration: 15 + (Number(video.id.slice(-2)) % 45),
      cover_image_url: `https://p16-sign.tiktokcdn.com/simulated/${video.id}.jpeg`,
      share_url: `https://www.tiktok.com/@${scenario.profile(video.accountId).username}/video/${video.id}`,
      like_count: counts.likes,
      comment_count: counts.comments,
      share_count: counts.shares,
      view_count: counts.views,
    }
    return Object.fromEntries(fields.map((f) => [f, values[f]]))
  }

  return {
    prefix: DISPLAY_PREFIX,
    tokenOf: bearer,
    handle,
    errorBody: (error: InjectedError, traceId: string) => errorBody(error.type ?? 'internal_error', error.message, tiktokLogId(undefined, context.seed, traceId)),
    // The Display cursor is a time in ms: a second earlier per page keeps it inside any window.
    continueList: (body: Record<string, unknown>, _request: SimRequest, page: FaultPage) => continueVideoList(body, page, ({ anchorMs, step }) => anchorMs - step * 1000),
  }
}
