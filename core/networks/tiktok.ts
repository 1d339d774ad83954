import type { NetworkDescriptor } from './types.ts'

/** TikTok: not collected yet; its metrics arrive with its collector. */
export const tiktok: NetworkDescriptor = {
  label: 'TikTok',
  apiId: 'the TikTok user open_id, or the business account id',
  metrics: {},
}
