import type { NetworkDescriptor } from './types.ts'

/** LinkedIn (organization): not collected yet; its metrics arrive with its collector. */
export const linkedin: NetworkDescriptor = {
  label: 'LinkedIn (organization)',
  apiId: 'the organization id (the number in urn:li:organization:N)',
  metrics: {},
}
