import { LANGUAGES, speaker } from '../../core/i18n/index.ts'
import { describe, expect, it } from 'vitest'
import { KPI_STATUS_COLORS } from '../../cli/kpi-table.ts'
import { METRICS, type MetricShape } from '../../core/metrics.ts'
import type { KpiDataSource, MetricSelection } from '../../kpi/kinds/source.ts'
import { findKpiKind, formatKpiValue, KPI_KIND_MODULES, KPI_KINDS, kpiKind } from '../../kpi/kinds/index.ts'
import { judge } from '../../kpi/pacing.ts'
import type { Period } from '../../plan/periods.ts'
import { parsePlan } from '../../plan/plan.ts'
import { KPI_STATUS_MEANINGS, KPI_STATUSES, severityRank, statusMeaning } from '../../kpi/statuses.ts'
import { freshAccounts } from '../helpers/fresh-accounts.ts'
import { PlanError } from '../../core/errors.ts'

/**
 * The registries the rest of the system reads instead of switching on names: a KPI kind that
 * lacks what the evaluator, the plan or the renderings need, or a status without its meaning,
 * fails here, naming it.
 */

const SHAPES: MetricShape[] = ['gauge', 'counter', 'daily']

const base = {
  company: { name: 'C', timezone: 'UTC' },
  objectives: [{ id: 'o', name: 'O' }],
  strategy: { networks: [{ network: 'facebook', accounts: [{ id: 'a', name: 'A', apiId: '1', tokenEnv: 'T' }] }] },
  alerting: { recipients: ['x@example.com'] },
}

/** A metric of facebook with one of these shapes, and one with none of them. */
const metricOf = (shapes: readonly MetricShape[], fits: boolean) => Object.entries(METRICS.facebook).find(([, m]) => shapes.includes(m.shape) === fits)?.[0]

function planIssues(kpi: Record<string, unknown>): string[] {
  try {
    parsePlan({ ...base, kpis: [{ id: 'k', name: 'K', objective: 'o', network: 'facebook', target: 10, period: 'month', ...kpi }] }, 'p.yaml')
    return []
  } catch (error) {
    if (!(error instanceof PlanError)) throw error
    return error.issues.map((i) => `${i.path}: ${i.message}`)
  }
}

/** Every account has the same data: a level of 1,000 rising to 1,100, and 5 a day of every count. */
const source: KpiDataSource = {
  async level(_selection: MetricSelection, at: Date) {
    return at.getTime() <= Date.parse('2026-11-01T00:00:00Z') ? 1000 : 1100
  },
  async startingLevel(_selection: MetricSelection, start: Date) {
    return { value: 1000, at: start }
  },
  async amount(_selection: MetricSelection, from: Date, to: Date) {
    return Math.round((to.getTime() - from.getTime()) / 86_400_000) * 5
  },
  async dataUntil(_selection: MetricSelection, at: Date) {
    return { at, accountId: 'a' }
  },
  ...freshAccounts,
}
const empty: KpiDataSource = { level: async () => null, startingLevel: async () => null, amount: async () => null, dataUntil: async () => null, ...freshAccounts }
const period: Period = { start: new Date('2026-11-01T00:00:00Z'), end: new Date('2026-12-01T00:00:00Z'), label: '2026-11' }
const selection = (metric: string): MetricSelection => ({ network: 'facebook', accountIds: ['a'], metric })

