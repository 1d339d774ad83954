import type { z } from 'zod'

export type MetricShape = 'gauge' | 'counter' | 'daily'

export interface MetricDefinition {
  shape: MetricShape
  /** Where the value comes from in the network's API. */
  source: string
  description: string
}

/**
 * A documented call limit. `account`: the API counts it per account or token (each account has
 * its own); `app`: per app or project, shared by every account of the plan (split evenly).
 */
export interface QuotaPolicy {
  limit: number
  windowMs: number
  scope: 'account' | 'app'
  /** Where the number comes from. */
  source: string
}

/** What the rest of the system knows about one source: its metrics and its account settings. */
export interface NetworkDescriptor {
  label: string
  /** What the plan's `apiId` is for this network (shown in plan errors and docs). */
  apiId: string
  metrics: Record<string, MetricDefinition>
  /** Extra per-account settings the plan must give (`settings:`), validated when the plan loads. */
  settings?: z.ZodType
  /** The call limit collectors stay within (checked before every request). */
  quota?: QuotaPolicy
}
