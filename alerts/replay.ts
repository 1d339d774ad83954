import { speaker } from '../core/i18n/index.ts'
const ENGLISH = speaker('en', 'UTC')
import { DateTime } from 'luxon'
import { evaluateCrisis, type CrisisDataSource } from '../kpi/crisis.ts'
import { customPeriodEnded, evaluatePlan, forecastForNote } from '../kpi/evaluate.ts'
import type { KpiDataSource } from '../kpi/kinds/source.ts'
import { formatKpiValue } from '../kpi/kinds/index.ts'
import { basisNote } from '../kpi/pacing.ts'
import { reasonWords, type DataProblemCause, type StatusReason } from '../kpi/statuses.ts'
import type { Plan } from '../plan/plan.ts'
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
      const number = (value: number | null) => formatKpiValue(value, kpi.kind)
      if (evaluation.reason) {
        const kpiSummary = summary.get(`kpi.${kpi.id}`)!
        kpiSummary.noVerdict[evaluation.reason] = (kpiSummary.noVerdict[evaluation.reason] ?? 0) + 1
        const cause = evaluation.problem?.cause
        if (cause) kpiSummary.dataProblems[cause] = (kpiSummary.dataProblems[cause] ?? 0) + 1
      }
      decide(kpiSignal(evaluation), at, policies.kpi, () => {
        const note = basisNote(ENGLISH, status, evaluation.basis, kpi.comparator, forecastForNote(evaluation), 'short')
        const { forecast } = evaluation
        return (
          `${status}${note ? ` (${note})` : ''}: actual ${number(evaluation.actual)}, expected ${number(evaluation.expectedToDate)}, target ${kpi.comparator === 'at_most' ? '≤' : '≥'} ${number(kpi.target)}` +
          (forecast && (status === 'at_risk' || evaluation.basis === 'forecast') ? `, forecast ${number(forecast.end)} (${number(forecast.low)}–${number(forecast.high)})` : '')
        )
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

const duration = (ms: number) => {
  if (ms === 0) return '—'
  const days = ms / 86_400_000
  return days >= 1 ? `${Number(days.toFixed(1))}d` : `${Number((ms / 3_600_000).toFixed(1))}h`
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

const COLORS = { firing: '\x1b[31m', resolved: '\x1b[32m' } as const

/** Steps without a verdict and why, in words: `6 (4 incomplete data, 2 stale data)`; a data problem by its cause; empty for none. */
function noVerdictCell(s: ReplaySummary): string {
  const counts = Object.entries(s.noVerdict) as Array<[StatusReason, number]>
  const total = counts.reduce((n, [, c]) => n + c, 0)
  const causes = Object.entries(s.dataProblems) as Array<[DataProblemCause, number]>
  // Causes with the same words (a count below zero, a part above its whole: impossible values) add up.
  const byWords = new Map<string, number>()
  const add = (words: string, n: number) => byWords.set(words, (byWords.get(words) ?? 0) + n)
  for (const [reason, n] of counts) {
    if (reason !== 'data_problem') {
      add(reasonWords(ENGLISH, reason), n)
      continue
    }
    for (const [cause, c] of causes) add(reasonWords(ENGLISH, 'data_problem', { cause, facts: {} }), c)
    const told = causes.reduce((sum, [, c]) => sum + c, 0)
    if (n > told) add(reasonWords(ENGLISH, 'data_problem'), n - told)
  }
  return total === 0 ? '' : `${total} (${[...byWords].map(([words, n]) => `${n} ${words}`).join(', ')})`
}

/** The timeline (fired and resolved, not reminders) and the per-KPI summary, in the plan's time zone. */
export function formatReplay(result: ReplayResult, plan: Plan, options: { color: boolean }): string {
  const zone = plan.company.timezone
  const when = (date: Date) => DateTime.fromJSDate(date, { zone }).toFormat('yyyy-MM-dd HH:mm')
  const lines: string[] = []
  lines.push(
    `Replay ${when(result.from)} → ${when(result.to)} (${zone}), step ${duration(result.stepMs)}: ${result.steps} evaluations of ${plan.kpis.length} KPIs and ${plan.crisis?.triggers.length ?? 0} crisis triggers.`,
  )
  const p = replayPolicies(plan).kpi
  lines.push(
    `Rules: for ${duration(p.forMs ?? 0)}, keep firing for ${duration(p.keepFiringForMs ?? 0)}, repeat every ${p.repeatIntervalMs === null ? 'never' : duration(p.repeatIntervalMs)}. Nothing was sent or written.`,
  )
  lines.push('', `Timeline (${zone}):`)
  if (result.events.length === 0) lines.push('  no alert would have fired')
  for (const e of result.events) {
    const tag = e.event === 'firing' ? 'FIRING  ' : 'RESOLVED'
    const colored = options.color ? `${COLORS[e.event as 'firing' | 'resolved']}${tag}\x1b[0m` : tag
    lines.push(`  ${when(e.at)}  ${colored}  ${e.key}  ${e.event === 'resolved' ? '' : e.detail}`.trimEnd())
  }
  lines.push('', 'Summary:')
  lines.push(
    ...table(
      ['  ALERT', 'FIRED', 'RESOLVED', 'REMINDERS', 'HELD', 'NO VERDICT', 'TIME FIRING', 'AT END'],
      result.summary.map((s) => [`  ${s.key}`, String(s.fired), String(s.resolved), String(s.repeats), String(s.held), noVerdictCell(s), duration(s.firingMs), s.openAtEnd ? 'firing' : '']),
    ),
  )
  const fired = result.summary.reduce((n, s) => n + s.fired, 0)
  lines.push(
    '',
    `${fired} firing and ${result.summary.reduce((n, s) => n + s.resolved, 0)} resolved notifications, ${result.summary.reduce((n, s) => n + s.repeats, 0)} reminders would have been sent.`,
  )
  return lines.join('\n')
}
