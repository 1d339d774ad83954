import type { NetworkContext, SimulatedNetwork } from './network.ts'
import { createTikTokBusinessApi } from './tiktok-business.ts'
import { createTikTokDisplayApi } from './tiktok-display.ts'
import { createTikTokScenario } from './tiktok-scenario.ts'

export { TIKTOK_DEMO_ACCOUNTS } from './tiktok-scenario.ts'
export { displayTokenFor } from './tiktok-display.ts'

/** TikTok's two APIs over one simulated world: Display API v2 (`/tiktok`) and API for Business (`/tiktok-business`). */
export function createTikTokApis(context: NetworkContext): SimulatedNetwork[] {
  const scenario = createTikTokScenario({ seed: context.seed, today: context.today })
  return [createTikTokDisplayApi(context, scenario), createTikTokBusinessApi(context, scenario)]
}
