import { describe, expect, it } from 'vitest'
import { evaluateClosedPeriods, evaluateKpi, type KpiDataSource, type MetricSelection } from '../../kpi/evaluate.ts'
import { parsePlan, type Plan } from '../../kpi/plan.ts'

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
    async amount(selection: MetricSelection, from: Date, to: Date) {
      calls.push(`amount ${selection.metric} ${from.toISOString()} ${to.toISOString()}`)
      const inside = (daily[selection.metric] ?? []).filter(([t]) => new Date(t) >= from && new Date(t) < to)
      return inside.length ? inside.reduce((sum, [, v]) => sum + v, 0) : null
    },
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
    [['2026-10-31T00:00:00Z', 1000], ['2026-11-16T00:00:00Z', 1090]],
    { views: [['2026-11-01T00:00:00Z', 20], ['2026-11-02T00:00:00Z', 25]] },
  )
  const at = new Date('2026-11-16T00:00:00Z') // half of November

  it('judges a level against its pace from the period-start baseline', async () => {
    const result = await evaluateKpi(plan, plan.kpis[0]!, at, source)
    expect(result).toMatchObject({ actual: 1090, expectedToDate: 1100, status: 'on_track' })
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

describe('evaluateClosedPeriods', () => {
  it('gives the period that just ended its final verdict, as of its end', async () => {
    const source = fakeSource([['2026-10-31T00:00:00Z', 1000], ['2026-11-30T00:00:00Z', 1150]], { views: [['2026-11-05T00:00:00Z', 120]] })
    const finals = await evaluateClosedPeriods(plan, new Date('2026-12-01T06:00:00Z'), source)
    expect(finals.map((f) => [f.kpi.id, f.period.label, f.status, f.evaluatedAt.toISOString()])).toEqual([
      ['followers', '2026-11', 'missed', '2026-12-01T00:00:00.000Z'],
      ['growth', '2026-11', 'missed', '2026-12-01T00:00:00.000Z'],
      ['views', '2026-11', 'achieved', '2026-12-01T00:00:00.000Z'],
      ['rate', '2026-11', 'unknown', '2026-12-01T00:00:00.000Z'],
    ])
  })

  it('stops re-judging once the grace period is over', async () => {
    const source = fakeSource([], {})
    expect(await evaluateClosedPeriods(plan, new Date('2026-12-05T00:00:00Z'), source)).toEqual([])
  })
})
