/**
 * Pieces of the Graph contract shared by the node, edge and insights handlers: the error
 * envelope, the `fields` syntax, time parameters and paging links.
 */
import type { SimRequest } from './network.ts'
import { pacificMidnightOf } from './time.ts'

export interface GraphErrorFields {
  message: string
  type: string
  code: number
  error_subcode?: number
  is_transient?: boolean
  error_user_title?: string
  error_user_msg?: string
}

/** A Graph error answer; handlers throw it and the dispatcher renders it. */
export class GraphError extends Error {
  readonly status: number
  readonly fields: GraphErrorFields
  readonly headers: Record<string, string>

  constructor(fields: GraphErrorFields, options?: { status?: number; headers?: Record<string, string> }) {
    super(fields.message)
    this.name = 'GraphError'
    this.fields = fields
    this.status = options?.status ?? 400
    this.headers = options?.headers ?? {}
  }
}

/** `{"error":{message,type,code,error_subcode?,…,fbtrace_id}}`, keys in Graph's order. */
export function graphErrorBody(fields: GraphErrorFields, traceId: string): string {
  const { message, type, code, error_subcode, is_transient, error_user_title, error_user_msg } = fields
  const error: Record<string, unknown> = { message, type, code }
  if (error_subcode !== undefined) error.error_subcode = error_subcode
  if (is_transient !== undefined) error.is_transient = is_transient
  if (error_user_title !== undefined) error.error_user_title = error_user_title
  if (error_user_msg !== undefined) error.error_user_msg = error_user_msg
  error.fbtrace_id = traceId
  return JSON.stringify({ error })
}

/** Code 100, the generic invalid-parameter error. */
export function invalidParameter(message: string): GraphError {
  return new GraphError({ message, type: 'OAuthException', code: 100 })
}

export function nonexistingField(field: string, nodeType: string): GraphError {
  return invalidParameter(`(#100) Tried accessing nonexisting field (${field}) on node type (${nodeType})`)
}

/** Code 100 subcode 33: an object or path Graph does not know. */
export function unsupportedRequest(method: string, objectId: string): GraphError {
  return new GraphError({
    message: `Unsupported ${method.toLowerCase()} request. Object with ID '${objectId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
    type: 'GraphMethodException',
    code: 100,
    error_subcode: 33,
  })
}

/**
 * One entry of `fields`: `reactions.type(LOVE).limit(0).summary(total_count).as(love)` → name,
 * modifiers and the answer's key.
 */
export interface FieldRequest {
  name: string
  /** The key in the answer: the `.as(alias)` given, else the name. */
  key: string
  modifiers: Map<string, string>
  raw: string
}

const FIELD = /^([A-Za-z_][A-Za-z0-9_]*)((?:\.[A-Za-z_]+\([^(){}]*\))*)(\{.*\})?$/
const MODIFIER = /\.([A-Za-z_]+)\(([^(){}]*)\)/g

/**
 * Splits `fields` on top-level commas (commas inside `(…)` or `{…}` belong to the field). Returns
 * undefined when the parameter is absent or empty (the node's default fields apply). A nested
 * `{…}` selection is accepted and ignored: the simulator never lists reactions or comments.
 */
export function parseFields(value: string | null, nodeType: string): FieldRequest[] | undefined {
  if (value === null || value.trim() === '') return undefined
  const parts: string[] = []
  let depth = 0
  let current = ''
  for (const ch of value) {
    if (ch === '(' || ch === '{') depth++
    if (ch === ')' || ch === '}') depth--
    if (ch === ',' && depth === 0) {
      parts.push(current)
      current = ''
    } else current += ch
  }
  parts.push(current)
  const out: FieldRequest[] = []
  for (const part of parts) {
    const raw = part.trim()
    if (!raw) continue
    const match = FIELD.exec(raw)
    if (!match) throw nonexistingField(raw, nodeType)
    const modifiers = new Map<string, string>()
    for (const m of (match[2] ?? '').matchAll(MODIFIER)) modifiers.set(m[1]!, m[2]!.trim())
    const key = modifiers.get('as') || match[1]!
    if (!out.some((f) => f.key === key)) out.push({ name: match[1]!, key, modifiers, raw })
  }
  return out
}

/**
 * A `since`/`until` value: unix seconds, a `YYYY-MM-DD` date (Pacific midnight, the zone Graph
 * uses for insights days) or an ISO-8601 date-time.
 */
export function parseTimeParam(name: string, value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined
  const text = value.trim()
  let ms: number | undefined
  if (/^\d+$/.test(text)) ms = Number(text) * 1000
  else if (/^\d{4}-\d{2}-\d{2}$/.test(text)) ms = pacificMidnightOf(text)
  else if (/^\d{4}-\d{2}-\d{2}T/.test(text)) ms = Date.parse(text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'))
  if (ms === undefined || !Number.isFinite(ms)) {
    // UNCONFIRMED: Graph's exact wording for an unparseable time.
    throw invalidParameter(`(#100) The parameter ${name} is not a valid unix timestamp or date`)
  }
  return ms
}

/** This request's URL with some parameters replaced (undefined removes one); order is kept. */
export function linkWith(baseUrl: string, pathname: string, query: URLSearchParams, changes: Record<string, string | undefined>): string {
  const next = new URLSearchParams(query)
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) next.delete(key)
    else next.set(key, value)
  }
  return `${baseUrl}${pathname}?${next.toString()}`
}

/**
 * A family of Graph nodes served by its own module (Instagram users and media, ad accounts),
 * each with its own Business Use Case budget and usage headers. The dispatcher checks the token,
 * then asks each family whether it owns the path's object id; the fallback family (Pages) answers
 * every other id.
 */
export interface GraphFamily {
  owns(objectId: string): boolean
  /** Owns every id the other families do not (Pages); also charged for unversioned paths. */
  fallback?: boolean
  /**
   * Takes one call from the token's budget: the usage headers of a success, or throws the
   * family's throttle error. `segments` are the decoded path after the version (object id first).
   */
  admit(token: string, segments: string[], nowMs: number): Record<string, string>
  /** The body of a GET on a versioned path; throws GraphError. `segments` are the decoded path after the version. */
  route(request: GraphFamilyRequest, segments: string[], token: string, nowMs: number): unknown
}

/** What a family's handlers read from a request. */
export type GraphFamilyRequest = Pick<SimRequest, 'method' | 'query' | 'pathname' | 'baseUrl'>
