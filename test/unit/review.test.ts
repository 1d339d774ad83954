import { describe, expect, it } from 'vitest'
import { objectiveChart } from '../../alerts/review-chart.ts'
import { renderReviewEmail, reviewCsv, reviewHtml, reviewText, REVIEW_CSV_COLUMNS } from '../../alerts/review-email.ts'
import { reviewSample, SAMPLE_REVIEW } from '../../alerts/review-sample.ts'
import { CATALOGUES, LANGUAGES, speaker } from '../../core/i18n/index.ts'
import { ConfigError, PlanError } from '../../core/errors.ts'
import type { KpiDataSource } from '../../kpi/kinds/source.ts'
import { parsePlan, type Plan } from '../../plan/plan.ts'
import { alertEpisodes, buildPeriodReview, lastSettledPeriod, namedPeriod, nextPeriodNeeds, type PeriodReview, periodReviewSchema, trendTarget, type ReviewDataSource } from '../../kpi/review.ts'
import { freshAccounts } from '../helpers/fresh-accounts.ts'

const utc = (iso: string) => new Date(iso)

function plan(extra: Record<string, unknown> = {}, company: Record<string, unknown> = {}): Plan {
  return parsePlan(
    {
      company: { name: 'Kopi, "Nusantara"', timezone: 'Asia/Jakarta', ...company },
      objectives: [
        { id: 'reach', name: 'Meningkatkan citra merek', actions: ['Unggah ulang reel terbaik.'] },
        { id: 'talk', name: 'Hubungan pelanggan' },
      ],
      strategy: { networks: [{ network: 'facebook', accounts: [{ id: 'main', name: 'Main', apiId: '1', tokenEnv: 'T' }] }] },
      kpis: [
        { id: 'likes', name: 'Suka, bulan ini', objective: 'reach', network: 'facebook', metric: 'likes', kind: 'total', target: 1000, period: 'month' },
        { id: 'followers', name: 'Pengikut', objective: 'talk', network: 'facebook', metric: 'followers', kind: 'level', target: 5000, period: 'month' },
        { id: 'angry', name: 'Marah', objective: 'talk', network: 'facebook', metric: 'reactions_anger', kind: 'total', comparator: 'at_most', target: 60, period: 'week' },
      ],
      alerting: { recipients: ['team@example.com'] },
      ...extra,
    },
    'plan.yaml',
  )
}

