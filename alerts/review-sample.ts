import type { KpiReview, PeriodReview } from '../kpi/review.ts'
import { renderReviewEmail } from './review-email.ts'

/**
 * One realistic period review from fixed data, for the documentation's samples and the tests
 * that read a whole review in each language: November 2026 of an Indonesian company in
 * Asia/Jakarta (UTC+7), an engagement rate that missed its target, likes that reached theirs, and
 * ad spend in rupiah kept under its limit; a post list, an alert, a silence and a data gap. Every
 * instant is fixed, so the sample reads the same on any day. The plan's own texts (objective and
 * KPI names, actions, a silence's reason) are written as its team wrote them, in Indonesian.
 */

const DAY_MS = 86_400_000
/** November 2026 in Asia/Jakarta: [31 Oct 17:00Z, 30 Nov 17:00Z). */
const START = Date.parse('2026-10-31T17:00:00Z')
const END = Date.parse('2026-11-30T17:00:00Z')
const day = (n: number) => START + n * DAY_MS

const period = (label: string, start: string, end: string) => ({ label, start, end })
const NOVEMBER = period('2026-11', '2026-10-31T17:00:00.000Z', '2026-11-30T17:00:00.000Z')
const OCTOBER = period('2026-10', '2026-09-30T17:00:00.000Z', '2026-10-31T17:00:00.000Z')
const DECEMBER = period('2026-12', '2026-11-30T17:00:00.000Z', '2026-12-31T17:00:00.000Z')

const numbers = (p: { label: string; start: string; end: string }, actual: number, target: number, status: 'achieved' | 'missed', currency?: string) => ({
  ...p,
  actual,
  target,
  attainment: Math.round((actual / target) * 10_000) / 10_000,
  status,
  reason: null,
  ...(currency ? { currency } : {}),
  stored: true,
})

const engagementRate: KpiReview = {
  id: 'ig-engagement-rate',
  name: 'Engagement rate Instagram',
  network: 'instagram',
  metric: 'engagements',
  denominator: 'reach',
  kind: 'rate',
  unit: 'percent',
  comparator: 'at_least',
  verdict: numbers(NOVEMBER, 0.0147, 0.03, 'missed'),
  previous: numbers(OCTOBER, 0.0152, 0.03, 'missed'),
  change: -0.0005,
  changeShare: -0.0329,
  history: [],
  baseline: null,
  pace: [1],
  actions: ['Ajukan satu pertanyaan di setiap caption.', 'Balas setiap komentar dalam dua jam.'],
  next: { ...DECEMBER, days: 31, target: 0.03, perDay: null, thisPerDay: null, trendTarget: 0.0149, trendFrom: ['2026-09', '2026-10', '2026-11'] },
}

const likes: KpiReview = {
  id: 'fb-likes',
  name: 'Suka di Facebook',
  network: 'facebook',
  metric: 'likes',
  kind: 'total',
  unit: 'count',
  comparator: 'at_least',
  verdict: numbers(NOVEMBER, 1240, 1000, 'achieved'),
  previous: numbers(OCTOBER, 980, 1000, 'missed'),
  change: 260,
  changeShare: 0.2653,
  history: [
    [day(0), 0],
    [day(10), 380],
    [day(20), 860],
    [END, 1240],
  ],
  baseline: null,
  pace: [1],
  actions: [],
  next: null,
}

const spend: KpiReview = {
  id: 'ads-spend',
  name: 'Belanja iklan Meta',
  network: 'meta_ads',
  metric: 'spend',
  kind: 'total',
  unit: 'currency',
  comparator: 'at_most',
  verdict: numbers(NOVEMBER, 12_450_000, 15_000_000, 'achieved', 'IDR'),
  previous: numbers(OCTOBER, 14_100_000, 15_000_000, 'achieved', 'IDR'),
  change: -1_650_000,
  changeShare: -0.117,
  history: [
    [day(0), 0],
    [day(10), 4_200_000],
    [day(20), 8_900_000],
    [END, 12_450_000],
  ],
  baseline: null,
  pace: [1],
  actions: [],
  next: null,
}

