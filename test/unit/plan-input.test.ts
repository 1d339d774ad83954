import { describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { PlanError } from '../../core/errors.ts'
import { parsePlan, parsePlanText, planSpeaker } from '../../plan/plan.ts'
import { kpiDisplay } from '../../plan/units.ts'

/** Issue 22, item 7: what a person writes in a plan is read as meant, or refused with why and where. */

const ads = (id: string, currency?: string) => ({ id, name: id, apiId: '1', tokenEnv: 'T', settings: { purchaseActionType: 'purchase', ...(currency ? { currency } : {}) } })

function plan(kpis: object[], adAccounts: object[] = [ads('ads')]) {
  return {
    company: { name: 'C' },
    objectives: [{ id: 'o', name: 'O' }],
    strategy: {
      networks: [
        { network: 'facebook', accounts: [{ id: 'page', name: 'Page', apiId: '1', tokenEnv: 'T' }] },
        { network: 'meta_ads', accounts: adAccounts },
      ],
    },
    kpis,
    alerting: { recipients: ['x@example.com'] },
  }
}

const kpi = (fields: object) => ({ id: 'k', name: 'K', objective: 'o', network: 'facebook', metric: 'likes', kind: 'total', target: 500, period: 'month', ...fields })
const rate = (fields: object = {}) => kpi({ id: 'rate', kind: 'rate', metric: 'engagements', denominator: 'views', target: 0.03, ...fields })

/** Every problem as `plan validate` prints it: the path with the item's id, then the message. */
function problems(document: unknown): string[] {
  try {
    parsePlan(document, 'p.yaml')
  } catch (error) {
    if (error instanceof PlanError) return error.issues.map((issue) => `${issue.where ?? issue.path}: ${issue.message}`)
    throw error
  }
  return []
}

describe('a percent target (3%)', () => {
  it.each([
    ['3%', 0.03],
    ['3 %', 0.03],
    ['3.5%', 0.035],
    ['3,5%', 0.035],
    ['0,25 %', 0.0025],
    ['3.3%', 0.033],
  ])('reads %s on a rate KPI as the fraction %s', (target, fraction) => {
    const parsed = parsePlan(plan([rate({ target })]), 'p.yaml')
    expect(parsed.kpis[0]!.target).toBe(fraction)
    expect(parsed.kpis[0]!.unit).toBe('percent')
  })

  it('keeps a fraction a fraction: 0.03 is 3 %, as before', () => {
    expect(parsePlan(plan([rate()]), 'p.yaml').kpis[0]!.target).toBe(0.03)
  })

  it('refuses a percentage on a count, and says why', () => {
    expect(problems(plan([kpi({ id: 'fb-likes-month', target: '3%' })]))).toEqual([
      'kpis[0] (fb-likes-month).target: "3%" is a percentage, but only a rate KPI (metric ÷ denominator) is measured in percent; a total of likes is a number: write it as one, such as 500',
    ])
  })

  it('names the rate a text target could be, and refuses a comma it cannot read', () => {
    expect(problems(plan([rate({ target: 'three' })]))).toEqual(['kpis[0] (rate).target: must be a positive number, or a percentage such as 3%'])
    expect(problems(plan([kpi({ target: 'ten' })]))).toEqual(['kpis[0] (k).target: must be a positive number'])
    expect(problems(plan([rate({ target: '1,000%' })]))).toEqual(['kpis[0] (rate).target: "1,000%": is the comma a decimal comma or a thousands separator? Write 1.000% or 1000%'])
    expect(problems(plan([rate({ target: '0%' })]))).toEqual(['kpis[0] (rate).target: must be a positive number'])
  })

  it('refuses a rate target above 100 % where the part cannot pass its whole: 3 there is 300 %', () => {
    const ctr = kpi({ id: 'ads-ctr', network: 'meta_ads', kind: 'rate', metric: 'clicks', denominator: 'impressions' })
    expect(problems(plan([{ ...ctr, target: 3 }]))).toEqual([
      'kpis[0] (ads-ctr).target: clicks are part of impressions, so their rate cannot pass 100% (a target of 1); for 3 percent write 3%, or 0.03 as a fraction',
    ])
    expect(problems(plan([{ ...ctr, target: '3%' }]))).toEqual([])
    // engagements are not part of views (one view can bring several): any target stands
    expect(problems(plan([rate({ target: 1.5 })]))).toEqual([])
  })
})

describe('units', () => {
  const units = (kpis: object[]) => parsePlan(plan(kpis), 'p.yaml').kpis.map((k) => k.unit)

  it('defaults: a rate of counts is percent, money is currency, money over money a ratio, the rest a count', () => {
    expect(
      units([
        rate(),
        kpi({ id: 'likes' }),
        kpi({ id: 'spend', network: 'meta_ads', metric: 'spend', target: 5_000_000 }),
        kpi({ id: 'roas', network: 'meta_ads', kind: 'rate', metric: 'conversion_value', denominator: 'spend', target: 4 }),
        kpi({ id: 'cpa', network: 'meta_ads', kind: 'rate', metric: 'spend', denominator: 'conversions', target: 50_000 }),
      ]),
    ).toEqual(['percent', 'count', 'currency', 'ratio', 'currency'])
  })

  it('takes the unit the plan gives where it fits, and says why where it does not', () => {
    expect(units([rate({ unit: 'ratio' }), kpi({ id: 'spend', network: 'meta_ads', metric: 'spend', unit: 'count' })])).toEqual(['ratio', 'count'])
    expect(problems(plan([kpi({ unit: 'percent' })]))).toEqual(['kpis[0] (k).unit: percent is for a rate KPI (metric ÷ denominator); a total KPI is shown as count'])
    expect(problems(plan([kpi({ unit: 'currency' })]))).toEqual(['kpis[0] (k).unit: likes is not an amount of money; currency is for a KPI over spend or conversion_value (Meta ads)'])
    expect(problems(plan([rate({ unit: 'count' })]))).toEqual(['kpis[0] (rate).unit: a rate is a fraction, not a count; use percent or ratio'])
    expect(problems(plan([kpi({ unit: 'euros' })]))).toEqual(['kpis[0] (k).unit: must be one of: percent, ratio, count, currency'])
  })

  it('refuses a money KPI over ad accounts the plan says are in different currencies', () => {
    const spend = kpi({ id: 'ads-spend-month', network: 'meta_ads', metric: 'spend', target: 5_000_000 })
    expect(problems(plan([spend], [ads('ads-id', 'IDR'), ads('ads-sg', 'SGD')]))).toEqual([
      'kpis[0] (ads-spend-month).accounts: would add amounts in different currencies (ads-id: IDR, ads-sg: SGD), which are never converted; give each currency a KPI of its own',
    ])
    expect(problems(plan([{ ...spend, accounts: ['ads-id'] }], [ads('ads-id', 'IDR'), ads('ads-sg', 'SGD')]))).toEqual([])
    // a count over the same accounts adds no money; money shown as a plain number still would
    expect(problems(plan([{ ...spend, metric: 'conversions' }], [ads('ads-id', 'IDR'), ads('ads-sg', 'SGD')]))).toEqual([])
    expect(problems(plan([{ ...spend, unit: 'count' }], [ads('ads-id', 'IDR'), ads('ads-sg', 'SGD')]))).toHaveLength(1)
    expect(problems(plan([spend], [ads('ads-id', 'idr')]))).toEqual([
      'strategy.networks[1] (meta_ads).accounts[0] (ads-id).settings.currency: must be an ISO 4217 currency code in capitals, such as IDR or USD',
    ])
  })

  it('gives renderers the unit and, for money only, the currency of the evaluation', () => {
    const [spend, likes] = parsePlan(plan([kpi({ id: 'spend', network: 'meta_ads', metric: 'spend' }), kpi({})]), 'p.yaml').kpis
    expect(kpiDisplay(spend!, { currency: 'IDR' })).toEqual({ unit: 'currency', currency: 'IDR' })
    expect(kpiDisplay(spend!, { currency: '' })).toEqual({ unit: 'currency' })
    expect(kpiDisplay(likes!, { currency: 'IDR' })).toEqual({ unit: 'count' })
  })
})

describe('numbers YAML would round', () => {
  const yaml = (apiId: string) =>
    [
      'company: { name: C }',
      'objectives: [{ id: o, name: O }]',
      'strategy:',
      '  networks:',
      '    - network: instagram',
      '      accounts:',
      `        - { id: kopi-ig, name: Kopi, apiId: ${apiId}, tokenEnv: T }`,
      'kpis: [{ id: k, name: K, objective: o, network: instagram, metric: likes, kind: total, target: 500, period: month }]',
      'alerting: { recipients: [x@example.com] }',
    ].join('\n')

  const read = (text: string, file = 'p.yaml') => {
    try {
      return parsePlanText(text, file)
    } catch (error) {
      if (error instanceof PlanError) return error.issues.map((issue) => `${issue.where}: ${issue.message}`)
      throw error
    }
  }

  it('refuses an unquoted id past 2^53 and asks for quotes, naming the account', () => {
    expect(read(yaml('17841400000000001'))).toEqual([
      'strategy.networks[0] (instagram).accounts[0] (kopi-ig).apiId: 17841400000000001 has more digits than a number keeps exactly (it would be read as 17841400000000000); write it in quotes, "17841400000000001"',
    ])
  })

  it('reads the same id quoted, and a short number as a number', () => {
    const quoted = read(yaml('"17841400000000001"'))
    expect(Array.isArray(quoted) ? quoted : quoted.strategy.networks[0]!.accounts[0]!.apiId).toBe('17841400000000001')
    const short = read(yaml('104729384756'))
    expect(Array.isArray(short) ? short : short.strategy.networks[0]!.accounts[0]!.apiId).toBe('104729384756')
  })

  it('does the same in a JSON plan, whose parser rounds too', () => {
    const json = JSON.stringify(parseYaml(yaml('"1"')))
    const text = json.replace('"apiId":"1"', '"apiId":17841400000000001')
    expect(read(text, 'p.json')).toEqual([
      'strategy.networks[0] (instagram).accounts[0] (kopi-ig).apiId: 17841400000000001 has more digits than a number keeps exactly (it would be read as 17841400000000000); write it in quotes, "17841400000000001"',
    ])
  })
})

describe('every problem names the item it is in', () => {
  it('puts the id of a KPI, objective, network and account beside its index', () => {
    const document = plan([kpi({ id: 'fb-likes-month', objective: 'nope', target: -5 })])
    document.objectives.push({ id: 'o', name: 'again' })
    const crisis = { contacts: [{ name: 'Dewi', email: 'dewi at kopi' }], steps: ['Confirm the facts'] }
    const text = (() => {
      try {
        parsePlan({ ...document, crisis }, 'p.yaml')
      } catch (error) {
        return (error as PlanError).message
      }
    })()
    expect(text).toContain('kpis[0] (fb-likes-month).target: must be a positive number')
    expect(text).toContain('kpis[0] (fb-likes-month).objective: names objective "nope", which the plan does not define')
    expect(text).toContain('objectives[1] (o).id: objective id "o" is used twice')
    expect(text).toContain('crisis.contacts[0] (Dewi).email: must be an email address')
  })
})

describe('the plan language (company.language)', () => {
  const withLanguage = (company: object, review?: object) => ({ ...plan([kpi({})]), company: { name: 'C', ...company }, ...(review ? { review } : {}) })

  it('is English when the plan says nothing', () => {
    const parsed = parsePlan(withLanguage({}), 'p.yaml')
    expect(parsed.company.language).toBe('en')
    expect(planSpeaker(parsed).t('status.at_risk')).toBe('at risk')
  })

  it('is the review language of a plan written before company.language, everywhere', () => {
    const parsed = parsePlan(withLanguage({}, { language: 'id' }), 'p.yaml')
    expect(parsed.company.language).toBe('id')
    expect(parsed.review?.language).toBe('id')
    expect(planSpeaker(parsed).t('status.at_risk')).toBe('berisiko')
  })

  it("gives the review the plan's language unless the review says otherwise", () => {
    expect(parsePlan(withLanguage({ language: 'id' }, { periods: ['month'] }), 'p.yaml').review?.language).toBe('id')
    expect(parsePlan(withLanguage({ language: 'id' }, { language: 'en' }), 'p.yaml').review?.language).toBe('en')
  })

  it('refuses a language it cannot speak, naming the path and the languages it can', () => {
    expect(problems(withLanguage({ language: 'fr' }))).toEqual(['company.language: must be one of: en, id (English, Bahasa Indonesia)'])
  })

  it('speaks in the plan zone', () => {
    const parsed = parsePlan(withLanguage({ language: 'id', timezone: 'Asia/Jakarta' }), 'p.yaml')
    expect(planSpeaker(parsed).dateTime(new Date('2026-12-07T20:30:00Z'))).toBe('8 Des 2026, 03.30 WIB')
  })
})
