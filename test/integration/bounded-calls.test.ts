import { afterAll, describe, expect, it } from 'vitest'
import { readSourceHealth } from '../../ingest/source-health.ts'
import { loadPlan, planAccounts, type Plan } from '../../plan/plan.ts'
import { simulatorEnvironment } from '../../simulator/index.ts'
import { writePlan } from '../chaos/bed.ts'
import { cliSandbox, runCliAsync } from '../helpers/cli.ts'
import { useSimulatorHarness } from '../helpers/simulator-harness.ts'

/**
 * Issue 21, "Bounded calls": a list whose cursor never ends, a cursor sent twice and an answer
 * larger than HTTP_MAX_ANSWER_BYTES each fail their account (or, for a part that serves some
 * metrics only, that part) with API_PAGING_ENDLESS or API_ANSWER_TOO_LARGE, at once and without
 * retries, keeping what the pages before gave; every other account is collected as usual.
 */
const NOW = new Date('2026-11-26T09:00:00Z')
const harness = useSimulatorHarness('bounded', () => NOW)
const sandbox = cliSandbox('bounded')
afterAll(() => sandbox.cleanup())
const plan: Plan = await loadPlan('examples/plan.yaml')
const account = (id: string) => planAccounts(plan).find((a) => a.id === id)!

/** Small enough that a test's huge answer stays small; every quiet answer of the simulator fits. */
const MAX_ANSWER_BYTES = 512 * 1024

const MAIN = account('kopi-nusantara')
const BANDUNG = account('kopi-nusantara-bandung')
const X = account('kopi-nusantara-x')
const YOUTUBE = account('kopi-nusantara-youtube')
const INSTAGRAM = account('kopi-nusantara-instagram')
const BUSINESS = account('kopi-nusantara-bandung-tiktok')
const FAULTY = new Set([MAIN.id, BANDUNG.id, X.id, YOUTUBE.id, INSTAGRAM.id, BUSINESS.id])

const literal = (path: string) => new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)
const POSTS = `/v25.0/${BANDUNG.apiId}/posts`
const MAIN_POSTS = `/v25.0/${MAIN.apiId}/posts`
const TIMELINE = `/x/2/users/${X.apiId}/tweets`
const UPLOADS = '/youtube/v3/playlistItems'
const MEDIA = `/v25.0/${INSTAGRAM.apiId}/media`
const VIDEOS = '/tiktok-business/v1.3/business/video/list/'

const endless = (call: string, pages: number) => `${call}: still another page after ${pages} pages, the most this list can hold; the walk stopped there`
const repeated = (call: string) => `${call}: the API sent the same next-page cursor after page 2 as after page 1; the walk stopped there (it would go round for ever)`

