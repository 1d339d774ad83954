import { describe, expect, it } from 'vitest'
import { ApiError } from '../../core/errors.ts'
import { loadPlan, planAccounts, type Plan, type PlanAccount } from '../../plan/plan.ts'
import type { SimulatedFault } from '../../simulator/index.ts'
import { readSourceHealth } from '../../ingest/source-health.ts'
import { useSimulatorHarness } from '../helpers/simulator-harness.ts'
import { CHAOS_AT, compare, describeInconsistencies, rawVersusFinal, recordFigures } from './bed.ts'

/**
 * Five accounts' APIs misbehave at once, each half-way through the account's collection: an HTML
 * error page, JSON cut short, a 5xx, a body of the wrong shape, and an answer slower than the
 * timeout. Each of those accounts fails its round with an error that names the network, the
 * endpoint and what was wrong; nothing it stores differs from what the API gives when it behaves
 * (rows stored before the fault are right, none are made up); the other five accounts store
 * exactly what they store on a quiet day; and at the next try (the queue's retry) every account
 * is whole again. test/integration/malformed-answers.test.ts covers the shapes of answers one by
 * one; this is all of them at once, against a reference collection.
 */
const AT = new Date(CHAOS_AT)
const ROUND = new Date('2026-11-26T09:00:00Z')
const harness = useSimulatorHarness('chaos_api', () => AT)
const plan: Plan = await loadPlan('examples/plan.yaml')

const TIMEOUT_MS = 1_000
const account = (id: string) => planAccounts(plan).find((a) => a.id === id)!
const json = { 'Content-Type': 'application/json; charset=UTF-8' }

/** Each fault hits both attempts of one request (HTTP_MAX_RETRIES=1), then the API behaves again. */
const FAULTS: Array<{ account: PlanAccount; what: string; fault: Omit<SimulatedFault, 'times'>; error: RegExp }> = [
  {
    account: account('kopi-nusantara-bandung'),
    what: 'HTML error page',
    fault: { path: /^\/v25\.0\/104729384756205\/posts$/, status: 502, body: '<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>' },
    error: /^facebook GET \/v25\.0\/104729384756205\/posts: Graph API answered HTTP 502 \(gave up after 2 attempts\)$/,
  },
  {
    account: account('kopi-nusantara-youtube'),
    what: 'truncated JSON',
    fault: { path: /^\/youtube\/v3\/videos$/, status: 200, headers: json, body: '{"kind":"youtube#videoListResponse","items":[{"id":"vid' },
    error: /^youtube GET \/youtube\/v3\/videos: the response is not valid JSON \(\d+ bytes of application\/json, cut short or malformed\) \(gave up after 2 attempts\)$/,
  },
  {
    account: account('kopi-nusantara-x'),
    what: '5xx',
    fault: {
      path: /^\/x\/2\/users\/1600000000000000001\/tweets$/,
      status: 503,
      headers: json,
      body: '{"title":"Service Unavailable","detail":"Service Unavailable","type":"about:blank","status":503}',
    },
    error: /^x GET \/x\/2\/users\/1600000000000000001\/tweets: X API Service Unavailable \(HTTP 503\) \(gave up after 2 attempts\)$/,
  },
  {
    account: account('kopi-nusantara-linkedin'),
    what: 'wrong shape',
    fault: { path: /^\/linkedin\/rest\/organizationalEntityShareStatistics$/, status: 200, headers: json, body: '{"elements":{"totalShareStatistics":"many"}}' },
    error: /^linkedin GET \/linkedin\/rest\/organizationalEntityShareStatistics: "elements" in the response is an object, not a list \(gave up after 2 attempts\)$/,
  },
  {
    account: account('kopi-nusantara-tiktok'),
    what: `slower than the ${TIMEOUT_MS} ms timeout`,
    fault: { path: /^\/tiktok\/v2\/video\/list\/$/, delayMs: 3 * TIMEOUT_MS },
    error: new RegExp(`^tiktok (POST|GET) /tiktok/v2/video/list/: no answer within ${TIMEOUT_MS} ms \\(HTTP_TIMEOUT_MS\\) \\(gave up after 2 attempts\\)$`),
  },
]
const FAULTY = new Set(FAULTS.map((f) => f.account.id))
const QUIET = planAccounts(plan).filter((a) => !FAULTY.has(a.id))

/** The collect job's processor as the worker runs it, against the file's simulator. */
const processor = () => harness.collectJobs({ plan, env: { HTTP_MAX_RETRIES: '1', HTTP_TIMEOUT_MS: String(TIMEOUT_MS) }, roundAt: () => ROUND })

