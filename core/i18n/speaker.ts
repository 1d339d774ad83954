import { IntlMessageFormat } from 'intl-messageformat'
import { SocialKpiError } from '../errors.ts'
import { CATALOGUES, type Catalogue } from './catalogue.ts'

/** A message key that is in no catalogue, or a value it needs that was not given: a defect, caught by tests. */
export class MessageError extends SocialKpiError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONFIG_INVALID', message, options)
  }
}

/** The values a message takes: numbers for plurals, everything else already formatted by the speaker. */
export type MessageValues = Record<string, string | number>

/** How a number is shown (plan/units.ts KpiDisplay, kept structural so core imports nothing above it). */
export interface NumberDisplay {
  unit: 'percent' | 'ratio' | 'count' | 'currency'
  currency?: string
}

/**
 * Everything a person reads, in one language and one time zone: messages from the catalogue
 * (ICU MessageFormat), numbers, percentages, money and times through Intl. Built once per plan
 * (`company.language`, `company.timezone`) by the caller and passed to every renderer.
 */
export class Speaker {
  readonly language: string
  readonly locale: string
  readonly zone: string
  readonly #catalogue: Catalogue
  readonly #compiled = new Map<string, IntlMessageFormat>()
  readonly #formats = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>()

  constructor(language: string, zone: string) {
    const catalogue = CATALOGUES.get(language)
    if (!catalogue) throw new MessageError(`no messages for language "${language}" (core/i18n/messages/${language}.yaml)`)
    this.language = language
    this.locale = catalogue.locale
    this.zone = zone
    this.#catalogue = catalogue
  }

  /** A message by key with its values: `t('status.at_risk')`, `t('email.kpi.subject', { name, actual })`. */
  t(key: string, values?: MessageValues): string {
    let format = this.#compiled.get(key)
    if (!format) {
      const text = this.#catalogue.messages.get(key)
      if (text === undefined) throw new MessageError(`message ${key} is missing from core/i18n/messages/${this.language}.yaml`)
      format = new IntlMessageFormat(text, this.locale, undefined, { ignoreTag: true })
      this.#compiled.set(key, format)
    }
    try {
      return String(format.format(values))
    } catch (error) {
      throw new MessageError(`message ${key} (${this.language}): ${(error as Error).message}`, { cause: error })
    }
  }

  has(key: string): boolean {
    return this.#catalogue.messages.has(key)
  }

  #number(key: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
    let format = this.#formats.get(key) as Intl.NumberFormat | undefined
    if (!format) {
      format = new Intl.NumberFormat(this.locale, options)
      this.#formats.set(key, format)
    }
    return format
  }

  #date(key: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
    let format = this.#formats.get(key) as Intl.DateTimeFormat | undefined
    if (!format) {
      format = new Intl.DateTimeFormat(this.locale, { timeZone: this.zone, ...options })
      this.#formats.set(key, format)
    }
    return format
  }

  /** A count or amount: `4,000` / `4.000`; small numbers keep up to four significant decimals; null is "no data". */
  number(value: number | null, digits = 0): string {
    if (value === null) return this.t('common.no_data')
    const decimals = Math.abs(value) < 1 && value !== 0 ? Math.max(digits, 4) : digits
    return this.#number(`n${decimals}`, { maximumFractionDigits: decimals }).format(value).replace('-', '−')
  }

  /** A fraction as a percentage: 0.0152 → `1.52%` / `1,52%`. */
  percent(fraction: number | null, digits = 2): string {
    if (fraction === null) return this.t('common.no_data')
    return this.#number(`p${digits}`, { style: 'percent', maximumFractionDigits: digits }).format(fraction).replace('-', '−')
  }

  /** An amount of money in its own currency, never converted: `Rp 1.234.567`, `IDR 1,234,567`. */
  money(value: number | null, currency: string): string {
    if (value === null) return this.t('common.no_data')
    return this.#number(`c${currency}`, { style: 'currency', currency, currencyDisplay: 'symbol' }).format(value).replace('-', '−')
  }

  /** A KPI's number in its unit (plan/units.ts): percent, ratio, count, or money with its currency (a number while none is known). */
  value(value: number | null, display: NumberDisplay, digits = 0): string {
    switch (display.unit) {
      case 'percent':
        return this.percent(value)
      case 'currency':
        return display.currency ? this.money(value, display.currency) : this.number(value, 2)
      case 'ratio':
        return this.number(value, Math.max(digits, 2))
      default:
        return this.number(value, digits)
    }
  }

  /** A change with its sign: `+1,200`, `−3.5%`. */
  signed(value: number, display: NumberDisplay = { unit: 'count' }, digits = 0): string {
    const text = this.value(Math.abs(value), display, digits)
    return `${value < 0 ? '−' : '+'}${text}`
  }

  /** A moment, in the plan's zone with the zone named: `8 Dec 2026, 09:30 GMT+7` / `8 Des 2026, 09.30 WIB`. */
  dateTime(at: Date): string {
    return this.#date('dt', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' }).format(at)
  }

  /** A day in the plan's zone: `8 Dec 2026`. */
  date(at: Date): string {
    return this.#date('d', { day: 'numeric', month: 'short', year: 'numeric' }).format(at)
  }

  /** The zone's short name at a moment: `GMT+7`, `WIB`, `UTC`. */
  zoneName(at: Date): string {
    return (
      this.#date('z', { timeZoneName: 'short' })
        .formatToParts(at)
        .find((part) => part.type === 'timeZoneName')?.value ?? this.zone
    )
  }

  /**
   * A period, inclusively, in the plan's zone: `1–31 Dec 2026`, `8 Dec 2026`. The end is exclusive
   * (the next period's start): a period of whole days shows its last day; one with hours shows times.
   */
  period(start: Date, end: Date): string {
    const last = new Date(end.getTime() - 1)
    const midnight = (at: Date) =>
      this.#date('hm', { hour: 'numeric', minute: 'numeric', hourCycle: 'h23' })
        .formatToParts(at)
        .every((part) => (part.type === 'hour' || part.type === 'minute' ? Number(part.value) === 0 : true))
    if (midnight(start) && midnight(end)) return this.#date('d', { day: 'numeric', month: 'short', year: 'numeric' }).formatRange(start, last)
    return `${this.#date('dtr', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' }).formatRange(start, end)} ${this.zoneName(start)}`
  }

  /** Items joined as the language joins them: `a, b and c` / `a, b, dan c`. */
  list(items: readonly string[]): string {
    return new Intl.ListFormat(this.locale, { type: 'conjunction' }).format(items)
  }
}

const speakers = new Map<string, Speaker>()

/** The speaker for a language and a zone (shared: formats are compiled once). */
export function speaker(language: string, zone: string): Speaker {
  const key = `${language}\u0000${zone}`
  let found = speakers.get(key)
  if (!found) {
    found = new Speaker(language, zone)
    speakers.set(key, found)
  }
  return found
}

/** English on UTC: the words where no plan says otherwise (dashboards, a command run without a plan). */
export const ENGLISH_ON_UTC = speaker('en', 'UTC')
