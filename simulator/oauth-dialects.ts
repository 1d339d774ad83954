/**
 * How each simulated authorization server speaks (docs/accounts.md, "Contracts and sources", has
 * the source of every choice and marks what is UNCONFIRMED): where it listens, how a client
 * authenticates at the token endpoint, what a token answer carries, how long things last and how
 * a refusal is worded. The server itself (simulator/oauth.ts) is the same for all four.
 */
import { displayTokenFor } from './tiktok-display.ts'
import { TIKTOK_DEMO_ACCOUNTS } from './tiktok-scenario.ts'

export type OAuthServerName = 'google' | 'x' | 'tiktok' | 'linkedin'

/** Why a token request is refused; each dialect words it (`{}` is replaced by the detail). */
export type Refusal = 'missing' | 'unsupported_grant' | 'no_client' | 'unknown_client' | 'bad_secret' | 'bad_code' | 'redirect_mismatch' | 'bad_verifier' | 'bad_refresh' | 'bad_assertion'

/** What a successful token answer is built from. */
export interface IssuedTokens {
  accessToken: string
  expiresIn: number
  refreshToken?: string
  /** Seconds the refresh token has left, when it expires by time. */
  refreshExpiresIn?: number
  /** Undefined for a service account's token (Google answers without `scope` there). */
  scopes?: readonly string[]
  subject?: string
}

export interface TokenDialect {
  name: OAuthServerName
  /** The path prefixes the server answers under (longest prefix wins in the dispatcher). */
  prefixes: readonly string[]
  tokenPath: string
  authorizePath: string
  /** The parameter naming the client, at authorize and at the token endpoint (TikTok: client_key). */
  clientIdField: string
  /** basic: a client with a secret must use HTTP Basic; body: id and secret as form fields; either. */
  clientAuth: 'basic' | 'body' | 'either'
  scopeSeparator: ' ' | ','
  /** How S256 encodes SHA-256(code_verifier): RFC 7636 base64url, or hex (TikTok desktop). */
  challengeEncoding: 'base64url' | 'hex'
  /** A registered loopback redirect matches on any port (RFC 8252 §7.3), or only exactly. */
  loopbackAnyPort: boolean
  codeTtlSeconds: number
  accessTtlSeconds: number
  /** Undefined: refresh tokens do not expire by time. */
  refreshTtlSeconds: number | undefined
  /** Each refresh returns a new refresh token and the old one dies at once. */
  rotates: boolean
  /** Google answers a refresh without `refresh_token`; the others send the (same or new) one. */
  echoesRefreshToken: boolean
  /** Google's service-account grant (urn:ietf:params:oauth:grant-type:jwt-bearer). */
  jwtBearer: boolean
  /** The redirect's parameter with the granted scopes, when the network sends one. */
  grantedScopesParam?: string
  /** What the redirect carries when the user refuses. */
  denied: { error: string; error_description: string }
  /** The user a headless consent stands for (TikTok's open_id). */
  defaultSubject?: string
  accessToken(id: string, subject: string | undefined): string
  refreshToken(id: string): string
  /** Whether a code exchange also returns a refresh token. */
  issuesRefresh(context: { authorize: URLSearchParams; scopes: readonly string[]; clientRefreshes: boolean; firstConsent: boolean }): boolean
  answer(tokens: IssuedTokens): Record<string, unknown>
  refusals: Record<Refusal, readonly [status: number, error: string, description: string]>
  /** TikTok adds a log_id to every refusal. */
  logId?: boolean
}

const DAY = 86_400
const ACCESS_DENIED = { error: 'access_denied', error_description: 'The user denied access to your application.' }
const optional = (key: string, value: unknown) => (value === undefined ? {} : { [key]: value })

