import { describe, expect, it } from 'vitest'
import { PlanError } from '../../core/errors.ts'
import { kpiEvidence, loadPlan, parsePlan, planAccounts } from '../../plan/plan.ts'

async function problems(file: string): Promise<string[]> {
  try {
    await loadPlan(file)
  } catch (error) {
    if (error instanceof PlanError) return error.issues.map((issue) => `${issue.path}: ${issue.message}`)
    throw error
  }
  throw new Error('the plan was accepted')
}

describe('plan files', () => {
  it.each(['examples/plan.yaml', 'examples/rencana-media-sosial.yaml'])('%s is valid', async (file) => {
    const plan = await loadPlan(file)
    expect(plan.kpis.length).toBeGreaterThan(3)
    expect(planAccounts(plan).every((account) => /^[A-Z][A-Z0-9_]*$/.test(account.tokenEnv ?? ''))).toBe(true)
  })

  it('names every problem of a broken plan by its path, in plain words', async () => {
    const found = await problems('test/fixtures/broken-plan.yaml')
    expect(found).toEqual(
      expect.arrayContaining([
        'company.timezone: must be an IANA time zone such as Asia/Jakarta',
        'strategy.networks[0].accounts[0].tokenEnv: must name an environment variable, such as FB_PAGE_TOKEN (the token itself never goes in the plan)',
        'kpis[1].period: must be one of day, week, month, quarter, year, or { from: YYYY-MM-DD, to: YYYY-MM-DD }',
        'kpis[2].target: must be a positive number',
        'alerting.recipients[0]: must be an email address',
        'kpis[1].objective: names objective "reach", which the plan does not define',
        'kpis[3].denominator: a rate KPI needs a denominator metric (rate = metric ÷ denominator)',
      ]),
    )
    expect(found).toHaveLength(7)
  })

  it('checks references between sections once the shapes are right', () => {
    const base = {
      company: { name: 'C' },
      objectives: [{ id: 'o', name: 'O' }],
      strategy: { networks: [{ network: 'facebook', accounts: [{ id: 'a', name: 'A', apiId: 1, tokenEnv: 'T' }] }] },
      alerting: { recipients: ['x@example.com'] },
    }
    const kpi = { id: 'k', name: 'K', objective: 'o', network: 'facebook', metric: 'likes', kind: 'total', target: 1, period: 'month' }
    expect(() => parsePlan({ ...base, kpis: [kpi] }, 'p.yaml')).not.toThrow()
    const bad = [
      { ...kpi, objective: 'nope' },
      { ...kpi, id: 'k2', accounts: ['zzz'] },
      { ...kpi, id: 'k3', metric: 'conversions' },
      { ...kpi, id: 'k4', kind: 'rate' },
    ]
    try {
      parsePlan({ ...base, kpis: bad }, 'p.yaml')
      expect.unreachable()
    } catch (error) {
      const found = (error as PlanError).issues.map((i) => `${i.path}: ${i.message}`)
      expect(found).toEqual([
        'kpis[0].objective: names objective "nope", which the plan does not define',
        'kpis[1].accounts[0]: "zzz" is not a facebook account of the strategy',
        expect.stringMatching(/^kpis\[2\]\.metric: facebook has no metric "conversions"; available: followers, /),
        'kpis[3].denominator: a rate KPI needs a denominator metric (rate = metric ÷ denominator)',
      ])
      expect((error as PlanError).message).toContain('p.yaml')
    }
  })

  it('reports unreadable files and YAML syntax errors with their location', async () => {
    expect(await problems('test/fixtures/does-not-exist.yaml')).toEqual([': cannot read the file (ENOENT)'])
  })

  it('applies defaults a newcomer would expect', () => {
    const plan = parsePlan(
      {
        company: { name: 'C' },
        objectives: [{ id: 'o', name: 'O' }],
        strategy: { networks: [{ network: 'facebook', accounts: [{ id: 'a', name: 'A', apiId: '1', tokenEnv: 'T' }] }] },
        kpis: [{ id: 'k', name: 'K', objective: 'o', network: 'facebook', metric: 'likes', kind: 'total', target: 10, period: 'week' }],
        alerting: { recipients: ['x@example.com'] },
      },
      'p.yaml',
    )
    expect(plan.company.timezone).toBe('UTC')
    expect(plan.collection).toEqual({ schedule: '*/15 * * * *', evaluateSchedule: '5 * * * *', lookbackDays: 28 })
    expect(plan.alerting.repeatInterval).toBe(24 * 3_600_000)
    expect(plan.kpis[0]!.comparator).toBe('at_least')
    expect(plan.kpis[0]!.tolerance).toBe(0.1)
  })
})