describe('review periods by name, in the plan’s zone', () => {
  const p = plan()
  it('reads months, ISO weeks (or a day of one), quarters and years', () => {
    expect(namedPeriod('month', '2026-11', p)).toEqual({ start: utc('2026-10-31T17:00:00Z'), end: utc('2026-11-30T17:00:00Z'), label: '2026-11' })
    expect(namedPeriod('week', '2026-W48', p)).toEqual({ start: utc('2026-11-22T17:00:00Z'), end: utc('2026-11-29T17:00:00Z'), label: '2026-W48' })
    expect(namedPeriod('week', '2026-11-25', p).label).toBe('2026-W48')
    // ISO week 1 of 2027 starts on Monday 4 January 2027; W53 of 2026 holds New Year.
    expect(namedPeriod('week', '2026-W53', p).start).toEqual(utc('2026-12-27T17:00:00Z'))
    expect(namedPeriod('quarter', '2026-Q4', p)).toEqual({ start: utc('2026-09-30T17:00:00Z'), end: utc('2026-12-31T17:00:00Z'), label: '2026-Q4' })
    expect(namedPeriod('year', '2024', p)).toEqual({ start: utc('2023-12-31T17:00:00Z'), end: utc('2024-12-31T17:00:00Z'), label: '2024' })
  })

  it('takes a Sunday-start week as the one holding that ISO week’s Monday', () => {
    const sunday = plan({}, { weekStart: 'sunday' })
    expect(namedPeriod('week', '2026-W48', sunday)).toEqual({ start: utc('2026-11-21T17:00:00Z'), end: utc('2026-11-28T17:00:00Z'), label: 'week of 2026-11-22' })
  })

  it('says which option is wrong and how to write it', () => {
    expect(() => namedPeriod('month', '2026-13', p)).toThrow(ConfigError)
    expect(() => namedPeriod('month', 'november', p)).toThrow('--period: "november" does not name a month; write it as 2026-11')
    expect(() => namedPeriod('week', '2026-W54', p, '--week')).toThrow('--week: "2026-W54" does not name a week')
    expect(() => namedPeriod('quarter', '2026-Q5', p, '--quarter')).toThrow('write it as 2026-Q4')
  })

  it('a period has settled from the end of its grace window on, to the millisecond', () => {
    // November (Jakarta) ends 30 Nov 17:00Z; its verdicts settle three days later.
    expect(lastSettledPeriod('month', utc('2026-12-03T17:00:00Z'), p).label).toBe('2026-11')
    expect(lastSettledPeriod('month', utc('2026-12-03T16:59:59.999Z'), p).label).toBe('2026-10')
    // Under libfaketime CI's instant, 1 Mar 2027 00:05 Jakarta: February ended minutes ago.
    expect(lastSettledPeriod('month', utc('2027-02-28T17:05:00Z'), p).label).toBe('2027-01')
    expect(lastSettledPeriod('week', utc('2026-12-03T17:00:00Z'), p).label).toBe('2026-W48')
    expect(lastSettledPeriod('quarter', utc('2027-01-03T17:00:00Z'), p).label).toBe('2026-Q4')
  })
})

describe('what the next period needs', () => {
  it('extends the least-squares line through the last periods by one', () => {
    // 250, 400, 672: mean 440.67, slope 211, one period on: 440.67 + 2 × 211.
    expect(trendTarget([250, 400, 672])).toBeCloseTo(862.67, 2)
    // A period without data keeps its place: the line through 400 (x=1) and 672 (x=2) at x=3.
    expect(trendTarget([null, 400, 672])).toBe(944)
    expect(trendTarget([null, null, 672])).toBeNull()
  })

  it('gives the pace per day for a total, and for a level the change per day from where it ended', () => {
    const p = plan()
    const november = namedPeriod('month', '2026-11', p)
    const december = namedPeriod('month', '2026-12', p)
    const likes = nextPeriodNeeds(p.kpis[0]!, { period: november, actual: 672, baseline: null }, december, [
      { label: '2026-09', actual: 250 },
      { label: '2026-10', actual: 400 },
      { label: '2026-11', actual: 672 },
    ])
    expect(likes).toMatchObject({ label: '2026-12', days: 31, target: 1000, trendTarget: 863, trendFrom: ['2026-09', '2026-10', '2026-11'] })
    expect(likes.perDay).toBeCloseTo(1000 / 31, 6)
    expect(likes.thisPerDay).toBeCloseTo(22.4, 6)
    const followers = nextPeriodNeeds(p.kpis[1]!, { period: november, actual: 4690, baseline: 4400 }, december, [{ label: '2026-11', actual: 4690 }])
    // (5,000 − 4,690) ÷ 31 = 10 a day, against (4,690 − 4,400) ÷ 30 = 9.67 this month.
    expect(followers.perDay).toBeCloseTo(10, 6)
    expect(followers.thisPerDay).toBeCloseTo(9.667, 3)
    expect(followers.trendTarget).toBeNull()
  })
})