const google: TokenDialect = {
  name: 'google',
  prefixes: ['/google-oauth2', '/google-accounts'],
  tokenPath: '/google-oauth2/token',
  authorizePath: '/google-accounts/o/oauth2/v2/auth',
  clientIdField: 'client_id',
  clientAuth: 'either',
  scopeSeparator: ' ',
  challengeEncoding: 'base64url',
  loopbackAnyPort: true,
  codeTtlSeconds: 600, // UNCONFIRMED
  accessTtlSeconds: 3599,
  refreshTtlSeconds: undefined,
  rotates: false,
  echoesRefreshToken: false,
  jwtBearer: true,
  grantedScopesParam: 'scope',
  denied: ACCESS_DENIED,
  accessToken: (id) => `ya29.sim-${id}`,
  refreshToken: (id) => `1//sim-${id}`,
  // A refresh token only with access_type=offline, and only at the first consent unless prompt=consent.
  issuesRefresh: ({ authorize, firstConsent }) => authorize.get('access_type') === 'offline' && (firstConsent || (authorize.get('prompt') ?? '').split(' ').includes('consent')),
  answer: (t) => ({
    access_token: t.accessToken,
    expires_in: t.expiresIn,
    ...optional('refresh_token', t.refreshToken),
    ...optional('refresh_token_expires_in', t.refreshExpiresIn),
    ...optional('scope', t.scopes?.join(' ')),
    token_type: 'Bearer',
  }),
  refusals: {
    missing: [400, 'invalid_request', 'Missing required parameter: {}'],
    unsupported_grant: [400, 'unsupported_grant_type', 'Invalid grant_type: {}'],
    no_client: [400, 'invalid_request', 'Could not determine client ID from request.'],
    unknown_client: [401, 'invalid_client', 'The OAuth client was not found.'],
    bad_secret: [401, 'invalid_client', 'Unauthorized'],
    bad_code: [400, 'invalid_grant', 'Bad Request'],
    redirect_mismatch: [400, 'redirect_uri_mismatch', 'Bad Request'],
    bad_verifier: [400, 'invalid_grant', 'Invalid code verifier.'],
    bad_refresh: [400, 'invalid_grant', 'Token has been expired or revoked.'],
    bad_assertion: [400, 'invalid_grant', '{}'],
  },
}

const x: TokenDialect = {
  name: 'x',
  prefixes: ['/x/2/oauth2', '/x-web'],
  tokenPath: '/x/2/oauth2/token',
  authorizePath: '/x-web/i/oauth2/authorize',
  clientIdField: 'client_id',
  clientAuth: 'basic',
  scopeSeparator: ' ',
  challengeEncoding: 'base64url',
  loopbackAnyPort: false,
  codeTtlSeconds: 30,
  accessTtlSeconds: 7200,
  refreshTtlSeconds: undefined, // UNCONFIRMED
  rotates: true,
  echoesRefreshToken: true,
  jwtBearer: false,
  denied: ACCESS_DENIED, // UNCONFIRMED wording
  accessToken: (id) => `xat-${id}`,
  refreshToken: (id) => `xrt-${id}`,
  issuesRefresh: ({ scopes }) => scopes.includes('offline.access'),
  answer: (t) => ({
    token_type: 'bearer',
    expires_in: t.expiresIn,
    access_token: t.accessToken,
    scope: t.scopes?.join(' '),
    ...optional('refresh_token', t.refreshToken),
  }),
  // X words every refused grant as invalid_request (not invalid_grant).
  refusals: {
    missing: [400, 'invalid_request', 'Missing required parameter [{}].'],
    unsupported_grant: [400, 'invalid_request', 'Value passed for the grant type was invalid.'],
    no_client: [401, 'unauthorized_client', 'Missing valid authorization header'],
    unknown_client: [401, 'unauthorized_client', 'Missing valid authorization header'],
    bad_secret: [401, 'unauthorized_client', 'Missing valid authorization header'],
    bad_code: [400, 'invalid_request', 'Value passed for the authorization code was invalid.'],
    redirect_mismatch: [400, 'invalid_request', 'Value passed for the redirect uri did not match the uri of the authorization code.'],
    bad_verifier: [400, 'invalid_request', 'Value passed for the code verifier did not match the code challenge.'],
    bad_refresh: [400, 'invalid_request', 'Value passed for the token was invalid.'],
    bad_assertion: [400, 'invalid_request', 'Value passed for the grant type was invalid.'],
  },
}

