/**
 * The simulated networks' OAuth 2.0 authorization servers (docs/accounts.md): one server, spoken
 * in four dialects (simulator/oauth-dialects.ts): Google (YouTube and GA4), X, TikTok, LinkedIn.
 * Meta has no refresh grant; its `debug_token` answer is built here from what tests set.
 *
 * - Token endpoint: authorization_code with PKCE S256 (redirect_uri must equal the one given at
 *   authorize; codes are single-use and short-lived), refresh_token (rotating where the network
 *   rotates: the old token dies at once), and at Google the service-account JWT bearer grant
 *   (RS256 checked against a key a test registered; aud = this endpoint; exp - iat ≤ 3600 s).
 * - Authorize endpoint, headless: it checks the request and answers 302 to the loopback
 *   redirect_uri with code and state, as the real one does once the user consents. Tests can
 *   narrow or refuse consent.
 * - Issued access tokens expire on the simulator's clock and can be revoked. `refusal()` tells the
 *   dispatcher, which then hands each API the token as one of its own `expired…` / `revoked…` /
 *   `invalid…` test tokens, so every API refuses it in its documented words. Tokens the simulator
 *   did not issue are left alone.
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto'
import type { SimRequest, SimResponse, SimulatedNetwork } from './network.ts'
import { DIALECTS, type OAuthServerName, type Refusal, type TokenDialect } from './oauth-dialects.ts'
import { opaqueId } from './random.ts'
import { tiktokLogId } from './tiktok-common.ts'
import { pacificLongTime } from './time.ts'

/** The project's networks whose accounts can hold an OAuth grant (Google's server serves youtube and ga4). */
export type OAuthNetwork = 'youtube' | 'ga4' | 'x' | 'tiktok' | 'linkedin'

export interface OAuthStats {
  /** Token-endpoint requests by grant_type (as sent; '' when absent). */
  tokenRequests: Record<string, number>
  /** Refused grants: bad, spent, rotated-out, expired or revoked codes, refresh tokens and assertions, in the network's own words (X and LinkedIn say invalid_request). */
  invalidGrant: number
  /** Authorize requests that reached the consent step. */
  authorizations: number
}

export interface OAuthHooks {
  /** A client registered with the network; without a secret it is a public client. `redirectUris` restricts the loopback redirects; `refreshTokens: false` is a LinkedIn app without programmatic refresh tokens. */
  registerClient(network: OAuthNetwork, client: { clientId: string; clientSecret?: string; redirectUris?: readonly string[]; refreshTokens?: boolean }): void
  /** A grant as if the user had consented: its refresh token (`subject` is TikTok's open_id). */
  issueRefreshToken(network: OAuthNetwork, grant: { clientId: string; scopes: readonly string[]; subject?: string }): string
  /** Lifetime of access tokens issued from now on. */
  setAccessTokenTtl(network: OAuthNetwork, seconds: number): void
  /** Lifetime of refresh grants made from now on; null: they do not expire. */
  setRefreshTokenTtl(network: OAuthNetwork, seconds: number | null): void
  /** A refresh token ends its whole grant (its access tokens too); an access token ends itself. */
  revoke(token: string): void
  /** Refresh requests that presented a refresh token of this token's grant (rotated ones included), and how many were refused. */
  grantStats(refreshToken: string): { refreshes: number; refused: number }
  /** A Google service account whose JWT assertions are signed by the key matching `publicKeyPem`. */
  registerServiceAccount(email: string, publicKeyPem: string): void
  /** Consent from now on grants only these of the asked scopes; null: all of them. */
  narrowConsent(network: OAuthNetwork, scopes: readonly string[] | null): void
  /** Consent from now on is refused (the redirect carries the network's access_denied). */
  refuseConsent(network: OAuthNetwork, refused?: boolean): void
  /** What debug_token reports for a Meta token, and when the Graph simulator starts refusing it (0 = never). */
  setMetaTokenExpiry(token: string, expiry: { expiresAt: Date | 0; dataAccessExpiresAt?: Date | 0; type?: 'USER' | 'PAGE'; scopes?: readonly string[] }): void
  stats(network: OAuthNetwork): OAuthStats
}

