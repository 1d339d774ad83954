import { notYetSimulated, type NetworkContext, type SimulatedNetwork } from './network.ts'

export function createTikTokApis(_context: NetworkContext): SimulatedNetwork[] {
  return [notYetSimulated('/tiktok', 'TikTok Display API v2'), notYetSimulated('/tiktok-business', 'TikTok API for Business')]
}
