import type { Clock } from '../../core/clock.ts'
import { tokenStoreKeyBytes, type Config } from '../../core/config.ts'
import { ConfigError } from '../../core/errors.ts'
import type { Logger, Scrubber } from '../../core/logger.ts'
import type { Redis } from '../../core/redis.ts'
import { accountAuth, planAccounts, type Plan } from '../../plan/plan.ts'
import { createCredentials, type Credentials } from './credentials.ts'
import { createTokenStore, type TokenStore } from './token-store.ts'

export { credentialAdvice, CREDENTIAL_CODES, renewalSource, scopesNeeded, oauthContract, type Credentials } from './credentials.ts'

/** The accounts of the plan whose tokens are renewed (OAuth, service account). */
function renewingAccounts(plan: Plan) {
  return planAccounts(plan).filter((account) => accountAuth(account).kind !== 'token')
}

/**
 * The credentials of a plan's accounts, built once in the composition root. A plan with OAuth or
 * service accounts needs TOKEN_STORE_KEY; without one it is refused here, at start, by name.
 */
export function openCredentials(options: { config: Config; plan: Plan; redis?: Redis; now: Clock; logger: Logger; scrub?: Scrubber }): Credentials {
  const renewing = renewingAccounts(options.plan)
  const key = options.config.TOKEN_STORE_KEY ? tokenStoreKeyBytes(options.config.TOKEN_STORE_KEY) : undefined
  if (renewing.length > 0 && !key) {
    throw new ConfigError(
      `TOKEN_STORE_KEY is not set: the accounts ${renewing.map((a) => a.id).join(', ')} renew their tokens, which are kept encrypted with it; make one with: openssl rand -base64 32`,
    )
  }
  // Static tokens only (a test, a benchmark): no store, no locks, no Redis.
  if (renewing.length > 0 && !options.redis) throw new TypeError('openCredentials: the plan renews tokens, which needs Redis')
  const redis = options.redis as Redis
  const store: TokenStore = key
    ? createTokenStore({ redis, prefix: options.config.QUEUE_PREFIX, key })
    : {
        read: async () => undefined,
        write: async () => {
          throw new ConfigError('TOKEN_STORE_KEY is not set')
        },
      }
  return createCredentials({ config: options.config, redis, store, prefix: options.config.QUEUE_PREFIX, now: options.now, logger: options.logger, scrub: options.scrub })
}
