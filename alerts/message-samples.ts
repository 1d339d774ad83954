import type { AlertFacts } from '../core/queues.ts'
import { credentialAdvice } from '../ingest/auth/index.ts'
import { graphTokenAdvice } from '../ingest/graph-api.ts'
import type { CrisisEvaluation } from '../kpi/crisis.ts'
import type { KpiEvaluation } from '../kpi/evaluate.ts'
import { parsePlanText, planAccounts, planSpeaker, type Plan } from '../plan/plan.ts'
import { renderSlackMessage } from './channels/slack.ts'
import { renderCrisisEmail } from './crisis-email.ts'
import { renderCredentialExpiryEmail, renderDegradedEmail, renderFreshnessEmail, renderKpiEmail, renderSourceEmail, type RenderedEmail } from './email.ts'
import { crisisFacts, kpiFacts } from './facts.ts'
import { renderGroupEmail } from './group-email.ts'
import type { AlertEvent, AlertState } from './rules.ts'

/**
 * One realistic sample of every alert message a person reads (each email kind, the Slack text and
 * the webhook's human fields), rendered from fixed fixture data: an Indonesian coffee company in
 * Asia/Jakarta, a rate KPI (engagements per view) and a money KPI in IDR (Meta ads spend), at
 * fixed instants in December 2026. For the documentation's samples and the tests that read them.
 */
export interface MessageSample {
  kind: string
  subject: string
  text: string
  /** An email's HTML part (its headings, link texts and the chart's alt text); absent for Slack and webhook texts. */
  html?: string
}

const FIXTURE_PLAN = (language: string) => `
version: 1
company:
  name: Kopi Nusantara
  description: Pemanggang kopi single origin dengan 14 kafe di Jakarta dan Bandung.
  offering: Biji kopi, kafe dan kelas kopi.
  timezone: Asia/Jakarta
  language: ${language}
objectives:
  - id: customer-relationships
    name: Mempererat hubungan dengan pelanggan
    description: Lebih banyak percakapan dengan pelanggan; setiap komentar dibalas dalam dua jam.
    actions:
      - Ajukan pertanyaan di setiap keterangan unggahan dan balas semua komentar dalam dua jam.
      - Adakan sesi live "seduh bareng" setiap minggu dan sematkan di Halaman.
  - id: qualified-visitors
    name: Mendatangkan pengunjung berkualitas ke toko online
    actions:
      - Alihkan anggaran ke iklan dengan biaya per pembelian terendah.
strategy:
  networks:
    - network: facebook
      accounts:
        - id: kopi-nusantara
          name: Kopi Nusantara
          apiId: "104729384756102"
          tokenEnv: FB_PAGE_TOKEN
    - network: meta_ads
      accounts:
        - id: kopi-nusantara-ads
          name: Akun iklan Kopi Nusantara
          apiId: act_1000000000000001
          tokenEnv: META_ADS_TOKEN
          settings: { purchaseActionType: offsite_conversion.fb_pixel_purchase }
kpis:
  - id: fb-engagement-rate-month
    name: Interaksi per tayangan di Halaman utama bulan ini
    objective: customer-relationships
    network: facebook
    accounts: [kopi-nusantara]
    metric: engagements
    denominator: views
    kind: rate
    target: 3%
    period: month
  - id: fb-follower-growth-month
    name: Pengikut baru di Halaman utama bulan ini
    objective: customer-relationships
    network: facebook
    accounts: [kopi-nusantara]
    metric: followers
    kind: growth
    target: 1000
    period: month
  - id: ads-spend-month
    name: Belanja iklan Meta bulan ini
    objective: qualified-visitors
    network: meta_ads
    metric: spend
    kind: total
    comparator: at_most
    target: 25000000
    period: month
alerting:
  recipients: [tim-sosial@kopinusantara.example]
crisis:
  contacts:
    - name: Dewi Lestari
      role: Kepala Pemasaran
      email: dewi@kopinusantara.example
      phone: "+62 811 0000 001"
  steps:
    - Pastikan faktanya bersama kafe atau tim yang terlibat sebelum siapa pun mengunggah apa pun.
    - Hentikan sementara unggahan terjadwal dan iklan di akun yang terdampak.
  triggers:
    - id: facebook-follower-drop
      kind: follower_drop
      network: facebook
      dropPercent: 2
      windowHours: 24
`

/** December 2026 in Asia/Jakarta (UTC+7): 1 Dec 00:00 WIB to 1 Jan 00:00 WIB; judged on 8 Dec, 09:30 WIB. */
const MONTH = { start: new Date('2026-11-30T17:00:00Z'), end: new Date('2026-12-31T17:00:00Z'), label: '2026-12' }
const AT = new Date('2026-12-08T02:30:00Z')
const DAY_MS = 86_400_000

