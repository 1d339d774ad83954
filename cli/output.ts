import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Option, type Command } from 'commander'
import type { SingleBar } from 'cli-progress'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
/** The example plan the demo runs when a command is given no --plan. */
export const DEMO_PLAN = join(ROOT, 'examples', 'plan.yaml')
export const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }

export const out = (line = '') => process.stdout.write(`${line}\n`)
export const color = process.stdout.isTTY === true

export const planOption = () => new Option('-p, --plan <file>', 'the social media plan (YAML or JSON); default: the demo')

/** Exit codes every command shares; a command adds its own meanings in its help. */
export const EXIT = { ok: 0, failed: 1, secondSignal: 130 } as const

/** Appends the command's exit codes to its --help. */
export function exitCodes(command: Command, codes: Partial<Record<number, string>> = {}): Command {
  const all: Record<number, string> = { [EXIT.ok]: 'done', [EXIT.failed]: 'an error (one line on stderr)', ...codes }
  return command.addHelpText(
    'after',
    `\nExit codes: ${Object.entries(all)
      .map(([code, meaning]) => `${code} ${meaning}`)
      .join('; ')}.`,
  )
}

/** A progress bar on stderr when it is a terminal; none otherwise (logs and pipes stay clean). */
export async function progressBar(format: string): Promise<SingleBar | undefined> {
  if (!process.stderr.isTTY) return undefined
  const { SingleBar, Presets } = await import('cli-progress')
  return new SingleBar({ format, hideCursor: true }, Presets.shades_classic)
}
