import { ApiError } from '../../core/errors.ts'
import type { Collector, CollectorDeps } from './types.ts'

/** Not written yet: every round fails plainly for this network's accounts. */
export function createTikTokCollector(_deps: CollectorDeps): Collector {
  return {
    network: 'tiktok',
    apiVersion: 'none',
    tokenAdvice: (_apiCode, tokenEnv) => `Renew the token in ${tokenEnv}.`,
    async collect() {
      throw new ApiError('the tiktok collector is not written yet', { retryable: false })
    },
  }
}
