import type { NetworkContext, SimulatedNetwork } from './network.ts'
import { createGa4Api } from './ga4-api.ts'
import { createLinkedInApi } from './linkedin-api.ts'
import { createTikTokApis } from './tiktok-api.ts'
import { createXApi } from './x-api.ts'
import { createYouTubeApis } from './youtube-api.ts'

/**
 * The networks served beside the Graph API (which also serves Instagram and the Marketing API),
 * each under its own path prefix: /x, /linkedin, /youtube, /youtube-analytics, /tiktok,
 * /tiktok-business, /ga4.
 */
export function createOtherNetworks(context: NetworkContext): SimulatedNetwork[] {
  return [...createXApi(context), ...createLinkedInApi(context), ...createYouTubeApis(context), ...createTikTokApis(context), ...createGa4Api(context)]
}