describe('alert spells of a period', () => {
  const t = (at: string, alertKey: string, fromStatus: string, toStatus: string, label: string, silenced = false) => ({ at: utc(at), alertKey, fromStatus, toStatus, label, silenced })
  it('runs from firing to resolved, with the worst status, and keeps only spells that overlap the period', () => {
    const episodes = alertEpisodes(
      [
        t('2026-10-20T00:00:00Z', 'kpi.old', 'ok', 'firing', 'at_risk'),
        t('2026-10-25T00:00:00Z', 'kpi.old', 'firing', 'ok', 'on_track'),
        t('2026-11-10T00:00:00Z', 'kpi.likes', 'ok', 'pending', 'at_risk'),
        t('2026-11-11T00:00:00Z', 'kpi.likes', 'pending', 'firing', 'at_risk'),
        t('2026-11-20T00:00:00Z', 'kpi.likes', 'firing', 'firing', 'missed'),
        t('2026-12-01T03:00:00Z', 'kpi.likes', 'firing', 'ok', 'on_track'),
        t('2026-10-30T00:00:00Z', 'freshness.facebook.main', 'ok', 'firing', 'stale', true),
      ],
      utc('2026-10-31T17:00:00Z'),
      utc('2026-11-30T17:00:00Z'),
    )
    expect(episodes).toEqual([
      { key: 'freshness.facebook.main', kind: 'freshness', subject: 'facebook/main', label: 'stale', firedAt: '2026-10-30T00:00:00.000Z', resolvedAt: null, silenced: true },
      { key: 'kpi.likes', kind: 'kpi', subject: 'likes', label: 'missed', firedAt: '2026-11-11T00:00:00.000Z', resolvedAt: '2026-12-01T03:00:00.000Z', silenced: false },
    ])
  })
})

/** Numbers per period start: what the fake sources answer. */
function sources(amounts: Record<string, number>, levels: Record<string, number>): { kpi: KpiDataSource; review: ReviewDataSource } {
  const key = (d: Date) => d.toISOString()
  return {
    kpi: {
      async level(_s, at) {
        const found = Object.entries(levels)
          .filter(([t]) => new Date(t) <= at)
          .sort(([a], [b]) => a.localeCompare(b))
          .at(-1)
        return found ? found[1] : null
      },
      async startingLevel(s, start, _before) {
        const value = await this.level(s, start)
        return value === null ? null : { value, at: start }
      },
      async amount(s, from) {
        return s.metric === 'likes' ? (amounts[key(from)] ?? null) : null
      },
      async dataUntil() {
        return null
      },
      ...freshAccounts,
    },
    review: {
      async verdicts() {
        return []
      },
      async postGains(s) {
        return s.metric === 'likes'
          ? [
              { accountId: 'main', objectId: 'a', createdAt: utc('2026-11-03T03:00:00Z'), gained: 500, readInPeriod: true },
              { accountId: 'main', objectId: 'b', createdAt: utc('2026-11-20T03:00:00Z'), gained: 4, readInPeriod: true },
            ]
          : []
      },
      async alertHistory() {
        return []
      },
      async silences() {
        return []
      },
      async observedDays(selections, from, to) {
        // Every day read, but for followers on 8 Nov.
        const out = []
        for (let t = from.getTime(); t < to.getTime(); t += 86_400_000) {
          const day = new Date(t + 7 * 3_600_000).toISOString().slice(0, 10)
          for (const s of selections) if (!(s.metric === 'followers' && day === '2026-11-08')) out.push({ network: s.network, accountId: s.accountIds[0]!, metric: s.metric, day })
        }
        return out
      },
    },
  }
}

