import { speaker } from '../core/i18n/index.ts'
const ENGLISH = speaker('en', 'UTC')
import { DateTime } from 'luxon'
import type { ReviewKind, ReviewLanguage } from '../plan/plan.ts'
import { isKpiStatus, reasonWords, STATUS_REASONS, statusWords, type StatusReason } from '../kpi/statuses.ts'

/**
 * The fixed words of a period review, in the plan's language (`review.language`): English and
 * Bahasa Indonesia. The plan's own texts (objective names, actions) are shown as written.
 * Adding a language is one more entry of WORDS. English says a status, and why there is no
 * verdict, as everything else does (kpi/statuses.ts).
 */
export interface ReviewWords {
  /** For numbers and dates (Intl / luxon). */
  locale: string
  subject(period: string, summary: string): string
  title(period: string): string
  summary(s: { objectivesMet: number; objectives: number; achieved: number; kpis: number; missed: number; unknown: number }): string
  furthest(kpi: string, shortBy: string, comparator: 'at_least' | 'at_most'): string
  provisional(until: string): string
  status: Record<'achieved' | 'missed' | 'unknown', string>
  /** Why there is no verdict (kpi/statuses.ts STATUS_REASONS), in a few words. */
  reason: Record<StatusReason, string>
  objectiveMet: Record<'met' | 'notMet' | 'uncertain', string>
  columns: { kpi: string; verdict: string; actual: string; target: string; attainment: string; previous: string }
  comparator: Record<'at_least' | 'at_most', string>
  change(delta: string, share: string | null, previous: string): string
  noPrevious: string
  noData: string
  perDay: string
  /** `origin` is the KPI kind's (kpi/kinds/): `start`, a level, whose per day is the change it needs either way; `zero`, an amount. */
  nextNeeds(n: { next: string; perDay: string | null; target: string; comparator: 'at_least' | 'at_most'; origin: 'start' | 'zero'; thisPerDay: string | null }): string
  trend(from: string[], value: string): string
  noTrend: string
  planActions: string
  whatNext: string
  sections: { objectives: string; posts: string; alerts: string; silences: string; certainty: string }
  posts(network: string, metric: string, counted: number, total: string): string
  top: string
  flat: string
  post(id: string, account: string, gained: string, created: string | null): string
  noPosts: string
  alert(kind: 'kpi' | 'crisis' | 'source' | 'freshness', subject: string, label: string): string
  fired(at: string, resolved: string | null): string
  silenced: string
  noAlerts: string
  silence(what: string, from: string, until: string, reason: string, by: string): string
  noSilences: string
  gap(account: string, metric: string, days: string, missing: number, total: number, kpis: string): string
  /** A counter metric whose posts were not read at all in the period. */
  unreadPosts(account: string, metric: string, kpis: string): string
  /** Between a number and its target: 6,480 of at least 9,000. */
  of: string
  noGaps: string
  certaintyNote: string
  builtFrom(knownAt: string): string
  judgedNote: string
  chartAlt(objective: string): string
  legend: { pace: string; target: string }
  period(kind: ReviewKind, start: Date, end: Date, zone: string): string
  csvAttachment: string
}

const range = (start: Date, end: Date, zone: string, locale: string) => {
  const first = DateTime.fromJSDate(start, { zone }).setLocale(locale)
  const last = DateTime.fromJSDate(end, { zone }).setLocale(locale).minus({ days: 1 })
  return `${first.toFormat('d LLL')} – ${last.toFormat('d LLL yyyy')}`
}

