import { randomBytes } from 'node:crypto'
import type { Job } from 'bullmq'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { processAlerts } from '../../alerts/engine.ts'
import { waitForIdle } from '../../cli/wait.ts'
import type { Config } from '../../core/config.ts'
import { createScrubber } from '../../core/logger.ts'
import { credentialAdvice, openCredentials, type Credentials } from '../../ingest/auth/index.ts'
import { createTokenStore } from '../../ingest/auth/token-store.ts'
import { createCollectors } from '../../ingest/collectors/index.ts'
import { readSourceHealth } from '../../ingest/source-health.ts'
import { parsePlan, planAccounts, type Plan, type PlanAccount } from '../../plan/plan.ts'
import { simulatorEnvironment, startSimulator, type OAuthNetwork, type RunningSimulator } from '../../simulator/index.ts'
import { createCollectProcessor, type CollectResult } from '../../workers/collect-worker.ts'
import { openAlertBed, type AlertBed } from '../helpers/alert-bed.ts'
import { silentLogger, testConfig } from '../helpers/runtime.ts'

/**
 * A refused refresh token is final for its account and costs one request, on every OAuth network,
 * whether the account started from a refresh token in `refreshTokenEnv` (the seed) or from one
 * `connect` stored; the other accounts collect in the same round, and the alert engine sends one
 * ACTION NEEDED email per account. Real parts: the simulator's authorization servers, Redis, the
 * embedded ClickHouse, the collect processor, the alert engine, the notify worker and SMTP.
 */

const HOUR = 3_600_000
const START = new Date('2026-12-01T02:00:00Z') // 09:00 in Jakarta
let now = START
const clock = () => now

/** One app per authorization server; Google's serves YouTube and GA4. */
const APPS: Record<OAuthNetwork, { env: string; clientId: string; secret: string }> = {
  youtube: { env: 'GOOGLE', clientId: 'kopi-google-client.apps.googleusercontent.com', secret: 'google-client-secret-0001' },
  ga4: { env: 'GOOGLE', clientId: 'kopi-google-client.apps.googleusercontent.com', secret: 'google-client-secret-0001' },
  x: { env: 'X', clientId: 'kopi-x-client', secret: 'x-client-secret-0001' },
  tiktok: { env: 'TIKTOK', clientId: 'kopitiktokkey', secret: 'tiktok-client-secret-0001' },
  linkedin: { env: 'LINKEDIN', clientId: 'kopi-linkedin-client', secret: 'linkedin-client-secret-0001' },
}
const SCOPES: Record<OAuthNetwork, string[]> = {
  youtube: ['https://www.googleapis.com/auth/youtube.readonly', 'https://www.googleapis.com/auth/yt-analytics.readonly'],
  ga4: ['https://www.googleapis.com/auth/analytics.readonly'],
  x: ['tweet.read', 'users.read', 'offline.access'],
  tiktok: ['user.info.basic', 'user.info.stats', 'video.list'],
  linkedin: ['r_organization_social', 'rw_organization_admin'],
}
const API_IDS: Record<OAuthNetwork, string> = {
  youtube: 'UCkopinusantara000000001',
  ga4: '412345678',
  x: '1600000000000000001',
  tiktok: 'tt-kopinusantara-0001',
  linkedin: '90000001',
}
const NETWORKS = Object.keys(APPS) as OAuthNetwork[]
const seedEnv = (network: OAuthNetwork) => `${network.toUpperCase()}_SEEDED_REFRESH_TOKEN`
const oauthAuth = (network: OAuthNetwork, seeded: boolean) => ({
  kind: 'oauth',
  clientIdEnv: `${APPS[network].env}_CLIENT_ID`,
  clientSecretEnv: `${APPS[network].env}_CLIENT_SECRET`,
  ...(seeded ? { refreshTokenEnv: seedEnv(network) } : {}),
})
const account = (network: OAuthNetwork, kind: 'seeded' | 'stored') => ({
  id: `${network}-${kind}`,
  name: `Kopi ${network} ${kind}`,
  apiId: API_IDS[network],
  auth: oauthAuth(network, kind === 'seeded'),
})

