import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRuntime, type Runtime } from '../../cli/runtime.ts'
import { clockFrom } from '../../core/clock.ts'
import { loadPlan, type Plan } from '../../plan/plan.ts'
import { writePlanTables } from '../../workers/plan-tables.ts'
import { expandPanelSql } from '../helpers/grafana-macros.ts'
import { silentLogger, testConfig } from '../helpers/runtime.ts'

// The plan as data: written at start by the runtime, replaced as a whole when the plan changes,
// and the same plan written twice changes nothing.

const START = new Date('2027-03-01T00:05:00+07:00')
let runtime: Runtime
let english: Plan
let indonesian: Plan
let cleanup: () => void

const rows = <T = Record<string, unknown>>(sql: string) => runtime.ch!.rows<T>(sql)
const versionCounts = async () =>
  rows<{ table: string; n: string }>(
    `SELECT * FROM (SELECT 'objectives' AS table, toString(count()) AS n FROM plan_objective_versions
     UNION ALL SELECT 'kpis', toString(count()) FROM plan_kpi_versions
     UNION ALL SELECT 'accounts', toString(count()) FROM plan_account_versions
     UNION ALL SELECT 'situation', toString(count()) FROM plan_situation_versions
     UNION ALL SELECT 'plans', toString(count()) FROM plans)
     ORDER BY table`,
  )

beforeAll(async () => {
  english = await loadPlan('examples/plan.yaml')
  indonesian = await loadPlan('examples/rencana-media-sosial.yaml')
  const test = testConfig('plan_tables')
  cleanup = test.cleanup
  runtime = await startRuntime({ config: test.config, plan: english, logger: silentLogger, scheduler: false, workers: true, now: clockFrom(START) })
})

afterAll(async () => {
  await runtime?.shutdown()
  cleanup?.()
})

describe('plan tables', () => {
  it('exist after start, holding the plan the process runs', async () => {
    const objectives = await rows<{ objective_id: string; name: string; kpis: string[] }>('SELECT objective_id, name, kpis FROM plan_objectives ORDER BY position')
    expect(objectives.map((o) => o.objective_id)).toEqual(english.objectives.map((o) => o.id))
    expect(objectives[0]!.kpis).toEqual(english.kpis.filter((k) => k.objective === english.objectives[0]!.id).map((k) => k.id))

    const kpis = await rows<{ kpi_id: string; objective_id: string; target: number; comparator: string; period: string; accounts: string[]; actions: string[] }>(
      'SELECT kpi_id, objective_id, target, comparator, period, accounts, actions FROM plan_kpis ORDER BY position',
    )
    expect(kpis).toHaveLength(english.kpis.length)
    const first = english.kpis[0]!
    expect(kpis[0]).toMatchObject({ kpi_id: first.id, objective_id: first.objective, target: first.target, comparator: first.comparator, actions: first.actions ?? [] })
    // A KPI that names no accounts covers every account of its network.
    for (const row of kpis) expect(row.accounts.length, row.kpi_id).toBeGreaterThan(0)

    const accounts = await rows<{ account_id: string; auth_kind: string }>('SELECT account_id, auth_kind FROM plan_accounts ORDER BY position')
    expect(accounts.map((a) => a.account_id)).toEqual(english.strategy.networks.flatMap((n) => n.accounts.map((a) => a.id)))
    // Credentials are named by kind only: no variable names, no tokens.
    expect(JSON.stringify(await rows('SELECT * FROM plan_accounts'))).not.toMatch(/TOKEN|SECRET/)

    const swot = await rows<{ section: string; text: string }>("SELECT section, text FROM plan_situation WHERE section = 'strength' ORDER BY position")
    expect(swot.map((s) => s.text)).toEqual(english.situation!.swot!.strengths)
    const audiences = await rows<{ item_id: string; title: string }>("SELECT item_id, title FROM plan_situation WHERE section = 'audience' ORDER BY position")
    expect(audiences).toEqual(english.audiences.map((a) => ({ item_id: a.id, title: a.name })))
  })

  it("the plan overview's Objectives panel reads them, before any evaluation", async () => {
    const board = JSON.parse(readFileSync('dashboards/plan-overview.json', 'utf8')) as { panels: Array<{ title: string; targets: Array<{ rawSql: string }> }> }
    const sql = board.panels.find((panel) => panel.title === 'Objectives')!.targets[0]!.rawSql
    const all = { values: english.objectives.map((o) => o.id), all: true, multi: true }
    const expanded = expandPanelSql(sql, { from: new Date('2027-02-01T00:00:00Z'), to: START, variables: { objective: all } })
    const shown = await rows<{ Objective: string; KPIs: string | number; 'No verdict': string | number }>(expanded)
    expect(shown.map((r) => [r.Objective, Number(r.KPIs), Number(r['No verdict'])])).toEqual(
      english.objectives.map((o) => {
        const kpis = english.kpis.filter((k) => k.objective === o.id).length
        return [o.name, kpis, kpis]
      }),
    )
  })

  it('join a KPI to its objective in SQL', async () => {
    const joined = await rows<{ kpi_id: string; objective: string }>(
      'SELECT k.kpi_id AS kpi_id, o.name AS objective FROM plan_kpis AS k INNER JOIN plan_objectives AS o USING (plan_key, objective_id) ORDER BY k.position',
    )
    expect(joined).toEqual(english.kpis.map((k) => ({ kpi_id: k.id, objective: english.objectives.find((o) => o.id === k.objective)!.name })))
  })

  it('the same plan written again changes nothing', async () => {
    const before = await versionCounts()
    const again = await writePlanTables(runtime.ch!, runtime.writers!, english, new Date('2027-03-01T01:00:00Z'))
    expect(await versionCounts()).toEqual(before)
    const [current] = await rows<{ plan_hash: string }>('SELECT plan_hash FROM plans FINAL')
    expect(current!.plan_hash).toBe(again.plan.plan_hash)
  })

  it('a changed plan replaces the tables as a whole (the Indonesian plan, then a KPI less), whatever the clock says', async () => {
    // A process started with CLOCK_START in the past still puts its plan in force.
    await writePlanTables(runtime.ch!, runtime.writers!, indonesian, new Date('2026-01-01T00:00:00Z'))
    const strengths = await rows<{ text: string }>("SELECT text FROM plan_situation WHERE section = 'strength' ORDER BY position")
    expect(strengths.map((s) => s.text)).toEqual(indonesian.situation!.swot!.strengths)
    expect(await rows('SELECT * FROM plan_objectives')).toHaveLength(indonesian.objectives.length)

    const fewer: Plan = { ...indonesian, kpis: indonesian.kpis.slice(1) }
    await writePlanTables(runtime.ch!, runtime.writers!, fewer, new Date('2027-03-01T03:00:00Z'))
    const ids = (await rows<{ kpi_id: string }>('SELECT kpi_id FROM plan_kpis ORDER BY position')).map((k) => k.kpi_id)
    expect(ids).toEqual(indonesian.kpis.slice(1).map((k) => k.id))
    const [dropped] = await rows<{ kpis: string[] }>(`SELECT kpis FROM plan_objectives WHERE objective_id = '${indonesian.kpis[0]!.objective}'`)
    expect(dropped!.kpis).not.toContain(indonesian.kpis[0]!.id)
  })
})
