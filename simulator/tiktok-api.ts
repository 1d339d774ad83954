import type { NetworkContext, SimulatedNetwork, SimulatorModule } from './network.ts'
import { createTikTokBusinessApi } from './tiktok-business.ts'
import { createTikTokDisplayApi } from './tiktok-display.ts'
import { createTikTokScenario } from './tiktok-scenario.ts'

export { TIKTOK_DEMO_ACCOUNTS } from './tiktok-scenario.ts'
export { displayTokenFor } from './tiktok-display.ts'

/** TikTok's two APIs over one simulated world: Display API v2 (`/tiktok`) and API for Business (`/tiktok-business`). */
function createTikTokApis(context: NetworkContext): SimulatedNetwork[] {
  const scenario = createTikTokScenario({ seed: context.seed, today: context.today })
  return [createTikTokDisplayApi(context, scenario), createTikTokBusinessApi(context, scenario)]
}

/** TikTok's Display API and API for Business, for the registry (simulator/networks.ts). */
export const tiktokSimulator: SimulatorModule<'tiktok'> = {
  network: 'tiktok',
  mounts: { display: '/tiktok', business: '/tiktok-business' },
  serve: (context) => ({ routes: createTikTokApis(context) }),
}
