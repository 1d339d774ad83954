import type { Command } from 'commander'
import { loadConfig } from '../../core/config.ts'
import { exitCodes } from '../output.ts'

async function sql(query: string, opts: { format: string }): Promise<void> {
  const { findData } = await import('../data-dir.ts')
  const config = loadConfig(await findData(process.env))
  const { openReader } = await import('../reader.ts')
  const reader = await openReader(config)
  try {
    process.stdout.write(await reader.text(query, opts.format))
  } finally {
    await reader.close()
  }
}

export function registerSqlCommand(program: Command): void {
  const command = program
    .command('sql')
    .description('run a query for analysts (works while start runs: in embedded mode it goes through the running process)')
    .argument('<query>', 'SQL, e.g. "SELECT network, metric, count() FROM metrics_daily GROUP BY ALL"')
    .option('-f, --format <format>', 'a ClickHouse output format: PrettyCompactMonoBlock, CSVWithNames, JSONEachRow, TSV, ...', 'PrettyCompactMonoBlock')
    .action(sql)
  exitCodes(command, { 1: "a refused or failed query (ClickHouse's message on one line), or another error" })
}
