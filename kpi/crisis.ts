import { DateTime } from 'luxon'
import { METRICS, isNetwork, type MetricShape } from '../core/metrics.ts'
import { TRIGGER_SHAPES, triggerMetric, type CrisisTrigger } from '../plan/crisis-schema.ts'
import type { MetricSelection } from './kinds/source.ts'
import { planAccounts, type Plan, type PlanAccount } from '../plan/plan.ts'

/**
 * Crisis detection: each trigger of the plan's crisis guide judged as of `at`, from observations
 * only (the same data and `at` always give the same answer). Semantics in docs/kpi-semantics.md,
 * "Crisis detection".
 */

export interface Point {
  at: Date
  value: number
}

/** The buckets a count is judged in: the stored days of a daily metric, or hours of counter rises. */
export type BucketSize = 'day' | 'hour'

export interface CrisisDataSource {
  /** Per account id: its latest gauge value at or before `from` (if any), then every value in (from, to], oldest first. */
  levels(selection: MetricSelection, from: Date, to: Date): Promise<Map<string, Point[]>>
  /**
   * Per account id: the count in each bucket that starts in [from, to), oldest first. A daily
   * metric gives its stored days; counters give the rise of all the account's objects per hour.
   */
  buckets(selection: MetricSelection, shape: Extract<MetricShape, 'daily' | 'counter'>, from: Date, to: Date): Promise<Map<string, Point[]>>
}

export interface CrisisFinding {
  account: PlanAccount
  /** The span the finding is about: the drop's start and end, or the bucket judged. */
  from: Date
  to: Date
  /** The value judged (the level after the drop, the bucket's count). */
  value: number
  /** What it is compared with (the level before the drop, the seasonal median). */
  reference: number
  reason: string
}

export interface CrisisEvaluation {
  trigger: CrisisTrigger
  evaluatedAt: Date
  /** true: firing; false: every account that could be judged is fine; null: none could be judged (no data). */
  firing: boolean | null
  /** The accounts involved (those with a finding). */
  accounts: PlanAccount[]
  /** From the earliest finding's start to the latest finding's end; null when not firing. */
  window: { from: Date; to: Date } | null
  /** One plain-language sentence per finding, or why nothing fired. */
  reason: string
  findings: CrisisFinding[]
}

const HOUR_MS = 3_600_000
/** A daily bucket is judged once a whole day has passed since its start. */
const DAY_COMPLETE_MS = 24 * HOUR_MS
/** Daily counts arrive late (insights, analytics); a newest day older than this is too old to judge. */
const DAY_STALE_MS = 72 * HOUR_MS
/** Same-weekday buckets match within this distance (Pacific days move by an hour around DST). */
const MATCH_TOLERANCE_MS: Record<BucketSize, number> = { day: 90 * 60_000, hour: 60_000 }
/** MAD × this estimates a standard deviation for normally distributed data. */
const MAD_SCALE = 1.4826

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/** Median absolute deviation from the median (unscaled). */
export function mad(values: number[]): number {
  const m = median(values)
  return median(values.map((v) => Math.abs(v - m)))
}

/**
 * The largest fall in a series (oldest first): from the highest value seen so far to a later,
 * lower value, as a fraction of that high. Null without two points or without a fall.
 */
export function largestDrop(points: Point[]): { peak: Point; trough: Point; fraction: number } | null {
  let peak: Point | undefined
  let best: { peak: Point; trough: Point; fraction: number } | null = null
  for (const point of points) {
    if (!peak || point.value > peak.value) {
      peak = point
      continue
    }
    if (peak.value <= 0) continue
    const fraction = (peak.value - point.value) / peak.value
    if (fraction > 0 && (!best || fraction > best.fraction)) best = { peak, trough: point, fraction }
  }
  return best
}

/**
 * The values of the same bucket 1..`weeks` weeks earlier (same weekday and local hour in `zone`,
 * DST-aware), from `series`. Weeks without a bucket are left out.
 */
export function seasonalBaseline(series: Point[], bucketStart: Date, weeks: number, zone: string, size: BucketSize): number[] {
  const values: number[] = []
  const local = DateTime.fromJSDate(bucketStart, { zone })
  for (let k = 1; k <= weeks; k++) {
    const target = local.minus({ weeks: k }).toMillis()
    let nearest: Point | undefined
    for (const point of series) {
      const distance = Math.abs(point.at.getTime() - target)
      if (distance <= MATCH_TOLERANCE_MS[size] && (!nearest || distance < Math.abs(nearest.at.getTime() - target))) nearest = point
    }
    if (nearest) values.push(nearest.value)
  }
  return values
}

