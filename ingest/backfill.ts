import { DateTime } from 'luxon'
import { ArgumentError } from '../core/errors.ts'
import type { Network } from '../core/metrics.ts'
import { DEFAULT_JOB_OPTIONS, jobIds, type Payload, type Queues } from '../core/queues.ts'
import { planAccounts, type Plan } from '../plan/plan.ts'
import type { Collector } from './collectors/types.ts'

export interface BackfillRequest {
  /** First day, YYYY-MM-DD (inclusive). */
  from: string
  /** Last day, YYYY-MM-DD (exclusive); default today. */
  to?: string
  network?: string
  accountId?: string
}

export interface BackfillChunk {
  network: Network
  accountId: string
  window: { from: string; to: string }
  jobId: string
}

export interface BackfillPlan {
  chunks: BackfillChunk[]
  /** What cannot be had, said plainly, per account. */
  unavailable: Array<{ network: string; accountId: string; reason: string }>
}

const DAY = /^\d{4}-\d{2}-\d{2}$/

/**
 * Splits a backfill into chunks that each API accepts (its longest window, its oldest day), with
 * deterministic job ids: an interrupted backfill run again skips the chunks already done, and a
 * repeated one adds nothing.
 */
export function planBackfill(plan: Plan, collectors: Record<Network, Collector>, request: BackfillRequest, today: Date): BackfillPlan {
  const todayDay = DateTime.fromJSDate(today, { zone: 'UTC' }).startOf('day')
  const to = request.to ?? todayDay.toISODate()!
  for (const [name, value] of [
    ['--from', request.from],
    ['--to', to],
  ] as const) {
    if (!DAY.test(value) || !DateTime.fromISO(value, { zone: 'UTC' }).isValid) throw new ArgumentError(`${name}: "${value}" is not a date as YYYY-MM-DD`)
  }
  if (request.from >= to) throw new ArgumentError(`--from (${request.from}) must be before --to (${to})`)
  const accounts = planAccounts(plan).filter((a) => (!request.network || a.network === request.network) && (!request.accountId || a.id === request.accountId))
  if (accounts.length === 0) {
    throw new ArgumentError(`no account of the plan matches${request.network ? ` --network ${request.network}` : ''}${request.accountId ? ` --account ${request.accountId}` : ''}`)
  }
  const result: BackfillPlan = { chunks: [], unavailable: [] }
  for (const account of accounts) {
    const history = collectors[account.network].history
    if (!history || history.hasHistory?.(account) === false) {
      result.unavailable.push({ network: account.network, accountId: account.id, reason: 'this API keeps no history: only current counts, collected from now on' })
      continue
    }
    for (const note of history.notes) result.unavailable.push({ network: account.network, accountId: account.id, reason: note })
    const oldest = todayDay.minus({ days: history.maxAgeDays })
    let start = DateTime.fromISO(request.from, { zone: 'UTC' })
    const end = DateTime.fromISO(to, { zone: 'UTC' })
    if (start < oldest) {
      result.unavailable.push({ network: account.network, accountId: account.id, reason: `days before ${oldest.toISODate()} are beyond what the API keeps (${history.maxAgeDays} days)` })
      start = oldest
    }
    while (start < end) {
      const chunkEnd = DateTime.min(start.plus({ days: history.maxWindowDays }), end)
      const window = { from: start.toISODate()!, to: chunkEnd.toISODate()! }
      result.chunks.push({ network: account.network, accountId: account.id, window, jobId: jobIds.backfill(account.network, account.id, window.from, window.to) })
      start = chunkEnd
    }
  }
  return result
}

/** Enqueues the chunks not done yet; a chunk that failed before is retried. Returns how many were already done. */
export async function enqueueBackfill(queues: Queues, chunks: BackfillChunk[]): Promise<{ added: number; retried: number; alreadyDone: number }> {
  const counts = { added: 0, retried: 0, alreadyDone: 0 }
  for (const chunk of chunks) {
    const existing = await queues.collect.getJob(chunk.jobId)
    const state = existing ? await existing.getState() : undefined
    if (state === 'completed') {
      counts.alreadyDone++
    } else if (state === 'failed') {
      await existing!.retry('failed')
      counts.retried++
    } else if (!existing) {
      const data: Payload<'collect'> = { roundAt: `${chunk.window.to}T00:00:00.000Z`, network: chunk.network, accountId: chunk.accountId, window: chunk.window }
      await queues.collect.add('backfill', data, { ...DEFAULT_JOB_OPTIONS, jobId: chunk.jobId })
      counts.added++
    }
  }
  return counts
}
