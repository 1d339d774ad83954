import { createHash, createSign, generateKeyPairSync, randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_CHANNELS, DEMO_LINKEDIN_ORGANIZATIONS, DEMO_PROPERTIES, DEMO_X_USERS, TIKTOK_DEMO_ACCOUNTS, startSimulator, type RunningSimulator } from '../../simulator/index.ts'

/**
 * The simulated authorization servers (simulator/oauth.ts) against the contracts in
 * docs/accounts.md, over plain HTTP: each token endpoint's dialect, rotation, expiry and
 * revocation on the simulator's clock, PKCE, single-use codes, Google's JWT bearer grant, and how
 * each network's API refuses an issued token once it has expired. Instants are set explicitly.
 */

const START = new Date('2026-12-01T09:00:00Z')
const SECOND = 1000
const DAY = 86_400_000
const REDIRECT = 'http://127.0.0.1:53682/callback'

/** Response bodies are read loosely; the assertions say what shape they must have. */
type Json = any

let clock = START.getTime()
let sim: RunningSimulator
const at = (iso: string) => {
  clock = Date.parse(iso)
}
const later = (ms: number) => {
  clock += ms
}

beforeAll(async () => {
  sim = await startSimulator({ now: () => new Date(clock) })
  sim.oauth.registerClient('youtube', { clientId: 'google-app.apps.googleusercontent.com', clientSecret: 'google-secret' })
  sim.oauth.registerClient('x', { clientId: 'x-app', clientSecret: 'x-secret', redirectUris: [REDIRECT] })
  sim.oauth.registerClient('tiktok', { clientId: 'tiktok-key', clientSecret: 'tiktok-secret' })
  sim.oauth.registerClient('linkedin', { clientId: 'li-app', clientSecret: 'li-secret' })
})
afterAll(() => sim.close())

async function call(path: string, init: RequestInit = {}): Promise<{ status: number; body: Json; headers: Headers }> {
  const res = await fetch(`${sim.url}${path}`, { redirect: 'manual', signal: AbortSignal.timeout(5_000), ...init })
  const text = await res.text()
  let body: Json = text
  try {
    body = JSON.parse(text)
  } catch {
    // a text page or an empty redirect body
  }
  return { status: res.status, body, headers: res.headers }
}

function post(path: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return call(path, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(fields).toString() })
}

