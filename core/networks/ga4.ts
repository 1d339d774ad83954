import { googleOAuth } from './google-oauth.ts'
import { z } from 'zod'
import { defineNetwork } from './types.ts'

/** GA4's default channel groups (dimension `sessionDefaultChannelGroup`). */
const GA4_CHANNEL_GROUPS = [
  'Affiliates',
  'Audio',
  'Cross-network',
  'Direct',
  'Display',
  'Email',
  'Mobile Push Notifications',
  'Organic Search',
  'Organic Shopping',
  'Organic Social',
  'Organic Video',
  'Paid Other',
  'Paid Search',
  'Paid Shopping',
  'Paid Social',
  'Paid Video',
  'Referral',
  'SMS',
  'Unassigned',
] as const

const SOCIAL_GROUPS = ['Organic Social', 'Paid Social']

const channelGroup = z.string({ error: 'must be a GA4 channel group such as Organic Social' }).transform((value, ctx) => {
  const known = GA4_CHANNEL_GROUPS.find((group) => group.toLowerCase() === value.trim().toLowerCase())
  if (!known) ctx.addIssue({ code: 'custom', message: `"${value}" is not a GA4 default channel group (one of: ${GA4_CHANNEL_GROUPS.join(', ')})` })
  return known ?? value
})
const source = z.string({ error: 'must be a traffic source such as facebook.com' }).trim().min(1, 'must not be empty')

/**
 * Which sessions of the property count for this account, and which key events are its
 * conversions. `channelGroups` (default: Organic Social and Paid Social) or `source` (one source
 * or a list, e.g. facebook.com and m.facebook.com), not both.
 */
const GA4_SCOPE = 'https://www.googleapis.com/auth/analytics.readonly'

const ga4Settings = z
  .strictObject({
    channelGroups: z.array(channelGroup, { error: 'must be a list of channel groups' }).min(1, 'must list at least one channel group').optional(),
    source: z.union([source, z.array(source).min(1, 'must list at least one source')], { error: 'must be a source or a list of sources' }).optional(),
    conversionMetric: z.enum(['keyEvents', 'conversions'], { error: 'must be keyEvents, or conversions for a property that still reports the old name' }).default('keyEvents'),
    keyEvent: z
      .string({ error: 'must be an event name such as purchase' })
      .regex(/^[A-Za-z][A-Za-z0-9_]{0,39}$/, 'must be an event name such as purchase (a letter, then letters, digits or _)')
      .optional(),
  })
  .refine((s) => !(s.channelGroups && s.source), { message: 'give either channelGroups or source, not both', path: ['source'] })
  .transform((s) => ({
    dimension: s.source ? ('sessionSource' as const) : ('sessionDefaultChannelGroup' as const),
    values: s.source ? [s.source].flat() : [...new Set(s.channelGroups ?? SOCIAL_GROUPS)],
    /** `keyEvents`, or `keyEvents:purchase` to count one key event. */
    conversionMetric: s.keyEvent ? `${s.conversionMetric}:${s.keyEvent}` : s.conversionMetric,
  }))

export type Ga4Settings = z.output<typeof ga4Settings>

/** A KPI's narrowing of its property's sessions: some of the account's channel groups or sources. */
const ga4KpiFilter = z
  .strictObject({
    channelGroups: z.array(channelGroup, { error: 'must be a list of channel groups' }).min(1, 'must list at least one channel group').optional(),
    source: z.union([source, z.array(source).min(1, 'must list at least one source')], { error: 'must be a source or a list of sources' }).optional(),
  })
  .refine((f) => !!f.channelGroups !== !!f.source, { message: 'give either channelGroups or source' })

/** A segment of a property's daily counts: one value of the report's dimension. */
export function ga4Segment(dimension: Ga4Settings['dimension'], value: string): string {
  return `${dimension}=${value.trim().toLowerCase()}`
}

/** Google Analytics 4 through the Data API v1beta `runReport` (social-apis.md §7.2). */
export const ga4 = defineNetwork({
  label: 'Google Analytics 4',
  apis: { data: { urlEnv: 'GA4_API_URL', defaultUrl: 'https://analyticsdata.googleapis.com' } },
  apiId: 'the GA4 property id (digits, e.g. 412345678)',
  auth: {
    oauth: googleOAuth([GA4_SCOPE]),
    // The Data API accepts a service account added to the property as a Viewer.
    serviceAccount: { scopes: [GA4_SCOPE] },
  },
  quota: {
    limit: 2000,
    windowMs: 3_600_000,
    scope: 'account',
    source: 'GA4 Data API: 40,000 core tokens per property per hour, about 10 or more per report; 2,000 reports per hour per property (propertyQuota is read too)',
  },
  metrics: {
    sessions: {
      shape: 'daily',
      source: "runReport metric `sessions` by `date`, filtered to the account's channel groups or sources",
      description: "Website sessions that came from social media, per day of the property's time zone. GA4 completes a day within about 2 days.",
    },
    conversions: {
      shape: 'daily',
      source: 'runReport metric `keyEvents` (or `keyEvents:<event>`, or `conversions` on request) by `date`, same filter',
      description: "Key events (formerly conversions) in those sessions, per day of the property's time zone.",
    },
  },
  settings: ga4Settings,
  kpiFilter: {
    schema: ga4KpiFilter,
    segments(filter, settings) {
      // Both metrics come from the same report, so any filter fits either.
      const f = filter as z.output<typeof ga4KpiFilter>
      const account = settings as Ga4Settings
      const dimension = f.source ? 'sessionSource' : 'sessionDefaultChannelGroup'
      if (dimension !== account.dimension) {
        return {
          problem: `its account counts sessions by ${account.dimension === 'sessionSource' ? 'source' : 'channel group'}, so a KPI narrows it by ${account.dimension === 'sessionSource' ? 'source' : 'channelGroups'} too`,
        }
      }
      const values = f.source ? [f.source].flat() : f.channelGroups!
      return { segments: values.map((value) => ga4Segment(dimension, value)) }
    },
  },
})
