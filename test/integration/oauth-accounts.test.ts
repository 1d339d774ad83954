import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRuntime, type Runtime } from '../../cli/runtime.ts'
import { waitForIdle, waitForJob } from '../../cli/wait.ts'
import type { Config } from '../../core/config.ts'
import { createLogger, createScrubber } from '../../core/logger.ts'
import { createRedis, type Redis } from '../../core/redis.ts'
import { openCredentials } from '../../ingest/auth/index.ts'
import { enqueueRound } from '../../ingest/scheduler.ts'
import { parsePlan, planAccounts, type Plan } from '../../plan/plan.ts'
import { simulatorEnvironment, startSimulator, type OAuthNetwork, type RunningSimulator } from '../../simulator/index.ts'
import { readSourceHealth } from '../../ingest/source-health.ts'
import { silentLogger, testConfig } from '../helpers/runtime.ts'
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.ts'

const MINUTE = 60_000
const START = new Date('2026-11-30T16:50:00Z') // 23:50 in Jakarta: the rounds cross into December
let now = START
const clock = () => now

/** Client ids and secrets of the apps "registered" with each simulated network. */
const APPS: Record<string, { network: OAuthNetwork; clientId: string; secret: string; scopes: string[] }> = {
  google: {
    network: 'youtube',
    clientId: 'kopi-google-client.apps.googleusercontent.com',
    secret: 'google-client-secret-0001',
    scopes: ['https://www.googleapis.com/auth/youtube.readonly', 'https://www.googleapis.com/auth/yt-analytics.readonly'],
  },
  x: { network: 'x', clientId: 'kopi-x-client', secret: 'x-client-secret-0001', scopes: ['tweet.read', 'users.read', 'offline.access'] },
  tiktok: { network: 'tiktok', clientId: 'kopitiktokkey', secret: 'tiktok-client-secret-0001', scopes: ['user.info.basic', 'user.info.stats', 'video.list'] },
  linkedin: { network: 'linkedin', clientId: 'kopi-linkedin-client', secret: 'linkedin-client-secret-0001', scopes: ['r_organization_social', 'rw_organization_admin'] },
}
const SERVICE_ACCOUNT = 'ga4-reader@kopi-nusantara.iam.gserviceaccount.com'

const oauth = (app: string) => ({
  kind: 'oauth',
  clientIdEnv: `${app.toUpperCase()}_CLIENT_ID`,
  clientSecretEnv: `${app.toUpperCase()}_CLIENT_SECRET`,
  refreshTokenEnv: `${app.toUpperCase()}_REFRESH_TOKEN`,
})

/** Accounts on every network that renews tokens, plus one static Facebook Page (its debug_token expiry is watched). */
const plan: Plan = parsePlan(
  {
    company: { name: 'Kopi Nusantara OAuth', timezone: 'Asia/Jakarta' },
    objectives: [{ id: 'reach', name: 'Reach' }],
    strategy: {
      networks: [
        { network: 'facebook', accounts: [{ id: 'fb-page', name: 'Kopi Page', apiId: '104729384756102', tokenEnv: 'FB_PAGE_TOKEN' }] },
        { network: 'youtube', accounts: [{ id: 'yt-channel', name: 'Kopi YouTube', apiId: 'UCkopinusantara000000001', auth: oauth('google') }] },
        { network: 'x', accounts: [{ id: 'x-main', name: 'Kopi X', apiId: '1600000000000000001', auth: oauth('x') }] },
        { network: 'tiktok', accounts: [{ id: 'tt-main', name: 'Kopi TikTok', apiId: 'tt-kopinusantara-0001', auth: oauth('tiktok') }] },
        { network: 'linkedin', accounts: [{ id: 'li-main', name: 'Kopi LinkedIn', apiId: '90000001', auth: oauth('linkedin') }] },
        { network: 'ga4', accounts: [{ id: 'ga4-shop', name: 'Kopi Shop', apiId: '412345678', auth: { kind: 'service_account', keyFileEnv: 'GA4_KEY_FILE' } }] },
      ],
    },
    kpis: [
      { id: 'fb-followers', name: 'Page followers', objective: 'reach', network: 'facebook', metric: 'followers', kind: 'level', target: 10, period: 'month' },
      { id: 'yt-followers', name: 'Subscribers', objective: 'reach', network: 'youtube', metric: 'followers', kind: 'level', target: 10, period: 'month' },
      { id: 'yt-shares', name: 'Shares', objective: 'reach', network: 'youtube', metric: 'shares', kind: 'total', target: 10, period: 'month' },
      { id: 'x-followers', name: 'X followers', objective: 'reach', network: 'x', metric: 'followers', kind: 'level', target: 10, period: 'month' },
      { id: 'tt-followers', name: 'TikTok followers', objective: 'reach', network: 'tiktok', metric: 'followers', kind: 'level', target: 10, period: 'month' },
      { id: 'li-followers', name: 'LinkedIn followers', objective: 'reach', network: 'linkedin', metric: 'followers', kind: 'level', target: 10, period: 'month' },
      { id: 'ga4-sessions', name: 'Shop sessions', objective: 'reach', network: 'ga4', metric: 'sessions', kind: 'total', target: 10, period: 'month' },
    ],
    alerting: { recipients: ['social@kopinusantara.id'] },
  },
  'oauth test plan',
)

