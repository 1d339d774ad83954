import { createHash } from 'node:crypto'
import { open } from 'node:fs/promises'
import { extname } from 'node:path'
import { IANAZone } from 'luxon'
import { CronExpressionParser } from 'cron-parser'
import cron from 'node-cron'
import { isMap, isScalar, isSeq, parseDocument, YAMLParseError } from 'yaml'
import { z } from 'zod'
import { CATALOGUES, isLanguage, LANGUAGES, speaker, type Speaker } from '../core/i18n/index.ts'
import { PlanError, issuePath, type InputIssue } from '../core/errors.ts'
import { checkCrisisTrigger, crisisTriggerSchema } from './crisis-schema.ts'
import { METRICS, NETWORK_DESCRIPTORS, NETWORKS, isNetwork, type Network } from '../core/metrics.ts'
import { findKpiKind, KPI_KIND_MODULES, KPI_KINDS } from '../kpi/kinds/index.ts'
import { defaultUnit, KPI_UNITS, parsePercent, unitProblem, type KpiUnit } from './units.ts'

const text = (what: string) =>
  z
    .string({ error: `must be ${what}` })
    .trim()
    .min(1, `must not be empty`)
const id = z.string({ error: 'must be an id (letters, digits, dash, underscore)' }).regex(/^[A-Za-z0-9][\w-]*$/, 'must be an id (letters, digits, dash, underscore)')
const textList = z.array(text('text'), { error: 'must be a list of texts' })

const DURATION = /^(\d+)\s*(s|m|h|d)$/
const DURATION_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const
const duration = z
  .string({ error: 'must be a duration such as 90s, 30m, 4h or 1d' })
  .regex(DURATION, 'must be a duration such as 90s, 30m, 4h or 1d')
  .transform((value) => {
    const [, amount, unit] = DURATION.exec(value)!
    return Number(amount) * DURATION_MS[unit as keyof typeof DURATION_MS]
  })

/** Rounds closer than this would pile up: a round of a few accounts takes seconds to collect. */
const MIN_SCHEDULE_GAP_MS = 10_000

/** The shortest gap between the next few ticks of a cron expression (node-cron's form: an optional leading seconds field). */
function shortestGapMs(expression: string): number {
  const ticks = CronExpressionParser.parse(expression, { currentDate: new Date(Date.UTC(2026, 0, 5)), tz: 'UTC' })
  let previous = ticks.next().getTime()
  let shortest = Number.POSITIVE_INFINITY
  for (let i = 0; i < 6; i++) {
    const next = ticks.next().getTime()
    shortest = Math.min(shortest, next - previous)
    previous = next
  }
  return shortest
}

/**
 * Five fields (minute hour day month weekday); node-cron also reads a sixth, leading seconds
 * field, allowed for rounds a few seconds apart (demos, tests) but not closer than 10 s: "* * * * * *"
 * is a round every second, almost certainly not what was meant.
 */
const cronExpression = z
  .string({ error: 'must be a cron expression such as "*/15 * * * *"' })
  .refine((value) => cron.validate(value), 'must be a cron expression such as "*/15 * * * *" (minute hour day month weekday)')
  .superRefine((value, ctx) => {
    if (!cron.validate(value)) return
    const gap = shortestGapMs(value)
    if (gap < MIN_SCHEDULE_GAP_MS)
      ctx.addIssue({
        code: 'custom',
        message: `runs every ${Math.round(gap / 1000)} s; rounds must be at least 10 s apart (a sixth, leading field counts seconds: "*/15 * * * *" is every 15 minutes)`,
      })
  })

const isoDate = z.iso.date({ error: 'must be a date as YYYY-MM-DD' })

const envName = (example: string, what: string, secret = 'the secret') =>
  z
    .string({ error: `must name the environment variable that holds ${what}` })
    .regex(/^[A-Z_][A-Z0-9_]*$/, `must name an environment variable, such as ${example} (${secret} itself never goes in the plan)`)

const AUTH_KINDS = ['token', 'oauth', 'service_account'] as const

/**
 * How an account authenticates (docs/accounts.md). `token`: a static token in `tokenEnv`.
 * `oauth`: the network's refresh grant, with the app's client id and secret named by variable;
 * the first refresh token comes from `social-kpi connect` (or `refreshTokenEnv`), and renewed and
 * rotated tokens live in the encrypted token store. `service_account`: a Google service account
 * key file (GA4).
 */
const authSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('token'), tokenEnv: envName('FB_PAGE_TOKEN', 'the token', 'the token') }),
    z.strictObject({
      kind: z.literal('oauth'),
      clientIdEnv: envName('X_CLIENT_ID', 'the OAuth client id'),
      /** Left out for a public client (X allows PKCE without a secret). */
      clientSecretEnv: envName('X_CLIENT_SECRET', 'the OAuth client secret').optional(),
      /** A refresh token obtained elsewhere, used only while the token store holds none for the account. */
      refreshTokenEnv: envName('X_REFRESH_TOKEN', 'a first refresh token').optional(),
    }),
    z.strictObject({ kind: z.literal('service_account'), keyFileEnv: envName('GA4_SERVICE_ACCOUNT_KEY', 'the path of the service account key file') }),
  ],
  { error: `must be a map with kind: ${AUTH_KINDS.join(', ')}` },
)

export type AccountAuth = z.infer<typeof authSchema>

const accountSchema = z
  .strictObject({
    id,
    name: text('a name'),
    apiId: z.union([z.string(), z.number()], { error: "must be the network's id of the account (page id, ...)" }).transform(String).pipe(z.string().min(1, 'must not be empty')),
    /** A static token (the same as `auth: { kind: token, tokenEnv }`). */
    tokenEnv: envName('FB_PAGE_TOKEN', 'the token', 'the token').optional(),
    auth: authSchema.optional(),
    /** Network-specific settings (a conversion type, a channel filter, ...), checked by the network's own schema; parsed by it once the plan is valid. */
    settings: z.record(z.string(), z.unknown(), { error: 'must be a map of settings' }).optional(),
  })
  .superRefine((account, ctx) => {
    if (account.tokenEnv === undefined && account.auth === undefined) {
      ctx.addIssue({ code: 'custom', path: ['tokenEnv'], message: 'is required: name the environment variable that holds the token, or give auth: (oauth or service_account)' })
    }
    if (account.tokenEnv !== undefined && account.auth !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['auth'], message: 'give either tokenEnv or auth, not both' })
    }
  })

