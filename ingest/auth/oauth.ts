import { createHash } from 'node:crypto'
import * as oauth from 'oauth4webapi'
import type { Config } from '../../core/config.ts'
import { ApiError } from '../../core/errors.ts'
import type { OAuthContract } from '../../core/networks/types.ts'

/**
 * The OAuth 2.0 client side, on oauth4webapi (panva's zero-dependency, spec-strict client): PKCE,
 * state, the authorization response checks and the token endpoint requests and answers come from
 * it, so none of that is hand-written. What each network does differently from RFC 6749 is said
 * by its OAuthContract (core/networks) and adapted in `adaptTokenExchange` only.
 */

export interface OAuthApp {
  clientId: string
  /** Absent for a public client (PKCE only). */
  clientSecret?: string
}

/** What a token endpoint granted. Lifetimes in seconds, as the answer said. */
export interface TokenGrant {
  accessToken: string
  expiresIn?: number
  refreshToken?: string
  refreshExpiresIn?: number
  /** The scopes granted, when the answer says (splitScopes). */
  scopes?: string[]
}

/**
 * The token endpoint refused the grant. `error` is its RFC 6749 §5.2 code: invalid_grant (the
 * refresh token is revoked, expired or already used), invalid_client (the app's id or secret), ...
 */
export class GrantRefusedError extends Error {
  readonly error: string
  readonly status: number
  constructor(error: string, description: string | undefined, status: number) {
    super(`the token endpoint refused the grant: ${error}${description ? ` (${description})` : ''}`)
    this.name = 'GrantRefusedError'
    this.error = error
    this.status = status
  }
}

export interface Endpoints {
  authorizeUrl: string
  tokenUrl: string
}

function oauthEndpoints(contract: OAuthContract, config: Config): Endpoints {
  const join = (base: string, path: string) => `${base.replace(/\/+$/, '')}${path}`
  return { authorizeUrl: join(config[contract.authorize.baseUrlKey], contract.authorize.path), tokenUrl: join(config[contract.token.baseUrlKey], contract.token.path) }
}

function server(endpoints: Endpoints): oauth.AuthorizationServer {
  return { issuer: new URL(endpoints.tokenUrl).origin, token_endpoint: endpoints.tokenUrl, authorization_endpoint: endpoints.authorizeUrl }
}

function clientAuth(contract: OAuthContract | undefined, app: OAuthApp): oauth.ClientAuth {
  if (!app.clientSecret) return oauth.None()
  return contract?.clientAuth === 'basic' ? oauth.ClientSecretBasic(app.clientSecret) : oauth.ClientSecretPost(app.clientSecret)
}

/**
 * Request options: a timeout, plain http allowed only for a loopback endpoint (the simulator, a
 * local proxy), and the network's departures from the RFC adapted on the wire.
 */
function requestOptions(contract: OAuthContract | undefined, tokenUrl: string, timeoutMs: number) {
  const url = new URL(tokenUrl)
  return {
    signal: AbortSignal.timeout(timeoutMs),
    [oauth.allowInsecureRequests]: url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname),
    [oauth.customFetch]: (input: string, init: RequestInit) => adaptTokenExchange(contract, input, init),
  }
}

/**
 * TikTok names the client id `client_key`. LinkedIn's token answer has no `token_type`, which RFC
 * 6749 §5.1 requires and the client checks; its tokens are Bearer tokens. Some servers answer an
 * error with HTTP 200: that becomes the 400 it means, so the error is read as one.
 */
async function adaptTokenExchange(contract: OAuthContract | undefined, input: string, init: RequestInit): Promise<Response> {
  let body = init.body
  if (contract?.clientIdParam && body instanceof URLSearchParams && body.has('client_id')) {
    body = new URLSearchParams(body)
    body.set(contract.clientIdParam, body.get('client_id')!)
    body.delete('client_id')
  }
  const response = await fetch(input, { ...init, body })
  if (response.status !== 200 || !/json/i.test(response.headers.get('content-type') ?? '')) return response
  const json = (await response.json()) as Record<string, unknown>
  const headers = new Headers(response.headers)
  headers.delete('content-length')
  if (typeof json.error === 'string' && typeof json.access_token !== 'string') return new Response(JSON.stringify(json), { status: 400, headers })
  if (typeof json.access_token === 'string' && json.token_type === undefined) json.token_type = 'bearer'
  return new Response(JSON.stringify(json), { status: 200, headers })
}

/** The answer as a grant, or the refusal as a GrantRefusedError; a broken answer or no answer is transient. */
async function readGrant(what: string, call: () => Promise<oauth.TokenEndpointResponse>): Promise<TokenGrant> {
  let answer: oauth.TokenEndpointResponse
  try {
    answer = await call()
  } catch (error) {
    if (error instanceof oauth.ResponseBodyError) throw new GrantRefusedError(error.error, error.error_description, error.status)
    // A 401 with a challenge (HTTP Basic client auth refused): its body still says which error.
    if (error instanceof oauth.WWWAuthenticateChallengeError) {
      const body = (await error.response.json().catch(() => ({}))) as { error?: unknown; error_description?: unknown }
      throw new GrantRefusedError(typeof body.error === 'string' ? body.error : 'invalid_client', typeof body.error_description === 'string' ? body.error_description : undefined, error.status)
    }
    // A timeout, a reset, an answer that is not a token answer: worth another try later.
    const reason = error instanceof oauth.OperationProcessingError ? error.message : error instanceof Error && error.name === 'TimeoutError' ? 'no answer in time' : 'no answer'
    throw new ApiError(`${what}: ${reason}`, { retryable: true })
  }
  const extra = answer as Record<string, unknown>
  const refreshExpiresIn = Number(extra.refresh_token_expires_in ?? extra.refresh_expires_in)
  return {
    accessToken: answer.access_token,
    expiresIn: answer.expires_in,
    refreshToken: answer.refresh_token,
    refreshExpiresIn: Number.isFinite(refreshExpiresIn) && refreshExpiresIn > 0 ? refreshExpiresIn : undefined,
    scopes: answer.scope ? splitScopes(answer.scope) : undefined,
  }
}

