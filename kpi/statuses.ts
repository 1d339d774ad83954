import type { Speaker } from '../core/i18n/index.ts'

/**
 * What each KPI status means, in one place: the alert rules (failing or fine), the period review
 * (a final verdict or not), routing (severity), and the tones every rendering uses (the terminal tables, the
 * `status` command, the emails, Slack, the replay, the dashboards). The words are the message
 * catalogue's (`status.<code>`, core/i18n/messages/). A new status is one more entry here and one
 * word per language; its tone says how it is coloured everywhere.
 */

export const KPI_STATUSES = ['on_track', 'at_risk', 'achieved', 'missed', 'unknown'] as const
export type KpiStatus = (typeof KPI_STATUSES)[number]

/** How a status is coloured: the terminal and the dashboards map each tone to their own colour. */
export type StatusTone = 'good' | 'done' | 'warning' | 'bad' | 'none'

export interface StatusMeaning {
  /** What an alert makes of it: true fires (at_risk, missed), false resolves (on_track, achieved), null changes nothing (unknown: no data). */
  failing: boolean | null
  /** A fact rather than a prediction (achieved, missed): it needs no evidence and is a period's final verdict. */
  final: boolean
  /** How a failing status is routed (alerting.routes[].severity): at risk warns, missed is critical. */
  severity: 'warning' | 'critical' | null
  tone: StatusTone
}

export const KPI_STATUS_MEANINGS: Record<KpiStatus, StatusMeaning> = {
  on_track: { failing: false, final: false, severity: null, tone: 'good' },
  at_risk: { failing: true, final: false, severity: 'warning', tone: 'warning' },
  achieved: { failing: false, final: true, severity: null, tone: 'done' },
  missed: { failing: true, final: true, severity: 'critical', tone: 'bad' },
  unknown: { failing: null, final: false, severity: null, tone: 'none' },
}

export const isKpiStatus = (value: string): value is KpiStatus => Object.hasOwn(KPI_STATUS_MEANINGS, value)

/** The meaning of a status read back as text (a stored row, an alert label); undefined when it is no KPI status. */
export const statusMeaning = (value: string): StatusMeaning | undefined => (isKpiStatus(value) ? KPI_STATUS_MEANINGS[value] : undefined)

/** A status in words (`status.<code>` in the catalogue); any other text as it is. */
export const statusWords = (speaker: Speaker, value: string): string => (isKpiStatus(value) ? speaker.t(`status.${value}`) : value)

/**
 * Why a KPI has no verdict (`unknown`): one code, stored in `status_reason` beside the status
 * (kpi_evaluations, kpi_verdicts; migration 0024). Its words, what happened and what to do are the
 * catalogue's `reason.<code>.words|explain|advice`. Every later capability that cannot judge uses
 * one of these codes rather than a status of its own. docs/kpi-semantics.md, "When there is no
 * verdict", describes each for users.
 */
export const STATUS_REASONS = ['no_data', 'incomplete', 'data_problem', 'no_history', 'too_early'] as const
export type StatusReason = (typeof STATUS_REASONS)[number]

export const isStatusReason = (value: string): value is StatusReason => (STATUS_REASONS as readonly string[]).includes(value)

/**
 * What is wrong with the data of a KPI that has reason `data_problem`: one code, stored in
 * `status_cause` (kpi_evaluations, kpi_verdicts; migration 0026), with its numbers in
 * `cause_facts`. The KPI is not judged and no alert changes (an alert already firing stays as it
 * is); the measured value stays stored in `actual`. docs/kpi-semantics.md, "Impossible values".
 * - `stale`: an account's data is older than the stale window (`missing_accounts` names it);
 * - `below_zero`: a count, sum or level below zero (facts: metric, value), which no count can be:
 *   the API's counters fell (posts deleted, a correction);
 * - `above_whole`: a rate above 100 % of a part over its whole (facts: metric, denominator, value);
 * - `mixed_currencies`: amounts in different currencies would be added (facts: account → currency).
 * Their words are the catalogue's `problem.<code>.words|explain|advice`.
 */
export const DATA_PROBLEMS = ['stale', 'below_zero', 'above_whole', 'mixed_currencies'] as const
export type DataProblemCause = (typeof DATA_PROBLEMS)[number]