export interface SimulatedOAuth {
  networks: SimulatedNetwork[]
  hooks: OAuthHooks
  /** Undefined, or the test-token prefix the API should see for this token (expired, revoked, invalid). */
  refusal(token: string, nowMs: number): 'expired' | 'revoked' | 'invalid' | undefined
  /** The `data` of Graph's GET /debug_token for `inputToken`. */
  debugToken(inputToken: string, nowMs: number): unknown
}

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer'
const GRANT_REFUSALS = new Set<Refusal>(['bad_code', 'redirect_mismatch', 'bad_verifier', 'bad_refresh', 'bad_assertion'])
/** Clock skew allowed on a JWT's iat (UNCONFIRMED: Google's exact tolerance is not published). */
const JWT_SKEW_S = 300
const META_APP_ID = '680000000000001'
const META_SCOPES = ['pages_show_list', 'pages_read_engagement', 'read_insights', 'instagram_basic', 'instagram_manage_insights', 'ads_read']
const DAY_S = 86_400

const SERVER_OF: Record<OAuthNetwork, OAuthServerName> = { youtube: 'google', ga4: 'google', x: 'x', tiktok: 'tiktok', linkedin: 'linkedin' }

interface Client {
  clientId: string
  clientSecret?: string
  redirectUris?: readonly string[]
  refreshTokens: boolean
}

interface Grant {
  server: OAuthServerName
  clientId: string
  scopes: readonly string[]
  subject?: string
  /** Undefined: no expiry by time. */
  refreshExpiresAt?: number
  revoked: boolean
  /** Refresh requests that presented one of its refresh tokens, and those refused. */
  refreshes: number
  refused: number
}

interface ServerState {
  dialect: TokenDialect
  clients: Map<string, Client>
  accessTtl: number
  refreshTtl: number | undefined
  narrowTo: readonly string[] | null
  refuse: boolean
  /** `client subject` pairs that consented once (Google sends a refresh token only the first time). */
  consented: Set<string>
  stats: OAuthStats
}

interface MetaToken {
  expiresAt: number
  dataAccessExpiresAt: number
  type: 'USER' | 'PAGE'
  scopes: readonly string[]
}

class Refused extends Error {
  constructor(
    readonly kind: Refusal,
    readonly detail = '',
  ) {
    super(kind)
  }
}

