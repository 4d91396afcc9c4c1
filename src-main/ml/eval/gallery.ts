/**
 * Binary file of a run's gallery embeddings (row idx ↔ run_gallery.idx in SQLite).
 *
 * Layout, little-endian, 32-byte header then the payload:
 *   0  8  magic "HISTGAL\0"
 *   8  4  version (1)
 *  12  4  dtype (1 = float32)
 *  16  4  count n
 *  20  4  dimension d
 *  24  4  CRC-32 of the payload
 *  28  4  CRC-32 of bytes 0..27
 *  32  n·d·4 bytes of row-major float32
 * A file whose size, header or checksums do not match is refused with an error that says which.
 */
import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'

/** Bytes before the payload. */
export const GALLERY_HEADER_BYTES = 32
/** Current file format version. */
export const GALLERY_VERSION = 1
const MAGIC = Buffer.from('HISTGAL\0', 'latin1')
const DTYPE_F32 = 1

/** Header fields of a gallery file. */
export interface GalleryHeader {
  version: number
  dtype: 'float32'
  n: number
  d: number
  payloadCrc: number
}

/** A gallery read back from disk. */
export interface Gallery {
  data: Float32Array
  n: number
  d: number
}

/** Options of `readGallery`. */
export interface ReadGalleryOptions {
  /** Refuse the file unless it holds exactly this many rows. */
  n?: number
  /** Refuse the file unless its rows have this dimension. */
  d?: number
}

const crcTable = (() => {
  const t = new Uint32Array(256)
  for (let i = 0; i < 256; i++) {
    let c = i
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[i] = c >>> 0
  }
  return t
})()

/** CRC-32 (zlib's polynomial); uses zlib.crc32 when this Node has it. */
export function crc32(bytes: Uint8Array, seed = 0): number {
  const native = (zlib as unknown as { crc32?: (d: Uint8Array, v?: number) => number }).crc32
  if (native) return native(bytes, seed) >>> 0
  let c = (seed ^ 0xffffffff) >>> 0
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

function fail(file: string, why: string): never {
  throw new Error(`gallery file ${file}: ${why}`)
}

function encodeHeader(n: number, d: number, payloadCrc: number): Buffer {
  const h = Buffer.alloc(GALLERY_HEADER_BYTES)
  MAGIC.copy(h, 0)
  h.writeUInt32LE(GALLERY_VERSION, 8)
  h.writeUInt32LE(DTYPE_F32, 12)
  h.writeUInt32LE(n, 16)
  h.writeUInt32LE(d, 20)
  h.writeUInt32LE(payloadCrc, 24)
  h.writeUInt32LE(crc32(h.subarray(0, 28)), 28)
  return h
}

function decodeHeader(file: string, h: Buffer): GalleryHeader {
  if (h.length < GALLERY_HEADER_BYTES)
    fail(file, `truncated: ${h.length} bytes, shorter than the ${GALLERY_HEADER_BYTES}-byte header`)
  if (!h.subarray(0, 8).equals(MAGIC)) fail(file, 'not a gallery file (bad magic)')
  if (h.readUInt32LE(28) !== crc32(h.subarray(0, 28)))
    fail(file, 'corrupt header (header checksum mismatch)')
  const version = h.readUInt32LE(8)
  if (version !== GALLERY_VERSION)
    fail(file, `unsupported version ${version} (this build reads ${GALLERY_VERSION})`)
  const dtype = h.readUInt32LE(12)
  if (dtype !== DTYPE_F32) fail(file, `unsupported dtype code ${dtype} (only 1 = float32)`)
  return {
    version,
    dtype: 'float32',
    n: h.readUInt32LE(16),
    d: h.readUInt32LE(20),
    payloadCrc: h.readUInt32LE(24)
  }
}

/** Writes n×d float32 rows atomically (temporary file, then rename). */
export function writeGallery(file: string, data: Float32Array, n: number, d: number): void {
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(d) || d < 1)
    throw new RangeError(`bad gallery shape ${n}×${d}`)
  if (data.length !== n * d)
    throw new RangeError(`gallery data has ${data.length} values, expected ${n}×${d} = ${n * d}`)
  // The payload is written as little-endian float32, which is what a Float32Array holds on every
  // platform Node supports.
  const payload = new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  const header = encodeHeader(n, d, crc32(payload))
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const tmp = `${file}.${process.pid}.tmp`
  const fd = fs.openSync(tmp, 'w')
  try {
    fs.writeSync(fd, header)
    let off = 0
    while (off < payload.length)
      off += fs.writeSync(fd, payload, off, Math.min(payload.length - off, 1 << 26))
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
  fs.renameSync(tmp, file)
}

/** Reads and checks only the header (cheap; the payload size is checked against the file size). */
export function readGalleryHeader(file: string): GalleryHeader {
  const fd = fs.openSync(file, 'r')
  try {
    const h = Buffer.alloc(GALLERY_HEADER_BYTES)
    const got = fs.readSync(fd, h, 0, GALLERY_HEADER_BYTES, 0)
    const header = decodeHeader(file, h.subarray(0, got))
    checkSize(file, header, fs.fstatSync(fd).size)
    return header
  } finally {
    fs.closeSync(fd)
  }
}

function checkSize(file: string, h: GalleryHeader, size: number): void {
  const want = GALLERY_HEADER_BYTES + h.n * h.d * 4
  if (size < want)
    fail(
      file,
      `truncated: ${size} bytes, the header announces ${h.n}×${h.d} float32 (${want} bytes)`
    )
  if (size > want)
    fail(file, `${size - want} unexpected trailing bytes after ${h.n}×${h.d} float32`)
}

/** Reads a gallery file, verifying header, size, checksum and (optionally) the expected shape. */
export function readGallery(file: string, expect: ReadGalleryOptions = {}): Gallery {
  const buf = fs.readFileSync(file)
  const h = decodeHeader(file, buf.subarray(0, Math.min(buf.length, GALLERY_HEADER_BYTES)))
  checkSize(file, h, buf.length)
  if (expect.n !== undefined && expect.n !== h.n)
    fail(file, `holds ${h.n} rows, expected ${expect.n}`)
  if (expect.d !== undefined && expect.d !== h.d)
    fail(file, `has dimension ${h.d}, expected ${expect.d}`)
  // Copy into an aligned buffer: the payload sits at offset 32 of a pooled Buffer.
  const data = new Float32Array(h.n * h.d)
  const bytes = new Uint8Array(data.buffer)
  bytes.set(buf.subarray(GALLERY_HEADER_BYTES))
  if (crc32(bytes) !== h.payloadCrc) fail(file, 'corrupt data (payload checksum mismatch)')
  return { data, n: h.n, d: h.d }
}
