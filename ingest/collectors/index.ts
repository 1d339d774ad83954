import type { Config } from '../../core/config.ts'
import { NETWORKS, type Network } from '../../core/metrics.ts'
import type { RetryPolicy } from '../http.ts'
import type { CollectorFactory } from './define.ts'
import { createFacebookPagesCollector } from './facebook-pages.ts'
import { createGa4Collector } from './ga4.ts'
import { createInstagramCollector } from './instagram.ts'
import { createLinkedInCollector } from './linkedin.ts'
import { createMetaAdsCollector } from './meta-ads.ts'
import { createTikTokCollector } from './tiktok.ts'
import type { Collector, CollectorDeps } from './types.ts'
import { createXCollector } from './x.ts'
import { createYouTubeCollector } from './youtube.ts'

export type { Collector, CollectContext, CollectSummary } from './types.ts'

/**
 * The collector module of every network (one `defineCollector` each). The registry test
 * (test/unit/network-modules.test.ts) fails when a descriptor has no module here.
 */
// `never`: the registry builds every module with its default tuning.
export const COLLECTOR_MODULES: { [N in Network]: CollectorFactory<N, never> } = {
  facebook: createFacebookPagesCollector,
  instagram: createInstagramCollector,
  x: createXCollector,
  linkedin: createLinkedInCollector,
  youtube: createYouTubeCollector,
  tiktok: createTikTokCollector,
  meta_ads: createMetaAdsCollector,
  ga4: createGa4Collector,
}

/** One collector per network, built from its module with the process's config and retry policy. */
export function createCollectors(config: Config, overrides: { sleep?: (ms: number) => Promise<void>; retry?: Partial<RetryPolicy> } = {}): Record<Network, Collector> {
  const retry: RetryPolicy = { maxRetries: config.HTTP_MAX_RETRIES, baseDelayMs: 500, maxInlineWaitMs: 30_000, ...overrides.retry }
  const deps: CollectorDeps = { config, retry, sleep: overrides.sleep }
  return Object.fromEntries(NETWORKS.map((network) => [network, COLLECTOR_MODULES[network](deps)])) as Record<Network, Collector>
}
