import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { DEFAULT_DATA_DIR, isVariableSet, type Config } from '../core/config.ts'
import { SocialKpiError } from '../core/errors.ts'
import { planAccounts, type Plan } from '../plan/plan.ts'
import { DEMO_PLAN } from './output.ts'

// Which plan and which DATA_DIR a command uses when it is not told, decided here once for every
// command. A new user runs `npm start` (the demo, in ./data/demo) and then, in another shell, the
// README's next commands without DATA_DIR: those must find the demo's data, and must never leave
// an empty store behind where they looked.

/** Where the demo keeps its data when DATA_DIR is unset. */
export const DEMO_DATA_DIR = './data/demo'

export interface PlanChoice {
  /** The plan file: the one given, else the demo's example plan. */
  file: string
  /** No --plan: the demo. */
  demo: boolean
  /**
   * The environment, DATA_DIR always set: the one given, else ./data for a plan of one's own and
   * ./data/demo for the demo's (so findData never takes the demo's data for another plan's).
   */
  env: NodeJS.ProcessEnv
}

/**
 * The plan a command runs on: the one given, or the demo's (the example plan, its data in
 * ./data/demo unless DATA_DIR is set, quieter logs). The same for every command that takes --plan.
 */
export function choosePlan(planFile: string | undefined, source: NodeJS.ProcessEnv): PlanChoice {
  const env: NodeJS.ProcessEnv = { ...source }
  if (planFile) {
    env.DATA_DIR ||= DEFAULT_DATA_DIR
    return { file: planFile, demo: false, env }
  }
  env.LOG_LEVEL ||= 'warn'
  env.DATA_DIR ||= DEMO_DATA_DIR
  return { file: DEMO_PLAN, demo: true, env }
}

/** The demo's tokens, one per account (the simulator takes any token): what the demo's accounts use unless set. */
export function withDemoTokens(plan: Plan, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  for (const account of planAccounts(plan)) if (account.tokenEnv) env[account.tokenEnv] ||= `demo-token-${account.id}`
  return env
}

/** Whether `dir` holds an embedded ClickHouse store (made by start, collect, migrate: never by a reading command). */
const hasStore = (dir: string) => existsSync(join(dir, 'clickhouse'))

/**
 * The environment of a command that reads what start collected (status, sql, queues, silence,
 * report on the demo) with DATA_DIR pointing at the data: the DATA_DIR set, or when unset ./data,
 * else the demo's ./data/demo when only the demo has data (a store, or a running demo). With
 * `running`, only a running start or worker counts (the queue board is served by it). Nothing is
 * created: without data, one line says which DATA_DIR to set (`NO_DATA`, `NOT_RUNNING`);
 * `orDefault` returns the environment as given instead (a write that may make the store).
 */
export async function findData(source: NodeJS.ProcessEnv, options: { running?: boolean; orDefault?: boolean } = {}): Promise<NodeJS.ProcessEnv> {
  if (isVariableSet('CLICKHOUSE_URL', source)) return source
  const given = isVariableSet('DATA_DIR', source)
  const candidates = given ? [source.DATA_DIR!] : [DEFAULT_DATA_DIR, DEMO_DATA_DIR]
  const { findAdminServer } = await import('./admin-server.ts')
  for (const dir of candidates) {
    const running = (await findAdminServer(resolve(dir))) !== undefined
    if (running || (!options.running && hasStore(dir))) return { ...source, DATA_DIR: dir }
  }
  if (options.orDefault) return source
  if (options.running) {
    if (given) throw notRunningError(resolve(source.DATA_DIR!))
    throw new SocialKpiError(
      'NOT_RUNNING',
      `no running social-kpi start or worker for ${DEFAULT_DATA_DIR} or ${DEMO_DATA_DIR}; the queue board is served by the running process: run npm start (the demo), or set DATA_DIR to the directory of the running start`,
    )
  }
  if (given) throw noDataError(resolve(source.DATA_DIR!))
  throw new SocialKpiError(
    'NO_DATA',
    `no social-kpi data in ${DEFAULT_DATA_DIR} or ${DEMO_DATA_DIR} yet: run npm start (the demo, which keeps its data in ${DEMO_DATA_DIR}) or npx social-kpi start --plan FILE first, or set DATA_DIR to the directory your start uses`,
  )
}

/** The one line for a DATA_DIR without a running start or worker (embedded mode). */
export const notRunningError = (dataDir: string) =>
  new SocialKpiError('NOT_RUNNING', `no running social-kpi start or worker for DATA_DIR (${dataDir}); the queue board is served by the running process`)

/**
 * The one line for a DATA_DIR (or the database at CLICKHOUSE_URL) where nothing has been
 * evaluated yet: no store, or a store without our tables. When that is ./data and the demo has
 * data, it says to set DATA_DIR=./data/demo.
 */
export function noDataError(dataDir: string, config?: Pick<Config, 'CLICKHOUSE_URL' | 'CLICKHOUSE_DATABASE'>): SocialKpiError {
  if (config?.CLICKHOUSE_URL) {
    return new SocialKpiError(
      'NO_DATA',
      `no KPI has been evaluated yet in the database ${config.CLICKHOUSE_DATABASE ?? 'of CLICKHOUSE_URL'} at CLICKHOUSE_URL: it has no social-kpi tables; run npx social-kpi migrate, then the workers (start or worker), first`,
    )
  }
  const demo = resolve(DEMO_DATA_DIR)
  const hint =
    resolve(dataDir) === resolve(DEFAULT_DATA_DIR) && (hasStore(demo) || existsSync(join(demo, 'admin.json'))) ? `; the demo's data is in ${DEMO_DATA_DIR}: set DATA_DIR=${DEMO_DATA_DIR}` : ''
  return new SocialKpiError('NO_DATA', `no KPI has been evaluated yet in DATA_DIR (${dataDir}): run npx social-kpi start with this DATA_DIR first (npm start runs the demo in ${DEMO_DATA_DIR})${hint}`)
}
