import { describe, expect, it } from 'vitest'
import { createCollectors } from '../../ingest/collectors/index.ts'
import { loadPlan, planAccounts, type PlanAccount } from '../../plan/plan.ts'
import { simulatorEnvironment } from '../../simulator/index.ts'
import { testConfig } from '../helpers/runtime.ts'
import { useSimulatorHarness } from '../helpers/simulator-harness.ts'

/**
 * Daily counts keep the API's own day: GA4 days are the property's (Asia/Jakarta, east of UTC,
 * where a day starts at 17:00 UTC the day before), Meta ads days the ad account's (a zone west of
 * UTC). metrics_daily must show each value under the date the API gave it, not the UTC date of
 * that day's start. The API's answers are read here directly, as the truth to compare with.
 */
const NOW = new Date('2026-11-26T09:00:00Z')
const harness = useSimulatorHarness('day_labels', () => NOW)
const plan = await loadPlan('examples/plan.yaml')
const GA4 = planAccounts(plan).find((a) => a.network === 'ga4')!
const ADS = planAccounts(plan).find((a) => a.network === 'meta_ads')!

async function collect(account: PlanAccount) {
  const test = testConfig('day_labels', simulatorEnvironment(harness.sim.url))
  const collector = createCollectors(test.config)[account.network]
  await collector.collect(harness.context({ account, token: 'good-token', at: NOW, lookbackDays: 7 }))
  await harness.writers.flush()
  test.cleanup()
}

async function stored(account: PlanAccount, metric: string): Promise<Map<string, number>> {
  const rows = await harness.db.ch.rows<{ day: string; value: number }>(
    'SELECT toString(day) AS day, value FROM metrics_daily WHERE account_id = {id:String} AND metric = {metric:String} ORDER BY day',
    { id: account.id, metric },
  )
  return new Map(rows.map((r) => [r.day, Number(r.value)]))
}

describe('day labels as the APIs give them', () => {
  it('GA4 (a property in Asia/Jakarta): every day in metrics_daily is the date runReport gave', async () => {
    await collect(GA4)
    const answer = (await (
      await fetch(`${harness.sim.url}/ga4/v1beta/properties/${GA4.apiId}:runReport`, {
        method: 'POST',
        headers: { Authorization: 'Bearer good-token', 'Content-Type': 'application/json' },
        body: JSON.stringify({
          dateRanges: [{ startDate: '2026-11-19', endDate: '2026-11-26' }],
          dimensions: [{ name: 'date' }],
          metrics: [{ name: 'sessions' }],
          dimensionFilter: { filter: { fieldName: 'sessionDefaultChannelGroup', inListFilter: { values: ['Organic Social', 'Paid Social'], caseSensitive: false } } },
        }),
      })
    ).json()) as { rows: Array<{ dimensionValues: Array<{ value: string }>; metricValues: Array<{ value: string }> }>; metadata: { timeZone: string } }
    expect(answer.metadata.timeZone).toBe('Asia/Jakarta')
    const api = new Map(answer.rows.map((row) => [row.dimensionValues[0]!.value.replace(/^(\d{4})(\d\d)(\d\d)$/, '$1-$2-$3'), Number(row.metricValues[0]!.value)]))
    const days = await stored(GA4, 'sessions')
    expect(api.size).toBeGreaterThanOrEqual(7)
    for (const [day, sessions] of api) expect(days.get(day), day).toBe(sessions)
    // Today in Jakarta (26 Nov, 16:00 local) is there under its own date, not under the 25th.
    expect(days.has('2026-11-26')).toBe(true)
    const zones = await harness.db.ch.rows<{ zone: string }>("SELECT DISTINCT api_day_zone AS zone FROM observations WHERE account_id = {id:String} AND shape = 'daily'", { id: GA4.id })
    expect(zones.map((z) => z.zone)).toEqual(['Asia/Jakarta'])
  })

  it('Meta ads (an ad account west of UTC): every day in metrics_daily is the date_start insights gave', async () => {
    // An ad account whose zone the simulator puts west of UTC.
    let west: { id: string; zone: string } | undefined
    for (let n = 1; n < 50 && !west; n++) {
      const id = `act_${2000000000000000 + n}`
      const node = (await (await fetch(`${harness.sim.url}/v25.0/${id}?fields=timezone_name`, { headers: { Authorization: 'Bearer good-token' } })).json()) as { timezone_name: string }
      if (node.timezone_name.startsWith('America/')) west = { id, zone: node.timezone_name }
    }
    expect(west).toBeDefined()
    const account: PlanAccount = { ...ADS, id: 'ads-west', apiId: west!.id }
    await collect(account)
    const range = JSON.stringify({ since: '2026-11-19', until: '2026-11-25' })
    const answer = (await (
      await fetch(`${harness.sim.url}/v25.0/${west!.id}/insights?level=account&time_increment=1&fields=spend,date_start,date_stop&time_range=${encodeURIComponent(range)}&limit=100`, {
        headers: { Authorization: 'Bearer good-token' },
      })
    ).json()) as { data: Array<{ date_start: string; spend: string }> }
    const days = await stored(account, 'spend')
    expect(answer.data.length).toBeGreaterThanOrEqual(5)
    for (const row of answer.data) expect(days.get(row.date_start), row.date_start).toBeCloseTo(Number(row.spend), 6)
    const zones = await harness.db.ch.rows<{ zone: string }>("SELECT DISTINCT api_day_zone AS zone FROM observations WHERE account_id = 'ads-west' AND shape = 'daily'")
    expect(zones.map((z) => z.zone)).toEqual([west!.zone])
  })
})
