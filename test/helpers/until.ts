import { setTimeout as sleep } from 'node:timers/promises'
import { vi } from 'vitest'

/**
 * The one way tests wait for something: asks `check` every `pollMs` (vitest's `vi.waitUntil`) until
 * it holds, and fails naming `what` after `timeoutMs`, a duration (real under libfaketime), not the
 * clock. An error thrown by `check` ends the wait with that error.
 */
export async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000, pollMs = 100): Promise<void> {
  let thrown = false
  const asked = async () => {
    try {
      return await check()
    } catch (error) {
      thrown = true
      throw error
    }
  }
  await vi.waitUntil(asked, { timeout: timeoutMs, interval: pollMs }).catch((error: unknown) => {
    throw thrown ? error : new Error(`timed out waiting for ${what}`)
  })
}

/**
 * A pause of `ms` (a duration), for the waits that are not for a condition: letting anything still
 * under way show up before asserting that nothing more came, or waiting out a delay the code named.
 */
export const pause = (ms: number): Promise<void> => sleep(ms)
