import type { Silence } from '../alerts/silences.ts'
import type { Speaker } from '../core/i18n/index.ts'
import type { KpiEvaluation } from '../kpi/evaluate.ts'
import { statusWords } from '../kpi/statuses.ts'
import { parsePlan, planSpeaker, type Plan } from '../plan/plan.ts'
import { formatKpiTable, type KpiTableRow } from './kpi-table.ts'
import { statusPage, type StatusData } from './status.ts'

// What the terminal prints, rendered from fixed rows at fixed instants: the samples in the docs
// and the test that keeps every language's terminal free of missing words. Pure formatting: no
// store, no clock. The company is Indonesian, in Asia/Jakarta; its KPIs include a rate (shown as a
// percentage) and an amount of money in rupiah (IDR).

/** The plan behind the samples, speaking `language`. */
export function samplePlan(language: string): Plan {
  const account = (network: string, id: string, apiId: string, tokenEnv: string, settings?: object) => ({
    network,
    accounts: [{ id, name: 'Kopi Nusantara', apiId, tokenEnv, ...(settings ? { settings } : {}) }],
  })
  return parsePlan(
    {
      company: { name: 'Kopi Nusantara', timezone: 'Asia/Jakarta', language },
      objectives: [
        { id: 'engagement', name: 'Engagement' },
        { id: 'sales', name: 'Sales' },
      ],
      strategy: {
        networks: [
          account('facebook', 'kopi-nusantara', '104729384756102', 'FB_PAGE_TOKEN'),
          account('instagram', 'kopi-nusantara-instagram', '17841400000000001', 'INSTAGRAM_TOKEN'),
          account('meta_ads', 'kopi-nusantara-ads', 'act_1000000000000001', 'META_ADS_TOKEN', { purchaseActionType: 'offsite_conversion.fb_pixel_purchase' }),
          account('tiktok', 'kopi-nusantara-tiktok', 'tt-kopinusantara-0001', 'TIKTOK_TOKEN'),
        ],
      },
      kpis: [
        { id: 'fb-engagement-rate', name: 'Engagement rate', objective: 'engagement', network: 'facebook', metric: 'engagements', denominator: 'views', kind: 'rate', target: 0.03, period: 'month' },
        { id: 'ads-spend-month', name: 'Ad spend', objective: 'sales', network: 'meta_ads', metric: 'spend', kind: 'total', comparator: 'at_most', target: 45_000_000, period: 'month' },
        { id: 'ig-followers', name: 'Followers', objective: 'engagement', network: 'instagram', metric: 'followers', kind: 'level', target: 25_000, period: 'month' },
        { id: 'tiktok-views-week', name: 'Views', objective: 'engagement', network: 'tiktok', metric: 'views', kind: 'total', target: 120_000, period: 'week' },
      ],
      alerting: { recipients: ['tim-sosmed@kopinusantara.example'] },
    },
    'samples.yaml',
  )
}

/** 8 December 2026, 09:30 in Jakarta: when the samples are "now". */
export const SAMPLE_NOW = new Date('2026-12-08T02:30:00Z')
/** December 2026 in Jakarta, and the week of 7 December. */
const MONTH = { start: new Date('2026-11-30T17:00:00Z'), end: new Date('2026-12-31T17:00:00Z') }
const WEEK = { start: new Date('2026-12-06T17:00:00Z'), end: new Date('2026-12-13T17:00:00Z') }

/** The KPI table rows of a round at SAMPLE_NOW: a rate behind, money within its limit, a level too early to judge, a total without a verdict. */
export function sampleEvaluations(plan: Plan): KpiTableRow[] {
  const kpi = (id: string) => plan.kpis.find((k) => k.id === id)!
  const row = (id: string, rest: Partial<KpiEvaluation> & Pick<KpiEvaluation, 'status'>): KpiTableRow => ({
    kpi: kpi(id),
    basis: 'pace',
    missingAccounts: [],
    actual: null,
    expectedToDate: null,
    attainment: null,
    period: { ...MONTH, label: '2026-12' },
    ...rest,
  })
  return [
    row('fb-engagement-rate', { status: 'at_risk', actual: 0.0152, expectedToDate: 0.03, attainment: 0.0152 / 0.03 }),
    row('ads-spend-month', { status: 'on_track', actual: 18_250_000, expectedToDate: 21_774_194, attainment: 18_250_000 / 45_000_000, currency: 'IDR' }),
    row('ig-followers', { status: 'on_track', basis: 'early', actual: 23_480, expectedToDate: 23_900, attainment: 23_480 / 25_000 }),
    row('tiktok-views-week', { status: 'unknown', reason: 'incomplete', missingAccounts: ['kopi-nusantara-tiktok'], period: { ...WEEK, label: '2026-W50' } }),
  ]
}

/** ClickHouse's text of a UTC instant, as the status query reads it: `2026-12-08 02:30:00.000`. */
const stored = (at: Date) => at.toISOString().replace('T', ' ').replace('Z', '')

