import type { Command } from 'commander'
import { EXIT, exitCodes, out, planOption, progressBar } from '../output.ts'
import { runOnce } from '../session.ts'

interface BackfillOptions {
  plan?: string
  from: string
  to?: string
  network?: string
  account?: string
}

async function backfill(opts: BackfillOptions): Promise<void> {
  await runOnce(opts.plan, async (runtime, ctx) => {
    const { enqueueBackfill, planBackfill } = await import('../../ingest/backfill.ts')
    const { summarizeBackfill, watchBackfill } = await import('../../ingest/backfill-progress.ts')
    const { createCollectors } = await import('../../ingest/collectors/index.ts')
    const planned = planBackfill(ctx.plan, createCollectors(ctx.config), { from: opts.from, to: opts.to, network: opts.network, accountId: opts.account }, ctx.clock())
    const queued = await enqueueBackfill(runtime.queues, planned.chunks)
    out(`Backfill ${opts.from} → ${opts.to ?? 'today'}: ${planned.chunks.length} chunks (${queued.alreadyDone} already done, ${queued.retried} retried, ${queued.added} new)`)
    const bar = await progressBar('backfill {bar} {value}/{total} chunks')
    bar?.start(planned.chunks.length, queued.alreadyDone)
    let lastReported = -1
    const results = await watchBackfill(runtime.queues, planned.chunks, {
      onProgress: (finished) => {
        bar?.update(finished)
        // Without a terminal, a line each time the count moves.
        if (!bar && finished !== lastReported) out(`  ${finished}/${planned.chunks.length} chunks finished`)
        lastReported = finished
      },
    })
    bar?.stop()
    out('\nSummary:')
    const accounts = summarizeBackfill(planned.chunks, results)
    for (const entry of accounts) {
      out(
        `  ${entry.key}: ${entry.chunks - entry.failed}/${entry.chunks} chunks, ${entry.observations} observations written${entry.failed ? `, ${entry.failed} failed (run the same command again to retry)` : ''}`,
      )
      for (const reason of entry.reasons) out(`      failed ${reason}`)
    }
    for (const item of planned.unavailable) out(`  ${item.network}/${item.accountId}: not available — ${item.reason}`)
    if (accounts.some((e) => e.failed > 0)) process.exitCode = EXIT.failed
  })
}

export function registerBackfillCommand(program: Command): void {
  const command = program
    .command('backfill')
    .description("pull history within each API's limits, in chunks through the collect queue; resumable and idempotent")
    .requiredOption('--from <date>', 'first day, YYYY-MM-DD')
    .option('--to <date>', 'day after the last, YYYY-MM-DD (default: today)')
    .option('--network <network>', 'only this network')
    .option('--account <id>', "only this account (the plan's account id)")
    .addOption(planOption())
    .action(backfill)
  exitCodes(command, { [EXIT.ok]: 'every chunk written', [EXIT.failed]: 'some chunks failed (listed; run it again to retry), another error, or stopped by a signal' })
}