const plan: Plan = parsePlan(
  {
    company: { name: 'Kopi Nusantara bounded credentials', timezone: 'Asia/Jakarta' },
    objectives: [{ id: 'reach', name: 'Reach' }],
    strategy: {
      networks: [
        ...NETWORKS.map((network) => ({ network, accounts: [account(network, 'seeded'), account(network, 'stored')] })),
        { network: 'facebook', accounts: [{ id: 'fb-page', name: 'Kopi Page', apiId: '104729384756102', tokenEnv: 'FB_PAGE_TOKEN' }] },
      ].map((entry) =>
        // X gets a third account whose stored tokens were sealed with another TOKEN_STORE_KEY.
        entry.network === 'x' ? { ...entry, accounts: [...entry.accounts, { id: 'x-keyed', name: 'Kopi X keyed', apiId: API_IDS.x, auth: oauthAuth('x', false) }] } : entry,
      ),
    },
    kpis: [
      ...NETWORKS.filter((n) => n !== 'ga4').map((network) => ({
        id: `${network}-followers`,
        name: `${network} followers`,
        objective: 'reach',
        network,
        metric: 'followers',
        kind: 'level',
        target: 10,
        period: 'month',
      })),
      { id: 'ga4-sessions', name: 'Shop sessions', objective: 'reach', network: 'ga4', metric: 'sessions', kind: 'total', target: 10, period: 'month' },
      { id: 'fb-followers', name: 'Page followers', objective: 'reach', network: 'facebook', metric: 'followers', kind: 'level', target: 10, period: 'month' },
    ],
    alerting: { recipients: ['social@kopinusantara.id'] },
  },
  'bounded credentials plan',
)
const accounts = planAccounts(plan)
const byId = (id: string) => accounts.find((a) => a.id === id)!
const seeded = NETWORKS.map((n) => byId(`${n}-seeded`))
const stored = NETWORKS.map((n) => byId(`${n}-stored`))

let sim: RunningSimulator
let bed: AlertBed
let config: Config
let credentials: Credentials
/** The refresh token each account started from (the seed, or the one `connect` stored). */
const firstRefreshToken = new Map<string, string>()
let collect: (account: PlanAccount) => Promise<CollectResult>
const cleanups: Array<() => unknown> = []

beforeAll(async () => {
  sim = await startSimulator({ now: clock, seed: 42 })
  bed = await openAlertBed('bounded_credentials')
  const env: Record<string, string> = { ...simulatorEnvironment(sim.url), FB_PAGE_TOKEN: 'fb-page-token-long-lived', TOKEN_STORE_KEY: randomBytes(32).toString('base64'), HTTP_MAX_RETRIES: '1' }
  for (const network of NETWORKS) {
    const app = APPS[network]
    sim.oauth.registerClient(network, { clientId: app.clientId, clientSecret: app.secret })
    env[`${app.env}_CLIENT_ID`] = app.clientId
    env[`${app.env}_CLIENT_SECRET`] = app.secret
    const seed = sim.oauth.issueRefreshToken(network, { clientId: app.clientId, scopes: SCOPES[network] })
    env[seedEnv(network)] = seed
    firstRefreshToken.set(`${network}-seeded`, seed)
    firstRefreshToken.set(`${network}-stored`, sim.oauth.issueRefreshToken(network, { clientId: app.clientId, scopes: SCOPES[network] }))
  }
  const test = testConfig('bounded-credentials', env)
  cleanups.push(test.cleanup)
  config = test.config
  credentials = openCredentials({ config, plan, redis: bed.redis, now: clock, logger: silentLogger, scrub: createScrubber(config.secretValues([])) })
  // `connect` stored these: an access token already expired and the refresh token.
  for (const account of stored) {
    await credentials.saveGrant(account, { accessToken: `connected-${account.id}`, expiresIn: 0, refreshToken: firstRefreshToken.get(account.id)! }, SCOPES[account.network as OAuthNetwork])
  }
  // The keyed account's entry was written under a TOKEN_STORE_KEY that is no longer the one set.
  const oldKeyStore = createTokenStore({ redis: bed.redis, prefix: config.QUEUE_PREFIX, key: randomBytes(32) })
  const at = START.getTime()
  await oldKeyStore.write('x', 'x-keyed', {
    kind: 'oauth',
    accessToken: 'old-access-token-value',
    expiresAt: at + HOUR,
    issuedAt: at,
    refreshToken: 'old-refresh-token-value',
    scopes: SCOPES.x,
    connectedAt: at,
    renewedAt: at,
  })
  const processor = createCollectProcessor({
    plan,
    ch: bed.db.ch,
    writers: bed.writers,
    collectors: createCollectors(config, { retry: { baseDelayMs: 5 } }),
    credentials,
    lookbackDays: 28,
    now: clock,
    logger: silentLogger,
  })
  collect = (account) => processor({ data: { roundAt: now.toISOString(), network: account.network, accountId: account.id } } as Job)
  const worker = bed.notifyWorker({ now: clock })
  cleanups.push(() => worker.close())
})

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
  await bed?.close()
  await sim?.close()
})