const networkPresenceSchema = z.strictObject({
  network: z.enum(NETWORKS, { error: `must be one of: ${NETWORKS.join(', ')}` }),
  postingFrequency: text('a posting frequency, such as "2 per day"').optional(),
  language: text('a language').optional(),
  contentFocus: text('text').optional(),
  accounts: z.array(accountSchema, { error: 'must be a list of accounts' }).min(1, 'must list at least one account'),
})

export const PERIODS = ['day', 'week', 'month', 'quarter', 'year'] as const
/** The kinds that take a denominator, in words: "rate". */
const RATIO_KINDS = KPI_KIND_MODULES.filter((kind) => kind.denominator)
  .map((kind) => kind.name)
  .join(' or ')

const periodSchema = z.union([z.enum(PERIODS), z.strictObject({ from: isoDate, to: isoDate }).refine((p) => p.from < p.to, { message: 'from must be before to', path: ['to'] })], {
  error: `must be one of ${PERIODS.join(', ')}, or { from: YYYY-MM-DD, to: YYYY-MM-DD }`,
})

/**
 * When a KPI may be called at risk (kpi/pacing.ts `evidenceRule`): once `minElapsed` of the period
 * has passed, or earlier once the progress expected by now reaches `minExpected` (in the KPI's
 * unit; `none`: the time rule alone). Left out: 0.1, and 4 ÷ tolerance².
 */
const SHARE_OF_PERIOD = 'must be a share of the period from 0 to 1, such as 0.1 (a tenth: 3 days of a month)'
const EXPECTED_COUNT = "must be a number of 0 or more (what is expected by now, in the KPI's unit), or none"
const evidenceSchema = z.strictObject(
  {
    minElapsed: z.number({ error: SHARE_OF_PERIOD }).min(0, SHARE_OF_PERIOD).max(1, SHARE_OF_PERIOD).optional(),
    minExpected: z.union([z.number().min(0, EXPECTED_COUNT), z.literal('none')], { error: EXPECTED_COUNT }).optional(),
  },
  // Only for a value that is not a map: a misspelt key keeps zod's own "Unrecognized key" message.
  { error: (issue) => (issue.code === 'invalid_type' ? 'must be a map with minElapsed and/or minExpected' : undefined) },
)

const POSITIVE = 'must be a positive number'

const kpiSchema = z.strictObject({
  id,
  name: text('a name'),
  objective: id,
  network: z.enum(NETWORKS, { error: `must be one of: ${NETWORKS.join(', ')}` }),
  accounts: z.array(id).min(1, 'must list at least one account, or be left out for all accounts of the network').optional(),
  metric: text('a metric name'),
  kind: z.enum(KPI_KINDS, { error: `must be one of: ${KPI_KINDS.join(', ')}` }),
  denominator: text('a metric name').optional(),
  /** A number, or for a rate a percentage (`3%`, read as 0.03); checked, and read, with the rest of the KPI (checkTarget). */
  target: z.union([z.number().positive(POSITIVE), z.string()], { error: POSITIVE }),
  /** How its numbers are shown (plan/units.ts); left out: percent for a rate, currency for money, else count. */
  unit: z.enum(KPI_UNITS, { error: `must be one of: ${KPI_UNITS.join(', ')}` }).optional(),
  comparator: z.enum(['at_least', 'at_most'], { error: 'must be at_least or at_most' }).default('at_least'),
  period: periodSchema,
  tolerance: z.number({ error: 'must be a fraction between 0 and 1' }).min(0, 'must be a fraction between 0 and 1').max(1, 'must be a fraction between 0 and 1').default(0.1),
  actions: textList.optional(),
  /** When this KPI may be called at risk; each field left out falls back to `alerting.evidence`, then to the default. */
  evidence: evidenceSchema.optional(),
  /**
   * How the target is expected to accrue over the period: linear, or a curve of cumulative
   * fractions at equal steps of the period (a launch that front-loads: [0.4, 0.7, 0.9, 1]).
   */
  /**
   * Narrows the accounts' data where the API has dimensions (GA4: some channel groups or sources),
   * checked by the network's own schema; the account's collection serves it with the same call.
   */
  filter: z.record(z.string(), z.unknown(), { error: 'must be a map, such as { channelGroups: [Organic Social] }' }).optional(),
  pace: z
    .union(
      [
        z.literal('linear'),
        z.strictObject({
          curve: z
            .array(z.number().min(0).max(1), { error: 'must be a list of fractions from 0 to 1' })
            .min(2, 'must have at least two steps')
            .refine((c) => c.every((v, i) => i === 0 || v >= c[i - 1]!), 'must never decrease')
            .refine((c) => c[c.length - 1] === 1, 'must end at 1 (the whole target by the end of the period)'),
        }),
      ],
      { error: 'must be linear, or { curve: [fractions ending at 1] }' },
    )
    .default('linear'),
})

const ALERT_GROUPINGS = ['objective', 'plan', 'none'] as const
const ALERT_SEVERITIES = ['warning', 'critical'] as const

const emailList = z.array(z.email({ error: 'must be an email address' }), { error: 'must be a list of email addresses' })

/**
 * The named alert channels besides email (docs/alerting.md, "Channels"), one entry per kind (its
 * module is alerts/channels/<type>.ts). Their URL and signing secret are named by environment
 * variable, as accounts name their tokens: they never go in the plan.
 */
const CHANNEL_ENTRIES = [
  /** A Slack incoming webhook; its URL is the secret. */
  z.strictObject({ type: z.literal('slack'), urlEnv: envName('SLACK_WEBHOOK_URL', 'the Slack incoming-webhook URL', 'the URL') }),
  /** Any HTTPS endpoint: a JSON body signed with HMAC-SHA256 under the secret in `secretEnv`. */
  z.strictObject({
    type: z.literal('webhook'),
    urlEnv: envName('ALERT_WEBHOOK_URL', 'the webhook URL', 'the URL'),
    secretEnv: envName('ALERT_WEBHOOK_SECRET', 'the signing secret'),
  }),
] as const
const CHANNEL_TYPES = CHANNEL_ENTRIES.map((entry) => entry.shape.type.value)

const channelSchema = z.discriminatedUnion('type', CHANNEL_ENTRIES, { error: `must have a type: ${CHANNEL_TYPES.join(', ')}` })

/**
 * A route sends the alerts it matches to its own recipients and channels. Every matcher given must
 * match; within one matcher any listed value does. `severity`: at_risk is a warning, missed is
 * critical. `crisis: true` matches crisis alerts (and only them). `recipients`, when given,
 * replace the default email recipients; `channels` add Slack or webhook channels.
 */
