import { describe, expect, it } from 'vitest'
import { evaluateClosedPeriods, evaluateKpi, evaluatePlan } from '../../kpi/evaluate.ts'
import type { KpiDataSource, MetricSelection } from '../../kpi/kinds/source.ts'
import { parsePlan, type Plan } from '../../plan/plan.ts'
import { freshAccounts } from '../helpers/fresh-accounts.ts'

/** A fake data source: levels and amounts from small in-memory series. */
function fakeSource(levels: Array<[string, number]>, daily: Record<string, Array<[string, number]>>): KpiDataSource & { calls: string[] } {
  const calls: string[] = []
  return {
    calls,
    async level(selection: MetricSelection, at: Date) {
      calls.push(`level ${selection.metric} ${at.toISOString()}`)
      const known = levels.filter(([t]) => new Date(t) <= at)
      return known.length ? known[known.length - 1]![1] : null
    },
    async startingLevel(_selection: MetricSelection, start: Date, before: Date) {
      const known = levels.filter(([t]) => new Date(t) <= start)
      if (known.length) return { value: known[known.length - 1]![1], at: start }
      const first = levels.find(([t]) => new Date(t) > start && new Date(t) <= before)
      return first ? { value: first[1], at: new Date(first[0]) } : null
    },
    async amount(selection: MetricSelection, from: Date, to: Date) {
      calls.push(`amount ${selection.metric} ${from.toISOString()} ${to.toISOString()}`)
      const inside = (daily[selection.metric] ?? []).filter(([t]) => new Date(t) >= from && new Date(t) < to)
      return inside.length ? inside.reduce((sum, [, v]) => sum + v, 0) : null
    },
    async dataUntil(selection: MetricSelection, at: Date) {
      const times = [...(selection.metric === 'followers' ? levels : (daily[selection.metric] ?? []))].map(([t]) => new Date(t)).filter((t) => t <= at)
      return times.length ? { at: new Date(Math.max(...times.map((t) => t.getTime()))), accountId: 'a' } : null
    },
    ...freshAccounts,
  }
}

const plan: Plan = parsePlan(
  {
    company: { name: 'C', timezone: 'UTC' },
    objectives: [{ id: 'o', name: 'O' }],
    strategy: { networks: [{ network: 'facebook', accounts: [{ id: 'a', name: 'A', apiId: '1', tokenEnv: 'T' }] }] },
    kpis: [
      { id: 'followers', name: 'F', objective: 'o', network: 'facebook', metric: 'followers', kind: 'level', target: 1200, period: 'month' },
      { id: 'growth', name: 'G', objective: 'o', network: 'facebook', metric: 'followers', kind: 'growth', target: 300, period: 'month' },
      { id: 'views', name: 'V', objective: 'o', network: 'facebook', metric: 'views', kind: 'total', target: 100, period: 'month' },
      { id: 'rate', name: 'R', objective: 'o', network: 'facebook', metric: 'engagements', denominator: 'views', kind: 'rate', target: 0.5, period: 'month' },
    ],
    alerting: { recipients: ['x@example.com'] },
  },
  'p.yaml',
)

describe('evaluateKpi', () => {
  const source = fakeSource(
    [
      ['2026-10-31T00:00:00Z', 1000],
      ['2026-11-16T00:00:00Z', 1090],
    ],
    {
      views: [
        ['2026-11-01T00:00:00Z', 20],
        ['2026-11-02T00:00:00Z', 25],
      ],
    },
  )
  const at = new Date('2026-11-16T00:00:00Z') // half of November

  it('judges a level against its pace from the period-start baseline', async () => {
    const result = await evaluateKpi(plan, plan.kpis[0]!, at, source)
    // on pace (a gain of 90 of the 100 expected, tolerance 10 %), but all 90 came in the last day:
    // the robust trend leaves that one jump out (drift 0), so the forecast ends at 1,090, short of
    // the 1,180 the tolerance allows at the end
    expect(result).toMatchObject({ actual: 1090, expectedToDate: 1100, status: 'at_risk', basis: 'forecast' })
    expect(result.forecast).toMatchObject({ end: 1090, recentPerDay: 0 })
    expect(result.period.label).toBe('2026-11')
  })

  it('computes growth as level now minus level at the period start', async () => {
    const result = await evaluateKpi(plan, plan.kpis[1]!, at, source)
    expect(result).toMatchObject({ actual: 90, expectedToDate: 150, status: 'at_risk' })
  })

  it('sums a total up to and including the evaluation time', async () => {
    const result = await evaluateKpi(plan, plan.kpis[2]!, at, source)
    expect(result).toMatchObject({ actual: 45, expectedToDate: 50, status: 'on_track' })
    expect(source.calls).toContain('amount views 2026-11-01T00:00:00.000Z 2026-11-16T00:00:00.001Z')
  })

  it('is unknown when a rate has no denominator data', async () => {
    const result = await evaluateKpi(plan, plan.kpis[3]!, at, source)
    expect(result.status).toBe('unknown')
    expect(result.actual).toBeNull()
  })
})

