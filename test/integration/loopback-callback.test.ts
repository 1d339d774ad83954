import { describe, expect, it } from 'vitest'
import { listenForCallback, type ReceivedCallback } from '../../cli/loopback-callback.ts'
import { browserRequest, CROSS_SITE_NAVIGATION } from '../helpers/browser.ts'

/**
 * The loopback redirect of `social-kpi connect`, on a real socket: only the provider's redirect (a
 * GET top-level navigation carrying the pending state) ends the wait; requests a page in another
 * tab can make are refused without ending it, and learn nothing.
 */

const STATE = 'pending-state-0123456789abcdefghijklmnopqrstuv'

/** A listener waiting for STATE, and whether its wait has ended. */
async function waiting(timeoutMs = 60_000) {
  const callback = await listenForCallback({ port: 0, timeoutMs })
  let received: ReceivedCallback | undefined
  const done = callback.receive(STATE).then((r) => {
    received = r
    return r
  })
  return { callback, done, received: () => received, url: (query: string) => `${callback.redirectUri}?${query}` }
}

describe('the loopback callback of social-kpi connect', () => {
  it('refuses what a hostile page can send, keeps waiting, then takes the browser’s redirect and answers it only when told how it went', async () => {
    const w = await waiting()
    try {
      const withState = w.url(`code=attacker-code&state=${STATE}`)
      const hostile: Array<[string, Parameters<typeof browserRequest>, number]> = [
        ['fetch() from a page (cors)', [withState, { headers: { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'cors', 'Sec-Fetch-Dest': 'empty', Origin: 'https://evil.example' } }], 403],
        ['fetch() no-cors', [withState, { headers: { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'no-cors', 'Sec-Fetch-Dest': 'empty' } }], 403],
        ['an <img>', [withState, { headers: { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'no-cors', 'Sec-Fetch-Dest': 'image' } }], 403],
        ['a <script>', [withState, { headers: { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'no-cors', 'Sec-Fetch-Dest': 'script' } }], 403],
        ['an iframe', [withState, { headers: { ...CROSS_SITE_NAVIGATION, 'Sec-Fetch-Dest': 'iframe' } }], 403],
        ['a navigation with an Origin', [withState, { headers: { ...CROSS_SITE_NAVIGATION, Origin: 'https://evil.example' } }], 403],
        ['a form POST', [withState, { method: 'POST', headers: { ...CROSS_SITE_NAVIGATION, Origin: 'null' } }], 405],
        ['a POST without metadata', [withState, { method: 'POST' }], 405],
        ['a navigation with the wrong state', [w.url('code=attacker-code&state=guessed'), { headers: CROSS_SITE_NAVIGATION }], 400],
        ['a navigation without state', [w.url('code=attacker-code'), { headers: CROSS_SITE_NAVIGATION }], 400],
        ['an error answer without state', [w.url('error=access_denied'), { headers: CROSS_SITE_NAVIGATION }], 400],
        ['another path', [`${w.callback.redirectUri.replace('/callback', '/other')}?state=${STATE}`, { headers: CROSS_SITE_NAVIGATION }], 404],
      ]
      for (const [what, args, status] of hostile) {
        const answer = await browserRequest(...args)
        expect(answer.status, what).toBe(status)
        expect(answer.body, what).toBe('Not accepted.\n')
        expect(w.received(), `${what} ended the wait`).toBeUndefined()
      }

      // The provider's redirect: a cross-site top-level navigation with the pending state.
      const page = browserRequest(w.url(`code=real-code&state=${STATE}`), { headers: CROSS_SITE_NAVIGATION })
      const received = await w.done
      expect(received.url.searchParams.get('code')).toBe('real-code')
      received.answer({ ok: true, message: 'Connected <youtube> account "Kopi". You can close this tab.' })
      const answered = await page
      expect(answered.status).toBe(200)
      expect(answered.body).toContain('Connected &lt;youtube&gt; account &quot;Kopi&quot;. You can close this tab.')

      // The state is spent: the same redirect again is refused.
      expect((await browserRequest(w.url(`code=real-code&state=${STATE}`), { headers: CROSS_SITE_NAVIGATION })).status).toBe(400)
    } finally {
      w.callback.close()
    }
  })

  it('takes the redirect from a browser that sends no Fetch Metadata, and an error answer with the right state', async () => {
    const w = await waiting()
    try {
      const page = browserRequest(w.url(`error=access_denied&error_description=The+user+denied+access&state=${STATE}`), { headers: { Accept: 'text/html' } })
      const received = await w.done
      expect(received.url.searchParams.get('error')).toBe('access_denied')
      received.answer({ ok: false, message: 'social-kpi did not connect the account. The terminal says why.' })
      expect(await page).toEqual({ status: 400, body: expect.stringContaining('did not connect the account') })
    } finally {
      w.callback.close()
    }
  })

  it('gives up after its timeout, naming it', async () => {
    const w = await waiting(50)
    try {
      await expect(w.done).rejects.toMatchObject({ code: 'TIMED_OUT' })
    } finally {
      w.callback.close()
    }
  })
})
