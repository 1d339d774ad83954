import type { Command } from 'commander'
import { exitCodes, planOption } from '../output.ts'
import { runRound } from '../round.ts'
import { runOnce } from '../session.ts'

export function registerCollectCommand(program: Command): void {
  const command = program
    .command('collect')
    .description('collect one round for every account of the plan, wait until it is written and evaluated')
    .requiredOption('--once', 'run one round and exit (the only mode; schedules run under start/scheduler)')
    .addOption(planOption())
    .action(async (opts: { plan?: string }) => runOnce(opts.plan, (runtime, ctx) => runRound(runtime, ctx.plan, ctx.config, ctx.clock)))
  exitCodes(command, { 1: "an error, the round's evaluation failed, or stopped by a signal" })
}