describe('a review, in the plan’s language', () => {
  const p = plan({ review: { periods: ['month'], language: 'id' } })
  const november = namedPeriod('month', '2026-11', p)
  const build = () =>
    buildPeriodReview(
      p,
      'month',
      november,
      utc('2026-12-03T17:00:00Z'),
      sources({ '2026-08-31T17:00:00.000Z': 250, '2026-09-30T17:00:00.000Z': 400, '2026-10-31T17:00:00.000Z': 672 }, { '2026-10-31T12:00:00Z': 4400, '2026-11-30T12:00:00Z': 5150 }),
    )

  it('is a stored document that reads back as it was written', async () => {
    const review = await build()
    expect(periodReviewSchema.parse(JSON.parse(JSON.stringify(review)))).toEqual(review)
    expect(review.summary).toEqual({ kpis: 2, achieved: 1, missed: 1, unknown: 0, objectives: 2, objectivesMet: 1 })
    // Only month KPIs: the weekly one is not in a month's review.
    expect(review.objectives.flatMap((o) => o.kpis.map((k) => k.id))).toEqual(['likes', 'followers'])
  })

  it('speaks Indonesian: fixed words, month names and number formats', async () => {
    const text = reviewText(await build(), 'id')
    expect(text).toContain('Tinjauan November 2026 — Kopi, "Nusantara"')
    expect(text).toContain('1 dari 2 tujuan tercapai; 1 dari 2 KPI tercapai, 1 tidak tercapai.')
    expect(text).toContain('Suka, bulan ini: tidak tercapai* — 672 dari minimal 1.000 (67%); +272 (+68%) dibanding Oktober 2026*')
    expect(text).toContain('Desember 2026 membutuhkan 32/hari untuk mencapai 1.000 (periode ini: 22/hari).')
    expect(text).toContain('Tren 2026-09, 2026-10, dan 2026-11 mendukung target 863.')
    expect(text).toContain('Yang disarankan rencana (Suka, bulan ini):\n    1. Unggah ulang reel terbaik.')
    expect(text).toContain('Pengikut: tercapai* — 5.150 dari minimal 5.000 (103%)')
    expect(text).toContain('facebook/main, followers: tidak ada data pada 8 Nov (1 dari 30 hari); Pengikut kurang pasti.')
    expect(text).not.toMatch(/\b(missed|achieved|objectives met)\b/)
    const email = renderReviewEmail(await build(), 'id')
    expect(email.subject).toBe('[social-kpi] Tinjauan November 2026: 1 dari 2 tujuan tercapai; 1 dari 2 KPI tercapai, 1 tidak tercapai')
    expect(email.html).toContain('<html lang="id">')
  })

  it('is CSV with one row per KPI, the same columns in every language, quoted where needed', async () => {
    const csv = reviewCsv(await build())
    const lines = csv.split('\r\n')
    expect(lines.at(-1)).toBe('')
    expect(lines[0]).toBe(REVIEW_CSV_COLUMNS.join(','))
    expect(lines).toHaveLength(2 + 2)
    // A name with a comma is quoted; numbers are plain.
    expect(lines[1]).toBe(
      'month,2026-11,2026-10-31T17:00:00.000Z,2026-11-30T17:00:00.000Z,reach,Meningkatkan citra merek,likes,"Suka, bulan ini",facebook,likes,total,at_least,1000,672,0.672,missed,,,judged,2026-10,400,272,0.68,2026-12,1000,32.26,863',
    )
  })

  it('says why a KPI has no verdict, in both languages, and leaves it out of the comparisons', async () => {
    // November's stored verdict: no verdict, the Page "main" not collected in November; the 460
    // counted are the other accounts' only, so no change against October and no trend from it.
    const numbers = sources({ '2026-08-31T17:00:00.000Z': 250, '2026-09-30T17:00:00.000Z': 400 }, { '2026-10-31T12:00:00Z': 4400, '2026-11-30T12:00:00Z': 5150 })
    const stored = {
      kpiId: 'likes',
      periodStart: november.start,
      periodLabel: '2026-11',
      actual: 460,
      target: 1000,
      attainment: null,
      status: 'unknown',
      statusReason: 'incomplete',
      missingAccounts: ['main'],
    }
    const review = await buildPeriodReview(p, 'month', november, utc('2026-12-03T17:00:00Z'), { ...numbers, review: { ...numbers.review, verdicts: async () => [stored] } })
    const likes = review.objectives.flatMap((o) => o.kpis).find((k) => k.id === 'likes')!
    expect(likes).toMatchObject({ verdict: { status: 'unknown', reason: 'incomplete', missingAccounts: ['main'], actual: 460, stored: true }, change: null, next: null, history: [] })
    expect(review.summary).toMatchObject({ achieved: 1, missed: 0, unknown: 1 })
    expect(reviewText(review, 'en')).toContain('Suka, bulan ini: no verdict (incomplete data: main) — 460 of at least 1,000 (—); —')
    expect(reviewText(review, 'en')).toContain('1 of 2 objectives met; 1 of 2 KPIs achieved, 1 without a verdict.')
    expect(reviewText(review, 'id')).toContain('Suka, bulan ini: tidak dapat dinilai (data tidak lengkap: main) — 460 dari minimal 1.000 (—); —')
    expect(reviewText(review, 'id')).toContain('1 dari 2 tujuan tercapai; 1 dari 2 KPI tercapai, 1 tidak dapat dinilai.')
    expect(reviewCsv(review).split('\r\n')[1]).toContain(',1000,460,,unknown,incomplete,main,stored,2026-10,')
    expect(periodReviewSchema.parse(JSON.parse(JSON.stringify(review)))).toEqual(review)
  })

  it('names a review section with no KPI of its kind as a plan error', () => {
    expect(() => plan({ review: { periods: ['quarter'] } })).toThrow(PlanError)
    try {
      plan({ review: { periods: ['month', 'month'], language: 'fr' } })
      expect.unreachable()
    } catch (error) {
      expect((error as PlanError).issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
        'review.periods: lists a kind of period twice',
        'review.language: must be one of: en, id (English, Bahasa Indonesia)',
      ])
    }
  })
})

