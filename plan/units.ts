import { METRICS, type Network } from '../core/metrics.ts'
import { findKpiKind } from '../kpi/kinds/index.ts'

/**
 * How a KPI's numbers are shown (docs/plan-file.md, `unit`). Display only: a stored value and a
 * target keep their meaning whatever the unit (a rate is a fraction, 0.03, shown as 3 %).
 * - `percent`: a fraction shown as a percentage (a rate of two counts);
 * - `ratio`: a fraction shown as it is (0.0312; revenue per amount spent, 4.2);
 * - `count`: a number of things (likes, followers, purchases);
 * - `currency`: an amount of money in its account's currency, which the API tells (never converted).
 */
export const KPI_UNITS = ['percent', 'ratio', 'count', 'currency'] as const
export type KpiUnit = (typeof KPI_UNITS)[number]

/** What a KPI reads, as far as its unit goes (loose: the plan may still be invalid). */
export interface UnitSubject {
  network: Network
  kind: string
  metric: string
  denominator?: string | undefined
}

const isMoney = (network: Network, metric: string | undefined) => metric !== undefined && METRICS[network][metric]?.money === true

/**
 * The unit a KPI has when the plan gives none: a ratio of two counts is a percentage; money over
 * a count (spend per purchase) is money; money over money (purchase value per amount spent) is a
 * plain ratio; one money metric is money; anything else is a count.
 */
export function defaultUnit(kpi: UnitSubject): KpiUnit {
  const ratio = findKpiKind(kpi.kind)?.denominator === true
  const money = isMoney(kpi.network, kpi.metric)
  if (!ratio) return money ? 'currency' : 'count'
  const perMoney = isMoney(kpi.network, kpi.denominator)
  if (money) return perMoney ? 'ratio' : 'currency'
  return perMoney ? 'ratio' : 'percent'
}

/** The units a KPI may be shown in; with why another is refused. */
export function unitProblem(kpi: UnitSubject, unit: KpiUnit): string | null {
  const ratio = findKpiKind(kpi.kind)?.denominator === true
  const money = isMoney(kpi.network, kpi.metric)
  if ((unit === 'percent' || unit === 'ratio') && !ratio) return `${unit} is for a rate KPI (metric ÷ denominator); a ${kpi.kind} KPI is shown as ${money ? 'currency or count' : 'count'}`
  if (unit === 'currency' && !money) return `${kpi.metric} is not an amount of money; currency is for a KPI over spend or conversion_value (Meta ads)`
  if (unit === 'currency' && ratio && isMoney(kpi.network, kpi.denominator)) return 'money over money is no amount of money; use ratio (or percent)'
  if (unit === 'count' && ratio) return 'a rate is a fraction, not a count; use percent or ratio'
  return null
}

/** What a renderer needs to show a KPI's numbers: its unit, and for money its currency when known. */
export interface KpiDisplay {
  unit: KpiUnit
  /** ISO 4217 code (IDR, USD), for `currency` only; absent while no account has told it. */
  currency?: string
}

/**
 * How to show a KPI's numbers: its unit (the plan's, or the default), and for money the currency
 * of its evaluation (read from the accounts' API, or the plan's `settings.currency`; see
 * kpi/evaluate.ts). `evaluation` is the evaluation being shown, or a row of kpi_evaluations.
 */
export function kpiDisplay(kpi: { unit: KpiUnit }, evaluation?: { currency?: string | null }): KpiDisplay {
  const currency = kpi.unit === 'currency' ? evaluation?.currency || undefined : undefined
  return currency ? { unit: kpi.unit, currency } : { unit: kpi.unit }
}

/**
 * A percentage as the plan may write a rate's target: `3%`, `3 %`, `3.5%`, `3,5%` (a decimal
 * comma, as Indonesian writes it). A comma before exactly three digits (`1,000%`) could be a
 * thousands separator, so it is not read.
 */
const PERCENT = /^(\d+)(?:([.,])(\d+))?\s*%$/

/** A target written as a percentage, as a fraction (`"3%"` → 0.03); `ambiguous` for `1,000%`; null for anything else. */
export function parsePercent(text: string): number | 'ambiguous' | null {
  const match = PERCENT.exec(text.trim())
  if (!match) return null
  const [, whole, separator, fraction] = match
  if (separator === ',' && fraction!.length === 3) return 'ambiguous'
  // Scaled in decimal, so 3.3% is exactly 0.033 and not 0.033000000000000004.
  return Number(`${whole}${fraction ? `.${fraction}` : ''}e-2`)
}
