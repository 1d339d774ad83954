import type { Config } from '../core/config.ts'
import { createScrubber, type Scrubber } from '../core/logger.ts'
import { accountSecretNames, channelSecretNames, planAccounts, type Plan } from '../plan/plan.ts'

/**
 * The scrubber that knows every secret of this process: the plan's tokens and channel URLs and the config's
 * passwords and secrets. Apart from the runtime, so that commands without workers (connect,
 * accounts) build it without loading them.
 */
export function processScrubber(config: Config, plan: Plan): Scrubber {
  return createScrubber(config.secretValues([...planAccounts(plan).flatMap(accountSecretNames), ...channelSecretNames(plan)]))
}
