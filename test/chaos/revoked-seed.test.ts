import { randomBytes } from 'node:crypto'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { planAccounts } from '../../plan/plan.ts'
import { startSimulator, type RunningSimulator } from '../../simulator/index.ts'
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.ts'
import { until } from '../helpers/until.ts'
import { adminReader, adminRows, CHAOS_AT, describeInconsistencies, dropKeys, killLeftovers, rawVersusFinal, recordFigures, scratch, startProcess, writePlan, type StartedProcess } from './bed.ts'

/**
 * `social-kpi start` whose YouTube and GA4 accounts renew their tokens through Google's token
 * endpoint from a refresh token seeded in `refreshTokenEnv`, when the YouTube seed was revoked at
 * Google (the owner removed the app's access). The first round must ask for it once, be refused,
 * and mark the account `unhealthy` (`reconnect_required`) with one ACTION NEEDED email in that
 * same round, while every other account (GA4 on the same token endpoint included) collects in it;
 * the next round must not ask again. test/integration/bounded-credentials.test.ts drives the
 * collect processor and the alert engine alone on every OAuth network; this is the whole process.
 * What Google does (a revoked refresh token answered `invalid_grant`, RFC 6749 §5.2; a refresh
 * answer without a new refresh token) and where that is documented: docs/accounts.md, "Contracts and sources".
 */
const REDIS_URL = 'redis://127.0.0.1:6379'
const AT = new Date(CHAOS_AT)
/** Rounds every 10 s, the closest schedule allowed: the second round comes soon after the first. */
const SCHEDULE = '*/10 * * * * *'
const GOOGLE = { clientId: 'kopi-google-client.apps.googleusercontent.com', secret: 'google-client-secret-0001' }
// The scopes each account's metrics need (docs/accounts.md).
const YOUTUBE_SCOPES = ['https://www.googleapis.com/auth/youtube.readonly', 'https://www.googleapis.com/auth/yt-analytics.readonly']
const GA4_SCOPES = ['https://www.googleapis.com/auth/analytics.readonly']
const TOKEN_PATH = '/google-oauth2/token'
const googleAuth = (seedEnv: string) => ({ kind: 'oauth', clientIdEnv: 'GOOGLE_CLIENT_ID', clientSecretEnv: 'GOOGLE_CLIENT_SECRET', refreshTokenEnv: seedEnv })

let sim: RunningSimulator | undefined
let smtp: TestSmtp | undefined
let started: StartedProcess | undefined
const dirs = scratch('revoked-seed')

afterAll(async () => {
  await started?.stop(15_000)
  killLeftovers()
  await sim?.close()
  await smtp?.close()
  await dropKeys(REDIS_URL, dirs.queuePrefix)
  dirs.cleanup()
})