const basic = (id: string, secret: string) => ({ Authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` })
const bearer = (token: string, extra: Record<string, string> = {}) => ({ headers: { Authorization: `Bearer ${token}`, ...extra } })

function pkce(encoding: 'base64url' | 'hex' = 'base64url') {
  const verifier = randomBytes(48).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest(encoding) }
}

/** The headless consent: where the authorize endpoint sends the browser. */
async function authorize(path: string, params: Record<string, string>): Promise<URL> {
  const res = await call(`${path}?${new URLSearchParams(params)}`)
  expect(res.status).toBe(302)
  return new URL(res.headers.get('location')!)
}

const youtubeChannel = (token: string) => call(`/youtube/v3/channels?part=statistics&id=${DEMO_CHANNELS[0]!.id}`, bearer(token))
const ga4Report = (token: string) =>
  call(`/ga4/v1beta/properties/${DEMO_PROPERTIES[0]!.id}:runReport`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ dateRanges: [{ startDate: '2026-11-01', endDate: '2026-11-07' }], dimensions: [{ name: 'date' }], metrics: [{ name: 'sessions' }] }),
  })
const xUser = (token: string) => call(`/x/2/users/${DEMO_X_USERS[0]!.id}?user.fields=public_metrics`, bearer(token))
const tiktokUser = (token: string) => call('/tiktok/v2/user/info/?fields=open_id,follower_count', bearer(token))
const linkedinSize = (token: string) =>
  call(
    `/linkedin/rest/networkSizes/urn%3Ali%3Aorganization%3A${DEMO_LINKEDIN_ORGANIZATIONS[0]!.id}?edgeType=COMPANY_FOLLOWED_BY_MEMBER`,
    bearer(token, { 'LinkedIn-Version': '202612', 'X-Restli-Protocol-Version': '2.0.0' }),
  )

describe('Google (YouTube, GA4)', () => {
  const GOOGLE = { client_id: 'google-app.apps.googleusercontent.com', client_secret: 'google-secret' }
  const SCOPES = ['https://www.googleapis.com/auth/youtube.readonly', 'https://www.googleapis.com/auth/yt-analytics.readonly']

  it('refreshes without rotating; the access token lives an hour, then YouTube and GA4 refuse it as expired', async () => {
    at('2026-12-01T09:00:00Z')
    const refreshToken = sim.oauth.issueRefreshToken('youtube', { clientId: GOOGLE.client_id, scopes: SCOPES })
    const first = await post('/google-oauth2/token', { ...GOOGLE, grant_type: 'refresh_token', refresh_token: refreshToken })
    expect(first.status).toBe(200)
    expect(first.body).toEqual({ access_token: expect.stringMatching(/^ya29\./), expires_in: 3599, scope: SCOPES.join(' '), token_type: 'Bearer' })
    expect(first.body).not.toHaveProperty('refresh_token')
    // HTTP Basic is accepted too, and the same refresh token keeps working.
    const second = await post('/google-oauth2/token', { grant_type: 'refresh_token', refresh_token: refreshToken }, basic(GOOGLE.client_id, GOOGLE.client_secret))
    expect(second.status).toBe(200)
    expect(second.body.access_token).not.toBe(first.body.access_token)

    const token = first.body.access_token as string
    expect((await youtubeChannel(token)).status).toBe(200)
    expect((await ga4Report(token)).status).toBe(200)
    later(3599 * SECOND)
    const youtube = await youtubeChannel(token)
    expect(youtube.status).toBe(401)
    expect(youtube.body.error).toMatchObject({ code: 401, status: 'UNAUTHENTICATED', errors: [{ reason: 'authError', domain: 'global' }] })
    const ga4 = await ga4Report(token)
    expect(ga4.status).toBe(401)
    expect(ga4.body.error).toMatchObject({ code: 401, status: 'UNAUTHENTICATED', details: [{ reason: 'ACCESS_TOKEN_EXPIRED' }] })
    // A token the simulator did not issue keeps today's behaviour.
    expect((await youtubeChannel('static-token-from-env')).status).toBe(200)
  })

  it('answers a wrong secret, a revoked and an unknown refresh token in Google’s words', async () => {
    const refreshToken = sim.oauth.issueRefreshToken('ga4', { clientId: GOOGLE.client_id, scopes: ['https://www.googleapis.com/auth/analytics.readonly'] })
    const wrongSecret = await post('/google-oauth2/token', { ...GOOGLE, client_secret: 'nope', grant_type: 'refresh_token', refresh_token: refreshToken })
    expect(wrongSecret.status).toBe(401)
    expect(wrongSecret.body).toEqual({ error: 'invalid_client', error_description: 'Unauthorized' })
    const unknownClient = await post('/google-oauth2/token', { ...GOOGLE, client_id: 'other.apps.googleusercontent.com', grant_type: 'refresh_token', refresh_token: refreshToken })
    expect(unknownClient.body).toEqual({ error: 'invalid_client', error_description: 'The OAuth client was not found.' })

    const before = sim.oauth.stats('ga4').invalidGrant
    sim.oauth.revoke(refreshToken)
    const revoked = await post('/google-oauth2/token', { ...GOOGLE, grant_type: 'refresh_token', refresh_token: refreshToken })
    expect(revoked.status).toBe(400)
    expect(revoked.body).toEqual({ error: 'invalid_grant', error_description: 'Token has been expired or revoked.' })
    expect(sim.oauth.stats('youtube').invalidGrant).toBe(before + 1) // one server serves both
  })

  it('runs the authorization code flow with PKCE: refresh token only offline and at first consent, codes single-use, verifier checked', async () => {
    const { verifier, challenge } = pkce()
    const params = {
      client_id: GOOGLE.client_id,
      redirect_uri: REDIRECT,
      response_type: 'code',
      scope: SCOPES.join(' '),
      state: 'st-1',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      access_type: 'offline',
    }
    const back = await authorize('/google-accounts/o/oauth2/v2/auth', params)
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT)
    expect(back.searchParams.get('state')).toBe('st-1')
    expect(back.searchParams.get('scope')).toBe(SCOPES.join(' '))
    const code = back.searchParams.get('code')!
    const exchange = { ...GOOGLE, grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier }
    const tokens = await post('/google-oauth2/token', exchange)
    expect(tokens.status).toBe(200)
    expect(tokens.body).toMatchObject({ expires_in: 3599, token_type: 'Bearer', scope: SCOPES.join(' ') })
    expect(tokens.body.refresh_token).toMatch(/^1\/\//)

    const reused = await post('/google-oauth2/token', exchange)
    expect(reused.status).toBe(400)
    expect(reused.body.error).toBe('invalid_grant')

    // A second consent without prompt=consent gets no refresh token (Google sends it once).
    const again = pkce()
    const second = await authorize('/google-accounts/o/oauth2/v2/auth', { ...params, state: 'st-2', code_challenge: again.challenge })
    const noRefresh = await post('/google-oauth2/token', { ...exchange, code: second.searchParams.get('code')!, code_verifier: again.verifier })
    expect(noRefresh.status).toBe(200)
    expect(noRefresh.body).not.toHaveProperty('refresh_token')

    const third = await authorize('/google-accounts/o/oauth2/v2/auth', { ...params, state: 'st-3', prompt: 'consent' })
    const mismatch = await post('/google-oauth2/token', { ...exchange, code: third.searchParams.get('code')!, code_verifier: pkce().verifier })
    expect(mismatch.status).toBe(400)
    expect(mismatch.body).toEqual({ error: 'invalid_grant', error_description: 'Invalid code verifier.' })
  })

  it('accepts a service account’s RS256 JWT and refuses a wrongly signed or long-lived one', async () => {
    const email = 'collector@social-kpi-test.iam.gserviceaccount.com'
    const key = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 })
    sim.oauth.registerServiceAccount(email, key.publicKey.export({ type: 'spki', format: 'pem' }).toString())
    const iat = Math.floor(clock / 1000)
    const jwt = (claims: Record<string, unknown>, privateKey = key.privateKey) => {
      const head = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT' })).toString('base64url')
      const body = Buffer.from(JSON.stringify(claims)).toString('base64url')
      return `${head}.${body}.${createSign('RSA-SHA256').update(`${head}.${body}`).sign(privateKey).toString('base64url')}`
    }
    const claims = { iss: email, scope: 'https://www.googleapis.com/auth/analytics.readonly', aud: `${sim.url}/google-oauth2/token`, iat, exp: iat + 3600 }
    const grant = (assertion: string) => post('/google-oauth2/token', { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion })

    const ok = await grant(jwt(claims))
    expect(ok.status).toBe(200)
    expect(ok.body).toEqual({ access_token: expect.any(String), expires_in: 3599, token_type: 'Bearer' })
    expect((await ga4Report(ok.body.access_token)).status).toBe(200)

    const forged = await grant(jwt(claims, stranger.privateKey))
    expect(forged.status).toBe(400)
    expect(forged.body).toEqual({ error: 'invalid_grant', error_description: 'Invalid JWT Signature.' })
    const tooLong = await grant(jwt({ ...claims, exp: iat + 7200 }))
    expect(tooLong.status).toBe(400)
    expect(tooLong.body.error_description).toMatch(/^Invalid JWT: Token must be a short-lived token \(60 minutes\)/)
    const wrongAudience = await grant(jwt({ ...claims, aud: 'https://oauth2.googleapis.com/token' }))
    expect(wrongAudience.body.error).toBe('invalid_grant')
    expect(sim.oauth.stats('ga4').tokenRequests['urn:ietf:params:oauth:grant-type:jwt-bearer']).toBe(4)
  })
})

describe('X', () => {
  const SCOPES = 'tweet.read users.read offline.access'

  async function connect(scope = SCOPES) {
    const { verifier, challenge } = pkce()
    const back = await authorize('/x-web/i/oauth2/authorize', {
      response_type: 'code',
      client_id: 'x-app',
      redirect_uri: REDIRECT,
      scope,
      state: 'x-state',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    })
    expect(back.searchParams.get('state')).toBe('x-state')
    const code = back.searchParams.get('code')!
    return { code, verifier, exchange: () => post('/x/2/oauth2/token', { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier }, basic('x-app', 'x-secret')) }
  }

  it('exchanges a code (Basic auth) and rotates refresh tokens: the old one is refused at once', async () => {
    at('2026-12-01T09:00:00Z')
    const tokens = await (await connect()).exchange()
    expect(tokens.status).toBe(200)
    expect(tokens.body).toEqual({ token_type: 'bearer', expires_in: 7200, access_token: expect.any(String), scope: SCOPES, refresh_token: expect.any(String) })

    const before = sim.oauth.stats('x')
    const refreshed = await post('/x/2/oauth2/token', { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token }, basic('x-app', 'x-secret'))
    expect(refreshed.status).toBe(200)
    expect(refreshed.body.refresh_token).not.toBe(tokens.body.refresh_token)
    const stale = await post('/x/2/oauth2/token', { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token }, basic('x-app', 'x-secret'))
    expect(stale.status).toBe(400)
    expect(stale.body).toEqual({ error: 'invalid_request', error_description: 'Value passed for the token was invalid.' })
    expect(sim.oauth.stats('x').invalidGrant).toBe(before.invalidGrant + 1)
    expect(sim.oauth.stats('x').tokenRequests.refresh_token).toBe((before.tokenRequests.refresh_token ?? 0) + 2)

    // A confidential client without the Basic header is refused as X refuses it.
    const bodyOnly = await post('/x/2/oauth2/token', { grant_type: 'refresh_token', refresh_token: refreshed.body.refresh_token, client_id: 'x-app' })
    expect(bodyOnly.status).toBe(401)
    expect(bodyOnly.body).toEqual({ error: 'unauthorized_client', error_description: 'Missing valid authorization header' })
  })

  it('issues no refresh token without offline.access; codes are single-use and live 30 s', async () => {
    const online = await (await connect('tweet.read users.read')).exchange()
    expect(online.status).toBe(200)
    expect(online.body).not.toHaveProperty('refresh_token')

    const flow = await connect()
    expect((await flow.exchange()).status).toBe(200)
    const reused = await flow.exchange()
    expect(reused.status).toBe(400)
    expect(reused.body).toEqual({ error: 'invalid_request', error_description: 'Value passed for the authorization code was invalid.' })

    const slow = await connect()
    later(31 * SECOND)
    expect((await slow.exchange()).body.error_description).toBe('Value passed for the authorization code was invalid.')
  })

  it('refuses an expired issued access token with X’s 401 problem body', async () => {
    const tokens = await (await connect()).exchange()
    expect((await xUser(tokens.body.access_token)).status).toBe(200)
    later(7200 * SECOND)
    const expired = await xUser(tokens.body.access_token)
    expect(expired.status).toBe(401)
    expect(expired.body).toEqual({ title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' })
  })

  it('only redirects to the registered loopback URI (exact match, port included)', async () => {
    const { challenge } = pkce()
    const params = { response_type: 'code', client_id: 'x-app', scope: SCOPES, state: 's', code_challenge: challenge, code_challenge_method: 'S256' }
    expect((await call(`/x-web/i/oauth2/authorize?${new URLSearchParams({ ...params, redirect_uri: 'http://127.0.0.1:9999/callback' })}`)).status).toBe(400)
    expect((await call(`/x-web/i/oauth2/authorize?${new URLSearchParams({ ...params, redirect_uri: 'https://evil.example/callback' })}`)).status).toBe(400)
    const plain = await authorize('/x-web/i/oauth2/authorize', { ...params, redirect_uri: REDIRECT, code_challenge_method: 'plain' })
    expect(plain.searchParams.get('error')).toBe('invalid_request')
    expect(plain.searchParams.has('code')).toBe(false)
  })
})

describe('TikTok Display (Login Kit)', () => {
  const KEY = { client_key: 'tiktok-key', client_secret: 'tiktok-secret' }

  it('rotates refresh tokens, counts refresh_expires_in down, and answers a spent one with invalid_grant and a log_id', async () => {
    at('2026-12-01T09:00:00Z')
    const refreshToken = sim.oauth.issueRefreshToken('tiktok', { clientId: 'tiktok-key', scopes: ['user.info.basic', 'user.info.stats', 'video.list'] })
    later(10 * DAY)
    const refreshed = await post('/tiktok/v2/oauth/token/', { ...KEY, grant_type: 'refresh_token', refresh_token: refreshToken })
    expect(refreshed.status).toBe(200)
    expect(refreshed.body).toEqual({
      access_token: expect.stringMatching(/^act\./),
      expires_in: 7200,
      open_id: TIKTOK_DEMO_ACCOUNTS.display.id,
      refresh_expires_in: 170 * 86_400,
      refresh_token: expect.stringMatching(/^rft\./),
      scope: 'user.info.basic,user.info.stats,video.list',
      token_type: 'Bearer',
    })
    expect(refreshed.body.refresh_token).not.toBe(refreshToken)
    const spent = await post('/tiktok/v2/oauth/token/', { ...KEY, grant_type: 'refresh_token', refresh_token: refreshToken })
    expect(spent.status).toBe(400)
    expect(spent.body).toEqual({ error: 'invalid_grant', error_description: 'Refresh token is invalid or expired.', log_id: expect.stringMatching(/^20261211090000[0-9A-F]{20}$/) })

    const user = await tiktokUser(refreshed.body.access_token)
    expect(user.status).toBe(200)
    expect(user.body.data.user.open_id).toBe(TIKTOK_DEMO_ACCOUNTS.display.id)
    later(7200 * SECOND)
    const expired = await tiktokUser(refreshed.body.access_token)
    expect(expired.status).toBe(401)
    expect(expired.body.error).toMatchObject({ code: 'access_token_invalid' })
  })

  it('checks the desktop PKCE challenge as hex SHA-256: a base64url challenge does not verify; granted scopes come back in `scopes`', async () => {
    sim.oauth.narrowConsent('tiktok', ['user.info.basic', 'video.list'])
    try {
      const flow = async (encoding: 'base64url' | 'hex') => {
        const { verifier, challenge } = pkce(encoding)
        const back = await authorize('/tiktok-web/v2/auth/authorize/', {
          client_key: 'tiktok-key',
          response_type: 'code',
          scope: 'user.info.basic,user.info.stats,video.list',
          redirect_uri: REDIRECT,
          state: 'tt',
          code_challenge: challenge,
          code_challenge_method: 'S256',
        })
        expect(back.searchParams.get('scopes')).toBe('user.info.basic,video.list')
        return post('/tiktok/v2/oauth/token/', { ...KEY, grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: verifier })
      }
      const rfcStyle = await flow('base64url')
      expect(rfcStyle.status).toBe(400)
      expect(rfcStyle.body).toMatchObject({ error: 'invalid_request', error_description: 'Code verifier or code challenge is invalid.' })
      const hex = await flow('hex')
      expect(hex.status).toBe(200)
      expect(hex.body.scope).toBe('user.info.basic,video.list')
    } finally {
      sim.oauth.narrowConsent('tiktok', null)
    }
  })
})

describe('LinkedIn', () => {
  const APP = { client_id: 'li-app', client_secret: 'li-secret' }

  it('returns the same refresh token with a refresh_token_expires_in that counts down, and no token_type', async () => {
    at('2026-12-01T09:00:00Z')
    const refreshToken = sim.oauth.issueRefreshToken('linkedin', { clientId: 'li-app', scopes: ['rw_organization_admin'] })
    later(59 * DAY)
    const refreshed = await post('/linkedin-www/oauth/v2/accessToken', { ...APP, grant_type: 'refresh_token', refresh_token: refreshToken })
    expect(refreshed.status).toBe(200)
    expect(refreshed.body).toEqual({ access_token: expect.any(String), expires_in: 60 * 86_400, refresh_token: refreshToken, refresh_token_expires_in: 306 * 86_400, scope: 'rw_organization_admin' })

    expect((await linkedinSize(refreshed.body.access_token)).status).toBe(200)
    later(60 * DAY)
    const expired = await linkedinSize(refreshed.body.access_token)
    expect(expired.status).toBe(401)
    expect(expired.body).toEqual({ status: 401, serviceErrorCode: 65602, code: 'EXPIRED_ACCESS_TOKEN', message: 'The token used in the request has expired' })

    // 365 days after consent the refresh token itself is spent.
    at('2027-12-01T09:00:00Z')
    const late = await post('/linkedin-www/oauth/v2/accessToken', { ...APP, grant_type: 'refresh_token', refresh_token: refreshToken })
    expect(late.status).toBe(400)
    expect(late.body).toEqual({ error: 'invalid_request', error_description: 'The provided authorization grant or refresh token is invalid, expired or revoked' })
  })

  it('revoking the grant refuses its refresh token and its access tokens (REVOKED_ACCESS_TOKEN)', async () => {
    at('2026-12-02T09:00:00Z')
    const refreshToken = sim.oauth.issueRefreshToken('linkedin', { clientId: 'li-app', scopes: ['rw_organization_admin'] })
    const tokens = await post('/linkedin-www/oauth/v2/accessToken', { ...APP, grant_type: 'refresh_token', refresh_token: refreshToken })
    sim.oauth.revoke(refreshToken)
    const revoked = await linkedinSize(tokens.body.access_token)
    expect(revoked.status).toBe(401)
    expect(revoked.body).toMatchObject({ serviceErrorCode: 65601, code: 'REVOKED_ACCESS_TOKEN' })
    expect((await post('/linkedin-www/oauth/v2/accessToken', { ...APP, grant_type: 'refresh_token', refresh_token: refreshToken })).status).toBe(400)
  })

  it('redirects a refused consent with user_cancelled_authorize; an app without programmatic refresh gets none', async () => {
    sim.oauth.registerClient('linkedin', { clientId: 'li-unapproved', clientSecret: 's2', refreshTokens: false })
    const { verifier, challenge } = pkce()
    const params = { response_type: 'code', client_id: 'li-unapproved', redirect_uri: REDIRECT, scope: 'rw_organization_admin', state: 'li', code_challenge: challenge, code_challenge_method: 'S256' }
    sim.oauth.refuseConsent('linkedin')
    try {
      const refused = await authorize('/linkedin-www/oauth/v2/authorization', params)
      expect(Object.fromEntries(refused.searchParams)).toEqual({ error: 'user_cancelled_authorize', error_description: 'The user cancelled the authorization', state: 'li' })
    } finally {
      sim.oauth.refuseConsent('linkedin', false)
    }
    const back = await authorize('/linkedin-www/oauth/v2/authorization', params)
    const tokens = await post('/linkedin-www/oauth/v2/accessToken', {
      client_id: 'li-unapproved',
      client_secret: 's2',
      grant_type: 'authorization_code',
      code: back.searchParams.get('code')!,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
    })
    expect(tokens.status).toBe(200)
    expect(Object.keys(tokens.body).sort()).toEqual(['access_token', 'expires_in', 'scope'])
  })
})

describe('Meta debug_token', () => {
  it('reports a never-expiring Page token as expires_at 0 and a user token’s expiry, which Graph then enforces', async () => {
    at('2026-12-01T09:00:00Z')
    const dataAccess = new Date('2027-03-01T09:00:00Z')
    sim.oauth.setMetaTokenExpiry('page-token-never', { expiresAt: 0, dataAccessExpiresAt: dataAccess, scopes: ['pages_read_engagement', 'read_insights'] })
    const page = await call('/v25.0/debug_token?input_token=page-token-never&access_token=680000000000001%7Capp-secret')
    expect(page.status).toBe(200)
    expect(page.body.data).toMatchObject({ type: 'PAGE', expires_at: 0, data_access_expires_at: dataAccess.getTime() / 1000, is_valid: true, scopes: ['pages_read_engagement', 'read_insights'] })
    expect(page.body.data.app_id).toEqual(expect.any(String))

    const expiresAt = new Date('2026-12-01T10:00:00Z')
    sim.oauth.setMetaTokenExpiry('user-token-1h', { expiresAt, dataAccessExpiresAt: dataAccess, type: 'USER' })
    expect((await call('/v25.0/debug_token?input_token=user-token-1h', bearer('app-token'))).body.data).toMatchObject({ type: 'USER', expires_at: expiresAt.getTime() / 1000, is_valid: true })
    expect((await call(`/v25.0/${'298712583335639'}?fields=id,followers_count`, bearer('user-token-1h'))).status).toBe(200)

    at('2026-12-01T10:00:00Z')
    const debugged = await call('/v25.0/debug_token?input_token=user-token-1h', bearer('app-token'))
    expect(debugged.body.data).toMatchObject({ is_valid: false, error: { code: 190, subcode: 463 } })
    const refused = await call('/v25.0/298712583335639?fields=id,followers_count', bearer('user-token-1h'))
    expect(refused.status).toBe(400)
    expect(refused.body.error).toMatchObject({ type: 'OAuthException', code: 190, error_subcode: 463 })

    const missing = await call('/v25.0/debug_token', bearer('app-token'))
    expect(missing.body.error).toMatchObject({ code: 100 })
  })
})
