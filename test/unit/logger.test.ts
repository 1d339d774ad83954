import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { AxiosError } from 'axios'
import { createLogger, createScrubber, REDACTED, scrubSecrets, type Scrubber } from '../../core/logger.ts'
import { loadConfig } from '../../core/config.ts'
import { TokenError } from '../../core/errors.ts'

const SECRET = 'EAAGm0PX4ZCpsBAKZCsecretTOKEN123'

function capture(scrub?: Scrubber, pretty?: boolean) {
  const lines: string[] = []
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(String(chunk))
      callback()
    },
  })
  return { logger: createLogger({ level: 'debug', pretty, destination, scrub }), text: () => lines.join('') }
}

describe('secrets never reach the logs', () => {
  it('redacts tokens, passwords and Authorization headers by path', () => {
    const { logger, text } = capture()
    logger.info({ token: SECRET, config: { headers: { Authorization: `Bearer ${SECRET}` } }, smtp: { password: SECRET } }, 'hello')
    logger.info({ request: { headers: { authorization: `Bearer ${SECRET}` } } }, 'req')
    expect(text()).not.toContain(SECRET)
    expect(text()).toContain('hello')
  })

  it('scrubs credentials from URLs and errors, including axios errors that carry the request', () => {
    const { logger, text } = capture()
    const axiosError = new AxiosError(`Request failed: https://graph.example/v25.0/1?access_token=${SECRET}`, 'ERR_BAD_REQUEST', {
      headers: { Authorization: `Bearer ${SECRET}` },
      url: `https://graph.example/v25.0/1?access_token=${SECRET}`,
    } as never)
    logger.error({ err: axiosError }, 'failed')
    logger.error({ err: new TokenError('facebook', '190/463', 'expired'), url: `http://user:${SECRET}@clickhouse:8123/db` }, 'token')
    logger.warn(`connecting to smtp://alerts:${SECRET}@mail.example:587`)
    expect(text()).not.toContain(SECRET)
    expect(text()).toContain('access_token=***')
    expect(text()).toContain('"code":"API_TOKEN_INVALID"')
  })

  it('scrubSecrets handles URL user info, token parameters and bearer values', () => {
    expect(scrubSecrets(`redis://:${SECRET}@host:6379 https://x?a=1&access_token=${SECRET}&b=2 Bearer ${SECRET}`)).toBe('redis://:***@host:6379 https://x?a=1&access_token=***&b=2 Bearer ***')
    expect(scrubSecrets(`https://graph.example/v25.0/debug_token?input_token=${SECRET}`)).toBe('https://graph.example/v25.0/debug_token?input_token=***')
  })

  it('scrubs Bearer tokens of every shape, and never the words of a sentence about them', () => {
    const tokens = [
      'ya29.a0AfB_byC-sim-access', // Google
      'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJrb3BpIn0.c2lnbmF0dXJl', // a JWT
      'AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid%2BULvsea4JtiGRiSDSJSI%3DEUifiRBkKG5E2XzMDjRfl76ZC9Ub0wnz4XsNiRVBChTYbJcE3F', // X app-only, URL-encoded
      'xat-sim7f3a',
      'abc.def',
      'QWxhZGRpbjpvcGVuIHNlc2FtZQ==',
      'OnlyLettersButLongerThanAnyWordIs',
    ]
    for (const token of tokens) expect(scrubSecrets(`Authorization: Bearer ${token} sent`), token).toBe('Authorization: Bearer *** sent')
    const sentences = [
      'OAuth 2.0 user tokens last two hours unless refreshed; an app-only Bearer Token does not expire but gives no link clicks.',
      'Use a user-context token of the account, not an app-only Bearer Token.',
      'the API wants a Bearer token.',
      'WWW-Authenticate: Bearer realm="example"',
    ]
    for (const sentence of sentences) expect(scrubSecrets(sentence)).toBe(sentence)
  })
})

