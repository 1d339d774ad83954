import type { z } from 'zod'

export type MetricShape = 'gauge' | 'counter' | 'daily'

export interface MetricDefinition {
  shape: MetricShape
  /** Where the value comes from in the network's API. */
  source: string
  description: string
  /** An amount of money, in the account's own currency (the API says which; never converted): a KPI over it is shown in that currency. */
  money?: boolean
  /** Can be below zero (a day reported net of losses). Otherwise a count, sum or level below zero is a data problem, never judged (kpi/evaluate.ts). */
  signed?: boolean
  /**
   * The metric whose events include every one of this metric's (a link click is on an ad that was
   * on screen: `clicks` is part of `impressions`). A rate of this metric over that one cannot pass
   * 100 %: above it, the data is wrong, not the KPI.
   */
  partOf?: string
}

/**
 * A documented call limit. `account`: the API counts it per account or token (each account has
 * its own); `app`: per app or project, shared by every account of the plan (split evenly).
 */
export interface QuotaPolicy {
  limit: number
  windowMs: number
  scope: 'account' | 'app'
  /** Where the number comes from. */
  source: string
}

/**
 * One HTTP API a network's collector calls. core/config.ts derives its base-URL variable from
 * here, the collector's shared session (ingest/collectors/define.ts) reads the URL and sends the
 * token as declared, and the simulator's registry points the variable at its own route.
 */
export interface ApiEndpoint {
  /** The config variable holding the base URL (e.g. `X_API_URL`); networks on one API share it. */
  urlEnv: string
  defaultUrl: string
  /** The header the token travels in: `Authorization: Bearer …` when absent, else this header with the bare token. */
  tokenHeader?: string
}

/** What the rest of the system knows about one source: its metrics and its account settings. */
export interface NetworkDescriptor {
  label: string
  /** The APIs its collector calls, by the name the collector uses for each. */
  apis: Record<string, ApiEndpoint>
  /** What the plan's `apiId` is for this network (shown in plan errors and docs). */
  apiId: string
  metrics: Record<string, MetricDefinition>
  /** Extra per-account settings the plan must give (`settings:`), parsed when the plan loads: the collector gets the output. */
  settings?: z.ZodType
  /** The call limit collectors stay within (checked before every request). */
  quota?: QuotaPolicy
  /** Ways to authenticate besides a static token in `tokenEnv`; absent: static tokens only. */
  auth?: AuthOptions
  /**
   * How a KPI may narrow its accounts' data (`kpis[].filter`) where the API has dimensions: the
   * filter's schema, and the segments it selects (stored as object_type `segment`, so one API
   * call serves the account and every KPI narrowing it). `settings` is the account's, parsed.
   */
  kpiFilter?: {
    schema: z.ZodType
    segments(filter: unknown, settings: unknown, metric: string): { segments: string[] } | { problem: string }
  }
}

/**
 * How a network's accounts authenticate beyond a static token (docs/accounts.md has the sources).
 * Endpoints are named by config key, so a test or a proxy can point them elsewhere.
 */
export interface OAuthContract {
  /** The authorization server: accounts of networks that share one (Google) share its client settings. */
  provider: 'google' | 'x' | 'tiktok' | 'linkedin'
  /** Base URL variable and path of the authorization endpoint (the page the user opens). */
  authorize: { baseUrlKey: OAuthUrlKey; path: string; params?: Record<string, string> }
  /** Base URL variable and path of the token endpoint. */
  token: { baseUrlKey: OAuthUrlKey; path: string }
  /** How the client proves itself at the token endpoint. */
  clientAuth: 'basic' | 'post'
  /** What the client id is called in requests (TikTok: client_key). */
  clientIdParam?: string
  /** How scopes are joined in the authorize URL (TikTok: a comma). */
  scopeSeparator?: ' ' | ','
  /** Scopes every account of the network needs; `metricScopes` adds those of single metrics. */
  scopes: string[]
  metricScopes?: Record<string, string[]>
  /** Each refresh returns a new refresh token and kills the old one. */
  rotatesRefreshTokens: boolean
  /** The token endpoint's error codes that mean "this refresh token is dead" (default invalid_grant). */
  deadRefreshErrors?: string[]
  /** The PKCE code_challenge encoding: RFC 7636's base64url (default), or TikTok's hex. */
  pkceChallenge?: 'base64url' | 'hex'
  /** Documented lifetimes, for docs and `accounts`; the token answers' expires_in decide. */
  lifetimes: { access: string; refresh: string }
  /** Facts the docs did not confirm (see docs/accounts.md). */
  unconfirmed?: string[]
}

/** Config keys holding the base URL of an authorization or token endpoint. */
export type OAuthUrlKey = 'GOOGLE_OAUTH_URL' | 'GOOGLE_ACCOUNTS_URL' | 'X_API_URL' | 'X_AUTHORIZE_URL' | 'TIKTOK_API_URL' | 'TIKTOK_AUTHORIZE_URL' | 'LINKEDIN_OAUTH_URL'

export interface AuthOptions {
  /** The refresh grant and `social-kpi connect`. */
  oauth?: OAuthContract
  /** A Google service account (JWT bearer grant) with these scopes: for APIs that allow one (GA4). */
  serviceAccount?: { scopes: string[] }
  /** Long-lived static tokens whose expiry the API tells (Meta's debug_token). */
  expiryCheck?: 'meta_debug_token'
}

/**
 * A descriptor with its API names, URL variables and settings schema kept as their own types, so
 * that core/config.ts can type the variables it derives and a collector gets typed settings.
 */
export function defineNetwork<const A extends Record<string, ApiEndpoint>, S extends z.ZodType | undefined = undefined>(
  descriptor: Omit<NetworkDescriptor, 'apis' | 'settings'> & { apis: A; settings?: S },
): Omit<NetworkDescriptor, 'apis' | 'settings'> & { apis: A; settings: S } {
  return descriptor as Omit<NetworkDescriptor, 'apis' | 'settings'> & { apis: A; settings: S }
}
