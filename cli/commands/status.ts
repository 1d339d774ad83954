import type { Command } from 'commander'
import { processClock } from '../../core/clock.ts'
import { loadConfig } from '../../core/config.ts'
import { color, exitCodes, out } from '../output.ts'

async function status(): Promise<void> {
  const { findData } = await import('../data-dir.ts')
  const config = loadConfig(await findData(process.env))
  const now = processClock(config)()
  const { openReader } = await import('../reader.ts')
  const { formatStatus } = await import('../status.ts')
  const reader = await openReader(config)
  try {
    out(await formatStatus(reader, { color, now }))
  } finally {
    await reader.close()
  }
}

export function registerStatusCommand(program: Command): void {
  exitCodes(program.command('status').description('the KPI table (status, attainment, pace needed), open alerts, silences and source health').action(status))
}
