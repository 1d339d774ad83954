import { z } from 'zod'
import { METRICS, NETWORKS, isNetwork, type MetricShape } from '../core/metrics.ts'

/**
 * Crisis triggers of the plan's crisis guide: when one fires, the crisis contacts get the guide's
 * steps (kpi/crisis.ts judges them; docs/kpi-semantics.md, "Crisis detection", explains how).
 */
const id = z.string({ error: 'must be an id (letters, digits, dash, underscore)' }).regex(/^[A-Za-z0-9][\w-]*$/, 'must be an id (letters, digits, dash, underscore)')
const scope = {
  id,
  /** Trigger on this network's accounts only; left out: every account of the plan that has the metric. */
  network: z.enum(NETWORKS, { error: `must be one of: ${NETWORKS.join(', ')}` }).optional(),
  accounts: z.array(id).min(1, 'must list at least one account, or be left out for all accounts').optional(),
}
const baselineWeeks = z
  .number({ error: 'must be a whole number of weeks from 2 to 26' })
  .int('must be a whole number of weeks from 2 to 26')
  .min(2, 'must be a whole number of weeks from 2 to 26')
  .max(26, 'must be a whole number of weeks from 2 to 26')
  .default(4)

export const crisisTriggerSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      ...scope,
      kind: z.literal('follower_drop'),
      /** Followers fall by more than this share (in %) within the window, on any one account. */
      dropPercent: z.number({ error: 'must be a percentage such as 2' }).positive('must be a positive percentage').max(100, 'must be at most 100'),
      windowHours: z
        .number({ error: 'must be a number of hours' })
        .positive('must be a positive number of hours')
        .max(24 * 14, 'must be at most 336 hours (two weeks)')
        .default(24),
    }),
    z.strictObject({
      ...scope,
      kind: z.literal('negative_reactions'),
      /** A count of negative reactions, e.g. reactions_anger: per day for a daily metric, per hour for a post counter. */
      metric: z.string({ error: 'must be a metric name' }).min(1),
      /** How many robust deviations (1.4826 × MAD) above the seasonal median. */
      deviations: z.number({ error: 'must be a number' }).positive('must be positive').default(3),
      baselineWeeks,
    }),
    z.strictObject({
      ...scope,
      kind: z.literal('engagement_collapse'),
      metric: z.string({ error: 'must be a metric name' }).min(1).default('engagements'),
      /** Engagement falls more than this share (in %) below its seasonal median. */
      dropPercent: z.number({ error: 'must be a percentage such as 50' }).positive('must be a positive percentage').max(100, 'must be at most 100').default(50),
      baselineWeeks,
    }),
  ],
  { error: 'must be a trigger with kind follower_drop, negative_reactions or engagement_collapse' },
)

export type CrisisTrigger = z.infer<typeof crisisTriggerSchema>

/** The metric a trigger watches: followers for a drop, else the one it names. */
export function triggerMetric(trigger: CrisisTrigger): string {
  return trigger.kind === 'follower_drop' ? 'followers' : trigger.metric
}

/** Which metric shapes each trigger reads: a level for a drop, counts for the others. */
export const TRIGGER_SHAPES: Record<CrisisTrigger['kind'], MetricShape[]> = {
  follower_drop: ['gauge'],
  negative_reactions: ['daily', 'counter'],
  engagement_collapse: ['daily', 'counter'],
}

export interface CrisisIssue {
  /** Path inside the trigger, e.g. ['accounts', 0]. */
  path: (string | number)[]
  message: string
}

/**
 * Cross-checks one trigger against the plan's accounts (each `{ id, network }`): the accounts it
 * names exist (on its network, if it names one), and the metric exists with a shape the trigger
 * can read on at least one watched network. Meant for the plan's own cross-reference check, with
 * every problem named; it reads defensively because the trigger may itself be malformed.
 */
export function checkCrisisTrigger(trigger: Record<string, unknown>, accounts: Array<{ id?: string; network?: string }>): CrisisIssue[] {
  const issues: CrisisIssue[] = []
  const kind = trigger.kind
  if (kind !== 'follower_drop' && kind !== 'negative_reactions' && kind !== 'engagement_collapse') return issues
  const network = typeof trigger.network === 'string' && isNetwork(trigger.network) ? trigger.network : undefined
  const inScope = accounts.filter((a) => network === undefined || a.network === network)
  if (network && inScope.length === 0) issues.push({ path: ['network'], message: `the strategy lists no ${network} account` })
  const named = Array.isArray(trigger.accounts) ? (trigger.accounts as unknown[]) : undefined
  named?.forEach((accountId, index) => {
    if (typeof accountId === 'string' && !inScope.some((a) => a.id === accountId)) {
      issues.push({ path: ['accounts', index], message: `"${accountId}" is not ${network ? `a ${network}` : 'an'} account of the strategy` })
    }
  })
  const metric = kind === 'follower_drop' ? 'followers' : typeof trigger.metric === 'string' ? trigger.metric : kind === 'engagement_collapse' ? 'engagements' : undefined
  if (metric === undefined) return issues
  const watched = named ? inScope.filter((a) => named.includes(a.id)) : inScope
  const networks = [...new Set(watched.map((a) => a.network).filter((n): n is (typeof NETWORKS)[number] => typeof n === 'string' && isNetwork(n)))]
  if (networks.length === 0) return issues
  const fitting = networks.filter((n) => {
    const shape = METRICS[n][metric]?.shape
    return shape !== undefined && TRIGGER_SHAPES[kind].includes(shape)
  })
  if (fitting.length === 0) {
    const what = kind === 'follower_drop' ? 'a follower level' : 'a count (a daily metric or a post counter)'
    issues.push({ path: [kind === 'follower_drop' ? 'network' : 'metric'], message: `${kind} needs ${what} named "${metric}"; none of ${networks.join(', ')} has one` })
  }
  return issues
}
