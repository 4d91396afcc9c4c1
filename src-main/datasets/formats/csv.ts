/**
 * CSV in open-metric-learning's format: columns `label`, `path`, `split` (train/validation),
 * `is_query`, `is_gallery`, optionally `category` (used as the group). Paths are relative to
 * the CSV's folder (the dataset root) or absolute inside it. The preset split follows the
 * split column: a label's class is train when its rows are train, test when validation.
 * Validation rows keep their query/gallery role.
 */
import { basename, dirname, relative } from 'node:path'
import { toPosix } from '../paths'
import { type ImageRole, type Listing, type SplitSide } from '../types'
import { ListingBuilder, readLines } from './builder'
import { byCodePoint } from './folder'
import { InvalidError } from '../../../src-preload/contract/errors'

/** Parses one CSV record (RFC 4180 quoting, comma separator). */
export function parseCsvLine(line: string): string[] {
  const out: string[] = []
  let cur = ''
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"'
        i++
      } else if (ch === '"') quoted = false
      else cur += ch
    } else if (ch === '"') quoted = true
    else if (ch === ',') {
      out.push(cur)
      cur = ''
    } else cur += ch
  }
  out.push(cur)
  return out.map((s) => s.trim())
}

/** Splits CSV text lines into records, joining lines inside quoted fields. */
function records(lines: string[]): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = []
  let buf: string | null = null
  let start = 0
  lines.forEach((l, i) => {
    const text: string = buf === null ? l : `${buf}\n${l}`
    if (buf === null) start = i + 1
    const quotes = (text.match(/"/g) ?? []).length
    if (quotes % 2 === 1) buf = text
    else {
      buf = null
      if (text.trim()) out.push({ line: start, text })
    }
  })
  return out
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
  const recs = records(lines)
  if (recs.length === 0) throw new InvalidError(`${csvFile} is empty`)
  const header = parseCsvLine(recs[0].text).map((h) => h.toLowerCase())
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
  for (const r of recs.slice(1)) {
    const origin = `${file} line ${r.line}`
    const f = parseCsvLine(r.text)
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
