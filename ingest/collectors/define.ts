import type { Config } from '../../core/config.ts'
import { NETWORK_DESCRIPTORS, type ApiName, type Network, type NetworkSettings } from '../../core/metrics.ts'
import { createApiCaller, createHttp, type ApiCaller, type ApiDialect } from '../http.ts'
import { observationFactory, type Collector, type CollectContext, type CollectorDeps, type CollectSummary } from './types.ts'
import type { ObservationRow } from '../../core/tables.ts'

/**
 * A network is a module: its descriptor (core/networks/) says where its APIs live and how the
 * token travels; its collector module says how it speaks to them (dialects) and what it reads.
 * `defineCollector` joins the two, so the session every job needs (API callers with the token,
 * the shared call budget, timeouts and retries; the row builder; the summary) is built here once.
 */

/** How a collector speaks to one of its network's APIs. */
export interface ApiUse {
  /**
   * A fresh dialect per job: some keep state for one collection or read the job's clock. Absent
   * when the module makes one per call with `caller` (GA4's reads the quota its answers report).
   */
  dialect?: (context: CollectContext, config: Config) => ApiDialect
  /** Appended to the base URL (Graph's version, `/v25.0`). */
  path?: (config: Config) => string
  /** Headers besides the token (LinkedIn-Version). */
  headers?: (config: Config) => Record<string, string>
}

/** What one collection job works with. */
export interface Session<N extends Network> {
  /** The account's API id (page id, channel id, …). */
  accountId: string
  /** The account's settings, as the plan parsed them with the network's schema. */
  settings: NetworkSettings<N>
  /** One caller per API the network declares. */
  api: Record<ApiName<N>, ApiCaller>
  /** Builds a row with the session's API version (`observeAs` for another one: YouTube Analytics). */
  observe: ReturnType<typeof observationFactory>
  observeAs(apiVersion: string): ReturnType<typeof observationFactory>
  summary: CollectSummary
  /** Hands non-empty batches to the writer and counts them. */
  emit(rows: ObservationRow[]): Promise<void>
}

/** What a collector module's body gets. */
export interface CollectorKit<N extends Network> {
  config: Config
  /** The job's session; `apiVersion` is stamped on its rows (default: the collector's). */
  session(context: CollectContext, apiVersion?: string): Session<N>
  /** A caller for one API with a dialect of the module's own making (GA4 reads its quota from it). */
  caller(context: CollectContext, api: ApiName<N>, dialect: ApiDialect): ApiCaller
}

export interface CollectorSpec<N extends Network, T> {
  apis: Record<ApiName<N>, ApiUse>
  /** The version stamped on the rows (`api_version`). */
  apiVersion(config: Config): string
  build(kit: CollectorKit<N>, tuning: T): Omit<Collector, 'network' | 'apiVersion'>
}

/** A collector module's factory; `network` lets the registry check it sits under the right name. */
export interface CollectorFactory<N extends Network = Network, T = never> {
  (deps: CollectorDeps, tuning?: T): Collector
  network: N
}

export function defineCollector<N extends Network, T = Record<string, never>>(network: N, spec: CollectorSpec<N, T>): CollectorFactory<N, T> {
  const descriptor = NETWORK_DESCRIPTORS[network]
  const factory = (deps: CollectorDeps, tuning?: T): Collector => {
    const { config } = deps
    const apiVersion = spec.apiVersion(config)

    const caller = (context: CollectContext, name: ApiName<N>, dialect: ApiDialect): ApiCaller => {
      const endpoint = descriptor.apis[name]
      const use = spec.apis[name]
      if (!endpoint || !use) throw new Error(`${network} declares no API "${name}"`)
      const base = String(config[endpoint.urlEnv as keyof Config]).replace(/\/$/, '')
      const auth = endpoint.tokenHeader ? { [endpoint.tokenHeader]: context.token } : { Authorization: `Bearer ${context.token}` }
      return createApiCaller({
        gate: context.gate,
        observer: context.apiObserver,
        now: context.now,
        http: createHttp({
          baseURL: `${base}${use.path?.(config) ?? ''}`,
          timeoutMs: config.HTTP_TIMEOUT_MS,
          maxAnswerBytes: config.HTTP_MAX_ANSWER_BYTES,
          headers: { ...use.headers?.(config), ...auth },
        }),
        dialect,
        retry: deps.retry,
        sleep: deps.sleep,
      })
    }

    const session = (context: CollectContext, version = apiVersion): Session<N> => {
      const summary: CollectSummary = { observations: 0, skipped: [] }
      const observeAs = (v: string) => observationFactory(network, context.account.id, v, context.now())
      // Made on first use: a job may need one of two APIs (TikTok), or make its own (GA4).
      const api = {} as Record<ApiName<N>, ApiCaller>
      for (const name of Object.keys(spec.apis) as Array<ApiName<N>>) {
        let made: ApiCaller | undefined
        Object.defineProperty(api, name, {
          enumerable: true,
          get: () => {
            const dialect = spec.apis[name].dialect
            if (!dialect) throw new Error(`${network} makes the dialect of its API "${name}" per call: use caller()`)
            return (made ??= caller(context, name, dialect(context, config)))
          },
        })
      }
      return {
        accountId: context.account.apiId,
        settings: (context.account.settings ?? {}) as NetworkSettings<N>,
        api,
        observe: observeAs(version),
        observeAs,
        summary,
        async emit(rows) {
          if (rows.length === 0) return
          await context.emit(rows)
          summary.observations += rows.length
        },
      }
    }

    return { network, apiVersion, ...spec.build({ config, session, caller }, tuning ?? ({} as T)) }
  }
  return Object.assign(factory, { network })
}
