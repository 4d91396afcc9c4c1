/**
 * CSV in open-metric-learning's format: columns `label`, `path`, `split` (train/validation),
 * `is_query`, `is_gallery`, optionally `category` (used as the group). Paths are relative to
 * the CSV's folder (the dataset root) or absolute inside it. The preset split follows the
 * split column: a label's class is train when its rows are train, test when validation.
 * Validation rows keep their query/gallery role.
 */
import { basename, dirname, relative } from 'node:path'
import { CsvError, parse } from 'csv-parse/sync'
import { toPosix } from '../paths'
import { type ImageRole, type Listing, type SplitSide } from '../types'
import { ListingBuilder, readLines } from './builder'
import { byCodePoint } from './folder'
import { InvalidError } from '../../../src-preload/contract/errors'

/** One CSV record and the line it starts on (1-based). */
export interface CsvRecord {
  line: number
  fields: string[]
}

/** A record that could not be parsed: its first line and why. */
export interface CsvBadRecord {
  line: number
  message: string
}

/** After this many malformed records the rest of the file is given up. */
export const MAX_BAD_CSV_RECORDS = 100

const CSV_OPTIONS = {
  relax_column_count: true,
  skip_empty_lines: true,
  trim: true
} as const

/** The index of the first non-blank line at or after `i`, or lines.length. */
function nextContentLine(lines: readonly string[], i: number): number {
  while (i < lines.length && lines[i].trim() === '') i++
  return i
}

/**
 * Parses CSV lines with csv-parse (RFC 4180: quoted fields, doubled quotes, newlines inside
 * quotes). A malformed record does not lose the others: its first line is reported and
 * parsing resumes on the next line. A quote that is never closed swallows the lines after it,
 * so a record that fails beyond its first line is reported as an unterminated quoted field.
 */
export function parseCsvRecords(lines: readonly string[]): {
  records: CsvRecord[]
  bad: CsvBadRecord[]
  gaveUp: boolean
} {
  const records: CsvRecord[] = []
  const bad: CsvBadRecord[] = []
  let start = 0
  while (start < lines.length) {
    const { done, consumed, error } = parseFrom(lines, start)
    records.push(...done)
    if (!error) break
    // The failing record starts on the first non-blank line after the last finished one.
    const failed = nextContentLine(lines, start + consumed)
    const errLine = start + (error.lines ?? consumed + 1)
    const message =
      error.code === 'CSV_QUOTE_NOT_CLOSED' || errLine > failed + 1
        ? 'unterminated quoted field'
        : error.code === 'CSV_INVALID_CLOSING_QUOTE'
          ? 'malformed quoted field (text after the closing quote)'
          : `malformed row (${error.code})`
    bad.push({ line: failed + 1, message })
    if (bad.length >= MAX_BAD_CSV_RECORDS) return { records, bad, gaveUp: true }
    start = failed + 1
  }
  return { records, bad, gaveUp: false }
}

/**
 * Parses lines[start..] and returns the records finished before any error (with absolute
 * 1-based first lines), the lines they consumed (relative to start) and the error, if any.
 */
function parseFrom(
  lines: readonly string[],
  start: number
): { done: CsvRecord[]; consumed: number; error: (CsvError & { lines?: number }) | null } {
  const done: CsvRecord[] = []
  let consumed = 0
  try {
    parse(lines.slice(start).join('\n'), {
      ...CSV_OPTIONS,
      on_record: (record: string[], context: { lines: number }) => {
        done.push({ line: nextContentLine(lines, start + consumed) + 1, fields: record })
        consumed = context.lines
        return null
      }
    })
    return { done, consumed, error: null }
  } catch (err) {
    if (!(err instanceof CsvError)) throw err
    return { done, consumed, error: err }
  }
}

function truthy(v: string | undefined): boolean | null {
  if (v === undefined || v === '' || /^(nan|none|null)$/i.test(v)) return null
  if (/^(true|1|1\.0|yes)$/i.test(v)) return true
  if (/^(false|0|0\.0|no)$/i.test(v)) return false
  return null
}

