import type { Job } from 'bullmq'
import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import { describe, expect, it } from 'vitest'
import type { PlanError } from '../../core/errors.ts'
import { openCredentials } from '../../ingest/auth/index.ts'
import { createCollectors } from '../../ingest/collectors/index.ts'
import { clickHouseKpiSource } from '../../kpi/clickhouse-source.ts'
import { evaluateKpi } from '../../kpi/evaluate.ts'
import { parsePlan, planAccounts } from '../../plan/plan.ts'
import { simulatorEnvironment } from '../../simulator/index.ts'
import { createCollectProcessor } from '../../workers/collect-worker.ts'
import { silentLogger, testConfig } from '../helpers/runtime.ts'
import { useSimulatorHarness } from '../helpers/simulator-harness.ts'

/**
 * A KPI may narrow its account's data where the API has dimensions: a GA4 KPI on Organic Social
 * alone, beside the account's own total of Organic and Paid Social. The account's one report
 * serves both; each KPI reads its own numbers; metrics_daily keeps the account's totals.
 */
const NOW = new Date('2026-11-26T09:00:00Z')
const harness = useSimulatorHarness('kpi_filters', () => NOW)
const document = parseYaml(readFileSync('examples/plan.yaml', 'utf8')) as { kpis: Array<Record<string, unknown>> }
const FILTERED = {
  id: 'shop-organic-sessions-month',
  name: 'Shop sessions from organic social',
  objective: 'qualified-visitors',
  network: 'ga4',
  metric: 'sessions',
  kind: 'total',
  target: 1000,
  period: 'month',
  filter: { channelGroups: ['organic social'] },
}
const TOTAL = { id: 'shop-sessions-month', name: 'Shop sessions from social', objective: 'qualified-visitors', network: 'ga4', metric: 'sessions', kind: 'total', target: 2000, period: 'month' }
const WEB_PURCHASES = {
  id: 'ads-web-purchases-month',
  name: 'Web purchases from Meta ads',
  objective: 'qualified-visitors',
  network: 'meta_ads',
  metric: 'conversions',
  kind: 'total',
  target: 100,
  period: 'month',
  filter: { actionType: 'onsite_web_purchase' },
}
const plan = parsePlan({ ...document, kpis: [...document.kpis, FILTERED, TOTAL, WEB_PURCHASES] }, 'plan.yaml')
const GA4 = planAccounts(plan).find((a) => a.network === 'ga4')!
const ADS = planAccounts(plan).find((a) => a.network === 'meta_ads')!

/** What runReport says about the property's sessions in [start, end] for the given channel groups: the truth. */
async function apiSessions(groups: string[], startDate: string, endDate: string): Promise<number> {
  const answer = (await (
    await fetch(`${harness.sim.url}/ga4/v1beta/properties/${GA4.apiId}:runReport`, {
      method: 'POST',
      headers: { Authorization: 'Bearer good-token', 'Content-Type': 'application/json' },
      body: JSON.stringify({
        dateRanges: [{ startDate, endDate }],
        metrics: [{ name: 'sessions' }],
        dimensionFilter: { filter: { fieldName: 'sessionDefaultChannelGroup', inListFilter: { values: groups, caseSensitive: false } } },
      }),
    })
  ).json()) as { rows?: Array<{ metricValues: Array<{ value: string }> }> }
  return (answer.rows ?? []).reduce((sum, row) => sum + Number(row.metricValues[0]!.value), 0)
}

