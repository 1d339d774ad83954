import { describe, expect, it } from 'vitest'
import { decideAlert, type AlertPolicy, type AlertSignal, type AlertState } from '../../alerts/rules.ts'

const policy: AlertPolicy = { repeatIntervalMs: 24 * 3_600_000, notifyResolved: true }
const signal = (failing: boolean | null, label = failing ? 'at_risk' : 'on_track'): AlertSignal => ({ key: 'kpi.k', subjectKind: 'kpi', subjectId: 'k', failing, label })
const at = (hours: number) => new Date(Date.UTC(2026, 10, 1) + hours * 3_600_000)

/** Feeds a sequence of signals through the rules, one hour apart, and lists the events. */
function run(signals: AlertSignal[], p = policy): Array<string | null> {
  let state: AlertState | undefined
  return signals.map((s, i) => {
    const decision = decideAlert(state, s, at(i), p)
    if (decision.changed) state = decision.next
    return decision.event
  })
}

describe('alert lifecycle', () => {
  it('sends one email per transition, not one per evaluation', () => {
    expect(run([signal(false), signal(true), signal(true), signal(true), signal(false), signal(false)])).toEqual([null, 'firing', null, null, 'resolved', null])
  })

  it('notifies again when the failing status changes (at risk, then missed)', () => {
    expect(run([signal(true, 'at_risk'), signal(true, 'missed'), signal(true, 'missed')])).toEqual(['firing', 'firing', null])
  })

  it('reminds after the repeat interval while still failing', () => {
    const events = run(Array.from({ length: 50 }, () => signal(true)))
    expect(events.filter((e) => e === 'repeat')).toHaveLength(2)
    expect(events[24]).toBe('repeat')
    expect(events[48]).toBe('repeat')
  })

  it('keeps the state when there is no data', () => {
    expect(run([signal(true), signal(null), signal(null), signal(true), signal(false)])).toEqual(['firing', null, null, null, 'resolved'])
  })

  it('can stay silent on recovery and never repeat', () => {
    expect(run([signal(true), signal(true), signal(false)], { repeatIntervalMs: null, notifyResolved: false })).toEqual(['firing', null, null])
  })

  it('remembers since when it fires across a status change', () => {
    const first = decideAlert(undefined, signal(true, 'at_risk'), at(0), policy)
    const second = decideAlert(first.next, signal(true, 'missed'), at(5), policy)
    expect(second.next.since).toEqual(at(0))
    expect(second.next.version).toBe(2)
  })
})
