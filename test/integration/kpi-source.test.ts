import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { clickHouseKpiSource } from '../../kpi/clickhouse-source.ts'
import { openTestClickHouse, type TestClickHouse } from '../helpers/clickhouse.ts'
import { observation } from '../helpers/observations.ts'

let db: TestClickHouse

const row = observation

beforeAll(async () => {
  db = await openTestClickHouse('kpi_source', [
    // followers of two accounts
    row('followers', 'gauge', 'p1', '2026-10-31T12:00:00Z', 1000),
    row('followers', 'gauge', 'p1', '2026-11-10T12:00:00Z', 1100),
    row('followers', 'gauge', 'p1', '2026-11-20T12:00:00Z', 1150),
    row('followers', 'gauge', 'p2', '2026-11-05T12:00:00Z', 500, { account: 'second' }),
    // an old post seen before the period: 40 likes before, 70 at the end -> +30
    row('likes', 'counter', 'old', '2026-10-30T00:00:00Z', 40, { created: '2026-09-01T00:00:00Z' }),
    row('likes', 'counter', 'old', '2026-11-15T00:00:00Z', 70, { created: '2026-09-01T00:00:00Z' }),
    // a new post created inside the period: counts from zero -> +25
    row('likes', 'counter', 'new', '2026-11-10T01:00:00Z', 10, { created: '2026-11-10T00:00:00Z' }),
    row('likes', 'counter', 'new', '2026-11-12T00:00:00Z', 25, { created: '2026-11-10T00:00:00Z' }),
    // an old post first seen inside the period: its history is unknown -> only its rise, +5
    row('likes', 'counter', 'unseen', '2026-11-11T00:00:00Z', 300, { created: '2026-06-01T00:00:00Z' }),
    row('likes', 'counter', 'unseen', '2026-11-13T00:00:00Z', 305, { created: '2026-06-01T00:00:00Z' }),
    // a post created inside the period but first seen later: all of it belongs to the period, +50
    row('likes', 'counter', 'late', '2026-11-20T00:00:00Z', 50, { created: '2026-11-03T00:00:00Z' }),
    // a re-read of the same observation with a newer value replaces it (late correction): 26 not 25
    row('likes', 'counter', 'new', '2026-11-12T00:00:00Z', 26, { created: '2026-11-10T00:00:00Z', collected: '2026-11-12T01:00:00Z' }),
    // daily counts: two days inside, one before
    row('views', 'daily', 'p1', '2026-10-31T00:00:00Z', 999),
    row('views', 'daily', 'p1', '2026-11-01T00:00:00Z', 100),
    row('views', 'daily', 'p1', '2026-11-02T00:00:00Z', 120),
  ])
})
afterAll(async () => db?.cleanup())

