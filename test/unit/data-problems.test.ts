import { describe, expect, it } from 'vitest'
import { decideAlert, type AlertState } from '../../alerts/rules.ts'
import { evaluateKpi } from '../../kpi/evaluate.ts'
import type { KpiDataSource, MetricSelection } from '../../kpi/kinds/source.ts'
import { reasonNote, statusMeaning, statusText } from '../../kpi/statuses.ts'
import { parsePlan } from '../../plan/plan.ts'
import { freshAccounts } from '../helpers/fresh-accounts.ts'
import { speaker } from '../../core/i18n/index.ts'
const ENGLISH = speaker('en', 'UTC')

/**
 * Issue 22, item 4: a value that cannot be (a count below zero, a part above its whole, amounts in
 * two currencies) is a data problem: `unknown`, reason `data_problem`, with its cause; never a
 * verdict, never an alert, and the value measured stays.
 */

/** Every metric's amount and level as given, whatever the window, without a daily history; currencies as the API told them. */
function source(amounts: Record<string, number>, levels: Record<string, number> = {}, currencies: Record<string, string> = {}): KpiDataSource {
  return {
    // `metric@start`: the level before 10 November (the period's start), if it differs
    level: async (s: MetricSelection, when: Date) => (when < new Date('2026-11-10T00:00:00Z') ? (levels[`${s.metric}@start`] ?? levels[s.metric]) : levels[s.metric]) ?? null,
    startingLevel: async (s: MetricSelection, start: Date) => (s.metric in levels ? { value: levels[`${s.metric}@start`] ?? levels[s.metric]!, at: start } : null),
    amount: async (s: MetricSelection) => amounts[s.metric] ?? null,
    dataUntil: async (_s: MetricSelection, at: Date) => ({ at, accountId: 'a' }),
    // no daily history: no forecast, the pace decides
    levelSeries: async (_s, from, to, stepMs) => new Array(Math.ceil((to.getTime() - from.getTime()) / stepMs) + 1).fill(null),
    amountSeries: async (_s, from, to, stepMs) => new Array(Math.ceil((to.getTime() - from.getTime()) / stepMs)).fill(null),
    currencies: async (accounts) => accounts.flatMap((a) => (currencies[a.accountId] ? [{ ...a, currency: currencies[a.accountId]! }] : [])),
    ...freshAccounts,
  }
}

const plan = parsePlan(
  {
    company: { name: 'Kopi', timezone: 'Asia/Jakarta' },
    objectives: [{ id: 'o', name: 'O' }],
    strategy: {
      networks: [
        { network: 'tiktok', accounts: [{ id: 'kopi-tiktok', name: 'Kopi TikTok', apiId: 'open-1', tokenEnv: 'T' }] },
        { network: 'facebook', accounts: [{ id: 'page', name: 'Page', apiId: '1', tokenEnv: 'T' }] },
        { network: 'linkedin', accounts: [{ id: 'li', name: 'LinkedIn', apiId: '1', tokenEnv: 'T' }] },
        {
          network: 'meta_ads',
          accounts: [
            { id: 'ads-id', name: 'Ads Indonesia', apiId: 'act_1', tokenEnv: 'T', settings: { purchaseActionType: 'purchase' } },
            { id: 'ads-sg', name: 'Ads Singapore', apiId: 'act_2', tokenEnv: 'T', settings: { purchaseActionType: 'purchase', currency: 'SGD' } },
          ],
        },
      ],
    },
    kpis: [
      { id: 'tiktok-likes-week', name: 'TikTok likes this week', objective: 'o', network: 'tiktok', metric: 'likes', kind: 'total', target: 500, period: 'week' },
      { id: 'fb-followers', name: 'Followers', objective: 'o', network: 'facebook', metric: 'followers', kind: 'level', target: 1000, period: 'month' },
      { id: 'fb-gained', name: 'Followers gained', objective: 'o', network: 'facebook', metric: 'followers', kind: 'growth', target: 100, period: 'month' },
      { id: 'li-gained', name: 'LinkedIn followers gained', objective: 'o', network: 'linkedin', metric: 'followers_gained', kind: 'total', target: 100, period: 'month' },
      { id: 'ads-ctr', name: 'Ad click rate', objective: 'o', network: 'meta_ads', metric: 'clicks', denominator: 'impressions', kind: 'rate', target: '2%', period: 'month' },
      { id: 'fb-engagement', name: 'Engagement rate', objective: 'o', network: 'facebook', metric: 'engagements', denominator: 'views', kind: 'rate', target: '3%', period: 'month' },
      {
        id: 'ads-spend-id',
        name: 'Spend in Indonesia',
        objective: 'o',
        network: 'meta_ads',
        accounts: ['ads-id'],
        metric: 'spend',
        kind: 'total',
        target: 5_000_000,
        comparator: 'at_most',
        period: 'month',
      },
      { id: 'ads-spend-all', name: 'Spend everywhere', objective: 'o', network: 'meta_ads', metric: 'spend', kind: 'total', target: 5_000_000, comparator: 'at_most', period: 'month' },
    ],
    alerting: { recipients: ['x@example.com'] },
  },
  'p.yaml',
)
const kpi = (id: string) => plan.kpis.find((k) => k.id === id)!
// Wednesday 18 Nov 2026, 17:00 WIB: 2.7 of the week's 7 days (f = 0.39), 0.57 of November.
const at = new Date('2026-11-18T10:00:00Z')

