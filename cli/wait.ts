import type { Queue } from 'bullmq'

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
// Timeouts here are durations, not times of day: measured on the monotonic clock.

/** Waits until a job has completed or failed; returns its final state and return value. */
export async function waitForJob(queue: Queue, jobId: string, options: { timeoutMs: number; onPoll?: () => Promise<void> }): Promise<{ state: string; value: unknown; reason?: string }> {
  const deadline = performance.now() + options.timeoutMs
  while (performance.now() < deadline) {
    await options.onPoll?.()
    const job = await queue.getJob(jobId)
    if (job) {
      const state = await job.getState()
      if (state === 'completed') return { state, value: job.returnvalue }
      if (state === 'failed') return { state, value: undefined, reason: job.failedReason }
    }
    await pause(200)
  }
  throw new Error(`job ${jobId} did not finish within ${Math.round(options.timeoutMs / 1000)} s`)
}

/** Waits until a queue has nothing waiting, active or delayed for less than `maxDelayMs`. */
export async function waitForIdle(queue: Queue, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (performance.now() < deadline) {
    const counts = await queue.getJobCounts('waiting', 'active', 'prioritized', 'waiting-children')
    if (Object.values(counts).every((n) => n === 0)) return
    await pause(200)
  }
}
