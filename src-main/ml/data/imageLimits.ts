/**
 * Bounds for decoding untrusted images. A small file can declare a huge canvas (a 16000×16000
 * PNG of one colour is ~750 KB and decodes to 768 MB), so every path that decodes a user's
 * image (import validation, thumbnails, the external query, training and embedding) opens it
 * through `openBounded`: sharp refuses a header above the pixel limit before allocating
 * anything (`limitInputPixels`), and callers resize right after opening, which lets JPEG and
 * WebP shrink on load and keeps libvips' sequential pipeline small for the other formats.
 *
 * The limit is `DEFAULT_MAX_IMAGE_PIXELS` (100 megapixels), or the `HIST_MAX_IMAGE_PIXELS`
 * environment variable (child processes and worker threads inherit it), or a per-call value.
 */
import sharp, { type FailOnOptions, type Metadata, type Sharp } from 'sharp'
import { InvalidError } from '../../../src-preload/contract/errors'

/** Default largest image (width × height) decoded anywhere: 100 megapixels. */
export const DEFAULT_MAX_IMAGE_PIXELS = 100_000_000

/** The environment variable that overrides the default limit. */
export const MAX_IMAGE_PIXELS_ENV = 'HIST_MAX_IMAGE_PIXELS'

/** Thrown for an image whose header declares more pixels than the limit. */
export class ImageTooLargeError extends InvalidError {
  constructor(
    readonly width: number,
    readonly height: number,
    readonly limit: number
  ) {
    super(
      `image is ${width}×${height} (${formatMegapixels(width * height)}), above the limit of ` +
        `${formatMegapixels(limit)}; set ${MAX_IMAGE_PIXELS_ENV} to allow larger images`
    )
    this.name = 'ImageTooLargeError'
  }
}

/** "256 megapixels", "0.25 megapixels". */
export function formatMegapixels(pixels: number): string {
  const mp = pixels / 1e6
  return `${mp >= 10 ? Math.round(mp) : Number(mp.toPrecision(2))} megapixels`
}

/** Parses a pixel limit ("100000000", "100e6", "100M"); null when it is not a positive count. */
export function parsePixelLimit(text: string): number | null {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?(?:e[0-9]+)?)\s*(m|mp)?\s*$/i.exec(text)
  if (!m) return null
  const n = Math.round(Number(m[1]) * (m[2] ? 1e6 : 1))
  return Number.isSafeInteger(n) && n > 0 ? n : null
}

/**
 * The pixel limit in force: `override` when given, else HIST_MAX_IMAGE_PIXELS, else 100 MP.
 * A malformed environment value throws (a silent fallback would hide a typo).
 */
export function maxImagePixels(override?: number): number {
  if (override !== undefined) {
    if (!Number.isSafeInteger(override) || override <= 0)
      throw new RangeError(`the image pixel limit must be a positive integer, got ${override}`)
    return override
  }
  const env = process.env[MAX_IMAGE_PIXELS_ENV]
  if (env === undefined || env.trim() === '') return DEFAULT_MAX_IMAGE_PIXELS
  const n = parsePixelLimit(env)
  if (n === null)
    throw new RangeError(
      `${MAX_IMAGE_PIXELS_ENV}="${env}" is not a positive pixel count (e.g. 100000000 or 100M)`
    )
  return n
}

/** Options of openBounded. */
export interface BoundedOptions {
  /** Pixel limit (default: maxImagePixels()). */
  limit?: number
  /** sharp's failOn (default 'warning': a truncated file fails). */
  failOn?: FailOnOptions
}

/**
 * Reads the header only and throws ImageTooLargeError above the limit. Returns the header's
 * metadata so that callers need not read it twice.
 */
export async function checkImageSize(
  input: string | Buffer,
  limit = maxImagePixels()
): Promise<Metadata> {
  // Header only: limitInputPixels is not applied to metadata(), so the check is ours.
  const meta = await sharp(input, { limitInputPixels: false }).metadata()
  const w = meta.width ?? 0
  const h = meta.height ?? 0
  if (w * h > limit) throw new ImageTooLargeError(w, h, limit)
  return meta
}

/** A sharp pipeline on an untrusted image that refuses more pixels than the limit. */
export function openBounded(input: string | Buffer, opts: BoundedOptions = {}): Sharp {
  return sharp(input, {
    failOn: opts.failOn ?? 'warning',
    limitInputPixels: opts.limit ?? maxImagePixels(),
    sequentialRead: true
  })
}

/** True when a sharp error is its pixel-limit refusal. */
export function isPixelLimitError(err: unknown): boolean {
  return err instanceof Error && /pixel limit/i.test(err.message)
}
