import { NETWORK_DESCRIPTORS, NETWORKS, type ApiUrlVariable, type Network } from '../core/metrics.ts'
import type { OAuthUrlKey } from '../core/networks/types.ts'
import { ga4Simulator } from './ga4-api.ts'
import { metaAdsSimulator } from './graph-ads.ts'
import type { GraphFamily } from './graph-common.ts'
import { instagramSimulator } from './graph-instagram.ts'
import { facebookSimulator } from './graph-pages.ts'
import { createGraphApi } from './graph-routes.ts'
import { linkedinSimulator } from './linkedin-api.ts'
import type { NetworkContext, SimulatedNetwork, SimulatorModule } from './network.ts'
import { tiktokSimulator } from './tiktok-api.ts'
import { xSimulator } from './x-api.ts'
import { youtubeSimulator } from './youtube-api.ts'

/**
 * The simulator module of every network. The registry test (test/unit/network-modules.test.ts)
 * fails when a descriptor has no module here, or a module leaves one of its APIs unmounted.
 */
export const SIMULATOR_MODULES: { [N in Network]: SimulatorModule<N> } = {
  facebook: facebookSimulator,
  instagram: instagramSimulator,
  x: xSimulator,
  linkedin: linkedinSimulator,
  youtube: youtubeSimulator,
  tiktok: tiktokSimulator,
  meta_ads: metaAdsSimulator,
  ga4: ga4Simulator,
}

/**
 * Where the authorization servers (simulator/oauth.ts) answer, for the variables that are not an
 * API's base URL (X's and TikTok's token endpoints live under their APIs).
 */
const AUTHORIZATION_SERVER_MOUNTS: Record<Exclude<OAuthUrlKey, ApiUrlVariable>, string> = {
  GOOGLE_OAUTH_URL: '/google-oauth2',
  GOOGLE_ACCOUNTS_URL: '/google-accounts',
  X_AUTHORIZE_URL: '/x-web',
  TIKTOK_AUTHORIZE_URL: '/tiktok-web',
  LINKEDIN_OAUTH_URL: '/linkedin-www',
}

/** Every network's simulated APIs: routes of their own, and one Graph host for the Graph families. */
export function createNetworks(context: NetworkContext, graph: { debugToken?: (inputToken: string, nowMs: number) => unknown } = {}): SimulatedNetwork[] {
  const families: GraphFamily[] = []
  const routes: SimulatedNetwork[] = []
  for (const network of NETWORKS) {
    const served = SIMULATOR_MODULES[network].serve(context)
    if ('routes' in served) routes.push(...served.routes)
    else families.push(served.graphFamily)
  }
  return [...(families.length > 0 ? [createGraphApi({ families, debugToken: graph.debugToken })] : []), ...routes]
}

/** The environment that points every collector (and `connect`) at a simulator running at `url`. */
export function simulatorEnvironment(url: string): Record<string, string> {
  const env: Record<string, string> = {}
  for (const network of NETWORKS) {
    const { apis } = NETWORK_DESCRIPTORS[network]
    for (const [api, path] of Object.entries(SIMULATOR_MODULES[network].mounts) as Array<[string, string]>) env[apis[api]!.urlEnv] = `${url}${path}`
  }
  for (const [name, path] of Object.entries(AUTHORIZATION_SERVER_MOUNTS)) env[name] = `${url}${path}`
  return env
}
