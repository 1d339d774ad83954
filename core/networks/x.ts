import { defineNetwork } from './types.ts'

/** X (Twitter) through the X API v2 (social-apis.md §3). */
export const x = defineNetwork({
  label: 'X',
  apis: { v2: { urlEnv: 'X_API_URL', defaultUrl: 'https://api.x.com' } },
  apiId: 'the numeric user id (not the @username)',
  auth: {
    oauth: {
      provider: 'x',
      authorize: { baseUrlKey: 'X_AUTHORIZE_URL', path: '/i/oauth2/authorize' },
      token: { baseUrlKey: 'X_API_URL', path: '/2/oauth2/token' },
      // Confidential clients (with a client secret) authenticate with HTTP Basic.
      clientAuth: 'basic',
      // offline.access is what makes X return a refresh token.
      scopes: ['tweet.read', 'users.read', 'offline.access'],
      rotatesRefreshTokens: true,
      // X answers a spent or revoked refresh token with invalid_request ("Value passed for the token was invalid").
      deadRefreshErrors: ['invalid_grant', 'invalid_request'],
      lifetimes: { access: '2 hours (expires_in 7200)', refresh: 'single use: each refresh returns a new one (lifetime not documented)' },
      unconfirmed: ['the refresh token lifetime'],
    },
  },
  quota: { limit: 900, windowMs: 900_000, scope: 'account', source: 'X API v2: 900 requests per 15 minutes per user token for user lookup and user posts' },
  metrics: {
    followers: { shape: 'gauge', source: 'user `public_metrics.followers_count`', description: 'Accounts following the user.' },
    likes: { shape: 'counter', source: 'post `public_metrics.like_count`', description: "Likes on the account's own posts (reposts of others are left out)." },
    comments: { shape: 'counter', source: 'post `public_metrics.reply_count`', description: "Replies to the account's posts." },
    shares: { shape: 'counter', source: 'post `public_metrics.retweet_count`', description: "Reposts of the account's posts (quotes not included)." },
    clicks: {
      shape: 'counter',
      source: 'post `non_public_metrics.url_link_clicks`',
      description: "Clicks on links in the account's posts. Needs a user-context token of the account; X gives it only for posts up to 30 days old.",
    },
    impressions: {
      shape: 'counter',
      source: 'post `public_metrics.impression_count`, else `non_public_metrics.impression_count`',
      description: "Times the account's posts were seen. Where X leaves it out of the public metrics, it needs the same as clicks: a user-context token, posts up to 30 days old.",
    },
  },
})
