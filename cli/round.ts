import { planSpeaker } from '../plan/plan.ts'
import type { Clock } from '../core/clock.ts'
import type { Config } from '../core/config.ts'
import { SocialKpiError } from '../core/errors.ts'
import type { ClickHouse } from '../core/clickhouse.ts'
import type { Plan } from '../plan/plan.ts'
import { storedProblem } from '../kpi/statuses.ts'
import type { KpiTableRow } from './kpi-table.ts'
import { color, out, progressBar } from './output.ts'
import type { Runtime } from './runtime.ts'

/** The fields a progress bar fills in itself, kept as they are through the message. */
export const BAR_FIELDS = { bar: '{bar}', value: '{value}', total: '{total}', waiting: '{waiting}' }

/** Runs one collection round through the queue and waits for its evaluation, with a progress bar (start, collect --once). */
export async function runRound(runtime: Runtime, plan: Plan, config: Config, clock: Clock): Promise<void> {
  const { enqueueRound, roundTimeFor } = await import('../ingest/scheduler.ts')
  const { roundDeadlineMs } = await import('../plan/schedule.ts')
  const { waitForIdle, waitForJob } = await import('./wait.ts')
  const { readSourceHealth } = await import('../ingest/source-health.ts')
  const { toClickHouseTime } = await import('../core/clickhouse.ts')
  const { formatKpiTable } = await import('./kpi-table.ts')
  const { healthWords } = await import('./status.ts')
  const speaker = planSpeaker(plan)
  const startedAt = clock()
  const roundAt = roundTimeFor(plan.collection.schedule, startedAt, plan.company.timezone)
  const deadlineMs = roundDeadlineMs(plan, roundAt)
  const round = await enqueueRound(runtime.queues, runtime.rounds, plan, roundAt, deadlineMs)
  const bar = await progressBar(speaker.t('terminal.run.progress', BAR_FIELDS))
  bar?.start(round.collectJobIds.length, 0, { waiting: '' })
  // The round is evaluated when its last account is done or at its deadline; the evaluation itself may take a while more.
  const result = await waitForJob(runtime.queues.evaluate, round.evaluateJobId, {
    timeoutMs: deadlineMs + 10 * 60_000,
    onPoll: async () => {
      if (!bar) return
      const state = await runtime.rounds.state(roundAt)
      if (!state) return
      const done = state.accounts - state.pending.length
      const waiting = state.pending.length > 0 && state.pending.length <= 3 ? speaker.t('terminal.run.waiting', { accounts: state.pending.join(', ') }) : ''
      bar.update(done, { waiting })
    },
  })
  bar?.update(round.collectJobIds.length, { waiting: '' })
  bar?.stop()
  await waitForIdle(runtime.queues.notify, 60_000)
  if (result.state === 'failed') throw new SocialKpiError('EVALUATION_FAILED', `the round's evaluation failed: ${result.reason}`)
  const ch = runtime.ch!
  const [points] = await ch.rows<{ n: string }>('SELECT count() AS n FROM observations FINAL WHERE collected_at >= {since:DateTime64(3)}', { since: toClickHouseTime(roundAt) })
  out(`\n${speaker.t('terminal.run.observations', { time: speaker.dateTime(roundAt), count: Number(points?.n ?? 0) })}`)
  for (const h of await readSourceHealth(ch)) {
    const values = { account: `${h.network}/${h.accountId}`, health: healthWords(speaker, h.status), code: h.lastErrorCode }
    out(`  ${speaker.t(h.lastErrorCode ? 'terminal.run.source_error' : 'terminal.run.source', values)}`)
  }
  const pending = (result.value as { pending?: string[] } | undefined)?.pending ?? []
  if (pending.length > 0) out(`  ${speaker.t('terminal.run.late', { seconds: speaker.number(Math.round(deadlineMs / 1000)), accounts: pending.join(', ') })}`)
  // The round's own evaluation, as stored: judging its instant again here would replace it with a
  // verdict on accounts that ended after its deadline, and decide alerts a second time.
  const evaluations = await storedEvaluations(ch, plan, roundAt)
  out(`\n${speaker.t('terminal.run.kpis_stored', { time: speaker.dateTime(roundAt) })}\n`)
  out(formatKpiTable(evaluations, { color, speaker }))
  await waitForIdle(runtime.queues.notify, 60_000)
  // This run's own: decided for this round or later, and delivered (or tried) since this run began.
  // A restart does not list the previous run's emails again, nor an older one it sent again.
  const sent = await ch.rows<{ subject: string; delivered_to: string; delivery: string }>(
    `SELECT subject, delivered_to, delivery FROM alert_notifications FINAL
     WHERE decided_at >= {round:DateTime64(3, 'UTC')} AND written_at >= {since:DateTime64(3, 'UTC')}
     ORDER BY decided_at DESC, notification_id LIMIT 20`,
    { round: toClickHouseTime(roundAt), since: toClickHouseTime(startedAt) },
  )
  out(`\n${config.SMTP_URL ? speaker.t('terminal.run.emails_smtp', { host: new URL(config.SMTP_URL).host }) : speaker.t('terminal.run.emails_files')}`)
  if (sent.length === 0) out(`  ${speaker.t('terminal.run.emails_none')}`)
  for (const s of sent) out(`  ${s.delivery === 'sent' ? '✉' : '✗'} ${s.subject}\n      → ${s.delivered_to}`)
}

/** The KPIs as the evaluation at `at` stored them (kpi_evaluations), in the plan's order, for the table. */
async function storedEvaluations(ch: ClickHouse, plan: Plan, at: Date): Promise<KpiTableRow[]> {
  const { toClickHouseTime } = await import('../core/clickhouse.ts')
  const { periodAt } = await import('../plan/periods.ts')
  const rows = await ch.rows<{
    kpi_id: string
    status: KpiTableRow['status']
    status_basis: NonNullable<KpiTableRow['basis']>
    status_reason: string
    missing_accounts: string[]
    status_cause: string
    cause_facts: Record<string, string>
    forecast_end: number | null
    currency: string
    actual: number | null
    expected_to_date: number | null
    attainment: number | null
  }>(
    "SELECT kpi_id, status, status_basis, status_reason, missing_accounts, status_cause, cause_facts, forecast_end, currency, actual, expected_to_date, attainment FROM kpi_evaluations FINAL WHERE evaluated_at = {at:DateTime64(3, 'UTC')}",
    { at: toClickHouseTime(at) },
  )
  const byId = new Map(rows.map((row) => [row.kpi_id, row]))
  return plan.kpis.flatMap((kpi) => {
    const row = byId.get(kpi.id)
    if (!row) return []
    return [
      {
        kpi,
        status: row.status,
        basis: row.status_basis,
        ...(row.status_reason ? { reason: row.status_reason as NonNullable<KpiTableRow['reason']> } : {}),
        missingAccounts: row.missing_accounts,
        ...(row.status_reason === 'data_problem' ? { problem: storedProblem(row.status_reason, row.status_cause, row.cause_facts)! } : {}),
        forecast: row.forecast_end === null ? null : { end: row.forecast_end },
        ...(row.currency ? { currency: row.currency } : {}),
        actual: row.actual,
        expectedToDate: row.expected_to_date,
        attainment: row.attainment,
        period: periodAt(kpi.period, at, plan.company.timezone, plan.company.weekStart),
      },
    ]
  })
}
