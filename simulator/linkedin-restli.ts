/**
 * Rest.li 2.0 query values (learn.microsoft.com …/shared/api-guide/concepts/protocol-version):
 * an object is `(key:value,key:value)`, a list `List(a,b)`, anything else a string. The caller
 * hands the already percent-decoded parameter; structural characters are never encoded by
 * clients, so decoding first is safe for the numbers and enums we read.
 */
export type RestliValue = string | RestliValue[] | { [key: string]: RestliValue }

export class RestliSyntaxError extends Error {}

export function parseRestli(text: string): RestliValue {
  let i = 0
  const fail = (): never => {
    throw new RestliSyntaxError(`cannot parse Rest.li 2.0 value at position ${i}: ${text}`)
  }
  function value(): RestliValue {
    if (text.startsWith('List(', i)) {
      i += 5
      const items: RestliValue[] = []
      if (text[i] === ')') {
        i++
        return items
      }
      for (;;) {
        items.push(value())
        if (text[i] === ',') i++
        else if (text[i] === ')') {
          i++
          return items
        } else fail()
      }
    }
    if (text[i] === '(') {
      i++
      const object: Record<string, RestliValue> = {}
      if (text[i] === ')') {
        i++
        return object
      }
      for (;;) {
        const colon = text.indexOf(':', i)
        if (colon < 0) fail()
        const key = text.slice(i, colon)
        if (!/^[A-Za-z_][\w.]*$/.test(key)) fail()
        i = colon + 1
        object[key] = value()
        if (text[i] === ',') i++
        else if (text[i] === ')') {
          i++
          return object
        } else fail()
      }
    }
    const start = i
    while (i < text.length && text[i] !== ',' && text[i] !== ')' && text[i] !== '(') i++
    if (text[i] === '(') fail()
    return text.slice(start, i)
  }
  const result = value()
  if (i !== text.length) fail()
  return result
}