/**
 * Granted scopes as a list. RFC 6749 §3.3 separates them with spaces; TikTok and LinkedIn answer
 * with commas (docs/accounts.md), and no network's scope names contain either.
 */
export function splitScopes(scopes: string): string[] {
  return scopes.split(/[,\s]+/).filter(Boolean)
}

export interface CallOptions {
  config: Config
  timeoutMs: number
}

/** The refresh grant (RFC 6749 §6). */
export function refreshGrant(contract: OAuthContract, app: OAuthApp, refreshToken: string, options: CallOptions): Promise<TokenGrant> {
  const endpoints = oauthEndpoints(contract, options.config)
  const as = server(endpoints)
  const client: oauth.Client = { client_id: app.clientId }
  return readGrant(`${contract.provider} token refresh`, async () => {
    const response = await oauth.refreshTokenGrantRequest(as, client, clientAuth(contract, app), refreshToken, requestOptions(contract, endpoints.tokenUrl, options.timeoutMs))
    return oauth.processRefreshTokenResponse(as, client, response)
  })
}

/** A pending authorization: what the callback must match and the code exchange must send. */
export interface Authorization {
  url: URL
  state: string
  codeVerifier: string
  redirectUri: string
  scopes: string[]
}

/** The authorization request (RFC 6749 §4.1.1 with PKCE S256, RFC 7636) the user opens in a browser. */
export async function startAuthorization(contract: OAuthContract, app: OAuthApp, options: { config: Config; redirectUri: string; scopes: string[] }): Promise<Authorization> {
  const endpoints = oauthEndpoints(contract, options.config)
  const codeVerifier = oauth.generateRandomCodeVerifier()
  const state = oauth.generateRandomState()
  const url = new URL(endpoints.authorizeUrl)
  url.searchParams.set(contract.clientIdParam ?? 'client_id', app.clientId)
  url.searchParams.set('response_type', 'code')
  url.searchParams.set('redirect_uri', options.redirectUri)
  url.searchParams.set('scope', options.scopes.join(contract.scopeSeparator ?? ' '))
  url.searchParams.set('state', state)
  const challenge = contract.pkceChallenge === 'hex' ? createHash('sha256').update(codeVerifier).digest('hex') : await oauth.calculatePKCECodeChallenge(codeVerifier)
  url.searchParams.set('code_challenge', challenge)
  url.searchParams.set('code_challenge_method', 'S256')
  for (const [name, value] of Object.entries(contract.authorize.params ?? {})) url.searchParams.set(name, value)
  return { url, state, codeVerifier, redirectUri: options.redirectUri, scopes: options.scopes }
}

/** The callback's parameters checked (state, error) and its code exchanged (RFC 6749 §4.1.3). */
export function finishAuthorization(contract: OAuthContract, app: OAuthApp, pending: Authorization, callback: URL, options: CallOptions): Promise<TokenGrant> {
  const endpoints = oauthEndpoints(contract, options.config)
  const as = server(endpoints)
  const client: oauth.Client = { client_id: app.clientId }
  let parameters: URLSearchParams
  try {
    parameters = oauth.validateAuthResponse(as, client, callback, pending.state)
  } catch (error) {
    if (error instanceof oauth.AuthorizationResponseError) throw new GrantRefusedError(error.error, error.error_description, 400)
    throw new GrantRefusedError('invalid_request', error instanceof Error ? error.message : String(error), 400)
  }
  return readGrant(`${contract.provider} code exchange`, async () => {
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      clientAuth(contract, app),
      parameters,
      pending.redirectUri,
      pending.codeVerifier,
      requestOptions(contract, endpoints.tokenUrl, options.timeoutMs),
    )
    return oauth.processAuthorizationCodeResponse(as, client, response)
  })
}

/** A grant of another type at a token endpoint (the JWT bearer grant of RFC 7523). */
export function assertionGrant(tokenUrl: string, clientId: string, grantType: string, assertion: string, timeoutMs: number): Promise<TokenGrant> {
  const as: oauth.AuthorizationServer = { issuer: new URL(tokenUrl).origin, token_endpoint: tokenUrl }
  const client: oauth.Client = { client_id: clientId }
  return readGrant('service account token', async () => {
    const response = await oauth.genericTokenEndpointRequest(as, client, oauth.None(), grantType, { assertion }, requestOptions(undefined, tokenUrl, timeoutMs))
    return oauth.processGenericTokenEndpointResponse(as, client, response)
  })
}
