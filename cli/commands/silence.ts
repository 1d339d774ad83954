import { userInfo } from 'node:os'
import type { Command } from 'commander'
import type { SilenceStore } from '../../alerts/silences.ts'
import { processClock } from '../../core/clock.ts'
import { loadConfig, type Config } from '../../core/config.ts'
import { loadPlan, planSpeaker } from '../../plan/plan.ts'
import { exitCodes, out } from '../output.ts'
import { ENGLISH_ON_UTC } from '../../core/i18n/index.ts'

/**
 * Silences are read and written through the running process in embedded mode, like `sql`, in the
 * DATA_DIR that has data (the demo's when only it has: cli/data-dir.ts). Only a silence added
 * before anything ran (`makeStore`) makes the store; listing and expiring never do.
 */
async function silenceConfig(makeStore: boolean): Promise<Config> {
  const { findData } = await import('../data-dir.ts')
  return loadConfig(await findData(process.env, { orDefault: makeStore }))
}

async function withStore(config: Config, makeStore: boolean, work: (store: SilenceStore) => Promise<void>): Promise<void> {
  const { openReader } = await import('../reader.ts')
  const reader = await openReader(config, { migrate: makeStore })
  try {
    await work(reader)
  } finally {
    await reader.close()
  }
}

interface AddOptions {
  kpi?: string
  objective?: string
  account?: string
  until: string
  from?: string
  reason: string
  by?: string
  plan?: string
}

async function add(opts: AddOptions): Promise<void> {
  const config = await silenceConfig(true)
  const now = processClock(config)()
  const plan = opts.plan ? await loadPlan(opts.plan) : undefined
  const { addSilence, parseTimeArgument, validateSilence } = await import('../../alerts/silences.ts')
  const { silenceMatcher } = await import('../status.ts')
  const speaker = plan ? planSpeaker(plan) : ENGLISH_ON_UTC
  const input = {
    matchers: { kpiId: opts.kpi, objectiveId: opts.objective, accountId: opts.account },
    startsAt: opts.from ? parseTimeArgument('--from', opts.from, now) : now,
    endsAt: parseTimeArgument('--until', opts.until, now),
    reason: opts.reason,
    createdBy: opts.by ?? userInfo().username,
  }
  validateSilence(input, now, plan)
  await withStore(config, true, async (store) => {
    const added = await addSilence(store, input, now, plan)
    out(speaker.t('terminal.silence.added', { matcher: silenceMatcher(speaker, added.matchers), start: speaker.dateTime(added.startsAt), end: speaker.dateTime(added.endsAt), id: added.id }))
    out(`  ${speaker.t('terminal.silence.expire_hint', { id: added.id })}`)
  })
}

async function list(opts: { all?: boolean; plan?: string }): Promise<void> {
  const { currentSilences, listSilences } = await import('../../alerts/silences.ts')
  const { formatSilence } = await import('../status.ts')
  const { readingSpeaker } = await import('./status.ts')
  const config = await silenceConfig(false)
  const speaker = (await readingSpeaker(opts.plan, config.dataDir)) ?? ENGLISH_ON_UTC
  const now = processClock(config)()
  await withStore(config, false, async (store) => {
    const silences = opts.all ? await listSilences(store) : await currentSilences(store, now)
    if (silences.length === 0) out(speaker.t(opts.all ? 'terminal.silence.none_all' : 'terminal.silence.none'))
    for (const s of silences) out(formatSilence(s, now, speaker))
  })
}

async function expire(id: string, opts: { plan?: string }): Promise<void> {
  const { expireSilence } = await import('../../alerts/silences.ts')
  const { silenceMatcher } = await import('../status.ts')
  const { readingSpeaker } = await import('./status.ts')
  const config = await silenceConfig(false)
  const speaker = (await readingSpeaker(opts.plan, config.dataDir)) ?? ENGLISH_ON_UTC
  await withStore(config, false, async (store) => {
    const { silence, changed } = await expireSilence(store, id, processClock(config)())
    out(changed ? speaker.t('terminal.silence.expired', { id: silence.id, matcher: silenceMatcher(speaker, silence.matchers) }) : speaker.t('terminal.silence.already_ended', { id: silence.id }))
  })
}

/** `silence add|list|expire`: planned pauses of alerts. */
export function registerSilenceCommands(program: Command): void {
  const silence = program.command('silence').description('planned pauses of alerts: add, list, expire (work while start runs)')
  exitCodes(
    silence
      .command('add')
      .description('silence the alerts of one KPI, one objective or one account until a time')
      .option('--kpi <id>', "the KPI's id in the plan")
      .option('--objective <id>', 'every KPI of this objective')
      .option('--account <id>', "an account's alerts (KPIs covering only silenced accounts, its source and freshness alerts, crises on it)")
      .requiredOption('--until <time>', 'end: an ISO time (2026-03-01T09:00:00+07:00) or a duration from now (4h, 3d, 1w)')
      .option('--from <time>', 'start, same forms (default: now)')
      .requiredOption('--reason <text>', 'why; shown in list and status')
      .option('--by <name>', 'who asks (default: your user name)')
      .option('-p, --plan <file>', 'check the id against this plan')
      .action(add),
    { 1: 'a bad time or id (nothing written), or another error' },
  )
  const planWords = "the plan whose language and time zone the lines use (default: the demo's for the demo's data, else English on UTC)"
  exitCodes(
    silence
      .command('list')
      .description('active and upcoming silences (--all: also ended and expired ones)')
      .option('--all', 'include ended and expired silences')
      .option('-p, --plan <file>', planWords)
      .action(list),
  )
  exitCodes(silence.command('expire').description('end a silence now').argument('<id>', 'the silence id, as shown by silence list').option('-p, --plan <file>', planWords).action(expire), {
    1: 'no such silence, or another error',
  })
}