describe('secrets scrubbed by value', () => {
  // What an API may echo: no pattern says this text is a token.
  const TOKEN = 'IGQVJ-token.with/odd+chars"and\\slashes'

  it('replaces every known value in text, also JSON- and URL-encoded, the longest first', () => {
    const scrub = createScrubber([TOKEN, 'hunter22', 'hunter22-and-more', undefined, ''])
    expect(scrub(`Invalid OAuth access token - Cannot parse access token: ${TOKEN}`)).toBe('Invalid OAuth access token - Cannot parse access token: [redacted]')
    expect(scrub(JSON.stringify({ message: `bad ${TOKEN}` }))).toBe('{"message":"bad [redacted]"}')
    expect(scrub(`https://api.example/x?t=${encodeURIComponent(TOKEN)}`)).toBe('https://api.example/x?t=[redacted]')
    expect(scrub('pw hunter22-and-more, then hunter22')).toBe('pw [redacted], then [redacted]')
    // The patterns still apply to credentials nobody named.
    expect(scrub('smtp://alerts:other-secret@mail.example:587 Bearer abc.def')).toBe('smtp://alerts:***@mail.example:587 Bearer ***')
  })

  it('ignores values too short to be a secret, which would redact ordinary words', () => {
    expect(createScrubber(['abc'])('abc is not redacted')).toBe('abc is not redacted')
  })

  it('the logger writes no known value, whatever field or message holds it', () => {
    const { logger, text } = capture(createScrubber([TOKEN]))
    logger.error({ err: new Error(`Graph API error 190: Malformed access token ${TOKEN}`), detail: { echoed: TOKEN } }, `the API said: ${TOKEN}`)
    expect(text()).not.toContain('IGQVJ')
    expect(text().match(/\[redacted\]/g)).toHaveLength(4) // message, stack, detail, msg
  })

  it("knows the config's secrets: the tokens named, variables named like secrets, and passwords in URLs", () => {
    const config = loadConfig({
      DATA_DIR: '/tmp/social-kpi-config-test',
      QUEUE_PREFIX: 'x',
      CUSTOM_CREDS: 'plan-named-token-1',
      YOUTUBE_CLIENT_SECRET: 'GOCSPX-oauth-client-secret',
      GA4_REFRESH_TOKEN: '1//refresh-token-value',
      FEATURE_TOKEN: 'true',
      SMTP_URL: 'smtp://alerts:smtp%2Fpass%40word@mail.example:587',
      CLICKHOUSE_URL: 'http://default:clickhouse-pass@ch.example:8123',
      REDIS_URL: 'redis://:redis-pass-1@127.0.0.1:6379',
    })
    const values = config.secretValues(['CUSTOM_CREDS', 'UNSET_TOKEN'])
    expect(values).toEqual(expect.arrayContaining(['plan-named-token-1', 'GOCSPX-oauth-client-secret', '1//refresh-token-value', 'smtp/pass@word', 'clickhouse-pass', 'redis-pass-1']))
    // A short flag named like a secret is not one.
    expect(values).not.toContain('true')
    const scrub = createScrubber(values)
    expect(scrub('auth failed for smtp/pass@word; clickhouse said clickhouse-pass; GOCSPX-oauth-client-secret')).toBe('auth failed for [redacted]; clickhouse said [redacted]; [redacted]')
  })
})

describe('LOG_PRETTY', () => {
  const env = { DATA_DIR: '/tmp/social-kpi-config-test', QUEUE_PREFIX: 'x' }

  it('writes human-readable lines when set, still scrubbed', () => {
    const config = loadConfig({ ...env, LOG_PRETTY: 'true' })
    const { logger, text } = capture(createScrubber([SECRET]), config.LOG_PRETTY)
    logger.child({ module: 'collect' }).warn({ account: 'fb-main', detail: SECRET }, 'throttled, retrying in 30 s')
    const line = text()
    expect(line).toMatch(/^\[\d{4}-\d\d-\d\dT[\d:.]+Z\] WARN: throttled, retrying in 30 s .*"module":"collect".*"account":"fb-main"/)
    expect(line).toContain(REDACTED)
    expect(line).not.toContain(SECRET)
    expect(() => JSON.parse(line)).toThrow()
  })

  it('writes one JSON object a line when unset or false', () => {
    for (const LOG_PRETTY of [undefined, '', 'false']) {
      const config = loadConfig({ ...env, LOG_PRETTY })
      expect(config.LOG_PRETTY).toBe(false)
      const { logger, text } = capture(undefined, config.LOG_PRETTY)
      logger.child({ module: 'collect' }).warn({ account: 'fb-main' }, 'throttled, retrying in 30 s')
      expect(JSON.parse(text())).toMatchObject({ level: 'warn', module: 'collect', account: 'fb-main', msg: 'throttled, retrying in 30 s' })
    }
  })
})
