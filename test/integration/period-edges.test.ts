import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRuntime, type Runtime } from '../../cli/runtime.ts'
import { clickHouseKpiSource } from '../../kpi/clickhouse-source.ts'
import { evaluateClosedPeriods, evaluateKpi } from '../../kpi/evaluate.ts'
import { parsePlan, type Plan } from '../../plan/plan.ts'
import { evaluateAll } from '../../workers/evaluate-worker.ts'
import { observation } from '../helpers/observations.ts'
import { silentLogger, testConfig } from '../helpers/runtime.ts'

/**
 * The edges of a period, on the real engine: the first round of a month on a fresh database, an
 * evaluation at exactly local midnight, a follower gap, a level first read mid-period, and a
 * counter whose collection stopped. Asia/Jakarta is UTC+7: November (local) is
 * [2026-10-31T17:00Z, 2026-11-30T17:00Z). Every expected number is worked out by hand in the
 * comments before the assertion.
 */
const account = (id: string) => ({ id, name: id, apiId: id, tokenEnv: 'FB_TEST_TOKEN' })
const kpi = (id: string, accounts: string[], metric: string, kind: string, target: number, period = 'month') => ({
  id,
  name: id,
  objective: 'o',
  network: 'facebook',
  accounts,
  metric,
  kind,
  target,
  period,
})
const plan: Plan = parsePlan(
  {
    company: { name: 'Edge Co', timezone: 'Asia/Jakarta' },
    objectives: [{ id: 'o', name: 'Objective' }],
    strategy: {
      networks: [{ network: 'facebook', accounts: ['fresh', 'midnight', 'gappy', 'late-start', 'stopped', 'lasthour', 'monday', 'yearend', 'leap', 'boundary', 'lateday', 'campaign'].map(account) }],
    },
    // One round a day: the readings below are the accounts' rounds, so an account read within two
    // days (and five minutes) is fresh; one not read for longer is stale (plan/schedule.ts).
    collection: { schedule: '0 0 * * *' },
    kpis: [
      kpi('fresh-likes', ['fresh'], 'likes', 'total', 100),
      kpi('midnight-likes', ['midnight'], 'likes', 'total', 100),
      kpi('gappy-followers', ['gappy'], 'followers', 'level', 1300),
      kpi('late-followers', ['late-start'], 'followers', 'level', 9000),
      kpi('stopped-likes', ['stopped'], 'likes', 'total', 1000),
      kpi('lasthour-likes', ['lasthour'], 'likes', 'total', 100),
      kpi('monday-comments', ['monday'], 'comments', 'total', 10, 'week'),
      kpi('yearend-followers', ['yearend'], 'followers', 'level', 5000, 'quarter'),
      kpi('yearend-likes', ['yearend'], 'likes', 'total', 1000, 'year'),
      kpi('leap-likes-day', ['leap'], 'likes', 'total', 50, 'day'),
      kpi('leap-likes-month', ['leap'], 'likes', 'total', 100),
      kpi('boundary-followers', ['boundary'], 'followers', 'level', 4200),
      kpi('boundary-growth', ['boundary'], 'followers', 'growth', 300),
      kpi('lateday-views', ['lateday'], 'views', 'total', 10, 'day'),
      { ...kpi('campaign-likes', ['campaign'], 'likes', 'total', 100), period: { from: '2026-11-01', to: '2026-11-20' } },
    ],
    alerting: { recipients: ['team@example.com'] },
  },
  'edge-plan.yaml',
)

let runtime: Runtime
let cleanup: () => void
let clockAt = new Date('2026-11-16T17:00:00Z')

const insert = (rows: ReturnType<typeof observation>[]) => runtime.ch!.client.insert({ table: 'observations', format: 'JSONEachRow', values: rows })
const on = (accountId: string, ...args: Parameters<typeof observation>) => {
  const [metric, shape, objectId, observedAt, value, extra] = args
  return observation(metric, shape, objectId, observedAt, value, { ...extra, account: accountId })
}
const dayAt = (day: number, hourUtc = 12) => new Date(Date.UTC(2026, 9, 31 + day, hourUtc)).toISOString() // day 0 = Oct 31

