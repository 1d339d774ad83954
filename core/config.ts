import { randomBytes } from 'node:crypto'
import { accessSync, constants, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { z } from 'zod'
import { ConfigError, errnoCode, fileProblem, issuePath } from './errors.ts'
import { apiUrlVariables, type ApiUrlVariable } from './metrics.ts'

/** Empty strings mean "unset", so `FOO=` in a compose file behaves like leaving FOO out. */
const optionalString = z.preprocess((v) => (v === '' ? undefined : v), z.string().optional())

/** A real boolean parser: "false", "0", "no" and "off" are false; anything unknown is an error. */
const booleanFlag = (fallback: boolean) =>
  z.preprocess(
    (v) => {
      if (v === undefined || v === '') return fallback
      if (typeof v === 'boolean') return v
      const text = String(v).trim().toLowerCase()
      if (['1', 'true', 'yes', 'on'].includes(text)) return true
      if (['0', 'false', 'no', 'off'].includes(text)) return false
      return text
    },
    z.boolean({ error: 'must be true or false' }),
  )

const positiveInt = (fallback: number) => z.preprocess((v) => (v === undefined || v === '' ? fallback : Number(v)), z.number().int().positive())

const url = (fallback: string) => z.preprocess((v) => (v === '' || v === undefined ? fallback : v), z.url({ error: 'must be a URL' }))
const optionalUrl = z.preprocess((v) => (v === '' ? undefined : v), z.url({ error: 'must be a URL' }).optional())
/** An instant with its offset, e.g. `2027-03-01T00:05+07:00` or `2027-02-28T17:05:00Z`. */
const optionalInstant = z.preprocess(
  (v) => (v === '' ? undefined : v),
  z
    .string()
    .refine((text) => /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(text) && Number.isFinite(Date.parse(text)), {
      error: 'must be an ISO time with an offset, such as 2027-03-01T00:05:00+07:00',
    })
    .transform((text) => new Date(text))
    .optional(),
)

/**
 * 8 MiB. The largest answer we ask for is a GA4 report page of 10,000 rows (about 120 bytes a
 * row: 1.2 MB); a page of 100 posts with their counts, or of ads insights with every action type,
 * is well under 1 MB. An answer past this is a fault (a proxy, a runaway body), and reading it
 * whole would cost several times its size in memory per request.
 */
export const DEFAULT_HTTP_MAX_ANSWER_BYTES = 8 * 1024 * 1024

function networkApiUrls() {
  return Object.fromEntries(Object.entries(apiUrlVariables()).map(([name, { defaultUrl }]) => [name, url(defaultUrl)])) as Record<ApiUrlVariable, ReturnType<typeof url>>
}

/** DATA_DIR when unset (the demo's is ./data/demo: cli/data-dir.ts). */
export const DEFAULT_DATA_DIR = './data'

const envSchema = z.object({
  DATA_DIR: z.preprocess((v) => (v === '' || v === undefined ? DEFAULT_DATA_DIR : v), z.string()),
  // ioredis reads any other scheme as a Unix socket path and fails with ENOENT: say what is meant.
  REDIS_URL: z.preprocess(
    (v) => (v === '' || v === undefined ? 'redis://127.0.0.1:6379' : v),
    z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL, such as redis://127.0.0.1:6379' }),
  ),
  CLICKHOUSE_URL: optionalUrl,
  CLICKHOUSE_DATABASE: optionalString,
  /** A ClickHouse cluster (remote_servers) to render the migrations for: ON CLUSTER, Replicated engines, Distributed tables (docs/scaling.md). */
  CLICKHOUSE_CLUSTER: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .regex(/^[A-Za-z_]\w*$/, 'must be a cluster name from remote_servers (letters, digits and _)')
      .optional(),
  ),
  /** Raw observations older than this many days are dropped by ClickHouse (TTL); the rollups keep what KPIs read. */
  OBSERVATIONS_RETENTION_DAYS: z.preprocess((v) => (v === '' || v === undefined ? undefined : Number(v)), z.number().int().positive().optional()),
  SMTP_URL: z.preprocess((v) => (v === '' ? undefined : v), z.url({ protocol: /^smtps?$/, error: 'must be an smtp:// or smtps:// URL, such as smtps://mail.example.com:465' }).optional()),
  ALERT_FROM: z.preprocess((v) => (v === '' || v === undefined ? 'social-kpi <alerts@social-kpi.local>' : v), z.string()),
  GRAFANA_URL: optionalUrl,
  // The networks' API base URLs (FACEBOOK_GRAPH_URL, X_API_URL, …): named with their defaults by the descriptors.
  ...networkApiUrls(),
  FACEBOOK_GRAPH_VERSION: z.preprocess((v) => (v === '' || v === undefined ? 'v25.0' : v), z.string().regex(/^v\d+\.\d+$/, 'must look like v25.0')),
  LINKEDIN_VERSION: z.preprocess((v) => (v === '' || v === undefined ? '202606' : v), z.string().regex(/^\d{6}$/, 'must be a LinkedIn-Version such as 202510 (YYYYMM)')),
  // Authorization servers (docs/accounts.md): the token and consent endpoints of OAuth accounts.
  GOOGLE_OAUTH_URL: url('https://oauth2.googleapis.com'),
  GOOGLE_ACCOUNTS_URL: url('https://accounts.google.com'),
  X_AUTHORIZE_URL: url('https://x.com'),
  TIKTOK_AUTHORIZE_URL: url('https://www.tiktok.com'),
  LINKEDIN_OAUTH_URL: url('https://www.linkedin.com'),
  /** Encrypts the token store (renewed and rotated OAuth tokens): 32 bytes, base64 or hex. */
  TOKEN_STORE_KEY: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .refine((text) => tokenStoreKeyBytes(text) !== undefined, { error: 'must be 32 random bytes in base64 or hex; make one with: openssl rand -base64 32' })
      .optional(),
  ),
  QUEUE_PREFIX: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .regex(/^[\w.-]+$/, 'letters, digits, dot, dash or underscore')
      .optional(),
  ),
  LOG_LEVEL: z.preprocess((v) => (v === '' || v === undefined ? 'info' : v), z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])),
  LOG_PRETTY: booleanFlag(false),
  HTTP_TIMEOUT_MS: positiveInt(15_000),
  HTTP_MAX_RETRIES: positiveInt(4),
  /** The largest API answer read, in bytes (axios maxContentLength); see DEFAULT_HTTP_MAX_ANSWER_BYTES. */
  HTTP_MAX_ANSWER_BYTES: positiveInt(DEFAULT_HTTP_MAX_ANSWER_BYTES),
  // An alert email's waits, RFC 5321 §4.5.3.2's minimums by default (alerts/mailer.ts maps them
  // onto nodemailer): the 220 greeting 5 min; every reply once connected, the longest being the
  // one to the end of the message, 10 min. Shorter, a busy server gets the same message twice.
  SMTP_GREETING_TIMEOUT_MS: positiveInt(5 * 60_000),
  SMTP_REPLY_TIMEOUT_MS: positiveInt(10 * 60_000),
  /** The longest wait a Slack or webhook receiver's Retry-After is honoured for; a longer one ends the notification's tries. */
  NOTIFY_RETRY_AFTER_MAX_MS: positiveInt(10 * 60_000),
  WORKER_CONCURRENCY: positiveInt(4),
  SHUTDOWN_TIMEOUT_MS: positiveInt(20_000),
  WRITER_BATCH_ROWS: positiveInt(20_000),
  WRITER_FLUSH_MS: positiveInt(1_000),
  ADMIN_PORT: z.preprocess((v) => (v === '' || v === undefined ? 9464 : Number(v)), z.number().int().min(0).max(65535)),
  /** The ops listener (/metrics, /healthz, /readyz; cli/ops-server.ts): off unless a port is given. */
  METRICS_PORT: z.preprocess((v) => (v === '' || v === undefined ? undefined : Number(v)), z.number().int().min(0).max(65535).optional()),
  METRICS_HOST: z.preprocess((v) => (v === '' || v === undefined ? '127.0.0.1' : v), z.string().regex(/^[\w.:-]+$/, 'must be an address to listen on, such as 127.0.0.1 or 0.0.0.0')),
  /** When set, /metrics asks for `Authorization: Bearer <METRICS_TOKEN>` (Prometheus: `authorization.credentials`). */
  METRICS_TOKEN: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(16, 'must be at least 16 characters (openssl rand -hex 24)').optional()),
  START_PRIVATE_REDIS: booleanFlag(true),
  /** For demos, replays and tests: the process clock starts at this instant and runs at real speed. */
  CLOCK_START: optionalInstant,
  /**
   * npm's own variable, set for `npm start`, `npm run` and `npx`: a process started that way
   * stops when npm or npx ends (cli/signals.ts), which a SIGTERM to npx's pid does without
   * passing it on (docs/operations.md, "Stopping it").
   */
  npm_lifecycle_event: optionalString,
})