/** Every stored observation of some accounts, by key (FINAL, as users read them). */
async function stored(accounts: PlanAccount[]): Promise<Map<string, number>> {
  await harness.writers.flush()
  const rows = await harness.db.ch.rows<{ k: string; value: number }>(
    "SELECT concat(network, '/', account_id, '/', metric, '/', object_type, '/', object_id, '/', toString(observed_at)) AS k, value FROM observations FINAL WHERE account_id IN {ids:Array(String)}",
    { ids: accounts.map((a) => a.id) },
  )
  return new Map(rows.map((r) => [r.k, r.value]))
}

describe('APIs answering HTML error pages, truncated JSON, 5xx, the wrong shape, and too slowly', () => {
  it('fails only those accounts, each with a plain error, stores no garbage, leaves the others whole, and recovers at the next try', async () => {
    const collect = processor()
    const all = planAccounts(plan)

    // A quiet round first: what each account's API gives at this instant.
    for (const result of await Promise.allSettled(all.map(collect))) expect(result.status === 'rejected' ? String(result.reason) : 'fulfilled').toBe('fulfilled')
    const reference = await stored(all)
    await harness.db.ch.command('TRUNCATE TABLE observations')
    await harness.db.ch.command('TRUNCATE TABLE source_health')

    // The same round with the faults.
    for (const { fault } of FAULTS) harness.sim.injectFault({ ...fault, times: 2 })
    const results = await Promise.allSettled(all.map(collect))
    const outcome = new Map(all.map((a, i) => [a.id, results[i]!]))
    const health = new Map((await readSourceHealth(harness.db.ch)).map((h) => [h.accountId, h]))
    const afterFaults = await stored(all)
    let partialRows = 0
    for (const { account, what, error } of FAULTS) {
      const result = outcome.get(account.id)!
      expect(result.status, `${account.id}: ${what}`).toBe('rejected')
      const reason = (result as PromiseRejectedResult).reason as ApiError
      expect(reason, what).toBeInstanceOf(ApiError)
      expect(reason.message, what).toMatch(error)
      expect(reason.retryable, what).toBe(true)
      expect(health.get(account.id), what).toMatchObject({ status: 'failing', lastError: reason.message, lastSuccessAt: null })
    }
    for (const quiet of QUIET) {
      expect(outcome.get(quiet.id)!.status, quiet.id).toBe('fulfilled')
      expect(health.get(quiet.id), quiet.id).toMatchObject({ status: 'healthy', lastErrorCode: '' })
    }
    // No garbage: every row stored is a row of the quiet round, with its value; the quiet accounts have all of theirs.
    const faulted = compare(reference, afterFaults)
    expect(faulted.extra).toEqual([])
    expect(faulted.changed).toEqual([])
    const missingOf = (id: string) => faulted.missing.filter((k) => k.split('/')[1] === id)
    for (const quiet of QUIET) expect(missingOf(quiet.id), quiet.id).toEqual([])
    for (const { account, what } of FAULTS) {
      expect(missingOf(account.id).length, `${account.id}: ${what}`).toBeGreaterThan(0)
      partialRows += [...afterFaults.keys()].filter((k) => k.split('/')[1] === account.id).length
    }

    // The queue's next try: the APIs behave again, and every account is whole and healthy.
    for (const result of await Promise.allSettled(FAULTS.map((f) => collect(f.account)))) expect(result.status === 'rejected' ? String(result.reason) : 'fulfilled').toBe('fulfilled')
    const recovered = compare(reference, await stored(all))
    expect(recovered).toEqual({ missing: [], extra: [], changed: [] })
    expect((await readSourceHealth(harness.db.ch)).map((h) => h.status)).toEqual(all.map(() => 'healthy'))
    // Raw rows against FINAL: the accounts collected again wrote the rows they had stored before the faults with the same values.
    const raw = await rawVersusFinal((query, params) => harness.db.ch.rows(query, params))
    expect(describeInconsistencies(raw)).toEqual([])

    recordFigures({
      scenario: '4 API: HTML, cut JSON, 5xx, shape, slow',
      rowsLost: recovered.missing.length,
      duplicates: faulted.extra.length + faulted.changed.length + recovered.extra.length,
      rawVersusFinal: raw.inconsistencies,
      emailsExpected: 0,
      emailsSent: 0,
      note: `5 of ${all.length} accounts failing with named errors, the other ${QUIET.length} whole; 0 garbage rows (${partialRows} valid rows kept from before the faults); all whole at the next try`,
    })
  })
})