beforeAll(async () => {
  const test = testConfig('period_edges', { FB_TEST_TOKEN: 'not-used' })
  cleanup = test.cleanup
  runtime = await startRuntime({ config: test.config, plan, logger: silentLogger, scheduler: false, workers: true, now: () => clockAt })
})

afterAll(async () => {
  await runtime?.shutdown()
  cleanup?.()
})

// In time order: a verdict judged later wins, so the tests move forward through the calendar.
describe('final verdicts at the edge of a period', () => {
  it('stores both the new month’s first evaluation and the old month’s verdict at local midnight, and re-judges the verdict as late data arrives', async () => {
    // Post p, created 5 Nov, had 10 likes on 5 Nov and 80 on 29 Nov.
    await insert([
      on('midnight', 'likes', 'counter', 'p', '2026-11-05T10:00:00Z', 10, { created: '2026-11-05T09:00:00Z' }),
      on('midnight', 'likes', 'counter', 'p', '2026-11-29T10:00:00Z', 80, { created: '2026-11-05T09:00:00Z' }),
    ])
    const midnight = new Date('2026-11-30T17:00:00Z') // 1 Dec 00:00 Jakarta
    clockAt = midnight
    await evaluateAll(runtime.evaluateDeps!, midnight)
    const rows = async () => ({
      running: await runtime.ch!.rows<{ evaluated_at: string; period_start: string; status: string }>(
        "SELECT toString(evaluated_at) AS evaluated_at, toString(period_start) AS period_start, status FROM kpi_evaluations FINAL WHERE kpi_id = 'midnight-likes' ORDER BY evaluated_at",
      ),
      verdicts: await runtime.ch!.rows<{ period_label: string; actual: number; status: string; judged_at: string }>(
        "SELECT period_label, actual, status, toString(judged_at) AS judged_at FROM kpi_verdicts FINAL WHERE kpi_id = 'midnight-likes'",
      ),
    })
    // December's first evaluation: nothing counted yet in December (unknown); November: p rose
    // from 0 (created inside) to 80, short of 100: missed.
    expect(await rows()).toEqual({
      running: [{ evaluated_at: '2026-11-30 17:00:00.000', period_start: '2026-11-30 17:00:00.000', status: 'unknown' }],
      verdicts: [{ period_label: '2026-11', actual: 80, status: 'missed', judged_at: '2026-11-30 17:00:00.000' }],
    })
    // 00:15: the first round of December reads post q, created 30 Nov 20:00 local, with 30 likes.
    // November is re-judged with it: 80 + 30 = 110, achieved; still one verdict row.
    await insert([on('midnight', 'likes', 'counter', 'q', '2026-11-30T17:15:00Z', 30, { created: '2026-11-30T13:00:00Z' })])
    clockAt = new Date('2026-11-30T17:15:00Z')
    await evaluateAll(runtime.evaluateDeps!, clockAt)
    const after = await rows()
    expect(after.verdicts).toEqual([{ period_label: '2026-11', actual: 110, status: 'achieved', judged_at: '2026-11-30 17:15:00.000' }])
    expect(after.running.map((r) => r.evaluated_at)).toEqual(['2026-11-30 17:00:00.000', '2026-11-30 17:15:00.000'])
    // An evaluation replayed late for 00:00 (a retried job) does not undo the better-informed verdict.
    await evaluateAll(runtime.evaluateDeps!, midnight)
    expect((await rows()).verdicts).toEqual(after.verdicts)
  })

  it('gives November a real verdict on a database first collected on 1 December', async () => {
    // The first round ever: 1 Dec 10:00 Jakarta (03:00Z). Post a (created 10 Nov) has 60 likes,
    // b (28 Nov) 50, c (1 Dec 08:00 local) 5, d (20 Oct) 500.
    const first = '2026-12-01T03:00:00Z'
    await insert([
      on('fresh', 'likes', 'counter', 'a', first, 60, { created: '2026-11-10T05:00:00Z' }),
      on('fresh', 'likes', 'counter', 'b', first, 50, { created: '2026-11-28T05:00:00Z' }),
      on('fresh', 'likes', 'counter', 'c', first, 5, { created: '2026-12-01T01:00:00Z' }),
      on('fresh', 'likes', 'counter', 'd', first, 500, { created: '2026-10-20T05:00:00Z' }),
    ])
    clockAt = new Date(first)
    await evaluateAll(runtime.evaluateDeps!, clockAt)
    // November: what a and b had when first seen belongs to their creation days, 60 + 50 = 110
    // of 100: achieved. d belongs to October, c to December.
    const [verdict] = await runtime.ch!.rows<{ actual: number; status: string; period_label: string; period_end: string; judged_at: string; settles_at: string }>(
      "SELECT actual, status, period_label, toString(period_end) AS period_end, toString(judged_at) AS judged_at, toString(settles_at) AS settles_at FROM kpi_verdicts FINAL WHERE kpi_id = 'fresh-likes'",
    )
    expect(verdict).toEqual({
      actual: 110,
      status: 'achieved',
      period_label: '2026-11',
      period_end: '2026-11-30 17:00:00.000',
      judged_at: '2026-12-01 03:00:00.000',
      settles_at: '2026-12-03 17:00:00.000',
    })
    // December so far: only c, created inside it, counts from zero: 5.
    const running = await runtime.ch!.rows<{ actual: number; period_start: string }>(
      "SELECT actual, toString(period_start) AS period_start FROM kpi_evaluations FINAL WHERE kpi_id = 'fresh-likes' AND evaluated_at = '2026-12-01 03:00:00'",
    )
    expect(running).toEqual([{ actual: 5, period_start: '2026-11-30 17:00:00.000' }])
    // the analysts' view agrees: 60 on 10 Nov and 50 on 28 Nov (UTC days)
    const daily = await runtime.ch!.rows<{ day: string; value: number }>(
      "SELECT toString(day) AS day, value FROM metrics_daily WHERE account_id = 'fresh' AND metric = 'likes' AND day BETWEEN '2026-11-01' AND '2026-11-30' ORDER BY day",
    )
    expect(daily).toEqual([
      { day: '2026-11-10', value: 60 },
      { day: '2026-11-28', value: 50 },
    ])
  })
})

