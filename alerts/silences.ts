import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import { fromClickHouseTime, toClickHouseTime, type ClickHouse } from '../core/clickhouse.ts'
import { ArgumentError } from '../core/errors.ts'
import { triggerAccounts } from '../kpi/crisis.ts'
import { kpiAccounts, type Plan } from '../plan/plan.ts'

/**
 * Silences: planned pauses of alerts ("we relaunch the Page this week, don't page us"), after
 * Alertmanager's. A silence matches one KPI, every KPI of one objective, or one account, from
 * `startsAt` until `endsAt`, unless expired earlier. Stored in the `silences` table
 * (migration 0009); the matching here is pure.
 */

export interface SilenceMatchers {
  kpiId?: string
  objectiveId?: string
  accountId?: string
}

export interface Silence {
  id: string
  matchers: SilenceMatchers
  startsAt: Date
  endsAt: Date
  reason: string
  createdBy: string
  createdAt: Date
  /** Set when expired by hand before `endsAt`. */
  expiredAt: Date | null
}

/** What an alert is about: the KPI, its objective, the accounts it covers. */
export interface SilenceTarget {
  kpiId?: string
  objectiveId?: string
  accountIds?: string[]
}

export type SilenceState = 'pending' | 'active' | 'expired' | 'ended'

/** `pending` before it starts, `active` within [startsAt, endsAt), then `expired` (by hand) or `ended`. */
export function silenceState(silence: Silence, at: Date): SilenceState {
  const t = at.getTime()
  if (silence.expiredAt && silence.expiredAt.getTime() <= t) return 'expired'
  if (t >= silence.endsAt.getTime()) return 'ended'
  if (t < silence.startsAt.getTime()) return 'pending'
  return 'active'
}

/**
 * True when an active silence covers the target at `at`: one on its KPI, or on its objective, or,
 * for account silences, when every account the target covers is silenced (as a crisis inhibits
 * only KPIs whose accounts are all in it: a KPI that also covers an unsilenced account still alerts).
 */
export function isSilenced(silences: readonly Silence[], target: SilenceTarget, at: Date): boolean {
  return silencesFor(silences, target, at).length > 0
}

/** The active silences that together silence the target (empty when it is not silenced). */
export function silencesFor(silences: readonly Silence[], target: SilenceTarget, at: Date): Silence[] {
  const active = silences.filter((s) => silenceState(s, at) === 'active')
  const direct = active.filter((s) => (s.matchers.kpiId !== undefined && s.matchers.kpiId === target.kpiId) || (s.matchers.objectiveId !== undefined && s.matchers.objectiveId === target.objectiveId))
  if (direct.length) return direct
  const accounts = target.accountIds ?? []
  if (accounts.length === 0) return []
  const byAccount = accounts.map((id) => active.find((s) => s.matchers.accountId === id))
  return byAccount.every((s) => s !== undefined) ? [...new Set(byAccount as Silence[])] : []
}

/**
 * What an alert key is about, from the plan: `kpi.<id>` (its objective and accounts),
 * `crisis.<trigger id>` (the accounts it watches), `source.<network>.<account>` and
 * `freshness.<network>.<account>` (that account). Unknown keys are about nothing.
 */
export function alertTarget(plan: Plan, alertKey: string): SilenceTarget {
  const [kind, ...rest] = alertKey.split('.')
  if (kind === 'kpi') {
    const kpi = plan.kpis.find((k) => k.id === rest.join('.'))
    return kpi ? { kpiId: kpi.id, objectiveId: kpi.objective, accountIds: kpiAccounts(plan, kpi).map((a) => a.id) } : {}
  }
  if (kind === 'crisis') {
    const trigger = plan.crisis?.triggers.find((t) => t.id === rest.join('.'))
    return trigger ? { accountIds: triggerAccounts(plan, trigger).map((a) => a.id) } : {}
  }
  if ((kind === 'source' || kind === 'freshness') && rest.length >= 2) return { accountIds: [rest.slice(1).join('.')] }
  return {}
}

const stringList = (value: unknown): string[] | undefined => (Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined)

/**
 * The alert engine's `silenced` hook for one evaluation time: true when the alert is silenced at
 * `at`. The target comes from the alert key and the plan; a subject that names the accounts
 * actually involved (`{ accountIds }`, e.g. those of an open crisis) narrows the accounts.
 */
