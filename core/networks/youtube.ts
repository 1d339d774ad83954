import type { NetworkDescriptor } from './types.ts'

/** YouTube: not collected yet; its metrics arrive with its collector. */
export const youtube: NetworkDescriptor = {
  label: 'YouTube',
  apiId: 'the channel id',
  metrics: {},
}
