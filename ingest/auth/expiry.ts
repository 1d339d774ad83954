import { z } from 'zod'
import type { Clock } from '../../core/clock.ts'
import type { Config } from '../../core/config.ts'
import type { Logger } from '../../core/logger.ts'
import { NETWORK_DESCRIPTORS } from '../../core/metrics.ts'
import type { Redis } from '../../core/redis.ts'
import { accountAuth, planAccounts, type Plan, type PlanAccount } from '../../plan/plan.ts'
import { graphDialect } from '../graph-api.ts'
import { createApiCaller, createHttp } from '../http.ts'
import type { Credentials } from './credentials.ts'

/** A credential with a known end, for the warning ahead of it. */
export interface KnownExpiry {
  account: PlanAccount
  /** What ends: the token, Meta's data access, or a refresh token (then the whole connection). */
  what: 'access token' | 'data access' | 'refresh token'
  endsAt: Date
}

/** Meta's long-lived tokens are checked at most this often. */
const CHECK_EVERY_MS = 24 * 3_600_000

/** GET /debug_token's answer: the fields read (Graph API reference, "Debug Token"). 0 means "never". */
const debugTokenAnswer = z.object({
  data: z.object({
    is_valid: z.boolean().optional(),
    expires_at: z.number().optional(),
    data_access_expires_at: z.number().optional(),
  }),
})

/** What a check found; no token in it, so it is kept in plain JSON. */
const checkRecord = z.object({ checkedAt: z.number(), expiresAt: z.number().nullable(), dataAccessExpiresAt: z.number().nullable() })
type CheckRecord = z.infer<typeof checkRecord>

export interface ExpiryWatch {
  /** After a collection: asks the API when the account's static token ends, when it has not asked today. */
  check(account: PlanAccount, token: string): Promise<void>
  /** Every known end among the plan's accounts (Meta checks, refresh tokens in the store). */
  known(plan: Plan): Promise<KnownExpiry[]>
}

/**
 * Known ends of credentials, so the owner is warned before a connection stops rather than after.
 * Meta: `debug_token` on the token itself gives `expires_at` (a long-lived user or Page token
 * lasts about 60 days; a Page token from a long-lived user token has none) and
 * `data_access_expires_at` (90 days after the user last used the app). LinkedIn: the refresh
 * token's end, from the token store.
 */
export function createExpiryWatch(deps: { config: Config; redis: Redis; prefix: string; now: Clock; logger: Logger; credentials: Credentials }): ExpiryWatch {
  const key = (account: PlanAccount) => `${deps.prefix}:credential-check:${account.network}:${account.id}`
  const readCheck = async (account: PlanAccount): Promise<CheckRecord | undefined> => {
    const text = await deps.redis.get(key(account))
    const parsed = text ? checkRecord.safeParse(JSON.parse(text)) : undefined
    return parsed?.success ? parsed.data : undefined
  }
  return {
    async check(account, token) {
      if (NETWORK_DESCRIPTORS[account.network].auth?.expiryCheck !== 'meta_debug_token') return
      try {
        const previous = await readCheck(account)
        if (previous && deps.now().getTime() - previous.checkedAt < CHECK_EVERY_MS) return
        const api = createApiCaller({
          http: createHttp({
            baseURL: `${deps.config.FACEBOOK_GRAPH_URL.replace(/\/$/, '')}/${deps.config.FACEBOOK_GRAPH_VERSION}`,
            timeoutMs: deps.config.HTTP_TIMEOUT_MS,
            maxAnswerBytes: deps.config.HTTP_MAX_ANSWER_BYTES,
          }),
          dialect: graphDialect,
          now: deps.now,
          retry: { maxRetries: 1, baseDelayMs: 500, maxInlineWaitMs: 5_000 },
        })
        // The token debugs itself: Meta accepts the inspected token as the access token. That one
        // goes in the Authorization header, as Graph takes it (developers.facebook.com, WhatsApp
        // embedded signup: `curl https://graph.facebook.com/... -H 'Authorization: Bearer <ACCESS_TOKEN>'`);
        // the inspected one must be the `input_token` query parameter (Graph API reference,
        // debug_token), so this URL holds a token: errors name the path only (ingest/http.ts) and
        // the scrubber takes input_token out of any text.
        const answer = await api.get('/debug_token', debugTokenAnswer, { params: { input_token: token }, headers: { Authorization: `Bearer ${token}` } })
        const millis = (seconds: number | undefined) => (seconds ? seconds * 1000 : null)
        const record: CheckRecord = { checkedAt: deps.now().getTime(), expiresAt: millis(answer.data.expires_at), dataAccessExpiresAt: millis(answer.data.data_access_expires_at) }
        await deps.redis.set(key(account), JSON.stringify(record))
      } catch (error) {
        // Only a warning is at stake; the collection itself went through.
        deps.logger.warn({ network: account.network, account: account.id, err: error }, 'could not read when the token expires (debug_token)')
      }
    },
    async known(plan) {
      const found: KnownExpiry[] = []
      for (const account of planAccounts(plan)) {
        const auth = accountAuth(account)
        if (auth.kind === 'token') {
          const check = await readCheck(account)
          if (check?.expiresAt) found.push({ account, what: 'access token', endsAt: new Date(check.expiresAt) })
          if (check?.dataAccessExpiresAt) found.push({ account, what: 'data access', endsAt: new Date(check.dataAccessExpiresAt) })
          continue
        }
        const stored = await deps.credentials.stored(account).catch(() => undefined)
        if (stored?.refreshExpiresAt && !stored.ended) found.push({ account, what: 'refresh token', endsAt: new Date(stored.refreshExpiresAt) })
      }
      return found
    },
  }
}
