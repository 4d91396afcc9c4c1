/**
 * Minimal NumPy `.npy` (format version 1.0) writer and reader for float32 / int32 matrices,
 * written by hand from the format spec (numpy.lib.format): magic "\x93NUMPY", version 1.0,
 * uint16 LE header length, a Python-dict header padded with spaces and ending in "\n" so that
 * the data starts at a multiple of 64 bytes, then the little-endian C-order data.
 */
import { readFileSync, writeFileSync } from 'node:fs'

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]) // \x93NUMPY

/** Encodes a C-order array as the bytes of a .npy file. */
export function encodeNpy(data: Float32Array | Int32Array, shape: number[]): Buffer {
  const size = shape.reduce((p, d) => p * d, 1)
  if (size !== data.length)
    throw new Error(`npy: shape [${shape}] does not match ${data.length} values`)
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1)
    throw new Error('npy: big-endian hosts are not supported')
  const descr = data instanceof Int32Array ? '<i4' : '<f4'
  // A 1-tuple needs its trailing comma in Python syntax: (5,)
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`
  const preamble = MAGIC.length + 2 + 2
  const total = Math.ceil((preamble + header.length + 1) / 64) * 64
  header = header.padEnd(total - preamble - 1, ' ') + '\n'
  const head = Buffer.alloc(preamble + header.length)
  MAGIC.copy(head, 0)
  head[6] = 1
  head[7] = 0
  head.writeUInt16LE(header.length, 8)
  head.write(header, preamble, 'latin1')
  return Buffer.concat([head, Buffer.from(data.buffer, data.byteOffset, data.byteLength)])
}

/** Writes a .npy file. */
export function writeNpy(file: string, data: Float32Array | Int32Array, shape: number[]): void {
  writeFileSync(file, encodeNpy(data, shape))
}

/** Parses a version 1.x .npy buffer holding little-endian float32 or int32 data in C order. */
export function decodeNpy(buf: Buffer): { data: Float32Array | Int32Array; shape: number[] } {
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) throw new Error('npy: not a .npy file')
  if (buf[6] !== 1) throw new Error(`npy: format version ${buf[6]}.${buf[7]} is not supported`)
  const hlen = buf.readUInt16LE(8)
  const header = buf.toString('latin1', 10, 10 + hlen)
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1]
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1]
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1]
  if (!descr || !fortran || shapeText === undefined) throw new Error('npy: malformed header')
  if (fortran === 'True') throw new Error('npy: Fortran order is not supported')
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number)
  const start = 10 + hlen
  const bytes = new Uint8Array(buf.subarray(start))
  if (descr === '<f4') return { data: new Float32Array(bytes.buffer, 0, bytes.length / 4), shape }
  if (descr === '<i4') return { data: new Int32Array(bytes.buffer, 0, bytes.length / 4), shape }
  throw new Error(`npy: dtype ${descr} is not supported`)
}

/** Reads a .npy file. */
export function readNpy(file: string): { data: Float32Array | Int32Array; shape: number[] } {
  return decodeNpy(readFileSync(file))
}
