/**
 * Turns zod issues into one message per form field that says what is allowed
 * ("Enter a whole number from 4 to 1024"), reading the limits from the contract's own schemas so
 * the form and the backend can never disagree.
 */
import type { z } from 'zod'

/** A zod issue, reduced to what the mapping reads. */
export interface IssueLike {
  code: string
  path: PropertyKey[]
  message: string
  expected?: string
  values?: unknown[]
  minimum?: number | bigint
  maximum?: number | bigint
  inclusive?: boolean
  origin?: string
}

/** Field path → message; the path is the issue path joined with dots ("split.trainRatio"). */
export type FieldErrors = Record<string, string>

interface Def {
  type: string
  innerType?: z.ZodType
  shape?: Record<string, z.ZodType>
  options?: z.ZodType[]
  discriminator?: string
  items?: z.ZodType[]
  element?: z.ZodType
  checks?: {
    _zod: { def: { check: string; value?: number; inclusive?: boolean; format?: string } }
  }[]
  values?: unknown[]
  entries?: Record<string, unknown>
}

function def(s: z.ZodType): Def {
  return (s as unknown as { _zod: { def: Def } })._zod.def
}

function unwrap(s: z.ZodType): z.ZodType {
  let cur = s
  for (let i = 0; i < 10; i++) {
    const d = def(cur)
    if (
      (d.type === 'default' ||
        d.type === 'optional' ||
        d.type === 'nullable' ||
        d.type === 'prefault') &&
      d.innerType
    )
      cur = d.innerType
    else break
  }
  return cur
}

/**
 * The schema at `path` inside `schema`; `value` is the whole input, used to pick the member of a
 * discriminated union. Returns null when the path cannot be followed.
 */
export function schemaAt(schema: z.ZodType, path: PropertyKey[], value: unknown): z.ZodType | null {
  let cur: z.ZodType = schema
  let val: unknown = value
  for (const key of path) {
    cur = unwrap(cur)
    let d = def(cur)
    if (d.type === 'union' && d.options) {
      const disc = d.discriminator
      const tag =
        disc && val && typeof val === 'object' ? (val as Record<string, unknown>)[disc] : undefined
      const match = d.options.find((o) => {
        const sh = def(unwrap(o)).shape
        if (!sh || !disc || !sh[disc]) return false
        const lit = def(unwrap(sh[disc]))
        return (lit.values ?? []).includes(tag)
      })
      if (!match) return null
      cur = unwrap(match)
      d = def(cur)
    }
    if (d.type === 'object' && d.shape && typeof key === 'string') cur = d.shape[key]
    else if (d.type === 'tuple' && d.items && typeof key === 'number') cur = d.items[key]
    else if (d.type === 'array' && d.element) cur = d.element
    else return null
    if (!cur) return null
    val =
      val && typeof val === 'object'
        ? (val as Record<PropertyKey, unknown>)[key as string]
        : undefined
  }
  return unwrap(cur)
}

function fmt(n: number): string {
  return Math.abs(n) >= 1e-3 || n === 0 ? String(n) : n.toExponential()
}

/** "a whole number from 4 to 1024", "a number above 0, at most 1" — or null when not a number. */
export function allowedNumber(schema: z.ZodType): string | null {
  const d = def(unwrap(schema))
  if (d.type !== 'number') return null
  let int = false
  let lo: { v: number; inc: boolean } | null = null
  let hi: { v: number; inc: boolean } | null = null
  for (const c of d.checks ?? []) {
    const cd = c._zod.def
    if (cd.check === 'number_format' && cd.format && /int/.test(cd.format)) int = true
    if (cd.check === 'greater_than' && cd.value !== undefined)
      lo = { v: cd.value, inc: !!cd.inclusive }
    if (cd.check === 'less_than' && cd.value !== undefined)
      hi = { v: cd.value, inc: !!cd.inclusive }
  }
  const noun = int ? 'a whole number' : 'a number'
  if (lo && hi && lo.inc && hi.inc) return `${noun} from ${fmt(lo.v)} to ${fmt(hi.v)}`
  const parts: string[] = []
  if (lo) parts.push(lo.inc ? `at least ${fmt(lo.v)}` : `above ${fmt(lo.v)}`)
  if (hi) parts.push(hi.inc ? `at most ${fmt(hi.v)}` : `below ${fmt(hi.v)}`)
  return parts.length ? `${noun}, ${parts.join(' and ')}` : noun
}

/** One message for one issue, naming what the field accepts. */
export function issueMessage(issue: IssueLike, schema: z.ZodType | null): string {
  const num = schema ? allowedNumber(schema) : null
  if (num) {
    if (issue.code === 'invalid_type' && issue.expected === 'number') return `Enter ${num}.`
    if (issue.code === 'invalid_type' || issue.code === 'too_small' || issue.code === 'too_big')
      return `Must be ${num}.`
  }
  if (issue.code === 'invalid_value' && issue.values) {
    return `Choose one of: ${issue.values.map(String).join(', ')}.`
  }
  if (issue.code === 'too_small' && issue.origin === 'string') return 'Required.'
  if (issue.code === 'too_small' && issue.origin === 'array')
    return `Choose at least ${String(issue.minimum)}.`
  if (issue.code === 'too_big' && issue.origin === 'string')
    return `At most ${String(issue.maximum)} characters.`
  if (issue.code === 'invalid_type' && issue.path.length && issue.message.includes('undefined'))
    return 'Required.'
  return issue.message
}

/** Maps every issue to its field; the first issue of a field wins. */
export function mapIssues(issues: IssueLike[], schema: z.ZodType, value: unknown): FieldErrors {
  const out: FieldErrors = {}
  for (const issue of issues) {
    const key = issue.path.length ? issue.path.map(String).join('.') : '(form)'
    if (out[key]) continue
    out[key] = issueMessage(issue, schemaAt(schema, issue.path, value))
  }
  return out
}

/** Maps backend field issues (dotted paths) onto the same error record. */
export function mapServerIssues(issues: { path: string; message: string }[]): FieldErrors {
  const out: FieldErrors = {}
  for (const i of issues) if (!out[i.path]) out[i.path] = i.message
  return out
}