describe('a seeded Google refresh token revoked at Google', () => {
  it('is asked for once, refused, and alerted on once in the same round, while the other accounts collect; the next round does not ask again', async () => {
    sim = await startSimulator({ now: () => AT, seed: 42 })
    smtp = await startTestSmtp()
    for (const network of ['youtube', 'ga4'] as const) sim.oauth.registerClient(network, { clientId: GOOGLE.clientId, clientSecret: GOOGLE.secret })
    const youtubeSeed = sim.oauth.issueRefreshToken('youtube', { clientId: GOOGLE.clientId, scopes: YOUTUBE_SCOPES })
    const ga4Seed = sim.oauth.issueRefreshToken('ga4', { clientId: GOOGLE.clientId, scopes: GA4_SCOPES })
    sim.oauth.revoke(youtubeSeed)
    const { file, plan } = writePlan(dirs.dataDir, {
      accounts: ['kopi-nusantara', 'kopi-nusantara-linkedin', 'kopi-nusantara-youtube', 'kopi-nusantara-shop'],
      schedule: SCHEDULE,
      evaluateSchedule: '0 0 1 1 *',
      crisisTriggers: false,
      auth: { 'kopi-nusantara-youtube': googleAuth('YOUTUBE_REFRESH_TOKEN'), 'kopi-nusantara-shop': googleAuth('GA4_REFRESH_TOKEN') },
    })
    const youtube = planAccounts(plan).find((a) => a.network === 'youtube')!
    const others = planAccounts(plan).filter((a) => a.id !== youtube.id)
    const app = (started = startProcess({
      planFile: file,
      plan,
      dataDir: dirs.dataDir,
      queuePrefix: dirs.queuePrefix,
      simulatorUrl: sim.url,
      smtpUrl: smtp.url,
      clockStart: CHAOS_AT,
      env: {
        GOOGLE_CLIENT_ID: GOOGLE.clientId,
        GOOGLE_CLIENT_SECRET: GOOGLE.secret,
        TOKEN_STORE_KEY: randomBytes(32).toString('base64'),
        YOUTUBE_REFRESH_TOKEN: youtubeSeed,
        GA4_REFRESH_TOKEN: ga4Seed,
      },
    }))
    const tokenRequests = () => sim!.requests().filter((r) => r.path === TOKEN_PATH).length
    // `Running:` follows the first round's evaluation and its emails.
    await app.untilOutput('Running:')

    const rounds = () =>
      adminRows<{ round_at: string; accounts: number; collected: number; unhealthy: number; pending: string[]; evaluated_by: string }>(
        dirs.dataDir,
        'SELECT toString(round_at) AS round_at, accounts, collected, unhealthy, pending, evaluated_by FROM collection_rounds FINAL ORDER BY round_at',
      )
    const [first] = await rounds()
    // The first round: YouTube refused at its one refresh request, every other account collected in it.
    expect(first).toMatchObject({ accounts: planAccounts(plan).length, collected: others.length, unhealthy: 1, pending: [], evaluated_by: 'all_ended' })
    expect(sim.oauth.grantStats(youtubeSeed)).toEqual({ refreshes: 1, refused: 1 })
    expect(sim.oauth.grantStats(ga4Seed)).toEqual({ refreshes: 1, refused: 0 })
    const health = await adminRows<{ account_id: string; status: string; last_error_code: string; last_success_at: string | null }>(
      dirs.dataDir,
      'SELECT account_id, status, last_error_code, toString(last_success_at) AS last_success_at FROM source_health FINAL ORDER BY account_id',
    )
    expect(health.find((h) => h.account_id === youtube.id)).toMatchObject({ status: 'unhealthy', last_error_code: 'reconnect_required', last_success_at: null })
    // Collected in that round: healthy, last collected after the round's slot began (the round's row counts them).
    for (const other of others) {
      const their = health.find((h) => h.account_id === other.id)
      expect(their?.status, other.id).toBe('healthy')
      expect((their?.last_success_at ?? '') >= first!.round_at, `${other.id}: ${their?.last_success_at}`).toBe(true)
    }
    // One ACTION NEEDED email, decided at that round's evaluation.
    const actionNeeded = () => smtp!.messages.filter((m) => (m.subject ?? '').includes('ACTION NEEDED'))
    expect(actionNeeded().map((m) => m.subject)).toEqual([`[social-kpi] ACTION NEEDED: youtube account "${youtube.name}" cannot be collected (reconnect_required)`])
    expect(actionNeeded()[0]!.text).toContain(`social-kpi connect ${youtube.id}`)
    const decided = await adminRows<{ decided_at: string }>(dirs.dataDir, "SELECT toString(decided_at) AS decided_at FROM alert_notifications FINAL WHERE subject LIKE '%ACTION NEEDED%'")
    expect(decided).toEqual([{ decided_at: first!.round_at }])

    // The next round, evaluated and its notifications ended: no request for the refused seed, no second email.
    await until('the next round evaluated', async () => (await rounds()).length >= 2, 30_000, 200)
    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null })
    const notify = new Queue('notify', { connection, prefix: dirs.queuePrefix })
    try {
      await until('the notify queue idle', async () => Object.values(await notify.getJobCounts('waiting', 'active', 'delayed', 'prioritized')).every((n) => n === 0), 30_000)
    } finally {
      await notify.close()
      connection.disconnect()
    }
    const second = (await rounds())[1]!
    expect(second).toMatchObject({ collected: others.length, unhealthy: 1, pending: [] })
    expect(sim.oauth.grantStats(youtubeSeed)).toEqual({ refreshes: 1, refused: 1 })
    // GA4's access token lasts the hour: no renewal either.
    expect(sim.oauth.grantStats(ga4Seed)).toEqual({ refreshes: 1, refused: 0 })
    expect(tokenRequests()).toBe(2)
    expect(actionNeeded()).toHaveLength(1)

    const notifications = await adminRows<{ subject: string; delivery: string }>(dirs.dataDir, 'SELECT subject, delivery FROM alert_notifications FINAL ORDER BY subject')
    const subjects = smtp.messages.map((m) => m.subject ?? '')
    expect(notifications.map((n) => n.delivery)).toEqual(notifications.map(() => 'sent'))
    expect([...subjects].sort()).toEqual(notifications.map((n) => n.subject))
    const raw = await rawVersusFinal(adminReader(dirs.dataDir))
    expect(describeInconsistencies(raw)).toEqual([])
    recordFigures({
      scenario: '7 seeded Google refresh token revoked',
      rowsLost: 0,
      duplicates: subjects.length - new Set(subjects).size,
      rawVersusFinal: raw.inconsistencies,
      emailsExpected: notifications.length,
      emailsSent: subjects.length,
      note: `${tokenRequests()} token requests in 2 rounds: YouTube's seed refused once and not asked again, GA4's granted once; YouTube unhealthy (reconnect_required) with 1 ACTION NEEDED email in the first round, the ${others.length} other accounts collected in it`,
    })
    expect((await app.stop()).code).toBe(0)
  })
})
