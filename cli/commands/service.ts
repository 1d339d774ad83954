import type { Command } from 'commander'
import { ENGLISH_ON_UTC, type Speaker } from '../../core/i18n/index.ts'
import { planAccounts, planSpeaker } from '../../plan/plan.ts'
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
  let stopped: Speaker | undefined
  await withRuntime(planFile, { ...roles, admin: true }, async ({ ctx, runtime, privateRedis, admin, stop }) => {
    const say = planSpeaker(ctx.plan)
    out(say.t('terminal.service.started', { version, company: ctx.plan.company.name, file: ctx.planFile, accounts: planAccounts(ctx.plan).length, kpis: ctx.plan.kpis.length }))
    out(
      say.t('terminal.service.stores', {
        redis: new URL(ctx.config.REDIS_URL).host,
        private: privateRedis ? 'yes' : 'no',
        clickhouse: runtime.ch ? runtime.ch.mode : 'none',
        path: `${ctx.config.dataDir}/clickhouse`,
      }),
    )
    if (roles.firstRound) {
      const round = runRound(runtime, ctx.plan, ctx.config, ctx.clock)
      // Left behind by a signal, the round fails once the runtime is shut down: nobody waits for it then.
      round.catch(() => undefined)
      await Promise.race([round, stop.stopped])
    }
    if (stop.signal) return
    if (roles.scheduler) out(`\n${say.t('terminal.service.running', { collect: ctx.plan.collection.schedule, evaluate: ctx.plan.collection.evaluateSchedule, zone: ctx.plan.company.timezone })}`)
    else out(`\n${say.t('terminal.service.working')}`)
    if (admin)
      out(say.t('terminal.service.analysts', { command: 'npx social-kpi sql "SELECT * FROM metrics_daily LIMIT 10"', dataDir: ctx.config.DATA_DIR === './data' ? 'default' : ctx.config.DATA_DIR }))
    await stop.stopped
    stopped = say
  })
  out((stopped ?? ENGLISH_ON_UTC).t('terminal.service.stopped'))
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
