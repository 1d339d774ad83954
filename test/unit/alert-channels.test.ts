import { describe, expect, it } from 'vitest'
import { askedWaitMs } from '../../alerts/channels/channel.ts'
import { createChannels } from '../../alerts/channels/index.ts'
import { smtpTimeouts } from '../../alerts/mailer.ts'
import { renderSlackMessage } from '../../alerts/channels/slack.ts'
import { webhookSignature } from '../../alerts/channels/webhook.ts'
import { processScrubber } from '../../cli/scrubber.ts'
import { loadConfig } from '../../core/config.ts'
import type { PlanError } from '../../core/errors.ts'
import type { AlertFacts } from '../../core/queues.ts'
import { parsePlan } from '../../plan/plan.ts'

const base = {
  company: { name: 'C' },
  objectives: [{ id: 'o', name: 'O' }],
  strategy: { networks: [{ network: 'facebook', accounts: [{ id: 'a', name: 'A', apiId: '1', tokenEnv: 'T' }] }] },
  kpis: [{ id: 'k', name: 'K', objective: 'o', network: 'facebook', metric: 'likes', kind: 'total', target: 10, period: 'week' }],
}
const channels = { 'team-slack': { type: 'slack', urlEnv: 'TEAM_SLACK_URL' }, hook: { type: 'webhook', urlEnv: 'HOOK_URL', secretEnv: 'HOOK_SECRET' } }
const plan = (alerting: Record<string, unknown>) => parsePlan({ ...base, alerting: { recipients: ['x@example.com'], ...alerting } }, 'p.yaml')
const issues = (alerting: Record<string, unknown>) => {
  try {
    plan(alerting)
  } catch (error) {
    return (error as PlanError).issues.map((i) => `${i.path}: ${i.message}`)
  }
  return []
}

describe('alert channels in the plan', () => {
  it('names channels by environment variable and routes to them by name', () => {
    const parsed = plan({
      channels,
      routes: [
        { severity: ['critical'], channels: ['team-slack'] },
        { crisis: true, recipients: ['crisis@example.com'], channels: ['hook'] },
      ],
    })
    expect(parsed.alerting.channels.hook).toEqual({ type: 'webhook', urlEnv: 'HOOK_URL', secretEnv: 'HOOK_SECRET' })
    expect(parsed.alerting.routes[0]!.recipients).toBeUndefined()
  })

  it('says where a channel or route is wrong', () => {
    expect(issues({ channels, routes: [{ kpis: ['k'], channels: ['slak'] }] })).toEqual(['alerting.routes[0].channels[0]: names channel "slak", which alerting.channels does not define'])
    expect(issues({ channels, routes: [{ kpis: ['k'] }] })).toEqual(['alerting.routes[0].recipients: is required: give recipients, channels or both'])
    expect(issues({ channels, routes: [{ crisis: true, kpis: ['k'], channels: ['hook'] }] })).toEqual([
      'alerting.routes[0].crisis: a crisis route matches crisis alerts only; give kpis, objectives and severity in another route',
    ])
    expect(issues({ channels: { email: { type: 'slack', urlEnv: 'X' } } })).toEqual(['alerting.channels.email: "email" is the built-in channel; pick another name'])
    expect(issues({ channels: { s: { type: 'slack', url: 'https://hooks.slack.com/services/x' } } })[0]).toMatch(/^alerting\.channels\.s/)
    expect(issues({ channels: { s: { type: 'slack', urlEnv: 'https://hooks.slack.com/x' } } })).toEqual([
      'alerting.channels.s.urlEnv: must name an environment variable, such as SLACK_WEBHOOK_URL (the URL itself never goes in the plan)',
    ])
    expect(issues({ channels: { h: { type: 'webhook', urlEnv: 'H' } } })[0]).toMatch(/^alerting\.channels\.h\.secretEnv: /)
    expect(issues({ channels: { p: { type: 'pager', urlEnv: 'P' } } })).toEqual(['alerting.channels.p.type: must have a type: slack, webhook'])
  })

  it('refuses to start without a channel’s variable, naming it and not its value', () => {
    const withChannels = plan({ channels })
    const build = (env: Record<string, string>) => {
      const config = loadConfig({ QUEUE_PREFIX: 'unit', ...env })
      return createChannels({ plan: withChannels, secret: config.secret, timeoutMs: 1000, scrub: (t) => t })
    }
    expect(() => build({ TEAM_SLACK_URL: 'https://hooks.slack.com/services/T/B/x', HOOK_URL: 'https://example.com/h' })).toThrow(
      'alerting.channels.hook.secretEnv: the environment variable HOOK_SECRET is not set',
    )
    expect(() => build({ TEAM_SLACK_URL: 'hooks.slack.com/s3cret', HOOK_URL: 'https://example.com/h', HOOK_SECRET: 's' })).toThrow(
      /^alerting\.channels\.team-slack\.urlEnv: TEAM_SLACK_URL does not hold an http\(s\) URL$/,
    )
    const built = build({ TEAM_SLACK_URL: 'https://hooks.slack.com/services/T/B/x', HOOK_URL: 'https://example.com/h', HOOK_SECRET: 's' })
    expect([...built.values()].map((c) => [c.name, c.type])).toEqual([
      ['team-slack', 'slack'],
      ['hook', 'webhook'],
    ])
  })

  it('redacts the channels’ URLs wherever the scrubber runs', () => {
    const config = loadConfig({ QUEUE_PREFIX: 'unit', TEAM_SLACK_URL: 'https://hooks.slack.com/services/T1/B2/abcdef123456', HOOK_URL: 'https://example.com/h/9f8e7d', HOOK_SECRET: 'whsec-123456789' })
    const scrub = processScrubber(config, plan({ channels }))
    expect(scrub('posting to https://hooks.slack.com/services/T1/B2/abcdef123456 and https://example.com/h/9f8e7d with whsec-123456789')).toBe('posting to [redacted] and [redacted] with [redacted]')
  })
})