let sim: RunningSimulator
let smtp: TestSmtp
let redis: Redis
let config: Config
let env: Record<string, string>
const cleanups: Array<() => unknown> = []
const logLines: string[] = []

beforeAll(async () => {
  sim = await startSimulator({ now: clock, seed: 42 })
  smtp = await startTestSmtp()
  redis = createRedis('redis://127.0.0.1:6379', 'worker')
  const seeds: Record<string, string> = {}
  for (const [name, app] of Object.entries(APPS)) {
    sim.oauth.registerClient(app.network, { clientId: app.clientId, clientSecret: app.secret })
    sim.oauth.setAccessTokenTtl(app.network, 60)
    seeds[`${name.toUpperCase()}_CLIENT_ID`] = app.clientId
    seeds[`${name.toUpperCase()}_CLIENT_SECRET`] = app.secret
    seeds[`${name.toUpperCase()}_REFRESH_TOKEN`] = sim.oauth.issueRefreshToken(app.network, { clientId: app.clientId, scopes: app.scopes })
  }
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  sim.oauth.registerServiceAccount(SERVICE_ACCOUNT, publicKey.export({ type: 'spki', format: 'pem' }).toString())
  sim.oauth.setAccessTokenTtl('ga4', 60)
  const keyDir = mkdtempSync(join(tmpdir(), 'social-kpi-ga4-key-'))
  cleanups.push(() => rmSync(keyDir, { recursive: true, force: true }))
  const keyFile = join(keyDir, 'ga4-key.json')
  writeFileSync(keyFile, JSON.stringify({ type: 'service_account', client_email: SERVICE_ACCOUNT, private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), private_key_id: 'k1' }))
  env = {
    ...simulatorEnvironment(sim.url),
    ...seeds,
    FB_PAGE_TOKEN: 'fb-page-token-long-lived',
    GA4_KEY_FILE: keyFile,
    TOKEN_STORE_KEY: randomBytes(32).toString('base64'),
    SMTP_URL: smtp.url,
    HTTP_MAX_RETRIES: '1',
  }
  const test = testConfig('oauth', env)
  cleanups.push(test.cleanup)
  config = test.config
  // The Page token expires in 5 days: inside the 7-day warning window.
  sim.oauth.setMetaTokenExpiry('fb-page-token-long-lived', { expiresAt: new Date(START.getTime() + 5 * 86_400_000), type: 'PAGE' })
})

afterAll(async () => {
  redis?.disconnect()
  await smtp?.close()
  await sim?.close()
  for (const cleanup of cleanups.reverse()) await cleanup()
})

function captureLogger() {
  return createLogger({
    level: 'debug',
    destination: new Writable({
      write: (chunk, _enc, done) => {
        logLines.push(String(chunk))
        done()
      },
    }) as never,
    scrub: createScrubber(),
  })
}

