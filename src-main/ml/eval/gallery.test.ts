import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  crc32,
  readGallery,
  readGalleryHeader,
  writeGallery,
  GALLERY_HEADER_BYTES
} from './gallery'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hist-gallery-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

function sample(n: number, d: number): Float32Array {
  return Float32Array.from({ length: n * d }, (_, i) => Math.sin(i) * 3)
}

describe('gallery file', () => {
  it('round-trips data and shape', () => {
    const f = path.join(tmp, 'sub', 'g.bin')
    const data = sample(17, 5)
    writeGallery(f, data, 17, 5)
    expect(fs.statSync(f).size).toBe(GALLERY_HEADER_BYTES + 17 * 5 * 4)
    const g = readGallery(f, { n: 17, d: 5 })
    expect(g.n).toBe(17)
    expect(g.d).toBe(5)
    expect(Array.from(g.data)).toEqual(Array.from(data))
    expect(readGalleryHeader(f)).toMatchObject({ n: 17, d: 5, version: 1, dtype: 'float32' })
    const empty = path.join(tmp, 'empty.bin')
    writeGallery(empty, new Float32Array(0), 0, 8)
    expect(readGallery(empty).n).toBe(0)
  })

  it('refuses truncated, extended, corrupted and mismatched files', () => {
    const f = path.join(tmp, 'g.bin')
    writeGallery(f, sample(10, 4), 10, 4)
    const good = fs.readFileSync(f)
    const variant = (name: string, bytes: Uint8Array) => {
      const p = path.join(tmp, name)
      fs.writeFileSync(p, bytes)
      return p
    }
    expect(() => readGallery(variant('trunc.bin', good.subarray(0, good.length - 4)))).toThrow(
      /truncated/
    )
    expect(() =>
      readGalleryHeader(variant('trunc2.bin', good.subarray(0, good.length - 1)))
    ).toThrow(/truncated/)
    expect(() => readGallery(variant('short.bin', good.subarray(0, 10)))).toThrow(/truncated/)
    expect(() => readGallery(variant('long.bin', Buffer.concat([good, Buffer.alloc(4)])))).toThrow(
      /trailing/
    )
    const flipped = Buffer.from(good)
    flipped[GALLERY_HEADER_BYTES + 7] ^= 0x40
    expect(() => readGallery(variant('flip.bin', flipped))).toThrow(/checksum/)
    const magic = Buffer.from(good)
    magic[0] = 0x58
    expect(() => readGallery(variant('magic.bin', magic))).toThrow(/bad magic/)
    const hdr = Buffer.from(good)
    hdr.writeUInt32LE(11, 16)
    expect(() => readGallery(variant('hdr.bin', hdr))).toThrow(/header checksum/)
    const ver = Buffer.from(good)
    ver.writeUInt32LE(2, 8)
    ver.writeUInt32LE(crc32(ver.subarray(0, 28)), 28)
    expect(() => readGallery(variant('ver.bin', ver))).toThrow(/unsupported version 2/)
    expect(() => readGallery(f, { d: 8 })).toThrow(/dimension 4, expected 8/)
    expect(() => readGallery(f, { n: 11 })).toThrow(/10 rows, expected 11/)
    expect(() => writeGallery(f, sample(3, 3), 3, 4)).toThrow(/expected 3×4/)
  })

  it('computes the standard CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926)
  })
})
