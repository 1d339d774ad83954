import { describe, expect, it } from 'vitest'
import { checkCrisisTrigger, crisisTriggerSchema, type CrisisTrigger } from '../../plan/crisis-schema.ts'
import { currentBucket, evaluateTrigger, largestDrop, mad, median, seasonalBaseline, type CrisisDataSource, type Point } from '../../kpi/crisis.ts'
import { parsePlan, planAccounts, type Plan } from '../../plan/plan.ts'

const HOUR = 3_600_000
const DAY = 24 * HOUR
const t = (iso: string) => new Date(iso)

function planWith(triggers: unknown[], timezone = 'UTC'): Plan {
  return parsePlan(
    {
      company: { name: 'Kopi Nusantara', timezone },
      objectives: [{ id: 'o', name: 'O' }],
      strategy: {
        networks: [
          {
            network: 'facebook',
            accounts: [
              { id: 'main', name: 'Kopi Nusantara', apiId: '1', tokenEnv: 'FB_A' },
              { id: 'bandung', name: 'Kopi Nusantara Bandung', apiId: '2', tokenEnv: 'FB_B' },
            ],
          },
        ],
      },
      kpis: [{ id: 'k', name: 'K', objective: 'o', network: 'facebook', metric: 'followers', kind: 'level', target: 1, period: 'month' }],
      alerting: { recipients: ['team@example.com'] },
      crisis: { contacts: [{ name: 'Dewi', email: 'dewi@example.com' }], steps: ['Confirm the facts'], triggers },
    },
    'test.yaml',
  )
}

/** An in-memory source with the documented semantics, over fixed series per account. */
function fakeSource(data: Record<string, Point[]>): CrisisDataSource {
  const pick = (ids: string[], keep: (points: Point[]) => Point[]) => new Map(ids.filter((id) => data[id]).map((id) => [id, keep(data[id]!)]))
  return {
    async levels(selection, from, to) {
      return pick(selection.accountIds, (points) => {
        const before = points.filter((p) => p.at <= from)
        return [...before.slice(-1), ...points.filter((p) => p.at > from && p.at < to)]
      })
    },
    async buckets(selection, _shape, from, to) {
      return pick(selection.accountIds, (points) => points.filter((p) => p.at >= from && p.at < to))
    },
  }
}

/** Daily buckets from 2026-10-26 (a Monday) on: Mondays get `mondays[k]` (oldest first), other days `other`. */
function weeks(mondays: number[], other: number, current: number): Point[] {
  const start = Date.UTC(2026, 9, 26, 8)
  const points: Point[] = []
  for (let day = 0; day <= mondays.length * 7; day++) {
    const monday = day % 7 === 0
    const value = day === mondays.length * 7 ? current : monday ? mondays[day / 7]! : other
    points.push({ at: new Date(start + day * DAY), value })
  }
  return points
}
// The last bucket is Monday 2026-11-23 08:00Z; a day later it is complete.
const AFTER_MONDAY = t('2026-11-24T09:00:00Z')

describe('robust statistics', () => {
  it('median and MAD by hand', () => {
    expect(median([4, 1, 3, 9, 2])).toBe(3)
    expect(mad([4, 1, 3, 9, 2])).toBe(1) // |1, 2, 0, 6, 1| → median 1
    expect(median([100, 130, 90, 120])).toBe(110)
    expect(mad([100, 130, 90, 120])).toBe(15) // |10, 20, 20, 10| → (10 + 20) / 2
  })

  it('finds the largest fall from a previous high', () => {
    const drop = largestDrop([
      { at: t('2026-11-23T00:00:00Z'), value: 100 },
      { at: t('2026-11-23T01:00:00Z'), value: 90 },
      { at: t('2026-11-23T02:00:00Z'), value: 120 },
      { at: t('2026-11-23T03:00:00Z'), value: 96 },
    ])
    expect(drop).toMatchObject({ peak: { value: 120 }, trough: { value: 96 } })
    expect(drop!.fraction).toBeCloseTo(0.2, 12)
    expect(
      largestDrop([
        { at: t('2026-11-23T00:00:00Z'), value: 100 },
        { at: t('2026-11-23T01:00:00Z'), value: 101 },
      ]),
    ).toBeNull()
  })
})

