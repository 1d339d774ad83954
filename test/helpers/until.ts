/** Polls `check` every `pollMs` until it holds; fails naming `what` after `timeoutMs` (a duration, not the clock). */
export async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000, pollMs = 100): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (performance.now() < deadline) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, pollMs))
  }
  throw new Error(`timed out waiting for ${what}`)
}