/** The newest bucket that is complete at `at` and recent enough to judge, if any. */
export function currentBucket(series: Point[], at: Date, size: BucketSize): Point | undefined {
  if (size === 'hour') {
    const start = Math.floor(at.getTime() / HOUR_MS) * HOUR_MS - HOUR_MS
    return series.find((p) => p.at.getTime() === start)
  }
  const complete = series.filter((p) => p.at.getTime() + DAY_COMPLETE_MS <= at.getTime())
  const newest = complete[complete.length - 1]
  return newest && at.getTime() - newest.at.getTime() <= DAY_STALE_MS ? newest : undefined
}

/** How far back the series must reach to judge the current bucket against `weeks` weeks. */
function lookbackMs(size: BucketSize, weeks: number): number {
  return (weeks * 7 + (size === 'day' ? 4 : 1)) * 24 * HOUR_MS
}

const count = (value: number, digits = 0) => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
const formatter = (zone: string) => (date: Date) => DateTime.fromJSDate(date, { zone }).toFormat('yyyy-MM-dd HH:mm')

type Judged = { judged: false } | { judged: true; finding: CrisisFinding | null }

/** followers fall more than `dropPercent` % within `windowHours`, judged on each account. */
function judgeFollowerDrop(trigger: Extract<CrisisTrigger, { kind: 'follower_drop' }>, account: PlanAccount, points: Point[], zone: string): Judged {
  if (points.length === 0) return { judged: false }
  const drop = largestDrop(points)
  if (!drop || drop.fraction * 100 <= trigger.dropPercent) return { judged: true, finding: null }
  const when = formatter(zone)
  return {
    judged: true,
    finding: {
      account,
      from: drop.peak.at,
      to: drop.trough.at,
      value: drop.trough.value,
      reference: drop.peak.value,
      reason: `followers of ${account.name} fell ${count(drop.fraction * 100, 1)} % (${count(drop.peak.value)} → ${count(drop.trough.value)}) between ${when(drop.peak.at)} and ${when(drop.trough.at)} (${zone}); the guide's limit is ${count(trigger.dropPercent, 1)} % within ${count(trigger.windowHours)} h`,
    },
  }
}

/**
 * The bucket being judged and its seasonal baseline (the same weekday, and hour for hourly
 * buckets, in earlier weeks), or null when there is too little to judge.
 */
function seasonalWindow(series: Point[], at: Date, size: BucketSize, zone: string, weeks: number) {
  const bucket = currentBucket(series, at, size)
  if (!bucket) return null
  const baseline = seasonalBaseline(series, bucket.at, weeks, zone, size)
  if (baseline.length < 2) return null
  return {
    bucket,
    baseline,
    center: median(baseline),
    end: new Date(bucket.at.getTime() + (size === 'day' ? 24 : 1) * HOUR_MS),
    when: formatter(zone),
    weekday: DateTime.fromJSDate(bucket.at, { zone }).toFormat('cccc'),
  }
}

/** A finding about the judged bucket: from its start to its end, its value against the seasonal median. */
function seasonalFinding(account: PlanAccount, seasonal: NonNullable<ReturnType<typeof seasonalWindow>>, reason: string): Judged {
  const { bucket, end, center } = seasonal
  return { judged: true, finding: { account, from: bucket.at, to: end, value: bucket.value, reference: center, reason } }
}

/** A count above its seasonal median by more than `deviations` robust deviations. */
function judgeNegativeReactions(trigger: Extract<CrisisTrigger, { kind: 'negative_reactions' }>, account: PlanAccount, series: Point[], at: Date, size: BucketSize, zone: string): Judged {
  const seasonal = seasonalWindow(series, at, size, zone, trigger.baselineWeeks)
  if (!seasonal) return { judged: false }
  const { bucket, baseline, center, when, weekday } = seasonal
  // For small counts the MAD is often 0 (four Mondays with 2 angry reactions each); a count's
  // natural spread is about its square root, so the deviation is never less than √median, nor 1.
  const deviation = Math.max(MAD_SCALE * mad(baseline), Math.sqrt(Math.max(center, 1)))
  const threshold = center + trigger.deviations * deviation
  if (bucket.value <= threshold) return { judged: true, finding: null }
  return seasonalFinding(
    account,
    seasonal,
    `${trigger.metric} on ${account.name}: ${count(bucket.value)} in the ${size} from ${when(bucket.at)} (${zone}), against a usual ${count(center, 1)} on ${weekday}s (median of ${baseline.length} weeks, deviation ${count(deviation, 1)}); the limit is ${count(threshold, 1)} (${count(trigger.deviations, 1)} deviations above)`,
  )
}

