/**
 * What each KPI status means, in one place: the alert rules (failing or fine), the period review
 * (a final verdict or not), routing (severity), and the words and tones every rendering uses (the
 * terminal tables, the `status` command, the emails, Slack, the replay, the dashboards). A new
 * status is one more entry here; its tone says how it is coloured everywhere.
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
  /** In words, as the emails and the dashboards say it. */
  words: string
  tone: StatusTone
}

export const KPI_STATUS_MEANINGS: Record<KpiStatus, StatusMeaning> = {
  on_track: { failing: false, final: false, severity: null, words: 'on track', tone: 'good' },
  at_risk: { failing: true, final: false, severity: 'warning', words: 'at risk', tone: 'warning' },
  achieved: { failing: false, final: true, severity: null, words: 'achieved', tone: 'done' },
  missed: { failing: true, final: true, severity: 'critical', words: 'missed', tone: 'bad' },
  unknown: { failing: null, final: false, severity: null, words: 'no verdict', tone: 'none' },
}

export const isKpiStatus = (value: string): value is KpiStatus => Object.hasOwn(KPI_STATUS_MEANINGS, value)

/** The meaning of a status read back as text (a stored row, an alert label); undefined when it is no KPI status. */
export const statusMeaning = (value: string): StatusMeaning | undefined => (isKpiStatus(value) ? KPI_STATUS_MEANINGS[value] : undefined)

/** A status in words; any other text as it is. */
export const statusWords = (value: string): string => statusMeaning(value)?.words ?? value

/**
 * Why a KPI has no verdict (`unknown`): one code, stored in `status_reason` beside the status
 * (kpi_evaluations, kpi_verdicts; migration 0024), and what it means in words. Every rendering
 * says a reason with these words (the Indonesian ones are in alerts/review-words.ts), and every
 * later capability that cannot judge uses one of these codes rather than a status of its own.
 * docs/kpi-semantics.md, "When there is no verdict", describes each for users.
 */
export const STATUS_REASONS = ['no_data', 'incomplete', 'data_problem', 'no_history', 'too_early'] as const
export type StatusReason = (typeof STATUS_REASONS)[number]

export interface ReasonMeaning {
  /** A few words, for tables and the dashboards: "incomplete data". */
  words: string
  /** What happened, in a sentence, naming the accounts missing when there are any. */
  explain(missing: readonly string[]): string
  /** What to do about it. */
  advice: string
}

const ACCOUNT_ADVICE = "The account's own alert (token refused, or data not fresh) says what to do; the KPI is judged again once the account is collected."

const accounts = (missing: readonly string[]) => (missing.length === 1 ? `account ${missing[0]}` : `accounts ${missing.join(', ')}`)

export const STATUS_REASON_MEANINGS: Record<StatusReason, ReasonMeaning> = {
  no_data: {
    words: 'no data',
    explain: () => 'none of its accounts has data for it in this period',
    advice: 'Check that the metric is collected for these accounts (social-kpi status, the operations dashboard); an account without posts has nothing to count.',
  },
  incomplete: {
    words: 'incomplete data',
    explain: (missing) => `no data from ${accounts(missing)} in this period, so it is not judged on the other accounts alone`,
    advice: ACCOUNT_ADVICE,
  },
  data_problem: {
    words: 'data problem',
    explain: (missing) => DATA_PROBLEM_MEANINGS.stale.explain({ missing, facts: {} }),
    advice: ACCOUNT_ADVICE,
  },
  no_history: {
    words: 'no starting level',
    explain: () => 'there is no reading at the start of the period to count the growth from',
    advice: 'It is judged from the next period on; `social-kpi backfill` reads follower history where the API keeps it.',
  },
  too_early: {
    words: 'too early',
    explain: () => 'the period has not begun, or no reading of it can exist yet',
    advice: 'Nothing to do: it is judged once its first data arrives.',
  },
}

export const isStatusReason = (value: string): value is StatusReason => Object.hasOwn(STATUS_REASON_MEANINGS, value)

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
 */
export const DATA_PROBLEMS = ['stale', 'below_zero', 'above_whole', 'mixed_currencies'] as const
export type DataProblemCause = (typeof DATA_PROBLEMS)[number]

/** A data problem with what it is about: the accounts missing, and the cause's numbers (strings, as stored). */
export interface DataProblem {
  cause: DataProblemCause
  facts: Record<string, string>
}

