/**
 * Resolves media URLs to files, for the Electron protocol handler and the web-mode route:
 *   image/<imageId>                   the original file of a registered image
 *   thumb/<imageId>                   its thumbnail (made on first request; an image of at most
 *                                     128 px in a browser format is served as its own thumbnail)
 *   file/<datasetId>/<relPath>        a registered image by path (relPath URL-encoded)
 * Only files that are registered images of a dataset (or their thumbnails) are ever served.
 * Defence in depth against path traversal: the URL is decoded once and refused if it holds
 * NUL, backslashes, '.'/'..' segments, absolute or drive paths, or invalid escapes; the path
 * must be a registered image of that dataset; and the file's realpath must stay inside the
 * realpath of the dataset root (so a symlink pointing out of the root is refused).
 */
import { open, realpath } from 'node:fs/promises'
import { extname } from 'node:path'
import type { AppContext } from '../app/context'
import { absFromRel, isInside } from './paths'
import { datasetsRepo } from './repo'
import { ensureThumbnail, THUMB_SIZE } from './thumbnails'
import { sniffFormat } from './validate'

/** What resolveMedia returns: a file to send, or an HTTP-style refusal. */
export type MediaResult =
  | { ok: true; filePath: string; contentType: string }
  | { ok: false; status: 400 | 403 | 404; message: string }

const CONTENT_TYPES: Record<string, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  tiff: 'image/tiff',
  bmp: 'image/bmp',
  heif: 'image/heif',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.bmp': 'image/bmp'
}

/** Formats a browser displays natively (others always get a JPEG thumbnail). */
const WEB_SAFE = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp'])

const refuse = (status: 400 | 403 | 404, message: string): MediaResult => ({
  ok: false,
  status,
  message
})

/** Content type from the file's first bytes (a PNG named .jpg is still served as PNG). */
async function contentTypeOf(file: string): Promise<string> {
  try {
    const fh = await open(file, 'r')
    try {
      const buf = Buffer.alloc(16)
      const { bytesRead } = await fh.read(buf, 0, 16, 0)
      const kind = sniffFormat(buf.subarray(0, bytesRead))
      if (kind && CONTENT_TYPES[kind]) return CONTENT_TYPES[kind]
    } finally {
      await fh.close()
    }
  } catch {
    // fall back to the extension
  }
  return CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream'
}

/** Checks a decoded relative path for traversal tricks; returns a reason or null when clean. */
function badRelPath(rel: string): string | null {
  if (rel.length === 0) return 'empty path'
  if (rel.includes('\0')) return 'NUL byte in path'
  if (rel.includes('\\')) return 'backslash in path'
  if (rel.startsWith('/') || /^[a-zA-Z]:/.test(rel)) return 'absolute path'
  const segs = rel.split('/')
  if (segs.some((s) => s === '..' || s === '.' || s === ''))
    return "'.', '..' or empty path segment"
  return null
}

/** Resolves the realpath of a registered image and checks it stays inside its dataset root. */
async function checkedFile(root: string, relPath: string): Promise<MediaResult> {
  const abs = absFromRel(root, relPath)
  let realRoot: string
  let realFile: string
  try {
    realRoot = await realpath(root)
    realFile = await realpath(abs)
  } catch {
    return refuse(404, 'the image file is missing (the dataset may need relinking)')
  }
  if (!isInside(realRoot, realFile) || realFile === realRoot) {
    return refuse(403, 'the file resolves outside its dataset root')
  }
  return { ok: true, filePath: realFile, contentType: await contentTypeOf(realFile) }
}

/** Parses a positive integer id segment, or returns null. */
function parseId(s: string | undefined): number | null {
  if (!s || !/^[1-9][0-9]{0,14}$/.test(s)) return null
  return Number(s)
}

/**
 * Resolves a media URL path (`image/<id>`, `thumb/<id>` or `file/<datasetId>/<relPath>`, with
 * or without a leading slash or `media/` prefix) to a file inside a registered dataset or the
 * thumbnail cache. Never throws.
 */
export async function resolveMedia(ctx: AppContext, urlPath: string): Promise<MediaResult> {
  try {
    let raw = urlPath.split(/[?#]/)[0]
    raw = raw.replace(/^\/+/, '').replace(/^media\//, '')
    if (raw.includes('\0') || /%00/i.test(raw)) return refuse(400, 'NUL byte in path')
    if (raw.includes('\\') || /%5c/i.test(raw)) return refuse(400, 'backslash in path')
    const slash = raw.indexOf('/')
    const kind = slash < 0 ? raw : raw.slice(0, slash)
    const rest = slash < 0 ? '' : raw.slice(slash + 1)
    const repo = datasetsRepo(ctx.db)

    if (kind === 'image' || kind === 'thumb') {
      const id = parseId(rest)
      if (id === null) return refuse(400, `expected ${kind}/<image id>`)
      const img = repo.image(id)
      if (!img) return refuse(404, `no image with id ${id}`)
      const file = await checkedFile(img.root, img.rel_path)
      if (!file.ok || kind === 'image') return file
      // An image no larger than a thumbnail, in a format every browser shows, is its own
      // thumbnail (Omniglot, Fashion-MNIST): nothing to encode or cache.
      const small = (img.width ?? Infinity) <= THUMB_SIZE && (img.height ?? Infinity) <= THUMB_SIZE
      if (small && WEB_SAFE.has(file.contentType)) return file
      try {
        const thumb = await ensureThumbnail(ctx, {
          id: img.id,
          datasetId: img.dataset_id,
          sha1: img.sha1,
          absPath: file.filePath
        })
        return { ok: true, filePath: thumb, contentType: 'image/jpeg' }
      } catch (err) {
        return refuse(404, `cannot make a thumbnail: ${(err as Error).message}`)
      }
    }

    if (kind === 'file') {
      const slash2 = rest.indexOf('/')
      const datasetId = parseId(slash2 < 0 ? rest : rest.slice(0, slash2))
      if (datasetId === null || slash2 < 0)
        return refuse(400, 'expected file/<dataset id>/<relative path>')
      let rel: string
      try {
        // Each segment is decoded once; an encoded '/' (%2F) is allowed inside relPath as well.
        rel = rest
          .slice(slash2 + 1)
          .split('/')
          .map((s) => decodeURIComponent(s))
          .join('/')
      } catch {
        return refuse(400, 'invalid URL encoding')
      }
      const bad = badRelPath(rel)
      if (bad) return refuse(403, `refused: ${bad}`)
      const ds = repo.getDataset(datasetId)
      if (!ds) return refuse(404, `no dataset with id ${datasetId}`)
      const img = repo.imageByPath(datasetId, rel)
      // A literal '%' is legal in a file name ("100%25.png" is the file "100%.png" encoded
      // once): only a path that is not a registered image is taken as double encoding.
      if (!img && /%[0-9a-fA-F]{2}/.test(rel))
        return refuse(403, 'refused: path is encoded more than once')
      if (!img) return refuse(404, 'not an image of this dataset')
      return checkedFile(ds.root, rel)
    }
    return refuse(400, `unknown media kind "${kind}" (expected image, thumb or file)`)
  } catch (err) {
    return refuse(404, `cannot resolve media: ${(err as Error).message}`)
  }
}
