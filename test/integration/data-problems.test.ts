import type { Queue } from 'bullmq'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { toClickHouseTime } from '../../core/clickhouse.ts'
import type { ObservationRow } from '../../core/tables.ts'
import { parsePlan } from '../../plan/plan.ts'
import { evaluateAll, type EvaluateDeps } from '../../workers/evaluate-worker.ts'
import type { TestClickHouse } from '../helpers/clickhouse.ts'
import { openAlertBed, type AlertBed } from '../helpers/alert-bed.ts'
import { observation } from '../helpers/observations.ts'
import { silentLogger } from '../helpers/runtime.ts'
import type { Writers } from '../../core/tables.ts'

/**
 * Issue 22, items 2 and 4, through the evaluator, ClickHouse, the alert engine and the notify
 * queue: a TikTok week whose likes came to −149 is a data problem, stored with its cause, and no
 * email calls it at risk; money carries the currency its ad account told, and amounts in two
 * currencies are never added.
 */

let bed: AlertBed
let db: TestClickHouse
let writers: Writers
let queue: Queue

beforeAll(async () => {
  bed = await openAlertBed('data_problems')
  ;({ db, writers, queue } = bed)
})
afterAll(async () => bed?.close())

// Jakarta; the week of Monday 16 Nov 2026 runs from 15 Nov 17:00Z. Rounds every 15 minutes.
const plan = parsePlan(
  {
    company: { name: 'Kopi Data', timezone: 'Asia/Jakarta' },
    objectives: [{ id: 'reach', name: 'Reach' }],
    strategy: {
      networks: [
        { network: 'tiktok', accounts: [{ id: 'kopi-tiktok', name: 'Kopi TikTok', apiId: 'open-1', tokenEnv: 'T' }] },
        {
          network: 'meta_ads',
          accounts: [
            { id: 'ads-id', name: 'Iklan Indonesia', apiId: 'act_1', tokenEnv: 'T', settings: { purchaseActionType: 'purchase' } },
            { id: 'ads-sg', name: 'Ads Singapore', apiId: 'act_2', tokenEnv: 'T', settings: { purchaseActionType: 'purchase' } },
          ],
        },
      ],
    },
    kpis: [
      { id: 'tiktok-likes-week', name: 'Likes on TikTok videos this week', objective: 'reach', network: 'tiktok', metric: 'likes', kind: 'total', target: 500, period: 'week' },
      {
        id: 'ads-spend-id',
        name: 'Ad spend, Indonesia',
        objective: 'reach',
        network: 'meta_ads',
        accounts: ['ads-id'],
        metric: 'spend',
        kind: 'total',
        target: 50_000_000,
        comparator: 'at_most',
        period: 'month',
      },
      { id: 'ads-spend-all', name: 'Ad spend, all', objective: 'reach', network: 'meta_ads', metric: 'spend', kind: 'total', target: 50_000_000, comparator: 'at_most', period: 'month' },
    ],
    alerting: { recipients: ['team@example.com'], repeatInterval: '1h' },
  },
  'kopi-data.yaml',
)

const on = (network: ObservationRow['network'], account: string, ...args: Parameters<typeof observation>): ObservationRow => {
  const [metric, shape, objectId, observedAt, value, extra] = args
  return { ...observation(metric, shape, objectId, observedAt, value, { ...extra, account }), network }
}
const insert = (rows: ObservationRow[]) => db.ch.client.insert({ table: 'observations', format: 'JSONEachRow', values: rows })
const evaluateAt = async (iso: string) => {
  const at = new Date(iso)
  const deps: EvaluateDeps = { plan, ch: db.ch, writers, alerts: bed.engineDeps(plan, { writers, staleAfterMs: 35 * 60_000 }), now: () => at, logger: silentLogger }
  return (await evaluateAll(deps, at)).evaluations
}
const jobs = async () => (await queue.getJobs(['waiting', 'delayed'])).map((j) => `${j.data.event as string}: ${j.data.subject as string}`)
const stored = async (kpi: string, at: string) =>
  db.ch.rows<{ status: string; status_reason: string; status_cause: string; cause_facts: Record<string, string>; actual: number | null; unit: string; currency: string }>(
    `SELECT status, status_reason, status_cause, cause_facts, actual, unit, currency FROM kpi_evaluations FINAL
     WHERE kpi_id = {kpi:String} AND evaluated_at = {at:DateTime64(3, 'UTC')}`,
    { kpi, at: toClickHouseTime(new Date(at)) },
  )
/** A TikTok video's likes and the account's followers, read at one round. */
const round = (at: string, likes: number) => [
  on('tiktok', 'kopi-tiktok', 'followers', 'gauge', 'open-1', at, 31_000),
  on('tiktok', 'kopi-tiktok', 'likes', 'counter', 'v1', at, likes, { created: '2026-11-01T05:00:00Z' }),
]

