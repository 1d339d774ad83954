import { describe, expect, it } from 'vitest'
import { alertMessageSamples } from '../../alerts/message-samples.ts'
import { CATALOGUES } from '../../core/i18n/index.ts'

/**
 * Every alert message a person reads (each email kind, the Slack text, the webhook's human
 * fields), rendered for an Indonesian company in Asia/Jakarta: Indonesian words, values in their
 * unit, times in WIB, and none of the English status words left in.
 */
const samples = alertMessageSamples('id')
/** Intl's no-break and thin spaces ("Rp\u00a09.850.000", "1\u2009–\u200931 Dec") as plain ones, for readable expectations. */
const plain = (text: string) => text.replace(/[\u00a0\u2009\u202f]/g, ' ')
const byKind = new Map(samples.map((s) => [s.kind, plain(`${s.subject}\n${s.text}`)]))
const said = (kind: string) => {
  const text = byKind.get(kind)
  if (text === undefined) throw new Error(`no sample of kind ${kind}`)
  return text
}

/**
 * English words that must not reach an Indonesian reader (the collectors' own advice, the APIs'
 * errors and the plan's ids, such as the metric `followers` on the Network line, aside).
 */
const ENGLISH = [
  'at risk',
  'on track',
  'RESOLVED',
  'ACTION NEEDED',
  'STALE DATA',
  'DEGRADED',
  'CRISIS',
  'no verdict',
  'Since',
  'What to do',
  'What the plan says to do',
  'On course',
  'Dashboard',
  'Objective',
  'Expected',
  'Actual',
  'Period',
  'Forecast',
  '/day',
  'elapsed',
  'Evaluated at',
  'Still open',
  'Open on the dashboard',
  'gained',
  'GMT+7',
]

