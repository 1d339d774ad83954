import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { clockFrom } from '../../core/clock.ts'
import { loadConfig } from '../../core/config.ts'
import { createRedis, type Redis } from '../../core/redis.ts'
import { openCredentials } from '../../ingest/auth/index.ts'
import { loadPlan, planAccounts } from '../../plan/plan.ts'
import { simulatorEnvironment, startSimulator, type RunningSimulator } from '../../simulator/index.ts'
import { silentLogger } from '../helpers/runtime.ts'
import { queuePrefix } from '../helpers/redis-keys.ts'
import { browserRequest, CROSS_SITE_NAVIGATION } from '../helpers/browser.ts'

const START = '2026-12-01T09:00:00+07:00'
const clock = clockFrom(new Date(START))
const dir = mkdtempSync(join(tmpdir(), 'social-kpi-connect-'))
const planFile = join(dir, 'plan.yaml')
let sim: RunningSimulator
let redis: Redis
let env: NodeJS.ProcessEnv

const PLAN = `
company: { name: Kopi Connect, timezone: Asia/Jakarta }
objectives: [{ id: reach, name: Reach }]
strategy:
  networks:
    - network: x
      accounts:
        - { id: x-main, name: Kopi X, apiId: "1600000000000000001", auth: { kind: oauth, clientIdEnv: X_CLIENT_ID, clientSecretEnv: X_CLIENT_SECRET } }
    - network: youtube
      accounts:
        - { id: yt-channel, name: Kopi YouTube, apiId: UCkopinusantara000000001, auth: { kind: oauth, clientIdEnv: GOOGLE_CLIENT_ID, clientSecretEnv: GOOGLE_CLIENT_SECRET } }
    - network: tiktok
      accounts:
        - { id: tt-main, name: Kopi TikTok, apiId: tt-kopinusantara-0001, auth: { kind: oauth, clientIdEnv: TIKTOK_CLIENT_KEY, clientSecretEnv: TIKTOK_CLIENT_SECRET } }
    - network: facebook
      accounts:
        - { id: fb-page, name: Kopi Page, apiId: "104729384756102", tokenEnv: FB_PAGE_TOKEN }
    - network: linkedin
      accounts:
        - { id: li-main, name: Kopi LinkedIn, apiId: "90000001", auth: { kind: oauth, clientIdEnv: LINKEDIN_CLIENT_ID, clientSecretEnv: LINKEDIN_CLIENT_SECRET } }
        - { id: li-seeded, name: Kopi LinkedIn seeded, apiId: "90000001", auth: { kind: oauth, clientIdEnv: LINKEDIN_CLIENT_ID, clientSecretEnv: LINKEDIN_CLIENT_SECRET, refreshTokenEnv: LINKEDIN_SEED_REFRESH_TOKEN } }
kpis:
  - { id: x-followers, name: X followers, objective: reach, network: x, metric: followers, kind: level, target: 10, period: month }
  - { id: yt-shares, name: Shares, objective: reach, network: youtube, metric: shares, kind: total, target: 10, period: month }
  - { id: fb-followers, name: Followers, objective: reach, network: facebook, metric: followers, kind: level, target: 10, period: month }
  - { id: li-followers, name: LinkedIn followers, objective: reach, network: linkedin, metric: followers, kind: level, target: 10, period: month }
alerting: { recipients: [social@kopinusantara.id] }
`

beforeAll(async () => {
  sim = await startSimulator({ now: clock, seed: 42 })
  sim.oauth.registerClient('x', { clientId: 'kopi-x-client', clientSecret: 'x-client-secret-0001' })
  sim.oauth.registerClient('youtube', { clientId: 'kopi-google-client', clientSecret: 'google-client-secret-0001' })
  sim.oauth.registerClient('tiktok', { clientId: 'kopitiktokkey', clientSecret: 'tiktok-client-secret-0001' })
  sim.oauth.registerClient('linkedin', { clientId: 'kopi-linkedin-client', clientSecret: 'linkedin-client-secret-0001' })
  writeFileSync(planFile, PLAN)
  redis = createRedis('redis://127.0.0.1:6379', 'worker')
  env = {
    ...process.env,
    ...simulatorEnvironment(sim.url),
    DATA_DIR: dir,
    QUEUE_PREFIX: queuePrefix('connect'),
    CLOCK_START: START,
    LOG_LEVEL: 'warn',
    TOKEN_STORE_KEY: randomBytes(32).toString('hex'),
    X_CLIENT_ID: 'kopi-x-client',
    X_CLIENT_SECRET: 'x-client-secret-0001',
    GOOGLE_CLIENT_ID: 'kopi-google-client',
    GOOGLE_CLIENT_SECRET: 'google-client-secret-0001',
    FB_PAGE_TOKEN: 'fb-page-token-0001',
    TIKTOK_CLIENT_KEY: 'kopitiktokkey',
    TIKTOK_CLIENT_SECRET: 'tiktok-client-secret-0001',
    LINKEDIN_CLIENT_ID: 'kopi-linkedin-client',
    LINKEDIN_CLIENT_SECRET: 'linkedin-client-secret-0001',
    LINKEDIN_SEED_REFRESH_TOKEN: sim.oauth.issueRefreshToken('linkedin', { clientId: 'kopi-linkedin-client', scopes: ['r_organization_social', 'rw_organization_admin'] }),
  }
})

