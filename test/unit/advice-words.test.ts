import { describe, expect, it } from 'vitest'
import { renderSourceEmail } from '../../alerts/email.ts'
import { loadConfig } from '../../core/config.ts'
import { CATALOGUES, type MessageValues, Speaker } from '../../core/i18n/index.ts'
import { NETWORKS, type Network } from '../../core/metrics.ts'
import { CREDENTIAL_CODES } from '../../ingest/auth/index.ts'
import { accountAdvice, createCollectors } from '../../ingest/collectors/index.ts'
import type { PlanAccount } from '../../plan/plan.ts'

/**
 * The "What to do" of an ACTION NEEDED (source) or credential email: every case of every
 * network's advice and of ingest/auth's, rendered in each language through the alert engine's own
 * `tokenAdvice` (ingest/collectors accountAdvice). Indonesian advice has no English left in it
 * (env names, permissions, scopes and commands aside: they are code), and no catalogue key of the
 * `advice` section is left unreached.
 */

/** A speaker that notes the keys it was asked for, to prove every advice message is reachable. */
class Noting extends Speaker {
  readonly used = new Set<string>()
  override t(key: string, values?: MessageValues): string {
    this.used.add(key)
    return super.t(key, values)
  }
}

/** Every code each network's advice branches on, and one it does not know (the default). */
const CODES: Record<Network, string[]> = {
  facebook: ['104', '10', '200', '294', '190/463', '190/460', '190/467', '190', '102'],
  instagram: ['104', '10', '200', '190/463', '190/460', '190/467', '190'],
  meta_ads: ['104', '10', '200', '190/463', '190/460', '190/467', '190'],
  linkedin: ['EXPIRED_ACCESS_TOKEN', '65602', 'REVOKED_ACCESS_TOKEN', '65601', '65600', '401', 'ACCESS_DENIED', '100', 'SOMETHING_ELSE'],
  youtube: ['insufficientPermissions', 'ACCESS_TOKEN_SCOPE_INSUFFICIENT', 'accessNotConfigured', 'SERVICE_DISABLED', 'forbidden', 'PERMISSION_DENIED', 'authError'],
  ga4: ['insufficientPermissions', 'ACCESS_TOKEN_SCOPE_INSUFFICIENT', 'accessNotConfigured', 'SERVICE_DISABLED', 'forbidden', 'PERMISSION_DENIED', 'UNAUTHENTICATED'],
  tiktok: ['access_token_invalid', 'http_401', 'scope_not_authorized', 'scope_permission_missed', 'open_id_mismatch', '40104', '40102', '40105', '40001', '50002'],
  x: ['client-forbidden', 'unsupported-authentication', '453', 'not-authorized-for-resource', 'unauthorized', '89'],
}

const tokenEnvOf = (network: Network) => `${network.toUpperCase()}_MAIN_TOKEN`
const tokenAccount = (network: Network): PlanAccount => ({ network, id: `${network.replace('_', '-')}-main`, name: 'Kopi Nusantara', apiId: '1', tokenEnv: tokenEnvOf(network) })

/** OAuth and service accounts in each shape credentialAdvice tells apart. */
const OAUTH_SEEDED: PlanAccount = {
  network: 'linkedin',
  id: 'li-main',
  name: 'Kopi LinkedIn',
  apiId: '1',
  auth: { kind: 'oauth', clientIdEnv: 'LI_CLIENT_ID', clientSecretEnv: 'LI_CLIENT_SECRET', refreshTokenEnv: 'LI_REFRESH_TOKEN' },
}
const OAUTH_PUBLIC: PlanAccount = { network: 'x', id: 'x-main', name: 'Kopi X', apiId: '1', auth: { kind: 'oauth', clientIdEnv: 'X_CLIENT_ID' } }
const SERVICE: PlanAccount = { network: 'ga4', id: 'ga4-main', name: 'Kopi GA4', apiId: '1', auth: { kind: 'service_account', keyFileEnv: 'GA4_KEY_FILE' } }
const TOKEN: PlanAccount = tokenAccount('facebook')
const CREDENTIAL_CASES = [...Object.values(CREDENTIAL_CODES).filter((code) => code !== CREDENTIAL_CODES.tokenMissing), 'invalid_grant', 'expiring_refresh_token']
const EXPIRY_CASES = ['expiring_access_token', 'expiring_data_access']

