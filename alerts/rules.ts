/**
 * The alert lifecycle, as a pure function of the previous state, what was just observed, and the
 * time. One notification per transition (ok → firing, a change of failing status, firing → ok),
 * and a reminder after `repeatIntervalMs` while it stays failing.
 */
export type AlertSubject = 'kpi' | 'source' | 'crisis'
export type AlertEvent = 'firing' | 'repeat' | 'resolved'

export interface AlertState {
  key: string
  subjectKind: AlertSubject
  subjectId: string
  status: 'ok' | 'firing'
  since: Date
  lastNotifiedAt: Date | null
  /** The failing status that fired (at_risk, missed, unhealthy), to notice a change. */
  label: string
  version: number
}

export interface AlertSignal {
  key: string
  subjectKind: AlertSubject
  subjectId: string
  /** true: failing, false: fine, null: cannot tell (no data) — the state is kept as it is. */
  failing: boolean | null
  label: string
}

export interface AlertPolicy {
  /** null: never remind. */
  repeatIntervalMs: number | null
  notifyResolved: boolean
}

export interface AlertDecision {
  next: AlertState
  event: AlertEvent | null
  /** True when `next` differs from the previous state and must be stored. */
  changed: boolean
}

export function decideAlert(previous: AlertState | undefined, signal: AlertSignal, now: Date, policy: AlertPolicy): AlertDecision {
  const base = { key: signal.key, subjectKind: signal.subjectKind, subjectId: signal.subjectId }
  const version = (previous?.version ?? 0) + 1
  if (signal.failing === null) {
    return { next: previous ?? { ...base, status: 'ok', since: now, lastNotifiedAt: null, label: 'unknown', version: 0 }, event: null, changed: false }
  }
  if (signal.failing) {
    if (!previous || previous.status === 'ok' || previous.label !== signal.label) {
      const since = previous?.status === 'firing' ? previous.since : now
      return { next: { ...base, status: 'firing', since, lastNotifiedAt: now, label: signal.label, version }, event: 'firing', changed: true }
    }
    const due = policy.repeatIntervalMs !== null && previous.lastNotifiedAt !== null && now.getTime() - previous.lastNotifiedAt.getTime() >= policy.repeatIntervalMs
    if (due) return { next: { ...previous, lastNotifiedAt: now, version }, event: 'repeat', changed: true }
    return { next: previous, event: null, changed: false }
  }
  if (previous?.status === 'firing') {
    return {
      next: { ...base, status: 'ok', since: now, lastNotifiedAt: policy.notifyResolved ? now : previous.lastNotifiedAt, label: signal.label, version },
      event: policy.notifyResolved ? 'resolved' : null,
      changed: true,
    }
  }
  return { next: previous ?? { ...base, status: 'ok', since: now, lastNotifiedAt: null, label: signal.label, version: 0 }, event: null, changed: false }
}
