import { planSpeaker } from '../../plan/plan.ts'
import type { Command } from 'commander'
import { DateTime } from 'luxon'
import type { ClickHouse } from '../../core/clickhouse.ts'
import { ArgumentError } from '../../core/errors.ts'
import { color, exitCodes, out, planOption, progressBar } from '../output.ts'
import { runOnce, setup } from '../session.ts'

interface EvaluateOptions {
  plan?: string
  at?: string
  once?: boolean
  from?: string
  to?: string
  step: string
}

/** `evaluate --once [--at]`: evaluate, store, send due alerts, print the table. */
async function evaluateOnce(opts: EvaluateOptions): Promise<void> {
  const given = opts.at ? new Date(opts.at) : undefined
  if (given && Number.isNaN(given.getTime())) throw new ArgumentError(`--at: "${opts.at}" is not an ISO time such as 2026-11-20T12:00:00+07:00`)
  const { evaluateAndAlert } = await import('../../workers/evaluate-worker.ts')
  const { waitForIdle } = await import('../wait.ts')
  const { formatKpiTable } = await import('../kpi-table.ts')
  await runOnce(opts.plan, async (runtime, ctx) => {
    const at = given ?? ctx.clock()
    const evaluations = await evaluateAndAlert(runtime.evaluateDeps!, at)
    await waitForIdle(runtime.queues.notify, 60_000)
    const speaker = planSpeaker(ctx.plan)
    out(`${speaker.t('terminal.run.kpis', { time: speaker.dateTime(at) })}\n`)
    out(formatKpiTable(evaluations, { color, speaker }))
  })
}

/** `evaluate --from/--to`: replays evaluation over stored history; reads only, sends nothing. */
async function replayHistory(opts: EvaluateOptions): Promise<void> {
  const { formatReplay, parseStep, replay } = await import('../../alerts/replay.ts')
  const { clickHouseKpiSource } = await import('../../kpi/clickhouse-source.ts')
  const { clickHouseCrisisSource } = await import('../../kpi/crisis-source.ts')
  const { openReader } = await import('../reader.ts')
  const ctx = await setup(opts.plan, { needsSimulator: false })
  const zone = ctx.plan.company.timezone
  const parse = (option: string, value: string) => {
    const local = DateTime.fromISO(value, { zone })
    if (!local.isValid) throw new ArgumentError(`${option}: "${value}" is not a date such as 2026-01-01 or a time such as 2026-01-01T09:00`)
    return local.toJSDate()
  }
  if (!opts.from) throw new ArgumentError('evaluate: a replay needs --from DATE')
  const from = parse('--from', opts.from)
  const to = opts.to ? parse('--to', opts.to) : ctx.clock()
  const stepMs = parseStep(opts.step)
  if (stepMs === undefined) throw new ArgumentError(`--step: "${opts.step}" is not a step such as 1h or 1d`)
  if (to <= from) throw new ArgumentError(`--to (${to.toISOString()}) must be after --from (${from.toISOString()})`)
  if ((to.getTime() - from.getTime()) / stepMs > 20_000) throw new ArgumentError(`--step ${opts.step} gives over 20,000 steps for this range; use a longer step`)
  const reader = await openReader(ctx.config)
  const { BAR_FIELDS } = await import('../round.ts')
  const bar = await progressBar(planSpeaker(ctx.plan).t('terminal.run.replay_progress', BAR_FIELDS))
  try {
    // The sources only read (ch.rows), so they run on the reader: directly, or through the running process.
    const ch: Pick<ClickHouse, 'rows'> = { rows: reader.rows }
    bar?.start(Math.ceil((to.getTime() - from.getTime()) / stepMs), 0)
    const result = await replay({ plan: ctx.plan, from, to, stepMs, sources: { kpi: clickHouseKpiSource(ch), crisis: clickHouseCrisisSource(ch) }, onStep: (done) => bar?.update(done) })
    bar?.stop()
    out(formatReplay(result, ctx.plan, { color }))
  } finally {
    bar?.stop()
    await reader.close()
    await ctx.close()
  }
}

export function registerEvaluateCommand(program: Command): void {
  const command = program
    .command('evaluate')
    .description('evaluate every KPI now (--once) and send due alerts, or replay stored history (--from/--to) to preview when alerts would fire')
    .option('--once', 'evaluate once as of now (or --at), store the results, send due alerts, print the table')
    .option('--at <iso-time>', 'with --once: evaluate as of this time, e.g. 2026-11-20T12:00:00+07:00')
    .option('--from <date>', "replay from this date or time (in the plan's time zone), e.g. 2026-01-01; nothing is sent or written")
    .option('--to <date>', 'replay up to this date or time (exclusive; default: now)')
    .option('--step <step>', 'replay step: 30m, 1h, 6h, 1d, …', '1d')
    .addOption(planOption())
    .addHelpText(
      'after',
      "\nRule preview: social-kpi evaluate --from 2026-01-01 --to 2026-04-01 --step 1d --plan plan.yaml\n  prints when each KPI and crisis trigger would have fired and resolved under the plan's alerting rules.",
    )
    .action(async (opts: EvaluateOptions) => {
      if (opts.from !== undefined || opts.to !== undefined) {
        if (opts.once || opts.at) throw new ArgumentError('evaluate: use either --once [--at] (evaluate now, send alerts) or --from/--to (replay, nothing sent), not both')
        return replayHistory(opts)
      }
      if (!opts.once) throw new ArgumentError('evaluate needs --once (evaluate now and send due alerts) or --from DATE [--to DATE] (replay history; nothing sent)')
      return evaluateOnce(opts)
    })
  exitCodes(command, { 1: 'an error (a bad option, a plan or data problem), or stopped by a signal' })
}
