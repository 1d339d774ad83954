import { describe, expect, it } from 'vitest'
import { clockFrom, processClock, systemClock } from '../../core/clock.ts'
import { loadConfig } from '../../core/config.ts'
import { ConfigError } from '../../core/errors.ts'
import { jobIds } from '../../core/queues.ts'
import { roundTimeFor, slotsBetween } from '../../ingest/scheduler.ts'
import { roundDeadlineMs } from '../../plan/schedule.ts'
import { loadPlan } from '../../plan/plan.ts'

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

  it('refuses a Redis URL of another scheme instead of reading it as a socket path', () => {
    expect(() => loadConfig({ ...base, REDIS_URL: 'http://127.0.0.1:6379' })).toThrow('invalid environment: REDIS_URL: must be a redis:// or rediss:// URL, such as redis://127.0.0.1:6379')
    expect(loadConfig({ ...base, REDIS_URL: 'rediss://:pw@cache.example.com:6380' }).REDIS_URL).toBe('rediss://:pw@cache.example.com:6380')
  })

  it('keeps secrets out of the parsed config but can look them up by name', () => {
    const config = loadConfig({ ...base, FB_PAGE_TOKEN: 'abc', EMPTY_TOKEN: '' })
    expect(config.secret('FB_PAGE_TOKEN')).toBe('abc')
    expect(config.secret('EMPTY_TOKEN')).toBeUndefined()
    expect(JSON.stringify(config)).not.toContain('abc')
  })
})

describe('the clock', () => {
  it('reads CLOCK_START as an instant with its offset; empty is unset', () => {
    expect(loadConfig({ ...base, CLOCK_START: '2027-03-01T00:05+07:00' }).CLOCK_START?.toISOString()).toBe('2027-02-28T17:05:00.000Z')
    expect(loadConfig({ ...base, CLOCK_START: '2027-02-28T17:05:00.250Z' }).CLOCK_START?.toISOString()).toBe('2027-02-28T17:05:00.250Z')
    expect(loadConfig({ ...base, CLOCK_START: '' }).CLOCK_START).toBeUndefined()
    expect(processClock(loadConfig({ ...base, CLOCK_START: '' }))).toBe(systemClock)
    // A time without an offset would mean a different instant on every machine.
    for (const bad of ['2027-03-01T00:05', '2027-03-01', 'tomorrow']) {
      expect(() => loadConfig({ ...base, CLOCK_START: bad }), bad).toThrow(/CLOCK_START: must be an ISO time with an offset/)
    }
  })

  it('starts an offset clock at the given instant and runs it at the speed of elapsed time', () => {
    let elapsed = 5_000
    const clock = clockFrom(new Date('2027-02-28T23:59:59.500+07:00'), { elapsedMs: () => elapsed })
    expect(clock().toISOString()).toBe('2027-02-28T16:59:59.500Z')
    elapsed += 750
    expect(clock().toISOString()).toBe('2027-02-28T17:00:00.250Z') // 00:00:00.250 on 1 March in Jakarta
    expect(() => clockFrom(new Date('nope'))).toThrow(TypeError)
  })

  it('gives the process an offset clock when CLOCK_START is set, the system clock otherwise', () => {
    const clock = processClock(loadConfig({ ...base, CLOCK_START: '2026-11-18T10:00:00+07:00' }))
    const read = clock().getTime()
    expect(read).toBeGreaterThanOrEqual(Date.parse('2026-11-18T03:00:00Z'))
    expect(read).toBeLessThan(Date.parse('2026-11-18T03:00:05Z'))
    expect(processClock(loadConfig(base))).toBe(systemClock)
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

  it('evaluates a round by half its interval at the latest, unless the plan says otherwise', async () => {
    const plan = await loadPlan('examples/plan.yaml')
    const at = new Date('2026-11-26T07:29:59Z')
    expect(roundDeadlineMs(plan, at)).toBe(7.5 * 60_000)
    expect(roundDeadlineMs({ ...plan, collection: { ...plan.collection, schedule: '0 6 * * *' } }, at)).toBe(12 * 3_600_000)
    expect(roundDeadlineMs({ ...plan, collection: { ...plan.collection, roundDeadline: 90_000 } }, at)).toBe(90_000)
  })

  it('gives jobs of the same round the same ids, without ":"', () => {
    const roundAt = new Date('2026-11-26T07:15:00Z')
    expect(jobIds.collect('facebook', 'kopi', roundAt)).toBe('collect-facebook-kopi-20261126T071500Z')
    expect(jobIds.collect('facebook', 'kopi', new Date(roundAt))).toBe(jobIds.collect('facebook', 'kopi', roundAt))
    expect(jobIds.evaluate('round', roundAt)).not.toContain(':')
  })

  it('owes the rounds missed during an outage, the newest at most, across a day change in the plan zone', () => {
    const iso = (r: { slots: Date[]; more: boolean }) => ({ slots: r.slots.map((d) => d.toISOString()), more: r.more })
    // Redis away from 23:40 to 00:20 Jakarta time (16:40 to 17:20 UTC): 23:45, 00:00, 00:15 were missed.
    expect(iso(slotsBetween('*/15 * * * *', 'Asia/Jakarta', new Date('2026-11-30T16:45:00Z'), new Date('2026-11-30T17:20:00Z'), 24))).toEqual({
      slots: ['2026-11-30T16:45:00.000Z', '2026-11-30T17:00:00.000Z', '2026-11-30T17:15:00.000Z'],
      more: false,
    })
    // A long outage: only the newest 2, and it says older ones were left out.
    expect(iso(slotsBetween('*/15 * * * *', 'Asia/Jakarta', new Date('2026-11-30T10:00:00Z'), new Date('2026-11-30T17:20:00Z'), 2))).toEqual({
      slots: ['2026-11-30T17:00:00.000Z', '2026-11-30T17:15:00.000Z'],
      more: true,
    })
    // A daily 06:00 schedule in Jakarta: three missed with two allowed, then exactly two.
    expect(iso(slotsBetween('0 6 * * *', 'Asia/Jakarta', new Date('2026-11-28T23:00:00Z'), new Date('2026-11-30T23:30:00Z'), 2))).toEqual({
      slots: ['2026-11-29T23:00:00.000Z', '2026-11-30T23:00:00.000Z'],
      more: true,
    })
    expect(iso(slotsBetween('0 6 * * *', 'Asia/Jakarta', new Date('2026-11-29T23:00:00Z'), new Date('2026-11-30T23:30:00Z'), 2))).toEqual({
      slots: ['2026-11-29T23:00:00.000Z', '2026-11-30T23:00:00.000Z'],
      more: false,
    })
  })
})