describe('a KPI narrowed by a filter', () => {
  it('reads its own channel group, the account total stays the total, and one report serves both', async () => {
    const tokens = Object.fromEntries(planAccounts(plan).flatMap((a) => (a.tokenEnv ? [[a.tokenEnv, 'good-token']] : [])))
    const test = testConfig('kpi_filters', { ...simulatorEnvironment(harness.sim.url), ...tokens })
    const processor = createCollectProcessor({
      plan,
      ch: harness.db.ch,
      writers: harness.writers,
      collectors: createCollectors(test.config),
      credentials: openCredentials({ config: test.config, plan, now: () => NOW, logger: silentLogger }),
      lookbackDays: 28,
      now: () => NOW,
      logger: silentLogger,
    })
    const before = harness.sim.requests().length
    expect(await processor({ data: { roundAt: NOW.toISOString(), network: 'ga4', accountId: GA4.id } } as Job)).toMatchObject({ status: 'collected' })
    await harness.writers.flush()
    test.cleanup()
    expect(
      harness.sim
        .requests()
        .slice(before)
        .filter((r) => r.path.endsWith(':runReport')),
    ).toHaveLength(1)

    // November in Jakarta so far: 1–26 November (the property's days).
    const organic = await apiSessions(['Organic Social'], '2026-11-01', '2026-11-26')
    const social = await apiSessions(['Organic Social', 'Paid Social'], '2026-11-01', '2026-11-26')
    expect(organic).toBeGreaterThan(0)
    expect(social).toBeGreaterThan(organic)
    const source = clickHouseKpiSource(harness.db.ch)
    const filtered = await evaluateKpi(plan, plan.kpis.find((k) => k.id === FILTERED.id)!, NOW, source)
    const total = await evaluateKpi(plan, plan.kpis.find((k) => k.id === TOTAL.id)!, NOW, source)
    expect(filtered.actual).toBe(organic)
    expect(total.actual).toBe(social)

    const [daily] = await harness.db.ch.rows<{ value: number }>(
      "SELECT sum(value) AS value FROM metrics_daily WHERE account_id = {id:String} AND metric = 'sessions' AND day BETWEEN '2026-11-01' AND '2026-11-26'",
      { id: GA4.id },
    )
    expect(Number(daily!.value)).toBe(social)
  })

  it('a Meta ads KPI on another action type reads that type from the same insights rows', async () => {
    const collect = harness.collectJobs({ plan })
    const before = harness.sim.requests().length
    expect(await collect(ADS)).toMatchObject({ status: 'collected' })
    await harness.writers.flush()
    expect(
      harness.sim
        .requests()
        .slice(before)
        .filter((r) => r.path.endsWith('/insights')).length,
    ).toBe(1)
    const range = JSON.stringify({ since: '2026-11-01', until: '2026-11-26' })
    const answer = (await (
      await fetch(`${harness.sim.url}/v25.0/${ADS.apiId}/insights?level=account&time_increment=1&fields=actions,date_start&time_range=${encodeURIComponent(range)}&limit=100`, {
        headers: { Authorization: 'Bearer good-token' },
      })
    ).json()) as { data: Array<{ actions?: Array<{ action_type: string; value: string }> }> }
    const count = (type: string) => answer.data.reduce((sum, row) => sum + Number(row.actions?.find((a) => a.action_type === type)?.value ?? 0), 0)
    expect(count('onsite_web_purchase')).toBeGreaterThan(0)
    const source = clickHouseKpiSource(harness.db.ch)
    const web = await evaluateKpi(plan, plan.kpis.find((k) => k.id === WEB_PURCHASES.id)!, NOW, source)
    const own = await evaluateKpi(plan, plan.kpis.find((k) => k.id === 'ads-conversions-month')!, NOW, source)
    expect(web.actual).toBe(count('onsite_web_purchase'))
    expect(own.actual).toBe(count('offsite_conversion.fb_pixel_purchase'))
  })

  it('is refused where the network has no dimension, or with another dimension than its account', () => {
    const issues = (kpi: Record<string, unknown>) => {
      try {
        parsePlan({ ...document, kpis: [...document.kpis, kpi] }, 'plan.yaml')
        return []
      } catch (error) {
        return (error as PlanError).issues.map((i) => `${i.path}: ${i.message}`)
      }
    }
    const at = `kpis[${document.kpis.length}].filter`
    expect(issues({ ...TOTAL, id: 'fb', network: 'facebook', metric: 'engagements', filter: { channelGroups: ['Organic Social'] } })).toEqual([
      `${at}: Facebook Pages KPIs cannot be filtered; leave filter out`,
    ])
    expect(issues({ ...FILTERED, filter: { source: 'facebook.com' } })).toEqual([
      `${at}: account kopi-nusantara-shop: its account counts sessions by channel group, so a KPI narrows it by channelGroups too`,
    ])
    expect(issues({ ...WEB_PURCHASES, metric: 'spend' })).toEqual([`${at}: account kopi-nusantara-ads: only conversions and conversion_value can be narrowed by action type`])
    expect(issues({ ...FILTERED, filter: { channelGroups: ['Social'] } })[0]).toMatch(/^kpis\[\d+\]\.filter\.channelGroups\[0\]: "Social" is not a GA4 default channel group/)
  })
})