describe('KPI kinds (kpi/kinds/)', () => {
  it('lists each kind once, and the plan accepts exactly the kinds of the registry, in its order', () => {
    const names = KPI_KIND_MODULES.map((k) => k.name)
    expect(new Set(names).size).toBe(names.length)
    expect(KPI_KINDS).toEqual(names)
    expect(planIssues({ kind: 'nope', metric: 'likes' })).toEqual([`kpis[0].kind: must be one of: ${names.join(', ')}`])
    // The words of the plan's error are the ones users have seen all along.
    expect(names.join(', ')).toBe('level, growth, total, rate')
    for (const kind of KPI_KIND_MODULES) {
      expect(kpiKind(kind.name)).toBe(kind)
      expect(findKpiKind(kind.name)).toBe(kind)
    }
    expect(findKpiKind('nope')).toBeUndefined()
    expect(findKpiKind(7)).toBeUndefined()
  })

  it.each(KPI_KIND_MODULES.map((k) => [k.name, k] as const))('%s says everything the rest needs', (name, kind) => {
    expect(kind.shapes.length, `${name}: reads no metric shape`).toBeGreaterThan(0)
    for (const shape of kind.shapes) expect(SHAPES, `${name}: unknown shape ${shape}`).toContain(shape)
    expect(kind.needs, `${name}: no wording for the plan`).toMatch(/^an? \w+/)
    expect(Number.isInteger(kind.decimals) && kind.decimals >= 0, `${name}: decimals`).toBe(true)
    expect(kind.unit('likes')).toContain('likes')
    // A trend is read from the series of what the kind reads: levels from gauges, amounts from counts.
    if (kind.trend === 'level') expect(kind.shapes, `${name}: a level trend reads gauges`).toEqual(['gauge'])
    if (kind.trend === 'amount') expect(kind.shapes.includes('gauge'), `${name}: an amount trend reads counts`).toBe(false)
    // A kind read from levels says where its value starts (the evaluator's baseline, the review's chart).
    if (kind.trend === 'level' || kind.origin === 'start') expect(kind.startingPoint, `${name}: startingPoint`).toBeTypeOf('function')
    if (kind.onlyGrows) expect(kind.shapes.includes('gauge'), `${name}: only an amount of counts only grows`).toBe(false)
    expect(kind.paced).toBe(kind.pacing !== null)
    expect(kind.accumulates).toBe(kind.paced && kind.origin === 'zero')
  })

  it.each(KPI_KIND_MODULES.map((k) => [k.name, k] as const))('the plan checks a %s KPI with what the kind says', (name, kind) => {
    const fitting = metricOf(kind.shapes, true)!
    const other = metricOf(kind.shapes, false)
    const denominator = kind.denominator ? { denominator: fitting } : {}
    expect(planIssues({ kind: name, metric: fitting, ...denominator })).toEqual([])
    if (other) expect(planIssues({ kind: name, metric: other, ...denominator })[0]).toMatch(new RegExp(`^kpis\\[0\\]\\.metric: a ${name} KPI needs ${kind.needs}; "${other}" is a`))
    if (kind.denominator) expect(planIssues({ kind: name, metric: fitting })).toEqual([`kpis[0].denominator: a ${name} KPI needs a denominator metric (${name} = metric ÷ denominator)`])
    else expect(planIssues({ kind: name, metric: fitting, denominator: fitting })).toEqual(['kpis[0].denominator: only a rate KPI has a denominator'])
  })

  it.each(KPI_KIND_MODULES.map((k) => [k.name, k] as const))('%s measures from a data source, and no data is no value', async (_name, kind) => {
    const reading = {
      metric: selection('likes'),
      ...(kind.denominator ? { denominator: selection('views') } : {}),
      period,
      upTo: new Date('2026-11-11T00:00:00Z'),
      levelAt: new Date('2026-11-11T00:00:00Z'),
      knownAt: new Date('2026-11-11T00:00:00Z'),
    }
    const measured = await kind.measure({ ...reading, source })
    expect(measured.actual).toBeTypeOf('number')
    if (kind.origin === 'start' || kind.trend === 'level') expect(measured.start).not.toBeNull()
    expect((await kind.measure({ ...reading, source: empty })).actual).toBeNull()
    const judged = judge({
      kind: kind.name,
      comparator: 'at_least',
      target: 2000,
      tolerance: 0.1,
      actual: measured.actual,
      baseline: measured.start?.value ?? null,
      fraction: 1 / 3,
      periodEnded: false,
    })
    expect(KPI_STATUSES).toContain(judged.status)
    // An unpaced kind is held to the target itself; a paced one to part of the way there.
    if (kind.paced) expect(judged.expectedToDate).toBeLessThan(2000)
    else expect(judged.expectedToDate).toBe(2000)
  })

  it('writes a value with its kind’s decimals in the terminal', () => {
    expect(formatKpiValue(0.03125, 'rate')).toBe('0.0313')
    expect(formatKpiValue(4000.4, 'total')).toBe('4,000')
    expect(formatKpiValue(null, 'level')).toBe('—')
    expect(formatKpiValue(12.6, 'no such kind')).toBe('13')
  })
})

describe('KPI statuses (kpi/statuses.ts)', () => {
  it.each(KPI_STATUSES.map((s) => [s] as const))('%s has its meaning', (status) => {
    const meaning = KPI_STATUS_MEANINGS[status]
    expect(meaning, status).toBeDefined()
    for (const language of LANGUAGES) expect(speaker(language, 'UTC').t(`status.${status}`).length, language).toBeGreaterThan(0)
    expect(KPI_STATUS_COLORS[status]?.startsWith('\x1b['), `${status}: no terminal colour`).toBe(true)
    expect(statusMeaning(status)).toBe(meaning)
    // A failing status is routed by its severity; nothing else has one.
    expect(meaning.severity !== null).toBe(meaning.failing === true)
  })

  it('fails at risk and missed, resolves on track and achieved, and leaves unknown alone', () => {
    const by = (test: (s: (typeof KPI_STATUS_MEANINGS)[keyof typeof KPI_STATUS_MEANINGS]) => boolean) => KPI_STATUSES.filter((s) => test(KPI_STATUS_MEANINGS[s]))
    expect(by((m) => m.failing === true)).toEqual(['at_risk', 'missed'])
    expect(by((m) => m.failing === false)).toEqual(['on_track', 'achieved'])
    expect(by((m) => m.final)).toEqual(['achieved', 'missed'])
    expect(severityRank('missed')).toBeGreaterThan(severityRank('at_risk'))
    expect(severityRank('at_risk')).toBeGreaterThan(severityRank('unhealthy'))
    expect(statusMeaning('constructor')).toBeUndefined()
  })
})
