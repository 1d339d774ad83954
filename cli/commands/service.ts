import type { Command } from 'commander'
import { planAccounts } from '../../plan/plan.ts'
import { EXIT, exitCodes, out, planOption, version } from '../output.ts'
import { runRound } from '../round.ts'
import { withRuntime } from '../session.ts'

interface Roles {
  scheduler: boolean
  workers: boolean
  firstRound: boolean
}

/** A long-running process: runs until SIGINT/SIGTERM, then stops in order. */
async function runService(planFile: string | undefined, roles: Roles): Promise<void> {
  await withRuntime(planFile, { ...roles, admin: true }, async ({ ctx, runtime, privateRedis, admin, stop }) => {
    out(`social-kpi ${version}: plan "${ctx.plan.company.name}" (${ctx.planFile}), ${planAccounts(ctx.plan).length} accounts, ${ctx.plan.kpis.length} KPIs`)
    out(
      `  Redis ${new URL(ctx.config.REDIS_URL).host}${privateRedis ? ' (private, started for this run)' : ''}; ClickHouse ${runtime.ch ? (runtime.ch.mode === 'embedded' ? `embedded, ${ctx.config.dataDir}/clickhouse` : 'server') : 'not used by the scheduler'}`,
    )
    if (roles.firstRound) {
      const round = runRound(runtime, ctx.plan, ctx.config, ctx.clock)
      // Left behind by a signal, the round fails once the runtime is shut down: nobody waits for it then.
      round.catch(() => undefined)
      await Promise.race([round, stop.stopped])
    }
    if (stop.signal) return
    if (roles.scheduler) out(`\nRunning: collection "${ctx.plan.collection.schedule}", evaluation "${ctx.plan.collection.evaluateSchedule}" (${ctx.plan.company.timezone}). Ctrl-C to stop.`)
    else out('\nWorking on the queues. Ctrl-C to stop.')
    if (admin) out(`Analysts: npx social-kpi sql "SELECT * FROM metrics_daily LIMIT 10"${ctx.config.DATA_DIR === './data' ? '' : ` (with DATA_DIR=${ctx.config.DATA_DIR})`}`)
    await stop.stopped
  })
  out('Stopped cleanly.')
}

const SERVICES: Array<{ name: string; description: string; roles: Roles }> = [
  { name: 'start', description: 'all-in-one: scheduler, workers and evaluator in one process; collects one round right away', roles: { scheduler: true, workers: true, firstRound: true } },
  {
    name: 'scheduler',
    description: "run the plan's schedules only: enqueue collection rounds and evaluations (needs workers elsewhere)",
    roles: { scheduler: true, workers: false, firstRound: false },
  },
  { name: 'worker', description: 'run the collect, evaluate and notify workers (start several against the same Redis to scale out)', roles: { scheduler: false, workers: true, firstRound: false } },
]

/** `start`, `scheduler`, `worker`: the same process life with different roles. */
export function registerServiceCommands(program: Command): void {
  for (const service of SERVICES) {
    const command = program
      .command(service.name)
      .description(service.description)
      .addOption(planOption())
      .action(async (opts: { plan?: string }) => runService(opts.plan, service.roles))
    exitCodes(command, { [EXIT.ok]: 'stopped cleanly by SIGINT/SIGTERM', [EXIT.secondSignal]: 'a second signal ended it at once' })
  }
}
