import { z } from 'zod'
import { NETWORKS } from '../core/metrics.ts'

/**
 * Crisis triggers of the plan's crisis guide: when one fires, the crisis contacts get the guide's
 * steps. Refined by the crisis-detection work (kpi/crisis.ts).
 */
const id = z.string({ error: 'must be an id (letters, digits, dash, underscore)' }).regex(/^[A-Za-z0-9][\w-]*$/, 'must be an id (letters, digits, dash, underscore)')
const scope = {
  id,
  network: z.enum(NETWORKS, { error: `must be one of: ${NETWORKS.join(', ')}` }).optional(),
  accounts: z.array(id).min(1, 'must list at least one account, or be left out for all accounts').optional(),
}

export const crisisTriggerSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      ...scope,
      kind: z.literal('follower_drop'),
      /** Followers fall by more than this share within the window. */
      dropPercent: z.number({ error: 'must be a percentage such as 2' }).positive('must be a positive percentage').max(100, 'must be at most 100'),
      windowHours: z.number({ error: 'must be a number of hours' }).positive('must be a positive number of hours').default(24),
    }),
    z.strictObject({
      ...scope,
      kind: z.literal('negative_reactions'),
      /** A daily or counter metric of negative reactions, e.g. reactions_anger. */
      metric: z.string({ error: 'must be a metric name' }).min(1),
      /** How many robust deviations (MAD) above the seasonal baseline. */
      deviations: z.number({ error: 'must be a number' }).positive('must be positive').default(3),
      baselineWeeks: z.number({ error: 'must be a whole number of weeks' }).int().min(2, 'must be at least 2 weeks').max(26).default(4),
    }),
    z.strictObject({
      ...scope,
      kind: z.literal('engagement_collapse'),
      metric: z.string({ error: 'must be a metric name' }).min(1).default('engagements'),
      /** Engagement below this share of its seasonal baseline. */
      dropPercent: z.number({ error: 'must be a percentage such as 50' }).positive().max(100).default(50),
      baselineWeeks: z.number({ error: 'must be a whole number of weeks' }).int().min(2).max(26).default(4),
    }),
  ],
  { error: 'must be a trigger with kind follower_drop, negative_reactions or engagement_collapse' },
)

export type CrisisTrigger = z.infer<typeof crisisTriggerSchema>
