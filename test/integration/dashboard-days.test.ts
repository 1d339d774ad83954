import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { toClickHouseTime } from '../../core/clickhouse.ts'
import { createWriters } from '../../core/tables.ts'
import { parsePlan } from '../../plan/plan.ts'
import { writePlanTables } from '../../workers/plan-tables.ts'
import { openTestClickHouse, type TestClickHouse } from '../helpers/clickhouse.ts'
import { expandPanelSql, type VariableSelection } from '../helpers/grafana-macros.ts'
import { observation } from '../helpers/observations.ts'
import { silentLogger } from '../helpers/runtime.ts'

/**
 * A day on a dashboard is a day in the plan's zone. The plan here is in Asia/Jakarta (UTC+7), and
 * the rows that matter were made at 23:30 UTC on 3 March 2025: 06:30 on 4 March in Jakarta. Every
 * panel that puts rows into days (those that use the `zone` variable) must show them on 4 March;
 * on UTC days they would be on 3 March. Times are shown in the browser's zone.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const ZONE = 'Asia/Jakarta'
const at = (iso: string) => toClickHouseTime(new Date(iso))
/** 23:30 UTC on 3 March: 4 March in Jakarta. */
const LATE = '2025-03-03T23:30:00Z'
/** 17:00 Jakarta on 3 March, the same UTC day: still 3 March there. */
const EARLY = '2025-03-03T10:00:00Z'
/** 4 March 00:00 in Jakarta, and 3 March's. */
const MARCH_4 = '2025-03-03T17:00:00.000Z'
const MARCH_3 = '2025-03-02T17:00:00.000Z'
// The range: 3 March 00:00 to 6 March 00:00, Jakarta.
const FROM = new Date('2025-03-02T17:00:00Z')
const TO = new Date('2025-03-05T17:00:00Z')

interface Panel {
  title?: string
  type?: string
  targets?: Array<{ rawSql?: string }>
}
interface Dashboard {
  uid: string
  timezone?: string
  templating?: { list?: Array<{ type?: string; name?: string; query?: string; multi?: boolean; includeAll?: boolean; current?: { value?: unknown } }> }
  panels?: Panel[]
}
const dashboards = readdirSync(join(ROOT, 'dashboards'))
  .filter((name) => name.endsWith('.json'))
  .map((file) => JSON.parse(readFileSync(join(ROOT, 'dashboards', file), 'utf8')) as Dashboard)

/** Every panel that puts rows into days: it uses the plan's zone. */
const dayPanels = dashboards.flatMap((dashboard) =>
  (dashboard.panels ?? []).filter((panel) => panel.targets?.some((t) => t.rawSql?.includes('${zone'))).map((panel) => ({ dashboard, panel, name: `${dashboard.uid} · ${panel.title}` })),
)

const POST = { account: 'acme', created: '2025-03-03T09:00:00Z' }
const PAGE = { account: 'acme' }
const OBSERVATIONS = [
  observation('followers', 'gauge', '1001', EARLY, 100, PAGE),
  observation('followers', 'gauge', '1001', LATE, 110, PAGE),
  observation('likes', 'counter', '1001_7', EARLY, 4, POST),
  observation('likes', 'counter', '1001_7', LATE, 9, POST),
  observation('clicks', 'counter', '1001_7', EARLY, 1, POST),
  observation('clicks', 'counter', '1001_7', LATE, 3, POST),
  // A daily count for a day of the API's own zone, east of Jakarta: Sydney's 4 March starts at
  // 20:00 on 3 March in Jakarta. It stays on 4 March, the day the API gave.
  { ...observation('conversions', 'daily', 'act_1', '2025-03-03T13:00:00Z', 7, { account: 'acme' }), api_day: '2025-03-04', api_day_zone: 'Australia/Sydney' },
]
const alert = (key: string, kind: string, subject: string) => ({
  at: at(LATE),
  alert_key: key,
  subject_kind: kind,
  subject_id: subject,
  objective_id: '',
  from_status: 'ok',
  to_status: 'firing',
  label: 'at_risk',
  event: 'firing',
  group_key: '',
  recipients: ['team@example.com'],
  notification_id: `n-${key}`,
  silenced: false,
  written_at: at(LATE),
})

