import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { chmodSync, closeSync, createWriteStream, existsSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import { createServer, type AddressInfo, type Server } from 'node:net'
import { join, resolve } from 'node:path'
import { SMTPServer } from 'smtp-server'
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { redisAnswers } from '../../core/redis.ts'
import { cliSandbox, runCliAsync, type CliResult } from '../helpers/cli.ts'
import { until } from '../helpers/until.ts'

/**
 * Bad settings and bad input at the edges, as a user meets them with the real CLI: a server that
 * is not there, not what it should be or refuses us, a DATA_DIR that cannot be used or is held by
 * another process, a plan file that is not a plan. Each is one plain line naming the variable or
 * the path (a plan's problems: one line per problem under the file's name), exit code 1, no stack
 * trace. And the commands that need no database do not load the engine. All servers on loopback.
 * (test/integration/startup-failures.test.ts covers `start` against a closed CLICKHOUSE_URL, an
 * invalid SMTP_URL, a taken ADMIN_PORT and two starts on one DATA_DIR.)
 */
const sandbox = cliSandbox('edge')
const servers: Array<{ close(callback?: () => void): unknown }> = []
let redisWithPassword: ChildProcess | undefined
const closeAll = async () => {
  for (const server of servers) await new Promise<void>((resolve) => server.close(() => resolve()))
  if (redisWithPassword && redisWithPassword.exitCode === null) {
    const exited = new Promise((resolve) => redisWithPassword!.once('exit', resolve))
    redisWithPassword.kill('SIGTERM')
    await exited
  }
  sandbox.cleanup()
}
afterAll(closeAll)

const env = sandbox.environment
/** `text` as a regular expression that matches it literally. */
const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
const port = (server: { address(): AddressInfo | string | null }) => (server.address() as AddressInfo).port

async function listening<T extends Server | ReturnType<typeof createHttpServer>>(server: T): Promise<T> {
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return server
}

/** A free loopback port (for a server started by the test). */
async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const free = port(probe)
  await new Promise((resolve) => probe.close(resolve))
  return free
}

/** The shape every refusal has: exit 1, exactly one line on stderr, no stack trace. */
function expectOneLine(result: CliResult, line: RegExp) {
  expect(result.signal, result.stderrLines.join('\n')).toBeNull()
  expect(result.code, result.stderrLines.join('\n')).toBe(1)
  expect(result.stderrLines).toEqual([expect.stringMatching(line)])
  expect(result.stderrLines.some((l) => /^\s+at /.test(l))).toBe(false)
}

let notClickHouse: number
let refusingClickHouse: number
let notRedis: number
let passwordRedis: number
let refusingSmtp: number
let plainSmtp: number

beforeAll(async () => {
  // An HTTP server that is not ClickHouse, and one that answers as ClickHouse does to a wrong
  // password (its HTTP interface: the exception text, and its code in a header).
  notClickHouse = port(await listening(createHttpServer((_req, res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<!DOCTYPE HTML>\n<html><body>Not Found</body></html>\n'))))
  refusingClickHouse = port(
    await listening(
      createHttpServer((_req, res) =>
        res
          .writeHead(516, { 'X-ClickHouse-Exception-Code': '516', 'content-type': 'text/plain' })
          .end('Code: 516. DB::Exception: analyst: Authentication failed: password is incorrect, or there is no user with such name. (AUTHENTICATION_FAILED) (version 24.8.4.13 (official build))\n'),
      ),
    ),
  )
  // A TCP server that answers Redis's first command with HTTP.
  notRedis = port(
    await listening(
      createServer((socket) => {
        socket.on('error', () => undefined)
        socket.once('data', () => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'))
      }),
    ),
  )
  // A real Redis that wants a password. It is infrastructure, not code under test: under
  // libfaketime (CI's second run) it starts without the preloaded library, which stalls it.
  passwordRedis = await freePort()
  const serverEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'LD_PRELOAD' && !name.startsWith('FAKETIME')))
  redisWithPassword = spawn('redis-server', ['--port', String(passwordRedis), '--bind', '127.0.0.1', '--requirepass', 'right-password', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
    env: serverEnv,
  })
  await until('the password-protected redis-server', () => redisAnswers(`redis://:right-password@127.0.0.1:${passwordRedis}`, 300), 10_000)
  // Real SMTP servers: one that refuses every login, one without TLS.
  const refusing = new SMTPServer({ logger: false, disabledCommands: ['STARTTLS'], onAuth: (_auth, _session, callback) => callback(new Error('invalid credentials')) })
  servers.push(refusing)
  await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve))
  refusingSmtp = port(refusing.server)
  const plain = new SMTPServer({ logger: false, disabledCommands: ['STARTTLS'], authOptional: true })
  servers.push(plain)
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve))
  plainSmtp = port(plain.server)
}, 30_000)

