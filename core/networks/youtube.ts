import { googleOAuth } from './google-oauth.ts'
import { defineNetwork } from './types.ts'

/**
 * YouTube through the Data API v3 (channel and video statistics, read at once) and the Analytics
 * API v2 (channel-wide daily numbers, 2–3 days late) (social-apis.md §5).
 */
const YT_ANALYTICS = 'https://www.googleapis.com/auth/yt-analytics.readonly'

export const youtube = defineNetwork({
  label: 'YouTube',
  apis: {
    data: { urlEnv: 'YOUTUBE_DATA_URL', defaultUrl: 'https://www.googleapis.com/youtube/v3' },
    analytics: { urlEnv: 'YOUTUBE_ANALYTICS_URL', defaultUrl: 'https://youtubeanalytics.googleapis.com/v2' },
  },
  apiId: 'the channel id (UC…, 24 characters)',
  auth: {
    oauth: googleOAuth(['https://www.googleapis.com/auth/youtube.readonly'], {
      channel_views: [YT_ANALYTICS],
      channel_likes: [YT_ANALYTICS],
      channel_comments: [YT_ANALYTICS],
      shares: [YT_ANALYTICS],
      followers_gained: [YT_ANALYTICS],
      followers_lost: [YT_ANALYTICS],
    }),
  },
  quota: { limit: 10_000, windowMs: 86_400_000, scope: 'app', source: 'YouTube Data API: 10,000 units per day per project, shared by all channels; list calls cost 1 unit' },
  metrics: {
    followers: {
      shape: 'gauge',
      source: 'channels.list `statistics.subscriberCount` (a string; not stored when `hiddenSubscriberCount` is true)',
      description: 'Subscribers of the channel. YouTube rounds the public count down to three significant figures (14,475 reads as 14,400), so it moves in steps.',
    },
    lifetime_views: { shape: 'gauge', source: 'channels.list `statistics.viewCount`', description: "Views of all the channel's videos since it began." },
    videos: { shape: 'gauge', source: 'channels.list `statistics.videoCount`', description: 'Public videos on the channel; its growth over a period is the number published.' },
    views: { shape: 'counter', source: 'videos.list `statistics.viewCount`', description: 'Views of each video published in the last 90 days.' },
    likes: { shape: 'counter', source: 'videos.list `statistics.likeCount` (absent when the owner turned ratings off)', description: 'Likes of each video published in the last 90 days.' },
    comments: { shape: 'counter', source: 'videos.list `statistics.commentCount` (absent when comments are off)', description: 'Comments on each video published in the last 90 days.' },
    channel_views: {
      shape: 'daily',
      source: 'Analytics reports `views`, dimension `day`',
      description: "Views of all the channel's videos per day (Pacific-time days), old ones included. Known 2–3 days late.",
    },
    channel_likes: { shape: 'daily', source: 'Analytics reports `likes`, dimension `day`', description: "Likes on all the channel's videos per day. Known 2–3 days late." },
    channel_comments: { shape: 'daily', source: 'Analytics reports `comments`, dimension `day`', description: "Comments on all the channel's videos per day. Known 2–3 days late." },
    shares: {
      shape: 'daily',
      source: 'Analytics reports `shares`, dimension `day`',
      description: "Times the channel's videos were shared per day (the Data API has no share count). Known 2–3 days late.",
    },
    followers_gained: {
      shape: 'daily',
      source: 'Analytics reports `subscribersGained`, dimension `day`',
      description: 'New subscribers per day, exact (unlike the rounded level). Known 2–3 days late.',
    },
    followers_lost: { shape: 'daily', source: 'Analytics reports `subscribersLost`, dimension `day`', description: 'Lost subscribers per day. Known 2–3 days late.' },
  },
})