describe('a count below zero', () => {
  it("is a data problem, not AT RISK: the week's TikTok likes came to −149 (the issue's case)", async () => {
    const e = await evaluateKpi(plan, kpi('tiktok-likes-week'), at, source({ likes: -149 }))
    expect(e).toMatchObject({
      status: 'unknown',
      reason: 'data_problem',
      problem: { cause: 'below_zero', facts: { metric: 'likes', value: '-149' } },
      actual: -149, // the value measured stays stored
      attainment: null,
      forecast: null,
      missingAccounts: [],
    })
    expect(statusMeaning(e.status)?.failing).toBeNull()
    expect(statusText(ENGLISH, e.status, e.reason, e.missingAccounts, 'long', e.problem)).toBe("no verdict: the API's counts fell: −149 likes in this period, and a count cannot be below zero")
    expect(reasonNote(ENGLISH, e.reason, e.missingAccounts, e.problem)).toBe('impossible value: −149 likes')
    // the same week with +149: judged (149 of the 195 expected by now is behind: at risk)
    expect((await evaluateKpi(plan, kpi('tiktok-likes-week'), at, source({ likes: 149 }))).status).toBe('at_risk')
  })

  it('neither fires nor resolves an alert already firing: the alert stays as it was, quietly', () => {
    const firing: AlertState = {
      key: 'kpi.tiktok-likes-week',
      subjectKind: 'kpi',
      subjectId: 'tiktok-likes-week',
      status: 'firing',
      since: new Date('2026-11-17T10:00:00Z'),
      lastNotifiedAt: new Date('2026-11-17T10:00:00Z'),
      label: 'at_risk',
      version: 1,
    }
    const signal = { key: firing.key, subjectKind: 'kpi' as const, subjectId: firing.subjectId, failing: statusMeaning('unknown')!.failing, label: 'unknown' }
    const policy = { repeatIntervalMs: 3_600_000, notifyResolved: true }
    // a day later, past the repeat interval: no reminder, no resolved notice
    expect(decideAlert(firing, signal, new Date('2026-11-18T10:00:00Z'), policy)).toEqual({ next: firing, event: null, changed: false })
  })

  it('is a data problem for a level below zero, but a growth below zero is followers lost: judged', async () => {
    expect(await evaluateKpi(plan, kpi('fb-followers'), at, source({}, { followers: -3 }))).toMatchObject({ status: 'unknown', reason: 'data_problem', problem: { cause: 'below_zero' } })
    const lost = await evaluateKpi(plan, kpi('fb-gained'), at, source({}, { followers: 900, 'followers@start': 950 }))
    expect(lost).toMatchObject({ actual: -50, status: 'at_risk' })
    expect(lost.problem).toBeUndefined()
  })

  it('judges a metric the API reports net of losses (LinkedIn followers gained), even below zero', async () => {
    const e = await evaluateKpi(plan, kpi('li-gained'), at, source({ followers_gained: -4 }))
    expect(e).toMatchObject({ actual: -4, status: 'at_risk' })
    expect(e.reason).toBeUndefined()
  })
})

describe('a part above its whole', () => {
  it('is a data problem for ad clicks over impressions above 100 %', async () => {
    const e = await evaluateKpi(plan, kpi('ads-ctr'), at, source({ clicks: 1250, impressions: 1000 }))
    expect(e).toMatchObject({ status: 'unknown', reason: 'data_problem', problem: { cause: 'above_whole', facts: { metric: 'clicks', denominator: 'impressions', value: '1.25' } } })
    expect(statusText(ENGLISH, e.status, e.reason, [], 'long', e.problem)).toBe('no verdict: clicks came to 125% of impressions, and a part cannot pass its whole')
    expect((await evaluateKpi(plan, kpi('ads-ctr'), at, source({ clicks: 25, impressions: 1000 }))).status).toBe('on_track')
  })

  it('judges a rate that may pass 100 % (several engagements per view)', async () => {
    expect((await evaluateKpi(plan, kpi('fb-engagement'), at, source({ engagements: 1250, views: 1000 }))).status).toBe('on_track')
  })
})

describe('money', () => {
  it("carries its accounts' currency, as the API told it", async () => {
    const e = await evaluateKpi(plan, kpi('ads-spend-id'), at, source({ spend: 1_000_000 }, {}, { 'ads-id': 'IDR' }))
    expect(e).toMatchObject({ unit: 'currency', currency: 'IDR', status: 'on_track' })
    // a count has a unit and no currency
    expect(await evaluateKpi(plan, kpi('tiktok-likes-week'), at, source({ likes: 300 }))).toMatchObject({ unit: 'count' })
    expect((await evaluateKpi(plan, kpi('tiktok-likes-week'), at, source({ likes: 300 }))).currency).toBeUndefined()
  })

  it("refuses to add amounts in two currencies: no verdict, naming each account's (the plan's settings.currency where the API has not told it)", async () => {
    const e = await evaluateKpi(plan, kpi('ads-spend-all'), at, source({ spend: 2_000_000 }, {}, { 'ads-id': 'IDR' }))
    expect(e).toMatchObject({
      status: 'unknown',
      reason: 'data_problem',
      problem: { cause: 'mixed_currencies', facts: { 'ads-id': 'IDR', 'ads-sg': 'SGD' } },
      actual: 2_000_000,
      attainment: null,
    })
    expect(e.currency).toBeUndefined()
    expect(statusText(ENGLISH, e.status, e.reason, [], 'long', e.problem)).toBe('no verdict: it would add amounts in different currencies (ads-id: IDR, ads-sg: SGD), which are never converted')
    expect(reasonNote(ENGLISH, e.reason, [], e.problem)).toBe('mixed currencies: IDR, SGD')
  })

  it("takes the API's currency over the plan's, and sums accounts that agree", async () => {
    const e = await evaluateKpi(plan, kpi('ads-spend-all'), at, source({ spend: 2_000_000 }, {}, { 'ads-id': 'IDR', 'ads-sg': 'IDR' }))
    expect(e).toMatchObject({ currency: 'IDR', status: 'on_track' })
  })
})
