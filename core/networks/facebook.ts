import { defineNetwork } from './types.ts'

/** Facebook Pages through the Graph API (social-apis.md §1). */
export const facebook = defineNetwork({
  label: 'Facebook Pages',
  apis: { graph: { urlEnv: 'FACEBOOK_GRAPH_URL', defaultUrl: 'https://graph.facebook.com' } },
  apiId: 'the Page id',
  // Long-lived tokens: debug_token tells when they expire, so the owner is warned ahead.
  auth: { expiryCheck: 'meta_debug_token' },
  quota: { limit: 4800, windowMs: 3_600_000, scope: 'account', source: 'Graph API Business Use Case limit for Pages: 4800 × engaged users per hour per Page (at least 4800)' },
  metrics: {
    followers: { shape: 'gauge', source: 'Page `followers_count`; insights `page_follows` (day)', description: 'People following the Page.' },
    fans: { shape: 'gauge', source: 'Page `fan_count`', description: 'People who like the Page (equals followers on New Page Experience Pages).' },
    likes: { shape: 'counter', source: 'post `reactions.summary(total_count)`', description: 'Reactions on the Page\'s posts (all types; "like" includes "care").' },
    comments: { shape: 'counter', source: 'post `comments.summary(total_count)`', description: "Comments on the Page's posts." },
    shares: { shape: 'counter', source: 'post `shares.count`', description: "Shares of the Page's posts." },
    clicks: { shape: 'counter', source: 'post insights `post_clicks` (lifetime)', description: "Clicks anywhere on the Page's posts." },
    engagements: { shape: 'daily', source: 'insights `page_post_engagements` (day)', description: 'Times people engaged with posts: reactions, comments, shares, clicks.' },
    page_actions: { shape: 'daily', source: 'insights `page_total_actions` (day)', description: "Clicks on the Page's contact info and call-to-action button." },
    views: { shape: 'daily', source: 'insights `page_media_view` (day)', description: "Times the Page's content was viewed (replaces impressions)." },
    reactions_anger: { shape: 'daily', source: 'insights `page_actions_post_reactions_total` (day), key `anger`', description: 'Angry reactions on posts.' },
    reactions_sorry: { shape: 'daily', source: 'insights `page_actions_post_reactions_total` (day), key `sorry`', description: 'Sad reactions on posts.' },
  },
})
