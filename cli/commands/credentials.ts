import type { Command } from 'commander'
import { processClock, type Clock } from '../../core/clock.ts'
import { loadConfig, type Config } from '../../core/config.ts'
import { ArgumentError, ConfigError, SocialKpiError } from '../../core/errors.ts'
import { createLogger, type Logger, type Scrubber } from '../../core/logger.ts'
import { createRedis, ensureRedis, type Redis } from '../../core/redis.ts'
import { oauthContract, openCredentials, renewalSource, scopesNeeded, type Credentials } from '../../ingest/auth/index.ts'
import { finishAuthorization, startAuthorization, GrantRefusedError, splitScopes } from '../../ingest/auth/oauth.ts'
import { accountAuth, accountMetrics, loadPlan, planAccounts, planSpeaker, type Plan, type PlanAccount } from '../../plan/plan.ts'
import { choosePlan, withDemoTokens } from '../data-dir.ts'
import { exitCodes, planOption } from '../output.ts'
import { processScrubber } from '../scrubber.ts'

/** The redirect URI to register with each network's app (docs/accounts.md): a fixed loopback port. */
const DEFAULT_CALLBACK_PORT = 8765
/** The redirect URI's path (cli/loopback-callback.ts serves it; not imported here, so --help stays light). */
const CALLBACK_PATH = '/callback'

const out = (line = '') => process.stdout.write(`${line}\n`)

interface Session {
  config: Config
  plan: Plan
  clock: Clock
  logger: Logger
  scrub: Scrubber
  redis: Redis
  credentials: Credentials
  close(): Promise<void>
}

/**
 * Config, plan, Redis (a private one when `start` would run one) and the credentials, without the
 * database. Without --plan, the demo's plan, DATA_DIR and tokens, as `start` uses them.
 */
async function openSession(planFile: string | undefined): Promise<Session> {
  const chosen = choosePlan(planFile, process.env)
  const plan = await loadPlan(chosen.file)
  const config = loadConfig(chosen.demo ? withDemoTokens(plan, chosen.env) : chosen.env)
  const clock = processClock(config)
  const scrub = processScrubber(config, plan)
  const logger = createLogger({ level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL, pretty: config.LOG_PRETTY, scrub })
  const privateRedis = await ensureRedis(config.REDIS_URL, { dataDir: config.dataDir, allowPrivate: config.START_PRIVATE_REDIS, logger })
  const redis = createRedis(config.REDIS_URL, 'worker')
  redis.on('error', () => undefined)
  try {
    const credentials = openCredentials({ config, plan, redis, now: clock, logger, scrub })
    return {
      config,
      plan,
      clock,
      logger,
      scrub,
      redis,
      credentials,
      async close() {
        redis.disconnect()
        await privateRedis?.stop()
      },
    }
  } catch (error) {
    redis.disconnect()
    await privateRedis?.stop()
    throw error
  }
}

/** Scopes needed but not granted, each with the metrics that need it. */
function missingScopes(plan: Plan, account: PlanAccount, granted: string[]): Array<{ scope: string; metrics: string[] }> {
  const metrics = accountMetrics(plan, account)
  const contract = oauthContract(account.network)
  // Entries stored before comma-separated answers were split hold "a,b" as one scope.
  const grantedScopes = new Set(granted.flatMap(splitScopes))
  return scopesNeeded(account.network, metrics)
    .filter((scope) => !grantedScopes.has(scope))
    .map((scope) => ({ scope, metrics: contract?.metricScopes ? metrics.filter((m) => contract.metricScopes?.[m]?.includes(scope)) : [] }))
}

function findAccount(plan: Plan, id: string): PlanAccount {
  const matches = planAccounts(plan).filter((account) => account.id === id)
  if (matches.length === 0)
    throw new ArgumentError(
      `no account "${id}" in the plan; accounts: ${planAccounts(plan)
        .map((a) => a.id)
        .join(', ')}`,
    )
  return matches[0]!
}