const routeSchema = z
  .strictObject({
    kpis: z.array(id, { error: 'must be a list of KPI ids' }).min(1, 'must list at least one KPI, or be left out').optional(),
    objectives: z.array(id, { error: 'must be a list of objective ids' }).min(1, 'must list at least one objective, or be left out').optional(),
    severity: z
      .array(z.enum(ALERT_SEVERITIES, { error: `must be one of: ${ALERT_SEVERITIES.join(', ')}` }), { error: `must be a list of: ${ALERT_SEVERITIES.join(', ')}` })
      .min(1, 'must list at least one severity, or be left out')
      .optional(),
    crisis: z.literal(true, { error: 'must be true, or be left out' }).optional(),
    recipients: emailList.min(1, 'must list at least one recipient, or be left out').optional(),
    channels: z.array(id, { error: 'must be a list of channel names' }).min(1, 'must list at least one channel, or be left out').optional(),
  })
  .superRefine((route, ctx) => {
    if (!route.recipients && !route.channels) ctx.addIssue({ code: 'custom', path: ['recipients'], message: 'is required: give recipients, channels or both' })
    if (route.crisis && (route.kpis || route.objectives || route.severity)) {
      ctx.addIssue({ code: 'custom', path: ['crisis'], message: 'a crisis route matches crisis alerts only; give kpis, objectives and severity in another route' })
    }
  })

export const REVIEW_PERIODS = ['week', 'month', 'quarter', 'year'] as const
/** The languages we speak (core/i18n/messages/, one file each): what `company.language` and `review.language` accept. */
export const REVIEW_LANGUAGES = LANGUAGES
const languageSchema = z
  .string({ error: `must be one of: ${LANGUAGES.join(', ')}` })
  .refine(isLanguage, `must be one of: ${LANGUAGES.join(', ')} (${LANGUAGES.map((code) => CATALOGUES.get(code)!.name).join(', ')})`)

/**
 * The period review (docs/period-review.md): when a week, month, quarter or year has ended and its
 * final verdicts have settled, one email reviews that period's KPIs against the plan. Without this
 * section no review is sent (`social-kpi report` still renders any past period).
 */
const reviewSchema = z.strictObject({
  /** Which kinds of period end with a review; each covers the KPIs measured over that kind of period. */
  periods: z
    .array(z.enum(REVIEW_PERIODS, { error: `must be one of: ${REVIEW_PERIODS.join(', ')}` }), { error: `must be a list of: ${REVIEW_PERIODS.join(', ')}` })
    .min(1, 'must list at least one kind of period, or leave the review section out')
    .refine((kinds) => new Set(kinds).size === kinds.length, 'lists a kind of period twice')
    .default(['month']),
  /** The review's language when it differs from the plan's (`company.language`); kept from before the plan had one. */
  language: languageSchema.optional(),
  /** Who receives the review; left out: alerting.recipients. */
  recipients: emailList.min(1, 'must list at least one recipient, or be left out').optional(),
  /** How many posts that carried the period, and how many that fell flat, per network and metric. */
  posts: z
    .number({ error: 'must be a whole number from 0 to 20' })
    .int('must be a whole number from 0 to 20')
    .min(0, 'must be a whole number from 0 to 20')
    .max(20, 'must be a whole number from 0 to 20')
    .default(3),
})

const contactSchema = z.strictObject({
  name: text('a name'),
  role: text('a role').optional(),
  email: z.email({ error: 'must be an email address' }),
  phone: text('a phone number').optional(),
})