export function silencePredicate(plan: Plan, silences: readonly Silence[], at: Date): (alertKey: string, subject?: unknown) => boolean {
  if (!silences.some((s) => silenceState(s, at) === 'active')) return () => false
  return (alertKey, subject) => {
    const target = alertTarget(plan, alertKey)
    const involved = subject && typeof subject === 'object' ? stringList((subject as { accountIds?: unknown }).accountIds) : undefined
    return isSilenced(silences, involved?.length ? { ...target, accountIds: involved } : target, at)
  }
}

// ---------------------------------------------------------------------------------------------
// Storage

/**
 * Where silences live: ClickHouse directly, or the running process's admin endpoint (cli/reader.ts).
 * Reads are queries; the one write is rows of the silences table, checked by silenceRowSchema.
 */
export interface SilenceStore {
  rows<T>(query: string, params?: Record<string, unknown>): Promise<T[]>
  writeSilences(rows: SilenceRow[]): Promise<void>
}

export function clickHouseSilenceStore(ch: ClickHouse): SilenceStore {
  return {
    rows: (query, params) => ch.rows(query, params),
    async writeSilences(rows) {
      await ch.client.insert({ table: 'silences', values: silenceRowSchema.array().parse(rows), format: 'JSONEachRow' })
    },
  }
}

const clickHouseTime = z.string().regex(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,3})?$/, 'must be a time as YYYY-MM-DD hh:mm:ss.sss')

/** A row of the silences table (migration 0009): what the admin endpoint accepts from `silence add|expire`. */
export const silenceRowSchema = z
  .strictObject({
    id: z.string().min(1).max(64),
    kpi_id: z.string(),
    objective_id: z.string(),
    account_id: z.string(),
    starts_at: clickHouseTime,
    ends_at: clickHouseTime,
    reason: z.string().max(2_000),
    created_by: z.string().max(200),
    created_at: clickHouseTime,
    expired_at: clickHouseTime.nullable(),
    version: z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/)]),
  })
  .refine((row) => [row.kpi_id, row.objective_id, row.account_id].filter(Boolean).length === 1, { error: 'a silence matches exactly one of kpi_id, objective_id or account_id' })

export type SilenceRow = z.infer<typeof silenceRowSchema>

const toRow = (s: Silence, version: number): SilenceRow => ({
  id: s.id,
  kpi_id: s.matchers.kpiId ?? '',
  objective_id: s.matchers.objectiveId ?? '',
  account_id: s.matchers.accountId ?? '',
  starts_at: toClickHouseTime(s.startsAt),
  ends_at: toClickHouseTime(s.endsAt),
  reason: s.reason,
  created_by: s.createdBy,
  created_at: toClickHouseTime(s.createdAt),
  expired_at: s.expiredAt ? toClickHouseTime(s.expiredAt) : null,
  version,
})

const fromRow = (row: SilenceRow): Silence => ({
  id: row.id,
  matchers: {
    ...(row.kpi_id ? { kpiId: row.kpi_id } : {}),
    ...(row.objective_id ? { objectiveId: row.objective_id } : {}),
    ...(row.account_id ? { accountId: row.account_id } : {}),
  },
  startsAt: fromClickHouseTime(row.starts_at),
  endsAt: fromClickHouseTime(row.ends_at),
  reason: row.reason,
  createdBy: row.created_by,
  createdAt: fromClickHouseTime(row.created_at),
  expiredAt: row.expired_at ? fromClickHouseTime(row.expired_at) : null,
})

// toString() keeps DateTime64 values in the `YYYY-MM-DD hh:mm:ss.sss` form fromClickHouseTime
// reads; the filter runs on the columns themselves, in the inner query.
const selectSilences = (where = '1', order = 'id') => `
SELECT id, kpi_id, objective_id, account_id, toString(starts_at) AS starts_at, toString(ends_at) AS ends_at,
       reason, created_by, toString(created_at) AS created_at, if(isNull(expired_at), NULL, toString(expired_at)) AS expired_at, version
FROM (SELECT * FROM silences FINAL WHERE ${where} ORDER BY ${order})`

/** Every stored silence, newest first. */
export async function listSilences(store: SilenceStore): Promise<Silence[]> {
  return (await store.rows<SilenceRow>(selectSilences('1', 'created_at DESC, id'))).map(fromRow)
}

/** The silences that are active at `at` or will start later (what `status` and the engine care about). */
export async function currentSilences(store: SilenceStore, at: Date): Promise<Silence[]> {
  const rows = await store.rows<SilenceRow>(selectSilences("ends_at > {at:DateTime64(3, 'UTC')} AND (expired_at IS NULL OR expired_at > {at:DateTime64(3, 'UTC')})", 'starts_at, id'), {
    at: toClickHouseTime(at),
  })
  return rows.map(fromRow)
}

