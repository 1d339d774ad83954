import { describe, expect, it } from 'vitest'
import { decideAlert, severityOf, type AlertPolicy, type AlertSignal, type AlertState } from '../../alerts/rules.ts'

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

describe('pending period (`for`)', () => {
  const pending: AlertPolicy = { ...policy, forMs: 3 * 3_600_000 }
  /** Runs signals at the given hours and lists [event, status] after each. */
  function timeline(steps: Array<[number, AlertSignal]>, p: AlertPolicy): Array<[string | null, string]> {
    let state: AlertState | undefined
    return steps.map(([hour, s]) => {
      const decision = decideAlert(state, s, at(hour), p)
      if (decision.changed) state = decision.next
      return [decision.event, decision.next.status]
    })
  }

  it('stays pending, without an email, until the condition has held for `for`', () => {
    expect(
      timeline(
        [
          [0, signal(true)],
          [1, signal(true)],
          [2.9, signal(true)],
          [3, signal(true)],
          [4, signal(true)],
        ],
        pending,
      ),
    ).toEqual([
      [null, 'pending'],
      [null, 'pending'],
      [null, 'pending'],
      ['firing', 'firing'],
      [null, 'firing'],
    ])
  })

  it('forgets a condition that clears before `for` has passed: no email at all, and the clock starts again', () => {
    expect(
      timeline(
        [
          [0, signal(true)],
          [2, signal(false)],
          [3, signal(true)],
          [5, signal(true)],
          [6, signal(true)],
          [7, signal(false)],
        ],
        pending,
      ),
    ).toEqual([
      [null, 'pending'],
      [null, 'ok'],
      [null, 'pending'],
      [null, 'pending'],
      ['firing', 'firing'],
      ['resolved', 'ok'],
    ])
  })

  it('keeps pending through missing data, and fires with `since` at the start of the condition', () => {
    const first = decideAlert(undefined, signal(true), at(0), pending)
    const gap = decideAlert(first.next, signal(null), at(1), pending)
    expect(gap.changed).toBe(false)
    const fired = decideAlert(gap.next, signal(true, 'missed'), at(3), pending)
    expect(fired.event).toBe('firing')
    expect(fired.next.since).toEqual(at(0))
    expect(fired.next.label).toBe('missed')
  })

  it('measures repeat_interval from the firing, not from the start of pending', () => {
    const events = timeline(
      Array.from({ length: 30 }, (_, h): [number, AlertSignal] => [h, signal(true)]),
      pending,
    ).map(([e]) => e)
    expect(events.indexOf('firing')).toBe(3)
    expect(events.indexOf('repeat')).toBe(27)
  })
})

describe('keep_firing_for against flapping', () => {
  const sticky: AlertPolicy = { ...policy, keepFiringForMs: 2 * 3_600_000 }

  it('stays firing, quietly, while the condition flaps back within keep_firing_for', () => {
    expect(run([signal(true), signal(false), signal(true), signal(false), signal(true), signal(true)], sticky)).toEqual(['firing', null, null, null, null, null])
  })

  it('resolves once the condition has been false for keep_firing_for, counted from the first fine evaluation', () => {
    expect(run([signal(true), signal(false), signal(false), signal(false), signal(false)], sticky)).toEqual(['firing', null, null, 'resolved', null])
  })

  it('restarts the count after a relapse', () => {
    // fine at 1, failing at 2 (forget), fine at 3, 4, resolved at 5 (2 h after 3)
    expect(run([signal(true), signal(false), signal(true), signal(false), signal(false), signal(false)], sticky)).toEqual(['firing', null, null, null, null, 'resolved'])
  })

  it('without keep_firing_for, one fine evaluation resolves (the default)', () => {
    expect(run([signal(true), signal(false), signal(true)])).toEqual(['firing', 'resolved', 'firing'])
  })

  it('combines with `for`: a pending alert that clears never fires, a firing one lingers', () => {
    const both: AlertPolicy = { ...policy, forMs: 2 * 3_600_000, keepFiringForMs: 2 * 3_600_000 }
    expect(run([signal(true), signal(false), signal(true), signal(true), signal(true), signal(false), signal(true), signal(false), signal(false), signal(false)], both)).toEqual([
      null,
      null,
      null,
      null,
      'firing',
      null,
      null,
      null,
      null,
      'resolved',
    ])
  })
})

describe('severity for routing', () => {
  it('maps at_risk to warning and missed to critical', () => {
    expect([severityOf('at_risk'), severityOf('missed'), severityOf('on_track')]).toEqual(['warning', 'critical', null])
  })
})
