import type { Command } from 'commander'
import { loadConfig } from '../../core/config.ts'
import { SocialKpiError } from '../../core/errors.ts'
import { exitCodes, out } from '../output.ts'

async function queues(): Promise<void> {
  const config = loadConfig(process.env)
  const { findAdminServer, queueBoardLink } = await import('../admin-server.ts')
  const endpoint = await findAdminServer(config.dataDir)
  if (!endpoint) throw new SocialKpiError('NOT_RUNNING', `no running social-kpi start or worker for DATA_DIR (${config.dataDir}); the queue board is served by the running process`)
  const link = await queueBoardLink(endpoint)
  out(`Open in a browser on this machine within ${Math.round(link.expiresInSeconds / 60)} minutes (the link works once):`)
  out(`  ${link.url}`)
}

export function registerQueuesCommand(program: Command): void {
  const command = program.command('queues').description('a one-time link to the queue board (Bull Board) of the running process (embedded mode, like sql)').action(queues)
  exitCodes(command, { 1: 'no running process for DATA_DIR, or another error' })
}
