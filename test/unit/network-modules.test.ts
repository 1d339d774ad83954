import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../core/config.ts'
import { apiUrlVariables, NETWORK_DESCRIPTORS, NETWORKS } from '../../core/metrics.ts'
import { COLLECTOR_MODULES } from '../../ingest/collectors/index.ts'
import { SIMULATOR_MODULES, simulatorEnvironment } from '../../simulator/networks.ts'

/**
 * A network is three modules: its descriptor (core/networks/), its collector (ingest/collectors/)
 * and its simulator (simulator/). These checks fail, naming the network, when one is missing or
 * they disagree about the network's APIs (README, "Add a network").
 */
const CONTEXT = { seed: 42, today: Date.UTC(2026, 10, 26), callsPerHour: 4800 }

describe('every network is a descriptor, a collector module and a simulator module', () => {
  it.each(NETWORKS)('%s has a collector module registered under its name', (network) => {
    expect(COLLECTOR_MODULES[network], `ingest/collectors/index.ts lists no collector for ${network}`).toBeTypeOf('function')
    expect(COLLECTOR_MODULES[network].network).toBe(network)
  })

  it.each(NETWORKS)('%s has a simulator module that serves every API its descriptor declares', (network) => {
    const simulator = SIMULATOR_MODULES[network]
    expect(simulator, `simulator/networks.ts lists no simulator for ${network}`).toBeDefined()
    expect(simulator.network).toBe(network)
    expect(Object.keys(simulator.mounts).sort()).toEqual(Object.keys(NETWORK_DESCRIPTORS[network].apis).sort())
  })

  it.each(NETWORKS)("%s: each mount is answered by the network's own routes, not another's", (network) => {
    const all = NETWORKS.map((n) => ({ n, served: SIMULATOR_MODULES[n].serve(CONTEXT) }))
    const prefixes: Array<{ n: string; prefix: string }> = all.flatMap(({ n, served }) =>
      'routes' in served ? served.routes.map((r) => ({ n: n as string, prefix: r.prefix })) : [{ n: 'graph', prefix: '/' }],
    )
    for (const path of Object.values(SIMULATOR_MODULES[network].mounts) as string[]) {
      // The dispatcher's rule: the longest matching prefix wins.
      const answering = prefixes.filter((p) => `${path}/`.startsWith(p.prefix)).sort((a, b) => b.prefix.length - a.prefix.length)[0]
      const own = all.find((entry) => entry.n === network)!.served
      expect(answering?.n, `${network} mounts ${JSON.stringify(path)}`).toBe('routes' in own ? network : 'graph')
    }
  })

  it("points each API's base-URL variable at the simulator, and config parses it with the descriptor's default", () => {
    const env = simulatorEnvironment('http://127.0.0.1:1')
    const config = loadConfig({ QUEUE_PREFIX: 'network-modules' })
    for (const [name, { defaultUrl, networks }] of Object.entries(apiUrlVariables())) {
      expect(env[name], `${name} (${networks.join(', ')})`).toMatch(/^http:\/\/127\.0\.0\.1:1(\/|$)/)
      expect(config[name as keyof typeof config]).toBe(defaultUrl)
    }
    expect(loadConfig({ QUEUE_PREFIX: 'network-modules', ...env }).X_API_URL).toBe('http://127.0.0.1:1/x')
  })

  it('covers the authorization servers of every OAuth network', () => {
    const env = simulatorEnvironment('http://127.0.0.1:1')
    for (const network of NETWORKS) {
      const oauth = NETWORK_DESCRIPTORS[network].auth?.oauth
      if (!oauth) continue
      expect(env[oauth.authorize.baseUrlKey], `${network} authorize`).toBeDefined()
      expect(env[oauth.token.baseUrlKey], `${network} token`).toBeDefined()
    }
  })
})