export interface NewSilence {
  matchers: SilenceMatchers
  startsAt: Date
  endsAt: Date
  reason: string
  createdBy: string
}

/** Checks a new silence: exactly one matcher, a reason, an end after its start and after now. */
export function validateSilence(input: NewSilence, now: Date, plan?: Plan): void {
  const given = Object.entries(input.matchers).filter(([, v]) => v !== undefined && v !== '')
  if (given.length !== 1) throw new ArgumentError('a silence matches exactly one of --kpi, --objective or --account')
  if (!input.reason.trim()) throw new ArgumentError('--reason: say why alerts are silenced (it is shown to everyone)')
  if (input.endsAt <= now) throw new ArgumentError(`--until (${input.endsAt.toISOString()}) is in the past`)
  if (input.endsAt <= input.startsAt) throw new ArgumentError(`--until (${input.endsAt.toISOString()}) must be after --from (${input.startsAt.toISOString()})`)
  if (!plan) return
  const { kpiId, objectiveId, accountId } = input.matchers
  if (kpiId && !plan.kpis.some((k) => k.id === kpiId)) throw new ArgumentError(`--kpi: the plan has no KPI "${kpiId}" (it has ${plan.kpis.map((k) => k.id).join(', ')})`)
  if (objectiveId && !plan.objectives.some((o) => o.id === objectiveId)) throw new ArgumentError(`--objective: the plan has no objective "${objectiveId}"`)
  if (accountId && !plan.strategy.networks.some((n) => n.accounts.some((a) => a.id === accountId))) throw new ArgumentError(`--account: the plan has no account "${accountId}"`)
}

export async function addSilence(store: SilenceStore, input: NewSilence, now: Date, plan?: Plan): Promise<Silence> {
  validateSilence(input, now, plan)
  const silence: Silence = { id: `sil-${randomUUID().slice(0, 8)}`, ...input, createdAt: now, expiredAt: null }
  await store.writeSilences([toRow(silence, now.getTime())])
  return silence
}

/** Ends a silence now. Expiring one that has already ended or expired changes nothing. */
export async function expireSilence(store: SilenceStore, id: string, now: Date): Promise<{ silence: Silence; changed: boolean }> {
  const [row] = await store.rows<SilenceRow>(selectSilences('id = {id:String}'), { id })
  if (!row) throw new ArgumentError(`no silence "${id}" (see: social-kpi silence list --all)`)
  const silence = fromRow(row)
  const state = silenceState(silence, now)
  if (state === 'expired' || state === 'ended') return { silence, changed: false }
  const expired = { ...silence, expiredAt: now }
  // The row is written again with a higher version; under FINAL the newest wins.
  await store.writeSilences([toRow(expired, Math.max(now.getTime(), Number(row.version) + 1))])
  return { silence: expired, changed: true }
}

/** The engine's hook for an evaluation at `at`, from the stored silences. */
export async function readSilencePredicate(ch: ClickHouse, plan: Plan, at: Date): Promise<(alertKey: string, subject?: unknown) => boolean> {
  return silencePredicate(plan, await currentSilences(clickHouseSilenceStore(ch), at), at)
}

const DURATION = /^\+?(\d+)\s*(m|h|d|w)$/
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const

/** A time given on the command line: an ISO time (`2026-03-01T09:00+07:00`) or a duration from now (`4h`, `3d`, `1w`). */
export function parseTimeArgument(option: string, value: string, now: Date): Date {
  const relative = DURATION.exec(value.trim())
  if (relative) return new Date(now.getTime() + Number(relative[1]) * UNIT_MS[relative[2] as keyof typeof UNIT_MS])
  const date = new Date(value)
  if (!/^\d{4}-\d\d-\d\d/.test(value.trim()) || Number.isNaN(date.getTime())) {
    throw new ArgumentError(`${option}: "${value}" is neither an ISO time such as 2026-03-01T09:00:00+07:00 nor a duration such as 4h, 3d or 1w`)
  }
  return date
}

/** A matcher for people: `kpi fb-likes-month`. */
export function describeMatchers(m: SilenceMatchers): string {
  return m.kpiId ? `kpi ${m.kpiId}` : m.objectiveId ? `objective ${m.objectiveId}` : m.accountId ? `account ${m.accountId}` : 'nothing'
}
