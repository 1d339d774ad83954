import type { Command } from 'commander'
import { processClock } from '../../core/clock.ts'
import { loadConfig } from '../../core/config.ts'
import { exitCodes, out } from '../output.ts'
import { untilSignal } from '../signals.ts'

async function simulator(opts: { port: string; seed: string }): Promise<void> {
  const { simulatorEnvironment, startSimulator, SIMULATOR_OAUTH_APPS } = await import('../../simulator/index.ts')
  const sim = await startSimulator({ port: Number(opts.port), seed: Number(opts.seed), now: processClock(loadConfig(process.env)) })
  // OAuth apps a user can connect with, as if registered with each network (docs/accounts.md).
  for (const app of SIMULATOR_OAUTH_APPS) sim.oauth.registerClient(app.network, { clientId: app.clientId, clientSecret: app.clientSecret })
  out(`API simulator listening at ${sim.url} (Graph API: ${sim.url}/v25.0/...). Ctrl-C to stop.`)
  out('Any token works except those starting with "expired" or "invalid".')
  out('To point social-kpi at it (collectors, and connect for OAuth accounts):')
  for (const [name, value] of Object.entries(simulatorEnvironment(sim.url))) out(`  export ${name}=${value}`)
  out('OAuth apps it knows, for social-kpi connect (client id / secret; also set TOKEN_STORE_KEY, made with: openssl rand -base64 32):')
  for (const app of SIMULATOR_OAUTH_APPS) out(`  ${app.network}: ${app.clientId} / ${app.clientSecret}`)
  await untilSignal()
  await sim.close()
}

export function registerSimulatorCommand(program: Command): void {
  const command = program
    .command('simulator')
    .description('serve the simulated social network APIs on loopback, for trying collectors without real accounts')
    .option('--port <port>', 'port on 127.0.0.1', '4010')
    .option('--seed <seed>', 'scenario seed (same seed, same data)', '42')
    .action(simulator)
  exitCodes(command, { 0: 'stopped by SIGINT/SIGTERM', 130: 'a second signal ended it at once' })
}
