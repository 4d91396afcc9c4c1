/**
 * Reads and validates an external query image (a path on disk, or the bytes of a chosen or dropped file) before it goes
 * to the model, so that a wrong file fails with a clear message instead of inside TensorFlow.
 */
import { readFile, stat } from 'node:fs/promises'
import type { Metadata } from 'sharp'
import { InvalidError, NotFoundError } from '../../src-preload/contract/errors'
import {
  checkImageSize,
  ImageTooLargeError,
  maxImagePixels,
  openBounded
} from '../ml/data/imageLimits'

/** Image formats sharp decodes that we accept as a query. */
const ACCEPTED = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif', 'heif', 'bmp'])

/** Largest query file read (bytes); real photos are far smaller. */
export const MAX_QUERY_BYTES = 50 * 1024 * 1024

/** A validated query image: its bytes and what sharp reads from them. */
export interface QueryImage {
  bytes: Buffer
  format: string
  width: number
  height: number
}

/** Decodes base64, accepting a `data:image/...;base64,` URL prefix as browsers produce it. */
export function decodeBase64(text: string): Buffer {
  const body = text.replace(/^data:[^,]*;base64,/i, '').replace(/\s+/g, '')
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(body))
    throw new InvalidError('the uploaded image data is not valid base64')
  const buf = Buffer.from(body, 'base64')
  if (buf.length === 0) throw new InvalidError('the uploaded image data is empty')
  return buf
}

/**
 * Loads the query from `path` or `dataBase64` and checks that sharp can decode it as an image.
 * Throws not_found for a missing file and invalid_payload for anything that is not an image.
 */
export async function loadQueryImage(p: {
  path?: string
  dataBase64?: string
}): Promise<QueryImage> {
  let bytes: Buffer
  let where: string
  if (p.path !== undefined) {
    where = `"${p.path}"`
    const st = await stat(p.path).catch(() => null)
    if (!st) throw new NotFoundError(`the query image ${where} does not exist`)
    if (!st.isFile()) throw new InvalidError(`the query image ${where} is not a file`)
    if (st.size === 0) throw new InvalidError(`the query image ${where} is empty`)
    if (st.size > MAX_QUERY_BYTES)
      throw new InvalidError(`the query image ${where} is larger than ${MAX_QUERY_BYTES >> 20} MB`)
    bytes = await readFile(p.path)
  } else if (p.dataBase64 !== undefined) {
    where = 'the uploaded image (chosen or dropped)'
    bytes = decodeBase64(p.dataBase64)
  } else {
    throw new InvalidError('give either path or dataBase64')
  }
  const limit = maxImagePixels()
  let meta: Metadata
  try {
    // Header only: an image above the pixel limit is refused before any pixel is decoded.
    meta = await checkImageSize(bytes, limit)
  } catch (err) {
    if (err instanceof ImageTooLargeError) throw new InvalidError(`${where} is too large: ${err.message}`)
    const why = err instanceof Error ? err.message : String(err)
    throw new InvalidError(`${where} is not an image that can be read (${why})`)
  }
  if (!meta.format || !ACCEPTED.has(meta.format) || !meta.width || !meta.height) {
    throw new InvalidError(
      `${where} is not a supported image (format ${meta.format ?? 'unknown'}); use JPEG, PNG, WebP, GIF, TIFF or AVIF`
    )
  }
  // Metadata reads only the header: decode the pixels too, so a truncated file fails here.
  // Through a small resize, so a large image streams (and JPEG/WebP shrink on load) instead of
  // being held at full size.
  try {
    await openBounded(bytes, { limit }).resize(256, 256, { fit: 'inside' }).raw().toBuffer()
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err)
    throw new InvalidError(`${where} is damaged and cannot be decoded (${why})`)
  }
  return { bytes, format: meta.format, width: meta.width, height: meta.height }
}
