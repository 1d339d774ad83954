import { createHash } from 'node:crypto'
import { toClickHouseTime, type ClickHouse } from '../core/clickhouse.ts'
import { kpiAccounts, planAccounts, planKey, accountAuth, type Plan } from '../plan/plan.ts'
import type { PlanAccountRow, PlanKpiRow, PlanObjectiveRow, PlanRow, PlanSituationRow, Writers } from '../core/tables.ts'

/**
 * The plan as data (migration 0018, docs/dashboards.md): the plan's objectives, KPIs, accounts
 * and situation as rows, so dashboards and analysts join a KPI to its objective and target in SQL.
 * No secret is stored: of an account's credentials only the kind (token, oauth, service_account).
 */

export interface PlanTables {
  plan: Omit<PlanRow, 'loaded_at' | 'version'>
  objectives: PlanObjectiveRow[]
  kpis: PlanKpiRow[]
  accounts: PlanAccountRow[]
  situation: PlanSituationRow[]
}

/** The plan's rows, under the hash of their content (the same plan always gives the same rows). */
function planTableRows(plan: Plan): PlanTables {
  const key = planKey(plan)
  const kpisOf = (objectiveId: string) => plan.kpis.filter((kpi) => kpi.objective === objectiveId).map((kpi) => kpi.id)
  const objectives = plan.objectives.map((objective, position) => ({
    objective_id: objective.id,
    position,
    name: objective.name,
    description: objective.description ?? '',
    actions: objective.actions,
    kpis: kpisOf(objective.id),
  }))
  const kpis = plan.kpis.map((kpi, position) => ({
    kpi_id: kpi.id,
    position,
    name: kpi.name,
    objective_id: kpi.objective,
    network: kpi.network,
    metric: kpi.metric,
    denominator: kpi.denominator ?? '',
    kind: kpi.kind,
    target: kpi.target,
    comparator: kpi.comparator,
    tolerance: kpi.tolerance,
    period: typeof kpi.period === 'string' ? kpi.period : 'custom',
    period_from: typeof kpi.period === 'string' ? null : kpi.period.from,
    period_to: typeof kpi.period === 'string' ? null : kpi.period.to,
    accounts: kpiAccounts(plan, kpi).map((account) => account.id),
    actions: kpi.actions ?? [],
  }))
  const presences = new Map(plan.strategy.networks.flatMap((presence) => presence.accounts.map((account) => [account.id, presence] as const)))
  const accounts = planAccounts(plan).map((account, position) => {
    const presence = presences.get(account.id)!
    return {
      network: account.network,
      account_id: account.id,
      position,
      name: account.name,
      api_id: account.apiId,
      auth_kind: accountAuth(account).kind,
      posting_frequency: presence.postingFrequency ?? '',
      language: presence.language ?? '',
      content_focus: presence.contentFocus ?? '',
      kpis: plan.kpis.filter((kpi) => kpiAccounts(plan, kpi).some((covered) => covered.id === account.id)).map((kpi) => kpi.id),
    }
  })
  const situation: Array<Omit<PlanSituationRow, 'plan_key' | 'plan_hash'>> = []
  const add = (section: string, items: Array<{ id?: string; title?: string; text?: string }>) =>
    items.forEach((item, position) => {
      situation.push({ section, position, item_id: item.id ?? '', title: item.title ?? '', text: item.text ?? '' })
    })
  const texts = (values: string[]) => values.map((text) => ({ text }))
  const one = (text: string | undefined) => (text === undefined ? [] : [{ text }])
  add('company_description', one(plan.company.description))
  add('offering', one(plan.company.offering))
  add('summary', one(plan.situation?.summary))
  add('online_reputation', one(plan.situation?.onlineReputation))
  add('competitors', one(plan.situation?.competitors))
  const swot = plan.situation?.swot
  add('strength', texts(swot?.strengths ?? []))
  add('weakness', texts(swot?.weaknesses ?? []))
  add('opportunity', texts(swot?.opportunities ?? []))
  add('threat', texts(swot?.threats ?? []))
  add(
    'audience',
    plan.audiences.map((audience) => ({ id: audience.id, title: audience.name, text: audience.description ?? '' })),
  )
  add('technology', texts(plan.technology))
  add('crisis_step', texts(plan.crisis?.steps ?? []))

  const head = { plan_key: key, company: plan.company.name, timezone: plan.company.timezone, week_start: plan.company.weekStart, language: plan.company.language }
  const hash = createHash('sha256').update(JSON.stringify({ head, objectives, kpis, accounts, situation })).digest('hex').slice(0, 16)
  const version = <Row extends object>(rows: Row[]) => rows.map((row) => ({ plan_key: key, plan_hash: hash, ...row }))
  return {
    plan: { ...head, plan_hash: hash },
    objectives: version(objectives),
    kpis: version(kpis),
    accounts: version(accounts),
    situation: version(situation),
  }
}

/**
 * Replaces the plan tables with `plan`, as a whole: the version's rows are stored first, then the
 * `plans` row points at them (the views show only that version), so readers see the old plan or
 * the new one, never a mix. Idempotent: the same plan writes the same rows (deduplicated by the
 * tables' keys and the writers' tokens), and a plan already in force is not switched again.
 */
export async function writePlanTables(ch: ClickHouse, writers: Writers, plan: Plan, loadedAt: Date): Promise<PlanTables> {
  const tables = planTableRows(plan)
  await Promise.all([
    writers.planObjectives.write(tables.objectives, { flushNow: true }),
    writers.planKpis.write(tables.kpis, { flushNow: true }),
    writers.planAccounts.write(tables.accounts, { flushNow: true }),
    writers.planSituation.write(tables.situation, { flushNow: true }),
  ])
  const [current] = await ch.rows<{ plan_hash: string; version: string | number }>('SELECT plan_hash, version FROM plans FINAL WHERE plan_key = {key:String}', { key: tables.plan.plan_key })
  if (current?.plan_hash === tables.plan.plan_hash) return tables
  const version = Number(current?.version ?? 0) + 1
  await writers.plans.write([{ ...tables.plan, loaded_at: toClickHouseTime(loadedAt), version }], { flushNow: true })
  return tables
}