const en: ReviewWords = {
  locale: 'en-US',
  subject: (period, summary) => `[social-kpi] Review of ${period}: ${summary}`,
  title: (period) => `Review of ${period}`,
  summary: (s) =>
    `${s.objectivesMet} of ${s.objectives} objectives met; ${s.achieved} of ${s.kpis} KPIs achieved${s.missed ? `, ${s.missed} missed` : ''}${s.unknown ? `, ${s.unknown} without a verdict` : ''}`,
  furthest: (kpi, shortBy, comparator) => (comparator === 'at_least' ? `Furthest off: ${kpi}, ${shortBy} short of its target.` : `Furthest off: ${kpi}, ${shortBy} over its limit.`),
  provisional: (until) => `Provisional: late data may still change these verdicts until ${until}.`,
  status: { achieved: statusWords(ENGLISH, 'achieved'), missed: statusWords(ENGLISH, 'missed'), unknown: statusWords(ENGLISH, 'unknown') },
  reason: Object.fromEntries(STATUS_REASONS.map((reason) => [reason, reasonWords(ENGLISH, reason)])) as Record<StatusReason, string>,
  objectiveMet: { met: 'met', notMet: 'not met', uncertain: 'not certain (some KPIs have no verdict)' },
  columns: { kpi: 'KPI', verdict: 'Verdict', actual: 'Actual', target: 'Target', attainment: 'Attainment', previous: 'vs previous period' },
  comparator: { at_least: 'at least', at_most: 'at most' },
  change: (delta, share, previous) => `${delta}${share ? ` (${share})` : ''} vs ${previous}`,
  noPrevious: 'no earlier data',
  noData: 'no data',
  perDay: '/day',
  nextNeeds: (n) =>
    n.perDay === null
      ? `${n.next} needs ${n.comparator === 'at_least' ? 'at least' : 'at most'} ${n.target}.`
      : n.origin === 'start'
        ? `${n.next} needs ${n.perDay}/day to reach ${n.target}${n.thisPerDay ? ` (this period: ${n.thisPerDay}/day)` : ''}.`
        : n.comparator === 'at_least'
          ? `${n.next} needs ${n.perDay}/day to reach ${n.target}${n.thisPerDay ? ` (this period: ${n.thisPerDay}/day)` : ''}.`
          : `${n.next} allows at most ${n.perDay}/day to stay within ${n.target}${n.thisPerDay ? ` (this period: ${n.thisPerDay}/day)` : ''}.`,
  trend: (from, value) => `The trend of ${from.join(', ')} supports a target of ${value}.`,
  noTrend: 'Too few periods with data for a trend.',
  planActions: 'What the plan says to do',
  whatNext: 'For the next period',
  sections: { objectives: 'Objectives', posts: 'Posts that carried the period, and posts that fell flat', alerts: 'Alerts and crises', silences: 'Silences', certainty: 'How certain the numbers are' },
  posts: (network, metric, counted, total) => `${network} · ${metric}: ${total} from ${counted} posts`,
  top: 'Carried the period',
  flat: 'Fell flat (published in the period)',
  post: (id, account, gained, created) => `${id} (${account}${created ? `, published ${created}` : ''}): ${gained}`,
  noPosts: 'No per-post counts stored for this period.',
  alert: (kind, subject, label) =>
    ({
      kpi: `KPI ${subject}: ${isKpiStatus(label) ? statusWords(ENGLISH, label) : label.replace('_', ' ')}`,
      crisis: `Crisis ${subject} (accounts: ${label})`,
      source: `Source ${subject}: token or permissions refused`,
      freshness: `Source ${subject}: data stopped arriving`,
    })[kind],
  fired: (at, resolved) => `from ${at} ${resolved ? `to ${resolved}` : '(still open)'}`,
  silenced: 'silenced: no email was sent',
  noAlerts: 'No alert fired in this period.',
  silence: (what, from, until, reason, by) => `${what}, ${from} – ${until}: ${reason}${by ? ` (by ${by})` : ''}`,
  noSilences: 'No silence was in force.',
  gap: (account, metric, days, missing, total, kpis) =>
    `${account}, ${metric}: no reading on ${days} (${missing} of ${total} days); ${kpis} ${missing === total ? 'rests on no data from it' : 'is less certain'}.`,
  noGaps: 'Every account the KPIs read has readings on every day of the period.',
  unreadPosts: (account, metric, kpis) =>
    `${account}, ${metric}: its posts were not read during the period; they count with what they had when first read after it, so ${kpis} may include what they gained after the period ended.`,
  of: 'of',
  certaintyNote: 'A day without a reading is a gap, not zero: the numbers that depend on it may be lower than what happened.',
  builtFrom: (knownAt) => `Built from everything stored up to ${knownAt}.`,
  judgedNote: '* judged from the stored data for this review (no final verdict was stored for that period)',
  chartAlt: (objective) => `Chart: progress of the KPIs of ${objective} towards their targets over the period, against the pace`,
  legend: { pace: 'pace', target: 'target' },
  period: (kind, start, end, zone) => {
    const s = DateTime.fromJSDate(start, { zone }).setLocale('en-US')
    switch (kind) {
      case 'month':
        return s.toFormat('LLLL yyyy')
      case 'quarter':
        return `Q${s.quarter} ${s.year}`
      case 'year':
        return String(s.year)
      case 'week':
        return `the week of ${range(start, end, zone, 'en-US')}`
    }
  },
  csvAttachment: 'The KPI table is attached as CSV (one row per KPI).',
}

