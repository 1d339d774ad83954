// A preload for spawned CLI processes (`node --import ./test/helpers/loaded-modules.mjs bin/…`):
// when the process exits, it writes the files of every module it loaded, one per line, to file
// descriptor 3 when the parent opened one (and does nothing otherwise). ES modules are recorded
// by a resolve hook, CommonJS ones (chdb, ioredis) from require.cache; a native addon is a .node
// file in the latter.
import { writeSync } from 'node:fs'
import { createRequire, register } from 'node:module'
import { MessageChannel } from 'node:worker_threads'

const hooks = `
let port
export function initialize(data) { port = data.port }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context)
  port.postMessage(result.url)
  return result
}
`
const esm = new Set()
const { port1, port2 } = new MessageChannel()
port1.on('message', (url) => esm.add(url))
port1.unref()
register(`data:text/javascript,${encodeURIComponent(hooks)}`, { data: { port: port2 }, transferList: [port2] })

process.on('exit', () => {
  const cjs = Object.keys(createRequire(import.meta.url).cache)
  const files = [...new Set([...esm].map((url) => (url.startsWith('file://') ? new URL(url).pathname : url)).concat(cjs))]
  try {
    writeSync(3, `${files.join('\n')}\n`)
  } catch {
    // no descriptor 3: nobody asked
  }
})
