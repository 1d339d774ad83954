import { METRICS, type Network } from '../../core/metrics.ts'
import type { KpiDataSource } from '../../kpi/kinds/source.ts'

/**
 * For a fake KPI data source: every account was read, every metric of its network, at the very
 * instant asked about, so no KPI is left without a verdict for want of data (kpi/evaluate.ts).
 */
export const freshAccounts: Pick<KpiDataSource, 'recentData' | 'lastSeen'> = {
  async recentData(accounts, at) {
    return accounts.map((a) => ({ ...a, metrics: Object.entries(METRICS[a.network as Network] ?? {}).map(([metric, d]) => ({ metric, shape: d.shape, at })), lastSuccessAt: at, healthKnown: true }))
  },
  async lastSeen(accounts, at) {
    return accounts.map((a) => ({ ...a, at }))
  },
}
