import { ApiError } from '../../core/errors.ts'
import type { Collector, CollectorDeps } from './types.ts'

/** Not written yet: every round fails plainly for this network's accounts. */
export function createMetaAdsCollector(_deps: CollectorDeps): Collector {
  return {
    network: 'meta_ads',
    apiVersion: 'none',
    tokenAdvice: (_apiCode, tokenEnv) => `Renew the token in ${tokenEnv}.`,
    async collect() {
      throw new ApiError('the meta_ads collector is not written yet', { retryable: false })
    },
  }
}
