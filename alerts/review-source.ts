import { fromClickHouseTime, toClickHouseTime, type ClickHouse } from '../core/clickhouse.ts'
import { planKey, type Plan, type ReviewKind } from '../plan/plan.ts'
import { periodReviewSchema, type PeriodReview, type ReviewDataSource } from '../kpi/review.ts'
import type { Period } from '../plan/periods.ts'
import type { PeriodReviewRow } from '../core/tables.ts'
import { directReads, observedDays } from '../kpi/observation-reads.ts'
import { describeMatchers, listSilences } from './silences.ts'

/**
 * A review's numbers from ClickHouse (kpi/review.ts ReviewDataSource): stored verdicts, each
 * post's gain, the alert history, silences and the days with readings. Reads only, with bound
 * parameters, so it also runs through `social-kpi report` on the running process's read-only path.
 */

const VERDICTS_SQL = `
SELECT kpi_id, toUnixTimestamp64Milli(period_start) AS start_ms, period_label, actual, target, attainment, status, status_reason, missing_accounts, status_cause, cause_facts, currency
FROM kpi_verdicts FINAL
WHERE kpi_id IN {kpis:Array(String)} AND toUnixTimestamp64Milli(period_start) IN {starts:Array(Int64)}`

const ALERT_HISTORY_SQL = `
SELECT toString(at) AS at_text, alert_key, from_status, to_status, label, silenced
FROM alerts FINAL
WHERE at <= {until:DateTime64(3, 'UTC')} AND at >= {since:DateTime64(3, 'UTC')}
ORDER BY at, alert_key`

/** How far back the alert history is read for spells still open at a period's start. */
const HISTORY_DAYS = 400

const unique = (values: string[]) => [...new Set(values)].sort()
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

export function clickHouseReviewSource(ch: Pick<ClickHouse, 'rows'>): ReviewDataSource {
  return {
    async verdicts(kpiIds, periodStarts) {
      if (kpiIds.length === 0) return []
      const rows = await ch.rows<{
        kpi_id: string
        start_ms: string | number
        period_label: string
        actual: number | null
        target: number
        attainment: number | null
        status: string
        status_reason: string
        missing_accounts: string[]
        status_cause: string
        cause_facts: Record<string, string>
        currency: string
      }>(VERDICTS_SQL, {
        kpis: kpiIds,
        starts: periodStarts.map((d) => d.getTime()),
      })
      return rows.map((r) => ({
        kpiId: r.kpi_id,
        periodStart: new Date(Number(r.start_ms)),
        periodLabel: r.period_label,
        actual: r.actual,
        target: Number(r.target),
        attainment: r.attainment,
        status: r.status,
        statusReason: r.status_reason,
        missingAccounts: r.missing_accounts,
        statusCause: r.status_cause,
        causeFacts: r.cause_facts,
        currency: r.currency,
      }))
    },
    // Each post's gain in [from, to): the same rule as the counter part of a KPI amount
    // (kpi/observation-reads.ts counterGains), so the posts' gains add up to it.
    async postGains(selection, from, to, knownAt) {
      const scope = { network: selection.network, accountIds: selection.accountIds, metric: selection.metric, objects: 'posts' as const }
      const gains = await directReads(ch).counterGains(scope, from.getTime(), to.getTime(), Math.max(to.getTime(), knownAt.getTime()))
      return gains
        .sort((a, b) => b.gained - a.gained || compare(a.accountId, b.accountId) || compare(a.objectId, b.objectId))
        .map((g) => ({ accountId: g.accountId, objectId: g.objectId, createdAt: g.createdAt === null ? null : new Date(g.createdAt), gained: g.gained, readInPeriod: g.readInside }))
    },
    async alertHistory(until) {
      const rows = await ch.rows<{ at_text: string; alert_key: string; from_status: string; to_status: string; label: string; silenced: boolean | number }>(ALERT_HISTORY_SQL, {
        until: toClickHouseTime(until),
        since: toClickHouseTime(new Date(until.getTime() - HISTORY_DAYS * 86_400_000)),
      })
      return rows.map((r) => ({ at: fromClickHouseTime(r.at_text), alertKey: r.alert_key, fromStatus: r.from_status, toStatus: r.to_status, label: r.label, silenced: Boolean(Number(r.silenced)) }))
    },
    async silences(from, to) {
      const all = await listSilences({ rows: (query, params) => ch.rows(query, params), writeSilences: async () => undefined })
      return all
        .map((s) => ({ s, ended: s.expiredAt && s.expiredAt < s.endsAt ? s.expiredAt : s.endsAt }))
        .filter(({ s, ended }) => s.startsAt < to && ended > from && s.createdAt < to)
        .sort((a, b) => a.s.startsAt.getTime() - b.s.startsAt.getTime() || a.s.id.localeCompare(b.s.id))
        .map(({ s, ended }) => ({ id: s.id, what: describeMatchers(s.matchers), startsAt: s.startsAt, endsAt: ended, reason: s.reason, createdBy: s.createdBy }))
    },
    async observedDays(selections, from, to, timezone) {
      if (selections.length === 0) return []
      const rows = await observedDays(
        ch,
        unique(selections.map((s) => s.network)),
        unique(selections.flatMap((s) => s.accountIds)),
        unique(selections.map((s) => s.metric)),
        from.getTime(),
        to.getTime(),
        timezone,
      )
      return rows.map((r) => ({ network: r.network, accountId: r.account_id, metric: r.metric, day: r.day }))
    },
  }
}

