/**
 * In-Shop Clothes Retrieval: `list_eval_partition.txt` (a count line, a header
 * `image_name item_id evaluation_status`, then rows with train/query/gallery). item_id is the
 * class; train items train, query/gallery items test, and images keep their query/gallery
 * role. The group is the two folders above the item folder (e.g. `WOMEN/Dresses`).
 */
import { existsSync } from 'node:fs'
import { basename, dirname, join, relative } from 'node:path'
import { toPosix } from '../paths'
import type { ImageRole, Listing, SplitSide } from '../types'
import { ListingBuilder, fields, readLines } from './builder'
import { byCodePoint } from './folder'

/** Reads In-Shop from its list file; image paths are resolved against the folder where they exist. */
export async function readInShopListing(root: string, listFile: string): Promise<Listing> {
  const lines = await readLines(listFile)
  const listDir = dirname(listFile)
  const b = new ListingBuilder(
    'inshop',
    root,
    toPosix(relative(root, listFile)),
    basename(root) || 'In-Shop'
  )
  type Row = { origin: string; path: string; item: string; status: string }
  const rows: Row[] = []
  lines.forEach((line, i) => {
    if (!line.trim()) return
    if (i === 0 && /^\s*\d+\s*$/.test(line)) return
    if (/image_name/i.test(line)) return
    const origin = `list_eval_partition.txt line ${i + 1}`
    const [path, item, status] = fields(line)
    if (!status || !['train', 'query', 'gallery'].includes(status)) {
      return b.badLine(origin, 'expected "<image_name> <item_id> train|query|gallery"')
    }
    rows.push({ origin, path, item, status })
  })
  // The official layout keeps the list in Eval/ and the images in Img/img/...; many copies
  // flatten this. Use the first candidate base under which the first listed image exists.
  const candidates = [
    listDir,
    dirname(listDir),
    root,
    join(root, 'Img'),
    join(dirname(listDir), 'Img')
  ]
  const probe = rows[0]?.path
  const base = (probe && candidates.find((c) => existsSync(join(c, probe)))) || listDir

  const items = new Map<string, { side: SplitSide; group: string | null }>()
  for (const r of rows) {
    if (items.has(r.item)) continue
    const segs = r.path.split('/')
    const group = segs.length >= 4 ? `${segs[segs.length - 4]}/${segs[segs.length - 3]}` : null
    items.set(r.item, { side: r.status === 'train' ? 'train' : 'test', group })
  }
  ;[...items.keys()].sort(byCodePoint).forEach((item, i) => {
    const it = items.get(item)!
    b.addClass(item, it.group, i + 1, it.side)
  })
  for (const r of rows) {
    const role: ImageRole | null = r.status === 'train' ? null : (r.status as ImageRole)
    b.addImage(base, r.path, r.item, role, r.origin)
  }
  return b.build()
}
