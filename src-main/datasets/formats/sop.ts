/**
 * Stanford Online Products: `Ebay_train.txt` / `Ebay_test.txt` with the columns
 * `image_id class_id super_class_id path`. class_id is the class, the super-class is the
 * group (named after its folder, e.g. `bicycle_final` → `bicycle`). The protocol is the two
 * lists: classes of Ebay_train train, of Ebay_test test.
 */
import { existsSync } from 'node:fs'
import { basename, dirname, join, relative } from 'node:path'
import { toPosix } from '../paths'
import type { Listing, SplitSide } from '../types'
import { ListingBuilder, fields, readLines } from './builder'

/** Reads SOP from `base` (the folder holding the Ebay_*.txt lists); `root` is the dataset root. */
export async function readSopListing(root: string, base: string): Promise<Listing> {
  const lists: { file: string; side: SplitSide }[] = [
    { file: 'Ebay_train.txt', side: 'train' },
    { file: 'Ebay_test.txt', side: 'test' }
  ]
  const present = lists.filter((l) => existsSync(join(base, l.file)))
  const b = new ListingBuilder(
    'sop',
    root,
    toPosix(relative(root, join(base, present[0]?.file ?? 'Ebay_train.txt'))),
    basename(base === root ? root : dirname(base)) || 'Stanford_Online_Products'
  )
  const superNames = new Map<string, string>()
  type Row = { origin: string; classId: number; superId: string; path: string; side: SplitSide }
  const rows: Row[] = []
  for (const l of present) {
    const lines = await readLines(join(base, l.file))
    lines.forEach((line, i) => {
      if (i === 0 && /image_id/i.test(line)) return
      if (!line.trim()) return
      const origin = `${l.file} line ${i + 1}`
      const [, cls, sup, path] = fields(line)
      const classId = Number(cls)
      if (!path || !Number.isInteger(classId)) {
        return b.badLine(origin, 'expected "<image_id> <class_id> <super_class_id> <path>"')
      }
      rows.push({ origin, classId, superId: sup, path, side: l.side })
      if (!superNames.has(sup)) {
        const folder = path.split('/')[0]
        superNames.set(
          sup,
          folder && folder !== path ? folder.replace(/_final$/, '') : `super_class_${sup}`
        )
      }
    })
  }
  for (const r of rows) {
    const name = String(r.classId)
    b.addClass(name, superNames.get(r.superId) ?? null, r.classId, r.side)
    b.addImage(base, r.path, name, null, r.origin)
  }
  return b.build()
}