async function connect(accountId: string, opts: { plan?: string; port: string; timeout: string }): Promise<void> {
  const session = await openSession(opts.plan)
  try {
    const account = findAccount(session.plan, accountId)
    const auth = accountAuth(account)
    const contract = oauthContract(account.network)
    if (auth.kind !== 'oauth' || !contract) {
      throw new ConfigError(
        auth.kind === 'token'
          ? `${account.id} uses a static token (${auth.tokenEnv}); to connect it with OAuth, give it auth: { kind: oauth, clientIdEnv: ..., clientSecretEnv: ... } in the plan (docs/accounts.md)`
          : auth.kind === 'service_account'
            ? `${account.id} uses a service account: nothing to connect; its key file is named by ${auth.keyFileEnv}`
            : `${account.network} has no OAuth flow here; use a static token (docs/accounts.md)`,
      )
    }
    const clientId = session.config.secret(auth.clientIdEnv)
    if (!clientId) throw new ConfigError(`${auth.clientIdEnv} is not set: it holds the client id of your ${account.network} app (docs/accounts.md)`)
    const clientSecret = auth.clientSecretEnv ? session.config.secret(auth.clientSecretEnv) : undefined
    if (auth.clientSecretEnv && !clientSecret) throw new ConfigError(`${auth.clientSecretEnv} is not set: it holds the client secret of your ${account.network} app`)
    const app = { clientId, clientSecret }
    const scopes = scopesNeeded(account.network, accountMetrics(session.plan, account))
    const port = Number(opts.port)
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ArgumentError(`--port: "${opts.port}" is not a port number`)
    const minutes = Number(opts.timeout)
    if (!Number.isFinite(minutes) || minutes <= 0) throw new ArgumentError(`--timeout: "${opts.timeout}" is not a number of minutes`)

    const { listenForCallback } = await import('../loopback-callback.ts')
    const callback = await listenForCallback({ port, timeoutMs: minutes * 60_000 })
    try {
      const pending = await startAuthorization(contract, app, { config: session.config, redirectUri: callback.redirectUri, scopes })
      out(`Connecting ${account.network} account "${account.name}" (${account.id}).`)
      out(`Open this link in a browser signed in as the account, and allow access:`)
      out()
      out(`  ${pending.url.toString()}`)
      out()
      out(`Waiting for the browser to come back to ${callback.redirectUri} ...`)
      const returned = await callback.receive(pending.state)
      let saved: Awaited<ReturnType<typeof session.credentials.saveGrant>>
      try {
        const refusedAccess = returned.url.searchParams.get('error')
        if (refusedAccess !== null) {
          const description = returned.url.searchParams.get('error_description')
          throw new SocialKpiError(
            'CONNECTION_ENDED',
            `${account.network} did not connect the account: access was not granted at the consent page (${printable(refusedAccess)}${description ? `: ${printable(description)}` : ''}); run connect again and allow access`,
          )
        }
        let grant: Awaited<ReturnType<typeof finishAuthorization>>
        try {
          grant = await finishAuthorization(contract, app, pending, returned.url, { config: session.config, timeoutMs: session.config.HTTP_TIMEOUT_MS })
        } catch (error) {
          if (error instanceof GrantRefusedError) throw new SocialKpiError('CONNECTION_ENDED', `${account.network} did not connect the account: ${error.message}`)
          throw error
        }
        if (!grant.refreshToken) {
          out(`note: ${account.network} sent no refresh token, so the connection lasts until the access token expires; check the app settings in docs/accounts.md`)
        }
        saved = await session.credentials.saveGrant(account, grant, scopes)
      } catch (error) {
        returned.answer({ ok: false, message: 'social-kpi did not connect the account. The terminal says why.' })
        throw error
      }
      returned.answer({ ok: true, message: `Connected ${account.network} account "${account.name}". You can close this tab and go back to the terminal.` })
      const speaker = planSpeaker(session.plan)
      out(
        saved.expiresAt
          ? speaker.t('terminal.connected_until', { account: account.id, time: speaker.dateTime(new Date(saved.expiresAt)) })
          : speaker.t('terminal.connected_forever', { account: account.id }),
      )
      const missing = missingScopes(session.plan, account, saved.scopes)
      for (const gap of missing) {
        out(`WARNING: not granted: ${gap.scope}${gap.metrics.length ? ` (needed for ${gap.metrics.join(', ')})` : ''}. Run connect again and allow it, or those metrics stay uncollected.`)
      }
    } finally {
      callback.close()
    }
  } finally {
    await session.close()
  }
}

/** Text from the redirect, for one terminal line: no control characters, bounded. */
const printable = (text: string) => text.replace(/\p{Cc}/gu, ' ').slice(0, 200)

const when = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z') : '-')