const planSchema = z
  .strictObject({
    version: z.literal(1, { error: 'must be 1' }).default(1),
    company: z.strictObject({
      name: text('the company name'),
      description: text('text').optional(),
      offering: text('text').optional(),
      timezone: z
        .string({ error: 'must be an IANA time zone such as Asia/Jakarta' })
        .refine((zone) => IANAZone.isValidZone(zone), 'must be an IANA time zone such as Asia/Jakarta')
        .default('UTC'),
      weekStart: z.enum(['monday', 'sunday'], { error: 'must be monday or sunday' }).default('monday'),
      /** The language of everything people read (emails, Slack, the review, the terminal); left out: review.language, else en. */
      language: languageSchema.optional(),
    }),
    situation: z
      .strictObject({
        summary: text('text').optional(),
        onlineReputation: text('text').optional(),
        competitors: text('text').optional(),
        swot: z.strictObject({ strengths: textList.default([]), weaknesses: textList.default([]), opportunities: textList.default([]), threats: textList.default([]) }).optional(),
      })
      .optional(),
    audiences: z.array(z.strictObject({ id, name: text('a name'), description: text('text').optional() }), { error: 'must be a list of audiences' }).default([]),
    objectives: z
      .array(z.strictObject({ id, name: text('a name'), description: text('text').optional(), actions: textList.default([]) }), { error: 'must be a list of objectives' })
      .min(1, 'must list at least one objective'),
    strategy: z.strictObject({
      networks: z.array(networkPresenceSchema, { error: 'must be a list of networks' }).min(1, 'must list at least one network'),
    }),
    technology: z.array(text('a tool'), { error: 'must be a list of tools' }).default([]),
    collection: z
      .strictObject({
        schedule: cronExpression.default('*/15 * * * *'),
        evaluateSchedule: cronExpression.default('5 * * * *'),
        lookbackDays: z
          .number({ error: 'must be a whole number of days from 1 to 90' })
          .int('must be a whole number of days from 1 to 90')
          .min(1, 'must be a whole number of days from 1 to 90')
          .max(90, 'must be a whole number of days from 1 to 90')
          .default(28),
        /**
         * How long after its start a round is evaluated at the latest, when some of its accounts
         * have not finished (throttled, failing, slow); default half the interval of `schedule`.
         */
        roundDeadline: duration.refine((ms) => ms > 0, 'must be longer than 0s').optional(),
      })
      .prefault({}),
    kpis: z.array(kpiSchema, { error: 'must be a list of KPIs' }).min(1, 'must list at least one KPI'),
    alerting: z.strictObject({
      recipients: emailList.min(1, 'must list at least one recipient'),
      repeatInterval: duration.prefault('24h'),
      notifyResolved: z.boolean({ error: 'must be true or false' }).default(true),
      /** How long a KPI must stay failing before its alert fires (Alertmanager's `for`); 0m: at once. */
      for: duration.prefault('0m'),
      /** How long a firing alert stays firing after it looks fine again, against flapping; 0m: resolves at once. */
      keepFiringFor: duration.prefault('0m'),
      /** KPI alerts decided in one evaluation go out as one email per objective, per plan, or each alone. */
      groupBy: z.enum(ALERT_GROUPINGS, { error: `must be one of: ${ALERT_GROUPINGS.join(', ')}` }).default('none'),
      /** Named Slack and webhook channels that routes send to (`email` is built in). */
      channels: z
        .record(id, channelSchema, { error: 'must map channel names to channels' })
        .superRefine((channels, ctx) => {
          if ('email' in channels) ctx.addIssue({ code: 'custom', path: ['email'], message: '"email" is the built-in channel; pick another name' })
        })
        .default({}),
      /** Who gets a KPI or crisis alert: the first route that matches, else `recipients` (crisis: the crisis contacts). */
      routes: z.array(routeSchema, { error: 'must be a list of routes' }).default([]),
      /** The plan-wide evidence rule; a KPI's own `evidence` wins, field by field. */
      evidence: evidenceSchema.optional(),
      /** Warn this many days before a token with a known end expires (Meta tokens, LinkedIn refresh tokens). */
      credentialWarningDays: z.number({ error: 'must be a number of days' }).int('must be a whole number of days').min(1, 'must be at least 1 day').default(7),
    }),
    crisis: z
      .strictObject({
        contacts: z.array(contactSchema, { error: 'must be a list of contacts' }).min(1, 'must list at least one contact'),
        steps: textList.min(1, 'must list at least one step'),
        /** What counts as a crisis; none means the guide is only there to be read. */
        triggers: z.array(crisisTriggerSchema, { error: 'must be a list of triggers' }).default([]),
      })
      .optional(),
    review: reviewSchema.optional(),
  })
  // Cross-references are checked even when some fields are malformed, so one run names every
  // problem; hence the defensive reads below.
  .superRefine((plan, ctx) => checkReferences(plan as unknown as LoosePlan, ctx), { when: (payload) => typeof payload.value === 'object' && payload.value !== null })
  // Each account's settings leave the plan parsed by its network's schema (defaults filled in),
  // so a collector reads them typed and never parses them again; each KPI leaves with its target
  // a number (a percentage read as a fraction) and its unit.
  .transform((plan) => {
    for (const presence of plan.strategy.networks) {
      const schema = NETWORK_DESCRIPTORS[presence.network].settings
      if (schema) for (const account of presence.accounts) account.settings = schema.parse(account.settings ?? {}) as Record<string, unknown>
    }
    const kpis = plan.kpis.map((kpi) => ({ ...kpi, target: targetValue(kpi.target), unit: kpi.unit ?? defaultUnit(kpi) }))
    // One language for everything read; a plan that set only the review's (before company.language) speaks it everywhere.
    const language = plan.company.language ?? plan.review?.language ?? 'en'
    const review = plan.review ? { ...plan.review, language: plan.review.language ?? language } : undefined
    return { ...plan, company: { ...plan.company, language }, kpis, review }
  })

type Loose<T> = { [K in keyof T]?: unknown }
interface LoosePlan {
  objectives?: unknown
  kpis?: unknown
  alerting?: { routes?: unknown; channels?: unknown }
  strategy?: { networks?: unknown }
  crisis?: { triggers?: unknown }
  review?: { periods?: unknown }
}
const list = (value: unknown): Array<Record<string, unknown>> => (Array.isArray(value) ? value.filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null) : [])
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined)

/** What is wrong with a KPI's filter, for its network and each account it covers. */
function filterProblems(network: Network, filter: unknown, covered: Array<{ id?: string; settings?: unknown }>, metrics: string[]): Array<{ path: (string | number)[]; message: string }> {
  const descriptor = NETWORK_DESCRIPTORS[network]
  if (!descriptor.kpiFilter) return [{ path: [], message: `${descriptor.label} KPIs cannot be filtered; leave filter out` }]
  const parsed = descriptor.kpiFilter.schema.safeParse(filter)
  if (!parsed.success) return parsed.error.issues.map((issue) => ({ path: issue.path as (string | number)[], message: issue.message }))
  const problems: Array<{ path: (string | number)[]; message: string }> = []
  for (const account of covered) {
    const settings = descriptor.settings?.safeParse(account.settings ?? {})
    if (settings && !settings.success) continue
    for (const metric of metrics) {
      const result = descriptor.kpiFilter.segments(parsed.data, settings?.data, metric)
      if ('problem' in result) problems.push({ path: [], message: `account ${account.id}: ${result.problem}` })
    }
  }
  return [...new Map(problems.map((p) => [p.message, p])).values()]
}

/** The segments one KPI's filter selects of one of its accounts (see NetworkDescriptor.kpiFilter). */
function filterSegments(kpi: Kpi, account: PlanAccount): string[] {
  const descriptor = NETWORK_DESCRIPTORS[kpi.network]
  if (kpi.filter === undefined || !descriptor.kpiFilter) return []
  const result = descriptor.kpiFilter.segments(descriptor.kpiFilter.schema.parse(kpi.filter), account.settings, kpi.metric)
  return 'segments' in result ? result.segments : []
}

/** The segments the plan's KPIs narrow an account to: what its collection stores beside its total. */
export function accountSegments(plan: Plan, account: PlanAccount): string[] {
  const narrowing = plan.kpis.filter((kpi) => kpi.filter !== undefined && kpiAccounts(plan, kpi).some((a) => a.id === account.id && a.network === account.network))
  return [...new Set(narrowing.flatMap((kpi) => filterSegments(kpi, account)))]
}

/** The segments a KPI's filter selects, over its accounts; undefined without a filter. */
export function kpiSegments(plan: Plan, kpi: Kpi): string[] | undefined {
  if (kpi.filter === undefined) return undefined
  return [...new Set(kpiAccounts(plan, kpi).flatMap((account) => filterSegments(kpi, account)))]
}

