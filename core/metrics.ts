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
import type { MetricDefinition, NetworkDescriptor } from './networks/types.ts'
import { x } from './networks/x.ts'
import { youtube } from './networks/youtube.ts'

export type { MetricDefinition, MetricShape, NetworkDescriptor, QuotaPolicy } from './networks/types.ts'

export const NETWORKS = ['facebook', 'instagram', 'x', 'linkedin', 'youtube', 'tiktok', 'meta_ads', 'ga4'] as const
export type Network = (typeof NETWORKS)[number]

export const NETWORK_DESCRIPTORS: Record<Network, NetworkDescriptor> = { facebook, instagram, x, linkedin, youtube, tiktok, meta_ads, ga4 }

export const METRICS: Record<Network, Record<string, MetricDefinition>> = Object.fromEntries(
  NETWORKS.map((network) => [network, NETWORK_DESCRIPTORS[network].metrics]),
) as Record<Network, Record<string, MetricDefinition>>

export function isNetwork(value: string): value is Network {
  return (NETWORKS as readonly string[]).includes(value)
}

export function metricDefinition(network: Network, metric: string): MetricDefinition | undefined {
  return METRICS[network][metric]
}