describe('gaps and first readings', () => {
  it('leaves days without a follower reading out of the trend, so a KPI on pace stays on track', async () => {
    // A reading at 12:00Z every day from 18 Oct (day −13) to 16 Nov (day 16), +10 a day from 1,000
    // on 31 Oct, except 8–12 Nov (days 8–12): no reading at all.
    const readings = []
    for (let day = -13; day <= 16; day++) if (day < 8 || day > 12) readings.push(on('gappy', 'followers', 'gauge', 'gappy', dayAt(day), 1000 + 10 * day))
    await insert(readings)
    // At 16 Nov 17:00Z, 16 of November's 30 days: baseline 1,000 (31 Oct 12:00Z), pace
    // 1,000 + 300 × 16/30 = 1,160, actual 1,160: exactly on pace. The trend has +10 on every day
    // with readings at both ends and no step across the gap: drift 10, no spread. From the last
    // reading (16 Nov 12:00Z) 14 5/24 days remain: 1,160 + 142.08 = 1,302.08, on course (short
    // would be a gain under 270). Carrying the last value through the gap made five flat days
    // of it and dragged the drift to about 6.7: a forecast near 1,253, "at risk".
    const result = await evaluateKpi(plan, plan.kpis[2]!, new Date('2026-11-16T17:00:00Z'), clickHouseKpiSource(runtime.ch!))
    expect(result).toMatchObject({ actual: 1160, baseline: 1000, status: 'on_track', basis: 'pace' })
    expect(result.expectedToDate).toBeCloseTo(1160, 6)
    expect(result.forecast!.recentPerDay).toBe(10)
    expect(result.forecast!.end).toBeCloseTo(1160 + 10 * (14 + 5 / 24), 6)
    // the history shows the gap as a gap: no point for the evenings of 8–12 Nov
    const days = result.history!.map((p) => p.at.toISOString().slice(0, 10))
    for (const gap of ['2026-11-08', '2026-11-09', '2026-11-10', '2026-11-11', '2026-11-12']) expect(days).not.toContain(gap)
    expect(days).toContain('2026-11-13')
  })

  it('judges a level first read inside the period from that first reading, paced from then', async () => {
    // First reading ever: 10 Nov 12:00Z, 8,000 followers; +50 a day to 8,300 on 16 Nov 12:00Z.
    await insert(Array.from({ length: 7 }, (_, d) => on('late-start', 'followers', 'gauge', 'late-start', dayAt(10 + d), 8000 + 50 * d)))
    // At 16 Nov 17:00Z: 6 5/24 of the 20 5/24 days from the first reading to the end have passed
    // (0.30722); expected 8,000 + 1,000 × 0.30722 = 8,307.2; actual 8,300, within tolerance.
    const result = await evaluateKpi(plan, plan.kpis[3]!, new Date('2026-11-16T17:00:00Z'), clickHouseKpiSource(runtime.ch!))
    expect(result).toMatchObject({ actual: 8300, baseline: 8000, status: 'on_track' })
    expect(result.baselineAt).toEqual(new Date(dayAt(10)))
    expect(result.expectedToDate).toBeCloseTo(8000 + 1000 * ((6 + 5 / 24) / (20 + 5 / 24)), 6)
    expect(result.history![0]).toEqual({ at: new Date(dayAt(10)), value: 8000 })
  })

  it('gives no verdict on an account whose collection stopped, and names it', async () => {
    // Likes read daily from 1 to 9 Nov (+20 a day on one post created 1 Nov), then nothing.
    await insert(Array.from({ length: 9 }, (_, d) => on('stopped', 'likes', 'counter', 'post', dayAt(1 + d), 20 * (d + 1), { created: dayAt(1, 0) })))
    // At 16 Nov 17:00Z: 180 likes counted (all of them in November), 18 % of the 1,000 against 50 %
    // of the month gone; but the newest reading (9 Nov 12:00Z) is 7 days old, beyond the stale
    // window of two daily rounds: no verdict (not at risk), no forecast, the account named.
    const result = await evaluateKpi(plan, plan.kpis[4]!, new Date('2026-11-16T17:00:00Z'), clickHouseKpiSource(runtime.ch!))
    expect(result).toMatchObject({ actual: 180, status: 'unknown', reason: 'data_problem', missingAccounts: ['stopped'], attainment: null, forecast: null })
  })
})

