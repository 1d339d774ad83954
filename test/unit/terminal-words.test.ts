import { describe, expect, it } from 'vitest'
import { formatReplay, type ReplayResult } from '../../alerts/replay.ts'
import { formatKpiTable } from '../../cli/kpi-table.ts'
import { formatSilence, paceNeeded, roundLine, statusPage } from '../../cli/status.ts'
import { SAMPLE_NOW, sampleEvaluations, samplePlan, sampleStatusData, terminalSamples } from '../../cli/terminal-samples.ts'
import { ENGLISH_ON_UTC, MessageError } from '../../core/i18n/index.ts'
import { planSpeaker } from '../../plan/plan.ts'

// What the terminal prints, in Indonesian for a company in Jakarta: the KPI table after a round and
// the `social-kpi status` page, from the same fixed rows the docs' samples use.

/** English a person would notice in an Indonesian terminal: status words, UTC times, sentence words. */
const ENGLISH_WORDS = [
  'on track',
  'at risk',
  'no verdict',
  'achieved',
  'missed',
  'no data',
  'UTC',
  'Round ',
  'Rounds',
  'Open alerts',
  'Silences',
  'Sources',
  'since',
  'until',
  'healthy',
  'throttled',
  'accounts',
  'collected',
  'pending',
  'evaluated',
  'incomplete data',
  'too early',
  'final verdict',
  'needs',
  'ACTUAL',
  'EXPECTED',
  'ATTAIN',
  'PERIOD',
  'HEALTH',
  'LAST SUCCESS',
  'IDR',
]

/** The words as words (`PERIOD`, not the `PERIODE` of Indonesian). */
const englishWord = (words: string) => new RegExp(`\\b${words.trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`)

describe('the terminal in Indonesian (Asia/Jakarta)', () => {
  const samples = Object.fromEntries(terminalSamples('id').map((s) => [s.kind, s.text]))

  it('renders the KPI table and the status page without a missing message', () => {
    // A missing key throws MessageError: rendering at all is the check; both samples are there.
    expect(Object.keys(samples).sort()).toEqual(['kpi-table', 'status'])
    expect(() => terminalSamples('id')).not.toThrow(MessageError)
  })

  it.each(['kpi-table', 'status'])('%s: no English word', (kind) => {
    const text = samples[kind]!
    for (const words of ENGLISH_WORDS) expect(text, `"${words}" in the Indonesian ${kind}`).not.toMatch(englishWord(words))
  })

  it('KPI table: Indonesian headers and status words, a rate as a percentage, money in rupiah', () => {
    const [header, rate, money, early, unknown] = samples['kpi-table']!.split('\n')
    expect(header).toMatch(/^KPI\s+STATUS\s+AKTUAL\s+TARGET\s+SEHARUSNYA SAAT INI\s+CAPAIAN\s+PERIODE$/)
    expect(rate).toMatch(/^fb-engagement-rate\s+berisiko\s+1,52%\s+≥ 3%\s+3%\s+51%/)
    expect(money).toMatch(/^ads-spend-month\s+sesuai jalur\s+Rp\s18\.250\.000\s+≤ Rp\s45\.000\.000\s+Rp\s21\.774\.194\s+41%/)
    expect(early).toMatch(/^ig-followers\s+sesuai jalur \(terlalu dini untuk dinilai\)\s+23\.480\s+≥ 25\.000/)
    expect(unknown).toMatch(/^tiktok-views-week\s+tidak dapat dinilai \(data tidak lengkap: kopi-nusantara-tiktok\)\s+—\s+≥ 120\.000/)
  })

  it('status page: every time in WIB, the plan zone named, the sections in Indonesian', () => {
    const text = samples.status!
    // 8 Dec 2026 02:30 UTC is 09.30 in Jakarta
    expect(text).toContain('KPI (penilaian terakhir: 8 Des 2026, 09.30 WIB)')
    expect(text).toContain('kpi.fb-engagement-rate (berisiko) sejak 5 Des 2026, 09.30 WIB')
    expect(text).toMatch(/\n {2}8 Des 2026, 08\.30 WIB {2}\[social-kpi\] KPI fb-engagement-rate: berisiko — percobaan habis/)
    expect(text).toMatch(/\n {2}sil-4f2a9c1e {2}aktif\s+akun kopi-nusantara-tiktok sampai 11 Des 2026, 00\.00 WIB — migrasi akun TikTok \(oleh dewi\)/)
    expect(text).toContain('8 Des 2026, 09.30 WIB  4 akun: 3 berhasil dikumpulkan; dinilai saat batas waktunya, 1 belum selesai: tiktok/kopi-nusantara-tiktok')
    expect(text).toMatch(/tiktok\/kopi-nusantara-tiktok\s+dibatasi\s+7 Des 2026, 21\.15 WIB\s+RATE_LIMITED; kuota pulih 8 Des 2026, 10\.00 WIB/)
    expect(text).toMatch(/\nfb-engagement-rate\s+berisiko\s+█████░░░░░\s+51%\s+1,52%\s+≥ 3%\s+3%/)
    expect(text).toMatch(/\nig-followers\s+sesuai jalur \(di belakang laju, prakiraan mencapai target\)/)
    for (const heading of ['Peringatan aktif:', 'Email peringatan yang tidak terkirim:', 'Jeda peringatan:', 'Putaran:', 'Sumber data:']) expect(text).toContain(`\n${heading}`)
  })

  it('says "none" in Indonesian, and the pace needed per day', () => {
    const speaker = planSpeaker(samplePlan('id'))
    const empty = statusPage({ kpis: [], alerts: [], sources: [], undelivered: [], silences: [], rounds: [] }, { color: false, now: SAMPLE_NOW, speaker })
    expect(empty).toContain('Belum ada KPI yang dinilai')
    expect(empty).toContain('Peringatan aktif: tidak ada')
    expect(empty).toContain('Jeda peringatan: tidak ada')
    expect(empty).toContain('Putaran: belum ada yang dinilai')
    for (const words of ENGLISH_WORDS) expect(empty).not.toMatch(englishWord(words))
    const row = { ...sampleStatusData(speaker).kpis[3]!, status: 'at_risk', actual: 40_000 }
    // 80,000 to go over the 5 days 17 hours left of the week; 40,000 over the 1 day 9.5 hours done
    expect(paceNeeded(row, speaker)).toMatch(/^perlu \+\d{2}\.\d{3}\/hari, sejauh ini \+\d{2}\.\d{3}\/hari$/)
    expect(paceNeeded({ ...row, status: 'achieved' }, speaker)).toBe('target tercapai')
  })
})