describe('evaluateKpi with a forecast', () => {
  const at = new Date('2026-11-16T00:00:00Z') // 15 of November's 30 days left

  it('forecasts a level from its steady daily change, and stays on track when it ends above the bar', async () => {
    // +7 a day: 993 on Oct 31, 1,000 on Nov 1 (the baseline), 1,105 on Nov 16
    const levels: Array<[string, number]> = Array.from({ length: 17 }, (_, d) => [new Date(Date.UTC(2026, 9, 31 + d)).toISOString(), 993 + 7 * d])
    const result = await evaluateKpi(plan, plan.kpis[0]!, at, fakeSource(levels, {}))
    expect(result).toMatchObject({ actual: 1105, expectedToDate: 1100, status: 'on_track', basis: 'pace', baseline: 1000 })
    expect(result.forecast!.recentPerDay).toBe(7)
    expect(result.forecast!.end).toBe(1210) // 1,105 + 7 × 15
    expect(result.forecast!.low).toBe(1210) // no noise
    expect(result.forecast!.neededPerDay).toBeCloseTo(95 / 15, 10)
    // the history starts at the baseline and ends at the actual value
    expect(result.history![0]).toEqual({ at: new Date('2026-11-01T00:00:00Z'), value: 1000 })
    expect(result.history!.at(-1)!.value).toBe(1105)
  })

  it('forecasts a total of daily counts from the days reported so far', async () => {
    // 3 views a day for Nov 1–14; Nov 15 is not reported yet
    const views: Array<[string, number]> = Array.from({ length: 14 }, (_, d) => [new Date(Date.UTC(2026, 10, 1 + d)).toISOString(), 3])
    const result = await evaluateKpi(plan, plan.kpis[2]!, at, fakeSource([], { views }))
    expect(result.actual).toBe(42)
    expect(result.forecast!.recentPerDay).toBe(3)
    // the data ends with the Nov 14 day (its step ends at Nov 15 00:00:00.001): 16 days to go at 3 a day
    expect(result.forecast!.end).toBeCloseTo(42 + 3 * 16, 6)
    expect(result.forecast!.neededPerDay).toBeCloseTo(58 / 15, 10) // from now
    // the history is cumulative from the period start: 39 by Nov 13 (13 days), 42 at the end
    const byDay = new Map(result.history!.map((p) => [p.at.toISOString().slice(0, 10), p.value]))
    expect(byDay.get('2026-11-13')).toBe(39)
    expect(result.history![0]!.value).toBe(0)
    expect(result.history!.at(-1)!.value).toBe(42)
  })

  it('has no forecast for a rate, or with under three days of data', async () => {
    const rate = await evaluateKpi(plan, plan.kpis[3]!, at, fakeSource([], { engagements: [['2026-11-02T00:00:00Z', 1]], views: [['2026-11-02T00:00:00Z', 2]] }))
    expect(rate.forecast).toBeNull()
    const young = await evaluateKpi(
      plan,
      plan.kpis[2]!,
      at,
      fakeSource([], {
        views: [
          ['2026-11-14T00:00:00Z', 5],
          ['2026-11-15T00:00:00Z', 5],
        ],
      }),
    )
    expect(young.forecast).toBeNull()
    expect(young.status).toBe('at_risk') // judged on pace alone: 10 of the 50 expected
  })
})