function checkReferences(plan: LoosePlan, ctx: z.RefinementCtx): void {
  const objectivesList = list(plan.objectives)
  const kpis = Array.isArray(plan.kpis) ? (plan.kpis as unknown[]) : []
  const unique = (values: Array<string | undefined>, path: (string | number)[], what: string) => {
    const seen = new Set<string>()
    values.forEach((value, index) => {
      if (value === undefined) return
      if (seen.has(value)) ctx.addIssue({ code: 'custom', path: [...path, index, 'id'], message: `${what} id "${value}" is used twice` })
      seen.add(value)
    })
  }
  unique(
    objectivesList.map((o) => str(o.id)),
    ['objectives'],
    'objective',
  )
  unique(
    kpis.map((k) => (typeof k === 'object' && k ? str((k as Loose<Kpi>).id) : undefined)),
    ['kpis'],
    'KPI',
  )
  const accounts = list(plan.strategy?.networks).flatMap((n, ni) =>
    list(n.accounts).map((a, ai) => ({ id: str(a.id), network: str(n.network), settings: a.settings, authKind: str((a.auth as { kind?: unknown } | undefined)?.kind), ni, ai })),
  )
  const seen = new Set<string>()
  for (const account of accounts) {
    const descriptor = account.network && isNetwork(account.network) ? NETWORK_DESCRIPTORS[account.network] : undefined
    if (descriptor?.settings) {
      const parsed = descriptor.settings.safeParse(account.settings ?? {})
      if (!parsed.success) {
        for (const issue of parsed.error.issues) {
          ctx.addIssue({ code: 'custom', path: ['strategy', 'networks', account.ni, 'accounts', account.ai, 'settings', ...(issue.path as (string | number)[])], message: issue.message })
        }
      }
    }
    const offered = descriptor?.auth
    const authPath = ['strategy', 'networks', account.ni, 'accounts', account.ai, 'auth', 'kind']
    if (descriptor && account.authKind === 'oauth' && (!offered?.oauth || (account.network === 'tiktok' && (account.settings as { accountType?: unknown } | undefined)?.accountType === 'business'))) {
      ctx.addIssue({ code: 'custom', path: authPath, message: `${descriptor.label}${account.network === 'tiktok' ? ' business accounts' : ''} cannot use oauth here; use a static token (tokenEnv)` })
    }
    if (descriptor && account.authKind === 'service_account' && !offered?.serviceAccount) {
      ctx.addIssue({ code: 'custom', path: authPath, message: `${descriptor.label} does not accept service accounts${offered?.oauth ? '; use oauth' : ''}` })
    }
    if (account.id === undefined) continue
    if (seen.has(account.id)) {
      ctx.addIssue({ code: 'custom', path: ['strategy', 'networks', account.ni, 'accounts', account.ai, 'id'], message: `account id "${account.id}" is used twice` })
    }
    seen.add(account.id)
  }
  const triggers = list(plan.crisis?.triggers)
  unique(
    triggers.map((t) => str(t.id)),
    ['crisis', 'triggers'],
    'crisis trigger',
  )
  triggers.forEach((trigger, index) => {
    for (const issue of checkCrisisTrigger(trigger, accounts)) {
      ctx.addIssue({ code: 'custom', path: ['crisis', 'triggers', index, ...issue.path], message: issue.message })
    }
  })
  const objectives = new Set(objectivesList.map((o) => str(o.id)))
  const kpiIds = new Set(kpis.map((k) => (typeof k === 'object' && k ? str((k as Loose<Kpi>).id) : undefined)))
  list(plan.alerting?.routes).forEach((route, index) => {
    for (const [field, known, what] of [
      ['kpis', kpiIds, 'KPI'],
      ['objectives', objectives, 'objective'],
    ] as const) {
      const values = route[field]
      if (!Array.isArray(values)) continue
      values.forEach((value: unknown, vi: number) => {
        if (typeof value === 'string' && !known.has(value))
          ctx.addIssue({ code: 'custom', path: ['alerting', 'routes', index, field, vi], message: `names ${what} "${value}", which the plan does not define` })
      })
    }
    const channels = plan.alerting?.channels
    const defined = typeof channels === 'object' && channels !== null ? new Set(Object.keys(channels)) : new Set<string>()
    if (Array.isArray(route.channels)) {
      route.channels.forEach((name: unknown, ci: number) => {
        if (typeof name === 'string' && !defined.has(name))
          ctx.addIssue({ code: 'custom', path: ['alerting', 'routes', index, 'channels', ci], message: `names channel "${name}", which alerting.channels does not define` })
      })
    }
  })
  const reviewed = plan.review?.periods
  if (Array.isArray(reviewed)) {
    reviewed.forEach((kind: unknown, index: number) => {
      if (typeof kind === 'string' && kpis.length > 0 && !kpis.some((k) => typeof k === 'object' && k !== null && (k as Loose<Kpi>).period === kind)) {
        ctx.addIssue({ code: 'custom', path: ['review', 'periods', index], message: `no KPI of the plan is measured per ${kind}, so its review would be empty` })
      }
    })
  }
  kpis.forEach((raw, index) => {
    if (typeof raw !== 'object' || raw === null) return
    const kpi = raw as Loose<Kpi>
    const objective = str(kpi.objective)
    const network = str(kpi.network)
    if (objective !== undefined && objectivesList.length > 0 && !objectives.has(objective)) {
      ctx.addIssue({ code: 'custom', path: ['kpis', index, 'objective'], message: `names objective "${objective}", which the plan does not define` })
    }
    if (network === undefined || !isNetwork(network)) return
    const networkAccounts = accounts.filter((a) => a.network === network)
    if (networkAccounts.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['kpis', index, 'network'], message: `the strategy lists no ${network} account` })
    }
    if (kpi.filter !== undefined) {
      const covered = Array.isArray(kpi.accounts) ? networkAccounts.filter((a) => (kpi.accounts as unknown[]).includes(a.id)) : networkAccounts
      const metrics = [str(kpi.metric), str(kpi.denominator)].filter((m): m is string => !!m)
      for (const problem of filterProblems(network, kpi.filter, covered, metrics)) ctx.addIssue({ code: 'custom', path: ['kpis', index, 'filter', ...problem.path], message: problem.message })
    }
    if (Array.isArray(kpi.accounts)) {
      kpi.accounts.forEach((accountId: unknown, ai: number) => {
        if (typeof accountId === 'string' && !networkAccounts.some((a) => a.id === accountId)) {
          ctx.addIssue({ code: 'custom', path: ['kpis', index, 'accounts', ai], message: `"${accountId}" is not a ${network} account of the strategy` })
        }
      })
    }
    const available = Object.keys(METRICS[network])
    const kind = findKpiKind(kpi.kind)
    for (const field of ['metric', 'denominator'] as const) {
      const metric = str(kpi[field])
      if (metric !== undefined && !available.includes(metric)) {
        ctx.addIssue({ code: 'custom', path: ['kpis', index, field], message: `${network} has no metric "${metric}"; available: ${available.join(', ')}` })
        continue
      }
      const shape = metric === undefined ? undefined : METRICS[network][metric]!.shape
      if (shape && kind && !kind.shapes.includes(shape)) {
        const fitting = available.filter((m) => kind.shapes.includes(METRICS[network][m]!.shape))
        ctx.addIssue({
          code: 'custom',
          path: ['kpis', index, field],
          message: `a ${kind.name} KPI needs ${kind.needs}; "${metric}" is ${shape === 'gauge' ? 'a level' : 'a count'}. Fitting ${network} metrics: ${fitting.join(', ')}`,
        })
      }
    }
    const subject = { network, kind: str(kpi.kind) ?? '', metric: str(kpi.metric) ?? '', denominator: str(kpi.denominator) }
    const unit = typeof kpi.unit === 'string' && (KPI_UNITS as readonly string[]).includes(kpi.unit) ? (kpi.unit as KpiUnit) : undefined
    const known = kind !== undefined && available.includes(subject.metric) && (subject.denominator === undefined || available.includes(subject.denominator))
    if (known && unit) {
      const problem = unitProblem(subject, unit)
      if (problem) ctx.addIssue({ code: 'custom', path: ['kpis', index, 'unit'], message: problem })
    }
    // A text that is no percentage is wrong whatever the KPI; a percentage, for the KPI it is on.
    const problem = known ? targetProblem(kpi.target, subject, unit ?? defaultUnit(subject)) : typeof kpi.target === 'string' && parsePercent(kpi.target) === null ? POSITIVE : null
    if (problem) ctx.addIssue({ code: 'custom', path: ['kpis', index, 'target'], message: problem })
    // Money (its metric or denominator) is never added across currencies, whatever unit shows it.
    const money = [subject.metric, subject.denominator].some((m) => m !== undefined && METRICS[network][m]?.money === true)
    if (known && money) {
      const covered = Array.isArray(kpi.accounts) ? networkAccounts.filter((a) => (kpi.accounts as unknown[]).includes(a.id)) : networkAccounts
      const declared = covered.flatMap((a) => {
        const currency = (a.settings as { currency?: unknown } | undefined)?.currency
        return typeof currency === 'string' ? [{ id: a.id, currency }] : []
      })
      if (new Set(declared.map((d) => d.currency)).size > 1) {
        ctx.addIssue({
          code: 'custom',
          path: ['kpis', index, 'accounts'],
          message: `would add amounts in different currencies (${declared.map((d) => `${d.id}: ${d.currency}`).join(', ')}), which are never converted; give each currency a KPI of its own`,
        })
      }
    }
    if (kind?.denominator && kpi.denominator === undefined) {
      ctx.addIssue({ code: 'custom', path: ['kpis', index, 'denominator'], message: `a ${kind.name} KPI needs a denominator metric (${kind.name} = metric ÷ denominator)` })
    }
    if (kpi.kind !== undefined && !kind?.denominator && kpi.denominator !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['kpis', index, 'denominator'], message: `only a ${RATIO_KINDS} KPI has a denominator` })
    }
  })
}

