import { notYetSimulated, type NetworkContext, type SimulatedNetwork } from './network.ts'

export function createGa4Api(_context: NetworkContext): SimulatedNetwork[] {
  return [notYetSimulated('/ga4', 'Google Analytics 4 Data API')]
}
