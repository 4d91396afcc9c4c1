/**
 * A small reader for MATLAB level-5 MAT-files (MAT v5, what `save -v7` / `-v6` writes): exactly
 * the subset dataset annotation files need — char, numeric and logical arrays, cell arrays and
 * struct arrays, each possibly inside a zlib-compressed element (miCOMPRESSED, inflated with
 * node:zlib), either byte order, small (packed) data elements, and numeric data stored in a
 * narrower type than its class (MATLAB stores an integer-valued double as miUINT8, for example).
 * Not supported, each with an error that says so: MAT v7.3 (HDF5) and level-4 files, sparse
 * arrays, objects, function handles. Complex arrays keep only their real part.
 *
 * Every value keeps its MATLAB dimensions; elements are listed in MATLAB's column-major order.
 */
import { inflateSync } from 'node:zlib'

/** One MATLAB array, as read from a MAT v5 file. */
export type MatArray =
  | { kind: 'char'; dims: number[]; rows: string[] }
  | { kind: 'numeric'; dims: number[]; data: number[] }
  | { kind: 'cell'; dims: number[]; items: MatArray[] }
  | { kind: 'struct'; dims: number[]; fields: string[]; items: Record<string, MatArray>[] }

/** Why a buffer could not be read as a MAT v5 file. */
export class MatFormatError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'MatFormatError'
  }
}

const MI = {
  INT8: 1,
  UINT8: 2,
  INT16: 3,
  UINT16: 4,
  INT32: 5,
  UINT32: 6,
  SINGLE: 7,
  DOUBLE: 9,
  INT64: 12,
  UINT64: 13,
  MATRIX: 14,
  COMPRESSED: 15,
  UTF8: 16,
  UTF16: 17,
  UTF32: 18
} as const

const CLASS_NAMES: Record<number, string> = {
  1: 'cell',
  2: 'struct',
  3: 'object',
  4: 'char',
  5: 'sparse',
  16: 'function handle',
  17: 'opaque object'
}
const NUMERIC_CLASSES = new Set([6, 7, 8, 9, 10, 11, 12, 13, 14, 15])
const COMPLEX_FLAG = 0x08

/** Byte size of one value of each numeric data type. */
const TYPE_SIZE: Record<number, number> = {
  [MI.INT8]: 1,
  [MI.UINT8]: 1,
  [MI.INT16]: 2,
  [MI.UINT16]: 2,
  [MI.INT32]: 4,
  [MI.UINT32]: 4,
  [MI.SINGLE]: 4,
  [MI.DOUBLE]: 8,
  [MI.INT64]: 8,
  [MI.UINT64]: 8,
  [MI.UTF8]: 1,
  [MI.UTF16]: 2,
  [MI.UTF32]: 4
}

interface Element {
  type: number
  data: Uint8Array
}