describe('rendering and signing', () => {
  const facts: AlertFacts = {
    version: 1,
    kind: 'kpi',
    key: 'kpi.k',
    event: 'firing',
    transition: { from: 'ok', to: 'firing' },
    label: 'missed',
    severity: 'critical',
    title: 'MISSED: Likes <Q&A> — 4 of 10',
    summary: 'Short by 6.',
    company: 'C',
    timezone: 'UTC',
    kpi: {
      id: 'k',
      name: 'Likes <Q&A>',
      network: 'facebook',
      metric: 'likes',
      kind: 'total',
      comparator: 'at_least',
      status: 'missed',
      actual: 4,
      target: 10,
      expectedToDate: 10,
      attainment: 0.4,
      forecast: null,
    },
    actions: ['Post <more>'],
    since: '2026-11-20T03:00:00.000Z',
    decidedAt: '2026-11-20T03:00:00.000Z',
  }

  it('renders Slack mrkdwn with &, < and > escaped, so plan text cannot inject a link or mention', () => {
    const message = renderSlackMessage(facts)
    expect(message.text).toBe(':red_circle: MISSED: Likes <Q&A> — 4 of 10')
    const json = JSON.stringify(message.blocks)
    expect(json).toContain('*:red_circle: MISSED: Likes &lt;Q&amp;A&gt; — 4 of 10*')
    expect(json).toContain('1. Post &lt;more&gt;')
    expect(json).toContain('*Attainment*\\n40%')
  })

  it('signs `<timestamp>.<body>` with HMAC-SHA256 as documented (checked against openssl)', () => {
    // printf '%s' '1700000000.{"a":1}' | openssl dgst -sha256 -hmac 'whsec-example'
    expect(webhookSignature('whsec-example', '1700000000', '{"a":1}')).toBe('sha256=6f811a6a92fc8502c04a3ace46693eee8c5a1718cb743183ee0aeb5dddc963bf')
  })
})

describe('waits', () => {
  const now = new Date('2026-11-20T03:00:00Z')

  it('reads a Retry-After in seconds, or as an HTTP date measured from the answer’s own Date', () => {
    expect(askedWaitMs({ headers: { 'retry-after': '30' } }, now)).toBe(30_000)
    // The receiver's clock is 2 minutes behind ours: the wait is still the 30 s it meant.
    expect(askedWaitMs({ headers: { 'retry-after': 'Fri, 20 Nov 2026 02:58:30 GMT', date: 'Fri, 20 Nov 2026 02:58:00 GMT' } }, now)).toBe(30_000)
    // Without a Date, from our clock's now; a date gone by is no wait at all.
    expect(askedWaitMs({ headers: { 'retry-after': 'Fri, 20 Nov 2026 03:01:00 GMT' } }, now)).toBe(60_000)
    expect(askedWaitMs({ headers: { 'retry-after': 'Fri, 20 Nov 2026 02:00:00 GMT' } }, now)).toBe(0)
    expect(askedWaitMs({ headers: {} }, now)).toBeUndefined()
    expect(askedWaitMs({ headers: { 'retry-after': 'soon' } }, now)).toBeUndefined()
  })

  it('waits for a mail server as RFC 5321 §4.5.3.2 asks unless told otherwise: 5 min for the greeting, 10 min for a reply', () => {
    const config = loadConfig({ DATA_DIR: '/tmp/social-kpi-config-test', QUEUE_PREFIX: 'x' })
    expect(smtpTimeouts(config)).toEqual({ connectMs: 15_000, greetingMs: 300_000, replyMs: 600_000 })
    expect(config.NOTIFY_RETRY_AFTER_MAX_MS).toBe(600_000)
    const scaled = loadConfig({ DATA_DIR: '/tmp/social-kpi-config-test', QUEUE_PREFIX: 'x', HTTP_TIMEOUT_MS: '500', SMTP_GREETING_TIMEOUT_MS: '1000', SMTP_REPLY_TIMEOUT_MS: '2000' })
    expect(smtpTimeouts(scaled)).toEqual({ connectMs: 500, greetingMs: 1_000, replyMs: 2_000 })
  })
})