describe('evaluateClosedPeriods', () => {
  it('gives the period that just ended its final verdict, as of its end', async () => {
    const source = fakeSource(
      [
        ['2026-10-31T00:00:00Z', 1000],
        ['2026-11-30T00:00:00Z', 1150],
      ],
      { views: [['2026-11-05T00:00:00Z', 120]] },
    )
    const finals = await evaluateClosedPeriods(plan, new Date('2026-12-01T06:00:00Z'), source)
    expect(finals.map((f) => [f.kpi.id, f.period.label, f.status, f.evaluatedAt.toISOString()])).toEqual([
      ['followers', '2026-11', 'missed', '2026-12-01T00:00:00.000Z'],
      ['growth', '2026-11', 'missed', '2026-12-01T00:00:00.000Z'],
      ['views', '2026-11', 'achieved', '2026-12-01T00:00:00.000Z'],
      ['rate', '2026-11', 'unknown', '2026-12-01T00:00:00.000Z'],
    ])
  })

  it('gives a custom period its verdict once it has ended, during the grace window only', async () => {
    const custom = parsePlan(
      {
        company: { name: 'C', timezone: 'UTC' },
        objectives: [{ id: 'o', name: 'O' }],
        strategy: { networks: [{ network: 'facebook', accounts: [{ id: 'a', name: 'A', apiId: '1', tokenEnv: 'T' }] }] },
        kpis: [{ id: 'launch', name: 'L', objective: 'o', network: 'facebook', metric: 'views', kind: 'total', target: 100, period: { from: '2026-11-01', to: '2026-11-20' } }],
        alerting: { recipients: ['x@example.com'] },
      },
      'p.yaml',
    )
    // 120 views on 5 Nov; the campaign is [1 Nov, 21 Nov 00:00)
    const source = fakeSource([], { views: [['2026-11-05T00:00:00Z', 120]] })
    expect(await evaluateClosedPeriods(custom, new Date('2026-11-20T23:00:00Z'), source)).toEqual([])
    const finals = await evaluateClosedPeriods(custom, new Date('2026-11-22T00:00:00Z'), source)
    expect(finals.map((f) => [f.kpi.id, f.status, f.actual, f.evaluatedAt.toISOString()])).toEqual([['launch', 'achieved', 120, '2026-11-21T00:00:00.000Z']])
    expect(await evaluateClosedPeriods(custom, new Date('2026-11-24T00:00:01Z'), source)).toEqual([])
  })

  it('stops re-judging once the grace period is over', async () => {
    const source = fakeSource([], {})
    expect(await evaluateClosedPeriods(plan, new Date('2026-12-05T00:00:00Z'), source)).toEqual([])
  })
})

describe('evaluateKpi and the evidence rule', () => {
  // 36 hours into November (30 days): f = 1.5 / 30 = 0.05. Followers 1,000 at the start, 1,005 now:
  // a growth of 5 against 300 × 0.05 = 15 expected (bar 13.5), behind, with too little data for a forecast.
  const at = new Date('2026-11-02T12:00:00Z')
  const source = fakeSource(
    [
      ['2026-10-31T00:00:00Z', 1000],
      ['2026-11-02T06:00:00Z', 1005],
    ],
    {},
  )
  const growthPlan = (evidence: { kpi?: object; plan?: object }) =>
    parsePlan(
      {
        company: { name: 'C', timezone: 'UTC' },
        objectives: [{ id: 'o', name: 'O' }],
        strategy: { networks: [{ network: 'facebook', accounts: [{ id: 'a', name: 'A', apiId: '1', tokenEnv: 'T' }] }] },
        kpis: [
          { id: 'growth', name: 'G', objective: 'o', network: 'facebook', metric: 'followers', kind: 'growth', target: 300, period: 'month', ...(evidence.kpi ? { evidence: evidence.kpi } : {}) },
        ],
        alerting: { recipients: ['x@example.com'], ...(evidence.plan ? { evidence: evidence.plan } : {}) },
      },
      'p.yaml',
    )
  const judged = async (evidence: { kpi?: object; plan?: object }) => {
    const p = growthPlan(evidence)
    const result = await evaluateKpi(p, p.kpis[0]!, at, source)
    return { actual: result.actual, expectedToDate: result.expectedToDate, status: result.status, basis: result.basis, forecast: result.forecast }
  }

  it('waits by default: 15 expected is under 400 and 0.05 under a tenth', async () => {
    expect(await judged({})).toEqual({ actual: 5, expectedToDate: 15, status: 'on_track', basis: 'early', forecast: null })
  })

  it("applies the plan's alerting.evidence, and the KPI's own over it", async () => {
    expect(await judged({ plan: { minExpected: 10 } })).toMatchObject({ status: 'at_risk', basis: 'pace' }) // 15 ≥ 10
    expect(await judged({ plan: { minExpected: 10 }, kpi: { minExpected: 20 } })).toMatchObject({ status: 'on_track', basis: 'early' }) // 15 < 20
    expect(await judged({ plan: { minExpected: 20 }, kpi: { minElapsed: 0.05 } })).toMatchObject({ status: 'at_risk', basis: 'pace' }) // f 0.05 ≥ 0.05
  })
})

