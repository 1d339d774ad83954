import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { clockFrom } from '../../core/clock.ts'
import { createLogger } from '../../core/logger.ts'
import { createRedis, type Redis } from '../../core/redis.ts'
import { openCredentials } from '../../ingest/auth/index.ts'
import { createExpiryWatch } from '../../ingest/auth/expiry.ts'
import { parsePlan, planAccounts } from '../../plan/plan.ts'
import { simulatorEnvironment, startSimulator, type RunningSimulator } from '../../simulator/index.ts'
import { silentLogger, testConfig } from '../helpers/runtime.ts'

/**
 * Meta's debug_token, read for a static Page token's end: the token authenticates in the
 * Authorization header, and only the inspected one (`input_token`, as the API requires) is in the
 * query; a failed check logs no token.
 */

const START = new Date('2026-12-01T02:00:00Z')
const clock = clockFrom(START)
const TOKEN = 'EAAGm0PXpageTOKENforDebug7f3a9c'
const plan = parsePlan(
  {
    company: { name: 'Kopi debug_token', timezone: 'Asia/Jakarta' },
    objectives: [{ id: 'reach', name: 'Reach' }],
    strategy: { networks: [{ network: 'facebook', accounts: [{ id: 'fb-page', name: 'Kopi Page', apiId: '104729384756102', tokenEnv: 'FB_PAGE_TOKEN' }] }] },
    kpis: [{ id: 'fb-followers', name: 'Page followers', objective: 'reach', network: 'facebook', metric: 'followers', kind: 'level', target: 10, period: 'month' }],
    alerting: { recipients: ['social@kopinusantara.id'] },
  },
  'debug_token plan',
)
const account = planAccounts(plan)[0]!

let sim: RunningSimulator
let redis: Redis
const cleanups: Array<() => unknown> = []

beforeAll(async () => {
  sim = await startSimulator({ now: clock, seed: 42 })
  redis = createRedis('redis://127.0.0.1:6379', 'worker')
})

afterAll(async () => {
  for (const cleanup of cleanups) await cleanup()
  redis?.disconnect()
  await sim?.close()
})

function watch(logger = silentLogger) {
  const test = testConfig('token-expiry', { ...simulatorEnvironment(sim.url), FB_PAGE_TOKEN: TOKEN })
  cleanups.push(test.cleanup)
  const credentials = openCredentials({ config: test.config, plan, now: clock, logger })
  return createExpiryWatch({ config: test.config, redis, prefix: test.config.QUEUE_PREFIX, now: clock, logger, credentials })
}

describe('debug_token', () => {
  it('sends the token in the Authorization header and only input_token in the query', async () => {
    const endsAt = new Date(START.getTime() + 5 * 86_400_000)
    sim.oauth.setMetaTokenExpiry(TOKEN, { expiresAt: endsAt, type: 'PAGE' })
    const expiry = watch()
    await expiry.check(account, TOKEN)
    const calls = sim.requests().filter((r) => r.path.endsWith('/debug_token'))
    expect(calls).toHaveLength(1)
    expect(calls[0]!.query).toEqual({ input_token: TOKEN })
    expect(calls[0]!.token).toBe(TOKEN)
    expect(await expiry.known(plan)).toEqual([{ account, what: 'access token', endsAt }])
  })

  it('a failed check logs a warning without the token or the URL that holds it', async () => {
    const lines: string[] = []
    const logger = createLogger({
      level: 'debug',
      destination: new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk))
          done()
        },
      }) as never,
    })
    sim.injectFault({ path: /\/debug_token$/, times: 4, status: 500, body: '<html>Internal Server Error</html>' })
    await watch(logger).check(account, TOKEN)
    const log = lines.join('')
    expect(log).toContain('could not read when the token expires (debug_token)')
    expect(log).toContain('/debug_token')
    expect(log).not.toContain(TOKEN)
    expect(log).not.toContain('input_token')
  })
})
