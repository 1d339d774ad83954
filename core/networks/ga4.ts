import type { NetworkDescriptor } from './types.ts'

/** Google Analytics 4: not collected yet; its metrics arrive with its collector. */
export const ga4: NetworkDescriptor = {
  label: 'Google Analytics 4',
  apiId: 'the GA4 property id',
  metrics: {},
}
