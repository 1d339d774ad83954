import type { Speaker } from '../core/i18n/index.ts'
import { evaluateCrisis, type CrisisDataSource } from '../kpi/crisis.ts'
import { customPeriodEnded, evaluatePlan, forecastForNote } from '../kpi/evaluate.ts'
import type { KpiDataSource } from '../kpi/kinds/source.ts'
import { decimalsOf } from '../kpi/kinds/index.ts'
import { basisNote } from '../kpi/pacing.ts'
import { reasonWords, statusWords, type DataProblemCause, type StatusReason } from '../kpi/statuses.ts'
import { planSpeaker, type Plan } from '../plan/plan.ts'
import { kpiDisplay } from '../plan/units.ts'
import { decideAlert, type AlertEvent, type AlertPolicy, type AlertSignal, type AlertState } from './rules.ts'
import { alertPolicies, closing, crisisSignal, endedKpiSignal, heldByCrisis, kpiSignal } from './signals.ts'

/**
 * Rule preview (`social-kpi evaluate --from --to`): evaluation replayed over stored history, step
 * by step, through the same pure alert rules with a fresh in-memory state. Nothing is written and
 * nothing is sent: the data sources only read, and the alert decisions stay in this module. A team
 * sees when each KPI and crisis trigger would have fired and resolved, and tunes tolerances,
 * thresholds, `for` and `keepFiringFor` before going live.
 *
 * The signals are the engine's own (alerts/signals.ts): crises are decided first, and while a
 * crisis is open the KPIs whose accounts are all in it are held (not decided). Silences are not
 * applied: a replay shows what the rules would do.
 */

export interface ReplaySources {
  kpi: KpiDataSource
  crisis: CrisisDataSource
}

export interface ReplayOptions {
  plan: Plan
  from: Date
  /** Exclusive: steps are from, from + step, … while < to. */
  to: Date
  stepMs: number
  sources: ReplaySources
  /** Called after each step, for progress bars. */
  onStep?(done: number, total: number): void
}

export interface ReplayEvent {
  at: Date
  key: string
  subjectKind: 'kpi' | 'crisis'
  subjectId: string
  event: AlertEvent
  /** The failing status (at_risk, missed) or, for a crisis, the accounts involved; `ok` once resolved. */
  label: string
  /** In words: the KPI's actual against expected and target, or the crisis finding. */
  detail: string
}

export interface ReplaySummary {
  key: string
  subjectKind: 'kpi' | 'crisis'
  subjectId: string
  name: string
  fired: number
  resolved: number
  /** Reminders the repeat interval would have sent. */
  repeats: number
  /** Steps at which the KPI was held by an open crisis. */
  held: number
  /** Steps at which the KPI had no verdict (status unknown), per reason (kpi/statuses.ts); its alert stayed as it was. */
  noVerdict: Partial<Record<StatusReason, number>>
  /** Of the steps with reason `data_problem`, how many per cause (kpi/statuses.ts DATA_PROBLEMS). */
  dataProblems: Partial<Record<DataProblemCause, number>>
  /** Total time firing within the replay (up to `to` for one still open). */
  firingMs: number
  openAtEnd: boolean
}

export interface ReplayResult {
  from: Date
  to: Date
  stepMs: number
  steps: number
  events: ReplayEvent[]
  summary: ReplaySummary[]
}

/** The step times of a replay: from, from + step, … while < to. */
function replaySteps(from: Date, to: Date, stepMs: number): Date[] {
  if (!(stepMs > 0)) throw new RangeError('the step must be positive')
  const steps: Date[] = []
  for (let t = from.getTime(); t < to.getTime(); t += stepMs) steps.push(new Date(t))
  return steps
}

/** The plan's policy as the engine applies it: KPIs get the whole lifecycle, crises fire at once and never remind. */
function replayPolicies(plan: Plan): { kpi: AlertPolicy; crisis: AlertPolicy } {
  const { kpi, once } = alertPolicies(plan)
  return { kpi, crisis: once }
}

