import type { AlertFacts } from '../../core/queues.ts'
import { speaker as speakerOf } from '../../core/i18n/index.ts'
import { decimalsOf } from '../../kpi/kinds/index.ts'
import { KPI_UNITS, kpiDisplay, type KpiUnit } from '../../plan/units.ts'
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

/** The facts' language (English for facts decided before they named one) in the plan's zone. */
const factsSpeaker = (facts: AlertFacts) => speakerOf(facts.language ?? 'en', facts.timezone)

const isUnit = (unit: string | undefined): unit is KpiUnit => (KPI_UNITS as readonly string[]).includes(unit ?? '')

export function renderSlackMessage(facts: AlertFacts): SlackMessage {
  const speak = factsSpeaker(facts)
  const t = (key: string, values?: Record<string, string | number>) => speak.t(`channel.${key}`, values)
  // A reminder's title says so itself (STILL AT RISK, CRISIS STILL OPEN).
  const headline = `${icon(facts)} ${facts.title}`
  const blocks: SlackMessage['blocks'] = [{ type: 'section', text: { type: 'mrkdwn', text: clip(`*${escapeMrkdwn(headline)}*${facts.summary ? `\n${escapeMrkdwn(facts.summary)}` : ''}`, 3000) } }]
  const fields: string[] = []
  const field = (key: string, value: string) => `*${t(key)}*\n${value}`
  if (facts.kpi) {
    const { kpi } = facts
    const display = kpiDisplay({ unit: isUnit(kpi.unit) ? kpi.unit : 'count' }, { currency: kpi.currency ?? null })
    const amount = (value: number | null) => speak.value(value, display, decimalsOf(kpi.kind))
    fields.push(
      field('actual', amount(kpi.actual)),
      field('target', t(kpi.comparator === 'at_least' ? 'target_at_least' : 'target_at_most', { value: amount(kpi.target) })),
      field('expected', amount(kpi.expectedToDate)),
      field('attainment', speak.percent(kpi.attainment, 0)),
      field('kpi', escapeMrkdwn(t('kpi_value', { name: kpi.name, network: kpi.network, metric: kpi.metric }))),
    )
    if (kpi.forecast) fields.push(field('forecast', t('forecast_value', { end: amount(kpi.forecast.end), low: amount(kpi.forecast.low), high: amount(kpi.forecast.high) })))
  }
  if (facts.objective) fields.push(field('objective', escapeMrkdwn(facts.objective.name)))
  if (facts.period) fields.push(field('period', escapeMrkdwn(`${facts.period.label}: ${speak.period(new Date(facts.period.start), new Date(facts.period.end))}`)))
  if (facts.crisis) {
    const accounts = facts.crisis.accounts.map((a) => t('account', { name: a.name, network: a.network }))
    fields.push(field('accounts', escapeMrkdwn(accounts.join(', ') || speak.t('common.none'))), field('trigger', escapeMrkdwn(facts.crisis.trigger)))
  }
  if (fields.length) blocks.push({ type: 'section', fields: fields.slice(0, 10).map((text) => ({ type: 'mrkdwn', text: clip(text, 2000) })) })
  if (facts.actions.length) {
    const title = t(facts.kind === 'crisis' ? 'steps' : 'actions')
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(`*${title}*\n${facts.actions.map((a, i) => `${i + 1}. ${escapeMrkdwn(a)}`).join('\n')}`, 3000) } })
  }
  const context = [`${escapeMrkdwn(facts.company)} · \`${escapeMrkdwn(facts.key)}\` · ${speak.dateTime(new Date(facts.decidedAt))}`]
  if (facts.link) context.push(`<${facts.link}|${t('open_dashboard')}>`)
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
