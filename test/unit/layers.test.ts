import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

/**
 * Layers import downward only (cli → workers → alerts → kpi/ingest → plan → core, README "Layout").
 * Each source folder has a rank; a module may import its own folder or one of a lower rank, type
 * imports included (a type from above is a dependency on above too). kpi/kinds sits under the
 * plan because the plan's `kind` is checked against the kinds registry.
 */
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const LAYERS: Array<{ folder: string; rank: number }> = [
  { folder: 'core', rank: 0 },
  { folder: 'kpi/kinds', rank: 1 },
  { folder: 'plan', rank: 2 },
  { folder: 'kpi', rank: 3 },
  { folder: 'ingest', rank: 3 },
  { folder: 'simulator', rank: 3 },
  { folder: 'alerts', rank: 4 },
  { folder: 'dashboards', rank: 4 },
  { folder: 'workers', rank: 5 },
  { folder: 'cli', rank: 6 },
]

/** The layer of a repository path: the longest folder it lies in. */
const layerOf = (path: string) => LAYERS.filter((layer) => path === layer.folder || path.startsWith(`${layer.folder}/`)).sort((a, b) => b.folder.length - a.folder.length)[0]

function sourceFiles(folder: string): string[] {
  return readdirSync(join(REPO, folder), { withFileTypes: true }).flatMap((entry) => {
    const path = `${folder}/${entry.name}`
    if (entry.isDirectory()) return sourceFiles(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

/** Relative module specifiers of a file: static imports and re-exports, and `import('…')`. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(REPO, file), 'utf8')
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"\n]*?(?:\n[^'"\n]*?)*?from\s*['"](\.[^'"]+)['"]|\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/g)].map((m) => (m[1] ?? m[2])!)
}

const files = LAYERS.filter((layer) => !layer.folder.includes('/')).flatMap((layer) => sourceFiles(layer.folder))

describe('layers', () => {
  it('finds the modules and their imports', () => {
    expect(files).toContain('plan/plan.ts')
    expect(importsOf('kpi/evaluate.ts')).toContain('../plan/plan.ts')
    expect(importsOf('cli/session.ts')).toContain('../simulator/index.ts') // a dynamic import
  })

  it('no module imports from a layer above its own', () => {
    const upward: string[] = []
    for (const file of files) {
      const from = layerOf(file)!
      for (const specifier of importsOf(file)) {
        const target = relative(REPO, normalize(join(REPO, dirname(file), specifier)))
        const to = layerOf(target)
        if (!to || to.folder === from.folder || to.rank < from.rank) continue
        upward.push(`${file} (${from.folder}) imports ${target} (${to.folder})`)
      }
    }
    expect(upward).toEqual([])
  })
})
