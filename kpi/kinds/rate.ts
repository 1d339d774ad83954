import { defineKpiKind } from './kind.ts'

/**
 * `rate`: one count over another within the period (clicks ÷ impressions). Not paced: it is
 * compared with the target itself within the tolerance, has no daily history and no forecast, and
 * is null while the denominator is zero.
 */
export const rate = defineKpiKind({
  name: 'rate',
  shapes: ['counter', 'daily'],
  needs: 'a count such as likes or clicks',
  denominator: true,
  origin: 'zero',
  onlyGrows: false,
  signed: false,
  trend: null,
  pacing: null,
  decimals: 4,
  async measure({ source, metric, denominator, period, upTo, knownAt }) {
    const numerator = await source.amount(metric, period.start, upTo, knownAt)
    const below = await source.amount(denominator!, period.start, upTo, knownAt)
    return { actual: numerator === null || below === null || below === 0 ? null : numerator / below, start: null }
  },
})
