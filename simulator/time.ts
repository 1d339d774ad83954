import { DateTime } from 'luxon'

/**
 * Time for every simulated network (hours, days, UTC midnights), and Graph's clock conventions:
 * timestamps are written `2024-06-27T10:00:00+0000`, and insights days are Pacific-time days
 * (America/Los_Angeles, so they end at 07:00 or 08:00 UTC depending on DST).
 */
export const HOUR_MS = 3_600_000
export const DAY_MS = 86_400_000
export const INSIGHTS_ZONE = 'America/Los_Angeles'

/** `2024-06-27T10:00:00+0000`: UTC, whole seconds, offset without a colon. */
export function graphTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}+0000`
}

export function utcMidnight(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS
}

/** The Pacific midnight that starts the Pacific day containing `ms`. */
export function pacificDayStart(ms: number): number {
  return DateTime.fromMillis(ms, { zone: INSIGHTS_ZONE }).startOf('day').toMillis()
}

/** The Pacific midnight `days` calendar days after the Pacific midnight `dayStart` (DST-correct). */
export function addPacificDays(dayStart: number, days: number): number {
  return DateTime.fromMillis(dayStart, { zone: INSIGHTS_ZONE }).plus({ days }).toMillis()
}

/** Whole Pacific calendar days from one Pacific midnight to another. */
export function pacificDaysBetween(fromDayStart: number, toDayStart: number): number {
  const from = DateTime.fromMillis(fromDayStart, { zone: INSIGHTS_ZONE })
  const to = DateTime.fromMillis(toDayStart, { zone: INSIGHTS_ZONE })
  return Math.round(to.diff(from, 'days').days)
}

/** The Pacific midnight of a `YYYY-MM-DD` date, or undefined when it is not a real date. */
export function pacificMidnightOf(isoDate: string): number | undefined {
  const day = DateTime.fromISO(isoDate, { zone: INSIGHTS_ZONE })
  return day.isValid ? day.toMillis() : undefined
}

/** "Tuesday, 24-Nov-26 21:00:00 PST": the style of Graph's token-expiry message. */
export function pacificLongTime(ms: number): string {
  return DateTime.fromMillis(ms, { zone: INSIGHTS_ZONE }).toFormat('cccc, dd-LLL-yy HH:mm:ss ZZZZ', { locale: 'en-US' })
}
