/**
 * The YouTube Data API v3 (channels, playlistItems, videos) under /youtube/v3 and the YouTube
 * Analytics API v2 (reports) under /youtube-analytics/v2 (social-apis.md §5), answered from
 * simulator/youtube-scenario.ts at the simulator clock's time.
 *
 * Contract kept: statistics are strings; `nextPageToken`/`prevPageToken` and `pageInfo`; at most
 * 50 results per page and 50 ids per videos.list; Analytics `columnHeaders` + positional `rows`,
 * with `rows` left out when there is no data; the Google error envelope with `errors[].reason`.
 * The Data API needs an OAuth bearer token or an API key (`key`, `X-Goog-Api-Key`); Analytics
 * needs the bearer token. Each credential has 10,000 quota units per Pacific day; every Data API
 * call costs 1 unit (the cost of list methods), invalid ones included, and a spent quota answers
 * 403 `quotaExceeded` until midnight Pacific time.
 *
 * Test tokens besides those of simulator/google-common.ts: `dataonly…` works for the Data API but
 * lacks the Analytics scope.
 */
import { createHash } from 'node:crypto'
import { badParameter, bearerToken, errorResponse, GoogleApiError, injectedGoogleError, insufficientScope, jsonResponse, missingCredential, tokenProblem } from './google-common.ts'
import type { FaultPage, NetworkContext, SimRequest, SimResponse, SimulatedNetwork, SimulatorModule } from './network.ts'
import { opaqueId } from './random.ts'
import { addPacificDays, pacificDayStart, pacificMidnightOf } from './time.ts'
import { CHANNEL_ID, createYouTubeScenario, DEMO_CHANNELS, publicSubscriberCount, type Video, type YouTubeScenario } from './youtube-scenario.ts'

export { DEMO_CHANNELS } from './youtube-scenario.ts'

/** The default Data API quota of a project (here: of a credential), per Pacific day. */
export const YOUTUBE_DAILY_UNITS = 10_000
const MAX_RESULTS = 50
const DEFAULT_MAX_RESULTS = 5
const QUOTA_MESSAGE = 'The request cannot be completed because you have exceeded your <a href="/youtube/v3/getting-started#quota">quota</a>.'

function createYouTubeApis(context: NetworkContext): SimulatedNetwork[] {
  const scenario = createYouTubeScenario({ seed: context.seed, today: context.today })
  return [createDataApi(scenario, context.seed), createAnalyticsApi(scenario)]
}

/** The credential of a Data API call: the bearer token, else the API key. */
function dataCredential(request: SimRequest): string | undefined {
  const key = request.query.get('key') ?? request.headers['x-goog-api-key']
  return bearerToken(request) ?? (typeof key === 'string' && key !== '' ? key : undefined)
}

