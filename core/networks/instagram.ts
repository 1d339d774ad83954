import { defineNetwork } from './types.ts'

/**
 * Instagram professional (business or creator) accounts through the Instagram Graph API with
 * Facebook Login (social-apis.md §2). Insights days are Graph's Pacific days (ingest/graph-api.ts).
 */
export const instagram = defineNetwork({
  label: 'Instagram (business account)',
  apis: { graph: { urlEnv: 'FACEBOOK_GRAPH_URL', defaultUrl: 'https://graph.facebook.com' } },
  apiId: 'the Instagram business account id (17 digits, e.g. 17841400000000001)',
  // Long-lived tokens: debug_token tells when they expire, so the owner is warned ahead.
  auth: { expiryCheck: 'meta_debug_token' },
  quota: { limit: 4800, windowMs: 86_400_000, scope: 'account', source: 'Instagram Business Use Case limit: 4800 × impressions per 24 hours per account (at least 4800)' },
  metrics: {
    followers: { shape: 'gauge', source: 'IG user `followers_count`', description: 'People following the account.' },
    new_followers: {
      shape: 'daily',
      source: 'insights `follower_count` (period=day; the last 30 days only)',
      description: 'People who started following the account that day (new follows, not the level; unfollows are not subtracted).',
    },
    likes: { shape: 'counter', source: 'media `like_count`', description: 'Likes on each post (left out, not zero, when the owner hid like counts).' },
    comments: { shape: 'counter', source: 'media `comments_count`', description: 'Comments on each post.' },
    clicks: { shape: 'daily', source: 'insights `website_clicks` (period=day, metric_type=total_value)', description: 'Taps on the website link in the profile.' },
    contact_taps: {
      shape: 'daily',
      source: 'insights `profile_links_taps` (period=day, metric_type=total_value)',
      description: "Taps on the profile's contact buttons: call, email, text, directions, book now.",
    },
    views: { shape: 'daily', source: 'insights `views` (period=day, metric_type=total_value)', description: "Times the account's content was played or displayed (replaces impressions)." },
    reach: {
      shape: 'daily',
      source: 'insights `reach` (period=day, metric_type=total_value)',
      description: 'Accounts that saw any content that day. A sum over days counts a person once per day, not once.',
      partOf: 'views',
    },
    engagements: {
      shape: 'daily',
      source: 'insights `total_interactions` (period=day, metric_type=total_value)',
      description: 'Likes, comments, saves, shares and replies on the content that day.',
    },
  },
})
