import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { clickHouseKpiSource } from '../../kpi/clickhouse-source.ts'
import { evaluateKpi } from '../../kpi/evaluate.ts'
import { parsePlan } from '../../plan/plan.ts'
import { toEvaluationRow } from '../../workers/evaluation-row.ts'
import { openTestClickHouse, type TestClickHouse } from '../helpers/clickhouse.ts'
import { observation } from '../helpers/observations.ts'

let db: TestClickHouse
const DAY = 86_400_000

const row = observation

beforeAll(async () => {
  db = await openTestClickHouse('kpi_series', [
    row('followers', 'gauge', 'p1', '2026-10-31T12:00:00Z', 1000),
    row('followers', 'gauge', 'p1', '2026-11-02T06:00:00Z', 1010),
    row('followers', 'gauge', 'p1', '2026-11-02T18:00:00Z', 1020),
    row('followers', 'gauge', 'p1', '2026-11-05T00:00:00Z', 1050), // exactly on a boundary: counts at it
    row('followers', 'gauge', 'p2', '2026-11-03T12:00:00Z', 500, { account: 'second' }),
    row('likes', 'counter', 'old', '2026-10-30T00:00:00Z', 40, { created: '2026-09-01T00:00:00Z' }),
    row('likes', 'counter', 'old', '2026-11-02T00:00:00Z', 55, { created: '2026-09-01T00:00:00Z' }),
    row('likes', 'counter', 'old', '2026-11-04T09:00:00Z', 70, { created: '2026-09-01T00:00:00Z' }),
    row('likes', 'counter', 'new', '2026-11-03T01:00:00Z', 10, { created: '2026-11-02T20:00:00Z' }),
    row('likes', 'counter', 'new', '2026-11-03T20:00:00Z', 26, { created: '2026-11-02T20:00:00Z' }),
    row('likes', 'counter', 'unseen', '2026-11-02T10:00:00Z', 300, { created: '2026-06-01T00:00:00Z' }),
    row('likes', 'counter', 'unseen', '2026-11-04T10:00:00Z', 305, { created: '2026-06-01T00:00:00Z' }),
    row('views', 'daily', 'p1', '2026-10-31T07:00:00Z', 999),
    row('views', 'daily', 'p1', '2026-11-01T07:00:00Z', 100),
    row('views', 'daily', 'p1', '2026-11-03T08:00:00Z', 120),
    // fans, read every day at 12:00Z from 25 Oct to 5 Nov: main 1,000 + 10 a day from 1 Nov,
    // second 500 + 5 a day, but second was not read on 3 Nov
    ...Array.from({ length: 12 }, (_, i) => i - 7).flatMap((d) => [
      row('fans', 'gauge', 'p1', new Date(Date.UTC(2026, 10, 1 + d, 12)).toISOString(), 1000 + 10 * d),
      ...(d === 2 ? [] : [row('fans', 'gauge', 'p2', new Date(Date.UTC(2026, 10, 1 + d, 12)).toISOString(), 500 + 5 * d, { account: 'second' })]),
    ]),
  ])
})
afterAll(async () => db?.cleanup())

const selection = (metric: string) => ({ network: 'facebook', accountIds: ['main', 'second'], metric })
const from = new Date('2026-11-01T00:00:00Z')
const to = new Date('2026-11-06T00:00:00Z')

