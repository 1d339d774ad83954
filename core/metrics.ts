/**
 * The metric dictionary: our canonical metrics and, per network, how each is observed
 * (core/networks/<network>.ts). A collector writes only metrics listed for its network; the plan
 * may only name these.
 *
 * shape:
 *  - gauge:   a level at a moment (followers). A KPI reads the latest value.
 *  - counter: a cumulative count of one object (a post's likes so far). A period's amount is
 *             the rise of the counters during the period, including objects published earlier.
 *  - daily:   a count for one day, as the API reports it (insights). A period's amount is the sum.
 */
import { facebook } from './networks/facebook.ts'
import { ga4 } from './networks/ga4.ts'
import { instagram } from './networks/instagram.ts'
import { linkedin } from './networks/linkedin.ts'
import { meta_ads } from './networks/meta_ads.ts'
import { tiktok } from './networks/tiktok.ts'
import type { z } from 'zod'
import type { MetricDefinition, NetworkDescriptor } from './networks/types.ts'
import { x } from './networks/x.ts'
import { youtube } from './networks/youtube.ts'

export type { ApiEndpoint, MetricDefinition, MetricShape, NetworkDescriptor, QuotaPolicy } from './networks/types.ts'

export const NETWORKS = ['facebook', 'instagram', 'x', 'linkedin', 'youtube', 'tiktok', 'meta_ads', 'ga4'] as const
export type Network = (typeof NETWORKS)[number]

const DESCRIPTORS = { facebook, instagram, x, linkedin, youtube, tiktok, meta_ads, ga4 } satisfies Record<Network, NetworkDescriptor>

export const NETWORK_DESCRIPTORS: Record<Network, NetworkDescriptor> = DESCRIPTORS

/** The config variables of the networks' API base URLs (`X_API_URL`, …), as the descriptors name them. */
type ApisOf<N extends Network> = (typeof DESCRIPTORS)[N]['apis']
export type ApiUrlVariable = { [N in Network]: ApisOf<N>[keyof ApisOf<N>] extends { urlEnv: infer V } ? V : never }[Network]
/** A network's per-account settings as the plan parsed them (its descriptor's `settings` schema), or none. */
export type NetworkSettings<N extends Network> = (typeof DESCRIPTORS)[N]['settings'] extends z.ZodType ? z.output<(typeof DESCRIPTORS)[N]['settings']> : Record<string, never>
/** The API names a network's collector uses (`data`, `analytics` for YouTube). */
export type ApiName<N extends Network> = keyof ApisOf<N> & string

/**
 * Each API base-URL variable with its default and the networks that read it (the Graph API's is
 * shared by Facebook, Instagram and Meta ads). core/config.ts parses these.
 */
export function apiUrlVariables(): Record<ApiUrlVariable, { defaultUrl: string; networks: Network[] }> {
  const variables: Record<string, { defaultUrl: string; networks: Network[] }> = {}
  for (const network of NETWORKS) {
    for (const api of Object.values(NETWORK_DESCRIPTORS[network].apis)) {
      const known = (variables[api.urlEnv] ??= { defaultUrl: api.defaultUrl, networks: [] })
      if (known.defaultUrl !== api.defaultUrl) throw new Error(`${network} gives ${api.urlEnv} the default ${api.defaultUrl}, ${known.networks.join(', ')} ${known.defaultUrl}`)
      known.networks.push(network)
    }
  }
  return variables as Record<ApiUrlVariable, { defaultUrl: string; networks: Network[] }>
}

export const METRICS: Record<Network, Record<string, MetricDefinition>> = Object.fromEntries(NETWORKS.map((network) => [network, NETWORK_DESCRIPTORS[network].metrics])) as Record<
  Network,
  Record<string, MetricDefinition>
>

export function isNetwork(value: string): value is Network {
  return (NETWORKS as readonly string[]).includes(value)
}
