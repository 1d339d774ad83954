/**
 * What time it is. One clock is built in the composition root and passed to everything that asks
 * (a scheduler tick, an evaluation, a retry wait, the simulator's scenario), like the writer.
 * Elapsed-time deadlines (polling loops, lock waits) are durations and use `performance.now()`.
 */
export type Clock = () => Date

/** The machine's clock: the one place that reads it. */
export const systemClock: Clock = () => new Date()

export interface OffsetClockOptions {
  /** Milliseconds elapsed since some origin; default `performance.now()` (monotonic). */
  elapsedMs?: () => number
}

/**
 * A clock that reads `startAt` now and runs at real speed from there: for demos, replays and
 * tests that need to be at a given instant (the first minutes of a month, a DST change) while
 * timers, queues and network calls run as usual.
 */
export function clockFrom(startAt: Date, options: OffsetClockOptions = {}): Clock {
  const start = startAt.getTime()
  if (!Number.isFinite(start)) throw new TypeError('clockFrom: startAt is not a valid date')
  const elapsedMs = options.elapsedMs ?? (() => performance.now())
  const origin = elapsedMs()
  return () => new Date(start + (elapsedMs() - origin))
}

/** The process clock: the system clock, or from `CLOCK_START` on at real speed when it is set. */
export function processClock(config: { CLOCK_START?: Date }): Clock {
  return config.CLOCK_START ? clockFrom(config.CLOCK_START) : systemClock
}