/** Every advice an account can get: [what it is, account, apiCode]. */
const CASES: Array<[string, PlanAccount, string]> = [
  ...NETWORKS.flatMap((network) => (CODES[network] ?? []).map((code) => [`${network} ${code}`, tokenAccount(network), code] as [string, PlanAccount, string])),
  ...NETWORKS.map((network) => [`${network} token_missing`, tokenAccount(network), CREDENTIAL_CODES.tokenMissing] as [string, PlanAccount, string]),
  ...[OAUTH_SEEDED, OAUTH_PUBLIC, SERVICE].flatMap((account) => CREDENTIAL_CASES.map((code) => [`${account.auth!.kind} ${account.id} ${code}`, account, code] as [string, PlanAccount, string])),
  ...[TOKEN, OAUTH_SEEDED].flatMap((account) => EXPIRY_CASES.map((code) => [`${account.id} ${code}`, account, code] as [string, PlanAccount, string])),
]

/** The words of code a text may carry in any language: env names, commands, permissions, scopes, API and product names. */
const CODE_WORDS =
  /\b[A-Z][A-Z0-9_]{2,}\b|social-kpi connect [a-z0-9-]+|https:\/\/\S+?(?=[,;)\s]|$)|\b[a-z0-9]+(?:[._/][a-z0-9_]+)+\/?|\b[a-z]+(?:_[a-z]+)+\b|Facebook Login for Business|TikTok API for Business|TikTok Login Kit|Bearer Token|app-only|user context|refresh token/g

/** English a reader would notice in an Indonesian advice. */
const ENGLISH = [
  'Connect',
  'connect',
  'Set the',
  'set it',
  'the token',
  'token was',
  'then',
  'restart',
  'Re-authorise',
  'authorise',
  'Authorise',
  'Generate',
  'Check',
  'Make a new',
  'has expired',
  'was refused',
  'is invalid',
  'lacks',
  'permission',
  'scopes',
  'access token',
  'No token was sent',
  'before',
  'the',
  'and',
  'or',
  'with',
  'in',
  'of',
  'run',
  'put',
  'new',
  'account',
  'stay',
  'expired',
  'revoked',
]

const create = (language: string) => new Noting(language, 'Asia/Jakarta')
const adviceKeys = (language: string) => [...CATALOGUES.get(language)!.messages.keys()].filter((key) => key.startsWith('advice.') && key !== 'advice.section')
const advise = accountAdvice(createCollectors(loadConfig({ QUEUE_PREFIX: 'unit', DATA_DIR: '/tmp/social-kpi-advice-words' })))

