import type { DashboardBuilder } from '@grafana/grafana-foundation-sdk/dashboard'
import { alertsAndCrises } from './alerts.ts'
import { kpiDetail } from './kpi-detail.ts'
import { perNetwork } from './network.ts'
import { operations } from './operations.ts'
import { planOverview } from './plan-overview.ts'

/** A generated dashboard: the file it is committed as under dashboards/, and how it is built. */
export interface GeneratedDashboard {
  file: string
  build(): DashboardBuilder
}

/**
 * Every generated dashboard: a dashboard is one module in dashboards/boards/ and one line here.
 * The test (test/integration/dashboards.test.ts) lints each and runs every panel's SQL.
 */
export const GENERATED_DASHBOARDS: readonly GeneratedDashboard[] = [
  { file: 'plan-overview.json', build: planOverview },
  { file: 'network.json', build: perNetwork },
  { file: 'kpi-detail.json', build: kpiDetail },
  { file: 'alerts.json', build: alertsAndCrises },
  { file: 'operations.json', build: operations },
]
