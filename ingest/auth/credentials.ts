import { createHash } from 'node:crypto'
import type { Clock } from '../../core/clock.ts'
import type { Config } from '../../core/config.ts'
import { ApiError, TokenError } from '../../core/errors.ts'
import type { Speaker } from '../../core/i18n/index.ts'
import { withRedisLock } from '../../core/lock.ts'
import type { Logger, Scrubber } from '../../core/logger.ts'
import { NETWORK_DESCRIPTORS, type Network } from '../../core/metrics.ts'
import type { OAuthContract } from '../../core/networks/types.ts'
import type { Redis } from '../../core/redis.ts'
import { accountAuth, type AccountAuth, type PlanAccount } from '../../plan/plan.ts'
import { GrantRefusedError, refreshGrant, type OAuthApp, type TokenGrant } from './oauth.ts'
import { readServiceAccountKey, serviceAccountGrant } from './service-account.ts'
import { TokenStoreError, type StoredCredential, type TokenStore } from './token-store.ts'

/**
 * Why an account has no usable credentials; the apiCode of its TokenError, so the collect worker
 * marks it unhealthy and the alert engine sends one ACTION NEEDED email (credentialAdvice says what to do).
 */
export const CREDENTIAL_CODES = {
  tokenMissing: 'token_missing',
  notConnected: 'not_connected',
  connectionEnded: 'reconnect_required',
  clientRefused: 'oauth_client_refused',
  appMissing: 'oauth_client_missing',
  keyFile: 'service_account_key',
  /** The token store's entry does not decrypt with TOKEN_STORE_KEY: the key was changed. */
  storeKey: 'token_store_key',
  /** The entry decrypts but is not a credential (damaged, or written by an incompatible version). */
  storeDamaged: 'token_store_damaged',
} as const

/** Renew when less than this share of the token's life is left (at most RENEW_AHEAD_MAX_MS before it ends). */
const RENEW_AHEAD_SHARE = 0.25
const RENEW_AHEAD_MAX_MS = 5 * 60_000
/**
 * A renewal makes at most two token requests (the second only after losing a rotation race), each
 * bounded by HTTP_TIMEOUT_MS; the renewal lock lives three of those, and a job waits for another
 * holder no longer than that, then fails (LOCK_TIMEOUT) and BullMQ retries it later.
 */
const LOCK_TIMEOUTS = 3
/** Token endpoint errors that say "try again later", not "this credential is refused" (RFC 6749 §4.1.2.1). */
const TRANSIENT_OAUTH_ERRORS = new Set(['server_error', 'temporarily_unavailable'])

export interface Credentials {
  /** A token to call the account's API with now: its static token, or one renewed ahead of expiry. */
  accessToken(account: PlanAccount): Promise<string>
  /**
   * The API refused `refused` as expired or invalid: renew once (unless another worker already
   * did) and return the new token; undefined when the account's auth cannot renew (a static token).
   */
  renewAfterRefusal(account: PlanAccount, refused: string): Promise<string | undefined>
  /** Stores what `connect` obtained, as a fresh connection (under the same lock as renewals). */
  saveGrant(account: PlanAccount, grant: TokenGrant, scopesAsked: string[]): Promise<StoredCredential>
  /** What the store holds for the account (for `accounts` and expiry warnings); undefined for static tokens. */
  stored(account: PlanAccount): Promise<StoredCredential | undefined>
}

export interface CredentialsDeps {
  config: Config
  redis: Redis
  store: TokenStore
  /** Key prefix of the renewal locks (the queue prefix). */
  prefix: string
  now: Clock
  logger: Logger
  /** Learns every token obtained, so no log line or stored error can carry it. */
  scrub?: Scrubber
}

/** The OAuth contract of the account's network, or undefined when it has none. */
export function oauthContract(network: Network): OAuthContract | undefined {
  return NETWORK_DESCRIPTORS[network].auth?.oauth
}

/** The scopes an account needs: its network's, plus those of the metrics the plan reads from it. */
export function scopesNeeded(network: Network, metrics: Iterable<string> = []): string[] {
  const contract = oauthContract(network)
  if (!contract) return []
  const extra = [...metrics].flatMap((metric) => contract.metricScopes?.[metric] ?? [])
  return [...new Set([...contract.scopes, ...extra])]
}