describe('the edges of a period', () => {
  const levels: Array<[string, number]> = [
    ['2026-10-31T12:00:00Z', 1000],
    // stamped exactly at the boundary: 1 Dec 00:00 UTC ends November and starts December
    ['2026-12-01T00:00:00Z', 1200],
    // a millisecond after the evaluation instant below
    ['2026-12-10T00:00:00.001Z', 1500],
  ]

  it('reads a level at or before the evaluation instant: a reading 1 ms later does not count', async () => {
    const at = new Date('2026-12-10T00:00:00Z')
    const source = fakeSource(levels, {})
    // December: baseline 1,200 (the boundary reading); the level at `at` is still 1,200, not 1,500
    const level = await evaluateKpi(plan, plan.kpis[0]!, at, source)
    expect(level).toMatchObject({ actual: 1200, baseline: 1200 })
    expect(level.history!.at(-1)).toEqual({ at, value: 1200 })
    expect((await evaluateKpi(plan, plan.kpis[1]!, at, source)).actual).toBe(0)
    // one millisecond later the reading is known
    expect((await evaluateKpi(plan, plan.kpis[0]!, new Date(at.getTime() + 1), source)).actual).toBe(1500)
  })

  it('counts a level stamped exactly at a boundary as the closing level of the period before and the starting level of the next', async () => {
    const midnight = new Date('2026-12-01T00:00:00Z')
    const source = fakeSource(levels, {})
    const verdicts = await evaluateClosedPeriods(plan, midnight, source)
    // November: 1,000 at its start, 1,200 at its end (the boundary reading): level 1,200 of 1,200
    // achieved; growth 200 of 300 missed
    expect(verdicts.filter((v) => v.kpi.kind === 'level' || v.kpi.kind === 'growth').map((v) => [v.kpi.id, v.period.label, v.actual, v.status])).toEqual([
      ['followers', '2026-11', 1200, 'achieved'],
      ['growth', '2026-11', 200, 'missed'],
    ])
    // December at its first instant: it starts from the same reading, 0 gained so far
    const december = await evaluateKpi(plan, plan.kpis[1]!, midnight, source)
    expect(december).toMatchObject({ actual: 0, period: { label: '2026-12' } })
    expect(await evaluateKpi(plan, plan.kpis[0]!, midnight, source)).toMatchObject({ actual: 1200, baseline: 1200 })
  })

  const dayPlan = parsePlan(
    {
      company: { name: 'C', timezone: 'UTC' },
      objectives: [{ id: 'o', name: 'O' }],
      strategy: { networks: [{ network: 'facebook', accounts: [{ id: 'a', name: 'A', apiId: '1', tokenEnv: 'T' }] }] },
      kpis: [
        { id: 'views-day', name: 'V', objective: 'o', network: 'facebook', metric: 'views', kind: 'total', target: 10, period: 'day' },
        { id: 'views-month', name: 'VM', objective: 'o', network: 'facebook', metric: 'views', kind: 'total', target: 100, period: 'month' },
      ],
      alerting: { recipients: ['x@example.com'] },
    },
    'p.yaml',
  )

  it('re-judges every day that ended within the grace window, so a count reported two days late reaches its day', async () => {
    // The count of 1 Dec (12 views) arrives on 3 Dec; those of 2 and 3 Dec (4 and 11) the next day.
    const source = fakeSource([], {
      views: [
        ['2026-12-01T00:00:00Z', 12],
        ['2026-12-02T00:00:00Z', 4],
        ['2026-12-03T00:00:00Z', 11],
      ],
    })
    // 4 Dec 00:05 UTC: 1, 2 and 3 Dec ended 2 d 0:05, 1 d 0:05 and 0:05 ago, inside the 3-day
    // window; 30 Nov ended 3 d 0:05 ago and has settled. November's month too.
    const at = new Date('2026-12-04T00:05:00Z')
    const days = (await evaluateClosedPeriods(dayPlan, at, source)).filter((v) => v.kpi.id === 'views-day')
    expect(days.map((v) => [v.period.label, v.actual, v.status])).toEqual([
      ['2026-12-03', 11, 'achieved'],
      ['2026-12-02', 4, 'missed'],
      ['2026-12-01', 12, 'achieved'],
    ])
  })

  it('stops re-judging at exactly the end of the grace window (settles_at), not a millisecond later', async () => {
    const source = fakeSource([], { views: [['2026-11-05T00:00:00Z', 120]] })
    // November ended 1 Dec 00:00 UTC; it settles at 4 Dec 00:00.
    const labels = async (at: string) => (await evaluateClosedPeriods(dayPlan, new Date(at), source)).filter((v) => v.kpi.id === 'views-month').map((v) => v.period.label)
    expect(await labels('2026-12-03T23:59:59.999Z')).toEqual(['2026-11'])
    expect(await labels('2026-12-04T00:00:00Z')).toEqual([])
    // the day KPI: at 4 Dec 00:00, 1 Dec (ended 2 Dec 00:00) is re-judged, 30 Nov (ended 1 Dec 00:00) has settled
    const days = (await evaluateClosedPeriods(dayPlan, new Date('2026-12-04T00:00:00Z'), source)).filter((v) => v.kpi.id === 'views-day').map((v) => v.period.label)
    expect(days).toEqual(['2026-12-03', '2026-12-02', '2026-12-01'])
  })

  it('tracks a custom period until its end only: afterwards it has its verdict and no running evaluation', async () => {
    const custom = parsePlan(
      {
        company: { name: 'C', timezone: 'UTC' },
        objectives: [{ id: 'o', name: 'O' }],
        strategy: { networks: [{ network: 'facebook', accounts: [{ id: 'a', name: 'A', apiId: '1', tokenEnv: 'T' }] }] },
        kpis: [
          { id: 'launch', name: 'L', objective: 'o', network: 'facebook', metric: 'views', kind: 'total', target: 100, period: { from: '2026-11-01', to: '2026-11-20' } },
          { id: 'views', name: 'V', objective: 'o', network: 'facebook', metric: 'views', kind: 'total', target: 100, period: 'month' },
        ],
        alerting: { recipients: ['x@example.com'] },
      },
      'p.yaml',
    )
    // 30 views during the campaign [1 Nov, 21 Nov), 60 after it
    const source = fakeSource([], {
      views: [
        ['2026-11-05T00:00:00Z', 30],
        ['2026-11-25T00:00:00Z', 60],
      ],
    })
    // 20 Nov 23:00: the campaign's last hour, still running
    expect((await evaluatePlan(custom, new Date('2026-11-20T23:00:00Z'), source)).map((e) => e.kpi.id)).toEqual(['launch', 'views'])
    // 9 Dec, 18 days after its end: only the monthly KPI runs (no "missed, 90 of 100" every hour)
    expect((await evaluatePlan(custom, new Date('2026-12-09T00:00:00Z'), source)).map((e) => e.kpi.id)).toEqual(['views'])
    // its verdict, during the grace window: 30 of 100, missed
    const [verdict] = (await evaluateClosedPeriods(custom, new Date('2026-11-22T00:00:00Z'), source)).filter((v) => v.kpi.id === 'launch')
    expect(verdict).toMatchObject({ actual: 30, status: 'missed' })
  })
})

