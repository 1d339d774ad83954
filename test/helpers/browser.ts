import { request } from 'node:http'

/**
 * The request headers a browser sends when a cross-site page redirects it, as a top-level
 * navigation, to a loopback URL (Fetch Metadata): what the provider's redirect after consent looks
 * like to `social-kpi connect`. A GET navigation carries no Origin.
 */
export const CROSS_SITE_NAVIGATION = {
  'Sec-Fetch-Site': 'cross-site',
  'Sec-Fetch-Mode': 'navigate',
  'Sec-Fetch-Dest': 'document',
  'Sec-Fetch-User': '?1',
  Accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'Upgrade-Insecure-Requests': '1',
} as const

/**
 * An HTTP request with exactly the headers given (Node's fetch adds its own Sec-Fetch-Mode), as a
 * browser or a hostile page would send it; the status and body of the answer.
 */
export function browserRequest(url: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const sent = request(url, { method: options.method ?? 'GET', headers: options.headers ?? {} }, (response) => {
      let body = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => (body += chunk))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }))
      response.on('error', reject)
    })
    sent.on('error', reject)
    sent.end()
  })
}