// March in Jakarta: [28 Feb 17:00 UTC, 31 Mar 17:00 UTC).
/** The KPI the evaluation and the verdict are of. */
const KPI = { kpi_id: 'likes-march', kpi_name: 'Likes, March', objective_id: 'engagement', network: 'facebook', metric: 'likes', kind: 'total', comparator: 'at_least' }

const EVALUATION = {
  ...KPI,
  evaluated_at: at(LATE),
  period_start: at('2025-02-28T17:00:00Z'),
  period_end: at('2025-03-31T17:00:00Z'),
  actual: 9,
  expected_to_date: 20,
  target: 200,
  attainment: 0.045,
  status: 'at_risk',
  written_at: at(LATE),
}

// A week without a label, Monday 24 Feb to Sunday 2 Mar in Jakarta.
const VERDICT = {
  ...KPI,
  period_start: at('2025-02-23T17:00:00Z'),
  period_end: at('2025-03-02T17:00:00Z'),
  period_label: '',
  actual: 40,
  target: 50,
  attainment: 0.8,
  status: 'missed',
  status_reason: '',
  missing_accounts: [],
  judged_at: at('2025-03-03T00:00:00Z'),
  settles_at: at('2025-03-05T17:00:00Z'),
  written_at: at('2025-03-03T00:00:00Z'),
}

const PLAN = parsePlan(
  {
    company: { name: 'Kopi Jakarta', timezone: ZONE },
    objectives: [{ id: 'engagement', name: 'Be talked about' }],
    strategy: { networks: [{ network: 'facebook', accounts: [{ id: 'acme', name: 'Acme', apiId: '1001', tokenEnv: 'FB_TOKEN' }] }] },
    kpis: [{ id: 'likes-march', name: 'Likes, March', objective: 'engagement', network: 'facebook', metric: 'likes', kind: 'total', target: 200, period: 'month' }],
    alerting: { recipients: ['team@example.com'] },
  },
  'jakarta-plan',
)

/**
 * What each day panel shows of the rows above: `days` maps the instant each day starts (UTC) to
 * what the panel says of that day; `rows` is for tables.
 */
const EXPECTED: Record<string, { days?: Record<string, Record<string, unknown>>; rows?: Array<Record<string, unknown>> }> = {
  'social-kpi-overview · Followers per account': { days: { [MARCH_3]: { followers: 100 }, [MARCH_4]: { followers: 110 } } },
  'social-kpi-overview · Daily likes and clicks': { days: { [MARCH_3]: { Likes: 4, Clicks: 1 }, [MARCH_4]: { Likes: 5, Clicks: 2 } } },
  'social-kpi-overview · KPI status': { rows: [{ KPI: 'Likes, March', Period: '2025-03-01 → 2025-03-31' }] },
  'social-kpi-network · Followers per account': { days: { [MARCH_3]: { followers: 100 }, [MARCH_4]: { followers: 110 } } },
  'social-kpi-network · Likes, clicks and conversions per day': {
    days: { [MARCH_3]: { 'acme · clicks': 1, 'acme · likes': 4 }, [MARCH_4]: { 'acme · clicks': 2, 'acme · conversions': 7, 'acme · likes': 5 } },
  },
  'social-kpi-network · Totals per account': { rows: [{ Account: 'acme', Followers: 110, Likes: 9, Clicks: 3, Conversions: 7 }] },
  "social-kpi-kpi-detail · Past periods' verdicts": { rows: [{ Period: '2025-02-24 → 2025-03-02', Verdict: 'missed' }] },
  'social-kpi-alerts · Alerts fired per day': { days: { [MARCH_4]: { 'kpi · fired': 1, 'source · fired': 1 } } },
  'social-kpi-operations · Source problems per day': { days: { [MARCH_4]: { token: 1 } } },
}

let test: TestClickHouse

