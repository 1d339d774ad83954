import { z } from 'zod'
import { defineNetwork } from './types.ts'

const TIKTOK_ACCOUNT_TYPES = ['personal', 'business'] as const

/**
 * Per-account settings. `personal` (the default) reads the Display API v2 with a Login Kit user
 * token; `business` reads the TikTok API for Business (Accounts API) with its own token, and then
 * the account's `apiId` is the business_id (the open_id that Business authorisation returns).
 */
const tiktokSettings = z.strictObject({
  accountType: z
    .enum(TIKTOK_ACCOUNT_TYPES, {
      error: 'must be personal (Display API, Login Kit user token) or business (TikTok API for Business token)',
    })
    .default('personal'),
})

export type TikTokSettings = z.infer<typeof tiktokSettings>

/**
 * TikTok (social-apis.md §6). Video counters come from the video lists of both APIs; the account's
 * own like total is a separate gauge (`total_likes`), so the two never add up to a double count.
 * The Business API's daily likes/comments/shares/views are not stored for the same reason.
 */
export const tiktok = defineNetwork({
  label: 'TikTok',
  apis: {
    display: { urlEnv: 'TIKTOK_API_URL', defaultUrl: 'https://open.tiktokapis.com' },
    // The API for Business takes its token bare, in a header of its own.
    business: { urlEnv: 'TIKTOK_BUSINESS_API_URL', defaultUrl: 'https://business-api.tiktok.com/open_api', tokenHeader: 'Access-Token' },
  },
  apiId: 'the TikTok user open_id (personal), or the business_id (business)',
  auth: {
    // Display API (personal accounts, Login Kit). Business accounts keep a static token.
    oauth: {
      provider: 'tiktok',
      authorize: { baseUrlKey: 'TIKTOK_AUTHORIZE_URL', path: '/v2/auth/authorize/' },
      token: { baseUrlKey: 'TIKTOK_API_URL', path: '/v2/oauth/token/' },
      clientAuth: 'post',
      clientIdParam: 'client_key',
      scopeSeparator: ',',
      scopes: ['user.info.basic', 'user.info.stats', 'video.list'],
      rotatesRefreshTokens: true,
      // TikTok's Login Kit guide for desktop apps: the challenge is the hex SHA-256 of the verifier.
      pkceChallenge: 'hex',
      lifetimes: { access: '2 hours (expires_in; older docs said 24 hours)', refresh: '180 days (refresh_expires_in; older docs said 365 days); each refresh returns a new one' },
      unconfirmed: ['the hex PKCE challenge on the official page itself', 'whether a rotated refresh token restarts its 180 days', 'the HTTP status of token endpoint errors'],
    },
  },
  quota: { limit: 600, windowMs: 60_000, scope: 'account', source: 'TikTok Display API: 600 requests per minute per endpoint and token' },
  metrics: {
    followers: {
      shape: 'gauge',
      source: 'Display `/v2/user/info/` `follower_count`; Business `/business/get/` `followers_count` and, per UTC day, `daily_total_followers`',
      description: 'People following the account.',
    },
    total_likes: {
      shape: 'gauge',
      source: 'Display `/v2/user/info/` `likes_count`; Business `/business/get/` `total_likes`',
      description: "Likes the account's videos have received in total (a level; never add it to `likes`).",
    },
    videos: {
      shape: 'gauge',
      source: 'Display `/v2/user/info/` `video_count`; Business `/business/get/` `videos_count`',
      description: 'Public videos on the account (its growth is the number published).',
    },
    likes: {
      shape: 'counter',
      source: 'Display `/v2/video/list/` `like_count`; Business `/business/video/list/` `likes`',
      description: 'Likes on each video.',
    },
    comments: {
      shape: 'counter',
      source: 'Display `/v2/video/list/` `comment_count`; Business `/business/video/list/` `comments`',
      description: 'Comments on each video.',
    },
    shares: {
      shape: 'counter',
      source: 'Display `/v2/video/list/` `share_count`; Business `/business/video/list/` `shares`',
      description: 'Shares of each video.',
    },
    views: {
      shape: 'counter',
      source: 'Display `/v2/video/list/` `view_count`; Business `/business/video/list/` `video_views`',
      description: 'Views of each video.',
    },
    clicks: {
      shape: 'daily',
      source: 'Business `/business/get/` `metrics[].bio_link_clicks` (business accounts only)',
      description: 'Clicks on the link in the profile bio, per UTC day.',
    },
    profile_views: {
      shape: 'daily',
      source: 'Business `/business/get/` `metrics[].profile_views` (business accounts only)',
      description: 'Views of the profile page, per UTC day.',
    },
  },
  settings: tiktokSettings,
})
