/**
 * The TikTok API for Business, Accounts API (social-apis.md §6.2) under `/tiktok-business`:
 * `GET /v1.3/business/get/` and `GET /v1.3/business/video/list/`, with the token in the
 * `Access-Token` header (no "Bearer").
 *
 * Every answer is HTTP 200 `{"code":…,"message":…,"request_id":…,"data":{…}}`; code 0 is success.
 * Codes: 40001 no permission for this account, 40002 bad parameter, 40100 too many requests,
 * 40102 token expired, 40104 no token, 40105 token incorrect or revoked. `fields` and `filters`
 * are JSON arrays/objects in the query string. Each token has `callsPerHour` calls in any sliding
 * hour (TikTok limits per app and second/minute/day; the exact figures are not published here).
 *
 * Tokens starting with `expired`, `invalid` or `noperm` get 40102, 40105 and 40001. An injected
 * fault's `code` is rendered as the Business code (send it with `status: 200`, as TikTok does).
 *
 * UNCONFIRMED here: the 30-day limit on start_date…end_date, the 60-day retention of daily
 * values, their UTC days, 40104's message, and `create_time` as a string of Unix seconds.
 */
import { DateTime } from 'luxon'
import { createCallWindow } from './call-window.ts'
import type { FaultPage, InjectedError, NetworkContext, SimRequest, SimResponse, SimulatedNetwork } from './network.ts'
import { continueVideoList, jsonResponse, subPath, tiktokLogId, videoPage } from './tiktok-common.ts'
import type { TikTokScenario, TikTokVideo } from './tiktok-scenario.ts'
import { DAY_MS, HOUR_MS } from './time.ts'

const BUSINESS_PREFIX = '/tiktok-business'
/** Longest start_date…end_date span, both days included. */
const BUSINESS_MAX_RANGE_DAYS = 30

const ACCOUNT_FIELDS = new Set(['is_business_account', 'username', 'display_name', 'profile_image', 'bio_description', 'followers_count', 'following_count', 'total_likes', 'videos_count'])
const DAILY_FIELDS = new Set(['video_views', 'likes', 'comments', 'shares', 'profile_views', 'bio_link_clicks', 'daily_total_followers'])
const DEFAULT_ACCOUNT_FIELDS = ['display_name', 'profile_image']
const VIDEO_FIELDS = new Set(['item_id', 'create_time', 'thumbnail_url', 'share_url', 'embed_url', 'caption', 'video_duration', 'likes', 'comments', 'shares', 'video_views', 'reach'])
const DEFAULT_MAX_COUNT = 20
const MAX_COUNT = 20

class BusinessError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message)
  }
}

const paramError = (message: string) => new BusinessError(40002, message)

function accessToken(request: SimRequest): string | undefined {
  const header = request.headers['access-token']
  const value = Array.isArray(header) ? header[0] : header
  return value && value.trim() !== '' ? value.trim() : undefined
}