/**
 * A fake source for two Facebook Pages and an ad account, with what each account's stored data
 * says at the instant asked about: its recent readings per metric, its newest reading of anything,
 * its last successful collection.
 */
function accountsSource(options: {
  amounts?: Record<string, number | null>
  levels?: Array<[string, number]>
  readings: Record<string, Array<[metric: string, shape: 'gauge' | 'counter' | 'daily', at: string]>>
  /** Each account's last successful collection as source health has it; null: known, never succeeded. */
  health?: Record<string, string | null>
}): KpiDataSource {
  const levelAt = (at: Date) => {
    const known = (options.levels ?? []).filter(([t]) => new Date(t) <= at)
    return known.length ? known[known.length - 1]![1] : null
  }
  return {
    level: async (_s, at) => levelAt(at),
    startingLevel: async (_s, start) => {
      const value = levelAt(start)
      return value === null ? null : { value, at: start }
    },
    // the month so far (no day-by-day series: no forecast, the pace decides)
    amount: async (s, from) => (from.toISOString() === '2026-11-01T00:00:00.000Z' ? (options.amounts?.[s.metric] ?? null) : null),
    dataUntil: async () => null,
    async recentData(accounts, at, window) {
      return accounts.map((a) => ({
        ...a,
        metrics: (options.readings[a.accountId] ?? [])
          .map(([metric, shape, t]) => ({ metric, shape, at: new Date(t) }))
          .filter((r) => r.at <= at && r.at >= (r.shape === 'daily' ? window.dailySince : window.since)),
        lastSuccessAt: options.health?.[a.accountId] ? new Date(options.health[a.accountId]!) : null,
        healthKnown: options.health !== undefined && a.accountId in options.health,
      }))
    },
    async lastSeen(accounts, at) {
      return accounts.map((a) => {
        const times = (options.readings[a.accountId] ?? []).map(([, , t]) => new Date(t)).filter((t) => t <= at)
        return { ...a, at: times.length ? new Date(Math.max(...times.map((t) => t.getTime()))) : null }
      })
    },
  }
}