/** A data problem with what it is about: the accounts missing, and the cause's numbers (strings, as stored). */
export interface DataProblem {
  cause: DataProblemCause
  facts: Record<string, string>
}

export const isDataProblemCause = (value: string): value is DataProblemCause => (DATA_PROBLEMS as readonly string[]).includes(value)

/** The catalogue entry for a reason, or for its data problem's cause when there is one. */
const reasonKey = (reason: StatusReason, problem: DataProblem | null | undefined) => (reason === 'data_problem' && problem ? `problem.${problem.cause}` : `reason.${reason}`)

const metricWords = (metric: string | undefined) => (metric ?? '').replace(/_/g, ' ')

/** The values a reason's or a cause's explanation takes. */
function explainValues(speaker: Speaker, missing: readonly string[], problem: DataProblem | null | undefined) {
  const facts = problem?.facts ?? {}
  const value = Number(facts.value)
  return {
    count: missing.length,
    accounts: speaker.list(missing),
    value: Number.isFinite(value) ? speaker.number(value) : String(facts.value ?? ''),
    metric: metricWords(facts.metric),
    denominator: metricWords(facts.denominator),
    share: Number.isFinite(value) ? speaker.percent(value, 0) : '',
    currencies: Object.entries(facts)
      .map(([account, currency]) => `${account}: ${currency}`)
      .join(', '),
  }
}

/** A reason in a few words ("incomplete data"), or its cause's ("impossible value"). */
export const reasonWords = (speaker: Speaker, reason: StatusReason, problem: DataProblem | null = null): string => speaker.t(`${reasonKey(reason, problem)}.words`)

/** What to do about a KPI without a verdict, for its reason or its cause. */
export const reasonAdvice = (speaker: Speaker, reason: StatusReason, problem: DataProblem | null = null): string => speaker.t(`${reasonKey(reason, problem)}.advice`)

/**
 * The data problem a stored row says (`status_cause`, `cause_facts`): rows written before
 * migration 0026 have no cause, and their `data_problem` was always stale data.
 */
export function storedProblem(reason: string | null | undefined, cause: string | null | undefined, facts: Record<string, string> | null | undefined): DataProblem | null {
  if (reason !== 'data_problem') return null
  return { cause: cause && isDataProblemCause(cause) ? cause : 'stale', facts: facts ?? {} }
}

/**
 * A status in words with its reason when it has one: "no verdict (incomplete data)" in the short
 * form; the long form says what happened ("no verdict: no data from account main in this period,
 * so it is not judged on the other accounts alone"). A reason that is no code is left out. A data
 * problem says its cause ("no verdict (impossible value)").
 */
export function statusText(
  speaker: Speaker,
  status: string,
  reason: string | null | undefined = null,
  missing: readonly string[] = [],
  form: 'short' | 'long' = 'short',
  problem: DataProblem | null = null,
): string {
  const words = statusWords(speaker, status)
  if (!reason || !isStatusReason(reason)) return words
  const key = reasonKey(reason, problem)
  if (form === 'short') return speaker.t('status.with_reason', { status: words, reason: speaker.t(`${key}.words`) })
  return speaker.t('status.explained', { status: words, explanation: speaker.t(`${key}.explain`, explainValues(speaker, missing, problem)) })
}

/** A reason as a table's note, naming the accounts missing: "incomplete data: main, second", "impossible value: −149 likes"; null without a reason. */
export function reasonNote(speaker: Speaker, reason: string | null | undefined, missing: readonly string[] = [], problem: DataProblem | null = null): string | null {
  if (!reason || !isStatusReason(reason)) return null
  const words = reasonWords(speaker, reason, problem)
  if (problem?.cause === 'below_zero') return speaker.t('reason.note', { words, detail: speaker.t('problem.below_zero.note', explainValues(speaker, missing, problem)) })
  if (problem?.cause === 'mixed_currencies') return speaker.t('reason.note', { words, detail: [...new Set(Object.values(problem.facts))].join(', ') })
  return missing.length ? speaker.t('reason.note', { words, detail: missing.join(', ') }) : words
}

/** How much a label weighs when an alert's worst label is kept: missed over at risk over anything else. */
export const severityRank = (value: string): number => ({ critical: 2, warning: 1, none: 0 })[statusMeaning(value)?.severity ?? 'none']
