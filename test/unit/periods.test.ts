import { describe, expect, it } from 'vitest'
import { elapsedFraction, periodAt } from '../../plan/periods.ts'

const iso = (d: Date) => d.toISOString()

describe('periodAt', () => {
  it('computes a month in the plan time zone', () => {
    const p = periodAt('month', new Date('2026-11-26T03:00:00Z'), 'Asia/Jakarta')
    expect(iso(p.start)).toBe('2026-10-31T17:00:00.000Z')
    expect(iso(p.end)).toBe('2026-11-30T17:00:00.000Z')
    expect(p.label).toBe('2026-11')
  })

  it('puts an instant just after local midnight in the new month', () => {
    const p = periodAt('month', new Date('2026-11-30T17:30:00Z'), 'Asia/Jakarta')
    expect(p.label).toBe('2026-12')
  })

  it('gives a 23-hour day on a spring-forward date', () => {
    const p = periodAt('day', new Date('2026-03-08T12:00:00Z'), 'America/New_York')
    expect(iso(p.start)).toBe('2026-03-08T05:00:00.000Z')
    expect(iso(p.end)).toBe('2026-03-09T04:00:00.000Z')
  })

  it('gives a 25-hour day on a fall-back date', () => {
    const p = periodAt('day', new Date('2026-11-01T12:00:00Z'), 'America/New_York')
    expect((p.end.getTime() - p.start.getTime()) / 3_600_000).toBe(25)
  })

  it('uses ISO weeks by default and Sunday weeks on request', () => {
    const at = new Date('2026-11-26T12:00:00Z') // a Thursday
    const iso8601 = periodAt('week', at, 'UTC')
    expect(iso(iso8601.start)).toBe('2026-11-23T00:00:00.000Z')
    expect(iso8601.label).toBe('2026-W48')
    const sunday = periodAt('week', at, 'UTC', 'sunday')
    expect(iso(sunday.start)).toBe('2026-11-22T00:00:00.000Z')
    expect(iso(sunday.end)).toBe('2026-11-29T00:00:00.000Z')
    const onSunday = periodAt('week', new Date('2026-11-29T08:00:00Z'), 'UTC', 'sunday')
    expect(iso(onSunday.start)).toBe('2026-11-29T00:00:00.000Z')
  })

  it('computes quarters and years', () => {
    const q = periodAt('quarter', new Date('2026-11-26T12:00:00Z'), 'UTC')
    expect([iso(q.start), iso(q.end), q.label]).toEqual(['2026-10-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z', '2026-Q4'])
    const y = periodAt('year', new Date('2026-11-26T12:00:00Z'), 'Europe/Berlin')
    expect([iso(y.start), iso(y.end)]).toEqual(['2025-12-31T23:00:00.000Z', '2026-12-31T23:00:00.000Z'])
  })

  it('makes a custom period inclusive of its last day', () => {
    const p = periodAt({ from: '2026-11-01', to: '2026-11-15' }, new Date('2026-11-05T00:00:00Z'), 'UTC')
    expect([iso(p.start), iso(p.end)]).toEqual(['2026-11-01T00:00:00.000Z', '2026-11-16T00:00:00.000Z'])
  })
})

describe('elapsedFraction', () => {
  it('is clamped to 0..1', () => {
    const p = { start: new Date('2026-11-01T00:00:00Z'), end: new Date('2026-11-11T00:00:00Z'), label: '' }
    expect(elapsedFraction(p, new Date('2026-11-06T00:00:00Z'))).toBe(0.5)
    expect(elapsedFraction(p, new Date('2026-10-01T00:00:00Z'))).toBe(0)
    expect(elapsedFraction(p, new Date('2026-12-01T00:00:00Z'))).toBe(1)
  })
})
