import { notYetSimulated, type NetworkContext, type SimulatedNetwork } from './network.ts'

export function createLinkedInApi(_context: NetworkContext): SimulatedNetwork[] {
  return [notYetSimulated('/linkedin', 'LinkedIn Marketing API')]
}