/** What `social-kpi status` reads at SAMPLE_NOW, as fixed rows (the stored email subject in the plan's language). */
export function sampleStatusData(speaker: Speaker): StatusData {
  const month = { period_start: stored(MONTH.start), period_end: stored(MONTH.end), latest_at: stored(SAMPLE_NOW) }
  const base = { status_basis: 'pace', status_reason: '', missing_accounts: [], status_cause: '', cause_facts: {}, forecast_end: null, needed_per_day: null, recent_per_day: null, currency: '' }
  const silence: Silence = {
    id: 'sil-4f2a9c1e',
    matchers: { accountId: 'kopi-nusantara-tiktok' },
    startsAt: new Date('2026-12-07T03:00:00Z'),
    endsAt: new Date('2026-12-10T17:00:00Z'),
    reason: 'migrasi akun TikTok',
    createdBy: 'dewi',
    createdAt: new Date('2026-12-07T03:00:00Z'),
    expiredAt: null,
  }
  return {
    kpis: [
      {
        ...base,
        ...month,
        kpi_id: 'ads-spend-month',
        kpi_name: 'Ad spend',
        kind: 'total',
        comparator: 'at_most',
        status: 'on_track',
        actual: 18_250_000,
        target: 45_000_000,
        expected_to_date: 21_774_194,
        attainment: 18_250_000 / 45_000_000,
        unit: 'currency',
        currency: 'IDR',
      },
      {
        ...base,
        ...month,
        kpi_id: 'fb-engagement-rate',
        kpi_name: 'Engagement rate',
        kind: 'rate',
        comparator: 'at_least',
        status: 'at_risk',
        actual: 0.0152,
        target: 0.03,
        expected_to_date: 0.03,
        attainment: 0.0152 / 0.03,
        unit: 'percent',
      },
      {
        ...base,
        ...month,
        kpi_id: 'ig-followers',
        kpi_name: 'Followers',
        kind: 'level',
        comparator: 'at_least',
        status: 'on_track',
        status_basis: 'forecast',
        forecast_end: 25_310,
        needed_per_day: 64,
        recent_per_day: 71,
        actual: 23_480,
        target: 25_000,
        expected_to_date: 23_900,
        attainment: 23_480 / 25_000,
        unit: 'count',
      },
      {
        ...base,
        period_start: stored(WEEK.start),
        period_end: stored(WEEK.end),
        latest_at: stored(SAMPLE_NOW),
        kpi_id: 'tiktok-views-week',
        kpi_name: 'Views',
        kind: 'total',
        comparator: 'at_least',
        status: 'unknown',
        status_reason: 'incomplete',
        missing_accounts: ['kopi-nusantara-tiktok'],
        actual: null,
        target: 120_000,
        expected_to_date: null,
        attainment: null,
        unit: 'count',
      },
    ],
    alerts: [{ alert_key: 'kpi.fb-engagement-rate', last_status_label: 'at_risk', since: '2026-12-05 02:30:00.000' }],
    sources: [
      { network: 'facebook', account_id: 'kopi-nusantara', status: 'healthy', last_success_at: stored(SAMPLE_NOW), last_error_code: '', quota_resets_at: null },
      { network: 'instagram', account_id: 'kopi-nusantara-instagram', status: 'healthy', last_success_at: stored(SAMPLE_NOW), last_error_code: '', quota_resets_at: null },
      { network: 'meta_ads', account_id: 'kopi-nusantara-ads', status: 'healthy', last_success_at: stored(SAMPLE_NOW), last_error_code: '', quota_resets_at: null },
      {
        network: 'tiktok',
        account_id: 'kopi-nusantara-tiktok',
        status: 'throttled',
        last_success_at: '2026-12-07 14:15:00.000',
        last_error_code: 'RATE_LIMITED',
        quota_resets_at: '2026-12-08 03:00:00.000',
      },
    ],
    undelivered: [
      {
        decided_at: '2026-12-08 01:30:00.000',
        subject: `[social-kpi] KPI fb-engagement-rate: ${statusWords(speaker, 'at_risk')}`,
        delivery: 'undelivered',
        delivered_to: 'tim-sosmed@kopinusantara.example',
        channel: 'email',
      },
    ],
    silences: [silence],
    rounds: [
      { round_at: stored(SAMPLE_NOW), accounts: 4, collected: 3, degraded: 0, failing: 0, unhealthy: 0, failed: 0, coalesced: 1, pending: ['tiktok/kopi-nusantara-tiktok'], evaluated_by: 'deadline' },
      { round_at: '2026-12-08 01:30:00.000', accounts: 4, collected: 4, degraded: 0, failing: 0, unhealthy: 0, failed: 0, coalesced: 0, pending: [], evaluated_by: 'all_ended' },
    ],
  }
}

/**
 * The terminal in `language`, for the docs: the KPI table after a round (`start`, `collect
 * --once`) and the `social-kpi status` page, from fixed rows at 8 Dec 2026, 09:30 in Jakarta.
 */
export function terminalSamples(language: string): Array<{ kind: string; text: string }> {
  const plan = samplePlan(language)
  const speaker = planSpeaker(plan)
  return [
    { kind: 'kpi-table', text: formatKpiTable(sampleEvaluations(plan), { color: false, speaker }) },
    { kind: 'status', text: statusPage(sampleStatusData(speaker), { color: false, now: SAMPLE_NOW, speaker }) },
  ]
}