describe('alert messages in Bahasa Indonesia', () => {
  it('renders every email kind, the Slack texts and the webhook texts', () => {
    expect(samples.map((s) => s.kind)).toEqual([
      'kpi-firing',
      'kpi-repeat',
      'kpi-resolved',
      'kpi-money',
      'grouped',
      'crisis',
      'crisis-resolved',
      'source',
      'source-resolved',
      'degraded',
      'credential',
      'freshness',
      'slack-kpi',
      'slack-money',
      'slack-crisis',
      'webhook-kpi',
      'webhook-crisis',
    ])
    for (const sample of samples) expect(sample.subject.length, sample.kind).toBeGreaterThan(0)
  })

  it.each(samples.map((s) => [s.kind, s] as const))('%s has no English status word or label', (_kind, sample) => {
    const text = `${sample.subject}\n${sample.text}`
    // a whole word ("Period", not the "Periode" it starts)
    for (const word of ENGLISH) expect(text, `${sample.kind}: "${word}"`).not.toMatch(new RegExp(`(?<![A-Za-z])${word.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(?![A-Za-z])`))
  })

  it.each(samples.filter((s) => s.html).map((s) => [s.kind, s] as const))('%s has no English in its HTML either', (_kind, sample) => {
    // the words a reader sees in the HTML part: its text, and the chart's alt text
    const html = sample.html!
    const seen = plain(`${html.replace(/<[^>]*>/g, '\n')}\n${[...html.matchAll(/alt="([^"]*)"/g)].map((m) => m[1]).join('\n')}`)
    for (const word of [...ENGLISH, 'Open the KPI on the dashboard', 'Chart', 'Steps of the crisis guide', 'Crisis contacts']) {
      expect(seen, `${sample.kind}: "${word}"`).not.toMatch(new RegExp(`(?<![A-Za-z])${word.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(?![A-Za-z])`))
    }
  })

  it('gives the KPI email’s HTML its Indonesian headings, link text and chart description', () => {
    const html = samples.find((s) => s.kind === 'kpi-money')!.html!
    expect(html).toContain('<h3>Yang perlu dilakukan menurut rencana</h3>')
    expect(html).toContain('>Buka KPI ini di dasbor</a>')
    expect(html).toContain('alt="Grafik: realisasi dibanding target, garis laju dan prakiraan"')
    expect(samples.find((s) => s.kind === 'grouped')!.html).toContain('<h4>Yang perlu dilakukan menurut rencana</h4>')
    expect(samples.find((s) => s.kind === 'crisis')!.html).toContain('<h3>Langkah panduan krisis, berurutan</h3>')
  })

  it('says the KPI email in the glossary’s words, a rate as a percentage with a decimal comma', () => {
    const firing = said('kpi-firing')
    expect(firing).toContain('[social-kpi] BERISIKO: Interaksi per tayangan di Halaman utama bulan ini — 1,52% dari 3%')
    expect(firing).toContain('Diprakirakan menutup Desember di angka 1,68%, 44% di bawah target 3%; perlu +0,06%/hari mulai sekarang, laju terakhir +0,02%/hari.')
    expect(firing).toContain('Status: berisiko')
    expect(firing).toContain('Realisasi: 1,52%')
    expect(firing).toContain('Target: minimal 3%')
    expect(firing).toContain('Prakiraan akhir periode: 1,68% (rentang 80% 1,41% – 1,95%, dari 7 hari terakhir)')
    expect(firing).toContain('Dinilai pada: 8 Des 2026, 09.30 WIB')
    expect(firing).toContain('Yang perlu dilakukan menurut rencana:')
    expect(said('kpi-repeat')).toMatch(/^\[social-kpi\] MASIH BERISIKO: /)
    expect(said('kpi-resolved')).toMatch(/^\[social-kpi\] PULIH: /)
    expect(said('kpi-resolved')).toContain('Status: sesuai jalur')
  })

  it('shows money in rupiah, never converted', () => {
    const money = said('kpi-money')
    expect(money).toContain('[social-kpi] BERISIKO: Belanja iklan Meta bulan ini — Rp 9.850.000 dari Rp 25.000.000, diprakirakan Rp 38.400.000 (54% di atas batas)')
    expect(money).toContain('Target: maksimal Rp 25.000.000')
    expect(money).toContain('Boleh mulai sekarang: +Rp 651.000/hari')
    expect(said('slack-money')).toContain('Rp 9.850.000')
  })

  it('counts the grouped email’s alerts in Indonesian', () => {
    const grouped = said('grouped')
    expect(grouped).toMatch(/^\[social-kpi\] Kopi Nusantara: 1 tidak tercapai, 2 berisiko, 1 pulih \(4 KPI\)/)
    expect(grouped).toContain('4 peringatan KPI untuk Kopi Nusantara:')
    // a count says what it counts, in Indonesian
    expect(grouped).toContain('MASIH BERISIKO: Pengikut baru di Halaman utama bulan ini — 142 dari 1.000, diprakirakan 620 (38% di bawah target)')
    expect(grouped).toContain('Diprakirakan menutup Desember di angka 620 tambahan pengikut, 38% di bawah target 1.000; perlu +37/hari mulai sekarang, laju terakhir +21/hari.')
  })

  it('says the crisis, source, degraded, credential and freshness emails in Indonesian, times in WIB', () => {
    expect(said('crisis')).toContain('[social-kpi] KRISIS: Kopi Nusantara — pengikut turun lebih dari 2% dalam 24 jam')
    expect(said('crisis')).toContain('Yang terjadi: pengikut Kopi Nusantara turun 6,4% (65.730 → 61.520) antara 7 Des 2026, 12.00 WIB dan 8 Des 2026, 09.00 WIB')
    expect(said('crisis-resolved')).toMatch(/^\[social-kpi\] KRISIS PULIH: /)
    expect(said('source')).toMatch(/^\[social-kpi\] PERLU TINDAKAN: data akun facebook "Kopi Nusantara" tidak bisa diambil \(190\/463\)/)
    expect(said('source')).toContain('Sejak: 8 Des 2026, 08.15 WIB')
    expect(said('source')).toContain('Akun iklan Kopi Nusantara (meta_ads/kopi-nusantara-ads): sebagian metrik tidak tersedia')
    expect(said('source-resolved')).toMatch(/^\[social-kpi\] PULIH: /)
    expect(said('degraded')).toMatch(/^\[social-kpi\] TERGANGGU: akun meta_ads "Akun iklan Kopi Nusantara" tidak memberikan spend dan conversions/)
    expect(said('credential')).toContain('[social-kpi] PERLU TINDAKAN: token akses akun facebook "Kopi Nusantara" berakhir dalam 7 hari')
    expect(said('credential')).toContain('Berakhir: 15 Des 2026, 09.30 WIB')
    expect(said('freshness')).toContain('[social-kpi] DATA USANG: data akun facebook "Kopi Nusantara" belum diambil lagi sejak 8 Des 2026, 03.00 WIB')
    expect(said('freshness')).toContain('Kuota API: habis; API menerima panggilan lagi mulai 8 Des 2026, 10.00 WIB')
    for (const kind of ['kpi-firing', 'grouped', 'crisis', 'crisis-resolved', 'source', 'source-resolved', 'degraded', 'credential', 'freshness', 'slack-kpi', 'slack-crisis']) {
      expect(said(kind), kind).toContain('WIB')
    }
  })

  it('says the Slack and webhook texts in Indonesian', () => {
    const slack = said('slack-kpi')
    expect(slack).toContain('*Realisasi*\n1,52%')
    expect(slack).toContain('*Target*\n≥ 3%')
    expect(slack).toContain('*Pencapaian*\n51%')
    expect(slack).toContain('Buka di dasbor')
    expect(slack).toContain('8 Des 2026, 09.30 WIB')
    expect(said('slack-money')).toMatch(/^:large_orange_circle: MASIH BERISIKO: /)
    expect(said('slack-crisis')).toContain('*Langkah panduan krisis*')
    expect(said('webhook-kpi')).toContain('Diprakirakan menutup Desember di angka 1,68%')
    expect(said('webhook-crisis')).toContain('pengikut Kopi Nusantara turun 6,4%')
  })
})

describe('the same messages in English', () => {
  const english = new Map(alertMessageSamples('en').map((s) => [s.kind, plain(`${s.subject}\n${s.text}`)]))

  it('says a rate as a percentage, money with its currency, times in the plan’s zone', () => {
    expect(english.get('kpi-firing')).toContain('[social-kpi] AT RISK: Interaksi per tayangan di Halaman utama bulan ini — 1.52% of 3%')
    expect(english.get('kpi-firing')).toContain('Period: 2026-12: 1 – 31 Dec 2026 (24% elapsed)')
    expect(english.get('kpi-money')).toContain('Actual: IDR 9,850,000')
    expect(english.get('freshness')).toContain('[social-kpi] STALE DATA: ')
    expect(english.get('source')).toContain('Since: 8 Dec 2026, 08:15 GMT+7')
  })
})

describe('the alert words of each language', () => {
  it('has every email and channel key in every language', () => {
    const keys = (code: string) => [...CATALOGUES.get(code)!.messages.keys()].filter((key) => key.startsWith('email.') || key.startsWith('channel.')).sort()
    expect(keys('id')).toEqual(keys('en'))
  })
})