export function createTikTokBusinessApi(context: NetworkContext, scenario: TikTokScenario): SimulatedNetwork {
  const calls = createCallWindow(context.callsPerHour, HOUR_MS)
  const envelope = (code: number, message: string, requestId: string, data: unknown = {}) => ({ code, message, request_id: requestId, data })

  function handle(request: SimRequest): SimResponse {
    const nowMs = request.now.getTime()
    const requestId = tiktokLogId(nowMs, context.seed, request.traceId)
    try {
      const token = accessToken(request)
      if (!token) throw new BusinessError(40104, 'Access token is null, please carry the access token in the request header.')
      if (token.startsWith('expired')) throw new BusinessError(40102, 'Access token has expired.')
      if (token.startsWith('invalid')) throw new BusinessError(40105, 'Access token is incorrect or has been revoked.')
      if (!calls.take(token, nowMs).allowed) throw new BusinessError(40100, 'Too many requests. Please retry in some time.')
      const path = subPath(request.pathname, BUSINESS_PREFIX)
      const match = /^\/v1\.\d+\/business\/(get|video\/list)$/.exec(path)
      if (!match || request.method !== 'GET') return jsonResponse(404, envelope(40002, `The API ${request.method} ${path} does not exist.`, requestId))
      const businessId = request.query.get('business_id')
      if (!businessId || businessId.trim() === '') throw paramError('business_id: Missing data for required field.')
      if (token.startsWith('noperm')) throw new BusinessError(40001, `No permission to operate tiktok creator id: ${businessId}`)
      const data = match[1] === 'get' ? account(request, businessId, nowMs) : videoList(request, businessId, nowMs)
      return jsonResponse(200, envelope(0, 'OK', requestId, data))
    } catch (error) {
      if (!(error instanceof BusinessError)) throw error
      return jsonResponse(200, envelope(error.code, error.message, requestId))
    }
  }

  function jsonParam<T>(request: SimRequest, name: string): T | undefined {
    const raw = request.query.get(name)
    if (raw === null || raw.trim() === '') return undefined
    try {
      return JSON.parse(raw) as T
    } catch {
      throw paramError(`${name}: Not a valid JSON value.`)
    }
  }

  function fieldList(request: SimRequest, known: Set<string>, fallback: string[]): string[] {
    const fields = jsonParam<unknown>(request, 'fields') ?? fallback
    if (!Array.isArray(fields) || !fields.every((f) => typeof f === 'string')) throw paramError('fields: Not a valid list of strings.')
    const unknown = fields.filter((f) => !known.has(f))
    if (unknown.length > 0) throw paramError(`fields: Invalid field(s): ${unknown.join(', ')}.`)
    return [...new Set(fields as string[])]
  }

  function dateParam(request: SimRequest, name: string): number | undefined {
    const raw = request.query.get(name)
    if (raw === null || raw === '') return undefined
    const day = DateTime.fromFormat(raw, 'yyyy-MM-dd', { zone: 'UTC' })
    if (!day.isValid) throw paramError(`${name}: Not a valid date (YYYY-MM-DD).`)
    return day.toMillis()
  }

  function account(request: SimRequest, businessId: string, nowMs: number): unknown {
    const fields = fieldList(request, new Set([...ACCOUNT_FIELDS, ...DAILY_FIELDS]), DEFAULT_ACCOUNT_FIELDS)
    const p = scenario.profile(businessId)
    const values: Record<string, unknown> = {
      is_business_account: true,
      username: p.username,
      display_name: p.name,
      profile_image: `https://p16-sign.tiktokcdn.com/simulated/${businessId}.jpeg`,
      bio_description: 'Kopi pilihan Nusantara ☕ Bandung',
      followers_count: scenario.followers(businessId, nowMs),
      following_count: 25,
      total_likes: scenario.totalLikes(businessId, nowMs),
      videos_count: scenario.videoCount(businessId, nowMs),
    }
    const data: Record<string, unknown> = {}
    for (const field of fields) if (ACCOUNT_FIELDS.has(field)) data[field] = values[field]
    const daily = fields.filter((f) => DAILY_FIELDS.has(f))
    if (daily.length === 0) return data
    const start = dateParam(request, 'start_date')
    const end = dateParam(request, 'end_date')
    if (start === undefined || end === undefined) throw paramError('start_date and end_date are required for daily metrics.')
    if (end < start) throw paramError('end_date must not be earlier than start_date.')
    if ((end - start) / DAY_MS + 1 > BUSINESS_MAX_RANGE_DAYS) throw paramError(`The range from start_date to end_date cannot exceed ${BUSINESS_MAX_RANGE_DAYS} days.`)
    const metrics: Array<Record<string, unknown>> = []
    for (let day = start; day <= end; day += DAY_MS) {
      const values = scenario.businessDay(businessId, day, nowMs)
      if (!values) continue
      const row: Record<string, unknown> = { date: DateTime.fromMillis(day, { zone: 'UTC' }).toISODate() }
      const rise = daily.some((f) => ['video_views', 'likes', 'comments', 'shares'].includes(f)) ? videoRise(businessId, day, nowMs) : undefined
      for (const field of daily) {
        if (field === 'profile_views') row[field] = values.profileViews
        else if (field === 'bio_link_clicks') row[field] = values.bioLinkClicks
        else if (field === 'daily_total_followers') row[field] = values.totalFollowers
        else if (rise) row[field] = rise[field === 'video_views' ? 'views' : (field as 'likes' | 'comments' | 'shares')]
      }
      metrics.push(row)
    }
    data.metrics = metrics
    return data
  }

  /** What the account's public videos gained during one UTC day. */
  function videoRise(businessId: string, dayStart: number, nowMs: number) {
    const dayEnd = Math.min(dayStart + DAY_MS, nowMs)
    const out = { views: 0, likes: 0, comments: 0, shares: 0 }
    for (const video of scenario.videosUpTo(businessId, dayEnd)) {
      if (!video.isPublic) continue
      const before = scenario.counts(video, dayStart)
      const after = scenario.counts(video, dayEnd)
      for (const key of ['views', 'likes', 'comments', 'shares'] as const) out[key] += after[key] - before[key]
    }
    return out
  }

  function videoList(request: SimRequest, businessId: string, nowMs: number): unknown {
    const fields = fieldList(request, VIDEO_FIELDS, ['item_id'])
    const maxRaw = request.query.get('max_count')
    const maxCount = maxRaw === null || maxRaw === '' ? DEFAULT_MAX_COUNT : Number(maxRaw)
    if (!Number.isInteger(maxCount) || maxCount < 1 || maxCount > MAX_COUNT) throw paramError('max_count: Must be between 1 and 20.')
    const cursorRaw = request.query.get('cursor')
    const cursor = cursorRaw === null || cursorRaw === '' ? undefined : Number(cursorRaw)
    if (cursor !== undefined && (!Number.isInteger(cursor) || cursor < 0)) throw paramError('cursor: Not a valid integer.')

    const page = videoPage(scenario.videosUpTo(businessId, nowMs), cursor, maxCount)
    return { videos: page.listed.map((v) => videoFields(v, fields, nowMs)), cursor: page.cursor, has_more: page.hasMore }
  }

  function videoFields(video: TikTokVideo, fields: string[], nowMs: number): Record<string, unknown> {
    const counts = scenario.counts(video, nowMs)
    const username = scenario.profile(video.accountId).username
    const values: Record<string, unknown> = {
      item_id: video.id,
      create_time: String(Math.floor(video.createMs / 1000)),
      thumbnail_url: `https://p16-sign.tiktokcdn.com/simulated/${video.id}.jpeg`,
      share_url: `https://www.tiktok.com/@${username}/video/${video.id}`,
      embed_url: `https://www.tiktok.com/embed/v2/${video.id}`,
      caption: 'Ngopi sore di Bandung #kopi',
      video_duration: 15 + (Number(video.id.slice(-2)) % 45),
      likes: counts.likes,
      comments: counts.comments,
      shares: counts.shares,
      video_views: counts.views,
      reach: Math.floor(counts.views * 0.8),
    }
    return Object.fromEntries(fields.map((f) => [f, values[f]]))
  }

  return {
    prefix: BUSINESS_PREFIX,
    tokenOf: accessToken,
    handle,
    errorBody: (error: InjectedError, traceId: string) => JSON.stringify(envelope(error.code, error.message, tiktokLogId(undefined, context.seed, traceId))),
    continueList: (body: Record<string, unknown>, _request: SimRequest, page: FaultPage) => continueVideoList(body, page, ({ step }) => 1_000_000_000 + step),
  }
}
