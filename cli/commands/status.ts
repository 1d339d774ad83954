import { resolve } from 'node:path'
import type { Command } from 'commander'
import { processClock } from '../../core/clock.ts'
import { loadConfig } from '../../core/config.ts'
import type { Speaker } from '../../core/i18n/index.ts'
import { loadPlan, planSpeaker } from '../../plan/plan.ts'
import { color, DEMO_PLAN, exitCodes, out, planOption } from '../output.ts'
import { ENGLISH_ON_UTC } from '../../core/i18n/index.ts'

/**
 * The speaker of a command that reads what start collected (status, silence list): the plan's
 * (its language, its zone), the plan given, else the demo's when the data is the demo's; undefined
 * without one (English on UTC, and `status` says so once).
 */
export async function readingSpeaker(planFile: string | undefined, dataDir: string | undefined): Promise<Speaker | undefined> {
  const { DEMO_DATA_DIR } = await import('../data-dir.ts')
  if (planFile) return planSpeaker(await loadPlan(planFile))
  if (dataDir && resolve(dataDir) === resolve(DEMO_DATA_DIR)) return planSpeaker(await loadPlan(DEMO_PLAN))
  return undefined
}

async function status(opts: { plan?: string }): Promise<void> {
  const { choosePlan, findData } = await import('../data-dir.ts')
  // With --plan, its data (DATA_DIR, else ./data), as for start; without, wherever start left data.
  const env = await findData(opts.plan ? choosePlan(opts.plan, process.env).env : process.env)
  const config = loadConfig(env)
  const now = processClock(config)()
  const speaker = await readingSpeaker(opts.plan, env.DATA_DIR)
  const { openReader } = await import('../reader.ts')
  const { formatStatus } = await import('../status.ts')
  const reader = await openReader(config)
  try {
    const page = await formatStatus(reader, { color, now, ...(speaker ? { speaker } : {}) })
    out(speaker ? page : `${ENGLISH_ON_UTC.t('terminal.status.no_plan')}\n\n${page}`)
  } finally {
    await reader.close()
  }
}

export function registerStatusCommand(program: Command): void {
  exitCodes(
    program
      .command('status')
      .description("the KPI table (status, attainment, pace needed), open alerts, silences and source health, in the plan's language and time zone")
      .addOption(planOption())
      .action(status),
  )
}