beforeAll(async () => {
  test = await openTestClickHouse('dashboard_days')
  const { client } = test.ch
  await client.insert({ table: 'observations', values: OBSERVATIONS, format: 'JSONEachRow' })
  await client.insert({ table: 'alerts', values: [alert('kpi.likes-march', 'kpi', 'likes-march'), alert('token.facebook.acme', 'source', 'facebook/acme')], format: 'JSONEachRow' })
  await client.insert({ table: 'kpi_evaluations', values: [EVALUATION], format: 'JSONEachRow' })
  await client.insert({ table: 'kpi_verdicts', values: [VERDICT], format: 'JSONEachRow' })
  const writers = createWriters(test.ch, { maxRows: 1000, flushIntervalMs: 50, logger: silentLogger })
  await writePlanTables(test.ch, writers, PLAN, new Date('2025-03-01T00:00:00Z'))
  await writers.close()
})
afterAll(async () => {
  await test?.cleanup()
})

const run = (sql: string, variables: Record<string, VariableSelection>) => test.ch.rows<Record<string, unknown>>(expandPanelSql(sql, { from: FROM, to: TO, intervalMs: 3_600_000, variables }))

/** The dashboard's variables as Grafana resolves them on load: each query variable's first value, or all of them. */
async function variablesOf(dashboard: Dashboard): Promise<Record<string, VariableSelection>> {
  const variables: Record<string, VariableSelection> = {}
  for (const variable of dashboard.templating?.list ?? []) {
    if (variable.type === 'datasource') variables[variable.name!] = { values: [String(variable.current?.value ?? '')] }
    if (variable.type !== 'query') continue
    const options = (await run(variable.query!, variables)).map((row) => String(Object.values(row)[0]))
    variables[variable.name!] = variable.includeAll ? { values: options, all: true, multi: true } : { values: options.slice(0, 1), multi: Boolean(variable.multi) }
  }
  return variables
}

describe("dashboards: days in the plan's zone, times in the browser's", () => {
  it("every dashboard shows times in the browser's zone", () => {
    expect(dashboards.length).toBeGreaterThan(0)
    for (const dashboard of dashboards) expect(dashboard.timezone, dashboard.uid).toBe('browser')
  })

  it("the zone variable offers the plan's zone", async () => {
    const withZone = dashboards.filter((d) => d.templating?.list?.some((v) => v.name === 'zone'))
    expect(withZone.map((d) => d.uid).sort()).toEqual([...new Set(dayPanels.map((p) => p.dashboard.uid))].sort())
    for (const dashboard of withZone) {
      expect((await variablesOf(dashboard)).zone, dashboard.uid).toEqual({ values: [ZONE], multi: false })
    }
  })

  it('every panel that puts rows into days is checked here', () => {
    expect(dayPanels.map((p) => p.name).sort()).toEqual(Object.keys(EXPECTED).sort())
  })

  it.each(dayPanels)('$name: rows of 23:30 UTC on 3 March are on 4 March, as in Jakarta', async ({ dashboard, panel, name }) => {
    const expected = EXPECTED[name]!
    const sql = panel.targets![0]!.rawSql!
    const variables = await variablesOf(dashboard)
    if (expected.rows) {
      const rows = await run(sql, variables)
      expect(rows.map((row) => Object.fromEntries(Object.keys(expected.rows![0]!).map((key) => [key, row[key]])))).toEqual(expected.rows)
      return
    }
    // Each day as the instant it starts, and what the panel says of it (series in long or wide form).
    const rows = await run(`SELECT toUnixTimestamp(time) * 1000 AS starts_ms, * EXCEPT (time) FROM (${sql})`, variables)
    const days: Record<string, Record<string, unknown>> = {}
    for (const { starts_ms, ...row } of rows) {
      const day = (days[new Date(Number(starts_ms)).toISOString()] ??= {})
      const label = (row.series ?? row.account ?? row.problem) as string | undefined
      const values = Object.entries(row).filter(([key]) => !['series', 'account', 'problem'].includes(key))
      if (label !== undefined && values.length === 1) day[label.replace(/^facebook · /, '')] = Number(values[0]![1])
      else for (const [key, value] of values) day[key] = Number(value)
    }
    // one series per account: the followers panels name the account
    const flat = Object.fromEntries(Object.entries(days).map(([day, values]) => [day, 'acme' in values && Object.keys(values).length === 1 ? { followers: values.acme } : values]))
    expect(flat).toEqual(expected.days)
  })
})
