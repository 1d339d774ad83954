import { defineKpiKind } from './kind.ts'

/**
 * `total`: what a count accrued over the period (likes in March): daily counts summed, posts'
 * counters' rise, posts first read late counting with what they had then. It never falls, so an
 * at-most total over its ceiling has missed before the period ends.
 */
export const total = defineKpiKind({
  name: 'total',
  shapes: ['counter', 'daily'],
  needs: 'a count such as likes or clicks',
  denominator: false,
  origin: 'zero',
  onlyGrows: true,
  signed: false,
  trend: 'amount',
  pacing: { ceiling: 'pace' },
  decimals: 0,
  async measure({ source, metric, period, upTo, knownAt }) {
    return { actual: await source.amount(metric, period.start, upTo, knownAt), start: null }
  },
})