/**
 * A short fingerprint of a refresh token from `refreshTokenEnv` (the seed), kept in the encrypted
 * store: it tells a seed already used (and perhaps refused) from a new one put in the variable.
 */
export function seedFingerprint(seed: string): string {
  return createHash('sha256').update(seed).digest('base64url').slice(0, 16)
}

/**
 * Where an OAuth account's next renewal starts: the stored connection, or the seed when nothing
 * usable is stored and this seed was not used before; `ended` and `none` make no request.
 */
export type RenewalSource =
  | { from: 'store'; credential: StoredCredential & { refreshToken: string } }
  | { from: 'seed'; seed: string }
  | { from: 'ended'; credential: StoredCredential & { ended: NonNullable<StoredCredential['ended']> } }
  | { from: 'none' }

export function renewalSource(stored: StoredCredential | undefined, seed: string | undefined): RenewalSource {
  const seedIsNew = seed !== undefined && seed !== '' && stored?.seed !== seedFingerprint(seed)
  if (stored && !stored.ended && stored.refreshToken) return { from: 'store', credential: { ...stored, refreshToken: stored.refreshToken } }
  if (seedIsNew && seed) return { from: 'seed', seed }
  if (stored?.ended) return { from: 'ended', credential: { ...stored, ended: stored.ended } }
  return { from: 'none' }
}

/**
 * Credentials for every account. Static tokens come from the environment; OAuth and service
 * account tokens from the token store, renewed ahead of expiry. A renewal is single-flight across
 * processes (a Redis lock per account); whoever gets the lock second finds the renewed token in
 * the store and uses it. A refresh refused with invalid_grant is checked against the store once
 * more (another process or `connect` may have rotated the token meanwhile) before the connection
 * is declared ended; an ended connection is not retried until `social-kpi connect` renews it (or
 * a new refresh token is put in `refreshTokenEnv`). No path asks the token endpoint more than
 * twice for one renewal.
 */
