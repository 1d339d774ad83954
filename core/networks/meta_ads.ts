import type { NetworkDescriptor } from './types.ts'

/** Meta ads: not collected yet; its metrics arrive with its collector. */
export const meta_ads: NetworkDescriptor = {
  label: 'Meta ads',
  apiId: 'the ad account id (act_N or N)',
  metrics: {},
}