describe('a whole review in each language (alerts/review-sample.ts)', () => {
  // English left in an Indonesian review: the status words, the headings, the fixed phrases.
  const ENGLISH =
    /\b(achieved|missed|no verdict|without a verdict|on track|at risk|Objectives|objectives met|Review of|Provisional|Furthest off|of at least|of at most|vs|needs|per day|\/day|published|Carried the period|Fell flat|Source|Crisis|silenced|still open|no reading|less certain|Built from|attached)\b/
  const words = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/&[a-z]+;|&#\d+;/g, ' ')

  it('renders in every language with every message present (a missing key throws)', () => {
    for (const language of LANGUAGES) {
      const sample = reviewSample(language)
      expect(sample.subject.startsWith('[social-kpi] ')).toBe(true)
      expect(sample.text.length).toBeGreaterThan(500)
      expect(reviewHtml(SAMPLE_REVIEW, language, () => 'cid:x')).toContain(`<html lang="${language}">`)
    }
  })

  it('has the same review messages in every catalogue', () => {
    const keys = (code: string) => [...CATALOGUES.get(code)!.messages.keys()].filter((key) => key.startsWith('review.')).sort()
    expect(keys('en').length).toBeGreaterThan(60)
    for (const language of LANGUAGES) expect(keys(language)).toEqual(keys('en'))
  })

  it('speaks Indonesian throughout: rates as percentages, rupiah, times in WIB, periods inclusive', () => {
    const { subject, text } = reviewSample('id')
    expect(subject).toBe('[social-kpi] Tinjauan November 2026: 1 dari 2 tujuan tercapai; 2 dari 3 KPI tercapai, 1 tidak tercapai')
    expect(text).toContain('Paling jauh dari target: Engagement rate Instagram, kurang 51% dari targetnya.')
    expect(text).toContain('Engagement rate Instagram: tidak tercapai — 1,47% dari minimal 3% (49%); −0,05% (−3%) dibanding Oktober 2026')
    expect(text).toContain('Desember 2026 membutuhkan minimal 3%.')
    expect(text).toContain('Tren 2026-09, 2026-10, dan 2026-11 mendukung target 1,49%.')
    // Intl writes a no-break space between the currency and the amount.
    expect(text).toContain('Belanja iklan Meta: tercapai — Rp\u00a012.450.000 dari maksimal Rp\u00a015.000.000 (83%); −Rp\u00a01.650.000 (−12%) dibanding Oktober 2026')
    expect(text).toContain('facebook · likes: 1.240 dari 14 unggahan')
    expect(text).toContain('3. giveaway-oktober (kopi-fb, diunggah 25 Okt 2026): 97')
    expect(text).toContain('- KPI Engagement rate Instagram: tidak tercapai, dari 12 Nov 2026, 09.00 WIB sampai 1 Des 2026, 07.05 WIB')
    expect(text).toContain('- Sumber instagram/kopi-ig: data berhenti masuk, dari 8 Nov 2026, 12.00 WIB sampai 11 Nov 2026, 12.00 WIB; dijeda: tidak ada email yang dikirim')
    expect(text).toContain('- Krisis lonjakan-keluhan (akun: kopi-fb dan kopi-ig), dari 18 Nov 2026, 13.20 WIB sampai 18 Nov 2026, 20.40 WIB')
    // 8 Nov 00:00 to 11 Nov 00:00 in Jakarta: three whole days.
    expect(text).toContain('- instagram/kopi-ig, 8–10 Nov 2026: token diperbarui oleh agensi (oleh dewi)')
    expect(text).toContain('tidak ada data pada 8–10 Nov (3 dari 30 hari); Engagement rate Instagram kurang pasti.')
    expect(text).toContain('Disusun dari semua data yang tersimpan sampai 4 Des 2026, 00.00 WIB.')
    expect(text).toContain('Tabel KPI terlampir sebagai CSV (satu baris per KPI).')
    expect(subject).not.toMatch(ENGLISH)
    expect(text).not.toMatch(ENGLISH)
    expect(words(reviewHtml(SAMPLE_REVIEW, 'id', () => 'cid:x'))).not.toMatch(ENGLISH)
  })

  it('speaks English with the same numbers, in the plan’s zone (GMT+7 in Jakarta)', () => {
    const { subject, text } = reviewSample('en')
    expect(subject).toBe('[social-kpi] Review of November 2026: 1 of 2 objectives met; 2 of 3 KPIs achieved, 1 missed')
    expect(text).toContain('Engagement rate Instagram: missed — 1.47% of at least 3% (49%); −0.05% (−3%) vs October 2026')
    expect(text).toContain('Belanja iklan Meta: achieved — IDR\u00a012,450,000 of at most IDR\u00a015,000,000 (83%); −IDR\u00a01,650,000 (−12%) vs October 2026')
    expect(text).toContain('- KPI Engagement rate Instagram: missed, from 12 Nov 2026, 09:00 GMT+7 to 1 Dec 2026, 07:05 GMT+7')
    expect(text).toContain('- Crisis lonjakan-keluhan (accounts: kopi-fb and kopi-ig), from 18 Nov 2026, 13:20 GMT+7 to 18 Nov 2026, 20:40 GMT+7')
    expect(text).toContain('Built from everything stored up to 4 Dec 2026, 00:00 GMT+7.')
    // Plan texts are shown as written; the fixed words are English.
    expect(text).toContain('Meningkatkan interaksi — not met')
    expect(text).not.toMatch(/\b(tercapai|dibanding|unggahan|Tinjauan)\b/)
  })

  it('counts with the language’s plural rules', () => {
    const one: PeriodReview = {
      ...SAMPLE_REVIEW,
      summary: { kpis: 1, achieved: 1, missed: 0, unknown: 0, objectives: 1, objectivesMet: 1 },
      posts: SAMPLE_REVIEW.posts.map((p) => ({ ...p, counted: 1 })),
      gaps: SAMPLE_REVIEW.gaps.map((g) => ({ ...g, missingDays: ['2026-11-08'], days: 1, kpiIds: ['ig-engagement-rate', 'fb-likes'] })),
    }
    const en = reviewText(one, 'en')
    expect(en).toContain('1 of 1 objective met; 1 of 1 KPI achieved.')
    expect(en).toContain('facebook · likes: 1,240 from 1 post')
    expect(en).toContain('no reading on 8 Nov (1 of 1 day); Engagement rate Instagram and Suka di Facebook rest on no data from it.')
    const id = reviewText(one, 'id')
    expect(id).toContain('1 dari 1 tujuan tercapai; 1 dari 1 KPI tercapai.')
    expect(id).toContain('facebook · likes: 1.240 dari 1 unggahan')
    expect(id).toContain('tidak ada data pada 8 Nov (1 dari 1 hari); Engagement rate Instagram dan Suka di Facebook sama sekali tanpa data dari akun ini.')
  })

  it('names weeks, quarters and years in the plan’s zone, and says why there is no verdict', () => {
    const at = (kind: PeriodReview['kind'], start: string, end: string): PeriodReview => ({ ...SAMPLE_REVIEW, kind, period: { label: 'x', start, end } })
    const title = (review: PeriodReview, language: string) => reviewText(review, language).split('\n')[0]
    // Monday 23 Nov to Sunday 29 Nov in Jakarta; the fourth quarter; the year 2026.
    const week = at('week', '2026-11-22T17:00:00.000Z', '2026-11-29T17:00:00.000Z')
    expect(title(week, 'id')).toBe('Tinjauan minggu 23–29 Nov 2026 — Kopi Nusantara')
    expect(title(week, 'en')).toBe('Review of the week of 23\u2009–\u200929 Nov 2026 — Kopi Nusantara')
    const quarter = at('quarter', '2026-09-30T17:00:00.000Z', '2026-12-31T17:00:00.000Z')
    expect(title(quarter, 'id')).toBe('Tinjauan Kuartal IV 2026 — Kopi Nusantara')
    expect(title(quarter, 'en')).toBe('Review of Q4 2026 — Kopi Nusantara')
    expect(title(at('year', '2025-12-31T17:00:00.000Z', '2026-12-31T17:00:00.000Z'), 'id')).toBe('Tinjauan tahun 2026 — Kopi Nusantara')
    // 1 Jan 2027 00:30 in Jakarta is still 2026 in UTC: the month is the zone's.
    expect(title(at('month', '2026-12-31T17:00:00.000Z', '2027-01-31T17:00:00.000Z'), 'id')).toBe('Tinjauan Januari 2027 — Kopi Nusantara')

    const [engagement, ads] = SAMPLE_REVIEW.objectives
    const unknown: PeriodReview = {
      ...SAMPLE_REVIEW,
      objectives: [
        {
          ...engagement!,
          kpis: [
            {
              ...engagement!.kpis[0]!,
              verdict: { ...engagement!.kpis[0]!.verdict, status: 'unknown', attainment: null, reason: 'incomplete', missingAccounts: ['kopi-ig'] },
              next: null,
              actions: [],
            },
          ],
        },
        ads!,
      ],
    }
    const id = reviewText(unknown, 'id')
    expect(id).toContain('Engagement rate Instagram: tidak dapat dinilai (data tidak lengkap: kopi-ig) — 1,47% dari minimal 3% (—); —')
    expect(id).not.toMatch(ENGLISH)
    expect(reviewText(unknown, 'en')).toContain('Engagement rate Instagram: no verdict (incomplete data: kopi-ig) — 1.47% of at least 3% (—); —')
  })

  it('gives the charts their legend and dates in the review’s language', () => {
    const [engagement] = SAMPLE_REVIEW.objectives
    const chart = objectiveChart(SAMPLE_REVIEW, engagement!, speaker('id', SAMPLE_REVIEW.timezone))!
    expect(chart).toMatchObject({ locale: 'id-ID', timezone: 'Asia/Jakarta', legend: { pace: 'laju', target: 'target 100%' } })
    // The rate has no day-by-day history: only the likes are drawn.
    expect(chart.series.map((s) => s.name)).toEqual(['Suka di Facebook'])
  })
})
