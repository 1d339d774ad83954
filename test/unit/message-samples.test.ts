import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { LANGUAGES } from '../../core/i18n/index.ts'
import { messageSamples, pagePath, samplesPage } from '../../scripts/message-samples.ts'
import { ENGLISH_WORDS } from '../helpers/english-words.ts'

/** And the Indonesian glossary words an English reader should not meet. */
const INDONESIAN = [/\bberisiko\b/, /\btercapai\b/, /\bsesuai jalur\b/, /\btanpa data\b/, /\bperlu tindakan\b/, /\bpulih\b/, /\bprakiraan\b/]

describe('rendered message samples (docs/messages, npm run docs:messages)', () => {
  it.each(LANGUAGES.map((language) => [language] as const))('docs/messages/%s.md shows what the code renders', (language) => {
    expect(readFileSync(pagePath(language), 'utf8')).toBe(samplesPage(language))
  })

  it('covers every message kind in every language', () => {
    const kinds = LANGUAGES.map((language) => messageSamples(language).map((s) => s.kind))
    for (const list of kinds) expect(list).toEqual(kinds[0])
    expect(kinds[0]!.length).toBeGreaterThanOrEqual(12)
  })

  it('says nothing in English to an Indonesian reader, and shows times in WIB', () => {
    for (const sample of messageSamples('id')) {
      const all = `${sample.subject ?? ''}\n${sample.text}`
      for (const word of ENGLISH_WORDS) expect(all, `${sample.kind}: ${word}`).not.toMatch(word)
    }
    // a time as the speaker writes it: `8 Des 2026, 09.30 WIB`
    const withTimes = messageSamples('id').filter((s) => /\d{4},? \d{2}\.\d{2}/.test(s.text))
    expect(withTimes.length).toBeGreaterThan(3)
    for (const sample of withTimes) expect(sample.text, sample.kind).toMatch(/WIB/)
  })

  it('says nothing in Indonesian to an English reader', () => {
    for (const sample of messageSamples('en')) {
      const all = `${sample.subject ?? ''}\n${sample.text}`
      for (const word of INDONESIAN) expect(all, `${sample.kind}: ${word}`).not.toMatch(word)
    }
  })

  it('shows a rate as a percentage and money in its currency', () => {
    const id = messageSamples('id')
      .map((s) => `${s.subject ?? ''}\n${s.text}`)
      .join('\n')
    const en = messageSamples('en')
      .map((s) => `${s.subject ?? ''}\n${s.text}`)
      .join('\n')
    expect(id).toMatch(/\d+,\d+\s?%/)
    expect(id).toMatch(/Rp\s?[\d.]+/)
    expect(en).toMatch(/\d+\.\d+\s?%/)
    expect(en).toMatch(/IDR\s?[\d,]+/)
  })
})