/** Running rows and verdicts of some KPIs, as analysts read them. */
async function stored(kpiIds: string[], evaluatedAt: string) {
  const running = await runtime.ch!.rows<{ kpi_id: string; period_start: string; actual: number | null; status: string }>(
    `SELECT kpi_id, toString(period_start) AS period_start, actual, status FROM kpi_evaluations FINAL
     WHERE kpi_id IN {ids:Array(String)} AND evaluated_at = {at:DateTime64(3, 'UTC')} ORDER BY kpi_id`,
    { ids: kpiIds, at: evaluatedAt },
  )
  const verdicts = await runtime.ch!.rows<{ kpi_id: string; period_label: string; period_start: string; period_end: string; actual: number | null; status: string }>(
    `SELECT kpi_id, period_label, toString(period_start) AS period_start, toString(period_end) AS period_end, actual, status FROM kpi_verdicts FINAL
     WHERE kpi_id IN {ids:Array(String)} ORDER BY kpi_id, period_start`,
    { ids: kpiIds },
  )
  return { running, verdicts }
}

// Later in the calendar than the tests above, and in time order among themselves.
describe('calendar edges', () => {
  it('the last hour of a month, then the midnight that starts a month and an ISO week (Mon 1 Feb 2027)', async () => {
    await insert([
      // a post of 5 Jan: 40 likes that day, 95 by 23:00 on 31 Jan (local)
      on('lasthour', 'likes', 'counter', 'jan', '2027-01-05T05:00:00Z', 40, { created: '2027-01-05T03:00:00Z' }),
      on('lasthour', 'likes', 'counter', 'jan', '2027-01-31T16:00:00Z', 95, { created: '2027-01-05T03:00:00Z' }),
      // a post of Tue 26 Jan: 4 comments on the 27th, 12 by Sunday 31 Jan 17:00 local
      on('monday', 'comments', 'counter', 'w04', '2027-01-27T05:00:00Z', 4, { created: '2027-01-26T05:00:00Z' }),
      on('monday', 'comments', 'counter', 'w04', '2027-01-31T10:00:00Z', 12, { created: '2027-01-26T05:00:00Z' }),
    ])
    // 31 Jan 23:30 local: January runs [31 Dec 17:00Z, 31 Jan 17:00Z), 743.5 of its 744 hours
    // have passed; expected 100 × 743.5/744 = 99.93; 95 is within the 10 % tolerance: on track,
    // and not yet judged (no verdict for January).
    clockAt = new Date('2027-01-31T16:30:00Z')
    await evaluateAll(runtime.evaluateDeps!, clockAt)
    const lastHour = await stored(['lasthour-likes'], '2027-01-31 16:30:00')
    expect(lastHour.running).toEqual([{ kpi_id: 'lasthour-likes', period_start: '2026-12-31 17:00:00.000', actual: 95, status: 'on_track' }])
    expect(lastHour.verdicts.filter((v) => v.period_label === '2027-01')).toEqual([])
    // Mon 1 Feb 00:00 local: January's verdict, 95 of 100: missed; week 2027-W04 (Mon 25 Jan
    // 00:00 local = 24 Jan 17:00Z, to 31 Jan 17:00Z): 12 comments of 10: achieved. February's and
    // W05's first rows start at the same instant.
    clockAt = new Date('2027-01-31T17:00:00Z')
    await evaluateAll(runtime.evaluateDeps!, clockAt)
    const midnight = await stored(['lasthour-likes', 'monday-comments'], '2027-01-31 17:00:00')
    expect(midnight.running.map((r) => [r.kpi_id, r.period_start])).toEqual([
      ['lasthour-likes', '2027-01-31 17:00:00.000'],
      ['monday-comments', '2027-01-31 17:00:00.000'],
    ])
    expect(midnight.verdicts.filter((v) => ['2027-01', '2027-W04'].includes(v.period_label))).toEqual([
      { kpi_id: 'lasthour-likes', period_label: '2027-01', period_start: '2026-12-31 17:00:00.000', period_end: '2027-01-31 17:00:00.000', actual: 95, status: 'missed' },
      { kpi_id: 'monday-comments', period_label: '2027-W04', period_start: '2027-01-24 17:00:00.000', period_end: '2027-01-31 17:00:00.000', actual: 12, status: 'achieved' },
    ])
  })

  it('31 Dec → 1 Jan: the quarter and the year end together', async () => {
    await insert([
      // followers: 4,000 just before Q4 (30 Sep 23:00 local), 5,100 at 31 Dec 23:50 local
      on('yearend', 'followers', 'gauge', 'yearend', '2027-09-30T16:00:00Z', 4000),
      on('yearend', 'followers', 'gauge', 'yearend', '2027-12-31T16:50:00Z', 5100),
      // likes: a March post with 900 by New Year's Eve; a post of 31 Dec 22:00 local first read
      // at 00:03 on 1 Jan, with 150
      on('yearend', 'likes', 'counter', 'march', '2027-03-02T05:00:00Z', 300, { created: '2027-03-01T05:00:00Z' }),
      on('yearend', 'likes', 'counter', 'march', '2027-12-31T16:00:00Z', 900, { created: '2027-03-01T05:00:00Z' }),
      on('yearend', 'likes', 'counter', 'eve', '2027-12-31T17:03:00Z', 150, { created: '2027-12-31T15:00:00Z' }),
    ])
    // 1 Jan 2028 00:05 local. 2027-Q4 [30 Sep 17:00Z, 31 Dec 17:00Z): level 5,100 of 5,000:
    // achieved. 2027: 900 (march, from 0: created inside) + 150 (eve, created inside, first read
    // after the end) = 1,050 of 1,000: achieved. 2028 so far: eve's rise since first read, 0.
    clockAt = new Date('2027-12-31T17:05:00Z')
    await evaluateAll(runtime.evaluateDeps!, clockAt)
    const newYear = await stored(['yearend-followers', 'yearend-likes'], '2027-12-31 17:05:00')
    expect(newYear.verdicts.filter((v) => ['2027-Q4', '2027'].includes(v.period_label))).toEqual([
      { kpi_id: 'yearend-followers', period_label: '2027-Q4', period_start: '2027-09-30 17:00:00.000', period_end: '2027-12-31 17:00:00.000', actual: 5100, status: 'achieved' },
      { kpi_id: 'yearend-likes', period_label: '2027', period_start: '2026-12-31 17:00:00.000', period_end: '2027-12-31 17:00:00.000', actual: 1050, status: 'achieved' },
    ])
    expect(newYear.running.map((r) => [r.kpi_id, r.period_start, r.actual])).toEqual([
      ['yearend-followers', '2027-12-31 17:00:00.000', 5100],
      ['yearend-likes', '2027-12-31 17:00:00.000', 0],
    ])
  })

  it('29 February 2028: a day of its own and a 29-day month', async () => {
    await insert([
      // a post of 29 Feb 09:00 local: 20 likes at noon, 60 at 23:30
      on('leap', 'likes', 'counter', 'leap', '2028-02-29T05:00:00Z', 20, { created: '2028-02-29T02:00:00Z' }),
      on('leap', 'likes', 'counter', 'leap', '2028-02-29T16:30:00Z', 60, { created: '2028-02-29T02:00:00Z' }),
    ])
    // 1 Mar 00:00 local: the day 2028-02-29 [28 Feb 17:00Z, 29 Feb 17:00Z): 60 of 50, achieved;
    // February [31 Jan 17:00Z, 29 Feb 17:00Z): 60 of 100, missed.
    clockAt = new Date('2028-02-29T17:00:00Z')
    await evaluateAll(runtime.evaluateDeps!, clockAt)
    const leap = await stored(['leap-likes-day', 'leap-likes-month'], '2028-02-29 17:00:00')
    expect(leap.verdicts.filter((v) => ['2028-02-29', '2028-02'].includes(v.period_label))).toEqual([
      { kpi_id: 'leap-likes-day', period_label: '2028-02-29', period_start: '2028-02-28 17:00:00.000', period_end: '2028-02-29 17:00:00.000', actual: 60, status: 'achieved' },
      { kpi_id: 'leap-likes-month', period_label: '2028-02', period_start: '2028-01-31 17:00:00.000', period_end: '2028-02-29 17:00:00.000', actual: 60, status: 'missed' },
    ])
    expect(leap.running.map((r) => [r.kpi_id, r.period_start])).toEqual([
      ['leap-likes-day', '2028-02-29 17:00:00.000'],
      ['leap-likes-month', '2028-02-29 17:00:00.000'],
    ])
  })

  it('a DST change in a DST zone: the 23-hour day of 14 March 2027 in New York', async () => {
    const dstPlan: Plan = parsePlan(
      {
        company: { name: 'DST Co', timezone: 'America/New_York' },
        objectives: [{ id: 'o', name: 'Objective' }],
        strategy: { networks: [{ network: 'facebook', accounts: [account('dst')] }] },
        collection: { schedule: '0 * * * *' },
        kpis: [kpi('dst-likes-day', ['dst'], 'likes', 'total', 10, 'day')],
        alerting: { recipients: ['team@example.com'] },
      },
      'dst-plan.yaml',
    )
    await insert([
      // a post of 14 Mar 01:00 EST: 5 likes at 11:00 EDT, 12 at 23:30 EDT
      on('dst', 'likes', 'counter', 'dst', '2027-03-14T15:00:00Z', 5, { created: '2027-03-14T06:00:00Z' }),
      on('dst', 'likes', 'counter', 'dst', '2027-03-15T03:30:00Z', 12, { created: '2027-03-14T06:00:00Z' }),
    ])
    const source = clickHouseKpiSource(runtime.ch!)
    // 14 Mar runs from 00:00 EST (05:00Z) to 00:00 EDT on the 15th (04:00Z): 23 hours. At 12:00
    // EDT (16:00Z), 11 of them have passed: expected 10 × 11/23 = 4.783; 5 is on track.
    const noon = await evaluateKpi(dstPlan, dstPlan.kpis[0]!, new Date('2027-03-14T16:00:00Z'), source)
    expect(noon.period).toEqual({ start: new Date('2027-03-14T05:00:00Z'), end: new Date('2027-03-15T04:00:00Z'), label: '2027-03-14' })
    expect(noon.expectedToDate).toBeCloseTo((10 * 11) / 23, 10)
    expect(noon).toMatchObject({ actual: 5, status: 'on_track' })
    // At 00:00 EDT on the 15th the day's verdict: 12 of 10, achieved.
    const [verdict] = await evaluateClosedPeriods(dstPlan, new Date('2027-03-15T04:00:00Z'), source)
    expect(verdict).toMatchObject({ actual: 12, status: 'achieved', period: { label: '2027-03-14' } })
  })
})