type RoundResult = CollectResult | { status: 'failed'; code: string }

/** Collects every account of the plan at once, as the workers of one round do; the results by account id (a job that threw: `failed`). */
async function round(at: Date): Promise<Record<string, RoundResult>> {
  now = at
  const results = await Promise.all(
    accounts.map(async (account) => [account.id, await collect(account).catch((error: { code?: string }): RoundResult => ({ status: 'failed', code: String(error.code) }))] as const),
  )
  return Object.fromEntries(results)
}

/** The alert engine on this round's source health, then the notify worker's emails; the ACTION NEEDED ones sent so far. */
async function alertsAfter(at: Date) {
  const health = await readSourceHealth(bed.db.ch)
  await processAlerts(bed.engineDeps(plan, { tokenAdvice: credentialAdvice, now: clock }), [], health, at)
  await waitForIdle(bed.queue, 30_000)
  return bed.smtp.messages.filter((m) => (m.subject ?? '').includes('ACTION NEEDED'))
}

const emailsFor = (emails: Awaited<ReturnType<typeof alertsAfter>>, account: PlanAccount) =>
  emails.filter((m) => (m.subject ?? '').includes(`ACTION NEEDED: ${account.network} account "${account.name}" cannot be collected`))
const grantOf = (account: PlanAccount) => sim.oauth.grantStats(firstRefreshToken.get(account.id)!)
/** Refresh requests (and refusals) per OAuth account since `before` (a snapshot of grantStats). */
const snapshot = () => Object.fromEntries([...seeded, ...stored].map((a) => [a.id, grantOf(a)]))
const since = (before: ReturnType<typeof snapshot>, account: PlanAccount) => {
  const after = grantOf(account)
  return { refreshes: after.refreshes - before[account.id]!.refreshes, refused: after.refused - before[account.id]!.refused }
}
const statusOf = (results: Record<string, RoundResult>, ids: string[]) =>
  ids.map((id) => `${id}:${results[id]!.status}${results[id]!.status === 'unhealthy' ? `:${(results[id] as { errorCode: string }).errorCode}` : ''}`)

