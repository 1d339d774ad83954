import { describe, expect, it } from 'vitest'
import { alertTarget, isSilenced, parseTimeArgument, silencePredicate, silenceState, silencesFor, validateSilence, type Silence } from '../../alerts/silences.ts'
import { SocialKpiError } from '../../core/errors.ts'
import { parsePlan, type Plan } from '../../plan/plan.ts'

const t = (iso: string) => new Date(iso)

const plan: Plan = parsePlan(
  {
    company: { name: 'Kopi Nusantara', timezone: 'Asia/Jakarta' },
    objectives: [
      { id: 'awareness', name: 'Awareness' },
      { id: 'relationships', name: 'Relationships' },
    ],
    strategy: {
      networks: [
        {
          network: 'facebook',
          accounts: [
            { id: 'main', name: 'Kopi Nusantara', apiId: '1', tokenEnv: 'FB_A' },
            { id: 'bandung', name: 'Kopi Nusantara Bandung', apiId: '2', tokenEnv: 'FB_B' },
          ],
        },
      ],
    },
    kpis: [
      { id: 'main-followers', name: 'Main followers', objective: 'awareness', network: 'facebook', accounts: ['main'], metric: 'followers', kind: 'level', target: 1000, period: 'month' },
      { id: 'all-followers', name: 'All followers', objective: 'awareness', network: 'facebook', metric: 'followers', kind: 'level', target: 2000, period: 'month' },
      { id: 'main-likes', name: 'Likes', objective: 'relationships', network: 'facebook', accounts: ['main'], metric: 'likes', kind: 'total', target: 100, period: 'month' },
    ],
    alerting: { recipients: ['team@example.com'] },
    crisis: {
      contacts: [{ name: 'Dewi', email: 'dewi@example.com' }],
      steps: ['Confirm the facts'],
      triggers: [{ id: 'drop', kind: 'follower_drop', dropPercent: 2, windowHours: 24, accounts: ['main'] }],
    },
  },
  'test.yaml',
)

const silence = (matchers: Silence['matchers'], overrides: Partial<Silence> = {}): Silence => ({
  id: `sil-${Object.values(matchers).join('')}`,
  matchers,
  startsAt: t('2026-03-01T00:00:00Z'),
  endsAt: t('2026-03-08T00:00:00Z'),
  reason: 'relaunch week',
  createdBy: 'dewi',
  createdAt: t('2026-02-28T10:00:00Z'),
  expiredAt: null,
  ...overrides,
})

const during = t('2026-03-03T12:00:00Z')

describe('silence matching', () => {
  it('a KPI silence matches that KPI only', () => {
    const silences = [silence({ kpiId: 'main-likes' })]
    expect(isSilenced(silences, { kpiId: 'main-likes', objectiveId: 'relationships', accountIds: ['main'] }, during)).toBe(true)
    expect(isSilenced(silences, { kpiId: 'main-followers', objectiveId: 'awareness', accountIds: ['main'] }, during)).toBe(false)
  })

  it('an objective silence matches every KPI of the objective', () => {
    const silences = [silence({ objectiveId: 'awareness' })]
    const predicate = silencePredicate(plan, silences, during)
    expect(predicate('kpi.main-followers')).toBe(true)
    expect(predicate('kpi.all-followers')).toBe(true)
    expect(predicate('kpi.main-likes')).toBe(false)
    expect(predicate('source.facebook.main')).toBe(false)
  })

  it('an account silence holds alerts whose accounts are all silenced, not a KPI that also covers another account', () => {
    const silences = [silence({ accountId: 'main' })]
    const predicate = silencePredicate(plan, silences, during)
    expect(predicate('kpi.main-followers')).toBe(true)
    expect(predicate('kpi.main-likes')).toBe(true)
    expect(predicate('kpi.all-followers')).toBe(false) // bandung is not silenced
    expect(predicate('source.facebook.main')).toBe(true)
    expect(predicate('freshness.facebook.main')).toBe(true)
    expect(predicate('freshness.facebook.bandung')).toBe(false)
    expect(predicate('crisis.drop')).toBe(true)
    // the accounts actually involved narrow the target
    expect(predicate('crisis.drop', { accountIds: ['bandung'] })).toBe(false)
    // with both accounts silenced (two silences), the all-accounts KPI is silenced too
    const both = [...silences, silence({ accountId: 'bandung' })]
    expect(
      silencesFor(both, alertTarget(plan, 'kpi.all-followers'), during)
        .map((s) => s.id)
        .sort(),
    ).toEqual(['sil-bandung', 'sil-main'])
  })

  it('unknown alert keys and targets without accounts match no account silence', () => {
    const predicate = silencePredicate(plan, [silence({ accountId: 'main' })], during)
    expect(predicate('kpi.not-in-plan')).toBe(false)
    expect(predicate('something-else')).toBe(false)
  })
})