describe('plan checks that catch silent mistakes', () => {
  const base = {
    company: { name: 'C' },
    objectives: [{ id: 'o', name: 'O' }],
    strategy: { networks: [{ network: 'facebook', accounts: [{ id: 'a', name: 'A', apiId: '1', tokenEnv: 'T' }] }] },
    alerting: { recipients: ['x@example.com'] },
  }
  const kpi = { id: 'k', name: 'K', objective: 'o', network: 'facebook', metric: 'likes', kind: 'total', target: 10, period: 'week' }
  const issues = (document: unknown) => {
    try {
      parsePlan(document, 'p.yaml')
    } catch (error) {
      return (error as PlanError).issues.map((i) => `${i.path}: ${i.message}`)
    }
    return []
  }

  it('rejects a misspelt key instead of silently using the default', () => {
    expect(issues({ ...base, kpis: [{ ...kpi, tolerence: 0.5 }] })).toEqual(['kpis[0]: Unrecognized key: "tolerence"'])
    expect(issues({ ...base, kpis: [kpi], alertng: {} })).toEqual([': Unrecognized key: "alertng"'])
  })

  it('rejects a KPI kind that cannot read its metric', () => {
    expect(issues({ ...base, kpis: [{ ...kpi, kind: 'level' }] })).toEqual([
      'kpis[0].metric: a level KPI needs a level such as followers; "likes" is a count. Fitting facebook metrics: followers, fans',
    ])
    expect(issues({ ...base, kpis: [{ ...kpi, metric: 'followers' }] })[0]).toMatch(/^kpis\[0\]\.metric: a total KPI needs a count such as likes or clicks; "followers" is a level/)
  })

  it('refuses a schedule of rounds less than 10 s apart (a six-field cron counts seconds) and takes a round deadline as a duration', () => {
    expect(issues({ ...base, kpis: [kpi], collection: { schedule: '* * * * * *' } })).toEqual([
      'collection.schedule: runs every 1 s; rounds must be at least 10 s apart (a sixth, leading field counts seconds: "*/15 * * * *" is every 15 minutes)',
    ])
    expect(issues({ ...base, kpis: [kpi], collection: { schedule: '*/15 * * * * *', evaluateSchedule: '5 * *' } })).toEqual([
      'collection.evaluateSchedule: must be a cron expression such as "*/15 * * * *" (minute hour day month weekday)',
    ])
    expect(issues({ ...base, kpis: [kpi], collection: { roundDeadline: '0s' } })).toEqual(['collection.roundDeadline: must be longer than 0s'])
    expect(parsePlan({ ...base, kpis: [kpi], collection: { schedule: '*/5 * * * *', roundDeadline: '90s' } }, 'p.yaml').collection.roundDeadline).toBe(90_000)
  })

  it('explains an empty file', () => {
    expect(issues(null)).toEqual([': the file is empty; a plan needs at least company, objectives, strategy, kpis and alerting (see examples/plan.yaml)'])
  })

  it('says what the top level must be when it is a list or a single value', () => {
    const expected = (holds: string) => [`: the top level must be a mapping with company, objectives, strategy, kpis and alerting (see examples/plan.yaml); this file holds ${holds}`]
    expect(issues([{ ...base, kpis: [kpi] }])).toEqual(expected('a list'))
    expect(issues('company: C')).toEqual(expected('a single text'))
    expect(issues(42)).toEqual(expected('a single number'))
    expect(issues(false)).toEqual(expected('a single false'))
  })

  it('tells a value of the wrong type from a missing one', () => {
    expect(issues({ ...base, kpis: [{ ...kpi, target: 'ten' }] })).toEqual(['kpis[0].target: must be a positive number'])
    const { target: _, ...untargeted } = kpi
    expect(issues({ ...base, kpis: [untargeted] })).toEqual(['kpis[0].target: is required'])
  })
})