export type Env = z.infer<typeof envSchema>

export interface Config extends Omit<Env, 'QUEUE_PREFIX'> {
  /** Absolute data directory. */
  dataDir: string
  /**
   * Redis key prefix of our queues. Job ids deduplicate rounds, so queues must not outlive the
   * data they describe: with the embedded engine the default is tied to the data directory (a
   * new DATA_DIR starts fresh queues); with a ClickHouse server it is `social-kpi`.
   */
  QUEUE_PREFIX: string
  /** Looks up a secret named in the plan (`tokenEnv`) from the environment captured at start. */
  secret(name: string): string | undefined
  /**
   * Every secret value the environment holds, for the scrubber: the variables `names` (the plan's
   * tokenEnv), those named like secrets (…_TOKEN, …_SECRET such as an OAuth client secret,
   * …_PASSWORD, …_API_KEY) and the passwords in REDIS_URL, CLICKHOUSE_URL and SMTP_URL.
   */
  secretValues(names: Iterable<string>): string[]
}

/** Variables whose names say they hold a secret. */
const SECRET_NAME = /(?:^|_)(?:TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|PRIVATE_KEY)$/
const GUESSED_SECRET_MIN_LENGTH = 8

/** The password of a URL, as written and decoded. */
function urlPasswords(url: string | undefined): string[] {
  if (!url) return []
  try {
    const password = new URL(url).password
    if (!password) return []
    try {
      return [password, decodeURIComponent(password)]
    } catch {
      return [password]
    }
  } catch {
    return []
  }
}

