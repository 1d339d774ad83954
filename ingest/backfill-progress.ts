import type { Queues } from '../core/queues.ts'
import type { BackfillChunk } from './backfill.ts'

export interface ChunkResult {
  state: 'completed' | 'failed'
  observations: number
  reason?: string
}

export interface AccountBackfill {
  /** `network/accountId` */
  key: string
  chunks: number
  failed: number
  observations: number
  /** One line per failed chunk: its window and why. */
  reasons: string[]
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Waits until every chunk's collect job has completed or failed (a job that disappeared counts as
 * failed), calling `onProgress` with the number finished after each look. No deadline: each job
 * is bounded by its own retries, and the command is stopped by a signal.
 */
export async function watchBackfill(
  queues: Pick<Queues, 'collect'>,
  chunks: BackfillChunk[],
  options: { pollMs?: number; onProgress?: (finished: number) => void } = {},
): Promise<Map<string, ChunkResult>> {
  const results = new Map<string, ChunkResult>()
  for (;;) {
    for (const chunk of chunks) {
      if (results.has(chunk.jobId)) continue
      const job = await queues.collect.getJob(chunk.jobId)
      const state = job ? await job.getState() : 'missing'
      if (state === 'completed') {
        const value = job!.returnvalue as { summary?: { observations?: number } } | undefined
        results.set(chunk.jobId, { state, observations: value?.summary?.observations ?? 0 })
      } else if (state === 'failed' || state === 'missing') {
        results.set(chunk.jobId, { state: 'failed', observations: 0, reason: job?.failedReason ?? 'the job disappeared' })
      }
    }
    options.onProgress?.(results.size)
    if (results.size === chunks.length) return results
    await pause(options.pollMs ?? 250)
  }
}

/** The chunks' outcomes per account, in the order of the chunks. */
export function summarizeBackfill(chunks: BackfillChunk[], results: Map<string, ChunkResult>): AccountBackfill[] {
  const byAccount = new Map<string, AccountBackfill>()
  for (const chunk of chunks) {
    const key = `${chunk.network}/${chunk.accountId}`
    const entry = byAccount.get(key) ?? { key, chunks: 0, failed: 0, observations: 0, reasons: [] }
    const result = results.get(chunk.jobId) ?? { state: 'failed', observations: 0, reason: 'not finished' }
    entry.chunks++
    entry.observations += result.observations
    if (result.state === 'failed') {
      entry.failed++
      entry.reasons.push(`${chunk.window.from}..${chunk.window.to}: ${result.reason}`)
    }
    byAccount.set(key, entry)
  }
  return [...byAccount.values()]
}
