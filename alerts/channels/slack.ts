import type { AlertFacts } from '../../core/queues.ts'
import { decimalsOf } from '../../kpi/kinds/index.ts'
import { number } from '../email.ts'
import { DeliveryError, postJson, type Channel } from './channel.ts'

/**
 * A Slack incoming webhook (https://api.slack.com/messaging/webhooks): one message per
 * transition, rendered here from the alert facts as Block Kit with a plain `text` fallback (what
 * notifications and screen readers show). Plain axios rather than `@slack/webhook`: that package
 * is a thin axios wrapper that hides the status and Slack's error string inside `original`, and we
 * need exactly those to tell a 410 channel_is_archived (permanent) from a 500 (retried).
 */

/** Slack's mrkdwn needs only these three escaped. */
const escapeMrkdwn = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
/** Block Kit refuses a section over 3000 characters, a field over 2000. */
const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text)

function icon(facts: AlertFacts): string {
  if (facts.event === 'resolved') return ':white_check_mark:'
  if (facts.kind === 'crisis') return ':rotating_light:'
  return facts.severity === 'critical' ? ':red_circle:' : ':large_orange_circle:'
}

export interface SlackMessage {
  text: string
  blocks: Array<Record<string, unknown>>
}

export function renderSlackMessage(facts: AlertFacts): SlackMessage {
  const headline = `${icon(facts)} ${facts.event === 'repeat' ? 'Still open: ' : ''}${facts.title}`
  const blocks: SlackMessage['blocks'] = [{ type: 'section', text: { type: 'mrkdwn', text: clip(`*${escapeMrkdwn(headline)}*${facts.summary ? `\n${escapeMrkdwn(facts.summary)}` : ''}`, 3000) } }]
  const fields: string[] = []
  if (facts.kpi) {
    const { kpi } = facts
    const amount = (value: number | null) => number(value, decimalsOf(kpi.kind))
    fields.push(
      `*Actual*\n${amount(kpi.actual)}`,
      `*Target*\n${kpi.comparator === 'at_least' ? '≥' : '≤'} ${amount(kpi.target)}`,
      `*Expected by now*\n${amount(kpi.expectedToDate)}`,
      `*Attainment*\n${kpi.attainment === null ? 'no data' : `${Math.round(kpi.attainment * 100)}%`}`,
      `*KPI*\n${escapeMrkdwn(`${kpi.name} (${kpi.network}, ${kpi.metric})`)}`,
    )
    if (kpi.forecast) fields.push(`*Forecast (80%)*\n${amount(kpi.forecast.end)} (${amount(kpi.forecast.low)} – ${amount(kpi.forecast.high)})`)
  }
  if (facts.objective) fields.push(`*Objective*\n${escapeMrkdwn(facts.objective.name)}`)
  if (facts.period) fields.push(`*Period*\n${escapeMrkdwn(facts.period.label)}`)
  if (facts.crisis) fields.push(`*Accounts*\n${escapeMrkdwn(facts.crisis.accounts.map((a) => `${a.name} (${a.network})`).join(', ') || 'none')}`, `*Trigger*\n${escapeMrkdwn(facts.crisis.trigger)}`)
  if (fields.length) blocks.push({ type: 'section', fields: fields.slice(0, 10).map((text) => ({ type: 'mrkdwn', text: clip(text, 2000) })) })
  if (facts.actions.length) {
    const title = facts.kind === 'crisis' ? 'Steps of the crisis guide' : 'What the plan says to do'
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(`*${title}*\n${facts.actions.map((a, i) => `${i + 1}. ${escapeMrkdwn(a)}`).join('\n')}`, 3000) } })
  }
  const context = [`${escapeMrkdwn(facts.company)} · \`${escapeMrkdwn(facts.key)}\` · ${facts.decidedAt}`]
  if (facts.link) context.push(`<${facts.link}|Open on the dashboard>`)
  blocks.push({ type: 'context', elements: context.map((text) => ({ type: 'mrkdwn', text })) })
  return { text: headline, blocks }
}

export function slackChannel(options: { name: string; url: string; timeoutMs: number; scrub: (text: string) => string }): Channel {
  const what = `Slack channel "${options.name}"`
  return {
    name: options.name,
    type: 'slack',
    async send(notification, now) {
      if (!notification.facts) throw new DeliveryError(true, `${what}: the notification carries no alert facts`)
      await postJson(what, options.url, options.scrub(JSON.stringify(renderSlackMessage(notification.facts))), {}, { timeoutMs: options.timeoutMs, scrub: options.scrub, now })
      return `slack:${options.name}`
    },
  }
}
