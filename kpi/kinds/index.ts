import { growth } from './growth.ts'
import type { KpiKindModule } from './kind.ts'
import { level } from './level.ts'
import { rate } from './rate.ts'
import { total } from './total.ts'

/**
 * The KPI kinds: one module each in this folder, defined with `defineKpiKind` (kpi/kinds/kind.ts).
 * Adding a kind is its module and one entry here; the plan's `kind` accepts it from then on, and
 * the evaluator, pacing, the review and the renderings read what it says of itself. The order is
 * the order the plan's error message lists them in.
 */
export const KPI_KIND_MODULES = [level, growth, total, rate] as const

export type KpiKind = (typeof KPI_KIND_MODULES)[number]['name']

/** The kinds' names, for the plan's zod enum. */
export const KPI_KINDS = KPI_KIND_MODULES.map((kind) => kind.name) as [KpiKind, ...KpiKind[]]

const BY_NAME = new Map<string, KpiKindModule>(KPI_KIND_MODULES.map((kind) => [kind.name, kind]))

/** The module of a kind the plan has checked. */
export function kpiKind(name: KpiKind): KpiKindModule<KpiKind> {
  return BY_NAME.get(name)! as KpiKindModule<KpiKind>
}

/** The module of a kind read back as text (a stored row, an unchecked plan); undefined when there is none of that name. */
export function findKpiKind(name: unknown): KpiKindModule | undefined {
  return typeof name === 'string' ? BY_NAME.get(name) : undefined
}

/** The decimals a kind's values are written with; 0 for a name that is no kind. */
export const decimalsOf = (name: unknown): number => findKpiKind(name)?.decimals ?? 0

/** A KPI value in a terminal table (`social-kpi status`, `evaluate`, the replay): `—`, `4,000`, `0.0312`. */
export function formatKpiValue(value: number | null, kind: unknown): string {
  if (value === null) return '—'
  const decimals = decimalsOf(kind)
  return decimals > 0 ? value.toFixed(decimals) : Math.round(value).toLocaleString('en-US')
}

export type { KpiKindModule, KindReading, Measurement, StartingPoint } from './kind.ts'
