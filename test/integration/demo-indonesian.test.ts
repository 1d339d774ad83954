import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runDemoRound, type DemoRound } from '../helpers/demo-round.ts'
import { ENGLISH_WORDS } from '../helpers/english-words.ts'

/**
 * Issue 22, "Done when": the demo with the Indonesian example plan (company.language: id) sends
 * Indonesian KPI, crisis and source emails. One round on 18 Nov 2026 at 10:00 in Jakarta, when the
 * simulator's main Page has lost followers (the demo's crisis), with the LinkedIn page's token left
 * unset (an account that cannot be collected: a source email); every email received over SMTP.
 */
const AT = new Date('2026-11-18T10:00:00+07:00')
let demo: DemoRound

beforeAll(async () => {
  demo = await runDemoRound('demo_indonesian', AT, { planFile: 'examples/rencana-media-sosial.yaml', withoutToken: ['kopi-nusantara-linkedin'] })
}, 300_000)

afterAll(async () => demo?.close())

describe('the demo with the Indonesian example plan', () => {
  it('speaks Indonesian in every email it sends: KPI alerts, the crisis and the account it cannot collect', () => {
    const emails = demo.smtp.messages
    expect(emails.length).toBeGreaterThan(1)
    for (const email of emails) {
      const all = `${email.subject}\n${email.text}`
      for (const word of ENGLISH_WORDS) expect(all, `${email.subject}: ${word}`).not.toMatch(word)
    }
    const source = emails.filter((e) => e.subject?.includes('PERLU TINDAKAN'))
    expect(source.length, emails.map((e) => e.subject).join('\n')).toBe(1)
    expect(source[0]!.text).toMatch(/WIB/)
    const kpi = emails.filter((e) => /BERISIKO|TIDAK TERCAPAI/.test(e.subject ?? ''))
    expect(kpi.length, emails.map((e) => e.subject).join('\n')).toBeGreaterThan(0)
    for (const email of kpi) expect(email.text, email.subject).toMatch(/ dari /)
    const crisis = emails.filter((e) => e.subject?.includes('KRISIS'))
    expect(crisis.length, emails.map((e) => e.subject).join('\n')).toBe(1)
    expect(crisis[0]!.text).toMatch(/Langkah|langkah/)
  })
})