function rateEvaluation(plan: Plan, status: KpiEvaluation['status']): KpiEvaluation {
  const kpi = plan.kpis.find((k) => k.id === 'fb-engagement-rate-month')!
  return {
    kpi,
    evaluatedAt: AT,
    period: MONTH,
    actual: 0.0152,
    expectedToDate: 0.03,
    attainment: 0.5067,
    status,
    basis: 'pace',
    forecast: { end: 0.0168, low: 0.0141, high: 0.0195, recentPerDay: 0.0002, neededPerDay: 0.0006, gap: -0.44, steps: 7 },
    history: Array.from({ length: 8 }, (_, d) => ({ at: new Date(MONTH.start.getTime() + d * DAY_MS), value: 0.0138 + 0.0002 * d })),
  }
}

function spendEvaluation(plan: Plan): KpiEvaluation {
  const kpi = plan.kpis.find((k) => k.id === 'ads-spend-month')!
  return {
    kpi,
    evaluatedAt: AT,
    period: MONTH,
    actual: 9_850_000,
    expectedToDate: 5_645_161,
    attainment: 0.394,
    status: 'at_risk',
    basis: 'pace',
    currency: 'IDR',
    forecast: { end: 38_400_000, low: 35_100_000, high: 41_700_000, recentPerDay: 1_230_000, neededPerDay: 651_000, gap: 0.536, steps: 7 },
    history: Array.from({ length: 8 }, (_, d) => ({ at: new Date(MONTH.start.getTime() + d * DAY_MS), value: 1_230_000 * d })),
  }
}

function growthEvaluation(plan: Plan): KpiEvaluation {
  const kpi = plan.kpis.find((k) => k.id === 'fb-follower-growth-month')!
  return {
    kpi,
    evaluatedAt: AT,
    period: MONTH,
    actual: 142,
    expectedToDate: 242,
    attainment: 0.142,
    status: 'at_risk',
    basis: 'pace',
    baseline: 65_730,
    forecast: { end: 620, low: 540, high: 700, recentPerDay: 20.5, neededPerDay: 36.9, gap: -0.38, steps: 7 },
  }
}

const state = (key: string, label: string, since: Date): AlertState => ({ key, subjectKind: 'kpi', subjectId: key, status: 'firing', since, lastNotifiedAt: null, label, version: 1 })

/** The webhook's human fields (title, summary, actions): its machine fields are the facts' own, unchanged. */
const webhookText = (facts: AlertFacts) => [facts.summary, ...facts.actions].filter(Boolean).join('\n')

