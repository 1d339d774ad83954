/**
 * End-of-period forecast from the recent trend. Pure: numbers in, numbers out.
 *
 * Model: the KPI's value moves by one "step" a day (a level's daily change, a total's daily
 * amount), a random walk with drift — the textbook drift method — with the drift and the spread
 * estimated robustly:
 *
 * - drift = the trimmed mean of the recent daily steps (the largest and smallest 10 % dropped, at
 *   least one each side from 5 steps on), so a one-off jump (a viral day, a sudden follower drop)
 *   moves the starting point but does not become the trend, while a weekly rhythm still averages
 *   out over two weeks;
 * - spread σ = 1.4826 × the median absolute deviation of the steps (≈ the standard deviation for
 *   normal noise, unmoved by a few outliers);
 * - after h more days, the end value is `current + drift × h`, with standard deviation
 *   `σ × √(h × (1 + h / n))` (day-to-day noise plus the uncertainty of a drift estimated from n
 *   steps), and the band is its central 80 % (± 1.2816 σ).
 */

export const FORECAST_WINDOW_DAYS = 14
const MIN_FORECAST_STEPS = 3
const Z80 = 1.2815515655446004
const DAY_MS = 86_400_000

export interface ForecastInput {
  /** The KPI's value now (actual), in KPI units. */
  current: number
  /**
   * Daily steps, oldest first: the change over each day (levels) or the amount of each day
   * (totals); null for a day without data, which is left out (no data is not zero).
   */
  steps: Array<number | null>
  /**
   * When the data behind `current` ends: `at` for levels and counters; for daily counts, the end
   * of the last day that has been reported.
   */
  dataUntil: Date
  /** The evaluation time. */
  at: Date
  periodEnd: Date
  target: number
  comparator: 'at_least' | 'at_most'
}

export interface Forecast {
  /** The forecast value at the period end. */
  end: number
  /** Central 80 % band of the end value. */
  low: number
  high: number
  /** The recent trend (drift), per day. */
  recentPerDay: number
  /**
   * at_least: what must be added per day from `at` to reach the target (≤ 0 when already there);
   * at_most: the most that may still be added per day to stay within the limit.
   */
  neededPerDay: number
  /** (end − target) ÷ target: −0.16 is 16 % short of the target (or, for at_most, 16 % under the limit). */
  gap: number
  /** How many daily steps the trend was estimated from. */
  steps: number
}

const median = (sorted: number[]): number => {
  const mid = sorted.length / 2
  return sorted.length % 2 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Trimmed mean: drops ⌊10 %⌋ of the values at each end (at least one from 5 values on). */
export function trimmedMean(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const trim = sorted.length >= 5 ? Math.max(1, Math.floor(sorted.length * 0.1)) : 0
  const kept = sorted.slice(trim, sorted.length - trim)
  return kept.reduce((sum, v) => sum + v, 0) / kept.length
}

/** 1.4826 × median absolute deviation: a robust standard deviation. */
export function robustSpread(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const center = median(sorted)
  return 1.4826 * median(values.map((v) => Math.abs(v - center)).sort((a, b) => a - b))
}

/** The forecast of the period-end value; null with fewer than 3 days of data in the window. */
export function forecastEnd(input: ForecastInput): Forecast | null {
  const steps = input.steps.filter((s): s is number => s !== null && Number.isFinite(s))
  if (steps.length < MIN_FORECAST_STEPS) return null
  const n = steps.length
  const drift = trimmedMean(steps)
  const sigma = robustSpread(steps)
  const horizon = Math.max(0, (input.periodEnd.getTime() - input.dataUntil.getTime()) / DAY_MS)
  const end = input.current + drift * horizon
  const sd = sigma * Math.sqrt(horizon * (1 + horizon / n))
  const daysLeft = Math.max(0, (input.periodEnd.getTime() - input.at.getTime()) / DAY_MS)
  const room = input.target - input.current
  const neededPerDay = daysLeft > 0 ? room / daysLeft : 0
  return {
    end,
    low: end - Z80 * sd,
    high: end + Z80 * sd,
    recentPerDay: drift,
    neededPerDay,
    gap: (end - input.target) / input.target,
    steps: n,
  }
}