const nov = { from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-12-01T00:00:00Z') }

describe('KPI numbers from raw observations', () => {
  it('reads a level as the latest value per account, summed', async () => {
    const source = clickHouseKpiSource(db.ch)
    const both = { network: 'facebook', accountIds: ['main', 'second'], metric: 'followers' }
    expect(await source.level(both, new Date('2026-11-15T00:00:00Z'))).toBe(1100 + 500)
    expect(await source.level({ ...both, accountIds: ['main'] }, nov.from)).toBe(1000)
    expect(await source.level(both, new Date('2026-10-01T00:00:00Z'))).toBeNull()
  })

  it('sums the rise of every post counter, including posts published earlier', async () => {
    const source = clickHouseKpiSource(db.ch)
    const likes = { network: 'facebook', accountIds: ['main'], metric: 'likes' }
    expect(await source.amount(likes, nov.from, nov.to)).toBe(30 + 26 + 5 + 50)
    // up to Nov 12 00:00 (exclusive): old +0 (no value inside yet), new 10, unseen 0
    expect(await source.amount(likes, nov.from, new Date('2026-11-12T00:00:00Z'))).toBe(10)
  })

  it('sums daily counts whose day starts inside the period, and says null when there is no data', async () => {
    const source = clickHouseKpiSource(db.ch)
    const views = { network: 'facebook', accountIds: ['main'], metric: 'views' }
    expect(await source.amount(views, nov.from, nov.to)).toBe(220)
    expect(await source.amount({ ...views, metric: 'engagements' }, nov.from, nov.to)).toBeNull()
  })

  it('says per account what was read recently, and when it was last read', async () => {
    const source = clickHouseKpiSource(db.ch)
    const accounts = ['main', 'second', 'nobody'].map((accountId) => ({ network: 'facebook', accountId }))
    await db.ch.client.insert({
      table: 'source_health',
      format: 'JSONEachRow',
      values: [
        {
          network: 'facebook',
          account_id: 'second',
          status: 'failing',
          last_success_at: '2026-11-19 00:00:00.000',
          last_error_at: null,
          last_error_code: '',
          last_error: '',
          refused_metrics: [],
          quota_resets_at: null,
          updated_at: '2026-11-19 00:00:00.000',
        },
        // known, never collected well
        {
          network: 'facebook',
          account_id: 'nobody',
          status: 'failing',
          last_success_at: null,
          last_error_at: '2026-11-20 12:00:00.000',
          last_error_code: 'API_PAGING_ENDLESS',
          last_error: '',
          refused_metrics: [],
          quota_resets_at: null,
          updated_at: '2026-11-20 12:00:00.000',
        },
      ],
    })
    // 20 Nov 12:30, a 30-minute window (two days for daily counts): main's followers read at 12:00
    // count; its likes (the late post, read at 00:00) and its views (days of 1 and 2 Nov) do not.
    const at = new Date('2026-11-20T12:30:00Z')
    const window = { since: new Date('2026-11-20T12:00:00Z'), dailySince: new Date('2026-11-18T12:00:00Z') }
    expect(await source.recentData(accounts, at, window)).toEqual([
      { network: 'facebook', accountId: 'main', metrics: [{ metric: 'followers', shape: 'gauge', at: new Date('2026-11-20T12:00:00Z') }], lastSuccessAt: null, healthKnown: false },
      { network: 'facebook', accountId: 'second', metrics: [], lastSuccessAt: new Date('2026-11-19T00:00:00Z'), healthKnown: true },
      { network: 'facebook', accountId: 'nobody', metrics: [], lastSuccessAt: null, healthKnown: true },
    ])
    // a reading stamped exactly at the instant counts; one a millisecond later is not known yet
    expect((await source.recentData(accounts.slice(0, 1), new Date('2026-11-20T12:00:00Z'), window))[0]!.metrics).toHaveLength(1)
    expect((await source.recentData(accounts.slice(0, 1), new Date('2026-11-20T11:59:59.999Z'), window))[0]!.metrics).toEqual([])
    // newest reading of anything: 12 Nov 06:00, main's post "new" re-read at 00:00 (its followers:
    // 10 Nov); second's only reading 5 Nov; nobody none
    expect(await source.lastSeen(accounts, new Date('2026-11-12T06:00:00Z'))).toEqual([
      { network: 'facebook', accountId: 'main', at: new Date('2026-11-12T00:00:00Z') },
      { network: 'facebook', accountId: 'second', at: new Date('2026-11-05T12:00:00Z') },
      { network: 'facebook', accountId: 'nobody', at: null },
    ])
  })

  it('gives analysts one value per day in metrics_daily', async () => {
    const rows = await db.ch.rows<{ day: string; value: number }>("SELECT toString(day) AS day, value FROM metrics_daily WHERE account_id = 'main' AND metric = {m:String} ORDER BY day", {
      m: 'likes',
    })
    // What a post had when first seen goes to its creation day: old (Sep 1) 40, unseen (Jun 1)
    // 300, late (Nov 3) 50. Then: Oct 30: 0; Nov 10: new post from 0 -> 10; Nov 11: 0;
    // Nov 12: new +16; Nov 13: unseen +5; Nov 15: old +30; Nov 20: 0
    expect(rows.map((r) => [r.day, Number(r.value)])).toEqual(
      [
        ['2026-06-01', 300],
        ['2026-09-01', 40],
        ['2026-10-30', 0],
        ['2026-11-10', 10],
        ['2026-11-11', 0],
        ['2026-11-12', 16],
        ['2026-11-13', 5],
        ['2026-11-03', 50],
        ['2026-11-15', 30],
        ['2026-11-20', 0],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    )
  })
})
