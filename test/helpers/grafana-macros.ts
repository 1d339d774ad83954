/**
 * Expands a dashboard query the way Grafana and the ClickHouse data source plugin
 * (`grafana-clickhouse-datasource`, v4) do before the SQL reaches ClickHouse, so that a test can
 * run every panel's SQL against the real engine.
 *
 * Grafana and the plugin expand a query in three passes, in this order; so does `expandPanelSql`:
 *
 * 1. `$__conditionalAll(condition, $var)`, in the plugin's front end (`applyConditionalAll`,
 *    before variables are replaced): becomes `condition` when `$var` has a selection, or `1=1`
 *    when "All" (`$__all`) or nothing is selected.
 * 2. Dashboard variables, by Grafana's template service with the plugin's default format:
 *      `$var`, `${var}`   a multi-value selection becomes `'a','b'` (the plugin's own formatter);
 *                         a single value is inserted as it is, unquoted
 *      `${var:singlequote}`  `'a','b'`, a `'` inside a value escaped as `\'`
 *      `${var:sqlstring}`    `'a','b'`, a `'` inside a value doubled (`''`)
 *      `${var:csv}` / `${var:raw}`  `a,b` / the value unformatted
 *    "All" without a custom all value stands for every option of the variable.
 * 3. Time macros, in the plugin's Go back end (`pkg/macros/macros.go`, via sqlds), against the
 *    panel's time range `from`..`to` and interval:
 *      `$__fromTime`, `$__toTime`          `toDateTime(<unix seconds>)`
 *      `$__fromTime_ms`, `$__toTime_ms`    `fromUnixTimestamp64Milli(<unix milliseconds>)`
 *      `$__timeFilter(col)`     `col >= toDateTime(<from s>) AND col <= toDateTime(<to s>)`
 *      `$__timeFilter_ms(col)`  `col >= fromUnixTimestamp64Milli(<from ms>) AND col <= fromUnixTimestamp64Milli(<to ms>)`
 *      `$__dateFilter(col)`     `col >= toDate('YYYY-MM-DD') AND col <= toDate('YYYY-MM-DD')`
 *                               (the dates of from and to in the Grafana server's zone; UTC here)
 *      `$__dateTimeFilter(d, t)` and its alias `$__dt(d, t)`
 *                               `(d >= toDate(..) AND d <= toDate(..)) AND (t >= toDateTime(..) AND t <= toDateTime(..))`
 *      `$__timeInterval(col)`   `toStartOfInterval(toDateTime(col), INTERVAL <interval s, at least 1> second)`
 *      `$__timeInterval_ms(col)` `toStartOfInterval(toDateTime64(col, 3), INTERVAL <interval ms, at least 1> millisecond)`
 *      `$__interval_s`          the interval in whole seconds, at least 1
 *    Macro arguments are split at every comma and trimmed, as sqlds does, so an argument cannot
 *    itself contain a comma.
 *
 * Where Grafana or the plugin would silently leave something unexpanded (an unknown variable, an
 * unknown macro, a misspelt format), this expander throws instead, so a typo in a dashboard fails
 * the test rather than reaching ClickHouse as `$kpis`.
 */

export interface VariableSelection {
  /**
   * The selected values. With "All" selected, every option of the variable (what Grafana
   * substitutes for `$__all` when the variable has no custom all value).
   */
  values: string[]
  /** True when "All" is selected. */
  all?: boolean
  /** A multi-value variable: its value is a list even with one item selected. */
  multi?: boolean
}

export interface ExpandOptions {
  from: Date
  to: Date
  /** The panel's interval (Grafana's `$__interval`); defaults to one minute. */
  intervalMs?: number
  variables: Record<string, VariableSelection>
}

export class MacroExpansionError extends Error {
  override readonly name = 'MacroExpansionError'
}

/** Expands conditionalAll, dashboard variables and time macros, in Grafana's order. */
export function expandPanelSql(sql: string, options: ExpandOptions): string {
  const withConditions = expandConditionalAll(sql, options.variables)
  const withVariables = interpolateVariables(withConditions, options.variables)
  const expanded = expandTimeMacros(withVariables, options)
  const leftover = /\$\{[^}]*\}|\$\w+|\[\[[A-Za-z_]\w*(?::\w+)?\]\]/.exec(expanded)
  if (leftover) throw new MacroExpansionError(`unexpanded reference ${leftover[0]} in:\n${expanded}`)
  return expanded
}

/** Pass 1: `$__conditionalAll(condition, $var)`. */
export function expandConditionalAll(sql: string, variables: Record<string, VariableSelection>): string {
  const macro = '$__conditionalAll('
  let result = sql
  // Innermost-last, like the plugin: it works from the last occurrence backwards.
  for (let index = result.lastIndexOf(macro); index !== -1; index = result.lastIndexOf(macro)) {
    const open = index + macro.length - 1
    const close = closingParen(result, open)
    const args = splitTopLevel(result.slice(open + 1, close))
    if (args.length !== 2) throw new MacroExpansionError(`$__conditionalAll takes (condition, $variable), got: ${result.slice(index, close + 1)}`)
    const [condition, reference] = args as [string, string]
    const name = /^\$(?:\{(\w+)\}|(\w+))$/.exec(reference.trim())
    if (!name) throw new MacroExpansionError(`$__conditionalAll's second argument must be $name, got "${reference.trim()}"`)
    const variable = lookup(variables, name[1] ?? name[2]!)
    const phrase = variable.all || variable.values.length === 0 ? '1=1' : condition
    result = result.slice(0, index) + phrase + result.slice(close + 1)
  }
  return result
}

