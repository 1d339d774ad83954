import type { Clock } from '../core/clock.ts'
import type { Config } from '../core/config.ts'
import { SocialKpiError } from '../core/errors.ts'
import { createLogger } from '../core/logger.ts'
import type { Plan } from '../plan/plan.ts'
import { color, out, progressBar } from './output.ts'
import type { Runtime } from './runtime.ts'

/** Runs one collection round through the queue and waits for its evaluation, with a progress bar (start, collect --once). */
export async function runRound(runtime: Runtime, plan: Plan, config: Config, clock: Clock): Promise<void> {
  const { enqueueRound, roundTimeFor } = await import('../ingest/scheduler.ts')
  const { waitForIdle, waitForJob } = await import('./wait.ts')
  const { evaluateAndAlert } = await import('../workers/evaluate-worker.ts')
  const { readSourceHealth } = await import('../ingest/source-health.ts')
  const { toClickHouseTime } = await import('../core/clickhouse.ts')
  const { formatKpiTable } = await import('./kpi-table.ts')
  const roundAt = roundTimeFor(plan.collection.schedule, clock(), plan.company.timezone)
  const round = await enqueueRound(runtime.queues, plan, roundAt)
  const bar = await progressBar('collecting {bar} {value}/{total} accounts')
  bar?.start(round.collectJobIds.length, 0)
  const result = await waitForJob(runtime.queues.evaluate, round.evaluateJobId, {
    timeoutMs: 10 * 60_000,
    onPoll: async () => {
      if (!bar) return
      const states = await Promise.all(round.collectJobIds.map(async (id) => (await runtime.queues.collect.getJob(id))?.getState()))
      bar.update(states.filter((s) => s === 'completed' || s === 'failed').length)
    },
  })
  bar?.update(round.collectJobIds.length)
  bar?.stop()
  await waitForIdle(runtime.queues.notify, 60_000)
  if (result.state === 'failed') throw new SocialKpiError('EVALUATION_FAILED', `the round's evaluation failed: ${result.reason}`)
  const ch = runtime.ch!
  const [points] = await ch.rows<{ n: string }>('SELECT count() AS n FROM observations FINAL WHERE collected_at >= {since:DateTime64(3)}', { since: toClickHouseTime(roundAt) })
  out(`\nRound ${roundAt.toISOString()}: ${points?.n ?? 0} observations stored (table observations, view metrics_daily).`)
  for (const h of await readSourceHealth(ch)) out(`  ${h.network}/${h.accountId}: ${h.status}${h.lastErrorCode ? ` (${h.lastErrorCode})` : ''}`)
  const evaluations = await evaluateAndAlert({ ...runtime.evaluateDeps!, logger: createLogger({ level: 'silent' }) }, roundAt)
  out(`\nKPIs as of ${roundAt.toISOString()} (table kpi_evaluations):\n`)
  out(formatKpiTable(evaluations, { color }))
  await waitForIdle(runtime.queues.notify, 60_000)
  const sent = await ch.rows<{ subject: string; delivered_to: string; delivery: string }>(
    'SELECT subject, delivered_to, delivery FROM alert_notifications FINAL ORDER BY decided_at DESC, notification_id LIMIT 20',
  )
  out(`\nAlert emails (${config.SMTP_URL ? `SMTP ${new URL(config.SMTP_URL).host}` : `no SMTP_URL: written as .eml files`}):`)
  if (sent.length === 0) out('  none so far')
  for (const s of sent) out(`  ${s.delivery === 'sent' ? '✉' : '✗'} ${s.subject}\n      → ${s.delivered_to}`)
}
