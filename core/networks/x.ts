import type { NetworkDescriptor } from './types.ts'

/** X: not collected yet; its metrics arrive with its collector. */
export const x: NetworkDescriptor = {
  label: 'X',
  apiId: 'the user id',
  metrics: {},
}