async function listAccounts(opts: { plan?: string }): Promise<void> {
  const session = await openSession(opts.plan)
  const planArgument = opts.plan ? ` --plan ${opts.plan}` : ''
  try {
    const now = session.clock().getTime()
    for (const account of planAccounts(session.plan)) {
      const auth = accountAuth(account)
      out(
        `${account.network}/${account.id} "${account.name}": ${auth.kind === 'token' ? `static token in ${auth.tokenEnv}` : auth.kind === 'oauth' ? 'OAuth (renewed automatically)' : `service account (key file in ${auth.keyFileEnv})`}`,
      )
      if (auth.kind === 'token') {
        out(session.config.secret(auth.tokenEnv) ? '  token: set' : `  token: MISSING — set ${auth.tokenEnv}`)
        continue
      }
      let stored: Awaited<ReturnType<typeof session.credentials.stored>>
      try {
        stored = await session.credentials.stored(account)
      } catch (error) {
        out(`  ${(error as Error).message}`)
        continue
      }
      // A refresh token in refreshTokenEnv (the seed) connects the account until one is stored.
      const seedEnv = auth.kind === 'oauth' ? auth.refreshTokenEnv : undefined
      const fromSeed = auth.kind === 'oauth' && renewalSource(stored, seedEnv ? session.config.secret(seedEnv) : undefined).from === 'seed'
      if (!stored) {
        if (auth.kind !== 'oauth') out('  no token yet: the first collection gets one')
        else if (fromSeed) out(`  connected by seed: the refresh token in ${seedEnv} is used at the first collection (scopes are known after it)`)
        else out(`  not connected — ${seedEnv ? `${seedEnv} is not set; ` : ''}run: social-kpi connect ${account.id}${planArgument}`)
        continue
      }
      if (stored.ended) {
        out(`  connection ENDED ${when(stored.ended.at)}: ${stored.ended.reason}`)
        out(fromSeed ? `  the new refresh token in ${seedEnv} is tried at the next collection` : `  to do: social-kpi connect ${account.id}${planArgument}`)
        continue
      }
      const expires =
        stored.expiresAt === null ? 'does not expire' : stored.expiresAt > now ? `expires ${when(stored.expiresAt)}` : `expired ${when(stored.expiresAt)} (renewed at the next collection)`
      out(`  access token ${expires}; last renewed ${when(stored.renewedAt)}; connected ${when(stored.connectedAt)}`)
      if (auth.kind === 'oauth')
        out(
          `  refresh token ${stored.refreshToken ? (stored.refreshExpiresAt ? `valid until ${when(stored.refreshExpiresAt)}` : 'has no known end') : 'none (the connection ends with the access token)'}`,
        )
      const missing = missingScopes(session.plan, account, stored.scopes)
      out(`  scopes granted: ${stored.scopes.join(' ') || '-'}`)
      if (missing.length) out(`  MISSING scopes: ${missing.map((m) => `${m.scope}${m.metrics.length ? ` (for ${m.metrics.join(', ')})` : ''}`).join('; ')} — run connect again and allow them`)
    }
  } finally {
    await session.close()
  }
}

/** `connect` and `accounts`: getting tokens for real accounts, and what each account's credentials look like. */
export function registerCredentialCommands(program: Command): void {
  const connectCommand = program
    .command('connect')
    .description('connect an OAuth account: prints a link to open in a browser, then stores the tokens (encrypted) for the workers')
    .argument('<account>', "the account's id in the plan")
    .option('-p, --plan <file>', 'the social media plan that lists the account with auth: { kind: oauth, ... }; default: the demo')
    .option('--port <port>', `loopback port of the redirect URI registered with the app (http://127.0.0.1:PORT${CALLBACK_PATH})`, String(DEFAULT_CALLBACK_PORT))
    .option('--timeout <minutes>', 'how long to wait for the browser', '10')
    .addHelpText(
      'after',
      `\nRegister http://127.0.0.1:${DEFAULT_CALLBACK_PORT}${CALLBACK_PATH} as the redirect URI of your app on the network first (docs/accounts.md).\nNeeds REDIS_URL (the token store) and TOKEN_STORE_KEY (make one with: openssl rand -base64 32).`,
    )
    .action(connect)
  exitCodes(connectCommand, { 0: 'connected (scopes not granted are listed as warnings)', 1: 'not connected (refused or timed out) or another error' })

  const accountsCommand = program
    .command('accounts')
    .description("each account's auth kind, token expiry, last renewal, scopes granted against needed, and what to do")
    .addOption(planOption())
    .action(listAccounts)
  exitCodes(accountsCommand)
}
