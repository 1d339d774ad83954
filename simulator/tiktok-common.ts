/** Pieces shared by the two TikTok simulators: request ids and the JSON answer. */
import type { FaultPage, SimResponse } from './network.ts'
import { unit } from './random.ts'
import type { TikTokVideo } from './tiktok-scenario.ts'

export const JSON_TYPE = 'application/json; charset=utf-8'

/**
 * A TikTok log/request id such as `20220829194722CBE87ED59D524E727021`: the UTC time to the
 * second, then 20 upper-case hex digits (random-looking, a pure function of the request). Without
 * a time (an injected fault, rendered without the clock) the first 14 digits are hex too.
 */
export function tiktokLogId(nowMs: number | undefined, seed: number, traceId: string): string {
  const hex = (count: number, label: string) => {
    let out = ''
    for (let i = 0; i < count; i++) out += Math.floor(unit(seed, 'tt-log', label, traceId, i) * 16).toString(16)
    return out.toUpperCase()
  }
  const stamp = nowMs === undefined ? hex(14, 'stamp') : new Date(nowMs).toISOString().replace(/\D/g, '').slice(0, 14)
  return `${stamp}${hex(20, 'id')}`
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): SimResponse {
  return { status, headers: { 'Content-Type': JSON_TYPE, ...headers }, body: JSON.stringify(body) }
}

/** The path under a prefix, with TikTok's trailing slash made optional. */
export function subPath(pathname: string, prefix: string): string {
  const rest = pathname.slice(prefix.length) || '/'
  return rest.length > 1 && rest.endsWith('/') ? rest.slice(0, -1) : rest
}

/**
 * One page of a video list, newest first, as both TikTok APIs page: scan `maxCount` videos older
 * than the cursor (Unix ms; 0 or none = from the newest), then drop the private ones, so a page
 * can be short or empty while `has_more` is true. The next cursor is the oldest scanned video's time.
 */
export function videoPage(videos: readonly TikTokVideo[], cursor: number | undefined, maxCount: number): { listed: TikTokVideo[]; cursor: number; hasMore: boolean } {
  let end = videos.length
  if (cursor) while (end > 0 && videos[end - 1]!.createMs >= cursor) end--
  const scanned = videos.slice(Math.max(0, end - maxCount), end).reverse()
  return { listed: scanned.filter((v) => v.isPublic), cursor: scanned.at(-1)?.createMs ?? cursor ?? 0, hasMore: end - scanned.length > 0 }
}

/**
 * A video list page (`data.videos`, `data.cursor`, `data.has_more`) that has more, at a fault's
 * cursor (simulator/index.ts): `cursorOf` makes the API's kind of cursor from the fault's page.
 */
export function continueVideoList(body: Record<string, unknown>, page: FaultPage, cursorOf: (page: FaultPage) => number): boolean {
  const data = body.data as Record<string, unknown> | undefined
  if (!data || typeof data !== 'object' || !Array.isArray(data.videos)) return false
  if (!page.keepItems) data.videos = []
  data.cursor = cursorOf(page)
  data.has_more = true
  return true
}