async function round(runtime: Runtime, at: Date): Promise<void> {
  now = at
  const queued = await enqueueRound(runtime.queues, runtime.rounds, plan, at)
  const result = await waitForJob(runtime.queues.evaluate, queued.evaluateJobId, { timeoutMs: 120_000 })
  expect(result.state).toBe('completed')
  await waitForIdle(runtime.queues.notify, 30_000)
}

describe('OAuth accounts stay connected', () => {
  let runtime: Runtime

  it('keeps Google, X, TikTok, LinkedIn and a GA4 service account healthy through 30 minutes of tokens that expire every minute', async () => {
    runtime = await startRuntime({ config, plan, logger: captureLogger(), scheduler: false, workers: true, now: clock })
    cleanups.push(() => runtime.shutdown())
    for (let minute = 0; minute <= 30; minute += 2) {
      await round(runtime, new Date(START.getTime() + minute * MINUTE))
      const health = await readSourceHealth(runtime.ch!)
      expect(health.map((h) => `${h.accountId}:${h.status}${h.lastErrorCode ? `:${h.lastErrorCode}` : ''}`).sort()).toEqual([
        'fb-page:healthy',
        'ga4-shop:healthy',
        'li-main:healthy',
        'tt-main:healthy',
        'x-main:healthy',
        'yt-channel:healthy',
      ])
    }
    // Every round found an expired token and renewed it ahead of use: one refresh per round per account.
    for (const network of ['youtube', 'x', 'tiktok', 'linkedin'] as const) expect(sim.oauth.stats(network).tokenRequests.refresh_token).toBeGreaterThanOrEqual(15)
    expect(sim.oauth.stats('ga4').tokenRequests['urn:ietf:params:oauth:grant-type:jwt-bearer']).toBeGreaterThanOrEqual(15)
    for (const network of ['youtube', 'x', 'tiktok', 'linkedin'] as const) expect(sim.oauth.stats(network).invalidGrant).toBe(0)
    // No call was refused for an expired token: renewal came before expiry, not after a failure.
    expect(logLines.join('')).toContain('access token renewed')
    expect(logLines.join('')).not.toContain('the API refused the access token')
  }, 300_000)

  it('warns once, five days ahead, that the Facebook Page token expires', async () => {
    const warnings = smtp.messages.filter((m) => /ACTION NEEDED: the access token of facebook account "Kopi Page" expires in 5 days/.test(m.subject ?? ''))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]!.text).toMatch(/FB_PAGE_TOKEN/)
  })

  it('two workers racing one rotation both keep working, and the stored refresh token is the newest', async () => {
    const account = planAccounts(plan).find((a) => a.id === 'x-main')!
    const before = sim.oauth.stats('x').tokenRequests.refresh_token ?? 0
    now = new Date(now.getTime() + 5 * MINUTE) // the stored access token has expired
    const second = createRedis('redis://127.0.0.1:6379', 'worker')
    cleanups.push(() => second.disconnect())
    const workerA = openCredentials({ config, plan, redis, now: clock, logger: silentLogger })
    const workerB = openCredentials({ config, plan, redis: second, now: clock, logger: silentLogger })
    const [a, b] = await Promise.all([workerA.accessToken(account), workerB.accessToken(account)])
    expect(a).toBe(b)
    expect((sim.oauth.stats('x').tokenRequests.refresh_token ?? 0) - before).toBe(1)
    // A process started afterwards (a restart) finds the rotated token and renews from it.
    now = new Date(now.getTime() + 5 * MINUTE)
    const restarted = openCredentials({ config, plan, redis: second, now: clock, logger: silentLogger })
    const renewed = await restarted.accessToken(account)
    expect(renewed).not.toBe(a)
    expect(sim.oauth.stats('x').invalidGrant).toBe(0)
  })

  it('a revoked refresh token: one ACTION NEEDED email naming connect, that account unhealthy, the rest collected', async () => {
    // TikTok says invalid_grant for a dead refresh token, LinkedIn invalid_request: both end the connection.
    const reader = openCredentials({ config, plan, redis, now: clock, logger: silentLogger })
    const before: Record<string, number> = {}
    for (const [id, network] of [
      ['tt-main', 'tiktok'],
      ['li-main', 'linkedin'],
    ] as const) {
      const stored = await reader.stored(planAccounts(plan).find((a) => a.id === id)!)
      sim.oauth.revoke(stored!.refreshToken!)
      before[network] = sim.oauth.stats(network).tokenRequests.refresh_token ?? 0
    }
    const start = now.getTime()
    for (const minutes of [20, 22, 24]) await round(runtime, new Date(start + minutes * MINUTE))
    const health = await readSourceHealth(runtime.ch!)
    for (const [id, network, name] of [
      ['tt-main', 'tiktok', 'Kopi TikTok'],
      ['li-main', 'linkedin', 'Kopi LinkedIn'],
    ] as const) {
      expect(health.find((h) => h.accountId === id)).toMatchObject({ status: 'unhealthy', lastErrorCode: 'reconnect_required' })
      const emails = smtp.messages.filter((m) => (m.subject ?? '').includes(`ACTION NEEDED: ${network} account "${name}"`))
      expect(emails).toHaveLength(1)
      expect(emails[0]!.text).toContain(`social-kpi connect ${id}`)
      // The ended connection is not hammered: one refused refresh, then none until it is connected again.
      expect((sim.oauth.stats(network).tokenRequests.refresh_token ?? 0) - before[network]!).toBe(1)
    }
    expect(health.filter((h) => !['tt-main', 'li-main'].includes(h.accountId)).every((h) => h.status === 'healthy')).toBe(true)
  }, 120_000)

  it('no token or secret is in the logs, the Redis job data or ClickHouse', async () => {
    const secrets = new Set<string>()
    for (const request of sim.requests()) if (request.token && request.token.length > 8) secrets.add(request.token)
    for (const app of Object.values(APPS)) secrets.add(app.secret)
    for (const [name, value] of Object.entries(env)) if (/REFRESH_TOKEN|SECRET|FB_PAGE_TOKEN/.test(name)) secrets.add(value)
    const reader = openCredentials({ config, plan, redis, now: clock, logger: silentLogger })
    for (const account of planAccounts(plan)) {
      const stored = await reader.stored(account)
      if (stored?.accessToken) secrets.add(stored.accessToken)
      if (stored?.refreshToken) secrets.add(stored.refreshToken)
    }
    expect(secrets.size).toBeGreaterThan(40)

    const logs = logLines.join('')
    expect(logs).toContain('access token renewed')
    const redisText: string[] = []
    for (const key of await redis.keys(`${config.QUEUE_PREFIX}*`)) {
      const type = await redis.type(key)
      if (type === 'string') redisText.push((await redis.get(key)) ?? '')
      if (type === 'hash') redisText.push(JSON.stringify(await redis.hgetall(key)))
      if (type === 'list') redisText.push(JSON.stringify(await redis.lrange(key, 0, -1)))
      if (type === 'zset') redisText.push(JSON.stringify(await redis.zrange(key, '0', '-1')))
      if (type === 'stream') redisText.push(JSON.stringify(await redis.xrange(key, '-', '+')))
    }
    expect(redisText.join('').length).toBeGreaterThan(1000)
    const ch = runtime.ch!
    const tables = await ch.rows<{ name: string }>("SELECT name FROM system.tables WHERE database = currentDatabase() AND engine NOT LIKE '%View%'")
    let stored = ''
    for (const table of tables) stored += await ch.readOnlyText(`SELECT * FROM ${table.name}`, { format: 'TabSeparated' })
    await runtime.shutdown()
    expect(stored).toContain('reconnect_required')
    for (const secret of secrets) {
      expect(logs.includes(secret), `a secret in the logs`).toBe(false)
      expect(
        redisText.some((text) => text.includes(secret)),
        'a secret in Redis',
      ).toBe(false)
      expect(stored.includes(secret), 'a secret in ClickHouse').toBe(false)
    }
  }, 60_000)
})
