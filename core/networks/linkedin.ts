import { defineNetwork } from './types.ts'

/** LinkedIn organization (company) Pages through the Community Management API (social-apis.md §4). */
export const linkedin = defineNetwork({
  label: 'LinkedIn (organization)',
  apis: { rest: { urlEnv: 'LINKEDIN_API_URL', defaultUrl: 'https://api.linkedin.com' } },
  apiId: 'the organization id (the number in urn:li:organization:N)',
  auth: {
    oauth: {
      provider: 'linkedin',
      authorize: { baseUrlKey: 'LINKEDIN_OAUTH_URL', path: '/oauth/v2/authorization' },
      token: { baseUrlKey: 'LINKEDIN_OAUTH_URL', path: '/oauth/v2/accessToken' },
      clientAuth: 'post',
      scopes: ['r_organization_social', 'rw_organization_admin'],
      rotatesRefreshTokens: false,
      // LinkedIn answers a dead refresh token with invalid_request ("... invalid, expired or revoked").
      deadRefreshErrors: ['invalid_grant', 'invalid_request'],
      unconfirmed: [
        'whether r_organization_social is needed besides rw_organization_admin',
        'refresh_token_expires_in: the docs example (525600) reads like minutes, the field is documented in seconds',
      ],
      lifetimes: {
        access: '60 days (expires_in 5184000)',
        refresh: '365 days from the first grant; a refresh does not extend it (refresh tokens only for apps LinkedIn enabled them for)',
      },
    },
  },
  quota: {
    limit: 4800,
    windowMs: 86_400_000,
    scope: 'account',
    source: 'LinkedIn does not publish its daily limits (they show in the developer portal); a conservative daily budget per member token',
  },
  metrics: {
    followers: { shape: 'gauge', source: '`networkSizes` `firstDegreeSize` (edgeType COMPANY_FOLLOWED_BY_MEMBER)', description: 'Members following the Page.' },
    followers_gained: {
      shape: 'daily',
      source: 'organizationalEntityFollowerStatistics (DAY) `followerGains.organicFollowerGain + paidFollowerGain`',
      description: 'Followers gained per UTC day, organic plus paid, as LinkedIn reports them. Known about 2 days late; LinkedIn may report a day net of unfollows (then it can be negative).',
      signed: true,
    },
    likes: { shape: 'daily', source: 'organizationalEntityShareStatistics (DAY) `totalShareStatistics.likeCount`', description: "Reactions on the Page's posts per UTC day (organic only)." },
    comments: { shape: 'daily', source: 'organizationalEntityShareStatistics (DAY) `totalShareStatistics.commentCount`', description: "Comments on the Page's posts per UTC day (organic only)." },
    shares: { shape: 'daily', source: 'organizationalEntityShareStatistics (DAY) `totalShareStatistics.shareCount`', description: "Reposts of the Page's posts per UTC day (organic only)." },
    clicks: {
      shape: 'daily',
      source: 'organizationalEntityShareStatistics (DAY) `totalShareStatistics.clickCount`',
      description: "Clicks on the Page's posts, its name or logo per UTC day (organic only).",
      partOf: 'impressions',
    },
    impressions: {
      shape: 'daily',
      source: 'organizationalEntityShareStatistics (DAY) `totalShareStatistics.impressionCount`',
      description: "Times the Page's posts were shown per UTC day (organic only). A good `rate` denominator.",
    },
  },
})