export const isDataProblemCause = (value: string): value is DataProblemCause => (DATA_PROBLEMS as readonly string[]).includes(value)

const signedNumber = (text: string | undefined) => {
  const value = Number(text)
  return Number.isFinite(value) ? `${value < 0 ? '−' : ''}${Math.abs(value).toLocaleString('en-US', { maximumFractionDigits: 4 })}` : String(text)
}

/** Each cause in words, as the reasons are: a few words for tables, what happened, what to do. */
export const DATA_PROBLEM_MEANINGS: Record<DataProblemCause, { words: string; explain(problem: { missing: readonly string[]; facts: Record<string, string> }): string; advice: string }> = {
  stale: {
    words: 'stale data',
    explain: ({ missing }) => `the data of ${accounts(missing)} is out of date, so it is not judged on the other accounts alone`,
    advice: ACCOUNT_ADVICE,
  },
  below_zero: {
    words: 'impossible value',
    explain: ({ facts }) => `the API's counts fell: ${signedNumber(facts.value)} ${(facts.metric ?? '').replace(/_/g, ' ')} in this period, and a count cannot be below zero`,
    advice:
      "The numbers are wrong, not the KPI: the API lowered counts it had given (posts deleted, a correction). It is judged again once they add up; check the metric's observations with social-kpi sql.",
  },
  above_whole: {
    words: 'impossible value',
    explain: ({ facts }) =>
      `${(facts.metric ?? '').replace(/_/g, ' ')} came to ${Math.round(Number(facts.value) * 100)}% of ${(facts.denominator ?? '').replace(/_/g, ' ')}, and a part cannot pass its whole`,
    advice: 'The numbers are wrong, not the KPI: one of the two counts is incomplete or late. It is judged again once they add up.',
  },
  mixed_currencies: {
    words: 'mixed currencies',
    explain: ({ facts }) =>
      `it would add amounts in different currencies (${Object.entries(facts)
        .map(([account, currency]) => `${account}: ${currency}`)
        .join(', ')}), which are never converted`,
    advice: 'Give each currency a KPI of its own (kpis[].accounts).',
  },
}

/** The words of a reason, or of its data problem's cause when there is one: "stale data", "impossible value". */
function reasonMeaning(reason: StatusReason, problem: DataProblem | null | undefined): { words: string; explain(missing: readonly string[]): string } {
  if (reason !== 'data_problem' || !problem) return STATUS_REASON_MEANINGS[reason]
  const meaning = DATA_PROBLEM_MEANINGS[problem.cause]
  return { words: meaning.words, explain: (missing) => meaning.explain({ missing, facts: problem.facts }) }
}

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
 * form; the long form adds what happened ("no verdict: no data from account main in this period,
 * so it is not judged on the other accounts alone"). A reason that is no code is left out. A data
 * problem says its cause ("no verdict (impossible value)").
 */
export function statusText(status: string, reason: string | null | undefined = null, missing: readonly string[] = [], form: 'short' | 'long' = 'short', problem: DataProblem | null = null): string {
  const words = statusWords(status)
  if (!reason || !isStatusReason(reason)) return words
  const meaning = reasonMeaning(reason, problem)
  return form === 'short' ? `${words} (${meaning.words})` : `${words}: ${meaning.explain(missing)}`
}

/** A reason as a table's note, naming the accounts missing: "incomplete data: main, second", "impossible value: −149 likes"; null without a reason. */
export function reasonNote(reason: string | null | undefined, missing: readonly string[] = [], problem: DataProblem | null = null): string | null {
  if (!reason || !isStatusReason(reason)) return null
  const words = reasonMeaning(reason, problem).words
  if (problem?.cause === 'below_zero') return `${words}: ${signedNumber(problem.facts.value)} ${(problem.facts.metric ?? '').replace(/_/g, ' ')}`
  if (problem?.cause === 'mixed_currencies') return `${words}: ${[...new Set(Object.values(problem.facts))].join(', ')}`
  return missing.length ? `${words}: ${missing.join(', ')}` : words
}

/** How much a label weighs when an alert's worst label is kept: missed over at risk over anything else. */
export const severityRank = (value: string): number => ({ critical: 2, warning: 1, none: 0 })[statusMeaning(value)?.severity ?? 'none']
