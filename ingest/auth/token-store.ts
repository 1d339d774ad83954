import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { z } from 'zod'
import { SocialKpiError } from '../../core/errors.ts'
import type { Redis } from '../../core/redis.ts'

/**
 * What the store keeps for one account: the credentials a renewal produced, and when they end.
 * Times are epoch milliseconds; null means "no known end".
 */
const credentialSchema = z.object({
  kind: z.enum(['oauth', 'service_account']),
  accessToken: z.string(),
  /** When the access token stops working (from expires_in). */
  expiresAt: z.number().nullable(),
  /** When it was issued: the renewal margin is a share of its lifetime. */
  issuedAt: z.number(),
  refreshToken: z.string().optional(),
  refreshExpiresAt: z.number().nullable().optional(),
  /** Scopes granted (the token answer's `scope`), or those asked for when the answer had none. */
  scopes: z.array(z.string()),
  /** When the account was connected (the first refresh token). */
  connectedAt: z.number(),
  renewedAt: z.number(),
  /** The connection ended for good (refresh token revoked or expired): only `connect` (or a new seed) starts it again. */
  ended: z.object({ at: z.number(), reason: z.string() }).optional(),
  /** Fingerprint of the `refreshTokenEnv` seed this connection started from or replaced (credentials.ts seedFingerprint). */
  seed: z.string().optional(),
})

export type StoredCredential = z.infer<typeof credentialSchema>

export interface TokenStore {
  read(network: string, accountId: string): Promise<StoredCredential | undefined>
  write(network: string, accountId: string, credential: StoredCredential): Promise<void>
}

/** An entry that cannot be read: another key (`key`), or a value that is not a credential (`form`). */
export class TokenStoreError extends SocialKpiError {
  readonly reason: 'key' | 'form'
  constructor(reason: 'key' | 'form', message: string, options?: { cause?: unknown }) {
    super('TOKEN_STORE_UNREADABLE', message, options)
    this.reason = reason
  }
}

const VERSION = 'v1'

/**
 * The token store: one Redis key per account, shared by every worker and kept across restarts
 * (Redis runs with an append-only file, infra/redis/redis.conf). Values are AES-256-GCM with a
 * key from the environment (TOKEN_STORE_KEY); the Redis key is the additional data, so an entry
 * copied onto another account does not decrypt. Nothing here is logged.
 */
export function createTokenStore(options: { redis: Redis; prefix: string; key: Buffer }): TokenStore {
  const redisKey = (network: string, accountId: string) => `${options.prefix}:credentials:${network}:${accountId}`
  return {
    async read(network, accountId) {
      const key = redisKey(network, accountId)
      const sealed = await options.redis.get(key)
      if (sealed === null) return undefined
      let plain: string
      try {
        plain = open(sealed, options.key, key)
      } catch (cause) {
        throw new TokenStoreError('key', `the stored credentials of ${network}/${accountId} cannot be decrypted with TOKEN_STORE_KEY (was the key changed?); run: social-kpi connect ${accountId}`, {
          cause,
        })
      }
      let value: unknown
      try {
        value = JSON.parse(plain)
      } catch {
        value = undefined
      }
      const parsed = credentialSchema.safeParse(value)
      if (!parsed.success) throw new TokenStoreError('form', `the stored credentials of ${network}/${accountId} are not in the expected form; run: social-kpi connect ${accountId}`)
      return parsed.data
    },
    async write(network, accountId, credential) {
      const key = redisKey(network, accountId)
      await options.redis.set(key, seal(JSON.stringify(credentialSchema.parse(credential)), options.key, key))
    },
  }
}

function seal(plain: string, key: Buffer, aad: string): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(Buffer.from(aad))
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
  return [VERSION, iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join('.')
}

function open(sealed: string, key: Buffer, aad: string): string {
  const [version, iv, tag, body] = sealed.split('.')
  if (version !== VERSION || !iv || !tag || body === undefined) throw new Error('unknown format')
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'))
  decipher.setAAD(Buffer.from(aad))
  decipher.setAuthTag(Buffer.from(tag, 'base64'))
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8')
}
