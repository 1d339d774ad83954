import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { toClickHouseTime } from '../../core/clickhouse.ts'
import type { ObservationRow, SourceHealthRow } from '../../core/tables.ts'
import { describeInconsistencies, rawVersusFinal, TABLE_KINDS, type Rows } from '../chaos/bed.ts'
import { openTestClickHouse, type TestClickHouse } from '../helpers/clickhouse.ts'

/**
 * The chaos suite's raw-versus-FINAL check (test/chaos/bed.ts rawVersusFinal) on the real engine:
 * quiet on what idempotent re-writes and designed updates leave, and failing on each way a table
 * can hide a problem under FINAL: a fact written again with another value, a key FINAL drops, a
 * key split over partitions so that FINAL shows it twice and not at its newest version.
 */
let db: TestClickHouse
let rows: Rows
beforeAll(async () => {
  db = await openTestClickHouse('raw_final')
  rows = (query, params) => db.ch.rows(query, params)
})
afterAll(async () => {
  await db?.cleanup()
})

const AT = toClickHouseTime(new Date('2026-11-26T09:00:00Z'))
const LATER = toClickHouseTime(new Date('2026-11-26T09:05:00Z'))
const observation = (value: number, collectedAt: string): ObservationRow => ({
  network: 'facebook',
  account_id: 'kopi-nusantara',
  object_type: 'account',
  object_id: '104729384756102',
  metric: 'followers',
  shape: 'gauge',
  observed_at: AT,
  value,
  object_created_at: null,
  source_field: 'followers_count',
  api_version: 'v25.0',
  collected_at: collectedAt,
})
const health = (status: SourceHealthRow['status'], updatedAt: string): SourceHealthRow => ({
  network: 'facebook',
  account_id: 'kopi-nusantara',
  status,
  last_success_at: status === 'healthy' ? updatedAt : null,
  last_error_at: null,
  last_error_code: '',
  last_error: '',
  refused_metrics: [],
  quota_resets_at: null,
  updated_at: updatedAt,
})
const insert = (table: string, values: object[]) => db.ch.client.insert({ table, values, format: 'JSONEachRow' })
const check = (kinds?: Record<string, 'fact' | 'state'>) => rawVersusFinal(rows, kinds)
const table = async (name: string, kinds?: Record<string, 'fact' | 'state'>) => (await check(kinds)).tables.find((t) => t.table === name)!

describe('raw rows against FINAL', () => {
  it('finds nothing in what re-writes and updates leave: the same observation written again later, a status replaced', async () => {
    await insert('observations', [observation(1200, AT)])
    await insert('observations', [observation(1200, LATER)])
    await insert('source_health', [health('failing', AT)])
    await insert('source_health', [health('healthy', LATER)])
    const result = await check()
    expect(result.tables.map((t) => t.table).sort()).toEqual(Object.keys(TABLE_KINDS).sort())
    expect(result.inconsistencies).toBe(0)
    expect(await table('observations')).toMatchObject({ rawRows: 2, finalRows: 1, keys: 1, keysMissing: 0, notNewest: 0, differing: 0 })
    expect(result.sameValueRewrites).toBeGreaterThanOrEqual(1)
    expect(await table('source_health')).toMatchObject({ kind: 'state', rawRows: 2, finalRows: 1, differing: 1 })
    expect(result.updates).toBe(1)
  })

  it('fails on a fact written again with another value, which FINAL hides', async () => {
    await insert('observations', [observation(1250, toClickHouseTime(new Date('2026-11-26T09:10:00Z')))])
    const result = await check()
    expect(await table('observations')).toMatchObject({ rawRows: 3, finalRows: 1, differing: 2 })
    expect(result.inconsistencies).toBe(2)
    expect(describeInconsistencies(result)).toEqual([
      expect.stringMatching(/^observations \(fact\): 3 raw rows, 1 under FINAL; 0 keys missing, 0 not at the newest version, 2 rows differing from FINAL's, e\.g\. .*followers.*1200.*\(FINAL: .*1250/),
    ])
    await db.ch.command('TRUNCATE TABLE observations')
  })

  it('fails on a key FINAL drops (an is_deleted column) and on a key split over partitions that FINAL reads apart (twice, once at an old version)', async () => {
    await db.ch.command('CREATE TABLE handmade_deleted (k String, v UInt64, deleted UInt8, x Float64) ENGINE = ReplacingMergeTree(v, deleted) ORDER BY k')
    await insert('handmade_deleted', [{ k: 'a', v: 1, deleted: 0, x: 1 }])
    await insert('handmade_deleted', [{ k: 'a', v: 2, deleted: 1, x: 1 }])
    // Partitioned by the version, which is not in the key: a key's rows land in two partitions.
    await db.ch.command('CREATE TABLE handmade_partitioned (k String, v UInt64, x Float64) ENGINE = ReplacingMergeTree(v) PARTITION BY v ORDER BY k')
    await insert('handmade_partitioned', [{ k: 'a', v: 1, x: 1 }])
    await insert('handmade_partitioned', [{ k: 'a', v: 2, x: 1 }])
    const kinds = { ...TABLE_KINDS, handmade_deleted: 'state', handmade_partitioned: 'state' } as const
    const found = await check(kinds)
    expect(found.tables.find((t) => t.table === 'handmade_deleted')).toMatchObject({ rawRows: 2, finalRows: 0, keysMissing: 1, notNewest: 0 })
    // FINAL merges across partitions unless it is told not to, as ClickHouse may do by itself
    // (do_not_merge_across_partitions_select_final) when it takes the partitions to split the keys.
    expect(found.tables.find((t) => t.table === 'handmade_partitioned')).toMatchObject({ rawRows: 2, finalRows: 1, notNewest: 0 })
    const apart: Rows = (query, params) => db.ch.rows(`${query} SETTINGS do_not_merge_across_partitions_select_final = 1`, params)
    const split = await rawVersusFinal(apart, kinds)
    expect(split.tables.find((t) => t.table === 'handmade_partitioned')).toMatchObject({ rawRows: 2, finalRows: 2, keysMissing: 0, notNewest: 2 })
    expect(found.inconsistencies).toBe(1)
    expect(split.inconsistencies).toBe(3)
  })

  it('stops, naming it, at a ReplacingMergeTree table it does not know', async () => {
    await expect(check()).rejects.toThrow(/not in TABLE_KINDS \(test\/chaos\/bed\.ts\): handmade_deleted, handmade_partitioned;/)
  })
})
