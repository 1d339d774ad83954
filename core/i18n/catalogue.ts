import { readdirSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'

/**
 * The message catalogues: one YAML file per language in core/i18n/messages/ (en.yaml, id.yaml),
 * ICU MessageFormat texts under nested keys. A third language is one more file: the list below
 * picks it up. `language.locale` in each file is the Intl locale its numbers and dates use.
 */
export interface Catalogue {
  /** The file's name: en, id. */
  code: string
  /** The Intl locale for numbers, dates and plural rules: en-GB, id-ID. */
  locale: string
  /** The language's own name: English, Bahasa Indonesia. */
  name: string
  /** Every message by its dotted key: `status.at_risk`. */
  messages: ReadonlyMap<string, string>
}

const DIRECTORY = join(fileURLToPath(new URL('.', import.meta.url)), 'messages')

function flatten(tree: unknown, prefix: string, into: Map<string, string>, file: string): void {
  if (typeof tree === 'string') {
    into.set(prefix, tree)
    return
  }
  if (tree === null || typeof tree !== 'object' || Array.isArray(tree)) throw new Error(`${file}: ${prefix || 'the file'} must be a text or a map of texts`)
  for (const [key, value] of Object.entries(tree)) flatten(value, prefix ? `${prefix}.${key}` : key, into, file)
}

function load(file: string): Catalogue {
  const path = join(DIRECTORY, file)
  const messages = new Map<string, string>()
  flatten(parse(readFileSync(path, 'utf8')), '', messages, path)
  const locale = messages.get('language.locale')
  const name = messages.get('language.name')
  if (!locale || !name) throw new Error(`${path}: language.locale and language.name are required`)
  return { code: basename(file, '.yaml'), locale, name, messages }
}

/** Every language we speak, by code; read once at start (a broken file stops the process with its path). */
export const CATALOGUES: ReadonlyMap<string, Catalogue> = new Map(
  readdirSync(DIRECTORY)
    .filter((file) => file.endsWith('.yaml'))
    .sort()
    .map((file) => {
      const catalogue = load(file)
      return [catalogue.code, catalogue] as const
    }),
)

/** The language codes, English first: what `company.language` accepts. */
export const LANGUAGES: readonly string[] = ['en', ...[...CATALOGUES.keys()].filter((code) => code !== 'en')]

export const isLanguage = (code: string): boolean => CATALOGUES.has(code)