describe('bounded calls: endless lists and huge answers', () => {
  it('stop at the cap or the repeated cursor with a plain error, keep the pages read, and leave the other accounts whole', async () => {
    const collect = harness.collectJobs({ plan, env: { HTTP_MAX_ANSWER_BYTES: String(MAX_ANSWER_BYTES) } })
    harness.sim.injectFault({ path: literal(POSTS), paging: 'endless', times: 10_000 })
    harness.sim.injectFault({ path: literal(MAIN_POSTS), paging: 'repeated', times: 10_000 })
    harness.sim.injectFault({ path: literal(TIMELINE), paging: 'endless', times: 10_000 })
    harness.sim.injectFault({ path: literal(UPLOADS), paging: 'repeated', times: 10_000 })
    harness.sim.injectFault({ path: literal(MEDIA), hugeBodyBytes: 8 * MAX_ANSWER_BYTES, times: 10 })
    harness.sim.injectFault({ path: literal(VIDEOS), paging: 'endless', times: 10_000 })
    const before = harness.sim.requests().length

    const all = planAccounts(plan)
    const results = await Promise.allSettled(all.map(collect))
    harness.sim.clearFaults()
    const outcome = new Map(all.map((a, i) => [a.id, results[i]!]))
    const health = new Map((await readSourceHealth(harness.db.ch)).map((h) => [h.accountId, h]))
    const requests = harness.sim.requests().slice(before)
    const asked = (path: string) => requests.filter((r) => r.path === path).length
    // Each fault is checked on its own (soft), so a run on code without the caps shows every one that fails.
    const failed = (id: string, code: string, message: string) => {
      expect.soft(outcome.get(id)?.status, id).toBe('rejected')
      // Not retried within the round: BullMQ's UnrecoverableError.
      expect.soft((outcome.get(id) as PromiseRejectedResult | undefined)?.reason?.name, id).toBe('UnrecoverableError')
      expect.soft(health.get(id), id).toMatchObject({ status: 'failing', lastErrorCode: code, lastError: message })
    }

    // Facebook posts: an endless cursor stops at the walk's cap of 400 pages; a repeated one at once.
    expect.soft(asked(POSTS)).toBe(400)
    failed(BANDUNG.id, 'API_PAGING_ENDLESS', endless(`facebook GET ${POSTS}`, 400))
    expect.soft(asked(MAIN_POSTS)).toBe(2)
    failed(MAIN.id, 'API_PAGING_ENDLESS', repeated(`facebook GET ${MAIN_POSTS}`))

    // X: the timeline holds at most 3,200 posts, 32 pages of 100; the cap is twice that.
    expect.soft(asked(TIMELINE)).toBe(64)
    failed(X.id, 'API_PAGING_ENDLESS', endless(`x GET ${TIMELINE}`, 64))

    // YouTube: the uploads playlist sends its first page token again.
    expect.soft(asked(UPLOADS)).toBe(2)
    failed(YOUTUBE.id, 'API_PAGING_ENDLESS', repeated(`youtube GET ${UPLOADS}`))

    // Instagram: the media answer passes the size cap; one request, no retry.
    expect.soft(asked(MEDIA)).toBe(1)
    failed(INSTAGRAM.id, 'API_ANSWER_TOO_LARGE', `instagram GET ${MEDIA}: the answer is larger than ${MAX_ANSWER_BYTES} bytes (HTTP_MAX_ANSWER_BYTES); it was cut off unread`)

    // TikTok Business: the video list is one part of the account; it is skipped, the rest collected,
    // and as a KPI counts its video views, the account is degraded for them, with the reason.
    expect.soft(asked(VIDEOS)).toBe(500)
    const business = outcome.get(BUSINESS.id)!
    expect.soft(business.status).toBe('fulfilled')
    const summary = (business as PromiseFulfilledResult<{ status: string; summary: { skipped: string[]; observations: number } }>).value?.summary
    expect.soft(summary?.skipped).toEqual([`video list: ${endless(`tiktok GET ${VIDEOS}`, 500)}`])
    expect.soft(summary?.observations).toBeGreaterThan(0)
    expect.soft(health.get(BUSINESS.id)).toMatchObject({ status: 'degraded', lastErrorCode: 'metric_refused', refusedMetrics: ['views'] })
    expect.soft(health.get(BUSINESS.id)?.lastError).toContain('still another page after 500 pages')

    // What the pages before the fault gave is stored: each list's first page.
    await harness.writers.flush()
    const stored = await harness.db.ch.rows<{ account_id: string; posts: string }>(
      "SELECT account_id, uniqExact(object_id) AS posts FROM observations FINAL WHERE object_type = 'post' AND account_id IN {ids:Array(String)} GROUP BY account_id",
      { ids: [MAIN.id, BANDUNG.id, X.id, BUSINESS.id] },
    )
    const postsOf = new Map(stored.map((r) => [r.account_id, Number(r.posts)]))
    for (const id of [MAIN.id, BANDUNG.id, X.id, BUSINESS.id]) expect.soft(postsOf.get(id), id).toBeGreaterThan(0)

    // Every other account: collected and healthy.
    for (const quiet of all.filter((a) => !FAULTY.has(a.id))) {
      expect(outcome.get(quiet.id)!.status, quiet.id).toBe('fulfilled')
      expect(health.get(quiet.id), quiet.id).toMatchObject({ status: 'healthy', lastErrorCode: '' })
    }
  })

  it('collect --once ends on an endless cursor: the account fails with API_PAGING_ENDLESS, the others are collected, the round is evaluated', async () => {
    const dir = sandbox.tempDir()
    const { file, plan: narrowed } = writePlan(dir, { accounts: ['kopi-nusantara', 'kopi-nusantara-bandung'] })
    const tokens = Object.fromEntries(planAccounts(narrowed).map((a) => [a.tokenEnv!, `good-token-${a.id}`]))
    harness.sim.injectFault({ path: literal(POSTS), paging: 'endless', times: 100_000 })
    const before = harness.sim.requests().length
    const result = await runCliAsync(['collect', '--once', '--plan', file], sandbox.environment({ ...simulatorEnvironment(harness.sim.url), ...tokens, CLOCK_START: '2026-11-26T16:00:00+07:00' }), {
      limitMs: 120_000,
    })
    harness.sim.clearFaults()
    expect(result.signal, result.stderrLines.join('\n')).toBeNull()
    expect(result.code, result.stderrLines.join('\n')).toBe(0)
    expect(
      harness.sim
        .requests()
        .slice(before)
        .filter((r) => r.path === POSTS),
    ).toHaveLength(400)
    expect(result.stdout).toContain('facebook/kopi-nusantara-bandung: failing (API_PAGING_ENDLESS)')
    expect(result.stdout).toContain('facebook/kopi-nusantara: healthy')
    expect(result.stdout).toMatch(/KPIs as of 26 Nov 2026, 16:00 GMT\+7/)
  }, 150_000)
})
