import { describe, expect, it } from 'vitest'
import type { BackfillChunk } from '../../ingest/backfill.ts'
import { summarizeBackfill, type ChunkResult } from '../../ingest/backfill-progress.ts'

const chunk = (accountId: string, from: string, to: string): BackfillChunk => ({ network: 'facebook', accountId, window: { from, to }, jobId: `backfill-${accountId}-${from}` })

describe('backfill summary', () => {
  const chunks = [chunk('main', '2026-01-01', '2026-03-31'), chunk('main', '2026-03-31', '2026-06-29'), chunk('bandung', '2026-01-01', '2026-03-31')]

  it('adds up each account in the order of the chunks, with a line per failed chunk', () => {
    const results = new Map<string, ChunkResult>([
      [chunks[0]!.jobId, { state: 'completed', observations: 40 }],
      [chunks[1]!.jobId, { state: 'failed', observations: 0, reason: 'the API answered 500' }],
      [chunks[2]!.jobId, { state: 'completed', observations: 7 }],
    ])
    expect(summarizeBackfill(chunks, results)).toEqual([
      { key: 'facebook/main', chunks: 2, failed: 1, observations: 40, reasons: ['2026-03-31..2026-06-29: the API answered 500'] },
      { key: 'facebook/bandung', chunks: 1, failed: 0, observations: 7, reasons: [] },
    ])
  })

  it('counts a chunk without a result as failed rather than done', () => {
    const [main] = summarizeBackfill(chunks.slice(0, 1), new Map())
    expect(main).toMatchObject({ failed: 1, reasons: ['2026-01-01..2026-03-31: not finished'] })
  })
})