describe('ClickHouse that cannot be used: one line naming CLICKHOUSE_URL', () => {
  it.each([['migrate'], ['sql', 'SELECT 1'], ['status'], ['collect', '--once']])('nothing answers: %s', async (...args) => {
    expectOneLine(await runCliAsync(args, env({ CLICKHOUSE_URL: 'http://127.0.0.1:1' })), /^error: CLICKHOUSE_URL \(127\.0\.0\.1:1\): nothing answers \(ECONNREFUSED\)$/)
  })

  it('something that is not ClickHouse answers (instead of its HTML page)', async () => {
    expectOneLine(
      await runCliAsync(['migrate'], env({ CLICKHOUSE_URL: `http://127.0.0.1:${notClickHouse}` })),
      /^error: CLICKHOUSE_URL \(127\.0\.0\.1:\d+\): something answers there that is not ClickHouse/,
    )
  })

  it('https:// to a server without TLS', async () => {
    expectOneLine(await runCliAsync(['status'], env({ CLICKHOUSE_URL: `https://127.0.0.1:${notClickHouse}` })), /^error: CLICKHOUSE_URL \(127\.0\.0\.1:\d+\): the TLS handshake failed \(EPROTO\)/)
  })

  it('ClickHouse refuses the password: by its error type, with what to check', async () => {
    const result = await runCliAsync(['sql', 'SELECT 1'], env({ CLICKHOUSE_URL: `http://analyst:wrong-password@127.0.0.1:${refusingClickHouse}` }))
    expectOneLine(result, /^error: CLICKHOUSE_URL \(127\.0\.0\.1:\d+\): ClickHouse refused the user or password \(AUTHENTICATION_FAILED\); check the user and password in CLICKHOUSE_URL$/)
  })

  it('with LOG_LEVEL=debug the same line comes first, then the details', async () => {
    const result = await runCliAsync(['migrate'], env({ CLICKHOUSE_URL: 'http://127.0.0.1:1', LOG_LEVEL: 'debug' }))
    expect(result.code).toBe(1)
    expect(result.stderrLines[0]).toBe('error: CLICKHOUSE_URL (127.0.0.1:1): nothing answers (ECONNREFUSED)')
    expect(result.stderrLines).toContainEqual(expect.stringMatching(/^caused by: .*ECONNREFUSED/))
  })
})

describe('Redis that cannot be used: one line naming REDIS_URL', () => {
  it('nothing answers, and no private Redis may be started', async () => {
    const result = await runCliAsync(['start', '--plan', 'examples/plan.yaml'], env({ REDIS_URL: 'redis://127.0.0.1:1', START_PRIVATE_REDIS: 'false' }))
    expectOneLine(result, /^error: REDIS_URL \(127\.0\.0\.1:1\): nothing answers \(ECONNREFUSED\); start Redis or point REDIS_URL at one$/)
  })

  it('Redis asks for a password the URL does not give (not mistaken for "nothing answers")', async () => {
    const result = await runCliAsync(['collect', '--once'], env({ REDIS_URL: `redis://127.0.0.1:${passwordRedis}` }))
    expectOneLine(result, /^error: REDIS_URL \(127\.0\.0\.1:\d+\): Redis asks for a password \(NOAUTH\)/)
  })

  it('Redis refuses the password', async () => {
    const result = await runCliAsync(['start', '--plan', 'examples/plan.yaml'], env({ REDIS_URL: `redis://:wrong-password@127.0.0.1:${passwordRedis}` }))
    expectOneLine(result, /^error: REDIS_URL \(127\.0\.0\.1:\d+\): Redis refused the user or password \(WRONGPASS\); check them in REDIS_URL$/)
    expect(result.stderrLines[0]).not.toContain('wrong-password')
  })

  it('Redis refuses the database number', async () => {
    const result = await runCliAsync(['collect', '--once'], env({ REDIS_URL: `redis://:right-password@127.0.0.1:${passwordRedis}/99` }))
    expectOneLine(result, /^error: REDIS_URL \(127\.0\.0\.1:\d+\): Redis refused: ERR DB index is out of range$/)
  })

  it('something that is not Redis answers', async () => {
    const result = await runCliAsync(['collect', '--once'], env({ REDIS_URL: `redis://127.0.0.1:${notRedis}` }))
    expectOneLine(result, /^error: REDIS_URL \(127\.0\.0\.1:\d+\): something there accepts connections but does not speak Redis/)
  })
})

