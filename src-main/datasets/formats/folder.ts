/**
 * Folder-per-class datasets (torchvision ImageFolder): `<root>/<class>/**\/*.<image ext>`.
 * Images may sit in nested folders below their class folder. A class named `Group__name`
 * (Omniglot's `Alphabet__character01`) gets the group `Group`. Folder datasets have no
 * standard split: every class starts unsplit.
 */
import type { Dirent } from 'node:fs'
import { readdir, realpath } from 'node:fs/promises'
import { basename, join } from 'node:path'
import type { DatasetProblem } from '../../../src-preload/contract'
import { mapPool } from '../pool'
import { extOf, hasImageExtension, isIgnoredName, isInside } from '../paths'
import { type Listing, type ListedImage } from '../types'
import { InvalidError } from '../../../src-preload/contract/errors'

/** The group encoded in a class folder name: the part before the first `__`, or null. */
export function groupOfClassName(name: string): string | null {
  const i = name.indexOf('__')
  return i > 0 ? name.slice(0, i) : null
}

/** Code-point order, the same as Python's sorted() that ImageFolder uses. */
export function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

async function readDirSafe(dir: string): Promise<Dirent[] | Error> {
  try {
    return await readdir(dir, { withFileTypes: true })
  } catch (err) {
    return err as Error
  }
}

const SUPPORTED_LIST = 'jpg, jpeg, png, webp, gif, bmp, tif, tiff'

/** How far the folder walk goes before it stops with a clear message. */
export interface WalkLimits {
  /** Folder levels below the dataset root (a class folder is level 1). */
  maxDepth: number
  /** Files and folders seen in total. */
  maxEntries: number
}

/** Far above any real dataset (SOP: 120k files, 3 levels), far below a whole disk. */
export const DEFAULT_WALK_LIMITS: WalkLimits = { maxDepth: 12, maxEntries: 1_000_000 }

interface WalkBudget {
  entries: number
  limits: WalkLimits
}

function walkLimitError(root: string, what: string): InvalidError {
  return new InvalidError(
    `stopped reading ${root}: ${what}. This does not look like a dataset folder (one sub-folder ` +
      'per class with images in it); give the dataset folder itself. Nothing was imported.'
  )
}

/** Lists the images of one class folder (recursively); other files become problems. */
async function walkClass(
  root: string,
  realRoot: string,
  cls: string,
  budget: WalkBudget,
  problems: DatasetProblem[]
): Promise<ListedImage[]> {
  const images: ListedImage[] = []
  const stack = [cls]
  // Folders already walked (by real path), starting with the class folder: a link back to it
  // or to any folder above is a loop.
  const seen = new Set<string>()
  seen.add(await realpath(join(root, cls)).catch(() => join(root, cls)))
  while (stack.length) {
    const relDir = stack.pop()!
    const entries = await readDirSafe(join(root, ...relDir.split('/')))
    if (entries instanceof Error) {
      problems.push({
        kind: 'unreadable',
        relPath: relDir,
        message: `folder cannot be read (${(entries as NodeJS.ErrnoException).code ?? entries.message}); its images are left out`,
        excluded: true
      })
      continue
    }
    budget.entries += entries.length
    if (budget.entries > budget.limits.maxEntries) {
      throw walkLimitError(
        root,
        `more than ${budget.limits.maxEntries.toLocaleString('en')} files and folders`
      )
    }
    const depth = relDir.split('/').length
    for (const e of entries) {
      if (isIgnoredName(e.name)) continue
      const rel = `${relDir}/${e.name}`
      let dir = e.isDirectory()
      if (e.isSymbolicLink()) {
        try {
          const target = await realpath(join(root, ...rel.split('/')))
          const st = await readDirSafe(target)
          dir = !(st instanceof Error)
          if (dir && (!isInside(realRoot, target) || seen.has(target))) {
            problems.push({
              kind: 'unreadable',
              relPath: rel,
              message: 'symbolic link to a folder outside the dataset root (or a loop); left out',
              excluded: true
            })
            continue
          }
          if (dir) seen.add(target)
        } catch {
          dir = false
        }
      }
      if (dir) {
        if (depth >= budget.limits.maxDepth)
          throw walkLimitError(
            root,
            `folders nested more than ${budget.limits.maxDepth} levels deep (${rel})`
          )
        stack.push(rel)
      } else if (hasImageExtension(e.name))
        images.push({ relPath: rel, className: cls, role: null })
      else {
        const ext = extOf(e.name)
        problems.push({
          kind: 'unsupported',
          relPath: rel,
          message: `not an image file (${ext || 'no extension'}); supported: ${SUPPORTED_LIST}`,
          excluded: true
        })
      }
    }
  }
  images.sort((a, b) => byCodePoint(a.relPath, b.relPath))
  return images
}

/**
 * Reads a folder-per-class dataset. Throws InvalidError when the root has no class folders,
 * when none of them holds an image, or when the walk passes its limits (depth, entries), so
 * that pointing at /etc or / stops with a message instead of crawling the disk.
 */
export async function readFolderListing(
  root: string,
  signal?: AbortSignal,
  limits: Partial<WalkLimits> = {}
): Promise<Listing> {
  const problems: DatasetProblem[] = []
  const top = await readDirSafe(root)
  if (top instanceof Error) throw new InvalidError(`cannot read folder ${root}: ${top.message}`)
  const realRoot = await realpath(root)
  const classDirs: string[] = []
  for (const d of top) {
    if (isIgnoredName(d.name)) continue
    let isDir = d.isDirectory()
    if (d.isSymbolicLink()) {
      // A symlinked class folder is followed only when it stays inside the root.
      try {
        const target = await realpath(join(root, d.name))
        isDir = isInside(realRoot, target) && (await readdir(target).then(() => true))
        if (!isDir) {
          problems.push({
            kind: 'unreadable',
            relPath: d.name,
            message: 'symbolic link pointing outside the dataset root; left out',
            excluded: true
          })
          continue
        }
      } catch {
        isDir = false
      }
    }
    if (isDir) classDirs.push(d.name)
    else if (hasImageExtension(d.name)) {
      problems.push({
        kind: 'unsupported',
        relPath: d.name,
        message: 'image outside any class folder; put it in a folder named after its class',
        excluded: true
      })
    }
  }
  if (classDirs.length === 0) {
    throw new InvalidError(
      `no class folders in ${root}: a folder dataset needs one sub-folder per class with images in it`
    )
  }
  classDirs.sort(byCodePoint)

  // Walk each class folder (recursively), a few folders at a time, within the walk limits.
  const budget: WalkBudget = { entries: top.length, limits: { ...DEFAULT_WALK_LIMITS, ...limits } }
  const perClass = await mapPool(
    classDirs,
    8,
    (cls) => walkClass(root, realRoot, cls, budget, problems),
    signal
  )
  const imageCount = perClass.reduce((n, imgs) => n + imgs.length, 0)
  if (imageCount === 0) {
    throw new InvalidError(
      `no images in the class folders of ${root} (${classDirs.length} sub-folder(s), ` +
        `${problems.length} other file(s)): a folder dataset needs one sub-folder per class ` +
        `with images (${SUPPORTED_LIST}) in it; nothing was imported`
    )
  }
  problems.sort((a, b) => byCodePoint(a.relPath, b.relPath))
  return {
    format: 'folder',
    root,
    sourceRel: null,
    classes: classDirs.map((name, i) => ({
      name,
      group: groupOfClassName(name),
      ordinal: i + 1,
      presetSplit: null
    })),
    images: perClass.flat(),
    problems,
    suggestedName: basename(root)
  }
}
