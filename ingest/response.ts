import type { AxiosResponse } from 'axios'
import type { z } from 'zod'
import { issuePath } from '../core/errors.ts'

/**
 * The edge of every collector: a successful answer is used only once it is JSON of the shape its
 * collector declares (a zod schema of the fields it reads, see ApiCaller.get). A proxy's HTML
 * page, a body cut short or an answer without the documented fields is a failure with a plain
 * message, never a TypeError deep in a collector and never rows built from garbage.
 */
export type BodyReading<T> = { ok: true; value: T } | { ok: false; problem: string /** false: not JSON at all; true: JSON of another shape. */; json: boolean }

/** At most this many problems are named in one message. */
const MAX_PROBLEMS = 3

/** Reads a 2xx answer's body against `schema`; the problem is worded for people ("the response lacks "items""). */
export function readBody<S extends z.ZodType>(response: AxiosResponse, schema: S): BodyReading<z.output<S>> {
  const body = parsedBody(response)
  if (!body.ok) return body
  const result = schema.safeParse(body.value)
  if (result.success) return { ok: true, value: result.data }
  const problems = result.error.issues.slice(0, MAX_PROBLEMS).map((issue) => describeIssue(issue, body.value))
  const more = result.error.issues.length - MAX_PROBLEMS
  return { ok: false, json: true, problem: `${[...new Set(problems)].join('; ')}${more > 0 ? ` (and ${more} more)` : ''}` }
}

/**
 * axios parses JSON when it can and otherwise leaves the text: a string here is an HTML page, a
 * truncated document, or (rarely) a JSON string literal, which is parsed so the schema can judge it.
 */
function parsedBody(response: AxiosResponse): BodyReading<unknown> {
  const data: unknown = response.data
  if (typeof data !== 'string') return { ok: true, value: data }
  if (data.trim() === '') return { ok: false, json: false, problem: 'the response is empty' }
  try {
    return { ok: true, value: JSON.parse(data) }
  } catch {
    const type = String(response.headers?.['content-type'] ?? '')
      .split(';')[0]!
      .trim()
      .toLowerCase()
    if (/[/+]json$/.test(type)) return { ok: false, json: false, problem: `the response is not valid JSON (${Buffer.byteLength(data)} bytes of ${type}, cut short or malformed)` }
    return { ok: false, json: false, problem: `the response is not JSON (${type || 'no content type'})` }
  }
}

function describeIssue(issue: z.core.$ZodIssue, body: unknown): string {
  const where = issuePath(issue.path)
  const subject = where ? `"${where}" in the response` : 'the response'
  const value = valueAt(body, issue.path)
  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined) return where ? `the response lacks "${where}"` : 'the response is empty'
      return `${subject} is ${kindOf(value)}, not ${withArticle(issue.expected)}`
    case 'invalid_value':
      return `${subject} is not ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}`
    case 'invalid_union':
      return `${subject} is ${kindOf(value)}, not a form the API documents`
    default:
      return `${subject}: ${issue.message}`
  }
}

/** The value at a zod issue's path, or undefined where the path leaves the document. */
function valueAt(body: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let at: unknown = body
  for (const key of path) {
    if (at === null || typeof at !== 'object') return undefined
    at = (at as Record<PropertyKey, unknown>)[key]
  }
  return at
}

/** What a value is, in words; never the value itself (it may be anything an API sent). */
function kindOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  switch (typeof value) {
    case 'string':
      return 'text'
    case 'number':
      return 'a number'
    case 'boolean':
      return value ? 'true' : 'false'
    case 'object':
      return 'an object'
    default:
      return typeof value
  }
}

function withArticle(expected: string): string {
  const words: Record<string, string> = { array: 'a list', object: 'an object', string: 'text', number: 'a number', boolean: 'true or false', int: 'a whole number' }
  return words[expected] ?? expected
}
