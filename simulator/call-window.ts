/**
 * A per-key call budget over a sliding window: at most `limit` calls in any `windowMs`. Refused
 * calls are not counted, so a client that waits as told gets back in.
 */
export type CallDecision = { allowed: true; used: number } | { allowed: false; regainMs: number }

export interface CallWindow {
  take(key: string, nowMs: number): CallDecision
}

export function createCallWindow(limit: number, windowMs: number): CallWindow {
  const calls = new Map<string, number[]>()
  return {
    take(key, nowMs) {
      const times = (calls.get(key) ?? []).filter((t) => t > nowMs - windowMs)
      calls.set(key, times)
      if (times.length >= limit) return { allowed: false, regainMs: times.reduce((a, b) => Math.min(a, b)) + windowMs - nowMs }
      times.push(nowMs)
      return { allowed: true, used: times.length }
    },
  }
}