/**
 * What is wrong with a KPI's target, in its unit: a number above zero, or for a rate a percentage
 * (`3%`). A percentage is refused where it means nothing (a count, money), and a rate that cannot
 * pass 100 % (clicks of impressions) cannot have a target above it either: `3` there means 300 %.
 */
function targetProblem(target: unknown, kpi: { network: Network; kind: string; metric: string; denominator?: string | undefined }, unit: KpiUnit): string | null {
  const ratio = findKpiKind(kpi.kind)?.denominator === true
  const percentOk = ratio && unit !== 'currency'
  if (typeof target === 'string') {
    const value = parsePercent(target)
    if (value === null) return percentOk ? `${POSITIVE}, or a percentage such as 3%` : POSITIVE
    if (!percentOk) {
      return ratio
        ? `"${target}" is a percentage, but this rate is shown as ${unit}; write the target as a number`
        : `"${target}" is a percentage, but only a rate KPI (metric ÷ denominator) is measured in percent; a ${kpi.kind} of ${kpi.metric} is ${unit === 'currency' ? 'an amount of money' : 'a number'}: write it as one, such as 500`
    }
    if (value === 'ambiguous') {
      const [whole, fraction] = target.replace(/\s*%$/, '').trim().split(',')
      return `"${target}": is the comma a decimal comma or a thousands separator? Write ${whole}.${fraction}% or ${whole}${fraction}%`
    }
    if (value <= 0) return POSITIVE
    return wholeProblem(value, kpi)
  }
  // Not a positive number, or not a number or a text at all: the schema has said so.
  if (typeof target !== 'number' || !(target > 0)) return null
  return ratio ? wholeProblem(target, kpi) : null
}

/** A rate of a part over its whole (clicks of impressions) is at most 1: a target above it is a percentage written as a number. */
function wholeProblem(value: number, kpi: { network: Network; metric: string; denominator?: string | undefined }): string | null {
  const partOf = METRICS[kpi.network][kpi.metric]?.partOf
  if (value <= 1 || partOf === undefined || partOf !== kpi.denominator) return null
  return `${kpi.metric} are part of ${kpi.denominator}, so their rate cannot pass 100% (a target of 1); for ${value} percent write ${value}%, or ${value / 100} as a fraction`
}

/** A target as the evaluator reads it: a number; a percentage as a fraction (the plan was checked). */
function targetValue(target: number | string): number {
  if (typeof target === 'number') return target
  const value = parsePercent(target)
  return typeof value === 'number' ? value : Number.NaN
}

export type Plan = z.infer<typeof planSchema>
export type Kpi = Plan['kpis'][number]
export type PlanAccount = z.infer<typeof accountSchema> & { network: Plan['strategy']['networks'][number]['network'] }
export type KpiKind = (typeof KPI_KINDS)[number]
export type PeriodSpec = Kpi['period']
export type AlertRoute = Plan['alerting']['routes'][number]
export type ChannelDefinition = Plan['alerting']['channels'][string]

/** The environment variables the plan's alert channels name (webhook URLs, signing secrets), for the scrubber. */
export function channelSecretNames(plan: Plan): string[] {
  return Object.values(plan.alerting.channels).flatMap((channel) => (channel.type === 'webhook' ? [channel.urlEnv, channel.secretEnv] : [channel.urlEnv]))
}
export type ReviewKind = (typeof REVIEW_PERIODS)[number]
export type ReviewLanguage = string