/** Pass 2: `$var`, `${var}`, `${var:format}` and the old `[[var]]`, skipping `$__` names. */
export function interpolateVariables(sql: string, variables: Record<string, VariableSelection>): string {
  const reference = /\$(\w+)|\$\{(\w+)(?::(\w+))?\}|\[\[(\w+)(?::(\w+))?\]\]/g
  return sql.replace(reference, (whole, bare?: string, braced?: string, format?: string, old?: string, oldFormat?: string) => {
    const name = bare ?? braced ?? old!
    if (name.startsWith('__')) return whole // Grafana's globals and the plugin's macros
    const variable = lookup(variables, name)
    const values = variable.values
    const asList = variable.multi || values.length !== 1
    switch (format ?? oldFormat) {
      case undefined:
        // The plugin's formatter: arrays become quoted lists, single values are inserted as they are.
        return asList ? `'${values.join("','")}'` : values[0]!
      case 'singlequote':
        return values.map((value) => `'${value.replace(/'/g, "\\'")}'`).join(',')
      case 'sqlstring':
        return values.map((value) => `'${value.replace(/'/g, "''")}'`).join(',')
      case 'csv':
        return values.join(',')
      case 'raw':
        return asList ? values.join(',') : values[0]!
      default:
        throw new MacroExpansionError(`unsupported variable format in ${whole}`)
    }
  })
}

type MacroFunction = (args: string[], options: ExpandOptions) => string

const seconds = (date: Date) => Math.floor(date.getTime() / 1000)
const toDateTime = (date: Date) => `toDateTime(${seconds(date)})`
const toDateTime64 = (date: Date) => `fromUnixTimestamp64Milli(${date.getTime()})`
const toDate = (date: Date) => `toDate('${date.toISOString().slice(0, 10)}')`
const intervalSeconds = (options: ExpandOptions) => Math.max(Math.floor((options.intervalMs ?? 60_000) / 1000), 1)

function arity(name: string, args: string[], count: number): void {
  if (args.length !== count) throw new MacroExpansionError(`$__${name} expects ${count} argument(s), received ${args.length}`)
}

const MACROS: Record<string, MacroFunction> = {
  fromTime: (_, o) => toDateTime(o.from),
  toTime: (_, o) => toDateTime(o.to),
  fromTime_ms: (_, o) => toDateTime64(o.from),
  toTime_ms: (_, o) => toDateTime64(o.to),
  timeFilter: (args, o) => {
    arity('timeFilter', args, 1)
    return `${args[0]} >= ${toDateTime(o.from)} AND ${args[0]} <= ${toDateTime(o.to)}`
  },
  timeFilter_ms: (args, o) => {
    arity('timeFilter_ms', args, 1)
    return `${args[0]} >= ${toDateTime64(o.from)} AND ${args[0]} <= ${toDateTime64(o.to)}`
  },
  dateFilter: (args, o) => {
    arity('dateFilter', args, 1)
    return `${args[0]} >= ${toDate(o.from)} AND ${args[0]} <= ${toDate(o.to)}`
  },
  dateTimeFilter: (args, o) => {
    arity('dateTimeFilter', args, 2)
    const [date, time] = args as [string, string]
    return `(${date} >= ${toDate(o.from)} AND ${date} <= ${toDate(o.to)}) AND (${time} >= ${toDateTime(o.from)} AND ${time} <= ${toDateTime(o.to)})`
  },
  timeInterval: (args, o) => {
    arity('timeInterval', args, 1)
    return `toStartOfInterval(toDateTime(${args[0]}), INTERVAL ${intervalSeconds(o)} second)`
  },
  timeInterval_ms: (args, o) => {
    arity('timeInterval_ms', args, 1)
    return `toStartOfInterval(toDateTime64(${args[0]}, 3), INTERVAL ${Math.max(Math.floor(o.intervalMs ?? 60_000), 1)} millisecond)`
  },
  interval_s: (_, o) => String(intervalSeconds(o)),
}
MACROS.dt = MACROS.dateTimeFilter!

/** Pass 3: the plugin's back-end macros. An unknown `$__name` is an error. */
export function expandTimeMacros(sql: string, options: ExpandOptions): string {
  let result = ''
  let rest = sql
  for (let match = /\$__(\w+)/.exec(rest); match; match = /\$__(\w+)/.exec(rest)) {
    const name = match[1]!
    const macro = MACROS[name]
    if (!macro) throw new MacroExpansionError(`unknown macro $__${name}`)
    const after = match.index + match[0].length
    let args: string[] = []
    let end = after
    if (rest[after] === '(') {
      end = closingParen(rest, after) + 1
      // sqlds splits the argument text at every comma.
      args = rest
        .slice(after + 1, end - 1)
        .split(',')
        .map((arg) => arg.trim())
        .filter((arg) => arg.length > 0)
    }
    result += rest.slice(0, match.index) + macro(args, options)
    rest = rest.slice(end)
  }
  return result + rest
}

function lookup(variables: Record<string, VariableSelection>, name: string): VariableSelection {
  const variable = variables[name]
  if (!variable) throw new MacroExpansionError(`unknown dashboard variable $${name}; known: ${Object.keys(variables).join(', ') || '(none)'}`)
  return variable
}

function closingParen(text: string, open: number): number {
  let depth = 0
  for (let i = open; i < text.length; i++) {
    if (text[i] === '(') depth++
    else if (text[i] === ')' && --depth === 0) return i
  }
  throw new MacroExpansionError(`unbalanced parentheses after: ${text.slice(open, open + 60)}`)
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = []
  let depth = 0
  let start = 0
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++
    else if (text[i] === ')') depth--
    else if (text[i] === ',' && depth === 0) {
      parts.push(text.slice(start, i))
      start = i + 1
    }
  }
  parts.push(text.slice(start))
  return parts
}