// After the calendar edges above: these evaluate instants of November and December 2026 again.
describe('levels and verdicts at the edges (Asia/Jakarta)', () => {
  it('reads a level at or before the instant judged: a reading at the boundary closes November and opens December, one 1 ms late is not yet known', async () => {
    await insert([
      // 31 Oct 23:45 WIB, exactly 1 Dec 00:00 WIB (the boundary), and 1 Dec 09:00:00.001 WIB
      on('boundary', 'followers', 'gauge', 'boundary', '2026-10-31T16:45:00Z', 4000),
      on('boundary', 'followers', 'gauge', 'boundary', '2026-11-30T17:00:00Z', 4200),
      on('boundary', 'followers', 'gauge', 'boundary', '2026-12-01T02:00:00.001Z', 4300),
    ])
    const source = clickHouseKpiSource(runtime.ch!)
    const midnight = new Date('2026-11-30T17:00:00Z')
    // November's verdict, as of its end: the level at or before 1 Dec 00:00 is the boundary's
    // 4,200 (of 4,200: achieved); the growth 4,200 − 4,000 = 200 (of 300: missed).
    const november = (await evaluateClosedPeriods(plan, midnight, source)).filter((v) => v.kpi.id.startsWith('boundary-'))
    expect(november.map((v) => [v.kpi.id, v.period.label, v.actual, v.status])).toEqual([
      ['boundary-followers', '2026-11', 4200, 'achieved'],
      ['boundary-growth', '2026-11', 200, 'missed'],
    ])
    // December's first instant starts from the same reading: baseline 4,200, nothing gained yet.
    expect(await evaluateKpi(plan, plan.kpis.find((k) => k.id === 'boundary-followers')!, midnight, source)).toMatchObject({ actual: 4200, baseline: 4200, period: { label: '2026-12' } })
    expect((await evaluateKpi(plan, plan.kpis.find((k) => k.id === 'boundary-growth')!, midnight, source)).actual).toBe(0)
    // 1 Dec 09:00 WIB: the reading stamped a millisecond later does not count yet; then it does.
    const nine = new Date('2026-12-01T02:00:00Z')
    const level = plan.kpis.find((k) => k.id === 'boundary-followers')!
    expect((await evaluateKpi(plan, level, nine, source)).actual).toBe(4200)
    expect((await evaluateKpi(plan, level, new Date(nine.getTime() + 1), source)).actual).toBe(4300)
  })

  it("re-judges each day of the grace window: a day's count reported two days late reaches its day's verdict", async () => {
    // The Page is read every local midnight (17:00Z). Its views of Facebook's (Pacific) day 1 Dec,
    // stamped at its start 1 Dec 08:00Z, inside the Jakarta day 1 Dec [30 Nov 17:00Z, 1 Dec
    // 17:00Z), are reported only on 3 Dec.
    await insert(
      ['2026-11-29T17:00:00Z', '2026-11-30T17:00:00Z', '2026-12-01T17:00:00Z', '2026-12-02T17:00:00Z', '2026-12-03T17:00:00Z'].map((t, i) =>
        on('lateday', 'followers', 'gauge', 'lateday', t, 300 + i),
      ),
    )
    // 2 Dec 00:05 WIB: 1 Dec has just ended and has no count yet: no verdict (too early).
    clockAt = new Date('2026-12-01T17:05:00Z')
    await evaluateAll(runtime.evaluateDeps!, clockAt)
    const verdict = async () =>
      runtime.ch!.rows<{ actual: number | null; status: string; status_reason: string; judged_at: string }>(
        "SELECT actual, status, status_reason, toString(judged_at) AS judged_at FROM kpi_verdicts FINAL WHERE kpi_id = 'lateday-views' AND period_label = '2026-12-01'",
      )
    expect(await verdict()).toEqual([{ actual: null, status: 'unknown', status_reason: 'too_early', judged_at: '2026-12-01 17:05:00.000' }])
    // 3 Dec: the count arrives, 12 views. 4 Dec 00:05 WIB: 1 Dec ended 2 days 5 minutes ago, still
    // in its grace window (as are 2 and 3 Dec; 30 Nov, 3 days 5 minutes ago, has settled).
    await insert([on('lateday', 'views', 'daily', 'lateday', '2026-12-01T08:00:00Z', 12, { collected: '2026-12-03T02:00:00Z' })])
    clockAt = new Date('2026-12-03T17:05:00Z')
    await evaluateAll(runtime.evaluateDeps!, clockAt)
    expect(await verdict()).toEqual([{ actual: 12, status: 'achieved', status_reason: '', judged_at: '2026-12-03 17:05:00.000' }])
    const judgedDays = await runtime.ch!.rows<{ period_label: string }>(
      "SELECT period_label FROM kpi_verdicts FINAL WHERE kpi_id = 'lateday-views' AND judged_at = '2026-12-03 17:05:00' ORDER BY period_start",
    )
    expect(judgedDays.map((d) => d.period_label)).toEqual(['2026-12-01', '2026-12-02', '2026-12-03'])
  })

  it('tracks a campaign until its end only: its verdict, and no running evaluation 18 days later', async () => {
    // 1 – 20 Nov local, [31 Oct 17:00Z, 20 Nov 17:00Z): post c (created 5 Nov) has 30 likes by
    // 20 Nov; it keeps gaining after the campaign, to 90 on 8 Dec.
    await insert([
      on('campaign', 'likes', 'counter', 'c', '2026-11-05T05:00:00Z', 10, { created: '2026-11-05T03:00:00Z' }),
      on('campaign', 'likes', 'counter', 'c', '2026-11-20T16:00:00Z', 30, { created: '2026-11-05T03:00:00Z' }),
      on('campaign', 'likes', 'counter', 'c', '2026-12-08T16:00:00Z', 90, { created: '2026-11-05T03:00:00Z' }),
    ])
    const running = async (at: string) =>
      runtime.ch!.rows<{ status: string }>("SELECT status FROM kpi_evaluations FINAL WHERE kpi_id = 'campaign-likes' AND evaluated_at = {at:DateTime64(3, 'UTC')}", { at })
    // 20 Nov 23:30 WIB: its last half hour, still running.
    clockAt = new Date('2026-11-20T16:30:00Z')
    await evaluateAll(runtime.evaluateDeps!, clockAt)
    expect(await running('2026-11-20 16:30:00')).toHaveLength(1)
    // 22 Nov 00:00 WIB: its verdict, 30 of 100, missed.
    clockAt = new Date('2026-11-21T17:00:00Z')
    await evaluateAll(runtime.evaluateDeps!, clockAt)
    const [verdict] = await runtime.ch!.rows<{ actual: number; status: string }>("SELECT actual, status FROM kpi_verdicts FINAL WHERE kpi_id = 'campaign-likes'")
    expect(verdict).toEqual({ actual: 30, status: 'missed' })
    expect(await running('2026-11-21 17:00:00')).toEqual([])
    // 9 Dec 10:00 WIB, 18 days after its end: no running row (before: "missed, 90 of 100" at
    // every evaluation, and a MISSED email), its verdict unchanged.
    clockAt = new Date('2026-12-09T03:00:00Z')
    await evaluateAll(runtime.evaluateDeps!, clockAt)
    expect(await running('2026-12-09 03:00:00')).toEqual([])
  })
})
