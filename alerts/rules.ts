import { statusMeaning } from '../kpi/statuses.ts'

/**
 * The alert lifecycle, modelled on Prometheus and Alertmanager, as a pure function of the previous
 * state, what was just observed, and the time:
 *
 *   ok ──failing──▶ pending ──failing for `forMs`──▶ firing ──fine for `keepFiringForMs`──▶ ok
 *    ▲                 │                               │  ▲
 *    └──────fine───────┘                               └──┘ failing again: stays firing, quietly
 *
 * One notification per transition (→ firing, a change of failing status, firing → ok), and a
 * reminder after `repeatIntervalMs` while it stays failing. `pending` never notifies: a condition
 * that clears before `forMs` has passed leaves no trace but the history row. With `forMs` 0 an
 * alert fires at once; with `keepFiringForMs` 0 it resolves at once (the defaults).
 */
export type AlertSubject = 'kpi' | 'source' | 'crisis'
export type AlertEvent = 'firing' | 'repeat' | 'resolved'
export type AlertStatus = 'ok' | 'pending' | 'firing'

export interface AlertState {
  key: string
  subjectKind: AlertSubject
  subjectId: string
  status: AlertStatus
  /** ok: since it is fine; pending and firing: since the condition first held (Prometheus' activeAt). */
  since: Date
  lastNotifiedAt: Date | null
  /** The failing status that fired (at_risk, missed, unhealthy), to notice a change. */
  label: string
  version: number
  /** While firing: since when the condition has been false (keep_firing_for); null otherwise. */
  clearSince?: Date | null
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
  /** How long the condition must hold before the alert fires (`for`); 0 or absent: at once. */
  forMs?: number
  /** How long a firing alert stays firing after the condition cleared (`keep_firing_for`); 0 or absent: resolves at once. */
  keepFiringForMs?: number
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
  const forMs = policy.forMs ?? 0
  const keepMs = policy.keepFiringForMs ?? 0
  const unchanged = (state: AlertState): AlertDecision => ({ next: state, event: null, changed: false })
  const ok = (): AlertState => ({ ...base, status: 'ok', since: now, lastNotifiedAt: null, label: signal.label, version: 0, clearSince: null })

  if (signal.failing === null) return unchanged(previous ?? { ...ok(), label: 'unknown' })

  if (signal.failing) {
    const status = previous?.status ?? 'ok'
    if (status === 'ok') {
      if (forMs > 0) {
        return { next: { ...base, status: 'pending', since: now, lastNotifiedAt: previous?.lastNotifiedAt ?? null, label: signal.label, version, clearSince: null }, event: null, changed: true }
      }
      return { next: { ...base, status: 'firing', since: now, lastNotifiedAt: now, label: signal.label, version, clearSince: null }, event: 'firing', changed: true }
    }
    if (status === 'pending') {
      if (now.getTime() - previous!.since.getTime() >= forMs) {
        return { next: { ...previous!, ...base, status: 'firing', lastNotifiedAt: now, label: signal.label, version, clearSince: null }, event: 'firing', changed: true }
      }
      if (previous!.label !== signal.label) return { next: { ...previous!, label: signal.label, version }, event: null, changed: true }
      return unchanged(previous!)
    }
    // firing
    const firing = previous!
    if (firing.label !== signal.label) {
      return { next: { ...firing, lastNotifiedAt: now, label: signal.label, version, clearSince: null }, event: 'firing', changed: true }
    }
    const due = policy.repeatIntervalMs !== null && firing.lastNotifiedAt !== null && now.getTime() - firing.lastNotifiedAt.getTime() >= policy.repeatIntervalMs
    if (due) return { next: { ...firing, lastNotifiedAt: now, version, clearSince: null }, event: 'repeat', changed: true }
    // Failing again within keep_firing_for: the flap is forgotten, nothing is sent.
    if (firing.clearSince) return { next: { ...firing, version, clearSince: null }, event: null, changed: true }
    return unchanged(firing)
  }

  // fine
  if (previous?.status === 'pending') {
    return { next: { ...base, status: 'ok', since: now, lastNotifiedAt: previous.lastNotifiedAt, label: signal.label, version, clearSince: null }, event: null, changed: true }
  }
  if (previous?.status === 'firing') {
    const clearSince = previous.clearSince ?? now
    if (now.getTime() - clearSince.getTime() < keepMs) {
      return previous.clearSince ? unchanged(previous) : { next: { ...previous, version, clearSince }, event: null, changed: true }
    }
    return {
      next: { ...base, status: 'ok', since: now, lastNotifiedAt: policy.notifyResolved ? now : previous.lastNotifiedAt, label: signal.label, version, clearSince: null },
      event: policy.notifyResolved ? 'resolved' : null,
      changed: true,
    }
  }
  return unchanged(previous ?? ok())
}

/** Severity of a failing KPI status, for routing: at risk warns, missed is critical. */
export function severityOf(label: string): 'warning' | 'critical' | null {
  return statusMeaning(label)?.severity ?? null
}
