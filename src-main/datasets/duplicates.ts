/**
 * Which copy of a duplicated image is kept. Files with the same content (sha1) are ordered by
 * `copyOrder`: names that look like copies (`dup_x.png`, `copy of x.png`, `x copy.png`,
 * `x (1).png`, `x_copy2.png`) come after the others, then natural order (numbers compared as
 * numbers: img2 before img10), then code points. The first is kept, each other one is reported
 * as a duplicate naming it. The order depends on names only, so it is the same on every import.
 */
import type { DatasetProblem } from '../../src-preload/contract'
import type { Listing } from './types'
import type { CheckResult, GoodImage } from './validate'

const COPY_NAME = [
  /^(dup|dupe|duplicate|copy)([_\- .]|\d)/i,
  /^copy of /i,
  /[ _\-.](copy|dup|dupe|duplicate)\d*(\.[^.]*)?$/i,
  / \(\d+\)(\.[^.]*)?$/
]

/** True when a file name (without folders) looks like a copy of another file. */
export function looksLikeCopy(path: string): boolean {
  const name = path.slice(path.lastIndexOf('/') + 1)
  return COPY_NAME.some((re) => re.test(name))
}

const natural = new Intl.Collator('en', { numeric: true, sensitivity: 'variant' })

/** Sort order of the copies of one image: the first is kept. */
export function copyOrder(a: string, b: string): number {
  const ca = looksLikeCopy(a) ? 1 : 0
  const cb = looksLikeCopy(b) ? 1 : 0
  if (ca !== cb) return ca - cb
  return natural.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0)
}

/**
 * Adds a problem for every file left out (bad files and extra copies) and returns the kept
 * files, in listing order.
 */
export function keepFirstCopies(
  listing: Listing,
  results: readonly CheckResult[],
  problems: DatasetProblem[]
): { index: number; good: GoodImage }[] {
  const bySha = new Map<string, number[]>()
  results.forEach((r, i) => {
    const img = listing.images[i]
    if (!r.ok) {
      problems.push({ kind: r.kind, relPath: img.relPath, message: r.message, excluded: true })
      return
    }
    const list = bySha.get(r.sha1)
    if (list) list.push(i)
    else bySha.set(r.sha1, [i])
  })
  const dropped = new Set<number>()
  for (const idx of bySha.values()) {
    if (idx.length < 2) continue
    const sorted = [...idx].sort((a, b) =>
      copyOrder(listing.images[a].relPath, listing.images[b].relPath)
    )
    const keep = listing.images[sorted[0]]
    for (const i of sorted.slice(1)) {
      const img = listing.images[i]
      const where =
        keep.className === img.className ? 'in the same class' : `in class "${keep.className}"`
      problems.push({
        kind: 'duplicate',
        relPath: img.relPath,
        message: `same content as ${keep.relPath} (${where}); this copy is left out`,
        excluded: true
      })
      dropped.add(i)
    }
  }
  const kept: { index: number; good: GoodImage }[] = []
  results.forEach((r, i) => {
    if (r.ok && !dropped.has(i)) kept.push({ index: i, good: r })
  })
  return kept
}