export interface StoredReview {
  /** Null when the stored document cannot be read back (written by another version): it was sent all the same. */
  review: PeriodReview | null
  notificationId: string
  builtAt: Date
}

const STORED_SQL = `
SELECT review, notification_id, toString(built_at) AS built_at
FROM period_reviews FINAL
WHERE plan_key = {plan:String} AND period_kind = {kind:String} AND period_start = {start:DateTime64(3, 'UTC')}`

/**
 * The review stored for a period (the one that was sent), or null. A database from before
 * migration 0013 has no table: nothing is stored there either.
 */
export async function readStoredReview(ch: Pick<ClickHouse, 'rows'>, plan: Plan, kind: ReviewKind, period: Period): Promise<StoredReview | null> {
  const [table] = await ch.rows<{ n: string | number }>("SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = 'period_reviews'")
  if (Number(table?.n ?? 0) === 0) return null
  const [row] = await ch.rows<{ review: string; notification_id: string; built_at: string }>(STORED_SQL, { plan: planKey(plan), kind, start: toClickHouseTime(period.start) })
  if (!row) return null
  let review: PeriodReview | null = null
  try {
    const parsed = periodReviewSchema.safeParse(JSON.parse(row.review))
    if (parsed.success) review = parsed.data
  } catch {
    // not JSON: left null, as a document of another shape
  }
  return { review, notificationId: row.notification_id, builtAt: fromClickHouseTime(row.built_at) }
}

/** A review as a period_reviews row. */
export function toReviewRow(plan: Plan, review: PeriodReview, extra: { notificationId: string; recipients: string[]; builtAt: Date; writtenAt: Date }): PeriodReviewRow {
  return {
    plan_key: planKey(plan),
    period_kind: review.kind,
    period_start: toClickHouseTime(new Date(review.period.start)),
    period_end: toClickHouseTime(new Date(review.period.end)),
    period_label: review.period.label,
    kpis: review.summary.kpis,
    achieved: review.summary.achieved,
    missed: review.summary.missed,
    unknown: review.summary.unknown,
    objectives: review.summary.objectives,
    objectives_met: review.summary.objectivesMet,
    review: JSON.stringify(review),
    notification_id: extra.notificationId,
    recipients: extra.recipients,
    known_at: toClickHouseTime(new Date(review.knownAt)),
    built_at: toClickHouseTime(extra.builtAt),
    written_at: toClickHouseTime(extra.writtenAt),
  }
}