/** Reads an open-metric-learning CSV; the dataset root is the CSV's folder. */
export async function readCsvListing(root: string, csvFile: string): Promise<Listing> {
  const lines = await readLines(csvFile)
  const { records: recs, bad, gaveUp } = parseCsvRecords(lines)
  if (recs.length === 0 && bad.length === 0) throw new InvalidError(`${csvFile} is empty`)
  if (recs.length === 0 || (bad.length && bad[0].line < recs[0].line)) {
    throw new InvalidError(
      `${basename(csvFile)} line ${bad[0].line}: ${bad[0].message} in the header; expected a header row such as label,path,split,is_query,is_gallery`
    )
  }
  const header = recs[0].fields.map((h) => h.toLowerCase())
  const col = (name: string): number => header.indexOf(name)
  const missing = ['label', 'path'].filter((c) => col(c) < 0)
  if (missing.length) {
    throw new InvalidError(
      `${csvFile}: missing column(s) ${missing.join(', ')}; the open-metric-learning CSV format needs ` +
        'label, path, split (train/validation), is_query, is_gallery'
    )
  }
  const [cLabel, cPath, cSplit, cQuery, cGallery, cCat] = [
    col('label'),
    col('path'),
    col('split'),
    col('is_query'),
    col('is_gallery'),
    col('category')
  ]
  const file = basename(csvFile)
  const b = new ListingBuilder(
    'csv',
    root,
    toPosix(relative(root, csvFile)),
    basename(root) || file
  )
  type Row = {
    origin: string
    label: string
    path: string
    side: SplitSide | null
    role: ImageRole | null
    cat: string | null
  }
  const rows: Row[] = []
  for (const r of bad) b.badLine(`${file} line ${r.line}`, r.message)
  if (gaveUp) {
    b.badLine(
      `${file} line ${bad[bad.length - 1].line}`,
      `more than ${MAX_BAD_CSV_RECORDS} malformed rows; the rest of the file is left out`
    )
  }
  for (const r of recs.slice(1)) {
    const origin = `${file} line ${r.line}`
    const f = r.fields
    const label = f[cLabel] ?? ''
    const path = f[cPath] ?? ''
    if (!label || !path) {
      b.badLine(origin, 'row without a label or a path')
      continue
    }
    const split = cSplit >= 0 ? (f[cSplit] ?? '').toLowerCase() : ''
    let side: SplitSide | null = null
    if (split === 'train') side = 'train'
    else if (split === 'validation' || split === 'val' || split === 'test') side = 'test'
    else if (split) {
      b.badLine(origin, `unknown split "${f[cSplit]}" (expected train or validation)`)
      continue
    }
    let role: ImageRole | null = null
    if (side === 'test') {
      const q = truthy(f[cQuery])
      const g = truthy(f[cGallery])
      role = q && g ? 'both' : q ? 'query' : g ? 'gallery' : null
    }
    const cat = cCat >= 0 && f[cCat] ? f[cCat] : null
    rows.push({ origin, label, path, side, role, cat })
  }
  // Classes in numeric label order when every label is a number, else in text order.
  const labels = [...new Set(rows.map((r) => r.label))]
  const numeric = labels.every((l) => /^-?\d+(\.0+)?$/.test(l))
  labels.sort(numeric ? (a, b2) => Number(a) - Number(b2) : byCodePoint)
  const first = new Map<string, Row>()
  const sides = new Map<string, Set<SplitSide>>()
  for (const r of rows) {
    if (!first.has(r.label)) first.set(r.label, r)
    if (r.side) (sides.get(r.label) ?? sides.set(r.label, new Set()).get(r.label)!).add(r.side)
  }
  labels.forEach((label, i) => {
    const s = sides.get(label)
    // A label in both splits breaks the class-disjoint protocol; its class goes to test.
    const side: SplitSide | null = s?.has('test') ? 'test' : s?.has('train') ? 'train' : null
    b.addClass(label, first.get(label)?.cat ?? null, i + 1, side)
  })
  const base = dirname(csvFile)
  for (const r of rows) b.addImage(base, r.path, r.label, r.role, r.origin)
  return b.build()
}