describe('SMTP that cannot be used: start refuses with one line naming SMTP_URL', () => {
  it('nothing answers', async () => {
    const result = await runCliAsync(['start', '--plan', 'examples/plan.yaml'], env({ SMTP_URL: 'smtp://127.0.0.1:1' }))
    expectOneLine(result, /^error: SMTP_URL \(127\.0\.0\.1:1\): nothing answers \(ECONNREFUSED\)$/)
    expect(result.stdout).not.toContain('Running')
  })

  it('the mail server refuses the login', async () => {
    const result = await runCliAsync(['worker', '--plan', 'examples/plan.yaml'], env({ SMTP_URL: `smtp://alerts:wrong-password@127.0.0.1:${refusingSmtp}` }))
    expectOneLine(result, /^error: SMTP_URL \(127\.0\.0\.1:\d+\): the mail server refused the login \(SMTP 535\); check the user and password in SMTP_URL$/)
    expect(result.stderrLines[0]).not.toContain('wrong-password')
  })

  it('smtps:// to a server without TLS', async () => {
    const result = await runCliAsync(['collect', '--once'], env({ SMTP_URL: `smtps://127.0.0.1:${plainSmtp}` }))
    expectOneLine(result, /^error: SMTP_URL \(127\.0\.0\.1:\d+\): the TLS handshake failed \(ERR_SSL_WRONG_VERSION_NUMBER\)/)
  })
})

describe('a channel whose variable is not set', () => {
  it('plan validate warns and start refuses with one line, leaving nothing behind in DATA_DIR', async () => {
    const dir = sandbox.tempDir()
    const planFile = join(dir, 'plan.yaml')
    const plan = parseYaml(readFileSync('examples/plan.yaml', 'utf8')) as { alerting: Record<string, unknown> }
    plan.alerting.channels = { team: { type: 'slack', urlEnv: 'TEAM_SLACK_URL' } }
    writeFileSync(planFile, stringifyYaml(plan))
    const validated = await runCliAsync(['plan', 'validate', planFile], env({}))
    expect(validated.code).toBe(0)
    expect(validated.stdout).toContain('  warning: alerting.channels.team.urlEnv: TEAM_SLACK_URL is not set in this environment; `start` refuses to run without it')
    const dataDir = join(dir, 'data')
    const started = await runCliAsync(['start', '--plan', planFile], env({ DATA_DIR: dataDir }))
    expectOneLine(started, /^error: alerting\.channels\.team\.urlEnv: the environment variable TEAM_SLACK_URL is not set$/)
    expect(existsSync(join(dataDir, 'outbox'))).toBe(false)
  })
})