export function createCredentials(deps: CredentialsDeps): Credentials {
  const lockKey = (account: PlanAccount) => `${deps.prefix}:credentials-lock:${account.network}:${account.id}`
  const nowMs = () => deps.now().getTime()
  const learn = (credential: StoredCredential | undefined) => {
    deps.scrub?.learn?.(credential?.accessToken)
    deps.scrub?.learn?.(credential?.refreshToken)
    return credential
  }
  // A store that cannot be read (TOKEN_STORE_KEY changed) is the account's credential problem: one
  // ACTION NEEDED email and no retries, not a failing job.
  const read = async (account: PlanAccount) => {
    try {
      return learn(await deps.store.read(account.network, account.id))
    } catch (error) {
      if (!(error instanceof TokenStoreError)) throw error
      throw refused(account, error.reason === 'key' ? CREDENTIAL_CODES.storeKey : CREDENTIAL_CODES.storeDamaged, error.message)
    }
  }
  const lockOptions = (holder: string) => ({ ttlMs: LOCK_TIMEOUTS * deps.config.HTTP_TIMEOUT_MS, waitMs: LOCK_TIMEOUTS * deps.config.HTTP_TIMEOUT_MS, holder })
  const fresh = (credential: StoredCredential | undefined, avoid?: string): credential is StoredCredential => {
    if (!credential || credential.ended || credential.accessToken === avoid) return false
    if (credential.expiresAt === null) return true
    const lifetime = Math.max(0, credential.expiresAt - credential.issuedAt)
    const ahead = Math.min(RENEW_AHEAD_MAX_MS, lifetime * RENEW_AHEAD_SHARE)
    return credential.expiresAt - nowMs() > ahead
  }

  function refused(account: PlanAccount, code: string, message: string): TokenError {
    return new TokenError(account.network, code, message)
  }

  function oauthApp(account: PlanAccount, auth: Extract<AccountAuth, { kind: 'oauth' }>): OAuthApp {
    const clientId = deps.config.secret(auth.clientIdEnv)
    if (!clientId) throw refused(account, CREDENTIAL_CODES.appMissing, `the environment variable ${auth.clientIdEnv} (the OAuth client id) is not set`)
    const clientSecret = auth.clientSecretEnv ? deps.config.secret(auth.clientSecretEnv) : undefined
    if (auth.clientSecretEnv && !clientSecret) throw refused(account, CREDENTIAL_CODES.appMissing, `the environment variable ${auth.clientSecretEnv} (the OAuth client secret) is not set`)
    return { clientId, clientSecret }
  }

  /**
   * The stored form of a grant. A refresh answered without a refresh token (Google) keeps the one
   * it sent (`sent.refreshToken`: the stored one, or the seed), so the seed is never lost.
   */
  function toStored(
    kind: StoredCredential['kind'],
    grant: TokenGrant,
    previous: StoredCredential | undefined,
    scopesAsked: string[],
    sent: { refreshToken?: string; seed?: string } = {},
  ): StoredCredential {
    const at = nowMs()
    const refreshToken = grant.refreshToken ?? sent.refreshToken
    return learn({
      kind,
      accessToken: grant.accessToken,
      expiresAt: grant.expiresIn !== undefined ? at + grant.expiresIn * 1000 : null,
      issuedAt: at,
      refreshToken,
      refreshExpiresAt: grant.refreshExpiresIn !== undefined ? at + grant.refreshExpiresIn * 1000 : grant.refreshToken ? null : (previous?.refreshExpiresAt ?? null),
      scopes: grant.scopes ?? previous?.scopes ?? scopesAsked,
      connectedAt: previous && !previous.ended ? previous.connectedAt : at,
      renewedAt: at,
      ...((sent.seed ?? previous?.seed) ? { seed: sent.seed ?? previous?.seed } : {}),
    })!
  }

  /**
   * One renewal of an OAuth account: one token request, and a second only when the first was
   * refused because another process rotated the token meanwhile (`raced`: that second one).
   */
  async function renewOAuth(account: PlanAccount, auth: Extract<AccountAuth, { kind: 'oauth' }>, current: StoredCredential | undefined, raced = false): Promise<StoredCredential> {
    const contract = oauthContract(account.network)!
    const app = oauthApp(account, auth)
    const seed = auth.refreshTokenEnv ? deps.config.secret(auth.refreshTokenEnv) : undefined
    const source = renewalSource(current, seed)
    if (source.from === 'ended')
      throw refused(account, CREDENTIAL_CODES.connectionEnded, `the connection ended on ${new Date(source.credential.ended.at).toISOString()} (${source.credential.ended.reason})`)
    if (source.from === 'none') {
      throw refused(
        account,
        CREDENTIAL_CODES.notConnected,
        current
          ? 'the stored connection has no refresh token and its access token has expired'
          : `the account is not connected yet: no refresh token in the token store${auth.refreshTokenEnv ? ` or in ${auth.refreshTokenEnv}` : ''}`,
      )
    }
    const base = source.from === 'store' ? source.credential : undefined
    const sent = source.from === 'store' ? { refreshToken: source.credential.refreshToken } : { refreshToken: source.seed, seed: seedFingerprint(source.seed) }
    const options = { config: deps.config, timeoutMs: deps.config.HTTP_TIMEOUT_MS }
    try {
      const grant = await refreshGrant(contract, app, sent.refreshToken, options)
      const renewed = toStored('oauth', grant, base, contract.scopes, sent)
      await deps.store.write(account.network, account.id, renewed)
      deps.logger.info(
        {
          network: account.network,
          account: account.id,
          expiresAt: renewed.expiresAt && new Date(renewed.expiresAt),
          rotated: !!grant.refreshToken && grant.refreshToken !== sent.refreshToken,
          fromSeed: source.from === 'seed',
        },
        'access token renewed',
      )
      return renewed
    } catch (error) {
      if (!(error instanceof GrantRefusedError)) throw error
      if (error.status >= 500 || TRANSIENT_OAUTH_ERRORS.has(error.error))
        throw new ApiError(`${contract.provider} token refresh: ${error.message}`, { status: error.status, apiCode: error.error, retryable: true })
      if ((contract.deadRefreshErrors ?? ['invalid_grant']).includes(error.error)) {
        // Lost a race with a process that did not hold our lock (`connect`): its token wins. Checked once.
        if (!raced) {
          const latest = await read(account)
          if (latest && !latest.ended && latest.refreshToken && latest.refreshToken !== sent.refreshToken) {
            if (fresh(latest)) return latest
            return renewOAuth(account, auth, latest, true)
          }
        }
        // Final for this refresh token: kept (encrypted), with the seed's fingerprint, so neither is tried again.
        const ended: StoredCredential = {
          ...(base ?? toStored('oauth', { accessToken: '' }, undefined, contract.scopes, sent)),
          refreshToken: sent.refreshToken,
          ended: { at: nowMs(), reason: error.message },
        }
        await deps.store.write(account.network, account.id, ended)
        deps.logger.error({ network: account.network, account: account.id, oauthError: error.error, fromSeed: source.from === 'seed' }, 'the refresh token was refused: the connection has ended')
        throw refused(account, CREDENTIAL_CODES.connectionEnded, `${contract.provider} refused the refresh token${source.from === 'seed' ? ` in ${auth.refreshTokenEnv}` : ''} (${error.message})`)
      }
      if (error.error === 'invalid_client' || error.error === 'unauthorized_client')
        throw refused(account, CREDENTIAL_CODES.clientRefused, `${contract.provider} refused the OAuth app (${error.message})`)
      throw refused(account, error.error, `${contract.provider}: ${error.message}`)
    }
  }

  async function renewServiceAccount(account: PlanAccount, auth: Extract<AccountAuth, { kind: 'service_account' }>, current: StoredCredential | undefined): Promise<StoredCredential> {
    const path = deps.config.secret(auth.keyFileEnv)
    if (!path) throw refused(account, CREDENTIAL_CODES.keyFile, `the environment variable ${auth.keyFileEnv} (the path of the service account key file) is not set`)
    let key: Awaited<ReturnType<typeof readServiceAccountKey>>
    try {
      key = await readServiceAccountKey(path, auth.keyFileEnv)
    } catch (error) {
      throw refused(account, CREDENTIAL_CODES.keyFile, (error as Error).message)
    }
    const scopes = NETWORK_DESCRIPTORS[account.network].auth?.serviceAccount?.scopes ?? []
    const tokenUrl = `${deps.config.GOOGLE_OAUTH_URL.replace(/\/+$/, '')}/token`
    try {
      const grant = await serviceAccountGrant(key, { tokenUrl, scopes, now: deps.now(), timeoutMs: deps.config.HTTP_TIMEOUT_MS })
      const renewed = toStored('service_account', grant, current, scopes)
      await deps.store.write(account.network, account.id, renewed)
      deps.logger.info({ network: account.network, account: account.id }, 'service account token renewed')
      return renewed
    } catch (error) {
      if (error instanceof GrantRefusedError) throw refused(account, CREDENTIAL_CODES.keyFile, `Google refused the service account ${key.client_email} (${error.message})`)
      throw error
    }
  }

  /**
   * What the store holds for a renewing account. A service account's token is made again from its
   * key file at no cost, so an entry the key cannot open is replaced rather than reported.
   */
  async function currentOf(account: PlanAccount, auth: Exclude<AccountAuth, { kind: 'token' }>): Promise<StoredCredential | undefined> {
    try {
      return await read(account)
    } catch (error) {
      const unreadable = error instanceof TokenError && (error.apiCode === CREDENTIAL_CODES.storeKey || error.apiCode === CREDENTIAL_CODES.storeDamaged)
      if (unreadable && auth.kind === 'service_account') return undefined
      throw error
    }
  }

  /** Renews under the account's lock, unless the store already holds a token other than `avoid` that is fresh. */
  async function renew(account: PlanAccount, auth: Exclude<AccountAuth, { kind: 'token' }>, avoid?: string): Promise<StoredCredential> {
    return withRedisLock(
      deps.redis,
      lockKey(account),
      async () => {
        const current = await currentOf(account, auth)
        if (fresh(current, avoid)) return current
        return auth.kind === 'oauth' ? renewOAuth(account, auth, current) : renewServiceAccount(account, auth, current)
      },
      lockOptions(`another worker renewing the token of ${account.network}/${account.id}`),
    )
  }

  return {
    async accessToken(account) {
      const auth = accountAuth(account)
      if (auth.kind === 'token') {
        const token = deps.config.secret(auth.tokenEnv)
        if (!token) throw refused(account, CREDENTIAL_CODES.tokenMissing, `the environment variable ${auth.tokenEnv} is not set`)
        return token
      }
      const stored = await currentOf(account, auth)
      if (fresh(stored)) return stored.accessToken
      return (await renew(account, auth)).accessToken
    },
    async renewAfterRefusal(account, refusedToken) {
      const auth = accountAuth(account)
      if (auth.kind === 'token') return undefined
      return (await renew(account, auth, refusedToken)).accessToken
    },
    async saveGrant(account, grant, scopesAsked) {
      const auth = accountAuth(account)
      if (auth.kind !== 'oauth') throw new TypeError(`${account.id} does not use OAuth`)
      return withRedisLock(
        deps.redis,
        lockKey(account),
        async () => {
          // A new connection: nothing of the old one (an ended state, an old refresh token) carries
          // over, and the seed now in refreshTokenEnv counts as used: only a new one is tried later.
          const seed = auth.refreshTokenEnv ? deps.config.secret(auth.refreshTokenEnv) : undefined
          const saved = toStored('oauth', grant, undefined, scopesAsked, seed ? { seed: seedFingerprint(seed) } : {})
          await deps.store.write(account.network, account.id, saved)
          return saved
        },
        lockOptions(`a worker renewing the token of ${account.network}/${account.id}`),
      )
    },
    async stored(account) {
      return accountAuth(account).kind === 'token' ? undefined : read(account)
    },
  }
}

