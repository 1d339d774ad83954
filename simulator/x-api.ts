import { notYetSimulated, type NetworkContext, type SimulatedNetwork } from './network.ts'

export function createXApi(_context: NetworkContext): SimulatedNetwork[] {
  return [notYetSimulated('/x', 'X API v2')]
}