describe('no verdict on partial data', () => {
  // Rounds every 15 minutes (the default schedule): data older than 2 × 15 + 5 = 35 minutes is stale.
  const twoPages = parsePlan(
    {
      company: { name: 'C', timezone: 'UTC' },
      objectives: [{ id: 'o', name: 'O' }],
      strategy: {
        networks: [
          {
            network: 'facebook',
            accounts: [
              { id: 'main', name: 'Main', apiId: '1', tokenEnv: 'T' },
              { id: 'second', name: 'Second', apiId: '2', tokenEnv: 'T' },
            ],
          },
          { network: 'meta_ads', accounts: [{ id: 'ads', name: 'Ads', apiId: 'act_1', tokenEnv: 'T', settings: { purchaseActionType: 'offsite_conversion.fb_pixel_purchase' } }] },
        ],
      },
      kpis: [
        { id: 'clicks', name: 'Clicks', objective: 'o', network: 'facebook', metric: 'clicks', kind: 'total', target: 5000, period: 'month' },
        { id: 'followers', name: 'Followers', objective: 'o', network: 'facebook', metric: 'followers', kind: 'level', target: 3000, period: 'month' },
        { id: 'gained', name: 'Gained', objective: 'o', network: 'facebook', metric: 'followers', kind: 'growth', target: 300, period: 'month' },
        { id: 'purchases', name: 'Purchases', objective: 'o', network: 'meta_ads', metric: 'conversions', kind: 'total', target: 600, period: 'month' },
        { id: 'launch', name: 'Launch', objective: 'o', network: 'facebook', metric: 'clicks', kind: 'total', target: 100, period: { from: '2026-12-01', to: '2026-12-10' } },
      ],
      alerting: { recipients: ['x@example.com'] },
    },
    'p.yaml',
  )
  const kpi = (id: string) => twoPages.kpis.find((k) => k.id === id)!
  // 16 Nov 00:00 UTC: half of November. Each Page was read at this round: its followers (a level)
  // and its posts' clicks.
  const at = new Date('2026-11-16T00:00:00Z')
  const read = (when: string): Array<[string, 'gauge' | 'counter', string]> => [
    ['followers', 'gauge', when],
    ['clicks', 'counter', when],
  ]
  const judged = async (id: string, source: KpiDataSource, when = at) => {
    const e = await evaluateKpi(twoPages, kpi(id), when, source)
    return { status: e.status, reason: e.reason, missingAccounts: e.missingAccounts, actual: e.actual, attainment: e.attainment }
  }

  it('judges a KPI whose accounts were all read at the last round (460 clicks of 2,500 expected: at risk)', async () => {
    const source = accountsSource({ amounts: { clicks: 460 }, readings: { main: read('2026-11-16T00:00:00Z'), second: read('2026-11-16T00:00:00Z') } })
    expect(await judged('clicks', source)).toMatchObject({ status: 'at_risk', reason: undefined, missingAccounts: [] })
  })

  it('gives no verdict when an account was not collected at all this month, and names it (issue 21: 460 read instead of 2,738)', async () => {
    // main: last read 20 Oct, never in November; second read at the round: 460 clicks are its own.
    const source = accountsSource({ amounts: { clicks: 460 }, readings: { main: read('2026-10-20T00:00:00Z'), second: read('2026-11-16T00:00:00Z') } })
    expect(await judged('clicks', source)).toEqual({ status: 'unknown', reason: 'incomplete', missingAccounts: ['main'], actual: 460, attainment: null })
    // an account with no reading ever is not collected in the period either
    const never = accountsSource({ amounts: { clicks: 460 }, readings: { second: read('2026-11-16T00:00:00Z') } })
    expect(await judged('clicks', never)).toMatchObject({ status: 'unknown', reason: 'incomplete', missingAccounts: ['main'] })
  })

  it('gives no verdict when an account collected earlier in the month is stale now', async () => {
    // main: last read 10 Nov, six days ago (the window is 35 minutes)
    const source = accountsSource({ amounts: { clicks: 460 }, readings: { main: read('2026-11-10T00:00:00Z'), second: read('2026-11-16T00:00:00Z') } })
    expect(await judged('clicks', source)).toMatchObject({ status: 'unknown', reason: 'data_problem', missingAccounts: ['main'] })
    // 36 minutes old: stale; 35 minutes: fresh (two missed rounds and the slack)
    const minutes = (m: number) => accountsSource({ amounts: { clicks: 460 }, readings: { main: read(new Date(at.getTime() - m * 60_000).toISOString()), second: read(at.toISOString()) } })
    expect((await judged('clicks', minutes(36))).status).toBe('unknown')
    expect((await judged('clicks', minutes(35))).status).toBe('at_risk')
  })

  it('still judges the month after one failed round: the newest reading is one round old', async () => {
    const source = accountsSource({ amounts: { clicks: 2738 }, readings: { main: read('2026-11-15T23:45:00Z'), second: read('2026-11-16T00:00:00Z') } })
    expect(await judged('clicks', source)).toMatchObject({ status: 'on_track', reason: undefined })
  })

  it('counts an account without posts as complete for a count: any reading shows the round read it', async () => {
    // main has no posts, so no clicks: only its followers were stored at the round
    const source = accountsSource({ amounts: { clicks: 2738 }, readings: { main: [['followers', 'gauge', '2026-11-16T00:00:00Z']], second: read('2026-11-16T00:00:00Z') } })
    expect(await judged('clicks', source)).toMatchObject({ status: 'on_track', missingAccounts: [] })
  })

  it('takes the rows of a collection that failed half-way as a part: a count over it has no verdict, its level is judged', async () => {
    // main's round read its followers and the first pages of posts, then its walk was cut off: no
    // collection of main ever ended well (source health: failing, no success)
    const partial = {
      amounts: { clicks: 460 },
      levels: [
        ['2026-11-01T00:00:00Z', 2000],
        ['2026-11-16T00:00:00Z', 2500],
      ] as Array<[string, number]>,
      readings: { main: read('2026-11-16T00:00:00Z'), second: read('2026-11-16T00:00:00Z') },
    }
    expect(await judged('clicks', accountsSource({ ...partial, health: { main: null, second: '2026-11-16T00:00:00Z' } }))).toMatchObject({
      status: 'unknown',
      reason: 'data_problem',
      missingAccounts: ['main'],
    })
    expect(await judged('followers', accountsSource({ ...partial, health: { main: null, second: '2026-11-16T00:00:00Z' } }))).toMatchObject({ missingAccounts: [] })
    // one round failed after one that ended well 15 minutes before: judged (one failed round is not a gap)
    expect(await judged('clicks', accountsSource({ ...partial, health: { main: '2026-11-15T23:45:00Z', second: '2026-11-16T00:00:00Z' } }))).toMatchObject({ status: 'at_risk', missingAccounts: [] })
  })

  it('wants the level itself for a level KPI: other readings of the account do not make its followers fresh', async () => {
    const levels: Array<[string, number]> = [
      ['2026-11-01T00:00:00Z', 2000],
      ['2026-11-16T00:00:00Z', 2500],
    ]
    const source = accountsSource({ levels, readings: { main: [['clicks', 'counter', '2026-11-16T00:00:00Z']], second: read('2026-11-16T00:00:00Z') } })
    expect(await judged('followers', source)).toMatchObject({ status: 'unknown', reason: 'data_problem', missingAccounts: ['main'] })
  })

  it('takes a successful collection as evidence for daily counts (an ad account without delivery stores no row)', async () => {
    // the ad account's newest day is 1 Nov (its campaigns paused); collected successfully at 00:02
    const quiet = { amounts: { conversions: 200 }, readings: { ads: [['conversions', 'daily', '2026-11-01T00:00:00Z']] as Array<[string, 'daily', string]> } }
    expect(await judged('purchases', accountsSource({ ...quiet, health: { ads: '2026-11-16T00:02:00Z' } }))).toMatchObject({ status: 'at_risk', missingAccounts: [] })
    // its last success two days ago: the count has stopped being collected
    expect(await judged('purchases', accountsSource({ ...quiet, health: { ads: '2026-11-14T00:00:00Z' } }))).toMatchObject({ status: 'unknown', reason: 'data_problem', missingAccounts: ['ads'] })
    // a daily count is stamped at its day's start and reported after it ends: yesterday's is fresh
    expect(await judged('purchases', accountsSource({ amounts: { conversions: 200 }, readings: { ads: [['conversions', 'daily', '2026-11-14T00:00:00Z']] } }))).toMatchObject({ status: 'at_risk' })
  })

  it('keeps a fact the missing accounts cannot change: an at-least total already over its target', async () => {
    const source = accountsSource({ amounts: { clicks: 5100 }, readings: { main: read('2026-10-20T00:00:00Z'), second: read('2026-11-16T00:00:00Z') } })
    expect(await judged('clicks', source)).toMatchObject({ status: 'achieved', missingAccounts: [] })
  })

  it('says why there is no verdict when nothing is missing: no history, no data, too early', async () => {
    const both = { main: read('2026-11-16T00:00:00Z'), second: read('2026-11-16T00:00:00Z') }
    // followers first read on 3 Nov: no level at the start to count the growth from
    expect(await judged('gained', accountsSource({ levels: [['2026-11-03T00:00:00Z', 2400]], readings: both }))).toMatchObject({ status: 'unknown', reason: 'no_history', actual: null })
    // no clicks at all this month (no posts)
    expect(await judged('clicks', accountsSource({ readings: both }))).toMatchObject({ status: 'unknown', reason: 'no_data' })
    // 1 Nov 00:10: the month's first round may not be in yet
    const early = accountsSource({ readings: { main: read('2026-10-31T23:45:00Z'), second: read('2026-10-31T23:45:00Z') } })
    expect(await judged('clicks', early, new Date('2026-11-01T00:10:00Z'))).toMatchObject({ status: 'unknown', reason: 'too_early', missingAccounts: [] })
    // a campaign that begins on 1 Dec
    expect(await judged('launch', accountsSource({ amounts: { clicks: 5 }, readings: both }))).toMatchObject({ status: 'unknown', reason: 'too_early' })
  })
})
