import { ApiError } from '../../core/errors.ts'
import type { Collector, CollectorDeps } from './types.ts'

/** Not written yet: every round fails plainly for this network's accounts. */
export function createInstagramCollector(_deps: CollectorDeps): Collector {
  return {
    network: 'instagram',
    apiVersion: 'none',
    tokenAdvice: (_apiCode, tokenEnv) => `Renew the token in ${tokenEnv}.`,
    async collect() {
      throw new ApiError('the instagram collector is not written yet', { retryable: false })
    },
  }
}
