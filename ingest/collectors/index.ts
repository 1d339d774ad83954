import type { Config } from '../../core/config.ts'
import type { Network } from '../../core/metrics.ts'
import type { RetryPolicy } from '../http.ts'
import { createFacebookPagesCollector } from './facebook-pages.ts'
import type { Collector } from './types.ts'

export type { Collector, CollectContext, CollectSummary, ObservationRow } from './types.ts'

/** One collector per network; adding a network is one module and one line here. */
export function createCollectors(config: Config, overrides: { sleep?: (ms: number) => Promise<void>; retry?: Partial<RetryPolicy> } = {}): Record<Network, Collector> {
  const retry: RetryPolicy = { maxRetries: config.HTTP_MAX_RETRIES, baseDelayMs: 500, maxInlineWaitMs: 30_000, ...overrides.retry }
  return {
    facebook: createFacebookPagesCollector({
      baseUrl: config.FACEBOOK_GRAPH_URL,
      version: config.FACEBOOK_GRAPH_VERSION,
      timeoutMs: config.HTTP_TIMEOUT_MS,
      retry,
      sleep: overrides.sleep,
    }),
  }
}
