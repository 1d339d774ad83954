import type { Command } from 'commander'
import { isVariableSet } from '../../core/config.ts'
import { loadPlan, namedVariables, planAccounts } from '../../plan/plan.ts'
import { exitCodes, out } from '../output.ts'

async function validate(file: string): Promise<void> {
  const parsed = await loadPlan(file)
  const accounts = planAccounts(parsed)
  out(`${file}: valid plan for "${parsed.company.name}" (${parsed.company.timezone})`)
  out(
    `  ${parsed.audiences.length} audiences, ${parsed.objectives.length} objectives, ${accounts.length} accounts on ${new Set(accounts.map((a) => a.network)).size} networks, ${parsed.kpis.length} KPIs`,
  )
  for (const kpi of parsed.kpis)
    out(
      `  - ${kpi.id}: ${kpi.kind} of ${kpi.metric}${kpi.denominator ? `/${kpi.denominator}` : ''} ${kpi.comparator === 'at_least' ? '≥' : '≤'} ${kpi.target} per ${typeof kpi.period === 'string' ? kpi.period : `${kpi.period.from}..${kpi.period.to}`}`,
    )
  const channels = Object.entries(parsed.alerting.channels).map(([name, channel]) => `${name} (${channel.type})`)
  out(
    `  alerts to ${parsed.alerting.recipients.join(', ')}${channels.length ? `, channels ${channels.join(', ')}` : ''}; crisis guide: ${parsed.crisis ? `${parsed.crisis.steps.length} steps, ${parsed.crisis.contacts.length} contacts, ${parsed.crisis.triggers.length} triggers` : 'none'}`,
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
