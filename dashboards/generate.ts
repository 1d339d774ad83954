/**
 * The generated dashboards, built with Grafana's own Foundation SDK (@grafana/grafana-foundation-sdk)
 * so that panels, variables and field options are typed by Grafana's schema rather than written
 * as JSON by hand; docs/dashboards.md says why. Each is a module in dashboards/boards/, listed in
 * its registry (dashboards/boards/index.ts); what they share is dashboards/parts.ts.
 * `npm run dashboards` writes them to dashboards/*.json (committed, provisioned as they are);
 * test/integration/dashboards.test.ts checks that the committed files are exactly what this
 * builds, lints them and runs every query on ClickHouse. kpi-overview.json and period-reviews.json
 * are older and hand-written.
 */
import { writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { GENERATED_DASHBOARDS } from './boards/index.ts'

/** Every generated dashboard, by file name under dashboards/, as the JSON text committed. */
export function generatedDashboards(): Record<string, string> {
  return Object.fromEntries(GENERATED_DASHBOARDS.map((board) => [board.file, `${JSON.stringify(board.build().build(), null, 2)}\n`]))
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = dirname(fileURLToPath(import.meta.url))
  for (const [file, text] of Object.entries(generatedDashboards())) {
    writeFileSync(join(dir, file), text)
    process.stdout.write(`wrote dashboards/${file}\n`)
  }
}
