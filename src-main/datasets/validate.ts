/**
 * Checks every listed image file: it exists, is a regular file inside the root (symlinks are
 * resolved), is not empty, is not above the pixel limit (100 MP by default, see
 * ml/data/imageLimits), and decodes completely with sharp (`failOn: 'warning'`, so a
 * truncated JPEG or PNG is caught; the reason is then read from the bytes, see
 * classifyDecodeFailure). Also hashes the content (sha1) for duplicate detection.
 * Files whose size and mtime match the stored record are trusted without decoding, which is
 * what makes re-importing an unchanged dataset fast.
 *
 * Work runs on libuv's thread pool (fs and sharp are both asynchronous there) with a few
 * files in flight, so both cores are busy while the JS thread only hashes and bookkeeps.
 */
import { createHash } from 'node:crypto'
import { lstat, readFile, realpath, stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { ProblemKind } from '../../src-preload/contract'
import {
  checkImageSize,
  ImageTooLargeError,
  isPixelLimitError,
  maxImagePixels,
  openBounded
} from '../ml/data/imageLimits'
import { mapPool } from './pool'
import { absFromRel, isInside } from './paths'
import type { ListedImage } from './types'

/** What the database already knows about a file (from a previous import). */
export interface PriorImage {
  size: number
  mtimeMs: number
  sha1: string
  width: number | null
  height: number | null
  channels: number | null
}

/** A file that passed every check. `reused` means it was unchanged and not decoded again. */
export interface GoodImage {
  ok: true
  size: number
  mtimeMs: number
  sha1: string
  width: number | null
  height: number | null
  /** Channels as stored in the file (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA/CMYK). */
  channels: number | null
  reused: boolean
}

/** A file left out, with the reason. */
export interface BadImage {
  ok: false
  kind: ProblemKind
  message: string
}

export type CheckResult = GoodImage | BadImage

/** Options of validateImages. */
export interface ValidateOptions {
  /** Stored records by relPath; a file with the same size and mtime is not decoded again. */
  prior?: Map<string, PriorImage>
  signal?: AbortSignal
  /** Called after each file: (done, total). */
  onProgress?: (done: number, total: number) => void
  /** Files in flight at once (default 6: fs and sharp share libuv's 4 threads). */
  concurrency?: number
  /** Largest image (width × height) accepted; default maxImagePixels() (100 MP). */
  maxImagePixels?: number
}

/** Guesses the image format from the first bytes, or returns null. */
export function sniffFormat(buf: Buffer): string | null {
  if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'jpeg'
  if (buf.length >= 8 && buf.readUInt32BE(0) === 0x89504e47) return 'png'
  if (buf.length >= 6 && buf.toString('latin1', 0, 4) === 'GIF8') return 'gif'
  if (
    buf.length >= 12 &&
    buf.toString('latin1', 0, 4) === 'RIFF' &&
    buf.toString('latin1', 8, 12) === 'WEBP'
  ) {
    return 'webp'
  }
  if (buf.length >= 4 && (buf.readUInt32BE(0) === 0x49492a00 || buf.readUInt32BE(0) === 0x4d4d002a))
    return 'tiff'
  if (buf.length >= 2 && buf[0] === 0x42 && buf[1] === 0x4d) return 'bmp'
  if (buf.length >= 12 && buf.toString('latin1', 4, 8) === 'ftyp') return 'heif'
  return null
}

function looksLikeText(buf: Buffer): boolean {
  const n = Math.min(buf.length, 512)
  let printable = 0
  for (let i = 0; i < n; i++) {
    const c = buf[i]
    if (c === 9 || c === 10 || c === 13 || (c >= 32 && c < 127) || c >= 0xc2) printable++
  }
  return n > 0 && printable / n > 0.95
}

function errnoProblem(err: unknown, what: string, origin?: string): BadImage {
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return {
      ok: false,
      kind: 'missing',
      message: origin
        ? `listed in ${origin} but not found on disk`
        : 'file not found (removed during the import?)'
    }
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return { ok: false, kind: 'unreadable', message: `${what}: permission denied` }
  }
  return { ok: false, kind: 'unreadable', message: `${what}: ${code ?? (err as Error).message}` }
}

