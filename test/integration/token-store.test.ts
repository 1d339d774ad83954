import { randomBytes } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { createScrubber, REDACTED } from '../../core/logger.ts'
import { createRedis } from '../../core/redis.ts'
import { createTokenStore, TokenStoreError, type StoredCredential } from '../../ingest/auth/token-store.ts'
import { queuePrefix } from '../helpers/redis-keys.ts'

const redis = createRedis('redis://127.0.0.1:6379', 'worker')
const prefix = queuePrefix('token-store')
const key = randomBytes(32)
const at = Date.parse('2026-12-01T02:00:00Z')
const credential: StoredCredential = {
  kind: 'oauth',
  accessToken: 'ya29.access-token-in-the-store',
  expiresAt: at + 3_599_000,
  issuedAt: at,
  refreshToken: '1//refresh-token-in-the-store',
  refreshExpiresAt: null,
  scopes: ['https://www.googleapis.com/auth/youtube.readonly'],
  connectedAt: at,
  renewedAt: at,
}

afterAll(() => redis.disconnect())

describe('the token store', () => {
  it('keeps credentials encrypted in Redis and reads them back with the key', async () => {
    const store = createTokenStore({ redis, prefix, key })
    await store.write('youtube', 'yt-channel', credential)
    const raw = await redis.get(`${prefix}:credentials:youtube:yt-channel`)
    expect(raw).toMatch(/^v1\./)
    expect(raw).not.toContain('access-token-in-the-store')
    expect(raw).not.toContain('refresh-token-in-the-store')
    expect(raw).not.toContain('youtube.readonly')
    expect(await store.read('youtube', 'yt-channel')).toEqual(credential)
    expect(await store.read('youtube', 'another')).toBeUndefined()
  })

  it('refuses another key, and an entry copied onto another account, naming the fix', async () => {
    const other = createTokenStore({ redis, prefix, key: randomBytes(32) })
    const error = await other.read('youtube', 'yt-channel').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TokenStoreError)
    expect((error as Error).message).toBe('the stored credentials of youtube/yt-channel cannot be decrypted with TOKEN_STORE_KEY (was the key changed?); run: social-kpi connect yt-channel')
    await redis.set(`${prefix}:credentials:youtube:stolen`, (await redis.get(`${prefix}:credentials:youtube:yt-channel`))!)
    await expect(createTokenStore({ redis, prefix, key }).read('youtube', 'stolen')).rejects.toThrow(/cannot be decrypted/)
  })
})

describe('the scrubber', () => {
  it('learns tokens met at run time', () => {
    const scrub = createScrubber(['static-secret-value'])
    expect(scrub('renewed ya29.renewed-access-token and static-secret-value')).toBe(`renewed ya29.renewed-access-token and ${REDACTED}`)
    scrub.learn?.('ya29.renewed-access-token')
    expect(scrub('renewed ya29.renewed-access-token and static-secret-value')).toBe(`renewed ${REDACTED} and ${REDACTED}`)
    expect(scrub(JSON.stringify({ t: 'ya29.renewed-access-token' }))).not.toContain('renewed-access-token')
  })
})
