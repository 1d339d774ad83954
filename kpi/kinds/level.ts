import { defineKpiKind } from './kind.ts'

/**
 * `level`: where a gauge stands at the end of the period (followers at the end of March). It
 * starts from its reading at the period start, or from its first reading inside the period for an
 * account first read later, and is paced from there towards the target. Under an at-most ceiling
 * it is held to the ceiling itself, not to a pace.
 */
export const level = defineKpiKind({
  name: 'level',
  shapes: ['gauge'],
  needs: 'a level such as followers',
  denominator: false,
  origin: 'start',
  onlyGrows: false,
  signed: false,
  trend: 'level',
  pacing: { ceiling: 'target' },
  decimals: 0,
  startingPoint: (source, selection, start, before) => source.startingLevel(selection, start, before),
  async measure({ source, metric, period, levelAt }) {
    const actual = await source.level(metric, levelAt)
    const start = await source.startingLevel(metric, period.start, levelAt)
    return { actual, start }
  },
})