afterAll(async () => {
  redis.disconnect()
  await sim.close()
  rmSync(dir, { recursive: true, force: true })
})

/**
 * Runs `social-kpi connect` as a user would, with the test as the browser: it opens the printed
 * link, follows the authorization server's redirect back to the loopback callback (a cross-site
 * top-level navigation), and returns what the command printed and its exit code. `before` runs
 * once the redirect is known and before the browser follows it (another tab's requests).
 */
async function connectAs(account: string, before?: (callback: URL) => Promise<void>): Promise<{ code: number | null; stdout: string; stderr: string; page: string }> {
  const child = spawn(process.execPath, ['bin/social-kpi.js', 'connect', account, '--plan', planFile, '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stderr.on('data', (chunk) => (stderr += chunk))
  const link = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      stdout += chunk
      const match = /^\s+(http:\/\/\S+)$/m.exec(stdout)
      if (match) resolve(match[1]!)
    })
    child.once('exit', () => reject(new Error(`connect exited before printing a link: ${stdout}${stderr}`)))
  })
  const consent = await fetch(link, { redirect: 'manual' })
  expect(consent.status).toBe(302)
  const callback = consent.headers.get('location')!
  expect(callback).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/)
  await before?.(new URL(callback))
  const page = (await browserRequest(callback, { headers: CROSS_SITE_NAVIGATION })).body
  const code = await new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve)))
  return { code, stdout, stderr, page }
}

function cli(args: string[]) {
  return spawnSync(process.execPath, ['bin/social-kpi.js', ...args], { env, encoding: 'utf8', timeout: 60_000 })
}

