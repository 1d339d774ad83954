import { Command } from 'commander'
import { PlanError, SocialKpiError } from '../core/errors.ts'
import { scrubSecrets } from '../core/logger.ts'
import { registerBackfillCommand } from './commands/backfill.ts'
import { registerCollectCommand } from './commands/collect.ts'
import { registerCredentialCommands } from './commands/credentials.ts'
import { registerEvaluateCommand } from './commands/evaluate.ts'
import { registerMigrateCommand } from './commands/migrate.ts'
import { registerPlanCommands } from './commands/plan.ts'
import { registerQueuesCommand } from './commands/queues.ts'
import { registerReportCommand } from './commands/report.ts'
import { registerServiceCommands } from './commands/service.ts'
import { registerSilenceCommands } from './commands/silence.ts'
import { registerSimulatorCommand } from './commands/simulator.ts'
import { registerSqlCommand } from './commands/sql.ts'
import { registerStatusCommand } from './commands/status.ts'
import { EXIT, version } from './output.ts'

// Each command is a module under cli/commands/ with its own options, help and exit codes. They
// import only what every command needs at the top (the plan, the environment, errors and logs);
// the rest (the embedded engine, queues and workers, collectors, the simulator) is imported by
// the action that uses it, so `plan validate`, `--help`, `connect` and `accounts` start in a
// fraction of the time and memory (test/integration/edge-errors.test.ts checks that the engine
// stays out of `plan validate`).

/** In the order `--help` lists them. */
const COMMANDS: Array<(program: Command) => void> = [
  registerServiceCommands,
  registerMigrateCommand,
  registerCollectCommand,
  registerEvaluateCommand,
  registerBackfillCommand,
  registerPlanCommands,
  registerSqlCommand,
  registerQueuesCommand,
  registerStatusCommand,
  registerSilenceCommands,
  registerCredentialCommands,
  registerReportCommand,
  registerSimulatorCommand,
]

function buildProgram(): Command {
  const program = new Command('social-kpi')
    .description('Turns a social media plan into KPIs that watch themselves: collect, store in ClickHouse, evaluate, alert.')
    .version(version)
    .showHelpAfterError()
    .addHelpText(
      'after',
      '\nWithout --plan, every command that takes one runs the demo: the example plan against the built-in API simulator, its data in ./data/demo.\nWithout DATA_DIR, status, sql, queues and silence read ./data, or ./data/demo when only the demo has data.\nEnvironment: REDIS_URL, CLICKHOUSE_URL, DATA_DIR, SMTP_URL, FACEBOOK_GRAPH_URL, LOG_LEVEL (see README).',
    )
  for (const register of COMMANDS) register(program)
  return program
}

async function main() {
  // `social-kpi sql ... | head` closes the pipe early; that is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0)
    throw error
  })
  try {
    await buildProgram().parseAsync(process.argv)
  } catch (error) {
    // One plain line (a plan's problems are listed, one per line); the stack and causes only on request.
    if (error instanceof PlanError) {
      process.stderr.write(`${error.message}\n`)
    } else if (error instanceof SocialKpiError) {
      process.stderr.write(scrubSecrets(`error: ${error.message}\n`))
    } else {
      const message = error instanceof Error ? error.message : String(error)
      process.stderr.write(
        scrubSecrets(
          `error: ${
            message
              .split('\n')
              .find((line) => line.trim())
              ?.trim() ?? 'unknown error'
          }\n`,
        ),
      )
    }
    if (['debug', 'trace'].includes(process.env.LOG_LEVEL ?? '')) process.stderr.write(scrubSecrets(errorDetails(error)))
    process.exitCode = EXIT.failed
  }
  // Everything the command opened is closed by now. Should something still hold the process, that
  // is a bug: say what it is, and exit rather than hang.
  setTimeout(() => {
    const open = process.getActiveResourcesInfo().filter((resource) => resource !== 'Timeout')
    process.stderr.write(`note: still open ${EXIT_GRACE_MS / 1000} s after the command ended (${open.join(', ') || 'unknown'}); exiting\n`)
    process.exit()
  }, EXIT_GRACE_MS).unref()
}

const EXIT_GRACE_MS = 3_000

/** With LOG_LEVEL=debug: the stack of an error and of each of its causes. */
function errorDetails(error: unknown): string {
  let text = ''
  for (let current: unknown = error, depth = 0; current !== undefined && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    text += `${depth === 0 ? '' : 'caused by: '}${current instanceof Error ? (current.stack ?? current.message) : String(current)}\n`
  }
  return text
}

await main()