export function alertMessageSamples(language: string): MessageSample[] {
  const plan = parsePlanText(FIXTURE_PLAN(language), 'alerts/message-samples.ts')
  const speaker = planSpeaker(plan)
  const page = planAccounts(plan).find((a) => a.id === 'kopi-nusantara')!
  const ads = planAccounts(plan).find((a) => a.id === 'kopi-nusantara-ads')!
  const grafanaUrl = 'https://grafana.kopinusantara.example'
  const sample = (kind: string, email: RenderedEmail): MessageSample => ({ kind, subject: email.subject, text: email.text, html: email.html })
  const kpi = (event: AlertEvent, status: KpiEvaluation['status']) => renderKpiEmail(plan, rateEvaluation(plan, status), event, { grafanaUrl })

  const crisis: CrisisEvaluation = {
    trigger: plan.crisis!.triggers[0]!,
    evaluatedAt: AT,
    firing: true,
    accounts: [page],
    window: { from: new Date('2026-12-07T05:00:00Z'), to: new Date('2026-12-08T02:00:00Z') },
    reason: 'followers of Kopi Nusantara fell 6.4 %',
    findings: [{ account: page, from: new Date('2026-12-07T05:00:00Z'), to: new Date('2026-12-08T02:00:00Z'), value: 61_520, reference: 65_730, reason: '' }],
  }
  const crisisSince = new Date('2026-12-08T02:00:00Z')
  const crisisEmail = renderCrisisEmail(plan, crisis, 'firing', { accounts: [page], since: crisisSince, grafanaUrl })
  const rateFacts = kpiFacts(
    plan,
    rateEvaluation(plan, 'at_risk'),
    { key: 'kpi.fb-engagement-rate-month', event: 'firing', before: undefined, next: state('kpi.fb-engagement-rate-month', 'at_risk', AT), at: AT },
    { grafanaUrl },
  )
  const spendFacts = kpiFacts(
    plan,
    spendEvaluation(plan),
    { key: 'kpi.ads-spend-month', event: 'repeat', before: undefined, next: state('kpi.ads-spend-month', 'at_risk', AT), at: AT },
    { grafanaUrl },
  )
  const crisisFact = crisisFacts(
    plan,
    crisis,
    { key: 'crisis.facebook-follower-drop', event: 'firing', before: undefined, next: state('crisis.facebook-follower-drop', 'kopi-nusantara', crisisSince), at: AT },
    {
      subject: crisisEmail.subject,
      accounts: [page],
      grafanaUrl,
    },
  )
  const slack = (facts: AlertFacts) => {
    const message = renderSlackMessage(facts)
    const blocks = message.blocks.flatMap((block) => {
      const b = block as { text?: { text: string }; fields?: Array<{ text: string }>; elements?: Array<{ text: string }> }
      return [b.text?.text, ...(b.fields ?? []).map((f) => f.text), ...(b.elements ?? []).map((e) => e.text)].filter((t): t is string => Boolean(t))
    })
    return { subject: message.text, text: blocks.join('\n') }
  }

  return [
    sample('kpi-firing', kpi('firing', 'at_risk')),
    sample('kpi-repeat', kpi('repeat', 'at_risk')),
    sample('kpi-resolved', kpi('resolved', 'on_track')),
    sample('kpi-money', renderKpiEmail(plan, spendEvaluation(plan), 'firing', { grafanaUrl })),
    sample(
      'grouped',
      renderGroupEmail(
        plan,
        plan.company.name,
        [
          { evaluation: rateEvaluation(plan, 'missed'), event: 'firing' },
          { evaluation: spendEvaluation(plan), event: 'firing' },
          { evaluation: growthEvaluation(plan), event: 'repeat' },
          {
            evaluation: { ...rateEvaluation(plan, 'on_track'), kpi: { ...rateEvaluation(plan, 'on_track').kpi, id: 'fb-engagement-rate-bandung', name: 'Interaksi per tayangan di Halaman Bandung' } },
            event: 'resolved',
          },
        ],
        { grafanaUrl },
      ),
    ),
    sample('crisis', crisisEmail),
    sample('crisis-resolved', renderCrisisEmail(plan, { ...crisis, firing: false, window: null, findings: [], accounts: [] }, 'resolved', { accounts: [page], since: crisisSince, grafanaUrl })),
    sample(
      'source',
      renderSourceEmail(
        speaker,
        {
          network: 'facebook',
          accountId: page.id,
          accountName: page.name,
          errorCode: '190/463',
          error: 'Error validating access token: Session has expired.',
          advice: graphTokenAdvice(speaker, '190/463', 'FB_PAGE_TOKEN'),
          since: new Date('2026-12-08T01:15:00Z'),
          kpisWithoutVerdict: ['Interaksi per tayangan di Halaman utama bulan ini (fb-engagement-rate-month)'],
        },
        'firing',
        [{ network: 'meta_ads', accountId: ads.id, accountName: ads.name, problem: { status: 'degraded', code: '' } }],
      ),
    ),
    sample('source-resolved', renderSourceEmail(speaker, { network: 'facebook', accountId: page.id, accountName: page.name, errorCode: '', error: '', advice: '', since: AT }, 'resolved')),
    sample(
      'degraded',
      renderDegradedEmail(
        speaker,
        {
          network: 'meta_ads',
          accountId: ads.id,
          accountName: ads.name,
          metrics: ['spend', 'conversions'],
          kpis: ['Belanja iklan Meta bulan ini (ads-spend-month)'],
          detail: 'insights refused (#200): the token lacks ads_read — grant ads_read and store the new token in META_ADS_TOKEN',
          since: new Date('2026-12-07T23:00:00Z'),
        },
        'firing',
      ),
    ),
    sample(
      'credential',
      renderCredentialExpiryEmail(
        speaker,
        { account: { network: page.network, id: page.id, name: page.name }, what: 'access token', endsAt: new Date('2026-12-15T02:30:00Z') },
        'firing',
        AT,
        credentialAdvice(speaker, page, 'expiring_access_token'),
      ),
    ),
    sample(
      'freshness',
      renderFreshnessEmail(
        speaker,
        {
          network: 'facebook',
          accountId: page.id,
          accountName: page.name,
          lastSuccessAt: new Date('2026-12-07T20:00:00Z'),
          staleAfterMs: 180 * 60_000,
          lastError: 'RATE_LIMITED: (#4) Application request limit reached',
          quotaResetsAt: new Date('2026-12-08T03:00:00Z'),
          since: new Date('2026-12-07T23:00:00Z'),
          kpisWithoutVerdict: ['Interaksi per tayangan di Halaman utama bulan ini (fb-engagement-rate-month)'],
        },
        'firing',
      ),
    ),
    { kind: 'slack-kpi', ...slack(rateFacts) },
    { kind: 'slack-money', ...slack(spendFacts) },
    { kind: 'slack-crisis', ...slack(crisisFact) },
    { kind: 'webhook-kpi', subject: rateFacts.title, text: webhookText(rateFacts) },
    { kind: 'webhook-crisis', subject: crisisFact.title, text: webhookText(crisisFact) },
  ]
}
