/**
 * CUB-200-2011: `images.txt` (id path), `image_class_labels.txt` (id class), `classes.txt`
 * (class name), images under `images/`. Standard DML protocol: classes 1-100 train,
 * 101-200 test.
 */
import { basename, dirname, join, relative } from 'node:path'
import { toPosix } from '../paths'
import type { Listing } from '../types'
import { ListingBuilder, fields, readLines } from './builder'
import { InvalidError } from '../../../src-preload/contract/errors'

/** Last class number of the CUB train half. */
export const CUB_TRAIN_LAST_CLASS = 100

/** Reads CUB-200-2011 from `base` (the folder holding images.txt); `root` is the dataset root. */
export async function readCubListing(root: string, base: string): Promise<Listing> {
  const imagesFile = join(base, 'images.txt')
  const [imageLines, labelLines, classLines] = await Promise.all([
    readLines(imagesFile),
    readLines(join(base, 'image_class_labels.txt')),
    readLines(join(base, 'classes.txt'))
  ])
  const b = new ListingBuilder(
    'cub',
    root,
    toPosix(relative(root, imagesFile)),
    basename(base === root ? root : dirname(base)) || 'CUB-200-2011'
  )
  const classById = new Map<string, string>()
  classLines.forEach((line, i) => {
    if (!line.trim()) return
    const [id, name] = fields(line)
    const n = Number(id)
    if (!name || !Number.isInteger(n) || n < 1) {
      b.badLine(`classes.txt line ${i + 1}`, 'expected "<class number> <class name>"')
      return
    }
    classById.set(id, name)
    b.addClass(name, null, n, n <= CUB_TRAIN_LAST_CLASS ? 'train' : 'test')
  })
  if (classById.size === 0) throw new InvalidError(`classes.txt in ${base} lists no classes`)
  const labelById = new Map<string, string>()
  labelLines.forEach((line, i) => {
    if (!line.trim()) return
    const [id, cls] = fields(line)
    if (!cls)
      b.badLine(`image_class_labels.txt line ${i + 1}`, 'expected "<image id> <class number>"')
    else labelById.set(id, cls)
  })
  const imagesDir = join(base, 'images')
  imageLines.forEach((line, i) => {
    if (!line.trim()) return
    const origin = `images.txt line ${i + 1}`
    const [id, path] = fields(line)
    if (!path) return b.badLine(origin, 'expected "<image id> <path>"')
    const cls = labelById.get(id)
    const className = cls !== undefined ? classById.get(cls) : undefined
    if (className === undefined) {
      return b.badLine(origin, `image id ${id} has no class in image_class_labels.txt/classes.txt`)
    }
    b.addImage(imagesDir, path, className, null, origin)
  })
  return b.build()
}
