import { ConfigError } from '../../core/errors.ts'
import type { ChannelDefinition, Plan } from '../../plan/plan.ts'
import type { Channel } from './channel.ts'
import { slackChannel } from './slack.ts'
import { webhookChannel } from './webhook.ts'

export { emailChannel } from './email.ts'
export type { Channel, Notification } from './channel.ts'

/** What a channel module is given: its environment variables, read through the config. */
interface ChannelEnv {
  /** The value of the variable the plan names at `field`; a ConfigError naming both when unset. */
  read(field: 'urlEnv' | 'secretEnv'): string
  /** As `read`, and it must be an http(s) URL (its value is never shown). */
  url(field: 'urlEnv'): string
  timeoutMs: number
  scrub: (text: string) => string
}

type Factory<T extends ChannelDefinition['type']> = (name: string, definition: Extract<ChannelDefinition, { type: T }>, env: ChannelEnv) => Channel

/** The registry of channel kinds besides the built-in email: one module each. */
const CHANNEL_KINDS: { [T in ChannelDefinition['type']]: Factory<T> } = {
  slack: (name, _definition, env) => slackChannel({ name, url: env.url('urlEnv'), timeoutMs: env.timeoutMs, scrub: env.scrub }),
  webhook: (name, _definition, env) => webhookChannel({ name, url: env.url('urlEnv'), secret: env.read('secretEnv'), timeoutMs: env.timeoutMs, scrub: env.scrub }),
}

/**
 * Builds every channel the plan defines besides email (the notify worker makes that one from its
 * mailer). A variable the plan names but the environment does not hold stops the start with one
 * line naming both: found only when the first alert went nowhere, it would be found too late.
 */
export function createChannels(options: { plan: Plan; secret: (name: string) => string | undefined; timeoutMs: number; scrub: (text: string) => string }): Map<string, Channel> {
  const built = new Map<string, Channel>()
  for (const [name, definition] of Object.entries(options.plan.alerting.channels)) {
    const fields = definition as Record<string, string>
    const env: ChannelEnv = {
      read(field) {
        const value = options.secret(fields[field]!)
        if (!value) throw new ConfigError(`alerting.channels.${name}.${field}: the environment variable ${fields[field]} is not set`)
        return value
      },
      url(field) {
        const value = env.read(field)
        if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) throw new ConfigError(`alerting.channels.${name}.${field}: ${fields[field]} does not hold an http(s) URL`)
        return value
      },
      timeoutMs: options.timeoutMs,
      scrub: options.scrub,
    }
    built.set(name, (CHANNEL_KINDS[definition.type] as Factory<typeof definition.type>)(name, definition, env))
  }
  return built
}
