import type { NetworkDescriptor } from './types.ts'

/** Instagram (business account): not collected yet; its metrics arrive with its collector. */
export const instagram: NetworkDescriptor = {
  label: 'Instagram (business account)',
  apiId: 'the Instagram business account id',
  metrics: {},
}
