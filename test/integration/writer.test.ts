import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../core/logger.ts'
import { BatchingWriter } from '../../core/clickhouse-writer.ts'
import { openTestClickHouse, type TestClickHouse } from '../helpers/clickhouse.ts'
import { pause } from '../helpers/until.ts'

let db: TestClickHouse
const logger = createLogger({ level: 'silent' })

interface Row {
  kpi_id: string
  evaluated_at: string
}

beforeAll(async () => {
  db = await openTestClickHouse('writer')
  await db.ch.command('CREATE TABLE plain (kpi_id String, evaluated_at DateTime64(3)) ENGINE = MergeTree ORDER BY kpi_id SETTINGS non_replicated_deduplication_window = 100')
})
afterAll(async () => db?.cleanup())

const rows = (prefix: string, n: number): Row[] => Array.from({ length: n }, (_, i) => ({ kpi_id: `${prefix}-${i}`, evaluated_at: '2026-11-01 00:00:00.000' }))
const count = async (prefix: string) => Number((await db.ch.rows<{ n: string }>(`SELECT count() AS n FROM plain WHERE startsWith(kpi_id, {p:String})`, { p: `${prefix}-` }))[0]!.n)

describe('BatchingWriter', () => {
  it('batches concurrent writes into one insert and resolves each writer once stored', async () => {
    const writer = new BatchingWriter<Row>({ ch: db.ch, table: 'plain', maxRows: 1000, flushIntervalMs: 50, logger })
    await Promise.all([writer.write(rows('a', 3)), writer.write(rows('b', 4))])
    expect(await count('a')).toBe(3)
    expect(await count('b')).toBe(4)
    const [parts] = await db.ch.rows<{ n: string }>("SELECT count() AS n FROM system.parts WHERE database = currentDatabase() AND table = 'plain' AND active")
    expect(Number(parts!.n)).toBe(1)
    await writer.close()
  })

  it('flushes on size without waiting for the timer, in chunks of at most maxRows', async () => {
    const writer = new BatchingWriter<Row>({ ch: db.ch, table: 'plain', maxRows: 10, flushIntervalMs: 60_000, logger })
    await writer.write(rows('c', 25))
    expect(await count('c')).toBe(25)
    await writer.close()
  })

  it('sends the first rows after a quiet interval at once, then at most one batch per interval while rows trickle', async () => {
    const writer = new BatchingWriter<Row>({ ch: db.ch, table: 'plain', maxRows: 1000, flushIntervalMs: 60_000, logger })
    await writer.write(rows('q', 2)) // no batch went out within the interval: stored without waiting for it
    expect(await count('q')).toBe(2)
    const trickled = writer.write(rows('r', 1))
    await pause(300)
    expect(writer.pendingRows).toBe(1) // a batch went out just now: this one waits for the timer
    await writer.flush()
    await trickled
    expect(await count('r')).toBe(1)
    await writer.close()
  })

  it('drops a re-delivered identical batch (idempotency token)', async () => {
    const writer = new BatchingWriter<Row>({ ch: db.ch, table: 'plain', maxRows: 100, flushIntervalMs: 10, logger })
    await writer.write(rows('d', 5))
    await writer.write(rows('d', 5))
    expect(await count('d')).toBe(5)
    await writer.close()
  })

  it('flushes what is queued on close and refuses writes afterwards', async () => {
    const writer = new BatchingWriter<Row>({ ch: db.ch, table: 'plain', maxRows: 100, flushIntervalMs: 60_000, logger })
    const pending = writer.write(rows('e', 2))
    await writer.close()
    await pending
    expect(await count('e')).toBe(2)
    await expect(writer.write(rows('f', 1))).rejects.toThrow(/closed/)
    await writer.close()
  })

  it('tells its observer the rows stored and failed, and says how many wait', async () => {
    const seen: string[] = []
    const observer = { written: (table: string, n: number) => void seen.push(`${table} written ${n}`), failed: (table: string, n: number) => void seen.push(`${table} failed ${n}`) }
    const writer = new BatchingWriter<Row>({ ch: db.ch, table: 'plain', maxRows: 4, flushIntervalMs: 60_000, logger, observer })
    const waiting = writer.write(rows('h', 3))
    expect(writer.pendingRows).toBe(3)
    await writer.flush()
    await waiting
    expect(writer.pendingRows).toBe(0)
    await writer.write(rows('i', 6))
    expect(await writer.write([{ kpi_id: 'bad', evaluated_at: 'not a time' }], { flushNow: true }).catch((e) => e.code)).toBe('CLICKHOUSE_WRITE_FAILED')
    // Chunks of at most maxRows; a failed batch counts its rows once.
    expect(seen).toEqual(['plain written 3', 'plain written 4', 'plain written 2', 'plain failed 1'])
    expect(await count('i')).toBe(6)
    await writer.close()
  })

  it('rejects the writers of a batch that cannot be stored, without retrying a bad row', async () => {
    const writer = new BatchingWriter<Row>({ ch: db.ch, table: 'plain', maxRows: 100, flushIntervalMs: 10, logger })
    const error = await writer.write([{ kpi_id: 'g', evaluated_at: 'not a time' }]).catch((e) => e)
    expect(error.code).toBe('CLICKHOUSE_WRITE_FAILED')
    expect(error.message).not.toMatch(/after \d+ attempts/)
    await writer.close()
  })
})
