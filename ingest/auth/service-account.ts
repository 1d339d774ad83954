import { readFile } from 'node:fs/promises'
import { importPKCS8, SignJWT } from 'jose'
import { z } from 'zod'
import { ConfigError } from '../../core/errors.ts'
import { assertionGrant, type TokenGrant } from './oauth.ts'

/** The fields of a Google service account key file (JSON, from the Cloud console) that are used. */
const keyFileSchema = z.object({
  type: z.literal('service_account', { error: 'must be "service_account" (a service account key, not an OAuth client file)' }),
  client_email: z.email({ error: 'must be the service account email' }),
  private_key: z.string({ error: 'must be the PEM private key' }).includes('PRIVATE KEY', { error: 'must be the PEM private key' }),
  private_key_id: z.string().optional(),
})

export type ServiceAccountKey = z.infer<typeof keyFileSchema>

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer'
/** Google accepts assertions valid for at most an hour. */
const ASSERTION_LIFETIME_S = 3600

/** Reads and checks a key file; the error names the variable and the path, never the key. */
export async function readServiceAccountKey(path: string, variable: string): Promise<ServiceAccountKey> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (cause) {
    throw new ConfigError(`${variable} (${path}): cannot read the service account key file (${(cause as NodeJS.ErrnoException).code ?? 'unreadable'})`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new ConfigError(`${variable} (${path}): the service account key file is not JSON`)
  }
  const parsed = keyFileSchema.safeParse(json)
  if (!parsed.success) throw new ConfigError(`${variable} (${path}): ${parsed.error.issues.map((i) => `${i.path.join('.') || 'file'} ${i.message}`).join('; ')}`)
  return parsed.data
}

/**
 * An access token for a service account: a JWT signed with its key (RS256; iss the account's
 * email, aud the token endpoint, at most an hour) exchanged at Google's token endpoint (RFC 7523).
 * The key file's own `token_uri` is not followed: the endpoint comes from GOOGLE_OAUTH_URL like
 * every other one, so a key file cannot send the signed assertion elsewhere.
 */
export async function serviceAccountGrant(key: ServiceAccountKey, options: { tokenUrl: string; scopes: string[]; now: Date; timeoutMs: number }): Promise<TokenGrant> {
  const issuedAt = Math.floor(options.now.getTime() / 1000)
  const assertion = await new SignJWT({ scope: options.scopes.join(' ') })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...(key.private_key_id ? { kid: key.private_key_id } : {}) })
    .setIssuer(key.client_email)
    .setAudience(options.tokenUrl)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + ASSERTION_LIFETIME_S)
    .sign(await importPKCS8(key.private_key, 'RS256'))
  return assertionGrant(options.tokenUrl, key.client_email, JWT_BEARER, assertion, options.timeoutMs)
}