export function createOAuth(options: { seed: number; now: () => Date }): SimulatedOAuth {
  const servers = new Map<OAuthServerName, ServerState>(
    DIALECTS.map((dialect) => [
      dialect.name,
      {
        dialect,
        clients: new Map(),
        accessTtl: dialect.accessTtlSeconds,
        refreshTtl: dialect.refreshTtlSeconds,
        narrowTo: null,
        refuse: false,
        consented: new Set(),
        stats: { tokenRequests: {}, invalidGrant: 0, authorizations: 0 },
      },
    ]),
  )
  const codes = new Map<
    string,
    { server: OAuthServerName; clientId: string; redirectUri: string; challenge: string; scopes: readonly string[]; subject?: string; refreshes: boolean; expiresAt: number; used: boolean }
  >()
  const refreshTokens = new Map<string, { grant: Grant; current: boolean }>()
  const accessTokens = new Map<string, { server: OAuthServerName; grant?: Grant; expiresAt: number; revoked: boolean }>()
  const serviceAccounts = new Map<string, KeyObject>()
  const metaTokens = new Map<string, MetaToken>()
  let minted = 0

  const serverFor = (network: OAuthNetwork) => {
    const state = SERVER_OF[network] && servers.get(SERVER_OF[network])
    if (!state) throw new TypeError(`no simulated authorization server for ${network}`)
    return state
  }
  const mint = (server: OAuthServerName, kind: string) => opaqueId(32, options.seed, 'oauth', server, kind, ++minted)

  function newGrant(state: ServerState, clientId: string, scopes: readonly string[], subject: string | undefined, nowMs: number): Grant {
    return {
      server: state.dialect.name,
      clientId,
      scopes,
      subject,
      refreshExpiresAt: state.refreshTtl === undefined ? undefined : nowMs + state.refreshTtl * 1000,
      revoked: false,
      refreshes: 0,
      refused: 0,
    }
  }

  function newRefreshToken(state: ServerState, grant: Grant): string {
    const token = state.dialect.refreshToken(mint(state.dialect.name, 'refresh'))
    refreshTokens.set(token, { grant, current: true })
    return token
  }

  /** A token answer: a new access token, and the refresh token when there is one. */
  function tokens(state: ServerState, grant: Grant, refreshToken: string | undefined, nowMs: number): SimResponse {
    const accessToken = state.dialect.accessToken(mint(state.dialect.name, 'access'), grant.subject)
    accessTokens.set(accessToken, { server: state.dialect.name, grant, expiresAt: nowMs + state.accessTtl * 1000, revoked: false })
    const refreshExpiresIn = refreshToken !== undefined && grant.refreshExpiresAt !== undefined ? Math.max(0, Math.floor((grant.refreshExpiresAt - nowMs) / 1000)) : undefined
    return json(200, state.dialect.answer({ accessToken, expiresIn: state.accessTtl, refreshToken, refreshExpiresIn, scopes: grant.scopes, subject: grant.subject }))
  }

  // --- token endpoint ---------------------------------------------------------------------------

  function tokenEndpoint(state: ServerState, request: SimRequest): SimResponse {
    const { dialect } = state
    const form = new URLSearchParams(request.body)
    const grantType = form.get('grant_type') ?? ''
    state.stats.tokenRequests[grantType] = (state.stats.tokenRequests[grantType] ?? 0) + 1
    const nowMs = request.now.getTime()
    try {
      if (grantType === '') throw new Refused('missing', 'grant_type')
      if (grantType === JWT_BEARER && dialect.jwtBearer) return jwtGrant(state, form, `${request.baseUrl}${request.pathname}`, nowMs)
      if (grantType !== 'authorization_code' && grantType !== 'refresh_token') throw new Refused('unsupported_grant', grantType)
      const client = authenticate(state, request, form)
      return grantType === 'authorization_code' ? codeGrant(state, client, form, nowMs) : refreshGrant(state, client, form, nowMs)
    } catch (error) {
      if (!(error instanceof Refused)) throw error
      if (GRANT_REFUSALS.has(error.kind)) state.stats.invalidGrant++
      const [status, code, description] = dialect.refusals[error.kind]
      const body: Record<string, unknown> = { error: code, error_description: description.replace('{}', error.detail) }
      if (dialect.logId) body.log_id = tiktokLogId(nowMs, options.seed, request.traceId)
      return json(status, body, status === 401 && dialect.clientAuth !== 'body' ? { 'WWW-Authenticate': 'Basic realm="oauth"' } : {})
    }
  }

  function authenticate(state: ServerState, request: SimRequest, form: URLSearchParams): Client {
    const { dialect } = state
    const basic = dialect.clientAuth === 'body' ? undefined : basicCredentials(request.headers.authorization)
    const clientId = basic?.id ?? form.get(dialect.clientIdField)
    if (!clientId) throw new Refused('no_client')
    const client = state.clients.get(clientId)
    if (!client) throw new Refused('unknown_client')
    if (client.clientSecret === undefined) return client
    const secret = dialect.clientAuth === 'basic' ? basic?.secret : (basic?.secret ?? form.get('client_secret'))
    if (secret === undefined || secret === null) throw dialect.clientAuth === 'basic' ? new Refused('no_client') : new Refused('missing', 'client_secret')
    if (secret !== client.clientSecret) throw new Refused('bad_secret')
    return client
  }

  function codeGrant(state: ServerState, client: Client, form: URLSearchParams, nowMs: number): SimResponse {
    const code = form.get('code')
    if (!code) throw new Refused('missing', 'code')
    const record = codes.get(code)
    if (!record || record.server !== state.dialect.name || record.clientId !== client.clientId || record.used || nowMs >= record.expiresAt) throw new Refused('bad_code')
    record.used = true // single use, even when this exchange fails below
    const redirectUri = form.get('redirect_uri')
    if (redirectUri === null) throw new Refused('missing', 'redirect_uri')
    if (redirectUri !== record.redirectUri) throw new Refused('redirect_mismatch')
    const verifier = form.get('code_verifier')
    if (!verifier) throw new Refused('missing', 'code_verifier')
    if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || challengeOf(verifier, state.dialect.challengeEncoding) !== record.challenge) throw new Refused('bad_verifier')
    const grant = newGrant(state, client.clientId, record.scopes, record.subject, nowMs)
    return tokens(state, grant, record.refreshes ? newRefreshToken(state, grant) : undefined, nowMs)
  }

  function refreshGrant(state: ServerState, client: Client, form: URLSearchParams, nowMs: number): SimResponse {
    const presented = form.get('refresh_token')
    if (!presented) throw new Refused('missing', 'refresh_token')
    const entry = refreshTokens.get(presented)
    const grant = entry?.grant
    if (grant) grant.refreshes++
    const dead =
      !entry ||
      !grant ||
      grant.server !== state.dialect.name ||
      grant.clientId !== client.clientId ||
      !entry.current ||
      grant.revoked ||
      (grant.refreshExpiresAt !== undefined && nowMs >= grant.refreshExpiresAt)
    if (dead) {
      if (grant) grant.refused++
      throw new Refused('bad_refresh')
    }
    let refreshToken = presented
    if (state.dialect.rotates) {
      entry.current = false // the old one dies at once
      refreshToken = newRefreshToken(state, grant)
    }
    return tokens(state, grant, state.dialect.echoesRefreshToken ? refreshToken : undefined, nowMs)
  }

  /** Google's service-account grant: a JWT signed RS256 by a registered key. */
  function jwtGrant(state: ServerState, form: URLSearchParams, audience: string, nowMs: number): SimResponse {
    const assertion = form.get('assertion')
    if (!assertion) throw new Refused('missing', 'assertion')
    const parts = assertion.split('.')
    const header = parts.length === 3 ? decodeJson(parts[0]!) : undefined
    const claims = parts.length === 3 ? decodeJson(parts[1]!) : undefined
    if (!header || !claims) throw new Refused('bad_assertion', 'Invalid JWT: the assertion is not a signed JWT.')
    if (header.alg !== 'RS256') throw new Refused('bad_assertion', 'Invalid JWT: unsupported signing algorithm (RS256 required).')
    const key = typeof claims.iss === 'string' ? serviceAccounts.get(claims.iss) : undefined
    if (!key) throw new Refused('bad_assertion', 'Invalid grant: account not found')
    if (!verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), key, Buffer.from(parts[2]!, 'base64url'))) throw new Refused('bad_assertion', 'Invalid JWT Signature.')
    if (claims.aud !== audience) throw new Refused('bad_assertion', `Invalid JWT: Failed audience check. The right audience is ${audience}`)
    const { iat, exp } = claims
    const nowS = nowMs / 1000
    if (typeof iat !== 'number' || typeof exp !== 'number' || exp - iat > 3600 || exp <= iat || iat > nowS + JWT_SKEW_S || exp <= nowS) {
      throw new Refused('bad_assertion', 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.')
    }
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ').filter((s) => s !== '') : []
    if (scopes.length === 0) throw new Refused('bad_assertion', 'Invalid JWT: the scope claim is missing.')
    const accessToken = state.dialect.accessToken(mint(state.dialect.name, 'access'), claims.iss as string)
    accessTokens.set(accessToken, { server: state.dialect.name, expiresAt: nowMs + state.accessTtl * 1000, revoked: false })
    return json(200, state.dialect.answer({ accessToken, expiresIn: state.accessTtl }))
  }

  // --- authorize endpoint -----------------------------------------------------------------------

  function authorizeEndpoint(state: ServerState, request: SimRequest): SimResponse {
    const { dialect } = state
    const query = request.query
    const client = state.clients.get(query.get(dialect.clientIdField) ?? '')
    if (!client) return page(400, `invalid_client: unknown ${dialect.clientIdField}`)
    const redirectUri = query.get('redirect_uri') ?? ''
    if (!redirectAllowed(redirectUri, client, dialect.loopbackAnyPort))
      return page(400, 'redirect_uri_mismatch: the redirect_uri must be a loopback http://127.0.0.1:PORT/... URI registered for the client')
    const stateParam = query.get('state')
    const back = (params: Record<string, string>) => {
      const target = new URL(redirectUri)
      for (const [name, value] of Object.entries(params)) target.searchParams.set(name, value)
      return { status: 302, headers: { Location: target.toString(), 'Content-Type': 'text/html; charset=utf-8' }, body: '' }
    }
    const fail = (error: string, description: string) => back({ error, error_description: description, ...(stateParam ? { state: stateParam } : {}) })
    if (query.get('response_type') !== 'code') return fail('unsupported_response_type', 'response_type must be code')
    if (!stateParam) return fail('invalid_request', 'state is required')
    const challenge = query.get('code_challenge')
    if (!challenge || query.get('code_challenge_method') !== 'S256') return fail('invalid_request', 'code_challenge with code_challenge_method=S256 is required')
    const asked = (query.get('scope') ?? '').split(dialect.scopeSeparator).filter((s) => s !== '')
    if (asked.length === 0) return fail('invalid_scope', 'scope is required')
    state.stats.authorizations++
    if (state.refuse) return back({ ...dialect.denied, state: stateParam })
    const narrowTo = state.narrowTo
    const scopes = narrowTo ? asked.filter((s) => narrowTo.includes(s)) : asked
    const subject = dialect.defaultSubject
    const consentKey = `${client.clientId} ${subject ?? ''}`
    const firstConsent = !state.consented.has(consentKey)
    state.consented.add(consentKey)
    const code = mint(dialect.name, 'code')
    codes.set(code, {
      server: dialect.name,
      clientId: client.clientId,
      redirectUri,
      challenge,
      scopes,
      subject,
      refreshes: dialect.issuesRefresh({ authorize: query, scopes, clientRefreshes: client.refreshTokens, firstConsent }),
      expiresAt: request.now.getTime() + dialect.codeTtlSeconds * 1000,
      used: false,
    })
    return back({ code, state: stateParam, ...(dialect.grantedScopesParam ? { [dialect.grantedScopesParam]: scopes.join(dialect.scopeSeparator) } : {}) })
  }

  // --- the networks, the gate, the hooks ---------------------------------------------------------

  const networks: SimulatedNetwork[] = [...servers.values()].flatMap((state) =>
    state.dialect.prefixes.map((prefix) => ({
      prefix,
      tokenOf: () => undefined,
      handle(request: SimRequest): SimResponse {
        const path = withoutSlash(request.pathname)
        if (path === withoutSlash(state.dialect.tokenPath) && request.method === 'POST') return tokenEndpoint(state, request)
        if (path === withoutSlash(state.dialect.authorizePath) && request.method === 'GET') return authorizeEndpoint(state, request)
        return json(404, { error: 'not_found', error_description: `${request.method} ${request.pathname} is not simulated` })
      },
      errorBody: (error) => JSON.stringify({ error: 'server_error', error_description: error.message }),
    })),
  )

  function refusal(token: string, nowMs: number): 'expired' | 'revoked' | 'invalid' | undefined {
    const access = accessTokens.get(token)
    if (access) {
      if (access.revoked || access.grant?.revoked) return access.server === 'linkedin' ? 'revoked' : 'invalid'
      return nowMs >= access.expiresAt ? 'expired' : undefined
    }
    const meta = metaTokens.get(token)
    return meta && meta.expiresAt !== 0 && nowMs >= meta.expiresAt ? 'expired' : undefined
  }

  function debugToken(inputToken: string, nowMs: number): unknown {
    const meta = metaTokens.get(inputToken)
    const nowS = Math.floor(nowMs / 1000)
    if (!meta && inputToken.startsWith('invalid')) return { data: { error: { code: 190, message: 'Invalid OAuth access token - Cannot parse access token' }, is_valid: false, scopes: [] } }
    const expiresAt = meta ? meta.expiresAt : inputToken.startsWith('expired') ? (nowS - 3600) * 1000 : 0
    const valid = expiresAt === 0 || nowMs < expiresAt
    const data: Record<string, unknown> = {
      app_id: META_APP_ID,
      type: meta?.type ?? 'PAGE',
      application: 'social-kpi (simulated)',
      data_access_expires_at: meta ? Math.floor(meta.dataAccessExpiresAt / 1000) : nowS + 90 * DAY_S,
      ...(valid
        ? {}
        : { error: { code: 190, message: `Error validating access token: Session has expired on ${pacificLongTime(expiresAt)}. The current time is ${pacificLongTime(nowMs)}.`, subcode: 463 } }),
      expires_at: Math.floor(expiresAt / 1000),
      is_valid: valid,
      scopes: meta?.scopes ?? META_SCOPES,
      user_id: opaqueDigits(inputToken),
    }
    return { data }
  }

  const hooks: OAuthHooks = {
    registerClient(network, client) {
      if (!client.clientId) throw new TypeError('clientId is required')
      serverFor(network).clients.set(client.clientId, { ...client, refreshTokens: client.refreshTokens ?? true })
    },
    issueRefreshToken(network, { clientId, scopes, subject }) {
      const state = serverFor(network)
      if (!state.clients.has(clientId)) throw new TypeError(`register client ${clientId} with ${network} first`)
      return newRefreshToken(state, newGrant(state, clientId, [...scopes], subject ?? state.dialect.defaultSubject, options.now().getTime()))
    },
    setAccessTokenTtl(network, seconds) {
      if (!(seconds > 0)) throw new TypeError('seconds must be positive')
      serverFor(network).accessTtl = seconds
    },
    setRefreshTokenTtl(network, seconds) {
      if (seconds !== null && !(seconds > 0)) throw new TypeError('seconds must be positive or null')
      serverFor(network).refreshTtl = seconds ?? undefined
    },
    revoke(token) {
      const refresh = refreshTokens.get(token)
      const access = accessTokens.get(token)
      if (!refresh && !access) throw new TypeError('the simulator did not issue this token')
      if (refresh) refresh.grant.revoked = true
      if (access) access.revoked = true
    },
    grantStats(refreshToken) {
      const grant = refreshTokens.get(refreshToken)?.grant
      if (!grant) throw new TypeError('the simulator did not issue this refresh token')
      return { refreshes: grant.refreshes, refused: grant.refused }
    },
    registerServiceAccount(email, publicKeyPem) {
      serviceAccounts.set(email, createPublicKey(publicKeyPem))
    },
    narrowConsent(network, scopes) {
      serverFor(network).narrowTo = scopes ? [...scopes] : null
    },
    refuseConsent(network, refused = true) {
      serverFor(network).refuse = refused
    },
    setMetaTokenExpiry(token, expiry) {
      const ms = (d: Date | 0 | undefined) => (d === undefined || d === 0 ? 0 : d.getTime())
      metaTokens.set(token, { expiresAt: ms(expiry.expiresAt), dataAccessExpiresAt: ms(expiry.dataAccessExpiresAt), type: expiry.type ?? 'PAGE', scopes: [...(expiry.scopes ?? META_SCOPES)] })
    },
    stats(network) {
      const { stats } = serverFor(network)
      return { tokenRequests: { ...stats.tokenRequests }, invalidGrant: stats.invalidGrant, authorizations: stats.authorizations }
    },
  }

  return { networks, hooks, refusal, debugToken }
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): SimResponse {
  return { status, headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers }, body: JSON.stringify(body) }
}

