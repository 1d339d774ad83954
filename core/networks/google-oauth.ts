import type { OAuthContract } from './types.ts'

/**
 * Google's authorization server, shared by YouTube and GA4 (docs/accounts.md). `access_type=offline`
 * asks for a refresh token; `prompt=consent` makes Google send one again on a second connect.
 */
export function googleOAuth(scopes: string[], metricScopes?: Record<string, string[]>): OAuthContract {
  return {
    provider: 'google',
    authorize: { baseUrlKey: 'GOOGLE_ACCOUNTS_URL', path: '/o/oauth2/v2/auth', params: { access_type: 'offline', prompt: 'consent', include_granted_scopes: 'true' } },
    token: { baseUrlKey: 'GOOGLE_OAUTH_URL', path: '/token' },
    clientAuth: 'post',
    scopes,
    metricScopes,
    rotatesRefreshTokens: false,
    lifetimes: {
      access: '1 hour (expires_in 3599)',
      refresh: 'until revoked; 7 days while the OAuth consent screen is in "Testing"; dropped after 6 months unused',
    },
    unconfirmed: ['the wording of token endpoint errors other than invalid_grant', 'refresh_token_expires_in for these scopes'],
  }
}