export async function replay(options: ReplayOptions): Promise<ReplayResult> {
  const { plan, sources } = options
  const speaker = planSpeaker(plan)
  const times = replaySteps(options.from, options.to, options.stepMs)
  const policies = replayPolicies(plan)
  const states = new Map<string, AlertState>()
  const events: ReplayEvent[] = []
  const summary = new Map<string, ReplaySummary>()
  const firingSince = new Map<string, number>()
  const entry = (key: string, subjectKind: 'kpi' | 'crisis', subjectId: string, name: string) => {
    let s = summary.get(key)
    if (!s) summary.set(key, (s = { key, subjectKind, subjectId, name, fired: 0, resolved: 0, repeats: 0, held: 0, noVerdict: {}, dataProblems: {}, firingMs: 0, openAtEnd: false }))
    return s
  }
  for (const trigger of plan.crisis?.triggers ?? []) entry(`crisis.${trigger.id}`, 'crisis', trigger.id, trigger.id)
  for (const kpi of plan.kpis) entry(`kpi.${kpi.id}`, 'kpi', kpi.id, kpi.name)

  const decide = (signal: AlertSignal, at: Date, policy: AlertPolicy, detail: () => string) => {
    const previous = states.get(signal.key)
    const decision = decideAlert(previous, signal, at, policy)
    states.set(signal.key, decision.next)
    const s = summary.get(signal.key)!
    const wasFiring = previous?.status === 'firing'
    const isFiring = decision.next.status === 'firing'
    if (!wasFiring && isFiring) firingSince.set(signal.key, at.getTime())
    if (wasFiring && !isFiring) {
      s.firingMs += at.getTime() - firingSince.get(signal.key)!
      firingSince.delete(signal.key)
    }
    if (!decision.event) return decision.next
    if (decision.event === 'repeat') s.repeats++
    else {
      if (decision.event === 'firing') s.fired++
      else s.resolved++
      events.push({
        at,
        key: signal.key,
        subjectKind: signal.subjectKind as ReplayEvent['subjectKind'],
        subjectId: signal.subjectId,
        event: decision.event,
        label: decision.next.label,
        detail: detail(),
      })
    }
    return decision.next
  }

  for (const [index, at] of times.entries()) {
    const inhibited = new Set<string>()
    for (const crisis of await evaluateCrisis(plan, at, sources.crisis)) {
      const next = decide(crisisSignal(crisis, states.get(`crisis.${crisis.trigger.id}`)), at, policies.crisis, () => crisis.reason)
      if (next.status === 'firing') for (const id of next.label.split(',')) inhibited.add(id)
    }
    for (const evaluation of await evaluatePlan(plan, at, sources.kpi)) {
      const { kpi, status } = evaluation
      if (heldByCrisis(plan, kpi, inhibited)) {
        summary.get(`kpi.${kpi.id}`)!.held++
        continue
      }
      const display = kpiDisplay(kpi, evaluation)
      const number = (value: number | null) => (value === null ? '—' : speaker.value(value, display, decimalsOf(kpi.kind)))
      if (evaluation.reason) {
        const kpiSummary = summary.get(`kpi.${kpi.id}`)!
        kpiSummary.noVerdict[evaluation.reason] = (kpiSummary.noVerdict[evaluation.reason] ?? 0) + 1
        const cause = evaluation.problem?.cause
        if (cause) kpiSummary.dataProblems[cause] = (kpiSummary.dataProblems[cause] ?? 0) + 1
      }
      decide(kpiSignal(evaluation), at, policies.kpi, () => {
        const note = basisNote(speaker, status, evaluation.basis, kpi.comparator, forecastForNote(evaluation), 'short')
        const { forecast } = evaluation
        const words = statusWords(speaker, status)
        const values = {
          status: note ? speaker.t('status.with_reason', { status: words, reason: note }) : words,
          actual: number(evaluation.actual),
          expected: number(evaluation.expectedToDate),
          target: speaker.t('terminal.target', { comparator: kpi.comparator, value: number(kpi.target) }),
        }
        if (forecast && (status === 'at_risk' || evaluation.basis === 'forecast')) {
          return speaker.t('terminal.replay.detail_forecast', { ...values, forecast: number(forecast.end), low: number(forecast.low), high: number(forecast.high) })
        }
        return speaker.t('terminal.replay.detail', values)
      })
    }
    // a campaign that has ended has its verdict: its alert closes quietly, as the engine does
    for (const kpi of plan.kpis) if (customPeriodEnded(plan, kpi, at)) decide(endedKpiSignal(kpi), at, closing(policies.kpi), () => '')
    options.onStep?.(index + 1, times.length)
  }
  for (const [key, since] of firingSince) {
    const s = summary.get(key)!
    s.firingMs += options.to.getTime() - since
    s.openAtEnd = true
  }
  return { from: options.from, to: options.to, stepMs: options.stepMs, steps: times.length, events, summary: [...summary.values()] }
}

const STEP_UNITS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const

/** `1h`, `6h`, `1d`, `30m` → milliseconds; undefined when not a step. */
export function parseStep(value: string): number | undefined {
  const match = /^(\d+)\s*(m|h|d)$/.exec(value.trim())
  if (!match || Number(match[1]) <= 0) return undefined
  return Number(match[1]) * STEP_UNITS[match[2] as keyof typeof STEP_UNITS]
}