describe('KPI series from ClickHouse', () => {
  it('gives the level at every step boundary where every account was read in the step that ends there, and a gap elsewhere', async () => {
    const source = clickHouseKpiSource(db.ch)
    // boundary k (Nov 1+k 00:00) holds the readings of the day before: 1,500 + 15 × (k − 1);
    // second was not read on Nov 3, so the boundary Nov 4 00:00 is a gap
    const series = await source.levelSeries!(selection('fans'), from, to, DAY)
    expect(series).toEqual([1485, 1500, 1515, null, 1545, 1560])
    for (const [k, value] of series.entries()) if (value !== null) expect(await source.level(selection('fans'), new Date(from.getTime() + k * DAY))).toBe(value)
    // sparse readings (followers: main read on Oct 31, Nov 2 and Nov 5; second once, Nov 3):
    // no boundary has both accounts fresh, so no step is carried forward as "no change"
    expect(await source.levelSeries!(selection('followers'), from, to, DAY)).toEqual([null, null, null, null, null, null])
    // a reading exactly on a boundary belongs to the step that ends there
    expect(await source.levelSeries!({ ...selection('followers'), accountIds: ['main'] }, new Date('2026-11-04T00:00:00Z'), new Date('2026-11-05T00:00:00Z'), DAY)).toEqual([null, 1050])
    expect(await source.levelSeries!(selection('followers'), new Date('2026-10-01T00:00:00Z'), new Date('2026-10-03T00:00:00Z'), DAY)).toEqual([null, null, null])
  })

  it('gives amounts per step that add up to the amount over the window, counters and daily counts alike', async () => {
    const source = clickHouseKpiSource(db.ch)
    for (const metric of ['likes', 'views']) {
      const steps = await source.amountSeries!(selection(metric), from, to, DAY)
      expect(steps).toHaveLength(5)
      const sum = steps.reduce<number>((total, value) => total + (value ?? 0), 0)
      expect(sum).toBe(await source.amount(selection(metric), from, to))
    }
    // likes: Nov 2 old +15 (from 40) and new 10 — what "new" (created Nov 2 20:00) had when first
    // seen on Nov 3 belongs to its creation day, as in metrics_daily; Nov 3 new +16;
    // Nov 4 old +15, unseen +5 (first value 300)
    expect(await source.amountSeries!(selection('likes'), from, to, DAY)).toEqual([null, 25, 16, 20, null])
    // views: the day starting Nov 1 07:00 and the one starting Nov 3 08:00; none on the other days
    expect(await source.amountSeries!(selection('views'), from, to, DAY)).toEqual([100, null, 120, null, null])
  })

  it('stores the forecast with the evaluation (migration 0007)', async () => {
    const plan = parsePlan(
      {
        company: { name: 'C', timezone: 'UTC' },
        objectives: [{ id: 'o', name: 'O' }],
        strategy: {
          networks: [
            {
              network: 'facebook',
              accounts: [
                { id: 'main', name: 'M', apiId: '1', tokenEnv: 'T' },
                { id: 'second', name: 'S', apiId: '2', tokenEnv: 'T' },
              ],
            },
          ],
        },
        // read once a day at 12:00Z, as the fans above: fresh for two rounds
        collection: { schedule: '0 12 * * *' },
        kpis: [{ id: 'followers', name: 'F', objective: 'o', network: 'facebook', metric: 'fans', kind: 'level', target: 2000, period: 'month' }],
        alerting: { recipients: ['x@example.com'] },
      },
      'p.yaml',
    )
    const at = new Date('2026-11-06T00:00:00Z')
    const evaluation = await evaluateKpi(plan, plan.kpis[0]!, at, clickHouseKpiSource(db.ch))
    expect(evaluation.forecast).not.toBeNull()
    await db.ch.client.insert({ table: 'kpi_evaluations', format: 'JSONEachRow', values: [toEvaluationRow(evaluation, at)] })
    const [stored] = await db.ch.rows<{ forecast_end: number; recent_per_day: number; needed_per_day: number; status_basis: string }>(
      "SELECT forecast_end, recent_per_day, needed_per_day, status_basis FROM kpi_evaluations FINAL WHERE kpi_id = 'followers'",
    )
    expect(stored!.forecast_end).toBeCloseTo(evaluation.forecast!.end, 6)
    expect(stored!.recent_per_day).toBeCloseTo(evaluation.forecast!.recentPerDay, 6)
    expect(stored!.needed_per_day).toBeCloseTo((2000 - 1560) / 25, 6)
    expect(stored!.status_basis).toBe(evaluation.basis)
  })
})