describe('what to do about credentials, in the plan language', () => {
  it('enumerates the advice of every network', () => {
    for (const network of NETWORKS) expect(CODES[network], `${network}: list its advice codes here`).toBeDefined()
  })

  for (const language of ['en', 'id']) {
    it(`renders every case in ${language}, and every advice message is reached`, () => {
      const speaker = create(language)
      const texts = new Set<string>()
      for (const [what, account, code] of CASES) {
        const text = advise(speaker, account, code)
        expect(text, what).toMatch(/\S.*[.)]$/)
        expect(text, what).not.toMatch(/[{}]/)
        texts.add(text)
      }
      expect([...speaker.used].filter((key) => !key.startsWith('advice.'))).toEqual([])
      expect(adviceKeys(language).filter((key) => !speaker.used.has(key))).toEqual([])
      expect(texts.size).toBeGreaterThan(60)
    })
  }

  it('has the same advice messages in every language', () => {
    expect(adviceKeys('id').sort()).toEqual(adviceKeys('en').sort())
  })

  it.each(CASES)('%s has no English in Indonesian', (what, account, code) => {
    const text = advise(create('id'), account, code)
    const words = text.replace(CODE_WORDS, ' ')
    for (const word of ENGLISH) expect(words, `${what}: "${word}" in "${text}"`).not.toMatch(new RegExp(`(?<![A-Za-z])${word}(?![A-Za-z])`))
  })

  it('keeps the names a person types as they are, in both languages', () => {
    for (const language of ['en', 'id']) {
      const speaker = create(language)
      expect(advise(speaker, tokenAccount('instagram'), '190/463')).toContain('INSTAGRAM_MAIN_TOKEN')
      expect(advise(speaker, tokenAccount('instagram'), '10')).toContain('instagram_manage_insights')
      expect(advise(speaker, tokenAccount('youtube'), 'insufficientPermissions')).toContain('https://www.googleapis.com/auth/yt-analytics.readonly')
      expect(advise(speaker, OAUTH_SEEDED, CREDENTIAL_CODES.notConnected)).toContain('social-kpi connect li-main')
      expect(advise(speaker, OAUTH_SEEDED, CREDENTIAL_CODES.connectionEnded)).toContain('LI_REFRESH_TOKEN')
      expect(advise(speaker, OAUTH_PUBLIC, CREDENTIAL_CODES.connectionEnded)).not.toContain('REFRESH_TOKEN')
      expect(advise(speaker, OAUTH_SEEDED, CREDENTIAL_CODES.clientRefused)).toContain('LI_CLIENT_SECRET')
    }
    expect(advise(create('id'), tokenAccount('facebook'), '10')).toContain('pages_read_engagement dan read_insights')
    expect(advise(create('en'), tokenAccount('facebook'), '10')).toContain('pages_read_engagement and read_insights')
  })

  it('says it the way a social media team in Jakarta does', () => {
    expect(advise(create('id'), OAUTH_SEEDED, CREDENTIAL_CODES.notConnected)).toBe(
      'Hubungkan akun ini sekali: jalankan social-kpi connect li-main (perintah ini mencetak tautan untuk dibuka di peramban, masuk sebagai akun tersebut).',
    )
    expect(advise(create('id'), tokenAccount('facebook'), CREDENTIAL_CODES.tokenMissing)).toBe('Isi variabel lingkungan FACEBOOK_MAIN_TOKEN dengan token akses akun ini, lalu mulai ulang social-kpi.')
    expect(advise(create('en'), tokenAccount('facebook'), CREDENTIAL_CODES.tokenMissing)).toBe("Set the environment variable FACEBOOK_MAIN_TOKEN to the account's access token and restart.")
  })

  it('puts Indonesian advice in an Indonesian ACTION NEEDED email', () => {
    const speaker = create('id')
    const account = tokenAccount('facebook')
    const email = renderSourceEmail(
      speaker,
      {
        network: 'facebook',
        accountId: account.id,
        accountName: account.name,
        errorCode: '190/463',
        error: 'Error validating access token: Session has expired.',
        advice: advise(speaker, account, '190/463'),
        since: new Date('2026-12-08T01:15:00Z'),
      },
      'firing',
    )
    const line = email.text.split('\n').find((l) => l.startsWith('Yang perlu dilakukan:'))
    expect(line).toBe(
      'Yang perlu dilakukan: Token akses Halaman sudah kedaluwarsa. Buat token akses Halaman yang baru (izin pages_read_engagement dan read_insights) dan simpan di FACEBOOK_MAIN_TOKEN; putaran pengumpulan berikutnya langsung memakainya.',
    )
    expect(email.html).toContain('Token akses Halaman sudah kedaluwarsa.')
    expect(email.text).not.toMatch(/Generate|set it in|next round/)
  })
})
