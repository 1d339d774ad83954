import type { Config } from '../../core/config.ts'
import type { Speaker } from '../../core/i18n/index.ts'
import { NETWORKS, type Network } from '../../core/metrics.ts'
import { accountAuth, type PlanAccount } from '../../plan/plan.ts'
import { CREDENTIAL_CODES, credentialAdvice } from '../auth/index.ts'
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

/**
 * What an account's owner must do about its credentials after `apiCode` (a refusal, a missing
 * token, or `expiring_<what>` ahead of a known end), in the speaker's language: ingest/auth's
 * advice for OAuth and service accounts and for credentials about to end, the catalogue's
 * `advice.token_missing` for a static token not set, else the network's collector's own.
 * The alert engine's `tokenAdvice` (cli/runtime.ts).
 */
export function accountAdvice(collectors: Record<Network, Pick<Collector, 'tokenAdvice'>>): (speaker: Speaker, account: PlanAccount, apiCode: string) => string {
  return (speaker, account, apiCode) => {
    const auth = accountAuth(account)
    if (auth.kind !== 'token' || apiCode.startsWith('expiring_')) return credentialAdvice(speaker, account, apiCode)
    if (apiCode === CREDENTIAL_CODES.tokenMissing) return speaker.t('advice.token_missing', { tokenEnv: auth.tokenEnv })
    return collectors[account.network].tokenAdvice(speaker, apiCode, auth.tokenEnv)
  }
}
