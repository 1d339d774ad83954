import { describe, expect, it } from 'vitest'
import { graphDayEnded, graphDays, graphDayStart } from '../../ingest/graph-api.ts'

/**
 * Graph's insights days (Facebook Pages, Instagram): a period=day value's end_time is the midnight
 * that ends its day, Pacific time with daylight saving (07:00 UTC in summer, 08:00 UTC in winter),
 * or, as Instagram's reference words it, UTC−07:00 (07:00 UTC all year). Both name the same day.
 */
describe('graphDayEnded: the day a Graph period=day value covers', () => {
  it('in winter, at Pacific midnight (08:00 UTC) and at UTC−07:00 midnight (07:00 UTC)', () => {
    expect(graphDayEnded('2026-11-26T08:00:00+0000')).toBe('2026-11-25')
    expect(graphDayEnded('2026-11-26T07:00:00+0000')).toBe('2026-11-25')
    expect(graphDayEnded('2027-01-01T08:00:00+0000')).toBe('2026-12-31')
  })

  it('in summer, at 07:00 UTC (both readings agree)', () => {
    expect(graphDayEnded('2026-07-15T07:00:00+0000')).toBe('2026-07-14')
    expect(graphDayEnded('2024-06-28T07:00:00+0000')).toBe('2024-06-27')
  })

  it('around the autumn clock change (Sunday 1 November 2026, a 25-hour day)', () => {
    expect(graphDayEnded('2026-11-01T07:00:00+0000')).toBe('2026-10-31')
    expect(graphDayEnded('2026-11-02T08:00:00+0000')).toBe('2026-11-01')
    expect(graphDayEnded('2026-11-02T07:00:00+0000')).toBe('2026-11-01')
    expect(graphDayStart('2026-11-01').toISOString()).toBe('2026-11-01T07:00:00.000Z')
    expect(graphDayStart('2026-11-02').toISOString()).toBe('2026-11-02T08:00:00.000Z')
  })

  it('around the spring clock change (Sunday 14 March 2027, a 23-hour day)', () => {
    expect(graphDayEnded('2027-03-14T08:00:00+0000')).toBe('2027-03-13')
    expect(graphDayEnded('2027-03-14T07:00:00+0000')).toBe('2027-03-13')
    expect(graphDayEnded('2027-03-15T07:00:00+0000')).toBe('2027-03-14')
    expect(graphDayStart('2027-03-14').toISOString()).toBe('2027-03-14T08:00:00.000Z')
    expect(graphDayStart('2027-03-15').toISOString()).toBe('2027-03-15T07:00:00.000Z')
  })

  it('names no day for a time that ends none, or text that is no time', () => {
    for (const text of ['2026-11-25T12:00:00+0000', '2026-11-26T00:00:00+0000', '2026-07-15T08:00:00+0000', 'yesterday', '']) expect(graphDayEnded(text), text).toBeUndefined()
  })
})

describe('graphDays: a series with a value that ends no day', () => {
  it('keeps the other values and says in one line what was left out', () => {
    const { days, unusable } = graphDays([{ end_time: '2026-11-25T08:00:00+0000' }, { end_time: '2026-11-25T12:00:00+0000' }, {}])
    expect(days.map((d) => d.day)).toEqual(['2026-11-24'])
    expect(unusable).toBe('2 of 3 daily values left out: end_time "2026-11-25T12:00:00+0000" is not the end of a day (a Pacific or UTC−07:00 midnight)')
    expect(graphDays([{ end_time: '2026-11-25T08:00:00+0000' }]).unusable).toBeUndefined()
  })
})