const TOP_LEVEL = 'company, objectives, strategy, kpis and alerting (see examples/plan.yaml)'

/** What a document is, in the words of YAML: a list, a number, a text, ... */
function describeValue(value: unknown): string {
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'string') return 'a single text'
  if (typeof value === 'number') return 'a single number'
  if (typeof value === 'boolean') return `a single ${value}`
  return `a ${typeof value}`
}

/** What names an item of a list, shown beside its index: a KPI's, objective's or account's `id`, a network presence's `network`, a crisis contact's `name`. */
const ITEM_NAMES = ['id', 'network', 'name'] as const

/**
 * A path in the document as a person reads it: each list index followed by the item's id, when it
 * has one (`kpis[5] (fb-likes-month).target`), so a problem is found without counting items.
 */
export function labelledPath(document: unknown, path: ReadonlyArray<PropertyKey>): string {
  let out = ''
  let node: unknown = document
  for (const part of path) {
    const child = typeof node === 'object' && node !== null ? (node as Record<PropertyKey, unknown>)[part as string] : undefined
    if (typeof part === 'number') {
      out += `[${part}]`
      const item = typeof child === 'object' && child !== null ? (child as Record<string, unknown>) : undefined
      const name = ITEM_NAMES.map((key) => item?.[key]).find((value): value is string => typeof value === 'string' && value.trim() !== '')
      if (name !== undefined) out += ` (${name})`
    } else out += out ? `.${String(part)}` : String(part)
    node = child
  }
  return out
}

/** Validates an already-parsed document; `file` only names the source in errors, and `found` are problems seen while reading it. */
export function parsePlan(document: unknown, file: string, found: InputIssue[] = []): Plan {
  if (document === null || document === undefined || (typeof document === 'string' && document.trim() === '')) {
    throw new PlanError(file, [{ path: '', message: `the file is empty; a plan needs at least ${TOP_LEVEL}` }])
  }
  // The one place a problem has no path: say what the top level must be, not what zod expected.
  if (typeof document !== 'object' || Array.isArray(document)) {
    throw new PlanError(file, [{ path: '', message: `the top level must be a mapping with ${TOP_LEVEL}; this file holds ${describeValue(document)}` }])
  }
  // With the input in each issue, a value of the wrong type is told apart from a missing one.
  const result = planSchema.safeParse(document, { reportInput: true })
  if (result.success && found.length === 0) return result.data
  const issues: InputIssue[] = (result.error?.issues ?? []).map((issue) => ({
    path: issuePath(issue.path),
    where: labelledPath(document, issue.path),
    message: (issue.code === 'invalid_type' || issue.code === 'invalid_union') && issue.input === undefined ? 'is required' : issue.message,
  }))
  throw new PlanError(file, [...found, ...issues])
}

/**
 * The largest plan file read. A plan is text a person writes (the example is 16 kB); far larger
 * is a wrong file, and parsing it would take the time and memory of its size many times over.
 */
const PLAN_MAX_BYTES = 1024 * 1024

/**
 * The file's text: at most PLAN_MAX_BYTES, which is checked before anything is parsed (from the
 * size on disk, and while reading for what has none, such as a pipe); UTF-8 (a BOM is dropped).
 */
async function readPlanText(file: string): Promise<string> {
  const unreadable = (cause: unknown) => new PlanError(file, [{ path: '', message: `cannot read the file (${(cause as NodeJS.ErrnoException).code ?? 'error'})` }], { cause, code: 'PLAN_UNREADABLE' })
  const megabytes = (bytes: number) => (bytes >= 1.1 * PLAN_MAX_BYTES ? `${(bytes / PLAN_MAX_BYTES).toFixed(1)} MB` : `${bytes.toLocaleString('en-US')} bytes`)
  const tooLarge = (size?: number) =>
    new PlanError(
      file,
      [
        {
          path: '',
          message: `the file is ${size === undefined ? 'over 1 MB' : megabytes(size)}; a plan is at most 1 MB (${PLAN_MAX_BYTES.toLocaleString('en-US')} bytes) of YAML or JSON text: is it the right file?`,
        },
      ],
      { code: 'PLAN_TOO_LARGE' },
    )
  let handle: Awaited<ReturnType<typeof open>>
  try {
    handle = await open(file, 'r')
  } catch (cause) {
    throw unreadable(cause)
  }
  let bytes: Buffer
  try {
    const stat = await handle.stat()
    if (stat.isFile() && stat.size > PLAN_MAX_BYTES) throw tooLarge(stat.size)
    const buffer = Buffer.alloc(PLAN_MAX_BYTES + 1)
    let length = 0
    for (;;) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null)
      if (bytesRead === 0) break
      length += bytesRead
      if (length > PLAN_MAX_BYTES) throw tooLarge()
    }
    bytes = buffer.subarray(0, length)
  } catch (cause) {
    if (cause instanceof PlanError) throw cause
    throw unreadable(cause)
  } finally {
    await handle.close()
  }
  // Text has no NUL bytes, and a plan is UTF-8: anything else is not a plan file at all.
  const binary = bytes.indexOf(0)
  let text: string | undefined
  if (binary === -1) {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    } catch {
      // not UTF-8: said below
    }
  }
  if (text === undefined) {
    throw new PlanError(file, [{ path: '', message: `this is not a text file (${binary === -1 ? 'it is not UTF-8' : `byte ${binary} is NUL`}); a plan is YAML or JSON text` }], {
      code: 'PLAN_UNREADABLE',
    })
  }
  return text
}

/** Reads a plan from YAML (or JSON, by extension), validates it, and names every problem. */
export async function loadPlan(file: string): Promise<Plan> {
  return parsePlanText(await readPlanText(file), file)
}

/** Reads a plan from its text, YAML (or JSON, by the file's extension), validates it, and names every problem. */
export function parsePlanText(raw: string, file: string): Plan {
  const json = extname(file).toLowerCase() === '.json'
  let document: unknown
  let rounded: InputIssue[] = []
  try {
    // The syntax tree keeps each number's text, which the value alone has lost (JSON is YAML too).
    const tree = parseDocument(raw, { prettyErrors: true })
    if (json) document = JSON.parse(raw)
    else if (tree.errors[0]) throw tree.errors[0]
    else document = tree.toJS()
    if (tree.errors.length === 0) rounded = roundedNumbers(tree.contents, raw, document)
  } catch (cause) {
    const where = cause instanceof YAMLParseError && cause.linePos ? `line ${cause.linePos[0].line}, column ${cause.linePos[0].col}` : ''
    const message = cause instanceof Error ? cause.message.split('\n')[0]! : String(cause)
    throw new PlanError(file, [{ path: where, message: `not valid ${json ? 'JSON' : 'YAML'}: ${message}` }], { cause, code: 'PLAN_UNREADABLE' })
  }
  return parsePlan(document, file, rounded)
}

