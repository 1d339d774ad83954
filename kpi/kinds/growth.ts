import { defineKpiKind } from './kind.ts'
import type { StartingPoint } from './kind.ts'
import type { KpiDataSource, MetricSelection } from './source.ts'

/** The level at the period start, which a growth counts from; null without a reading by then. */
async function levelAtStart(source: KpiDataSource, selection: MetricSelection, start: Date): Promise<StartingPoint | null> {
  const value = await source.level(selection, start)
  return value === null ? null : { value, at: start }
}

/**
 * `growth`: how much a gauge rose over the period (followers gained in March): its level now minus
 * its level at the period start, paced from zero. Without a reading at the start there is no
 * growth to speak of (null, not the whole level).
 */
export const growth = defineKpiKind({
  name: 'growth',
  shapes: ['gauge'],
  needs: 'a level such as followers',
  denominator: false,
  origin: 'zero',
  onlyGrows: false,
  signed: true,
  trend: 'level',
  pacing: { ceiling: 'pace' },
  decimals: 0,
  unit: (metric) => `${metric} gained`,
  startingPoint: (source, selection, start) => levelAtStart(source, selection, start),
  async measure({ source, metric, period, levelAt }) {
    const end = await source.level(metric, levelAt)
    const start = await levelAtStart(source, metric, period.start)
    return { actual: end === null || start === null ? null : end - start.value, start }
  },
})