const isoTime = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`

// --- Data API ------------------------------------------------------------------------------------

function createDataApi(scenario: YouTubeScenario, seed: number): SimulatedNetwork {
  const spent = new Map<string, { day: number; units: number }>()

  /** Charges one unit to the credential, or refuses when its day's quota is spent. */
  function charge(credential: string, nowMs: number): void {
    const day = pacificDayStart(nowMs)
    const entry = spent.get(credential)
    const ledger = entry && entry.day === day ? entry : { day, units: 0 }
    if (ledger.units >= YOUTUBE_DAILY_UNITS) {
      throw new GoogleApiError({ code: 403, message: QUOTA_MESSAGE, errors: [{ message: QUOTA_MESSAGE, domain: 'youtube.quota', reason: 'quotaExceeded' }] })
    }
    ledger.units++
    spent.set(credential, ledger)
  }

  const etag = (...parts: Array<string | number>) => opaqueId(27, seed, 'etag', ...parts)

  function handle(request: SimRequest): SimResponse {
    const resource = /^\/youtube\/v3\/([A-Za-z]+)$/.exec(request.pathname)?.[1]
    const route = resource ? ROUTES[resource] : undefined
    if (!route || request.method !== 'GET') {
      return errorResponse(new GoogleApiError({ code: 404, message: 'Not Found', errors: [{ message: 'Not Found', domain: 'global', reason: 'notFound' }] }))
    }
    try {
      const credential = dataCredential(request)
      if (!credential) {
        const message = 'The request is missing a valid API key.'
        throw new GoogleApiError({ code: 403, message, errors: [{ message, domain: 'global', reason: 'forbidden' }], status: 'PERMISSION_DENIED' })
      }
      const refused = tokenProblem(credential, 'legacy', 'youtube.googleapis.com')
      if (refused) throw refused
      charge(credential, request.now.getTime())
      return jsonResponse(route(request))
    } catch (error) {
      if (error instanceof GoogleApiError) return errorResponse(error)
      throw error
    }
  }

  const ROUTES: Record<string, (request: SimRequest) => unknown> = {
    channels(request) {
      const parts = requireParts(request, ['id', 'snippet', 'statistics', 'contentDetails', 'status', 'brandingSettings', 'topicDetails'])
      const ids = request.query.get('mine') === 'true' ? [DEMO_CHANNELS[0]!.id] : listParam(request, 'id')
      if (!ids) {
        throw badParameter('No filter selected. Expected one of: forHandle, forUsername, id, managedByMe, mine', 'missingRequiredParameter')
      }
      const maxResults = maxResultsParam(request)
      const nowMs = request.now.getTime()
      const items = ids
        .map((id) => scenario.channel(id))
        .filter((profile): profile is NonNullable<typeof profile> => profile !== undefined && profile.createdMs <= nowMs)
        .map((profile) => {
          const item: Record<string, unknown> = { kind: 'youtube#channel', etag: etag('channel', profile.id, Math.floor(nowMs / 3_600_000)), id: profile.id }
          if (parts.has('snippet')) {
            item.snippet = { title: profile.title, description: '', customUrl: `@${profile.title.toLowerCase().replace(/\s+/g, '')}`, publishedAt: isoTime(profile.createdMs), country: 'ID' }
          }
          if (parts.has('contentDetails')) item.contentDetails = { relatedPlaylists: { likes: '', uploads: uploadsPlaylistId(profile.id) } }
          if (parts.has('statistics')) {
            const statistics: Record<string, unknown> = { viewCount: String(scenario.lifetimeViews(profile.id, nowMs)) }
            // UNCONFIRMED: whether a hidden count is left out or sent as "0"; we leave it out.
            if (!profile.hiddenSubscribers) statistics.subscriberCount = String(publicSubscriberCount(scenario.subscribers(profile.id, nowMs)))
            statistics.hiddenSubscriberCount = profile.hiddenSubscribers
            statistics.videoCount = String(scenario.videoCount(profile.id, nowMs))
            item.statistics = statistics
          }
          return item
        })
      // An unknown id gives no `items` at all, as the API does today.
      const body: Record<string, unknown> = { kind: 'youtube#channelListResponse', etag: etag('channels', ids.join(','), nowMs), pageInfo: { totalResults: items.length, resultsPerPage: maxResults } }
      if (items.length > 0) body.items = items
      return body
    },

    playlistItems(request) {
      const parts = requireParts(request, ['id', 'snippet', 'contentDetails', 'status'])
      const playlistId = request.query.get('playlistId')
      if (!playlistId) throw badParameter('No filter selected. Expected one of: id, playlistId', 'missingRequiredParameter')
      const channelId = /^UU([A-Za-z0-9_-]{22})$/.exec(playlistId)?.[1]
      const profile = channelId ? scenario.channel(`UC${channelId}`) : undefined
      const nowMs = request.now.getTime()
      // A channel without uploads has no uploads playlist to list (UNCONFIRMED: seen in the wild).
      if (!profile || profile.createdMs > nowMs || scenario.uploads(profile.id, nowMs).length === 0) {
        const message = "The playlist identified with the request's <code>playlistId</code> parameter cannot be found."
        throw new GoogleApiError({ code: 404, message, errors: [{ message, domain: 'youtube.playlistItem', reason: 'playlistNotFound', location: 'playlistId', locationType: 'parameter' }] })
      }
      const maxResults = maxResultsParam(request)
      const offset = pageOffset(request.query.get('pageToken'))
      const all = scenario.uploads(profile.id, nowMs)
      const page = all.slice(offset, offset + maxResults)
      const body: Record<string, unknown> = { kind: 'youtube#playlistItemListResponse', etag: etag('playlist', playlistId, offset, all.length) }
      if (offset + maxResults < all.length) body.nextPageToken = pageToken(offset + maxResults)
      if (offset > 0) body.prevPageToken = pageToken(Math.max(0, offset - maxResults))
      body.items = page.map((video, i) => playlistItem(video, playlistId, offset + i, parts))
      body.pageInfo = { totalResults: all.length, resultsPerPage: maxResults }
      return body
    },

    videos(request) {
      const parts = requireParts(request, ['id', 'snippet', 'statistics', 'contentDetails', 'status'])
      const ids = listParam(request, 'id')
      if (!ids) throw badParameter('No filter selected. Expected one of: chart, id, myRating', 'missingRequiredParameter')
      // UNCONFIRMED: the exact error for more than 50 ids; the limit itself is documented.
      if (ids.length > MAX_RESULTS) throw badParameter(`The request specifies ${ids.length} video ids; at most ${MAX_RESULTS} are allowed.`, 'invalidValue', 'id')
      const nowMs = request.now.getTime()
      const items = ids
        .map((id) => scenario.video(id, nowMs))
        .filter((video): video is Video => video !== undefined)
        .map((video) => {
          const item: Record<string, unknown> = { kind: 'youtube#video', etag: etag('video', video.id, Math.floor(nowMs / 60_000)), id: video.id }
          if (parts.has('snippet')) {
            item.snippet = {
              publishedAt: isoTime(video.publishedMs),
              channelId: video.channelId,
              title: video.title,
              description: '',
              channelTitle: scenario.channel(video.channelId)?.title ?? '',
              categoryId: '26',
              liveBroadcastContent: 'none',
            }
          }
          if (parts.has('statistics')) {
            const counts = scenario.counts(video, nowMs)
            const statistics: Record<string, string> = { viewCount: String(counts.views) }
            if (!video.ratingsOff) statistics.likeCount = String(counts.likes)
            statistics.favoriteCount = '0'
            if (!video.commentsOff) statistics.commentCount = String(counts.comments)
            item.statistics = statistics
          }
          if (parts.has('contentDetails')) item.contentDetails = { duration: video.kind === 'short' ? 'PT45S' : 'PT8M12S', dimension: '2d', definition: 'hd', caption: 'false' }
          return item
        })
      return { kind: 'youtube#videoListResponse', etag: etag('videos', ids.join(','), nowMs), items, pageInfo: { totalResults: items.length, resultsPerPage: items.length } }
    },
  }

  function playlistItem(video: Video, playlistId: string, position: number, parts: Set<string>): Record<string, unknown> {
    const item: Record<string, unknown> = { kind: 'youtube#playlistItem', etag: etag('item', video.id), id: opaqueId(64, seed, 'playlist-item', playlistId, video.id) }
    if (parts.has('snippet')) {
      item.snippet = {
        publishedAt: isoTime(video.publishedMs),
        channelId: video.channelId,
        title: video.deleted ? 'Deleted video' : video.title,
        description: video.deleted ? 'This video is unavailable.' : '',
        playlistId,
        position,
        resourceId: { kind: 'youtube#video', videoId: video.id },
      }
    }
    if (parts.has('contentDetails')) item.contentDetails = video.deleted ? { videoId: video.id } : { videoId: video.id, videoPublishedAt: isoTime(video.publishedMs) }
    return item
  }

  /** Opaque page tokens that still decode to an offset, so they survive between requests. */
  function pageToken(offset: number): string {
    return `EAAa${Buffer.from(`PT:${offset}:${tokenCheck(offset)}`).toString('base64url')}`
  }

  function pageOffset(token: string | null): number {
    if (token === null || token === '') return 0
    const decoded = token.startsWith('EAAa') ? Buffer.from(token.slice(4), 'base64url').toString() : ''
    const match = /^PT:(\d+):(\w+)$/.exec(decoded)
    if (!match || tokenCheck(Number(match[1])) !== match[2]) {
      throw badParameter('The request specifies an invalid page token.', 'invalidPageToken', 'pageToken')
    }
    return Number(match[1])
  }

  function tokenCheck(offset: number): string {
    return createHash('sha256').update(`${seed}|${offset}`).digest('hex').slice(0, 6)
  }

  return {
    prefix: '/youtube',
    tokenOf: dataCredential,
    handle,
    errorBody: (error) => injectedGoogleError('legacy', error),
    continueList,
  }
}

function uploadsPlaylistId(channelId: string): string {
  return `UU${channelId.slice(2)}`
}

/** `part` is required and may only name parts the resource has. */
function requireParts(request: SimRequest, known: readonly string[]): Set<string> {
  const value = request.query.get('part')
  if (value === null || value.trim() === '') throw badParameter('Required parameter: part', 'required', 'part')
  const parts = new Set(
    value
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean),
  )
  for (const part of parts) {
    if (!known.includes(part)) {
      throw new GoogleApiError({ code: 400, message: `'${part}'`, errors: [{ message: `'${part}'`, domain: 'youtube.part', reason: 'unknownPart', location: 'part', locationType: 'parameter' }] })
    }
  }
  return parts
}

function listParam(request: SimRequest, name: string): string[] | undefined {
  const value = request.query.get(name)
  if (value === null || value.trim() === '') return undefined
  return value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean)
}

function maxResultsParam(request: SimRequest): number {
  const value = request.query.get('maxResults')
  if (value === null) return DEFAULT_MAX_RESULTS
  const n = Number(value)
  if (!/^\d+$/.test(value) || n > MAX_RESULTS) {
    throw badParameter(`Invalid value '${value}'. Values must be within the range: [0, ${MAX_RESULTS}]`, 'invalidParameter', 'maxResults')
  }
  return n
}

// --- Analytics API -------------------------------------------------------------------------------

const ANALYTICS_METRICS = ['views', 'likes', 'dislikes', 'comments', 'shares', 'subscribersGained', 'subscribersLost'] as const
type AnalyticsMetric = (typeof ANALYTICS_METRICS)[number]
const isAnalyticsMetric = (name: string): name is AnalyticsMetric => (ANALYTICS_METRICS as readonly string[]).includes(name)
/** Longest range answered, so a careless request cannot make the simulator walk years of days. */
const MAX_REPORT_DAYS = 1_000

function createAnalyticsApi(scenario: YouTubeScenario): SimulatedNetwork {
  function handle(request: SimRequest): SimResponse {
    if (request.pathname !== '/youtube-analytics/v2/reports' || request.method !== 'GET') {
      return errorResponse(new GoogleApiError({ code: 404, message: 'Not Found', errors: [{ message: 'Not Found', domain: 'global', reason: 'notFound' }] }))
    }
    try {
      const token = bearerToken(request)
      if (!token) throw missingCredential('legacy')
      const refused = tokenProblem(token, 'legacy', 'youtubeanalytics.googleapis.com')
      if (refused) throw refused
      if (token.startsWith('dataonly')) throw insufficientScope('legacy', 'youtubeanalytics.googleapis.com')
      return jsonResponse(report(request))
    } catch (error) {
      if (error instanceof GoogleApiError) return errorResponse(error)
      throw error
    }
  }

  function report(request: SimRequest): unknown {
    const q = request.query
    for (const name of ['ids', 'startDate', 'endDate', 'metrics']) {
      if (!q.get(name)) throw badParameter(`Required parameter: ${name}`, 'required', name)
    }
    const target = /^channel==(MINE|UC[A-Za-z0-9_-]{22})$/.exec(q.get('ids')!)?.[1]
    const channelId = target === 'MINE' ? DEMO_CHANNELS[0]!.id : target
    const profile = channelId && CHANNEL_ID.test(channelId) ? scenario.channel(channelId) : undefined
    const nowMs = request.now.getTime()
    if (!profile || profile.createdMs > nowMs) {
      throw new GoogleApiError({ code: 403, message: 'Forbidden', errors: [{ message: 'Forbidden', domain: 'global', reason: 'forbidden' }] })
    }
    const metrics = q
      .get('metrics')!
      .split(',')
      .map((m) => m.trim())
    for (const metric of metrics) {
      if (!isAnalyticsMetric(metric)) throw badParameter(`Unknown identifier (${metric}) given in field parameters.metrics.`, 'badRequest')
    }
    const dimensions = q.get('dimensions') ?? ''
    const sort = q.get('sort') ?? ''
    if (!['', 'day'].includes(dimensions) || !['', 'day', '-day'].includes(sort) || (sort !== '' && dimensions === '')) {
      throw badParameter('The query is not supported. Check the documentation at https://developers.google.com/youtube/analytics/v2/available_reports for a list of supported queries.', 'badRequest')
    }
    const start = /^\d{4}-\d{2}-\d{2}$/.test(q.get('startDate')!) ? pacificMidnightOf(q.get('startDate')!) : undefined
    const end = /^\d{4}-\d{2}-\d{2}$/.test(q.get('endDate')!) ? pacificMidnightOf(q.get('endDate')!) : undefined
    if (start === undefined) throw badParameter(`Invalid value at 'start_date' (${q.get('startDate')})`, 'badRequest', 'startDate')
    if (end === undefined) throw badParameter(`Invalid value at 'end_date' (${q.get('endDate')})`, 'badRequest', 'endDate')
    if (start > end) throw badParameter('The start date cannot be later than the end date.', 'badRequest')

    const days: Array<[string, Record<AnalyticsMetric, number>]> = []
    let day = Math.max(start, pacificDayStart(profile.createdMs))
    for (let n = 0; day <= end && n < MAX_REPORT_DAYS; n++, day = addPacificDays(day, 1)) {
      const numbers = scenario.analyticsDay(profile.id, day, nowMs)
      if (!numbers) continue
      days.push([new Date(day + 12 * 3_600_000).toISOString().slice(0, 10), { ...numbers, dislikes: 0 }])
    }
    const columnHeaders = [
      ...(dimensions === 'day' ? [{ name: 'day', columnType: 'DIMENSION', dataType: 'STRING' }] : []),
      ...metrics.map((name) => ({ name, columnType: 'METRIC', dataType: 'INTEGER' })),
    ]
    let rows: unknown[][]
    if (dimensions === 'day') {
      if (sort === '-day') days.reverse()
      rows = days.map(([date, numbers]) => [date, ...metrics.map((m) => numbers[m as AnalyticsMetric])])
      const startIndex = Math.max(1, Number(q.get('startIndex') ?? 1) || 1)
      const maxResults = q.get('maxResults') ? Number(q.get('maxResults')) : undefined
      rows = rows.slice(startIndex - 1, maxResults !== undefined && Number.isFinite(maxResults) ? startIndex - 1 + maxResults : undefined)
    } else {
      rows = days.length === 0 ? [] : [metrics.map((m) => days.reduce((sum, [, numbers]) => sum + numbers[m as AnalyticsMetric], 0))]
    }
    // No data: `rows` is left out entirely.
    return rows.length > 0 ? { kind: 'youtubeAnalytics#resultTable', columnHeaders, rows } : { kind: 'youtubeAnalytics#resultTable', columnHeaders }
  }

  return {
    prefix: '/youtube-analytics',
    tokenOf: bearerToken,
    handle,
    errorBody: (error) => injectedGoogleError('legacy', error),
  }
}

/** The YouTube Data and Analytics APIs, for the registry (simulator/networks.ts). */
export const youtubeSimulator: SimulatorModule<'youtube'> = {
  network: 'youtube',
  mounts: { data: '/youtube/v3', analytics: '/youtube-analytics/v2' },
  serve: (context) => ({ routes: createYouTubeApis(context) }),
}

/** A Data API list page (`items`) with a next page at a fault's `nextPageToken` (simulator/index.ts). */
function continueList(body: Record<string, unknown>, _request: SimRequest, page: FaultPage): boolean {
  if (!Array.isArray(body.items)) return false
  if (!page.keepItems) body.items = []
  body.nextPageToken = `EAAa${Buffer.from(`FAULT:${page.step}`).toString('base64url')}`
  return true
}