describe('the terminal in English keeps its words, in the plan zone', () => {
  it('the same rows in English', () => {
    const [table, status] = terminalSamples('en').map((s) => s.text)
    expect(table).toMatch(/\nfb-engagement-rate\s+at risk\s+1\.52%\s+≥ 3%/)
    expect(table).toMatch(/\nads-spend-month\s+on track\s+IDR\s18,250,000\s+≤ IDR\s45,000,000/)
    expect(table).toMatch(/\ntiktok-views-week\s+no verdict \(incomplete data: kopi-nusantara-tiktok\)/)
    expect(status).toContain('KPIs (latest evaluation: 8 Dec 2026, 09:30 GMT+7)')
    expect(status).toContain('Open alerts:\n  kpi.fb-engagement-rate (at risk) since 5 Dec 2026, 09:30 GMT+7')
  })

  it('without a plan: English on UTC, the zone named', () => {
    const plan = samplePlan('en')
    const [round] = sampleStatusData(ENGLISH_ON_UTC).rounds
    expect(roundLine(round!, ENGLISH_ON_UTC)).toBe(
      '8 Dec 2026, 02:30 UTC  4 accounts: 3 collected; evaluated at its deadline, 1 pending: tiktok/kopi-nusantara-tiktok (1 held back by a throttle, one job each)',
    )
    const [silence] = sampleStatusData(ENGLISH_ON_UTC).silences
    expect(formatSilence(silence!, SAMPLE_NOW, ENGLISH_ON_UTC)).toBe('sil-4f2a9c1e  active   account kopi-nusantara-tiktok until 10 Dec 2026, 17:00 UTC — migrasi akun TikTok (by dewi)')
    expect(formatKpiTable(sampleEvaluations(plan), { color: false, speaker: ENGLISH_ON_UTC })).toMatch(/30 Nov 2026, 17:00\s–\s31 Dec 2026, 17:00 UTC/)
  })
})

describe('the rule preview (evaluate --from --to) in Indonesian', () => {
  const plan = samplePlan('id')
  const day = 86_400_000
  const from = new Date('2026-11-30T17:00:00Z')
  const result: ReplayResult = {
    from,
    to: new Date(from.getTime() + 8 * day),
    stepMs: day,
    steps: 8,
    events: [
      {
        at: new Date(from.getTime() + 2 * day),
        key: 'kpi.fb-engagement-rate',
        subjectKind: 'kpi',
        subjectId: 'fb-engagement-rate',
        event: 'firing',
        label: 'at_risk',
        detail: 'berisiko: aktual 1,52%, seharusnya 3%, target ≥ 3%',
      },
      { at: new Date(from.getTime() + 6 * day), key: 'kpi.fb-engagement-rate', subjectKind: 'kpi', subjectId: 'fb-engagement-rate', event: 'resolved', label: 'ok', detail: '' },
    ],
    summary: [
      {
        key: 'kpi.fb-engagement-rate',
        subjectKind: 'kpi',
        subjectId: 'fb-engagement-rate',
        name: 'Engagement rate',
        fired: 1,
        resolved: 1,
        repeats: 2,
        held: 0,
        noVerdict: { incomplete: 3 },
        dataProblems: {},
        firingMs: 4 * day,
        openAtEnd: false,
      },
    ],
  }

  it('says it all in Indonesian, times in WIB', () => {
    const text = formatReplay(result, plan, { color: false })
    expect(text).toMatch(/^Simulasi 1 Des 2026, 00\.00 WIB → 9 Des 2026, 00\.00 WIB, langkah 1 hari: 8 penilaian atas 4 KPI dan 0 pemicu krisis\./)
    expect(text).toMatch(/\n {2}3 Des 2026, 00\.00 WIB {2}MENYALA {2}kpi\.fb-engagement-rate {2}berisiko: aktual 1,52%/)
    expect(text).toMatch(/\n {2}7 Des 2026, 00\.00 WIB {2}PULIH {4}kpi\.fb-engagement-rate\n/)
    expect(text).toMatch(/kpi\.fb-engagement-rate\s+1\s+1\s+2\s+0\s+3 \(3 data tidak lengkap\)\s+4 hari/)
    expect(text).toContain('1 peringatan menyala, 1 pemberitahuan pulih, dan 2 pengingat akan terkirim.')
    for (const words of [...ENGLISH_WORDS, 'Replay', 'FIRING', 'RESOLVED', 'Summary', 'Timeline', 'reminders', 'would have']) expect(text).not.toMatch(englishWord(words))
  })
})