const id: ReviewWords = {
  locale: 'id-ID',
  subject: (period, summary) => `[social-kpi] Tinjauan ${period}: ${summary}`,
  title: (period) => `Tinjauan ${period}`,
  summary: (s) =>
    `${s.objectivesMet} dari ${s.objectives} tujuan tercapai; ${s.achieved} dari ${s.kpis} KPI tercapai${s.missed ? `, ${s.missed} tidak tercapai` : ''}${s.unknown ? `, ${s.unknown} tidak dapat dinilai` : ''}`,
  furthest: (kpi, shortBy, comparator) =>
    comparator === 'at_least' ? `Paling jauh dari target: ${kpi}, kurang ${shortBy} dari targetnya.` : `Paling jauh dari target: ${kpi}, melebihi batasnya ${shortBy}.`,
  provisional: (until) => `Sementara: data yang terlambat masih dapat mengubah hasil ini sampai ${until}.`,
  status: { achieved: 'tercapai', missed: 'tidak tercapai', unknown: 'tidak dapat dinilai' },
  reason: {
    no_data: 'tanpa data',
    incomplete: 'data tidak lengkap',
    data_problem: 'masalah data',
    no_history: 'tanpa angka awal',
    too_early: 'terlalu dini',
  },
  objectiveMet: { met: 'tercapai', notMet: 'tidak tercapai', uncertain: 'belum pasti (sebagian KPI tidak dapat dinilai)' },
  columns: { kpi: 'KPI', verdict: 'Hasil', actual: 'Aktual', target: 'Target', attainment: 'Capaian', previous: 'dibanding periode sebelumnya' },
  comparator: { at_least: 'minimal', at_most: 'maksimal' },
  change: (delta, share, previous) => `${delta}${share ? ` (${share})` : ''} dibanding ${previous}`,
  noPrevious: 'tidak ada data sebelumnya',
  noData: 'tanpa data',
  perDay: '/hari',
  nextNeeds: (n) =>
    n.perDay === null
      ? `${n.next} membutuhkan ${n.comparator === 'at_least' ? 'minimal' : 'maksimal'} ${n.target}.`
      : n.comparator === 'at_least' || n.origin === 'start'
        ? `${n.next} membutuhkan ${n.perDay}/hari untuk mencapai ${n.target}${n.thisPerDay ? ` (periode ini: ${n.thisPerDay}/hari)` : ''}.`
        : `${n.next} hanya boleh ${n.perDay}/hari agar tetap di bawah ${n.target}${n.thisPerDay ? ` (periode ini: ${n.thisPerDay}/hari)` : ''}.`,
  trend: (from, value) => `Tren ${from.join(', ')} mendukung target ${value}.`,
  noTrend: 'Terlalu sedikit periode dengan data untuk melihat tren.',
  planActions: 'Yang disarankan rencana',
  whatNext: 'Untuk periode berikutnya',
  sections: {
    objectives: 'Tujuan',
    posts: 'Unggahan yang mendorong hasil, dan yang kurang berhasil',
    alerts: 'Peringatan dan krisis',
    silences: 'Jeda peringatan',
    certainty: 'Seberapa pasti angkanya',
  },
  posts: (network, metric, counted, total) => `${network} · ${metric}: ${total} dari ${counted} unggahan`,
  top: 'Mendorong hasil',
  flat: 'Kurang berhasil (diunggah dalam periode ini)',
  post: (postId, account, gained, created) => `${postId} (${account}${created ? `, diunggah ${created}` : ''}): ${gained}`,
  noPosts: 'Tidak ada angka per unggahan yang tersimpan untuk periode ini.',
  alert: (kind, subject, label) =>
    ({
      kpi: `KPI ${subject}: ${label === 'missed' ? 'tidak tercapai' : label === 'at_risk' ? 'berisiko' : label}`,
      crisis: `Krisis ${subject} (akun: ${label})`,
      source: `Sumber ${subject}: token atau izin ditolak`,
      freshness: `Sumber ${subject}: data berhenti masuk`,
    })[kind],
  fired: (at, resolved) => `dari ${at} ${resolved ? `sampai ${resolved}` : '(masih aktif)'}`,
  silenced: 'dijeda: tidak ada email yang dikirim',
  noAlerts: 'Tidak ada peringatan dalam periode ini.',
  silence: (what, from, until, reason, by) => `${what}, ${from} – ${until}: ${reason}${by ? ` (oleh ${by})` : ''}`,
  noSilences: 'Tidak ada jeda peringatan.',
  gap: (account, metric, days, missing, total, kpis) =>
    `${account}, ${metric}: tidak ada data pada ${days} (${missing} dari ${total} hari); ${kpis} ${missing === total ? 'tidak punya data darinya' : 'kurang pasti'}.`,
  noGaps: 'Setiap akun yang dibaca KPI punya data pada setiap hari dalam periode ini.',
  unreadPosts: (account, metric, kpis) =>
    `${account}, ${metric}: unggahannya tidak dibaca selama periode ini; unggahan itu dihitung dengan angka saat pertama kali dibaca sesudahnya, jadi ${kpis} bisa mencakup kenaikan sesudah periode berakhir.`,
  of: 'dari',
  certaintyNote: 'Hari tanpa data adalah celah, bukan nol: angka yang bergantung padanya bisa lebih rendah dari kenyataan.',
  builtFrom: (knownAt) => `Disusun dari semua data yang tersimpan sampai ${knownAt}.`,
  judgedNote: '* dinilai dari data tersimpan untuk tinjauan ini (tidak ada hasil akhir yang tersimpan untuk periode itu)',
  chartAlt: (objective) => `Grafik: kemajuan KPI ${objective} menuju targetnya selama periode ini, dibanding laju yang diharapkan`,
  legend: { pace: 'laju', target: 'target' },
  period: (kind, start, end, zone) => {
    const s = DateTime.fromJSDate(start, { zone }).setLocale('id-ID')
    switch (kind) {
      case 'month':
        return s.toFormat('LLLL yyyy')
      case 'quarter':
        return `Kuartal ${s.quarter} ${s.year}`
      case 'year':
        return `tahun ${s.year}`
      case 'week':
        return `minggu ${range(start, end, zone, 'id-ID')}`
    }
  },
  csvAttachment: 'Tabel KPI terlampir sebagai CSV (satu baris per KPI).',
}

export const WORDS: Record<ReviewLanguage, ReviewWords> = { en, id }