describe('a count below zero (the TikTok week of issue 22)', () => {
  it('fires at risk on a slow week, then takes −149 likes as a data problem: stored with its cause, no email, the alert left as it was', async () => {
    await queue.obliterate({ force: true })
    // v1 had 1,000 likes when the week began; by Tue 17 Nov 03:00 WIB (20:00Z) 1,010: 10 of the
    // 80 expected (f = 0.16, past the tenth of the week): at risk, one email.
    await insert([...round('2026-11-15T16:45:00Z', 1000), ...round('2026-11-16T20:00:00Z', 1010)])
    const [slow] = await evaluateAt('2026-11-16T20:00:00Z')
    expect(slow).toMatchObject({ kpi: { id: 'tiktok-likes-week' }, status: 'at_risk', actual: 10 })
    expect(await jobs()).toEqual(['firing: [social-kpi] AT RISK: Likes on TikTok videos this week — 10 of 500 (expected 80 by now)'])

    // Wed 18 Nov 17:00 WIB: the API now says 851, the week's likes came to −149.
    await insert(round('2026-11-18T10:00:00Z', 851))
    const [fell] = await evaluateAt('2026-11-18T10:00:00Z')
    expect(fell).toMatchObject({ status: 'unknown', reason: 'data_problem', problem: { cause: 'below_zero', facts: { metric: 'likes', value: '-149' } }, actual: -149 })
    expect(await stored('tiktok-likes-week', '2026-11-18T10:00:00Z')).toEqual([
      { status: 'unknown', status_reason: 'data_problem', status_cause: 'below_zero', cause_facts: { metric: 'likes', value: '-149' }, actual: -149, unit: 'count', currency: '' },
    ])
    // no "AT RISK … −149 of 500", no reminder although the hour has passed, no resolved notice
    expect(await jobs()).toEqual(['firing: [social-kpi] AT RISK: Likes on TikTok videos this week — 10 of 500 (expected 80 by now)'])
    const [state] = await db.ch.rows<{ status: string; last_status_label: string }>("SELECT status, last_status_label FROM alert_state FINAL WHERE alert_key = 'kpi.tiktok-likes-week'")
    expect(state).toEqual({ status: 'firing', last_status_label: 'at_risk' })
  })
})

describe('money in its ad account currency', () => {
  const spend = (account: string, day: string, value: number) => on('meta_ads', account, 'spend', 'daily', account, day, value)
  const facts = (rows: Array<[string, string]>) =>
    db.ch.client.insert({
      table: 'account_facts',
      format: 'JSONEachRow',
      values: rows.map(([account, currency]) => ({
        network: 'meta_ads',
        account_id: account,
        fact: 'currency',
        value: currency,
        source_field: 'adaccount.currency',
        collected_at: toClickHouseTime(new Date('2026-11-18T10:00:00Z')),
      })),
    })

  it('stores the currency the API told with each evaluation, and refuses to add IDR to SGD', async () => {
    await queue.obliterate({ force: true })
    // Jakarta days from 1 Nov (31 Oct 17:00Z); both accounts read at the round.
    await insert([spend('ads-id', '2026-11-16T17:00:00Z', 1_500_000), spend('ads-sg', '2026-11-16T17:00:00Z', 120), spend('ads-id', '2026-11-17T17:00:00Z', 1_400_000)])
    await insert([on('meta_ads', 'ads-id', 'impressions', 'daily', 'ads-id', '2026-11-18T10:00:00Z', 1), on('meta_ads', 'ads-sg', 'impressions', 'daily', 'ads-sg', '2026-11-18T10:00:00Z', 1)])
    await facts([
      ['ads-id', 'IDR'],
      ['ads-sg', 'SGD'],
    ])
    const evaluations = await evaluateAt('2026-11-18T10:00:00Z')
    const byId = (id: string) => evaluations.find((e) => e.kpi.id === id)!
    expect(byId('ads-spend-id')).toMatchObject({ actual: 2_900_000, unit: 'currency', currency: 'IDR', status: 'on_track' })
    expect(byId('ads-spend-all')).toMatchObject({ status: 'unknown', reason: 'data_problem', problem: { cause: 'mixed_currencies', facts: { 'ads-id': 'IDR', 'ads-sg': 'SGD' } } })
    expect(await stored('ads-spend-id', '2026-11-18T10:00:00Z')).toMatchObject([{ status: 'on_track', unit: 'currency', currency: 'IDR', status_cause: '' }])
    expect(await stored('ads-spend-all', '2026-11-18T10:00:00Z')).toMatchObject([
      { status: 'unknown', status_reason: 'data_problem', status_cause: 'mixed_currencies', cause_facts: { 'ads-id': 'IDR', 'ads-sg': 'SGD' }, currency: '' },
    ])
    expect(await jobs()).toEqual([])
  })
})