/** Images up to this many pixels are decoded at full size; larger ones through shrink-on-load. */
export const FULL_DECODE_MAX_PIXELS = 2048 * 2048

/**
 * Decodes an image buffer completely; returns its size and channels or throws. An image whose
 * header declares more than `limit` pixels throws ImageTooLargeError without being decoded.
 */
export async function decodeCheck(
  buf: Buffer,
  limit = maxImagePixels()
): Promise<{ width: number; height: number; channels: number }> {
  // One pipeline for the header and the decode (a second sharp instance costs ~20 % on
  // small images). The header's size is checked before any pixel is decoded, and its
  // channel count kept (raw output may be expanded, e.g. 1-bit grey → 3).
  const img = openBounded(buf, { limit })
  // sharp refuses the header of an image above the limit; checkImageSize then names its size.
  const meta = await img.metadata().catch(async (err: unknown) => {
    if (isPixelLimitError(err)) await checkImageSize(buf, limit)
    throw err
  })
  const width = meta.width ?? 0
  const height = meta.height ?? 0
  if (width * height > limit) throw new ImageTooLargeError(width, height, limit)
  if (width * height <= FULL_DECODE_MAX_PIXELS) {
    // One full decode is the cheapest complete check for typical dataset images (a resize
    // pipeline costs more than it saves below a megapixel or so).
    await img.raw().toBuffer()
  } else {
    // Large images: JPEG/WebP shrink-on-load still runs the decoder over every byte, so
    // truncation and bad data surface, without allocating the full-size pixels.
    await img.resize(256, 256, { fit: 'inside' }).raw().toBuffer()
  }
  return { width, height, channels: meta.channels ?? 0 }
}

/**
 * True when the file stops before its format's end marker (JPEG EOI, PNG IEND, GIF trailer,
 * the RIFF size of WebP), i.e. it was cut short. Null when the format has no such marker.
 * A byte check, so the answer never depends on the decoder's (thread-shared) error text.
 */
export function isTruncated(buf: Buffer, kind: string): boolean | null {
  const tail = (n: number): Buffer => buf.subarray(Math.max(0, buf.length - n))
  switch (kind) {
    case 'jpeg':
      // EOI (FF D9), allowing a little padding after it.
      return tail(64).lastIndexOf(Buffer.from([0xff, 0xd9])) < 0
    case 'png':
      return tail(64).lastIndexOf('IEND', undefined, 'latin1') < 0
    case 'gif':
      return tail(16).lastIndexOf(0x3b) < 0
    case 'webp':
      return buf.length < 12 || buf.readUInt32LE(4) + 8 > buf.length
    default:
      return null
  }
}

/**
 * Names why a file that sniffed as `kind` failed to decode, deterministically: libvips keeps
 * its error text in a buffer shared by threads, so the text of `err` may belong to another
 * file. Only sharp's own pre-decode messages (unsupported input) are trusted; truncation is
 * read from the bytes; anything else is told apart by a lenient second decode.
 */
export async function classifyDecodeFailure(
  buf: Buffer,
  kind: string,
  err: unknown,
  limit: number
): Promise<BadImage> {
  if (err instanceof ImageTooLargeError || isPixelLimitError(err)) {
    const msg = err instanceof ImageTooLargeError ? err.message : 'image above the pixel limit'
    return { ok: false, kind: 'too-large', message: `image too large to import: ${msg}` }
  }
  const format = kind.toUpperCase()
  if (isTruncated(buf, kind)) {
    return {
      ok: false,
      kind: 'corrupt',
      message: `cannot be decoded: the file is truncated (the ${format} data stops before its end marker, after ${buf.length} bytes)`
    }
  }
  const msg = err instanceof Error ? err.message : String(err)
  if (/unsupported image format|no loader|not supported/i.test(msg)) {
    return { ok: false, kind: 'unsupported', message: `${kind} variant the decoder cannot read` }
  }
  const lenient = await openBounded(buf, { limit, failOn: 'none' })
    .resize(64, 64, { fit: 'inside' })
    .raw()
    .toBuffer()
    .then(
      () => true,
      () => false
    )
  return {
    ok: false,
    kind: 'corrupt',
    message: lenient
      ? `cannot be decoded: the ${format} file is complete but its image data is damaged`
      : `cannot be decoded: the ${format} data is invalid`
  }
}

