import { notYetSimulated, type NetworkContext, type SimulatedNetwork } from './network.ts'

export function createYouTubeApis(_context: NetworkContext): SimulatedNetwork[] {
  return [notYetSimulated('/youtube', 'YouTube Data API v3'), notYetSimulated('/youtube-analytics', 'YouTube Analytics API v2')]
}