/**
 * Whole numbers written with more digits than a number holds exactly (past 2^53): YAML and JSON
 * read `apiId: 17841400000000001` as 17841400000000000, a different account. Each is refused with
 * its path, asking for quotes, which keep it as written. Walked with a stack of its own, so the
 * depth of the document does not matter.
 */
function roundedNumbers(root: unknown, raw: string, document: unknown): InputIssue[] {
  const issues: InputIssue[] = []
  const stack: Array<{ node: unknown; path: Array<string | number> }> = [{ node: root, path: [] }]
  while (stack.length > 0) {
    const { node, path } = stack.pop()!
    if (isMap(node)) {
      for (const pair of node.items) stack.push({ node: pair.value, path: [...path, String(isScalar(pair.key) ? pair.key.value : pair.key)] })
    } else if (isSeq(node)) {
      for (const [index, item] of node.items.entries()) stack.push({ node: item, path: [...path, index] })
    } else if (isScalar(node) && typeof node.value === 'number' && node.range) {
      const text = raw.slice(node.range[0], node.range[1]).trim()
      if (/^[-+]?\d+$/.test(text) && !Number.isSafeInteger(node.value)) {
        issues.push({
          path: issuePath(path),
          where: labelledPath(document, path),
          message: `${text} has more digits than a number keeps exactly (it would be read as ${BigInt(node.value)}); write it in quotes, "${text}"`,
        })
      }
    }
  }
  return issues.reverse()
}

/** All accounts of the plan, each with its network. */
/** How the account authenticates: its `auth`, or a static token in `tokenEnv`. */
export function accountAuth(account: Pick<PlanAccount, 'auth' | 'tokenEnv'>): AccountAuth {
  return account.auth ?? { kind: 'token', tokenEnv: account.tokenEnv! }
}

/** An environment variable the plan names, where it names it, and what happens without it. */
export interface NamedVariable {
  path: string
  variable: string
  /** `start`: the process refuses to start; `account`: the account is not collected (an ACTION NEEDED email says so). */
  without: 'start' | 'account'
}

/**
 * Every environment variable the plan names that must hold a value: the channels' URLs and
 * secrets (without them `start` refuses to run) and each account's token, OAuth client id or key
 * file (without them that account is not collected). `plan validate` warns about the unset ones.
 */
export function namedVariables(plan: Plan): NamedVariable[] {
  const named: NamedVariable[] = []
  for (const [name, channel] of Object.entries(plan.alerting.channels)) {
    for (const [field, variable] of Object.entries(channel)) if (field.endsWith('Env')) named.push({ path: `alerting.channels.${name}.${field}`, variable: String(variable), without: 'start' })
  }
  for (const [n, presence] of plan.strategy.networks.entries()) {
    for (const [a, account] of presence.accounts.entries()) {
      const at = `strategy.networks[${n}].accounts[${a}]`
      const auth = accountAuth(account)
      if (auth.kind === 'token') named.push({ path: account.auth ? `${at}.auth.tokenEnv` : `${at}.tokenEnv`, variable: auth.tokenEnv, without: 'account' })
      else if (auth.kind === 'oauth') named.push({ path: `${at}.auth.clientIdEnv`, variable: auth.clientIdEnv, without: 'account' })
      else named.push({ path: `${at}.auth.keyFileEnv`, variable: auth.keyFileEnv, without: 'account' })
    }
  }
  return named
}

/** Every environment variable an account's credentials name (its tokens, client secrets, key file path). */
export function accountSecretNames(account: Pick<PlanAccount, 'auth' | 'tokenEnv'>): string[] {
  const auth = accountAuth(account)
  if (auth.kind === 'token') return [auth.tokenEnv]
  if (auth.kind === 'oauth') return [auth.clientSecretEnv, auth.refreshTokenEnv].filter((name): name is string => !!name)
  return []
}

export function planAccounts(plan: Plan): PlanAccount[] {
  return plan.strategy.networks.flatMap((presence) => presence.accounts.map((account) => ({ ...account, network: presence.network })))
}

/** When a KPI may be called at risk, as the plan gives it (kpis[].evidence, alerting.evidence); left out: the defaults (kpi/pacing.ts). */
export type EvidenceOverrides = z.infer<typeof evidenceSchema>

/**
 * The evidence rule's overrides for a KPI: its own `evidence`, field by field over the plan's
 * `alerting.evidence`. Fields neither gives are left out (kpi/pacing.ts fills in the defaults).
 */
export function kpiEvidence(plan: Plan, kpi: Kpi): EvidenceOverrides {
  const given = (overrides: EvidenceOverrides | undefined) => Object.fromEntries(Object.entries(overrides ?? {}).filter(([, value]) => value !== undefined))
  return { ...given(plan.alerting.evidence), ...given(kpi.evidence) }
}

/** The accounts a KPI covers: those it names, or every account of its network. */
export function kpiAccounts(plan: Plan, kpi: Kpi): PlanAccount[] {
  const all = planAccounts(plan).filter((account) => account.network === kpi.network)
  return kpi.accounts ? all.filter((account) => kpi.accounts!.includes(account.id)) : all
}

/** The metrics the plan's KPIs read from an account (their metrics and denominators). */
export function accountMetrics(plan: Plan, account: Pick<PlanAccount, 'id' | 'network'>): string[] {
  const kpis = plan.kpis.filter((kpi) => kpiAccounts(plan, kpi).some((a) => a.id === account.id && a.network === account.network))
  return [...new Set(kpis.flatMap((kpi) => [kpi.metric, ...(kpi.denominator ? [kpi.denominator] : [])]))]
}

/** The plan's key in stored rows (alert decisions, reviews, the plan tables): its company's name, hashed. */
export const planKey = (plan: Plan): string => createHash('sha256').update(plan.company.name).digest('hex').slice(0, 16)

/** Who speaks to the plan's people: its language (`company.language`) on its clock (`company.timezone`). */
export const planSpeaker = (plan: Pick<Plan, 'company'>): Speaker => speaker(plan.company.language, plan.company.timezone)