describe('evidence before alarm in the plan', () => {
  const base = {
    company: { name: 'C' },
    objectives: [{ id: 'o', name: 'O' }],
    strategy: { networks: [{ network: 'facebook', accounts: [{ id: 'a', name: 'A', apiId: '1', tokenEnv: 'T' }] }] },
  }
  const kpi = { id: 'k', name: 'K', objective: 'o', network: 'facebook', metric: 'likes', kind: 'total', target: 10, period: 'week' }
  const plan = (kpis: object[], alerting: object = {}) => parsePlan({ ...base, kpis, alerting: { recipients: ['x@example.com'], ...alerting } }, 'p.yaml')
  const issues = (kpis: object[], alerting: object = {}) => {
    try {
      plan(kpis, alerting)
    } catch (error) {
      return (error as PlanError).issues.map((i) => `${i.path}: ${i.message}`)
    }
    return []
  }

  it("takes the KPI's own evidence over the plan-wide one, field by field", () => {
    const parsed = plan(
      [
        { ...kpi, evidence: { minElapsed: 0.05, minExpected: 50 } },
        { ...kpi, id: 'k2', evidence: { minExpected: 'none' } },
        { ...kpi, id: 'k3' },
      ],
      { evidence: { minElapsed: 0.2, minExpected: 7 } },
    )
    expect(parsed.kpis.map((k) => kpiEvidence(parsed, k))).toEqual([
      { minElapsed: 0.05, minExpected: 50 },
      { minElapsed: 0.2, minExpected: 'none' },
      { minElapsed: 0.2, minExpected: 7 },
    ])
    // neither given: nothing, so kpi/pacing.ts applies its defaults
    const plain = plan([kpi])
    expect(kpiEvidence(plain, plain.kpis[0]!)).toEqual({})
  })

  it('names a bad evidence setting by its path, in plain words', () => {
    expect(issues([{ ...kpi, evidence: { minElapsed: 1.5, minExpected: -1 } }])).toEqual([
      'kpis[0].evidence.minElapsed: must be a share of the period from 0 to 1, such as 0.1 (a tenth: 3 days of a month)',
      "kpis[0].evidence.minExpected: must be a number of 0 or more (what is expected by now, in the KPI's unit), or none",
    ])
    expect(issues([{ ...kpi, evidence: { minExpected: 'all' } }], { evidence: 5 })).toEqual([
      "kpis[0].evidence.minExpected: must be a number of 0 or more (what is expected by now, in the KPI's unit), or none",
      'alerting.evidence: must be a map with minElapsed and/or minExpected',
    ])
    expect(issues([kpi], { evidence: { minElapsd: 0.1 } })).toEqual(['alerting.evidence: Unrecognized key: "minElapsd"'])
  })
})

describe('crisis triggers in the plan', () => {
  it('checks trigger accounts against the strategy and ids for uniqueness', () => {
    const document = {
      company: { name: 'C' },
      objectives: [{ id: 'o', name: 'O' }],
      strategy: { networks: [{ network: 'facebook', accounts: [{ id: 'a', name: 'A', apiId: '1', tokenEnv: 'T' }] }] },
      kpis: [{ id: 'k', name: 'K', objective: 'o', network: 'facebook', metric: 'likes', kind: 'total', target: 10, period: 'week' }],
      alerting: { recipients: ['x@example.com'] },
      crisis: {
        contacts: [{ name: 'N', email: 'n@example.com' }],
        steps: ['Breathe'],
        triggers: [
          { id: 'drop', kind: 'follower_drop', network: 'facebook', accounts: ['nope'], dropPercent: 2 },
          { id: 'drop', kind: 'follower_drop', dropPercent: 5 },
        ],
      },
    }
    try {
      parsePlan(document, 'p.yaml')
      expect.unreachable()
    } catch (error) {
      const found = (error as PlanError).issues.map((i) => `${i.path}: ${i.message}`)
      expect(found).toContain('crisis.triggers[1].id: crisis trigger id "drop" is used twice')
      expect(found.some((f) => f.startsWith('crisis.triggers[0].accounts[0]: '))).toBe(true)
    }
  })
})

