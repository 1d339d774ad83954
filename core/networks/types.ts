import type { z } from 'zod'

export type MetricShape = 'gauge' | 'counter' | 'daily'

export interface MetricDefinition {
  shape: MetricShape
  /** Where the value comes from in the network's API. */
  source: string
  description: string
}

/** What the rest of the system knows about one source: its metrics and its account settings. */
export interface NetworkDescriptor {
  label: string
  /** What the plan's `apiId` is for this network (shown in plan errors and docs). */
  apiId: string
  metrics: Record<string, MetricDefinition>
  /** Extra per-account settings the plan must give (`settings:`), validated when the plan loads. */
  settings?: z.ZodType
}
