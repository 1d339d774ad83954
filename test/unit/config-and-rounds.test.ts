import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../core/config.ts'
import { ConfigError } from '../../core/errors.ts'
import { jobIds } from '../../core/queues.ts'
import { roundTimeFor } from '../../ingest/scheduler.ts'

const base = { DATA_DIR: '/tmp/social-kpi-config-test', QUEUE_PREFIX: 'x' }

describe('environment config', () => {
  it('parses flags as real booleans and treats empty strings as unset', () => {
    expect(loadConfig({ ...base, START_PRIVATE_REDIS: 'false' }).START_PRIVATE_REDIS).toBe(false)
    expect(loadConfig({ ...base, START_PRIVATE_REDIS: '0' }).START_PRIVATE_REDIS).toBe(false)
    expect(loadConfig({ ...base, START_PRIVATE_REDIS: 'yes' }).START_PRIVATE_REDIS).toBe(true)
    expect(loadConfig({ ...base, START_PRIVATE_REDIS: '' }).START_PRIVATE_REDIS).toBe(true)
    expect(loadConfig({ ...base, SMTP_URL: '', CLICKHOUSE_URL: '' }).SMTP_URL).toBeUndefined()
    expect(loadConfig({ ...base, REDIS_URL: '' }).REDIS_URL).toBe('redis://127.0.0.1:6379')
  })

  it('names each invalid variable', () => {
    expect(() => loadConfig({ ...base, START_PRIVATE_REDIS: 'maybe', HTTP_TIMEOUT_MS: 'soon' })).toThrow(ConfigError)
    try {
      loadConfig({ ...base, START_PRIVATE_REDIS: 'maybe', HTTP_TIMEOUT_MS: 'soon' })
    } catch (error) {
      expect((error as Error).message).toContain('START_PRIVATE_REDIS: must be true or false')
      expect((error as Error).message).toContain('HTTP_TIMEOUT_MS')
    }
  })

  it('keeps secrets out of the parsed config but can look them up by name', () => {
    const config = loadConfig({ ...base, FB_PAGE_TOKEN: 'abc', EMPTY_TOKEN: '' })
    expect(config.secret('FB_PAGE_TOKEN')).toBe('abc')
    expect(config.secret('EMPTY_TOKEN')).toBeUndefined()
    expect(JSON.stringify(config)).not.toContain('abc')
  })
})

describe('rounds', () => {
  it('names a round by the latest schedule tick at or before the moment', () => {
    const at = new Date('2026-11-26T07:29:59Z')
    expect(roundTimeFor('*/15 * * * *', at, 'Asia/Jakarta').toISOString()).toBe('2026-11-26T07:15:00.000Z')
    expect(roundTimeFor('*/15 * * * *', new Date('2026-11-26T07:30:00Z'), 'UTC').toISOString()).toBe('2026-11-26T07:30:00.000Z')
    // a daily 06:00 schedule in Jakarta (UTC+7)
    expect(roundTimeFor('0 6 * * *', at, 'Asia/Jakarta').toISOString()).toBe('2026-11-25T23:00:00.000Z')
  })

  it('gives jobs of the same round the same ids, without ":"', () => {
    const roundAt = new Date('2026-11-26T07:15:00Z')
    expect(jobIds.collect('facebook', 'kopi', roundAt)).toBe('collect-facebook-kopi-20261126T071500Z')
    expect(jobIds.collect('facebook', 'kopi', new Date(roundAt))).toBe(jobIds.collect('facebook', 'kopi', roundAt))
    expect(jobIds.evaluate('round', roundAt)).not.toContain(':')
  })
})