/** The sample review's data (kpi/review.ts PeriodReview), as buildPeriodReview would return it. */
export const SAMPLE_REVIEW: PeriodReview = {
  version: 1,
  company: 'Kopi Nusantara',
  timezone: 'Asia/Jakarta',
  kind: 'month',
  period: NOVEMBER,
  previous: OCTOBER,
  next: DECEMBER,
  // Settled: built at the end of the three-day grace window, 4 Dec 2026 00:00 in Jakarta.
  knownAt: '2026-12-03T17:00:00.000Z',
  settlesAt: '2026-12-03T17:00:00.000Z',
  summary: { kpis: 3, achieved: 2, missed: 1, unknown: 0, objectives: 2, objectivesMet: 1 },
  objectives: [
    { id: 'engagement', name: 'Meningkatkan interaksi', met: false, kpis: [engagementRate, likes] },
    { id: 'ads', name: 'Iklan yang hemat', description: 'Belanja iklan tetap di bawah anggaran bulanan.', met: true, kpis: [spend] },
  ],
  posts: [
    {
      network: 'facebook',
      metric: 'likes',
      kpiIds: ['fb-likes'],
      counted: 14,
      total: 1240,
      top: [
        { accountId: 'kopi-fb', objectId: 'promo-kopi-susu', createdAt: '2026-11-03T05:00:00.000Z', gained: 412 },
        { accountId: 'kopi-fb', objectId: 'resep-es-kopi', createdAt: '2026-11-10T11:30:00.000Z', gained: 268 },
        { accountId: 'kopi-fb', objectId: 'giveaway-oktober', createdAt: '2026-10-25T04:00:00.000Z', gained: 97 },
      ],
      flat: [
        { accountId: 'kopi-fb', objectId: 'info-jam-buka', createdAt: '2026-11-28T02:00:00.000Z', gained: 6 },
        { accountId: 'kopi-fb', objectId: 'lowongan-barista', createdAt: '2026-11-21T03:00:00.000Z', gained: 11 },
      ],
    },
  ],
  alerts: [
    {
      key: 'freshness.instagram.kopi-ig',
      kind: 'freshness',
      subject: 'instagram/kopi-ig',
      label: 'stale',
      firedAt: '2026-11-08T05:00:00.000Z',
      resolvedAt: '2026-11-11T05:00:00.000Z',
      silenced: true,
    },
    { key: 'kpi.ig-engagement-rate', kind: 'kpi', subject: 'ig-engagement-rate', label: 'missed', firedAt: '2026-11-12T02:00:00.000Z', resolvedAt: '2026-12-01T00:05:00.000Z', silenced: false },
    // A crisis trigger's label is the accounts it fired on.
    {
      key: 'crisis.lonjakan-keluhan',
      kind: 'crisis',
      subject: 'lonjakan-keluhan',
      label: 'kopi-fb,kopi-ig',
      firedAt: '2026-11-18T06:20:00.000Z',
      resolvedAt: '2026-11-18T13:40:00.000Z',
      silenced: false,
    },
  ],
  silences: [{ id: 's1', what: 'instagram/kopi-ig', startsAt: '2026-11-07T17:00:00.000Z', endsAt: '2026-11-10T17:00:00.000Z', reason: 'token diperbarui oleh agensi', createdBy: 'dewi' }],
  gaps: [{ network: 'instagram', accountId: 'kopi-ig', metric: 'reach', shape: 'daily', kpiIds: ['ig-engagement-rate'], missingDays: ['2026-11-08', '2026-11-09', '2026-11-10'], days: 30 }],
}

/** The sample review's email in a language (a code of core/i18n/messages/): its subject and its text part. */
export function reviewSample(language: string): { subject: string; text: string } {
  const email = renderReviewEmail(SAMPLE_REVIEW, language)
  return { subject: email.subject, text: email.text }
}