describe('silence time bounds and expiry', () => {
  it('is pending before its start, active from the start, ended at its end (exclusive)', () => {
    const s = silence({ kpiId: 'main-likes' })
    const target = { kpiId: 'main-likes' }
    expect(silenceState(s, t('2026-02-28T23:59:59Z'))).toBe('pending')
    expect(isSilenced([s], target, t('2026-02-28T23:59:59.999Z'))).toBe(false)
    expect(silenceState(s, t('2026-03-01T00:00:00Z'))).toBe('active')
    expect(isSilenced([s], target, t('2026-03-01T00:00:00Z'))).toBe(true)
    expect(isSilenced([s], target, t('2026-03-07T23:59:59.999Z'))).toBe(true)
    expect(silenceState(s, t('2026-03-08T00:00:00Z'))).toBe('ended')
    expect(isSilenced([s], target, t('2026-03-08T00:00:00Z'))).toBe(false)
  })

  it('stops matching from the moment it is expired, and still matched before that moment', () => {
    const s = silence({ kpiId: 'main-likes' }, { expiredAt: t('2026-03-02T00:00:00Z') })
    expect(isSilenced([s], { kpiId: 'main-likes' }, t('2026-03-01T12:00:00Z'))).toBe(true)
    expect(silenceState(s, t('2026-03-02T00:00:00Z'))).toBe('expired')
    expect(isSilenced([s], { kpiId: 'main-likes' }, t('2026-03-02T00:00:00Z'))).toBe(false)
    expect(silencePredicate(plan, [s], during)('kpi.main-likes')).toBe(false)
  })
})

describe('silence input', () => {
  const now = t('2026-03-01T00:00:00Z')
  const valid = { matchers: { kpiId: 'main-likes' }, startsAt: now, endsAt: t('2026-03-02T00:00:00Z'), reason: 'pause', createdBy: 'dewi' }

  it('accepts ISO times and durations from now', () => {
    expect(parseTimeArgument('--until', '4h', now)).toEqual(t('2026-03-01T04:00:00Z'))
    expect(parseTimeArgument('--until', '1w', now)).toEqual(t('2026-03-08T00:00:00Z'))
    expect(parseTimeArgument('--until', '2026-03-05T09:00:00+07:00', now)).toEqual(t('2026-03-05T02:00:00Z'))
    expect(() => parseTimeArgument('--until', 'tomorrow', now)).toThrow(/--until: "tomorrow"/)
    // An argument error, not a configuration one.
    expect(() => parseTimeArgument('--until', 'tomorrow', now)).toThrow(expect.objectContaining({ code: 'ARGUMENT_INVALID' }))
  })

  it('needs exactly one matcher, a reason, an end after the start and in the future, and ids the plan knows', () => {
    expect(() => validateSilence(valid, now, plan)).not.toThrow()
    expect(() => validateSilence({ ...valid, matchers: {} }, now)).toThrow(/exactly one of --kpi, --objective or --account/)
    expect(() => validateSilence({ ...valid, matchers: { kpiId: 'main-likes', accountId: 'main' } }, now)).toThrow(/exactly one/)
    expect(() => validateSilence({ ...valid, reason: '  ' }, now)).toThrow(/--reason/)
    expect(() => validateSilence({ ...valid, startsAt: t('2026-03-03T00:00:00Z') }, now)).toThrow(/must be after --from/)
    expect(() => validateSilence({ ...valid, startsAt: t('2026-02-01T00:00:00Z'), endsAt: t('2026-02-02T00:00:00Z') }, now)).toThrow(/in the past/)
    expect(() => validateSilence({ ...valid, matchers: { kpiId: 'nope' } }, now, plan)).toThrow(SocialKpiError)
    expect(() => validateSilence({ ...valid, matchers: { kpiId: 'nope' } }, now, plan)).toThrow(/no KPI "nope"/)
    expect(() => validateSilence({ ...valid, matchers: { accountId: 'jakarta' } }, now, plan)).toThrow(/no account "jakarta"/)
  })
})
