/** Path helpers shared by the importers and the media resolver. */
import { isAbsolute, join, posix, relative, sep } from 'node:path'

/** File extensions taken as images (lower case, with the dot). */
export const IMAGE_EXTENSIONS = new Set([
  '.jpg',
  '.jpeg',
  '.png',
  '.webp',
  '.gif',
  '.bmp',
  '.tif',
  '.tiff'
])

/** OS clutter that is skipped without a problem report (it is never a dataset image). */
const IGNORED_NAMES = new Set(['thumbs.db', 'desktop.ini', '.ds_store'])

/** True for hidden files and OS clutter such as Thumbs.db that a folder walk skips. */
export function isIgnoredName(name: string): boolean {
  return name.startsWith('.') || IGNORED_NAMES.has(name.toLowerCase())
}

/** The lower-case extension of a path, with the dot ('' when none). */
export function extOf(p: string): string {
  const base = p.slice(p.lastIndexOf('/') + 1)
  const dot = base.lastIndexOf('.')
  return dot > 0 ? base.slice(dot).toLowerCase() : ''
}

/** True when the path has an image extension we accept. */
export function hasImageExtension(p: string): boolean {
  return IMAGE_EXTENSIONS.has(extOf(p))
}

/** Converts an OS path fragment to forward slashes (stored paths are always POSIX-style). */
export function toPosix(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/')
}

/** The absolute path of a stored relPath under `root`. */
export function absFromRel(root: string, relPath: string): string {
  return join(root, ...relPath.split('/'))
}

/** True when `child` is `parent` itself or lies below it (both absolute, normalised). */
export function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child)
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))
}

/**
 * Turns a path from a list file into a relPath under `root`: `p` may be relative to `base`
 * (a folder inside the root) or absolute. Returns null when the result leaves the root.
 * Backslashes count as separators only on Windows, where list files may use them.
 */
export function listedToRel(root: string, base: string, p: string): string | null {
  let q = p.trim()
  if (process.platform === 'win32') q = q.replace(/\\/g, '/')
  if (q.includes('\0')) return null
  const abs = isAbsolute(q) ? q : join(base, q)
  if (!isInside(root, abs)) return null
  const rel = toPosix(relative(root, abs))
  if (rel === '' || rel.split('/').includes('..')) return null
  return posix.normalize(rel)
}
