import type { Command } from 'commander'
import { isVariableSet } from '../../core/config.ts'
import { loadPlan, namedVariables, planAccounts, type Kpi } from '../../plan/plan.ts'
import { exitCodes, out } from '../output.ts'

const ENGLISH_PLURALS = new Intl.PluralRules('en-US')

/** `1 trigger`, `3 triggers`, `0 KPIs`: a count with its noun (this summary stays English). */
const count = (n: number, one: string, other = `${one}s`) => `${n} ${ENGLISH_PLURALS.select(n) === 'one' ? one : other}`

/** A KPI's target as the plan means it: `0.03 (3%)` for a rate shown in percent, so the reading of `3%` is visible. */
const target = (kpi: Kpi) => (kpi.unit === 'percent' ? `${kpi.target} (${Number((kpi.target * 100).toPrecision(12))}%)` : String(kpi.target))

async function validate(file: string): Promise<void> {
  const parsed = await loadPlan(file)
  const accounts = planAccounts(parsed)
  out(`${file}: valid plan for "${parsed.company.name}" (${parsed.company.timezone})`)
  out(
    `  ${count(parsed.audiences.length, 'audience')}, ${count(parsed.objectives.length, 'objective')}, ${count(accounts.length, 'account')} on ${count(new Set(accounts.map((a) => a.network)).size, 'network')}, ${count(parsed.kpis.length, 'KPI')}`,
  )
  for (const kpi of parsed.kpis)
    out(
      `  - ${kpi.id}: ${kpi.kind} of ${kpi.metric}${kpi.denominator ? `/${kpi.denominator}` : ''} ${kpi.comparator === 'at_least' ? '≥' : '≤'} ${target(kpi)} per ${typeof kpi.period === 'string' ? kpi.period : `${kpi.period.from}..${kpi.period.to}`}`,
    )
  const channels = Object.entries(parsed.alerting.channels).map(([name, channel]) => `${name} (${channel.type})`)
  const crisis = parsed.crisis
  out(
    `  alerts to ${parsed.alerting.recipients.join(', ')}${channels.length ? `, ${channels.length === 1 ? 'channel' : 'channels'} ${channels.join(', ')}` : ''}; crisis guide: ${crisis ? `${count(crisis.steps.length, 'step')}, ${count(crisis.contacts.length, 'contact')}, ${count(crisis.triggers.length, 'trigger')}` : 'none'}`,
  )
  // The plan is valid wherever it runs; these variables must be set where it does.
  const unset = namedVariables(parsed).filter((named) => !isVariableSet(named.variable))
  for (const named of unset.filter((n) => n.without === 'start')) out(`  warning: ${named.path}: ${named.variable} is not set in this environment; \`start\` refuses to run without it`)
  const accountVariables = [...new Set(unset.filter((n) => n.without === 'account').map((n) => n.variable))]
  if (accountVariables.length > 0)
    out(
      `  warning: not set in this environment: ${accountVariables.join(', ')}; the accounts that name ${accountVariables.length === 1 ? 'it are' : 'them are'} not collected without ${accountVariables.length === 1 ? 'it' : 'them'}`,
    )
}

export function registerPlanCommands(program: Command): void {
  const plan = program.command('plan').description('work with plan files')
  const command = plan
    .command('validate')
    .description('check a plan file; prints a summary, or every problem with its path, and exits 1 when invalid')
    .argument('<file>', 'the plan (YAML or JSON)')
    .action(validate)
  exitCodes(command, { 0: 'the plan is valid (warnings name environment variables it needs that are not set here)', 1: 'it is not (every problem listed with its path) or cannot be read' })
}
