import type { Command } from 'commander'
import { loadConfig } from '../../core/config.ts'
import { createLogger, createScrubber } from '../../core/logger.ts'
import { exitCodes, out } from '../output.ts'

async function migrateCommand(): Promise<void> {
  const config = loadConfig(process.env)
  const logger = createLogger({ level: config.LOG_LEVEL, pretty: config.LOG_PRETTY, scrub: createScrubber(config.secretValues([])) })
  const { openClickHouse } = await import('../../core/clickhouse.ts')
  const { migrate, migrateOptions } = await import('../../core/migrations.ts')
  const ch = await openClickHouse({ url: config.CLICKHOUSE_URL, database: config.CLICKHOUSE_DATABASE, dataDir: config.dataDir })
  try {
    const result = await migrate(ch, logger, migrateOptions(config))
    out(`database ${ch.database}: ${result.applied.length} applied, ${result.alreadyApplied.length} already applied`)
    for (const name of result.applied) out(`  applied ${name}`)
    for (const name of result.recreated) out(`  created ${name} again: it was missing (it starts empty)`)
  } finally {
    await ch.close()
  }
}

export function registerMigrateCommand(program: Command): void {
  exitCodes(program.command('migrate').description('apply the ClickHouse migrations (safe to run twice)').action(migrateCommand))
}
