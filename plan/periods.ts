import { DateTime } from 'luxon'
import type { PeriodSpec } from './plan.ts'

/** A KPI period: [start, end) in absolute time, computed in the plan's time zone. */
export interface Period {
  start: Date
  end: Date
  label: string
}

/**
 * The period of `spec` that contains `at`, in `timezone` (DST-correct: a day is midnight to
 * midnight on the wall clock, 23 or 25 hours long on change days). A custom period is from its
 * `from` day's midnight to the midnight after its `to` day.
 */
export function periodAt(spec: PeriodSpec, at: Date, timezone: string, weekStart: 'monday' | 'sunday' = 'monday'): Period {
  const local = DateTime.fromJSDate(at, { zone: timezone })
  if (typeof spec === 'object') {
    const start = DateTime.fromISO(spec.from, { zone: timezone }).startOf('day')
    const end = DateTime.fromISO(spec.to, { zone: timezone }).plus({ days: 1 }).startOf('day')
    return { start: start.toJSDate(), end: end.toJSDate(), label: `${spec.from} – ${spec.to}` }
  }
  let start: DateTime
  let label: string
  switch (spec) {
    case 'day':
      start = local.startOf('day')
      label = start.toISODate()!
      break
    case 'week': {
      // Luxon weeks are ISO weeks (Monday first); a Sunday start shifts by one day.
      const shifted = weekStart === 'sunday' ? local.plus({ days: 1 }) : local
      start = shifted.startOf('week').minus({ days: weekStart === 'sunday' ? 1 : 0 })
      label = weekStart === 'sunday' ? `week of ${start.toISODate()}` : `${start.weekYear}-W${String(start.weekNumber).padStart(2, '0')}`
      break
    }
    case 'month':
      start = local.startOf('month')
      label = start.toFormat('yyyy-MM')
      break
    case 'quarter':
      start = local.startOf('quarter')
      label = `${start.year}-Q${start.quarter}`
      break
    case 'year':
      start = local.startOf('year')
      label = String(start.year)
      break
  }
  const end = start.plus({ [spec === 'day' ? 'days' : `${spec}s`]: 1 }).startOf('day')
  return { start: start.toJSDate(), end: end.toJSDate(), label }
}

/** How much of the period has passed at `at`, from 0 to 1. */
export function elapsedFraction(period: Period, at: Date): number {
  const total = period.end.getTime() - period.start.getTime()
  const done = at.getTime() - period.start.getTime()
  return Math.min(1, Math.max(0, done / total))
}
