import type { Config } from '../../core/config.ts'
import type { Network } from '../../core/metrics.ts'
import type { RetryPolicy } from '../http.ts'
import { createFacebookPagesCollector } from './facebook-pages.ts'
import { createGa4Collector } from './ga4.ts'
import { createInstagramCollector } from './instagram.ts'
import { createLinkedInCollector } from './linkedin.ts'
import { createMetaAdsCollector } from './meta-ads.ts'
import { createTikTokCollector } from './tiktok.ts'
import type { Collector, CollectorDeps } from './types.ts'
import { createXCollector } from './x.ts'
import { createYouTubeCollector } from './youtube.ts'

export type { Collector, CollectContext, CollectSummary, ObservationRow } from './types.ts'

/** One collector per network; adding a network is one module and one line here. */
export function createCollectors(config: Config, overrides: { sleep?: (ms: number) => Promise<void>; retry?: Partial<RetryPolicy> } = {}): Record<Network, Collector> {
  const retry: RetryPolicy = { maxRetries: config.HTTP_MAX_RETRIES, baseDelayMs: 500, maxInlineWaitMs: 30_000, ...overrides.retry }
  const deps: CollectorDeps = { config, retry, sleep: overrides.sleep }
  return {
    facebook: createFacebookPagesCollector({
      baseUrl: config.FACEBOOK_GRAPH_URL,
      version: config.FACEBOOK_GRAPH_VERSION,
      timeoutMs: config.HTTP_TIMEOUT_MS,
      retry,
      sleep: overrides.sleep,
    }),
    instagram: createInstagramCollector(deps),
    x: createXCollector(deps),
    linkedin: createLinkedInCollector(deps),
    youtube: createYouTubeCollector(deps),
    tiktok: createTikTokCollector(deps),
    meta_ads: createMetaAdsCollector(deps),
    ga4: createGa4Collector(deps),
  }
}