/** Checks one listed file. Never throws: every failure becomes a BadImage with a reason. */
export async function checkImage(
  root: string,
  realRoot: string,
  img: ListedImage,
  prior: PriorImage | undefined,
  dirCache: Map<string, Promise<string>>,
  limit = maxImagePixels()
): Promise<CheckResult> {
  const abs = absFromRel(root, img.relPath)
  let st
  try {
    const lst = await lstat(abs)
    const dir = dirname(abs)
    let realDir = dirCache.get(dir)
    if (!realDir) {
      realDir = realpath(dir)
      // Only awaited for plain files; never leave a rejection unhandled.
      realDir.catch(() => undefined)
      dirCache.set(dir, realDir)
    }
    const real = lst.isSymbolicLink() ? await realpath(abs) : `${await realDir}/`
    if (!isInside(realRoot, real)) {
      return {
        ok: false,
        kind: 'unreadable',
        message:
          'symbolic link pointing outside the dataset root; only files inside the root are imported'
      }
    }
    st = lst.isSymbolicLink() ? await stat(abs) : lst
  } catch (err) {
    return errnoProblem(err, 'cannot read file', img.origin)
  }
  if (!st.isFile()) return { ok: false, kind: 'unreadable', message: 'not a regular file' }
  if (st.size === 0) return { ok: false, kind: 'zero-byte', message: 'empty file (0 bytes)' }
  // Sub-millisecond mtime is often lost by copy tools and timestamp APIs; 1 ms is close enough.
  if (prior && prior.size === st.size && Math.abs(prior.mtimeMs - st.mtimeMs) < 1) {
    return { ok: true, ...prior, reused: true }
  }
  let buf: Buffer
  try {
    buf = await readFile(abs)
  } catch (err) {
    return errnoProblem(err, 'cannot read file')
  }
  const sha1 = createHash('sha1').update(buf).digest('hex')
  const kind = sniffFormat(buf)
  if (kind === 'bmp') {
    return {
      ok: false,
      kind: 'unsupported',
      message:
        'BMP images cannot be decoded by the image library (sharp/libvips); convert them to PNG'
    }
  }
  if (kind === null) {
    return {
      ok: false,
      kind: 'corrupt',
      message: looksLikeText(buf)
        ? 'not an image: the file contains text, not image data'
        : 'not a valid image: the content matches no known image format'
    }
  }
  try {
    const d = await decodeCheck(buf, limit)
    return { ok: true, size: st.size, mtimeMs: st.mtimeMs, sha1, ...d, reused: false }
  } catch (err) {
    return classifyDecodeFailure(buf, kind, err, limit)
  }
}

/** Checks every image (results in listing order). Rejects with CancelledError on abort. */
export async function validateImages(
  root: string,
  images: readonly ListedImage[],
  opts: ValidateOptions = {}
): Promise<CheckResult[]> {
  const limit = maxImagePixels(opts.maxImagePixels)
  const realRoot = await realpath(root)
  const dirCache = new Map<string, Promise<string>>()
  let done = 0
  return mapPool(
    images,
    opts.concurrency ?? 6,
    async (img) => {
      const r = await checkImage(root, realRoot, img, opts.prior?.get(img.relPath), dirCache, limit)
      opts.onProgress?.(++done, images.length)
      return r
    },
    opts.signal
  )
}
