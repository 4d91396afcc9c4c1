/**
 * Thumbnails: 128 px (longest side, never enlarged) JPEG files (about twice as fast to encode
 * as WebP, and alpha is flattened onto white anyway), made lazily on first request
 * and cached under `<data>/cache/thumbnails/<datasetId>/<imageId>_<sha1 prefix>.jpg`. The
 * content hash in the name means a re-imported, modified image never gets a stale thumbnail.
 */
import { mkdir, readdir, rename, rm, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { AppContext } from '../app/context'
import { openRgb } from './decode'

/** Longest side of a thumbnail, in pixels. */
export const THUMB_SIZE = 128

/** The folder of one dataset's thumbnails. */
export function thumbDir(ctx: AppContext, datasetId: number): string {
  return join(ctx.paths.thumbnails, String(datasetId))
}

/** Where the thumbnail of an image lives. */
export function thumbPath(
  ctx: AppContext,
  datasetId: number,
  imageId: number,
  sha1: string
): string {
  return join(thumbDir(ctx, datasetId), `${imageId}_${sha1.slice(0, 10)}.jpg`)
}

const inFlight = new Map<string, Promise<string>>()

/**
 * Returns the thumbnail file of an image, making it first if needed. Concurrent requests for
 * the same image share one encode; the file is written to a temp name and renamed, so a reader
 * never sees half a file. Throws when the source cannot be decoded.
 */
export function ensureThumbnail(
  ctx: AppContext,
  img: { id: number; datasetId: number; sha1: string; absPath: string }
): Promise<string> {
  const out = thumbPath(ctx, img.datasetId, img.id, img.sha1)
  const pending = inFlight.get(out)
  if (pending) return pending
  const p = (async () => {
    try {
      await stat(out)
      return out
    } catch {
      // not cached yet
    }
    await mkdir(thumbDir(ctx, img.datasetId), { recursive: true })
    const tmp = `${out}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
    try {
      await openRgb(img.absPath)
        .resize(THUMB_SIZE, THUMB_SIZE, { fit: 'inside', withoutEnlargement: true })
        .jpeg({ quality: 82 })
        .toFile(tmp)
      await rename(tmp, out)
    } catch (err) {
      await rm(tmp, { force: true })
      throw err
    }
    return out
  })().finally(() => inFlight.delete(out))
  inFlight.set(out, p)
  return p
}

/** Deletes the cached thumbnails of some images of a dataset (best effort). */
export async function removeThumbnails(
  ctx: AppContext,
  datasetId: number,
  imageIds: Iterable<number>
): Promise<void> {
  const ids = new Set([...imageIds].map(String))
  if (ids.size === 0) return
  let files: string[]
  try {
    files = await readdir(thumbDir(ctx, datasetId))
  } catch {
    return
  }
  await Promise.all(
    files
      .filter((f) => ids.has(f.slice(0, f.indexOf('_'))))
      .map((f) => unlink(join(thumbDir(ctx, datasetId), f)).catch(() => undefined))
  )
}

/** Deletes every cached thumbnail of a dataset. */
export async function removeDatasetThumbnails(ctx: AppContext, datasetId: number): Promise<void> {
  await rm(thumbDir(ctx, datasetId), { recursive: true, force: true })
}