const tiktok: TokenDialect = {
  name: 'tiktok',
  prefixes: ['/tiktok/v2/oauth', '/tiktok-web'],
  tokenPath: '/tiktok/v2/oauth/token/',
  authorizePath: '/tiktok-web/v2/auth/authorize/',
  clientIdField: 'client_key',
  clientAuth: 'body',
  scopeSeparator: ',',
  challengeEncoding: 'hex',
  loopbackAnyPort: true,
  codeTtlSeconds: 300, // UNCONFIRMED
  accessTtlSeconds: 2 * 3600,
  refreshTtlSeconds: 180 * DAY,
  rotates: true,
  echoesRefreshToken: true,
  jwtBearer: false,
  grantedScopesParam: 'scopes',
  denied: ACCESS_DENIED,
  defaultSubject: TIKTOK_DEMO_ACCOUNTS.display.id,
  // The Display simulator reads the user from the token's `~open_id` suffix.
  accessToken: (id, subject) => displayTokenFor(subject ?? TIKTOK_DEMO_ACCOUNTS.display.id, `act.sim${id}`),
  refreshToken: (id) => `rft.sim${id}`,
  issuesRefresh: () => true,
  answer: (t) => ({
    access_token: t.accessToken,
    expires_in: t.expiresIn,
    open_id: t.subject ?? TIKTOK_DEMO_ACCOUNTS.display.id,
    refresh_expires_in: t.refreshExpiresIn,
    refresh_token: t.refreshToken,
    scope: t.scopes?.join(','),
    token_type: 'Bearer',
  }),
  // HTTP status of TikTok's OAuth errors is UNCONFIRMED (RFC 6749's 400 here); so are the descriptions.
  refusals: {
    missing: [400, 'invalid_request', 'Missing required parameter: {}'],
    unsupported_grant: [400, 'unsupported_grant_type', 'The grant type is not supported.'],
    no_client: [400, 'invalid_request', 'Missing required parameter: client_key'],
    unknown_client: [401, 'invalid_client', 'Client key or client secret is invalid.'],
    bad_secret: [401, 'invalid_client', 'Client key or client secret is invalid.'],
    bad_code: [400, 'invalid_grant', 'Authorization code is expired.'],
    redirect_mismatch: [400, 'invalid_grant', 'Redirect URI does not match the one used in the authorization request.'],
    bad_verifier: [400, 'invalid_request', 'Code verifier or code challenge is invalid.'],
    bad_refresh: [400, 'invalid_grant', 'Refresh token is invalid or expired.'],
    bad_assertion: [400, 'unsupported_grant_type', 'The grant type is not supported.'],
  },
  logId: true,
}

const LINKEDIN_BAD_CODE = 'Unable to retrieve access token: appid/redirect uri/code verifier does not match authorization code. Or authorization code expired. Or external member binding exists'

const linkedin: TokenDialect = {
  name: 'linkedin',
  prefixes: ['/linkedin-www'],
  tokenPath: '/linkedin-www/oauth/v2/accessToken',
  authorizePath: '/linkedin-www/oauth/v2/authorization',
  clientIdField: 'client_id',
  clientAuth: 'body',
  scopeSeparator: ' ',
  challengeEncoding: 'base64url',
  loopbackAnyPort: true,
  codeTtlSeconds: 1800, // UNCONFIRMED
  accessTtlSeconds: 60 * DAY,
  refreshTtlSeconds: 365 * DAY,
  rotates: false,
  echoesRefreshToken: true,
  jwtBearer: false,
  denied: { error: 'user_cancelled_authorize', error_description: 'The user cancelled the authorization' },
  accessToken: (id) => `AQVsim${id}`,
  refreshToken: (id) => `AQWsim${id}`,
  // Programmatic refresh tokens only for apps LinkedIn approved (registerClient's `refreshTokens`).
  issuesRefresh: ({ clientRefreshes }) => clientRefreshes,
  // No token_type; refresh_token_expires_in counts down from the first consent; granted scopes
  // comma-separated, as LinkedIn writes them (docs/accounts.md, LinkedIn).
  answer: (t) => ({
    access_token: t.accessToken,
    expires_in: t.expiresIn,
    ...optional('refresh_token', t.refreshToken),
    ...optional('refresh_token_expires_in', t.refreshToken === undefined ? undefined : t.refreshExpiresIn),
    scope: t.scopes?.join(','),
  }),
  refusals: {
    missing: [400, 'invalid_request', 'A required parameter "{}" is missing'],
    unsupported_grant: [400, 'unsupported_grant_type', 'The provided grant_type is not supported'],
    no_client: [400, 'invalid_request', 'A required parameter "client_id" is missing'],
    unknown_client: [401, 'invalid_client', 'Client authentication failed'],
    bad_secret: [401, 'invalid_client', 'Client authentication failed'],
    bad_code: [400, 'invalid_request', LINKEDIN_BAD_CODE],
    redirect_mismatch: [400, 'invalid_request', LINKEDIN_BAD_CODE],
    bad_verifier: [400, 'invalid_request', LINKEDIN_BAD_CODE],
    bad_refresh: [400, 'invalid_request', 'The provided authorization grant or refresh token is invalid, expired or revoked'],
    bad_assertion: [400, 'unsupported_grant_type', 'The provided grant_type is not supported'],
  },
}

export const DIALECTS: readonly TokenDialect[] = [google, x, tiktok, linkedin]