describe('SIGTERM while start waits for a mail server that never answers', () => {
  it('stops at once and cleanly: the check lets go of its connection', async () => {
    let connected!: () => void
    const reached = new Promise<void>((resolve) => (connected = resolve))
    // Accepts and never greets.
    const silent = await listening(createServer(() => connected()))
    const child = spawn(process.execPath, ['bin/social-kpi.js', 'start', '--plan', 'examples/plan.yaml'], {
      env: env({ SMTP_URL: `smtp://127.0.0.1:${port(silent)}` }),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
    try {
      await reached
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
      expect(stdout).toContain('SIGTERM: stopping')
      expect(stdout).not.toContain('Running:')
      // Without letting go, the process would say what still holds it ("note: still open …").
      expect(stderr).toBe('')
    } finally {
      child.kill('SIGKILL')
    }
  })
})

describe('a DATA_DIR that cannot be used: one line naming DATA_DIR and what is wrong', () => {
  it('DATA_DIR is a file', async () => {
    const file = join(sandbox.tempDir(), 'data')
    writeFileSync(file, '')
    // Without QUEUE_PREFIX the queue names come from DATA_DIR too (its instance-id): the first thing that touches it.
    expectOneLine(
      await runCliAsync(['start', '--plan', 'examples/plan.yaml'], env({ DATA_DIR: file, QUEUE_PREFIX: '' })),
      new RegExp(`^error: DATA_DIR \\(${literal(file)}\\): it is a file, not a directory \\(EEXIST\\)$`),
    )
    expectOneLine(await runCliAsync(['collect', '--once'], env({ DATA_DIR: file })), new RegExp(`^error: DATA_DIR \\(${literal(file)}\\): it is a file, not a directory \\(EEXIST\\)$`))
  })

  it('DATA_DIR is below a file', async () => {
    const file = join(sandbox.tempDir(), 'data')
    writeFileSync(file, '')
    expectOneLine(await runCliAsync(['migrate'], env({ DATA_DIR: join(file, 'below') })), /^error: DATA_DIR \(.*\/data\/below\): a part of the path is a file, not a directory \(ENOTDIR\)$/)
  })

  it('DATA_DIR where no directory can be made (under /proc): one line, at once, not a loop that ignores signals', async () => {
    expectOneLine(
      await runCliAsync(['collect', '--once'], env({ DATA_DIR: '/proc/social-kpi-data' })),
      /^error: DATA_DIR \(\/proc\/social-kpi-data\): the directory cannot be created there \(ENOENT\); choose a directory on a disk$/,
    )
  })

  it("the engine's directory in it is a file", async () => {
    const dir = sandbox.tempDir()
    writeFileSync(join(dir, 'clickhouse'), '')
    expectOneLine(await runCliAsync(['sql', 'SELECT 1'], env({ DATA_DIR: dir })), new RegExp(`^error: DATA_DIR \\(${literal(dir)}\\): clickhouse: it is a file, not a directory \\(EEXIST\\)$`))
  })

  // Root may write anywhere, so as root the CLI runs as nobody, which needs to reach the project
  // (a checkout under a private directory, such as a fresh mktemp clone, it cannot).
  const asRoot = process.getuid?.() === 0
  const nobodyReaches =
    !asRoot || spawnSync(process.execPath, ['-e', 'require("fs").accessSync(process.argv[1], require("fs").constants.R_OK)', resolve('bin/social-kpi.js')], { uid: 65534, gid: 65534 }).status === 0
  it.skipIf(!nobodyReaches)('DATA_DIR this user may not write', async () => {
    const dir = sandbox.tempDir()
    chmodSync(dir, 0o755)
    const readOnly = join(dir, 'read-only')
    mkdirSync(readOnly, { mode: 0o555 })
    chmodSync(readOnly, 0o555)
    const result = await runCliAsync(['migrate'], env({ DATA_DIR: readOnly, HOME: dir }), asRoot ? { uid: 65534, gid: 65534 } : {})
    expectOneLine(result, new RegExp(`^error: DATA_DIR \\(${literal(readOnly)}\\): permission denied \\(EACCES\\)$`))
  })
})

describe('a second process on the same embedded data', () => {
  it('is refused with one line naming DATA_DIR and the process holding it', async () => {
    const dir = sandbox.tempDir()
    // This test's own process stands for the other one: alive, and not the CLI.
    writeFileSync(join(dir, 'clickhouse.lock'), `${process.pid}\n`)
    for (const args of [['migrate'], ['collect', '--once']]) {
      expectOneLine(
        await runCliAsync(args, env({ DATA_DIR: dir })),
        new RegExp(
          `^error: DATA_DIR \\(${literal(dir)}\\): another social-kpi process \\(pid ${process.pid}\\) is running on it and holds its embedded ClickHouse; stop it first or use another DATA_DIR`,
        ),
      )
    }
  })

  it('a lock left by a process that is gone does not block', async () => {
    const dir = sandbox.tempDir()
    // A pid no process has (above the kernel's maximum).
    writeFileSync(join(dir, 'clickhouse.lock'), '4194305\n')
    const result = await runCliAsync(['migrate'], env({ DATA_DIR: dir }), { limitMs: 60_000 })
    expect(result.stderrLines).toEqual([])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/database social_kpi: \d+ applied/)
  }, 90_000)
})

describe('plan files that are not plans', () => {
  /** A plan's refusal: its file, then one line per problem, exit 1, no stack. */
  function expectPlanProblem(result: CliResult, file: string, problem: RegExp) {
    expect(result.code).toBe(1)
    expect(result.stderrLines).toEqual([`${file}: the plan is not valid:`, expect.stringMatching(problem)])
  }

  it('a 2 MB file is refused for its size before it is parsed', async () => {
    const file = join(sandbox.tempDir(), 'huge.yaml')
    // Not YAML from its first line: parsed, it would be refused for that instead.
    const start = 'company: [\n'
    writeFileSync(file, `${start}${'#'.repeat(2 * 1024 * 1024 - start.length - 1)}\n`)
    expectPlanProblem(await runCliAsync(['plan', 'validate', file], env()), file, /^ {2}the file is 2\.0 MB; a plan is at most 1 MB \(1,048,576 bytes\) of YAML or JSON text: is it the right file\?$/)
  })

  it('a 50 MB file is refused from its size on disk, without reading it', async () => {
    const file = join(sandbox.tempDir(), 'sparse.yaml')
    // Sparse: 50 MB of NUL bytes that take no room. Read, they would be refused as binary.
    const fd = openSync(file, 'w')
    ftruncateSync(fd, 50 * 1024 * 1024)
    closeSync(fd)
    expectPlanProblem(await runCliAsync(['start', '--plan', file], env()), file, /^ {2}the file is 50\.0 MB; a plan is at most 1 MB/)
  })

  it('a pipe is read up to the limit and no further', async () => {
    const fifo = join(sandbox.tempDir(), 'plan.yaml')
    execFileSync('mkfifo', [fifo])
    const running = runCliAsync(['plan', 'validate', fifo], env())
    // An endless writer: the CLI stops reading past 1 MB, and the write then fails (EPIPE).
    const writer = createWriteStream(fifo)
    writer.on('error', () => undefined)
    const line = Buffer.from('# filler\n'.repeat(1024))
    const write = () => {
      while (!writer.destroyed && writer.write(line));
    }
    writer.on('drain', write)
    writer.on('open', write)
    const result = await running
    writer.destroy()
    expectPlanProblem(result, fifo, /^ {2}the file is over 1 MB; a plan is at most 1 MB/)
  })

  it.each([
    ['list.yaml', '- company: { name: Kopi }\n- kpis: []\n', 'a list'],
    ['list.json', '[{ "company": { "name": "Kopi" } }]', 'a list'],
    ['words.yaml', 'our plan is to grow\n', 'a single text'],
    ['number.yaml', '42\n', 'a single number'],
  ])('%s says what the top level must be', async (name, content, holds) => {
    const file = join(sandbox.tempDir(), name)
    writeFileSync(file, content)
    expectPlanProblem(
      await runCliAsync(['plan', 'validate', file], env()),
      file,
      new RegExp(`^ {2}the top level must be a mapping with company, objectives, strategy, kpis and alerting \\(see examples/plan\\.yaml\\); this file holds ${holds}$`),
    )
  })

  it('a binary file is not a text file', async () => {
    const file = join(sandbox.tempDir(), 'plan.yaml')
    // The start of a PNG image, as when the wrong attachment is saved under the plan's name.
    writeFileSync(file, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52]))
    expectPlanProblem(await runCliAsync(['plan', 'validate', file], env()), file, /^ {2}this is not a text file \(byte 8 is NUL\); a plan is YAML or JSON text$/)
  })

  it('text that is not UTF-8 is not a text file either', async () => {
    const file = join(sandbox.tempDir(), 'latin1.yaml')
    writeFileSync(file, Buffer.from('company:\n  name: Caf\xe9\n', 'latin1'))
    expectPlanProblem(await runCliAsync(['plan', 'validate', file], env()), file, /^ {2}this is not a text file \(it is not UTF-8\)/)
  })
})