describe('follower_drop', () => {
  const plan = planWith([{ id: 'drop', kind: 'follower_drop', network: 'facebook', dropPercent: 2, windowHours: 24 }], 'Asia/Jakarta')
  const trigger = plan.crisis!.triggers[0]!
  const at = t('2026-11-23T20:00:00Z')
  const series = (after: number): Point[] => [
    { at: t('2026-11-22T19:00:00Z'), value: 10_000 }, // before the window: the level at its start
    { at: t('2026-11-23T10:00:00Z'), value: 10_000 },
    { at: t('2026-11-23T12:00:00Z'), value: after },
    { at: t('2026-11-23T20:00:00Z'), value: after + 3 }, // stamped exactly `at`: counts
  ]

  it('does not fire on a fall just under the limit (1.99 %)', async () => {
    const result = await evaluateTrigger(plan, trigger, at, fakeSource({ main: series(9_801), bandung: [{ at: t('2026-11-23T00:00:00Z'), value: 500 }] }))
    expect(result.firing).toBe(false)
    expect(result.accounts).toEqual([])
  })

  it('fires just over the limit (2.01 %), naming the account, the window and the numbers', async () => {
    const result = await evaluateTrigger(plan, trigger, at, fakeSource({ main: series(9_799), bandung: [{ at: t('2026-11-23T00:00:00Z'), value: 500 }] }))
    expect(result.firing).toBe(true)
    expect(result.accounts.map((a) => a.id)).toEqual(['main'])
    expect(result.window).toEqual({ from: t('2026-11-22T19:00:00Z'), to: t('2026-11-23T12:00:00Z') })
    expect(result.reason).toBe("followers of Kopi Nusantara fell 2.0 % (10,000 → 9,799) between 2026-11-23 02:00 and 2026-11-23 19:00 (Asia/Jakarta); the guide's limit is 2.0 % within 24 h")
  })

  it('clears once the window no longer contains the fall', async () => {
    const result = await evaluateTrigger(plan, trigger, t('2026-11-24T13:00:00Z'), fakeSource({ main: series(9_000) }))
    expect(result.firing).toBe(false)
  })

  it('cannot judge without data (unknown, not quiet)', async () => {
    expect((await evaluateTrigger(plan, trigger, at, fakeSource({}))).firing).toBeNull()
  })
})

describe('negative_reactions: a Monday is compared with Mondays', () => {
  const plan = planWith([{ id: 'angry', kind: 'negative_reactions', network: 'facebook', accounts: ['main'], metric: 'reactions_anger', deviations: 3, baselineWeeks: 4 }])
  const trigger = plan.crisis!.triggers[0]!

  it('median 110, MAD 15 → deviation 1.4826 × 15 = 22.239, limit 110 + 3 × 22.239 = 176.717', async () => {
    const at = AFTER_MONDAY
    const under = await evaluateTrigger(plan, trigger, at, fakeSource({ main: weeks([100, 130, 90, 120], 10, 176) }))
    expect(under.firing).toBe(false) // 176 is 17.6 × the other days, but Mondays are busy
    const over = await evaluateTrigger(plan, trigger, at, fakeSource({ main: weeks([100, 130, 90, 120], 10, 177) }))
    expect(over.firing).toBe(true)
    expect(over.window).toEqual({ from: t('2026-11-23T08:00:00Z'), to: t('2026-11-24T08:00:00Z') })
    expect(over.reason).toBe(
      'reactions_anger on Kopi Nusantara: 177 in the day from 2026-11-23 08:00 (UTC), against a usual 110.0 on Mondays (median of 4 weeks, deviation 22.2); the limit is 176.7 (3.0 deviations above)',
    )
  })

  it('with a MAD of 0 the deviation is √median: Mondays of 2 give a limit of 2 + 3 × √2 ≈ 6.24', async () => {
    expect((await evaluateTrigger(plan, trigger, AFTER_MONDAY, fakeSource({ main: weeks([2, 2, 2, 2], 0, 6) }))).firing).toBe(false)
    expect((await evaluateTrigger(plan, trigger, AFTER_MONDAY, fakeSource({ main: weeks([2, 2, 2, 2], 0, 7) }))).firing).toBe(true)
  })

  it('waits until the day is complete, and gives up on a day that is too old', async () => {
    expect((await evaluateTrigger(plan, trigger, t('2026-11-24T07:59:00Z'), fakeSource({ main: weeks([2, 2, 2, 2], 0, 50) }))).accounts).toEqual([])
    expect((await evaluateTrigger(plan, trigger, t('2026-11-27T09:00:00Z'), fakeSource({ main: weeks([2, 2, 2, 2], 0, 50) }))).firing).toBeNull()
  })

  it('needs at least two weeks of baseline', async () => {
    expect((await evaluateTrigger(plan, trigger, AFTER_MONDAY, fakeSource({ main: weeks([2], 0, 50) }))).firing).toBeNull()
  })
})