describe('account auth', () => {
  const planWith = (network: string, account: Record<string, unknown>) => ({
    company: { name: 'Auth' },
    objectives: [{ id: 'reach', name: 'Reach' }],
    strategy: { networks: [{ network, accounts: [{ id: 'a1', name: 'A', apiId: '1', ...account }] }] },
    kpis: [
      network === 'ga4'
        ? { id: 'k', name: 'K', objective: 'reach', network, metric: 'sessions', kind: 'total', target: 1, period: 'month' }
        : { id: 'k', name: 'K', objective: 'reach', network, metric: 'followers', kind: 'level', target: 1, period: 'month' },
    ],
    alerting: { recipients: ['a@example.com'] },
  })
  const issues = (document: unknown) => {
    try {
      parsePlan(document, 'plan.yaml')
      return []
    } catch (error) {
      return (error as PlanError).issues.map((i) => `${i.path}: ${i.message}`)
    }
  }
  const oauth = { kind: 'oauth', clientIdEnv: 'CLIENT_ID', clientSecretEnv: 'CLIENT_SECRET' }

  it('accepts a static token, OAuth where the network has it, and a GA4 service account', async () => {
    expect(issues(planWith('facebook', { tokenEnv: 'FB_TOKEN' }))).toEqual([])
    for (const network of ['youtube', 'ga4', 'x', 'tiktok', 'linkedin']) expect(issues(planWith(network, { auth: oauth })), network).toEqual([])
    expect(issues(planWith('ga4', { auth: { kind: 'service_account', keyFileEnv: 'GA4_KEY' } }))).toEqual([])
    const plan = parsePlan(planWith('x', { auth: oauth }), 'plan.yaml')
    expect(planAccounts(plan)[0]).toMatchObject({ auth: oauth })
    expect(planAccounts(plan)[0]!.tokenEnv).toBeUndefined()
  })

  it('names what is wrong, by path', () => {
    const at = 'strategy.networks[0].accounts[0]'
    expect(issues(planWith('facebook', { auth: oauth }))).toEqual([`${at}.auth.kind: Facebook Pages cannot use oauth here; use a static token (tokenEnv)`])
    expect(issues(planWith('youtube', { auth: { kind: 'service_account', keyFileEnv: 'K' } }))).toEqual([`${at}.auth.kind: YouTube does not accept service accounts; use oauth`])
    expect(issues(planWith('tiktok', { auth: oauth, settings: { accountType: 'business' } }))).toEqual([
      `${at}.auth.kind: TikTok business accounts cannot use oauth here; use a static token (tokenEnv)`,
    ])
    expect(issues(planWith('x', { tokenEnv: 'X_TOKEN', auth: oauth }))).toEqual([`${at}.auth: give either tokenEnv or auth, not both`])
    expect(issues(planWith('x', {}))).toEqual([`${at}.tokenEnv: is required: name the environment variable that holds the token, or give auth: (oauth or service_account)`])
    expect(issues(planWith('x', { auth: { kind: 'oauth', clientIdEnv: 'x-client-id' } }))).toEqual([
      `${at}.auth.clientIdEnv: must name an environment variable, such as X_CLIENT_ID (the secret itself never goes in the plan)`,
    ])
    expect(issues(planWith('x', { auth: { kind: 'password' } }))[0]).toMatch(/auth(\.kind)?: /)
  })
})