function page(status: number, text: string): SimResponse {
  return { status, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: `Error ${status}: ${text}` }
}

const withoutSlash = (path: string) => (path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path)

/** RFC 6749 §2.3.1: id and secret are form-encoded, then joined by a colon and base64-encoded. */
function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  const match = typeof header === 'string' ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null
  if (!match) return undefined
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return undefined
  const unform = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '))
  try {
    return { id: unform(decoded.slice(0, colon)), secret: unform(decoded.slice(colon + 1)) }
  } catch {
    return undefined
  }
}

function challengeOf(verifier: string, encoding: 'base64url' | 'hex'): string {
  return createHash('sha256').update(verifier).digest(encoding)
}

/** A loopback http redirect with a port (RFC 8252 §7.3); when the client registered URIs, one of them (any port where allowed). */
function redirectAllowed(raw: string, client: Client, anyPort: boolean): boolean {
  let uri: URL
  try {
    uri = new URL(raw)
  } catch {
    return false
  }
  if (uri.protocol !== 'http:' || !['127.0.0.1', '[::1]'].includes(uri.hostname) || uri.port === '' || uri.hash !== '') return false
  if (!client.redirectUris) return true
  const portless = (u: URL) => `${u.protocol}//${u.hostname}${u.pathname}${u.search}`
  return client.redirectUris.some((registered) => {
    if (registered === raw) return true
    try {
      return anyPort && portless(new URL(registered)) === portless(uri)
    } catch {
      return false
    }
  })
}

function decodeJson(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'))
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/** A stable, numeric-looking user id for a token (debug_token's user_id). */
function opaqueDigits(token: string): string {
  return BigInt(`0x${createHash('sha256').update(token).digest('hex').slice(0, 13)}`)
    .toString()
    .padStart(15, '1')
    .slice(0, 15)
}
