import { ApiError } from '../../core/errors.ts'
import type { Collector, CollectorDeps } from './types.ts'

/** Not written yet: every round fails plainly for this network's accounts. */
export function createYouTubeCollector(_deps: CollectorDeps): Collector {
  return {
    network: 'youtube',
    apiVersion: 'none',
    tokenAdvice: (_apiCode, tokenEnv) => `Renew the token in ${tokenEnv}.`,
    async collect() {
      throw new ApiError('the youtube collector is not written yet', { retryable: false })
    },
  }
}
