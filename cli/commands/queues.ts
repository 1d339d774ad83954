import type { Command } from 'commander'
import { loadConfig } from '../../core/config.ts'
import { exitCodes, out } from '../output.ts'

async function queues(): Promise<void> {
  const { findData, notRunningError } = await import('../data-dir.ts')
  const config = loadConfig(await findData(process.env, { running: true }))
  const { findAdminServer, queueBoardLink } = await import('../admin-server.ts')
  const endpoint = await findAdminServer(config.dataDir)
  if (!endpoint) throw notRunningError(config.dataDir)
  const link = await queueBoardLink(endpoint)
  out(`Open in a browser on this machine within ${Math.round(link.expiresInSeconds / 60)} minutes (the link works once):`)
  out(`  ${link.url}`)
}

export function registerQueuesCommand(program: Command): void {
  const command = program.command('queues').description('a one-time link to the queue board (Bull Board) of the running process (embedded mode, like sql)').action(queues)
  exitCodes(command, { 1: 'no running process for DATA_DIR, or another error' })
}
