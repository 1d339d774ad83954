import { IntlMessageFormat } from 'intl-messageformat'
import { describe, expect, it } from 'vitest'
import { CATALOGUES, LANGUAGES, speaker } from '../../core/i18n/index.ts'

type Ast = ReturnType<IntlMessageFormat['getAst']>

/** The argument names a message uses, however deep (inside plural and select options too). */
function argumentsOf(ast: Ast, into = new Set<string>()): Set<string> {
  for (const element of ast) {
    if ('value' in element && typeof element.value === 'string' && element.type !== 0) into.add(element.value)
    if ('options' in element) for (const option of Object.values(element.options as Record<string, { value: Ast }>)) argumentsOf(option.value, into)
  }
  return into
}

const english = CATALOGUES.get('en')!

describe('message catalogues (core/i18n/messages)', () => {
  it('speaks English and Bahasa Indonesia, English first', () => {
    expect(LANGUAGES[0]).toBe('en')
    expect(LANGUAGES).toContain('id')
  })

  it.each(LANGUAGES.filter((code) => code !== 'en').map((code) => [code] as const))('%s has every English key and no other', (code) => {
    const catalogue = CATALOGUES.get(code)!
    const missing = [...english.messages.keys()].filter((key) => !catalogue.messages.has(key))
    const extra = [...catalogue.messages.keys()].filter((key) => !english.messages.has(key))
    expect(missing, `missing from ${code}.yaml`).toEqual([])
    expect(extra, `in ${code}.yaml but not en.yaml`).toEqual([])
  })

  it.each(LANGUAGES.map((code) => [code] as const))('%s: every message parses and takes the same arguments as the English one', (code) => {
    const catalogue = CATALOGUES.get(code)!
    const differ: string[] = []
    for (const [key, text] of catalogue.messages) {
      const ast = new IntlMessageFormat(text, catalogue.locale, undefined, { ignoreTag: true }).getAst()
      const theirs = [...argumentsOf(ast)].sort()
      const ours = [...argumentsOf(new IntlMessageFormat(english.messages.get(key) ?? '', 'en', undefined, { ignoreTag: true }).getAst())].sort()
      // A translation may leave out an argument (Indonesian plural forms say the count once), never add one.
      const added = theirs.filter((name) => !ours.includes(name))
      if (added.length) differ.push(`${key}: ${added.join(', ')}`)
    }
    expect(differ, `${code}: arguments the English message does not take`).toEqual([])
  })

  it('a missing key is an error naming the key and the file, never an empty text', () => {
    expect(() => speaker('id', 'Asia/Jakarta').t('status.no_such_status')).toThrow('message status.no_such_status is missing from core/i18n/messages/id.yaml')
    expect(() => speaker('xx', 'UTC')).toThrow('no messages for language "xx"')
  })

  it('formats numbers, percentages, money, times and periods as each language writes them', () => {
    const id = speaker('id', 'Asia/Jakarta')
    const en = speaker('en', 'Asia/Jakarta')
    expect(id.percent(0.0152)).toBe('1,52%')
    expect(en.percent(0.0152)).toBe('1.52%')
    expect(id.t('common.of', { actual: id.percent(0.0152), target: id.percent(0.03) })).toBe('1,52% dari 3%')
    expect(en.t('common.of', { actual: en.percent(0.0152), target: en.percent(0.03) })).toBe('1.52% of 3%')
    expect(id.money(1_234_567, 'IDR').replace(/\s/g, ' ')).toBe('Rp 1.234.567')
    expect(id.number(-149)).toBe('−149')
    // 2026-12-07T20:30Z is 03:30 on the 8th in Jakarta
    expect(id.dateTime(new Date('2026-12-07T20:30:00Z'))).toBe('8 Des 2026, 03.30 WIB')
    expect(en.dateTime(new Date('2026-12-07T20:30:00Z'))).toBe('8 Dec 2026, 03:30 GMT+7')
    // a month ends exclusively at the next one's start: shown inclusively
    const december = [new Date('2026-11-30T17:00:00Z'), new Date('2026-12-31T17:00:00Z')] as const
    expect(id.period(...december)).toBe('1–31 Des 2026')
    expect(en.period(...december).replace(/\s/g, ' ')).toBe('1 – 31 Dec 2026')
    expect(id.period(new Date('2026-12-07T17:00:00Z'), new Date('2026-12-08T17:00:00Z'))).toBe('8 Des 2026')
  })
})
