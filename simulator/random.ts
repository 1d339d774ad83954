/**
 * Seeded, stateless randomness: every draw is a hash of the seed and a label, so a value depends
 * only on what it describes (page, day, post), never on how many draws came before it.
 */
import { DAY_MS, HOUR_MS } from './time.ts'

/** cyrb53: a well-mixed 53-bit string hash, stable across runs and platforms. */
function hash53(text: string): number {
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ ch, 2654435761)
    h2 = Math.imul(h2 ^ ch, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507)
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507)
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return 4294967296 * (2097151 & h2) + (h1 >>> 0)
}

/** A uniform number in [0, 1) named by the seed and the parts. */
export function unit(seed: number, ...parts: ReadonlyArray<string | number>): number {
  return hash53(`${seed}|${parts.join('|')}`) / 2 ** 53
}

/** An integer in [min, max] named by the seed and the parts. */
export function intBetween(min: number, max: number, seed: number, ...parts: ReadonlyArray<string | number>): number {
  return min + Math.floor(unit(seed, ...parts) * (max - min + 1))
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-'

/** A random-looking id (like Graph's fbtrace_id) that is a pure function of its inputs. */
export function opaqueId(length: number, seed: number, ...parts: ReadonlyArray<string | number>): string {
  let out = ''
  for (let i = 0; out.length < length; i++) {
    let n = hash53(`${seed}|${parts.join('|')}|${i}`)
    for (let j = 0; j < 8 && out.length < length; j++) {
      out += ID_ALPHABET[n % 64]
      n = Math.floor(n / 64)
    }
  }
  return out
}

/**
 * A smooth daily wobble in [-1, 1] for one id, linear between seeded values at whole days. Every
 * simulated network's follower curve is steady growth plus this, so growth never looks machine-made.
 */
export function dailyWobble(seed: number, id: string, days: number, label = 'wobble'): number {
  const k = Math.floor(days)
  const a = 2 * unit(seed, id, label, k) - 1
  const b = 2 * unit(seed, id, label, k + 1) - 1
  return a + (b - a) * (days - k)
}

/**
 * That curve, on the hour: `start` people at `startMs` (a year before the scenario's today), growing
 * `perDay` a day plus a wobble of amplitude perDay/4. The wobble's slope is at most perDay/2 a day,
 * so a day's growth stays within [perDay/2, 3·perDay/2]. Never below 0.
 */
export function audienceOnTheHour(seed: number, id: string, atMs: number, curve: { startMs: number; start: number; perDay: number; label?: string }): number {
  const hour = Math.floor(atMs / HOUR_MS) * HOUR_MS
  const days = (hour - curve.startMs) / DAY_MS
  return Math.max(0, Math.floor(curve.start + curve.perDay * (days + 0.25 * dailyWobble(seed, id, days, curve.label))))
}

/**
 * How a simulated feed fills one UTC day (the Graph Pages, X and TikTok timelines): a scheduled
 * item at each of `hoursUtc`, up to `jitterMinutes` late; on some days (`extra.chance`) one
 * unscheduled item at a random minute; and on the day of a `burst`, `count` unscheduled items a
 * few seconds apart (an album upload, a batch of private videos, a run of reposts). Each
 * `offsetMs` puts its items a few seconds past the minute, so that the kinds never share an instant.
 */
export interface DaySchedule {
  hoursUtc: readonly number[]
  jitter: { minutes: number; label: string; offsetMs: number }
  extra: { chance: number; label: string; offsetMs: number }
  /** Given on the burst's day only. */
  burst?: { count: number; hour: number; stepMs: number; offsetMs: number }
}

/** The items of one UTC day starting at `dayStart` (day `day` of the history), oldest first. */
export function dayItems(seed: number, id: string, day: number, dayStart: number, schedule: DaySchedule): Array<{ ms: number; scheduled: boolean }> {
  const { jitter, extra, burst } = schedule
  const out: Array<{ ms: number; scheduled: boolean }> = []
  for (const hour of schedule.hoursUtc) {
    const late = Math.floor(unit(seed, id, jitter.label, day, hour) * jitter.minutes)
    out.push({ ms: dayStart + hour * HOUR_MS + late * 60_000 + jitter.offsetMs, scheduled: true })
  }
  if (unit(seed, id, extra.label, day) < extra.chance) {
    const minute = Math.floor(unit(seed, id, `${extra.label}-minute`, day) * 24 * 60)
    out.push({ ms: dayStart + minute * 60_000 + extra.offsetMs, scheduled: false })
  }
  for (let i = 0; i < (burst?.count ?? 0); i++) out.push({ ms: dayStart + burst!.hour * HOUR_MS + i * burst!.stepMs + burst!.offsetMs, scheduled: false })
  return out.sort((a, b) => a.ms - b.ms)
}