/** The credential codes by the advice they get (`advice.credential.*`); the others are `refused`. */
const CREDENTIAL_ADVICE: Record<string, string> = {
  [CREDENTIAL_CODES.notConnected]: 'not_connected',
  [CREDENTIAL_CODES.connectionEnded]: 'connection_ended',
  [CREDENTIAL_CODES.storeKey]: 'store_key',
  [CREDENTIAL_CODES.storeDamaged]: 'store_damaged',
  [CREDENTIAL_CODES.clientRefused]: 'oauth_client',
  [CREDENTIAL_CODES.appMissing]: 'oauth_client',
  [CREDENTIAL_CODES.keyFile]: 'key_file',
  expiring_access_token: 'expiring_access_token',
  expiring_data_access: 'expiring_data_access',
  expiring_refresh_token: 'expiring_refresh_token',
}

/**
 * What the account owner must do about a credential problem of an OAuth or service account, or
 * ahead of a credential's known end (`expiring_<what>`), in the speaker's language.
 */
export function credentialAdvice(speaker: Speaker, account: PlanAccount, apiCode: string): string {
  const auth = accountAuth(account)
  const values = { command: `social-kpi connect ${account.id}`, apiCode, keyEnv: 'TOKEN_STORE_KEY' }
  const advice = CREDENTIAL_ADVICE[apiCode] ?? 'refused'
  const key = (name: string, extra: Record<string, string> = {}) => speaker.t(`advice.credential.${name}`, { ...values, ...extra })
  switch (advice) {
    case 'connection_ended':
      return auth.kind === 'oauth' && auth.refreshTokenEnv ? key('connection_ended_env', { refreshTokenEnv: auth.refreshTokenEnv }) : key('connection_ended')
    case 'oauth_client':
      if (auth.kind !== 'oauth') return key('oauth_app')
      return auth.clientSecretEnv ? key('oauth_client_secret', { clientIdEnv: auth.clientIdEnv, clientSecretEnv: auth.clientSecretEnv }) : key('oauth_client', { clientIdEnv: auth.clientIdEnv })
    case 'key_file':
      return auth.kind === 'service_account' ? key('key_file', { keyFileEnv: auth.keyFileEnv }) : key('key_file_other')
    case 'expiring_access_token':
    case 'expiring_data_access':
      return auth.kind === 'token' ? key(advice, { tokenEnv: auth.tokenEnv }) : key(`${advice}_other`)
    default:
      return key(advice)
  }
}