describe('social-kpi connect and accounts', () => {
  it('explain themselves in --help', () => {
    const connect = cli(['connect', '--help'])
    expect(connect.stdout).toMatch(/prints a link to open in a browser/)
    expect(connect.stdout).toContain('http://127.0.0.1:8765/callback')
    expect(connect.stdout).toContain('TOKEN_STORE_KEY')
    expect(cli(['accounts', '--help']).stdout).toMatch(/scopes granted\s+against\s+needed/)
  })

  it('before connecting, accounts says what to do', () => {
    const result = cli(['accounts', '--plan', planFile])
    expect(result.status).toBe(0)
    expect(result.stdout).toContain(`x/x-main "Kopi X": OAuth`)
    expect(result.stdout).toContain(`not connected — run: social-kpi connect x-main --plan ${planFile}`)
    expect(result.stdout).toMatch(/facebook\/fb-page "Kopi Page": static token in FB_PAGE_TOKEN\n {2}token: set/)
  })

  it('connects an X account end to end (PKCE, state, loopback redirect) and stores tokens the API accepts', async () => {
    // Another tab's page fires at the callback first, with a code of its own: refused, and the connect waits on.
    const result = await connectAs('x-main', async (callback) => {
      const forged = `${callback.origin}${callback.pathname}?code=attacker-code&state=guessed`
      const cors = await browserRequest(forged, { headers: { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'cors', 'Sec-Fetch-Dest': 'empty', Origin: 'https://evil.example' } })
      expect(cors.body).not.toContain('Connected')
      const navigation = await browserRequest(forged, { headers: CROSS_SITE_NAVIGATION })
      expect(navigation.status).toBe(400)
    })
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.page).toContain('Connected')
    const link = new URL(/^\s+(http:\/\/\S+)$/m.exec(result.stdout)![1]!)
    expect(link.pathname).toBe('/x-web/i/oauth2/authorize')
    expect(link.searchParams.get('code_challenge_method')).toBe('S256')
    expect(link.searchParams.get('scope')).toBe('tweet.read users.read offline.access')
    expect(result.stdout).toMatch(/Connected: tokens stored \(encrypted\) for x-main; the access token lasts until 1 Dec 2026, 11:0\d GMT\+7 and is renewed by the workers\./)
    expect(result.stdout).not.toContain('WARNING')
    expect(sim.oauth.stats('x').tokenRequests.authorization_code).toBe(1)

    // The workers find the connection in the store: no refresh needed, and the API takes the token.
    const config = loadConfig(env)
    const plan = await loadPlan(planFile)
    const account = planAccounts(plan).find((a) => a.id === 'x-main')!
    const token = await openCredentials({ config, plan, redis, now: clock, logger: silentLogger }).accessToken(account)
    expect(sim.oauth.stats('x').tokenRequests.refresh_token ?? 0).toBe(0)
    const user = await fetch(`${sim.url}/x/2/users/1600000000000000001?user.fields=public_metrics`, { headers: { Authorization: `Bearer ${token}` } })
    expect(user.status).toBe(200)

    const accounts = cli(['accounts', '--plan', planFile])
    expect(accounts.stdout).toMatch(/x\/x-main "Kopi X": OAuth \(renewed automatically\)\n {2}access token expires 2026-12-01T04:0\d:\d\dZ; last renewed 2026-12-01T02:0\d:\d\dZ/)
    expect(accounts.stdout).toContain('scopes granted: tweet.read users.read offline.access')
    expect(accounts.stdout).not.toContain(token)
  }, 60_000)

  it("connects a TikTok account in TikTok's own dialect (client_key, comma scopes, hex PKCE challenge)", async () => {
    const result = await connectAs('tt-main')
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const link = new URL(/^\s+(http:\/\/\S+)$/m.exec(result.stdout)![1]!)
    expect(link.searchParams.get('client_key')).toBe('kopitiktokkey')
    expect(link.searchParams.get('scope')).toBe('user.info.basic,user.info.stats,video.list')
    expect(link.searchParams.get('code_challenge')).toMatch(/^[0-9a-f]{64}$/)
    expect(sim.oauth.stats('tiktok').tokenRequests.authorization_code).toBe(1)
    expect(sim.oauth.stats('tiktok').invalidGrant).toBe(0)
  }, 60_000)

  it('warns when consent granted fewer scopes than the plan needs, naming the metrics they serve', async () => {
    sim.oauth.narrowConsent('youtube', ['https://www.googleapis.com/auth/youtube.readonly'])
    const result = await connectAs('yt-channel')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('WARNING: not granted: https://www.googleapis.com/auth/yt-analytics.readonly (needed for shares)')
    const accounts = cli(['accounts', '--plan', planFile])
    expect(accounts.stdout).toContain('MISSING scopes: https://www.googleapis.com/auth/yt-analytics.readonly (for shares)')
  }, 60_000)

  it('a refused consent ends with one plain line and exit code 1, and keeps the stored connection', async () => {
    const plan = await loadPlan(planFile)
    const account = planAccounts(plan).find((a) => a.id === 'yt-channel')!
    const credentials = openCredentials({ config: loadConfig(env), plan, redis, now: clock, logger: silentLogger })
    const before = await credentials.stored(account)
    expect(before?.refreshToken).toBeTruthy()
    sim.oauth.refuseConsent('youtube')
    const child = spawn(process.execPath, ['bin/social-kpi.js', 'connect', 'yt-channel', '--plan', planFile, '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const link = await new Promise<string>((resolve) =>
      child.stdout.on('data', (chunk) => {
        stdout += chunk
        const match = /^\s+(http:\/\/\S+)$/m.exec(stdout)
        if (match) resolve(match[1]!)
      }),
    )
    const consent = await fetch(link, { redirect: 'manual' })
    const callback = new URL(consent.headers.get('location')!)
    expect(callback.searchParams.get('error')).toBe('access_denied')
    const page = await browserRequest(callback.toString(), { headers: CROSS_SITE_NAVIGATION })
    expect(page.body).toContain('did not connect the account')
    const code = await new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve)))
    expect(code).toBe(1)
    expect(stderr.trim().split('\n')).toHaveLength(1)
    expect(stderr.trim()).toBe(
      'error: youtube did not connect the account: access was not granted at the consent page (access_denied: The user denied access to your application.); run connect again and allow access',
    )
    expect(await credentials.stored(account)).toEqual(before)
    sim.oauth.refuseConsent('youtube', false)
  }, 60_000)

  it("reads LinkedIn's comma-separated scopes: a fully granted connection misses none", async () => {
    const result = await connectAs('li-main')
    expect(result.code).toBe(0)
    expect(result.stdout).not.toContain('WARNING')
    const accounts = cli(['accounts', '--plan', planFile])
    const block = /^linkedin\/li-main .*\n(?: {2}.*\n)*/m.exec(accounts.stdout)?.[0]
    expect(block).toContain('  scopes granted: r_organization_social rw_organization_admin\n')
    expect(block).not.toContain('MISSING')
  }, 60_000)

  it('says an account with a refresh token in refreshTokenEnv is connected by it', () => {
    const accounts = cli(['accounts', '--plan', planFile])
    expect(accounts.stdout).toContain(
      'linkedin/li-seeded "Kopi LinkedIn seeded": OAuth (renewed automatically)\n  connected by seed: the refresh token in LINKEDIN_SEED_REFRESH_TOKEN is used at the first collection (scopes are known after it)\n',
    )
  })

  it('refuses a static-token account and names the fix', () => {
    const result = cli(['connect', 'fb-page', '--plan', planFile])
    expect(result.status).toBe(1)
    expect(result.stderr).toMatch(/fb-page uses a static token \(FB_PAGE_TOKEN\); to connect it with OAuth, give it auth:/)
  })
})
