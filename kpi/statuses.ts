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
  unknown: { failing: null, final: false, severity: null, words: 'unknown (no data)', tone: 'none' },
}

export const isKpiStatus = (value: string): value is KpiStatus => Object.hasOwn(KPI_STATUS_MEANINGS, value)

/** The meaning of a status read back as text (a stored row, an alert label); undefined when it is no KPI status. */
export const statusMeaning = (value: string): StatusMeaning | undefined => (isKpiStatus(value) ? KPI_STATUS_MEANINGS[value] : undefined)

/** A status in words; any other text as it is. */
export const statusWords = (value: string): string => statusMeaning(value)?.words ?? value

/** How much a label weighs when an alert's worst label is kept: missed over at risk over anything else. */
export const severityRank = (value: string): number => ({ critical: 2, warning: 1, none: 0 })[statusMeaning(value)?.severity ?? 'none']
