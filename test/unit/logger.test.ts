import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { AxiosError } from 'axios'
import { createLogger, scrubSecrets } from '../../core/logger.ts'
import { TokenError } from '../../core/errors.ts'

const SECRET = 'EAAGm0PX4ZCpsBAKZCsecretTOKEN123'

function capture() {
  const lines: string[] = []
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(String(chunk))
      callback()
    },
  })
  return { logger: createLogger({ level: 'debug', destination }), text: () => lines.join('') }
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
    expect(scrubSecrets(`redis://:${SECRET}@host:6379 https://x?a=1&access_token=${SECRET}&b=2 Bearer ${SECRET}`)).toBe(
      'redis://:***@host:6379 https://x?a=1&access_token=***&b=2 Bearer ***',
    )
  })
})