/** Parses the environment once, at the edge. Nothing else reads `process.env`. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(source)
  if (!parsed.success) {
    // One line, naming each variable: it is what a failed start prints.
    const problems = parsed.error.issues.map((issue) => `${issuePath(issue.path)}: ${issue.message}`)
    throw new ConfigError(`invalid environment: ${problems.join('; ')}`)
  }
  const snapshot = { ...source }
  const dataDir = resolve(parsed.data.DATA_DIR)
  return {
    ...parsed.data,
    dataDir,
    QUEUE_PREFIX: parsed.data.QUEUE_PREFIX ?? (parsed.data.CLICKHOUSE_URL ? 'social-kpi' : `social-kpi-${instanceId(dataDir)}`),
    secret: (name: string) => {
      const value = snapshot[name]
      return value === '' ? undefined : value
    },
    secretValues(names: Iterable<string>) {
      const given = [...names].map((name) => snapshot[name])
      // A variable only named like a secret counts when its value looks like one (not "true" or "none").
      const guessed = Object.keys(snapshot)
        .filter((name) => SECRET_NAME.test(name))
        .map((name) => snapshot[name])
        .filter((value) => value !== undefined && value.length >= GUESSED_SECRET_MIN_LENGTH)
      const passwords = [parsed.data.REDIS_URL, parsed.data.CLICKHOUSE_URL, parsed.data.SMTP_URL].flatMap(urlPasswords)
      return [...new Set([...given, ...guessed, ...passwords, parsed.data.TOKEN_STORE_KEY].filter((value): value is string => !!value))]
    },
  }
}

/**
 * Whether the environment holds a value for `name` (empty is unset), without parsing the rest:
 * for `plan validate`, which checks a plan's variables and must leave no trace in DATA_DIR.
 */