describe('a refused refresh token is final for its account, and only for it', () => {
  it('round 1: every account collects; a seed answered without a new refresh token stays the stored one; a changed TOKEN_STORE_KEY is one credential alert', async () => {
    const results = await round(START)
    const others = accounts.filter((a) => a.id !== 'x-keyed').map((a) => a.id)
    expect(statusOf(results, others)).toEqual(others.map((id) => `${id}:collected`))
    for (const account of [...seeded, ...stored]) expect(grantOf(account)).toEqual({ refreshes: 1, refused: 0 })
    // Google answers a refresh without refresh_token: the seed it was refreshed with is kept.
    for (const id of ['youtube-seeded', 'ga4-seeded']) expect((await credentials.stored(byId(id)))?.refreshToken).toBe(firstRefreshToken.get(id))
    // The store no longer opens with the key: the account's credential problem, not a failing, retried job.
    expect(results['x-keyed']).toEqual({ status: 'unhealthy', errorCode: 'token_store_key' })

    const emails = await alertsAfter(START)
    expect(emails.map((m) => m.subject)).toEqual(['[social-kpi] ACTION NEEDED: x account "Kopi X keyed" cannot be collected (token_store_key)'])
    expect(emails[0]!.text).toContain('TOKEN_STORE_KEY is not the key')
    expect(emails[0]!.text).toContain('social-kpi connect x-keyed')
    expect(emails[0]!.text).toContain('Other accounts: none had a problem at its last collection')
    expect(bed.smtp.messages.filter((m) => /STALE DATA/.test(m.subject ?? ''))).toEqual([])
  }, 60_000)

  it('round 2, seeds revoked: one refused refresh per seeded account, one ACTION NEEDED email each, the connected accounts collect in the same round', async () => {
    for (const account of seeded) sim.oauth.revoke(firstRefreshToken.get(account.id)!)
    const before = snapshot()
    const results = await round(new Date(START.getTime() + 3 * HOUR))
    expect(
      statusOf(
        results,
        seeded.map((a) => a.id),
      ),
    ).toEqual(seeded.map((a) => `${a.id}:unhealthy:reconnect_required`))
    expect(statusOf(results, [...stored.map((a) => a.id), 'fb-page'])).toEqual([...stored.map((a) => `${a.id}:collected`), 'fb-page:collected'])
    // LinkedIn's access token lasts 60 days: its revocation shows at the API, which is then refused once at the token endpoint.
    for (const account of seeded) expect(since(before, account), account.id).toEqual({ refreshes: 1, refused: 1 })
    for (const account of stored) expect(since(before, account).refused, account.id).toBe(0)

    const emails = await alertsAfter(now)
    for (const account of seeded) {
      const mine = emailsFor(emails, account)
      expect(mine, account.id).toHaveLength(1)
      expect(mine[0]!.subject).toContain('(reconnect_required)')
      expect(mine[0]!.text).toContain(`social-kpi connect ${account.id}`)
      expect(mine[0]!.text).toContain(`put a new refresh token in ${seedEnv(account.network as OAuthNetwork)}`)
      // What the email says of the others is what the source health says: the other seeded accounts and the keyed one.
      expect(mine[0]!.text).not.toContain('still collected as usual')
      expect(mine[0]!.text).toMatch(/Other accounts with a problem: .*\(x\/x-keyed\): unhealthy \(token_store_key\)/)
    }
    for (const account of [...stored, byId('fb-page')]) expect(emailsFor(emails, account), account.id).toEqual([])
  }, 60_000)

  it('round 3, connected tokens revoked: the ended seeds are not asked again, each connected account is refused once and alerted once', async () => {
    for (const account of stored) sim.oauth.revoke(firstRefreshToken.get(account.id)!)
    const before = snapshot()
    const results = await round(new Date(START.getTime() + 6 * HOUR))
    const oauthIds = [...seeded, ...stored].map((a) => a.id)
    expect(statusOf(results, oauthIds)).toEqual(oauthIds.map((id) => `${id}:unhealthy:reconnect_required`))
    expect(results['fb-page']!.status).toBe('collected')
    for (const account of seeded) expect(since(before, account), account.id).toEqual({ refreshes: 0, refused: 0 })
    for (const account of stored) expect(since(before, account), account.id).toEqual({ refreshes: 1, refused: 1 })

    // Another round and another evaluation: no request, no second email.
    const after = snapshot()
    await round(new Date(START.getTime() + 9 * HOUR))
    const emails = await alertsAfter(now)
    for (const account of [...seeded, ...stored]) {
      expect(since(after, account), account.id).toEqual({ refreshes: 0, refused: 0 })
      expect(grantOf(account).refused, account.id).toBe(1)
      expect(emailsFor(emails, account), account.id).toHaveLength(1)
    }
    expect(emails).toHaveLength(seeded.length + stored.length + 1)
    expect(emailsFor(emails, byId('fb-page'))).toEqual([])
  }, 60_000)

  it('a different refresh token put in refreshTokenEnv starts the seeded account again; the refused one is not asked again', async () => {
    const account = byId('youtube-seeded')
    const reopened = (seed: string) => {
      const test = testConfig('bounded-credentials-reseeded', { ...simulatorEnvironment(sim.url), ...secretsOf(config), QUEUE_PREFIX: config.QUEUE_PREFIX, [seedEnv('youtube')]: seed })
      cleanups.push(test.cleanup)
      return openCredentials({ config: test.config, plan, redis: bed.redis, now: clock, logger: silentLogger })
    }
    // A restart with the same (refused) seed: no request.
    await expect(reopened(firstRefreshToken.get(account.id)!).accessToken(account)).rejects.toMatchObject({ apiCode: 'reconnect_required' })
    expect(grantOf(account).refreshes).toBe(2)
    const fresh = sim.oauth.issueRefreshToken('youtube', { clientId: APPS.youtube.clientId, scopes: SCOPES.youtube })
    const credentials = reopened(fresh)
    expect(await credentials.accessToken(account)).toMatch(/^ya29\./)
    expect(sim.oauth.grantStats(fresh)).toEqual({ refreshes: 1, refused: 0 })
    expect((await credentials.stored(account))?.refreshToken).toBe(fresh)
  })

  it('a job waits for another worker’s renewal, or for the token endpoint, no longer than its bounds', async () => {
    // A fresh prefix (an empty store) and short timeouts: the lock is held by a worker that died.
    const seed = sim.oauth.issueRefreshToken('youtube', { clientId: APPS.youtube.clientId, scopes: SCOPES.youtube })
    const short = testConfig('bounded-credentials-short', { ...simulatorEnvironment(sim.url), ...secretsOf(config), [seedEnv('youtube')]: seed, HTTP_TIMEOUT_MS: '100' })
    cleanups.push(short.cleanup)
    const account = byId('youtube-seeded')
    const held = `${short.config.QUEUE_PREFIX}:credentials-lock:youtube:youtube-seeded`
    await bed.redis.set(held, 'a-worker-that-died', 'PX', 60_000)
    const waiting = openCredentials({ config: short.config, plan, redis: bed.redis, now: clock, logger: silentLogger })
    await expect(waiting.accessToken(account)).rejects.toMatchObject({ code: 'LOCK_TIMEOUT' })
    expect(sim.oauth.grantStats(seed)).toEqual({ refreshes: 0, refused: 0 })
    await bed.redis.del(held)
    // A token endpoint slower than HTTP_TIMEOUT_MS: a transient failure, the connection kept.
    sim.injectFault({ path: /\/google-oauth2\/token$/, times: 1, delayMs: 1_000 })
    await expect(waiting.accessToken(account)).rejects.toMatchObject({ code: 'API_REQUEST_FAILED', retryable: true })
    expect(await waiting.stored(account)).toBeUndefined()
    // An error answer that says server_error (TikTok lists it and answers errors with HTTP 200, read
    // as 400): also transient, not a refused credential.
    sim.injectFault({ path: /\/google-oauth2\/token$/, times: 1, status: 400, error: { message: 'backend unavailable', code: 0 } })
    await expect(waiting.accessToken(account)).rejects.toMatchObject({ code: 'API_REQUEST_FAILED', retryable: true, apiCode: 'server_error' })
    expect(await waiting.stored(account)).toBeUndefined()
    expect(await waiting.accessToken(account)).toMatch(/^ya29\./)
  }, 30_000)
})

/** The client ids, secrets and store key of a config, for a second config on the same apps and store key. */
function secretsOf(from: Config): Record<string, string> {
  const names = ['GOOGLE_CLIENT_ID', 'GOOGLE_CLIENT_SECRET', 'TOKEN_STORE_KEY']
  return Object.fromEntries(names.map((name) => [name, name === 'TOKEN_STORE_KEY' ? from.TOKEN_STORE_KEY! : from.secret(name)!]))
}
