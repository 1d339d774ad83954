/**
 * Pieces of the Google API contract shared by the YouTube and GA4 simulators: the JSON error
 * envelope, OAuth checks and the test tokens that stand for refused credentials.
 *
 * Error bodies come in two styles. The YouTube APIs (older) list `errors[]` with a `reason`; the
 * GA4 Data API (newer) gives only `code`, `message`, `status` and sometimes `details[]` with an
 * `ErrorInfo` (social-apis.md §5.4, §7.2).
 *
 * Test tokens (the token's own text decides, as with Graph): `expired…` and `invalid…` are
 * refused (401), `noscope…` lacks the API's scope (403). Each network adds its own.
 */
import type { InjectedError, SimRequest, SimResponse } from './network.ts'

export type GoogleErrorStyle = 'legacy' | 'modern'

export interface GoogleErrorItem {
  message: string
  domain: string
  reason: string
  location?: string
  locationType?: string
}

export interface GoogleErrorFields {
  code: number
  message: string
  status?: string
  errors?: GoogleErrorItem[]
  details?: unknown[]
}

/** A Google error answer; handlers throw it and the dispatcher renders it. */
export class GoogleApiError extends Error {
  readonly fields: GoogleErrorFields
  readonly headers: Record<string, string>

  constructor(fields: GoogleErrorFields, headers: Record<string, string> = {}) {
    super(fields.message)
    this.name = 'GoogleApiError'
    this.fields = fields
    this.headers = headers
  }
}

const STATUS_BY_CODE: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
}

function googleStatus(code: number): string {
  return STATUS_BY_CODE[code] ?? (code >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION')
}

/** `{"error":{code,message,errors?,status?,details?}}`, keys in Google's order. */
function googleErrorBody(fields: GoogleErrorFields): string {
  const error: Record<string, unknown> = { code: fields.code, message: fields.message }
  if (fields.errors) error.errors = fields.errors
  if (fields.status) error.status = fields.status
  if (fields.details) error.details = fields.details
  return JSON.stringify({ error })
}

/** Domains YouTube uses for its reasons; anything else is `global`. */
const REASON_DOMAINS: Record<string, string> = {
  quotaExceeded: 'youtube.quota',
  rateLimitExceeded: 'usageLimits',
  userRateLimitExceeded: 'usageLimits',
  dailyLimitExceeded: 'usageLimits',
  accessNotConfigured: 'usageLimits',
}

/**
 * An injected error in the network's style: `code` is the body's code, `type` the reason
 * (legacy, e.g. `quotaExceeded`) or the status (modern, e.g. `RESOURCE_EXHAUSTED`).
 */
export function injectedGoogleError(style: GoogleErrorStyle, error: InjectedError): string {
  if (style === 'modern') return googleErrorBody({ code: error.code, message: error.message, status: error.type ?? googleStatus(error.code) })
  const reason = error.type ?? 'backendError'
  return googleErrorBody({
    code: error.code,
    message: error.message,
    errors: [{ message: error.message, domain: REASON_DOMAINS[reason] ?? 'global', reason }],
  })
}

export const JSON_TYPE = 'application/json; charset=UTF-8'

export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): SimResponse {
  return { status, headers: { 'Content-Type': JSON_TYPE, Vary: 'Origin, X-Origin, Referer', ...headers }, body: JSON.stringify(body) }
}

export function errorResponse(error: GoogleApiError): SimResponse {
  return { status: error.fields.code, headers: { 'Content-Type': JSON_TYPE, ...error.headers }, body: googleErrorBody(error.fields) }
}

/** The OAuth bearer token, if the request carries one. */
export function bearerToken(request: SimRequest): string | undefined {
  const header = request.headers.authorization
  return typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined
}

const SEE_DEVCONSOLE = 'See https://developers.google.com/identity/sign-in/web/devconsole-project.'

/** 401: no credential at all (an API that needs OAuth). */
export function missingCredential(style: GoogleErrorStyle): GoogleApiError {
  const message = `Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. ${SEE_DEVCONSOLE}`
  return new GoogleApiError(
    style === 'legacy'
      ? { code: 401, message, errors: [{ message: 'Login Required.', domain: 'global', reason: 'required', location: 'Authorization', locationType: 'header' }], status: 'UNAUTHENTICATED' }
      : { code: 401, message, status: 'UNAUTHENTICATED', details: [errorInfo('CREDENTIALS_MISSING')] },
    { 'WWW-Authenticate': 'Bearer realm="https://accounts.google.com/"' },
  )
}

/** 401: a token Google does not accept (expired, revoked, malformed). */
function refusedCredential(style: GoogleErrorStyle, expired: boolean): GoogleApiError {
  const message = `Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. ${SEE_DEVCONSOLE}`
  return new GoogleApiError(
    style === 'legacy'
      ? { code: 401, message, errors: [{ message: 'Invalid Credentials', domain: 'global', reason: 'authError', location: 'Authorization', locationType: 'header' }], status: 'UNAUTHENTICATED' }
      : { code: 401, message, status: 'UNAUTHENTICATED', ...(expired ? { details: [errorInfo('ACCESS_TOKEN_EXPIRED')] } : {}) },
    { 'WWW-Authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' },
  )
}

/** 403: the token works but was granted without this API's scope. */
export function insufficientScope(style: GoogleErrorStyle, service: string): GoogleApiError {
  const message = 'Request had insufficient authentication scopes.'
  const details = [errorInfo('ACCESS_TOKEN_SCOPE_INSUFFICIENT', service)]
  return new GoogleApiError(
    style === 'legacy'
      ? { code: 403, message, errors: [{ message: 'Insufficient Permission', domain: 'global', reason: 'insufficientPermissions' }], status: 'PERMISSION_DENIED', details }
      : { code: 403, message, status: 'PERMISSION_DENIED', details },
    { 'WWW-Authenticate': 'Bearer realm="https://accounts.google.com/", error="insufficient_scope"' },
  )
}

function errorInfo(reason: string, service?: string): Record<string, unknown> {
  return { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason, domain: 'googleapis.com', ...(service ? { metadata: { service } } : {}) }
}

/** The test tokens every Google simulator understands; undefined means the token is good. */
export function tokenProblem(token: string, style: GoogleErrorStyle, service: string): GoogleApiError | undefined {
  if (token.startsWith('expired')) return refusedCredential(style, true)
  if (token.startsWith('invalid')) return refusedCredential(style, false)
  if (token.startsWith('noscope')) return insufficientScope(style, service)
  return undefined
}

/** 400 with a parameter named, in the legacy style. */
export function badParameter(message: string, reason: string, location?: string): GoogleApiError {
  return new GoogleApiError({
    code: 400,
    message,
    errors: [{ message, domain: reason === 'required' || reason === 'badRequest' ? 'global' : 'youtube.parameter', reason, ...(location ? { location, locationType: 'parameter' } : {}) }],
  })
}