export function isVariableSet(name: string, source: NodeJS.ProcessEnv = process.env): boolean {
  const value = source[name]
  return value !== undefined && value !== ''
}

/** The token store's key as bytes: 32 bytes given as base64 or hex; undefined for anything else. */
export function tokenStoreKeyBytes(text: string): Buffer | undefined {
  const trimmed = text.trim()
  const bytes = /^[0-9a-f]{64}$/i.test(trimmed) ? Buffer.from(trimmed, 'hex') : /^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed) ? Buffer.from(trimmed, 'base64') : undefined
  return bytes?.length === 32 ? bytes : undefined
}

/** A random id kept in DATA_DIR, naming this installation's embedded data (and so its queues). */
function instanceId(dataDir: string): string {
  const file = join(dataDir, 'instance-id')
  try {
    return readFileSync(file, 'utf8').trim()
  } catch {
    // Missing, or DATA_DIR is no directory we can use: makeDataDir names which.
    makeDataDir(dataDir)
    try {
      writeFileSync(file, `${randomBytes(4).toString('hex')}\n`, { flag: 'wx' })
    } catch (cause) {
      if (errnoCode(cause) !== 'EEXIST') throw dataDirError(dataDir, 'instance-id', cause)
    }
    try {
      return readFileSync(file, 'utf8').trim()
    } catch (cause) {
      throw dataDirError(dataDir, 'instance-id', cause)
    }
  }
}

/**
 * Creates DATA_DIR, or `sub` inside it, when missing and checks that this process may write
 * there. Anything else is one plain ConfigError naming DATA_DIR and what is wrong
 * (`DATA_DIR (/srv/data): clickhouse: it is a file, not a directory (EEXIST)`).
 */
export function makeDataDir(dataDir: string, sub?: string): string {
  const dir = sub ? join(dataDir, sub) : dataDir
  try {
    makeDirectories(dir)
    accessSync(dir, constants.W_OK)
  } catch (cause) {
    // Its parent is there but the directory cannot be made (a virtual file system such as /proc).
    if (errnoCode(cause) === 'ENOENT' && !existsSync(dir))
      throw new ConfigError(`DATA_DIR (${dataDir}): ${sub ? `${sub}: ` : ''}the directory cannot be created there (ENOENT); choose a directory on a disk`, { cause })
    throw dataDirError(dataDir, sub, cause)
  }
  return dir
}

/**
 * `mkdir -p`, one component at a time from the nearest directory that exists. Node's own
 * recursive mkdirSync loops for ever on a path the file system will not create (under /proc it
 * keeps answering ENOENT), blocking the process and its signals; this gives up with that code.
 */
function makeDirectories(dir: string): void {
  const missing: string[] = []
  let at = resolve(dir)
  for (; !existsSync(at) && dirname(at) !== at; at = dirname(at)) missing.unshift(at)
  // What exists must be a directory: the path itself (EEXIST, as mkdir says), or the part below which it would be made.
  if (!statSync(at).isDirectory()) throw Object.assign(new Error(`${at} is not a directory`), { code: missing.length === 0 ? 'EEXIST' : 'ENOTDIR' })
  for (const path of missing) {
    try {
      mkdirSync(path)
    } catch (cause) {
      if (errnoCode(cause) !== 'EEXIST') throw cause
    }
  }
}

/** A file system error under DATA_DIR, in one line: `DATA_DIR (path): [entry: ]what is wrong`. */
export function dataDirError(dataDir: string, entry: string | undefined, cause: unknown): ConfigError {
  return new ConfigError(`DATA_DIR (${dataDir}): ${entry ? `${entry}: ` : ''}${fileProblem(errnoCode(cause))}`, { cause })
}