describe('commands that need no database do not load it', () => {
  // Every module the process loaded, reported on descriptor 3 by a preload (test/helpers/loaded-modules.mjs).
  const loaded = async (args: string[], extra: Record<string, string> = {}) => {
    const result = await runCliAsync(args, env(extra), { nodeArgs: ['--import', './test/helpers/loaded-modules.mjs'], limitMs: 60_000 })
    expect(result.stderrLines).toEqual([])
    expect(result.code).toBe(0)
    return result.fd3.split('\n').filter(Boolean)
  }
  const engine = (files: string[]) => files.filter((file) => /\/node_modules\/(chdb|@chdb)\//.test(file))
  const native = (files: string[]) => files.filter((file) => file.endsWith('.node'))
  const heavy = (files: string[]) => files.filter((file) => /\/node_modules\/(bullmq|@clickhouse|@resvg)\//.test(file))

  it('the report lists the engine when a command opens it', async () => {
    const files = await loaded(['migrate'])
    expect(engine(files).length).toBeGreaterThan(0)
    expect(native(files)).toContainEqual(expect.stringMatching(/chdb.*\.node$/))
  }, 90_000)

  it.each([
    ['plan validate', ['plan', 'validate', 'examples/plan.yaml']],
    ['--help', ['--help']],
    ['report --help', ['report', '--help']],
    ['accounts', ['accounts', '--plan', 'examples/plan.yaml']],
  ])('%s loads neither the engine nor any native code, nor the queues', async (_name, args) => {
    const files = await loaded(args)
    expect(files).toContainEqual(expect.stringMatching(/\/plan\/plan\.ts$/))
    expect(engine(files)).toEqual([])
    expect(native(files)).toEqual([])
    expect(heavy(files)).toEqual([])
  })
})