/** Reads data elements from one byte range, in the file's byte order. */
class Reader {
  private pos = 0
  private readonly view: DataView
  constructor(
    private readonly bytes: Uint8Array,
    private readonly le: boolean,
    private readonly where: string
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  get done(): boolean {
    return this.pos >= this.bytes.length
  }

  /** The next element (tag + data, padded to 8 bytes; small elements are packed in the tag). */
  next(): Element {
    if (this.pos + 8 > this.bytes.length) this.truncated('a data element tag')
    const first = this.view.getUint32(this.pos, this.le)
    if (first >>> 16 !== 0) {
      // Small data element: 2 bytes size, 2 bytes type (as a 32-bit word), then 4 bytes of data.
      const size = first >>> 16
      const type = first & 0xffff
      if (size > 4)
        throw new MatFormatError(`${this.where}: a small data element claims ${size} bytes`)
      const data = this.bytes.subarray(this.pos + 4, this.pos + 4 + size)
      this.pos += 8
      return { type, data }
    }
    const type = first
    const size = this.view.getUint32(this.pos + 4, this.le)
    const start = this.pos + 8
    if (start + size > this.bytes.length) this.truncated(`a ${size}-byte data element`)
    const data = this.bytes.subarray(start, start + size)
    // Compressed elements are not padded; everything else is padded to 8 bytes.
    this.pos = type === MI.COMPRESSED ? start + size : start + Math.ceil(size / 8) * 8
    return { type, data }
  }

  private truncated(what: string): never {
    throw new MatFormatError(
      `${this.where}: the file ends in the middle of ${what} (at byte ${this.pos}); it is truncated or damaged`
    )
  }
}

/** The numbers of a numeric data element, whatever its stored type. */
function numbers(el: Element, le: boolean, where: string): number[] {
  const size = TYPE_SIZE[el.type]
  if (size === undefined) throw new MatFormatError(`${where}: data type ${el.type} is not numeric`)
  if (el.data.length % size !== 0) {
    throw new MatFormatError(`${where}: ${el.data.length} bytes is not a whole number of values`)
  }
  const v = new DataView(el.data.buffer, el.data.byteOffset, el.data.byteLength)
  const n = el.data.length / size
  const out = new Array<number>(n)
  for (let i = 0; i < n; i++) {
    const o = i * size
    switch (el.type) {
      case MI.INT8:
        out[i] = v.getInt8(o)
        break
      case MI.UINT8:
      case MI.UTF8:
        out[i] = v.getUint8(o)
        break
      case MI.INT16:
        out[i] = v.getInt16(o, le)
        break
      case MI.UINT16:
      case MI.UTF16:
        out[i] = v.getUint16(o, le)
        break
      case MI.INT32:
        out[i] = v.getInt32(o, le)
        break
      case MI.UINT32:
      case MI.UTF32:
        out[i] = v.getUint32(o, le)
        break
      case MI.SINGLE:
        out[i] = v.getFloat32(o, le)
        break
      case MI.DOUBLE:
        out[i] = v.getFloat64(o, le)
        break
      case MI.INT64:
        out[i] = Number(v.getBigInt64(o, le))
        break
      case MI.UINT64:
        out[i] = Number(v.getBigUint64(o, le))
        break
    }
  }
  return out
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('latin1').replace(/\0+$/, '')
}

/** A char array's text, one string per row (MATLAB stores chars column-major). */
function charRows(el: Element, dims: number[], le: boolean, where: string): string[] {
  let codes: number[]
  if (el.type === MI.UTF8) {
    // UTF-8 may hold multi-byte characters: decode, then split into code units.
    codes = Array.from(Buffer.from(el.data).toString('utf8'), (c) => c.codePointAt(0)!)
  } else {
    codes = numbers(el, le, where)
  }
  const rows = dims[0] ?? 0
  const cols = rows === 0 ? 0 : dims.slice(1).reduce((a, b) => a * b, 1)
  if (codes.length < rows * cols) {
    throw new MatFormatError(
      `${where}: a ${dims.join('x')} char array holds only ${codes.length} characters`
    )
  }
  const out: string[] = []
  for (let r = 0; r < rows; r++) {
    let s = ''
    for (let c = 0; c < cols; c++) s += String.fromCodePoint(codes[c * rows + r])
    out.push(s)
  }
  return out
}

/** Parses the body of one miMATRIX element. */
function matrix(body: Uint8Array, le: boolean, where: string): { name: string; value: MatArray } {
  const r = new Reader(body, le, where)
  if (r.done) return { name: '', value: { kind: 'numeric', dims: [0, 0], data: [] } } // empty []
  const flags = numbers(r.next(), le, `${where} (array flags)`)
  const cls = flags[0] & 0xff
  const complex = ((flags[0] >>> 8) & COMPLEX_FLAG) !== 0
  const dims = numbers(r.next(), le, `${where} (dimensions)`)
  const name = latin1(r.next().data)
  const at = name ? `${where} "${name}"` : where
  const count = dims.reduce((a, b) => a * b, 1)
  if (cls === 4) {
    const el = r.done ? { type: MI.UINT16, data: new Uint8Array(0) } : r.next()
    return { name, value: { kind: 'char', dims, rows: charRows(el, dims, le, at) } }
  }
  if (NUMERIC_CLASSES.has(cls)) {
    const data = r.done ? [] : numbers(r.next(), le, at)
    if (data.length !== count) {
      throw new MatFormatError(`${at}: a ${dims.join('x')} array holds ${data.length} values`)
    }
    if (complex && !r.done) r.next() // imaginary part: not needed, skipped
    return { name, value: { kind: 'numeric', dims, data } }
  }
  if (cls === 1) {
    const items: MatArray[] = []
    for (let i = 0; i < count; i++) items.push(child(r, le, `${at} cell ${i + 1}`))
    return { name, value: { kind: 'cell', dims, items } }
  }
  if (cls === 2) {
    const len = numbers(r.next(), le, `${at} (field name length)`)[0]
    const raw = r.next().data
    if (!len || raw.length % len !== 0) {
      throw new MatFormatError(`${at}: field names of ${raw.length} bytes do not split by ${len}`)
    }
    const fields: string[] = []
    for (let o = 0; o < raw.length; o += len) fields.push(latin1(raw.subarray(o, o + len)))
    const items: Record<string, MatArray>[] = []
    for (let i = 0; i < count; i++) {
      const rec: Record<string, MatArray> = {}
      for (const f of fields) rec[f] = child(r, le, `${at}(${i + 1}).${f}`)
      items.push(rec)
    }
    return { name, value: { kind: 'struct', dims, fields, items } }
  }
  throw new MatFormatError(
    `${at}: MATLAB ${CLASS_NAMES[cls] ?? `class ${cls}`} arrays are not supported`
  )
}

/** A nested array (cell element or struct field): always a plain miMATRIX element. */
function child(r: Reader, le: boolean, where: string): MatArray {
  if (r.done) throw new MatFormatError(`${where}: missing (the array ends early)`)
  const el = r.next()
  if (el.type !== MI.MATRIX) {
    throw new MatFormatError(`${where}: expected a matrix element, found data type ${el.type}`)
  }
  return matrix(el.data, le, where).value
}

/**
 * Parses a MAT v5 file into its named top-level variables. Throws MatFormatError for anything
 * that is not a readable MAT v5 file, naming why (v7.3/HDF5, level 4, truncated, unsupported class).
 */
export function readMat5(buf: Uint8Array): Record<string, MatArray> {
  // A level-4 file starts with a small type word (its upper bytes zero); level 5 with text.
  const level4 = buf.length >= 4 && (buf[0] === 0 || buf[1] === 0 || buf[2] === 0 || buf[3] === 0)
  if (buf.length < 128) {
    if (level4)
      throw new MatFormatError('this looks like a level-4 MAT-file, which is not supported')
    throw new MatFormatError(`only ${buf.length} bytes: too short for a MAT-file's 128-byte header`)
  }
  const head = Buffer.from(buf.subarray(0, 116)).toString('latin1')
  const endian = Buffer.from(buf.subarray(126, 128)).toString('latin1')
  const le = endian === 'IM'
  if (!le && endian !== 'MI') {
    if (level4)
      throw new MatFormatError('this looks like a level-4 MAT-file, which is not supported')
    throw new MatFormatError('no MAT-file header (the endian indicator at byte 126 is missing)')
  }
  const version = new DataView(buf.buffer, buf.byteOffset + 124, 2).getUint16(0, le)
  if (version === 0x0200 || /MATLAB 7\.3/.test(head)) {
    throw new MatFormatError(
      'MAT v7.3 (HDF5) files are not supported; re-save it in MATLAB with save(..., "-v7")'
    )
  }
  if (version !== 0x0100)
    throw new MatFormatError(`unknown MAT-file version 0x${version.toString(16)}`)
  const out: Record<string, MatArray> = {}
  const top = new Reader(buf.subarray(128), le, 'MAT-file')
  let n = 0
  while (!top.done) {
    n++
    let el = top.next()
    if (el.type === MI.COMPRESSED) {
      let inflated: Buffer
      try {
        inflated = inflateSync(el.data)
      } catch (err) {
        throw new MatFormatError(
          `compressed variable ${n} cannot be inflated (${(err as Error).message}); the file is truncated or damaged`
        )
      }
      const inner = new Reader(inflated, le, `compressed variable ${n}`)
      el = inner.next()
    }
    if (el.type !== MI.MATRIX) continue // MAT v5 allows other top-level elements; none are needed
    const { name, value } = matrix(el.data, le, `variable ${n}`)
    out[name] = value
  }
  return out
}