/** A count more than `dropPercent` % below its seasonal median. */
function judgeEngagementCollapse(trigger: Extract<CrisisTrigger, { kind: 'engagement_collapse' }>, account: PlanAccount, series: Point[], at: Date, size: BucketSize, zone: string): Judged {
  const seasonal = seasonalWindow(series, at, size, zone, trigger.baselineWeeks)
  if (!seasonal || seasonal.center <= 0) return { judged: false }
  const { bucket, baseline, center, when, weekday } = seasonal
  const floor = center * (1 - trigger.dropPercent / 100)
  if (bucket.value >= floor) return { judged: true, finding: null }
  return seasonalFinding(
    account,
    seasonal,
    `${trigger.metric} on ${account.name} collapsed to ${count(bucket.value)} in the ${size} from ${when(bucket.at)} (${zone}), ${count((1 - bucket.value / center) * 100, 1)} % below a usual ${count(center, 1)} on ${weekday}s (median of ${baseline.length} weeks); the limit is ${count(trigger.dropPercent, 1)} % below`,
  )
}

/** The accounts a trigger watches: those it names (or all, or all of its network) that have its metric in a shape it reads. */
export function triggerAccounts(plan: Plan, trigger: CrisisTrigger): Array<PlanAccount & { shape: MetricShape }> {
  const metric = triggerMetric(trigger)
  return planAccounts(plan).flatMap((account) => {
    if (trigger.network && account.network !== trigger.network) return []
    if (trigger.accounts && !trigger.accounts.includes(account.id)) return []
    const shape = isNetwork(account.network) ? METRICS[account.network][metric]?.shape : undefined
    return shape && TRIGGER_SHAPES[trigger.kind].includes(shape) ? [{ ...account, shape }] : []
  })
}

/** Judges one trigger as of `at`. */
export async function evaluateTrigger(plan: Plan, trigger: CrisisTrigger, at: Date, source: CrisisDataSource): Promise<CrisisEvaluation> {
  const zone = plan.company.timezone
  const metric = triggerMetric(trigger)
  const accounts = triggerAccounts(plan, trigger)
  // One query per network and shape: a selection names one network.
  const groups = new Map<string, typeof accounts>()
  for (const account of accounts) {
    const key = `${account.network}/${account.shape}`
    groups.set(key, [...(groups.get(key) ?? []), account])
  }
  const results: Judged[] = []
  // Observations stamped exactly `at` count, as for KPIs.
  const upTo = new Date(at.getTime() + 1)
  for (const group of groups.values()) {
    const { network, shape } = group[0]!
    const selection: MetricSelection = { network, accountIds: group.map((a) => a.id), metric }
    if (trigger.kind === 'follower_drop') {
      const series = await source.levels(selection, new Date(at.getTime() - trigger.windowHours * HOUR_MS), upTo)
      for (const account of group) results.push(judgeFollowerDrop(trigger, account, series.get(account.id) ?? [], zone))
      continue
    }
    if (shape !== 'daily' && shape !== 'counter') continue
    const size: BucketSize = shape === 'daily' ? 'day' : 'hour'
    const series = await source.buckets(selection, shape, new Date(at.getTime() - lookbackMs(size, trigger.baselineWeeks)), upTo)
    for (const account of group) {
      const points = series.get(account.id) ?? []
      results.push(trigger.kind === 'negative_reactions' ? judgeNegativeReactions(trigger, account, points, at, size, zone) : judgeEngagementCollapse(trigger, account, points, at, size, zone))
    }
  }
  const findings = results.flatMap((r) => (r.judged && r.finding ? [r.finding] : []))
  const judged = results.some((r) => r.judged)
  const firing = findings.length > 0 ? true : judged ? false : null
  return {
    trigger,
    evaluatedAt: at,
    firing,
    accounts: findings.map((f) => f.account),
    window: findings.length ? { from: new Date(Math.min(...findings.map((f) => f.from.getTime()))), to: new Date(Math.max(...findings.map((f) => f.to.getTime()))) } : null,
    reason: findings.length ? findings.map((f) => f.reason).join('; ') : firing === false ? 'within the guide’s limits' : 'no data to judge',
    findings,
  }
}

/** Every trigger of the plan's crisis guide, judged as of `at`. */
export async function evaluateCrisis(plan: Plan, at: Date, source: CrisisDataSource): Promise<CrisisEvaluation[]> {
  const results: CrisisEvaluation[] = []
  for (const trigger of plan.crisis?.triggers ?? []) results.push(await evaluateTrigger(plan, trigger, at, source))
  return results
}