describe('engagement_collapse', () => {
  const plan = planWith([{ id: 'collapse', kind: 'engagement_collapse', network: 'facebook', accounts: ['main'], dropPercent: 50, baselineWeeks: 4 }])
  const trigger = plan.crisis!.triggers[0]!
  it('median of Mondays 305; more than 50 % below means under 152.5', async () => {
    expect((await evaluateTrigger(plan, trigger, AFTER_MONDAY, fakeSource({ main: weeks([300, 280, 320, 310], 50, 153) }))).firing).toBe(false)
    const fired = await evaluateTrigger(plan, trigger, AFTER_MONDAY, fakeSource({ main: weeks([300, 280, 320, 310], 50, 152) }))
    expect(fired.firing).toBe(true)
    expect(fired.reason).toContain('engagements on Kopi Nusantara collapsed to 152 in the day from 2026-11-23 08:00 (UTC), 50.2 % below a usual 305.0 on Mondays')
  })
})

describe('seasonal buckets', () => {
  it('same local weekday and hour across a DST change (America/New_York)', () => {
    // Monday 2026-03-09 09:00 EDT = 13:00Z; a week earlier 09:00 EST = 14:00Z.
    const series: Point[] = [
      { at: t('2026-03-02T13:00:00Z'), value: 999 }, // same UTC hour, wrong local hour
      { at: t('2026-03-02T14:00:00Z'), value: 7 },
      { at: t('2026-02-23T14:00:00Z'), value: 5 },
    ]
    expect(seasonalBaseline(series, t('2026-03-09T13:00:00Z'), 3, 'America/New_York', 'hour')).toEqual([7, 5])
  })

  it('an hour bucket is the complete hour before `at`', () => {
    const series = [
      { at: t('2026-11-23T09:00:00Z'), value: 1 },
      { at: t('2026-11-23T10:00:00Z'), value: 2 },
    ]
    expect(currentBucket(series, t('2026-11-23T10:59:00Z'), 'hour')?.value).toBe(1)
  })
})

describe('trigger schema and cross-checks', () => {
  it('applies defaults and rejects a bad percentage', () => {
    expect(crisisTriggerSchema.parse({ id: 'c', kind: 'engagement_collapse' })).toMatchObject({ metric: 'engagements', dropPercent: 50, baselineWeeks: 4 })
    expect(crisisTriggerSchema.safeParse({ id: 'd', kind: 'follower_drop', dropPercent: 0 }).success).toBe(false)
  })

  it('names unknown accounts and metrics that do not fit', () => {
    const accounts = planAccounts(planWith([]))
    const trigger = (value: Partial<CrisisTrigger> & { kind: string }) => checkCrisisTrigger({ id: 'x', ...value } as Record<string, unknown>, accounts)
    expect(trigger({ kind: 'follower_drop', network: 'facebook', accounts: ['nope'] })).toEqual([{ path: ['accounts', 0], message: '"nope" is not a facebook account of the strategy' }])
    expect(trigger({ kind: 'negative_reactions', metric: 'followers' })[0]!.message).toBe(
      'negative_reactions needs a count (a daily metric or a post counter) named "followers"; none of facebook has one',
    )
    expect(trigger({ kind: 'follower_drop', network: 'instagram' })[0]!.message).toBe('the strategy lists no instagram account')
    expect(trigger({ kind: 'negative_reactions', metric: 'reactions_anger' })).toEqual([])
  })
})