/** A length of time in the plan's language: `1d`, `2.5h` / `1 hari`, `2,5 jam`; `—` for none. */
function duration(speaker: Speaker, ms: number): string {
  if (ms === 0) return '—'
  const days = ms / 86_400_000
  return days >= 1
    ? speaker.t('terminal.replay.days', { value: speaker.number(Number(days.toFixed(1)), 1) })
    : speaker.t('terminal.replay.hours', { value: speaker.number(Number((ms / 3_600_000).toFixed(1)), 1) })
}

const COLORS = { firing: '\x1b[31m', resolved: '\x1b[32m' } as const

/** Steps without a verdict and why, in words: `6 (4 incomplete data, 2 stale data)`; a data problem by its cause; empty for none. */
function noVerdictCell(speaker: Speaker, s: ReplaySummary): string {
  const counts = Object.entries(s.noVerdict) as Array<[StatusReason, number]>
  const total = counts.reduce((n, [, c]) => n + c, 0)
  const causes = Object.entries(s.dataProblems) as Array<[DataProblemCause, number]>
  // Causes with the same words (a count below zero, a part above its whole: impossible values) add up.
  const byWords = new Map<string, number>()
  const add = (words: string, n: number) => byWords.set(words, (byWords.get(words) ?? 0) + n)
  for (const [reason, n] of counts) {
    if (reason !== 'data_problem') {
      add(reasonWords(speaker, reason), n)
      continue
    }
    for (const [cause, c] of causes) add(reasonWords(speaker, 'data_problem', { cause, facts: {} }), c)
    const told = causes.reduce((sum, [, c]) => sum + c, 0)
    if (n > told) add(reasonWords(speaker, 'data_problem'), n - told)
  }
  if (total === 0) return ''
  const reasons = [...byWords].map(([words, n]) => speaker.t('terminal.replay.no_verdict_reason', { count: speaker.number(n), words })).join(', ')
  return speaker.t('terminal.replay.no_verdict', { total: speaker.number(total), reasons })
}

/** The timeline (fired and resolved, not reminders) and the per-KPI summary, in the plan's language, times in its zone with the zone named. */
export function formatReplay(result: ReplayResult, plan: Plan, options: { color: boolean }): string {
  const speaker = planSpeaker(plan)
  const t = (key: string, values?: Record<string, string | number>) => speaker.t(`terminal.replay.${key}`, values)
  const lines: string[] = []
  lines.push(
    t('heading', {
      from: speaker.dateTime(result.from),
      to: speaker.dateTime(result.to),
      step: duration(speaker, result.stepMs),
      steps: result.steps,
      kpis: plan.kpis.length,
      triggers: plan.crisis?.triggers.length ?? 0,
    }),
  )
  const p = replayPolicies(plan).kpi
  const rules = { for: duration(speaker, p.forMs ?? 0), keep: duration(speaker, p.keepFiringForMs ?? 0) }
  lines.push(p.repeatIntervalMs === null ? t('rules_no_repeat', rules) : t('rules', { ...rules, repeat: duration(speaker, p.repeatIntervalMs) }))
  lines.push('', t('timeline'))
  if (result.events.length === 0) lines.push(`  ${t('nothing_fired')}`)
  const whens = result.events.map((e) => speaker.dateTime(e.at))
  const whenWidth = Math.max(0, ...whens.map((w) => w.length))
  const tags = { firing: t('firing'), resolved: t('resolved') }
  const tagWidth = Math.max(tags.firing.length, tags.resolved.length)
  for (const [i, e] of result.events.entries()) {
    const event = e.event as 'firing' | 'resolved'
    const tag = tags[event].padEnd(tagWidth)
    const colored = options.color ? `${COLORS[event]}${tag}\x1b[0m` : tag
    lines.push(`  ${whens[i]!.padEnd(whenWidth)}  ${colored}  ${e.key}  ${e.event === 'resolved' ? '' : e.detail}`.trimEnd())
  }
  lines.push('', t('summary'))
  const column = (key: string) => t(`column.${key}`)
  lines.push(
    ...table(
      [`  ${column('alert')}`, ...['fired', 'resolved', 'reminders', 'held', 'no_verdict', 'time_firing', 'at_end'].map(column)],
      result.summary.map((s) => [
        `  ${s.key}`,
        speaker.number(s.fired),
        speaker.number(s.resolved),
        speaker.number(s.repeats),
        speaker.number(s.held),
        noVerdictCell(speaker, s),
        duration(speaker, s.firingMs),
        s.openAtEnd ? t('still_firing') : '',
      ]),
    ),
  )
  const sum = (field: 'fired' | 'resolved' | 'repeats') => result.summary.reduce((n, s) => n + s[field], 0)
  lines.push('', t('totals', { fired: sum('fired'), resolved: sum('resolved'), repeats: sum('repeats') }))
  return lines.join('\n')
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)))
  return [header, ...rows].map((cells) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  )
}
