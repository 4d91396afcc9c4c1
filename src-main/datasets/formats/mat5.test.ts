import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { deflateSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { tempDir, writeMat } from '../datasets.testutil'
import { MatFormatError, readMat5 } from './mat5'

// ---- a byte-level builder for what the test writer does not make (small elements, big-endian,
// narrowed numeric storage, multi-row chars, empty arrays, sparse)

function builder(le: boolean): {
  el: (type: number, data: Buffer) => Buffer
  small: (type: number, data: Buffer) => Buffer
  u32: (...v: number[]) => Buffer
  u16: (...v: number[]) => Buffer
  header: (version?: number, text?: string) => Buffer
} {
  const u32 = (...v: number[]): Buffer => {
    const b = Buffer.alloc(v.length * 4)
    v.forEach((x, i) => (le ? b.writeUInt32LE(x, i * 4) : b.writeUInt32BE(x, i * 4)))
    return b
  }
  const u16 = (...v: number[]): Buffer => {
    const b = Buffer.alloc(v.length * 2)
    v.forEach((x, i) => (le ? b.writeUInt16LE(x, i * 2) : b.writeUInt16BE(x, i * 2)))
    return b
  }
  const el = (type: number, data: Buffer): Buffer =>
    Buffer.concat([u32(type, data.length), data, Buffer.alloc((8 - (data.length % 8)) % 8)])
  const small = (type: number, data: Buffer): Buffer =>
    Buffer.concat([u32((data.length << 16) | type), data, Buffer.alloc(4 - data.length)])
  const header = (version = 0x0100, text = 'MATLAB 5.0 MAT-file, test'): Buffer => {
    const h = Buffer.alloc(128, 0x20)
    h.write(text, 0, 'latin1')
    h.fill(0, 116, 124)
    if (le) h.writeUInt16LE(version, 124)
    else h.writeUInt16BE(version, 124)
    h.write(le ? 'IM' : 'MI', 126, 'latin1')
    return h
  }
  return { el, small, u32, u16, header }
}

describe('readMat5', () => {
  it('reads struct arrays, cells, chars and numbers written plain and compressed', () => {
    for (const compress of [false, true]) {
      const file = join(tempDir(), 'x.mat')
      writeMat(
        file,
        {
          s: {
            t: 'struct',
            fields: ['name', 'n'],
            v: [
              { name: { t: 'char', v: 'a/b.jpg' }, n: { t: 'double', v: 2.5 } },
              { name: { t: 'char', v: 'ünï' }, n: { t: 'uint8', v: 200 } }
            ]
          },
          c: {
            t: 'cell',
            v: [
              { t: 'char', v: 'x' },
              { t: 'double', v: -1 }
            ]
          }
        },
        compress
      )
      expect(readMat5(readFileSync(file))).toEqual({
        s: {
          kind: 'struct',
          dims: [1, 2],
          fields: ['name', 'n'],
          items: [
            {
              name: { kind: 'char', dims: [1, 7], rows: ['a/b.jpg'] },
              n: { kind: 'numeric', dims: [1, 1], data: [2.5] }
            },
            {
              name: { kind: 'char', dims: [1, 3], rows: ['ünï'] },
              n: { kind: 'numeric', dims: [1, 1], data: [200] }
            }
          ]
        },
        c: {
          kind: 'cell',
          dims: [1, 2],
          items: [
            { kind: 'char', dims: [1, 1], rows: ['x'] },
            { kind: 'numeric', dims: [1, 1], data: [-1] }
          ]
        }
      })
    }
  })

  for (const le of [true, false]) {
    it(`reads MATLAB's compact encodings (${le ? 'little' : 'big'}-endian): small elements, doubles stored as uint8, 2-row chars, empty fields`, () => {
      const { el, small, u32, u16, header } = builder(le)
      const MI_INT8 = 1
      const MI_UINT8 = 2
      const MI_UINT16 = 4
      const MI_INT32 = 5
      const MI_UINT32 = 6
      const MI_MATRIX = 14
      // class double (6), 1x3, values stored as miUINT8
      const dbl = el(
        MI_MATRIX,
        Buffer.concat([
          el(MI_UINT32, u32(6, 0)),
          el(MI_INT32, u32(1, 3)),
          small(MI_INT8, Buffer.alloc(0)),
          small(MI_UINT8, Buffer.from([1, 98, 196]))
        ])
      )
      // class char, 2x2 ['ab';'cd'] stored column-major: a c b d
      const chr = el(
        MI_MATRIX,
        Buffer.concat([
          el(MI_UINT32, u32(4, 0)),
          el(MI_INT32, u32(2, 2)),
          small(MI_INT8, Buffer.alloc(0)),
          el(MI_UINT16, u16(97, 99, 98, 100))
        ])
      )
      const empty = el(MI_MATRIX, Buffer.alloc(0))
      const struct = el(
        MI_MATRIX,
        Buffer.concat([
          el(MI_UINT32, u32(2, 0)),
          el(MI_INT32, u32(1, 1)),
          small(MI_INT8, Buffer.from('s', 'latin1')),
          small(MI_INT32, u32(8)),
          el(MI_INT8, Buffer.from('num\0\0\0\0\0chr\0\0\0\0\0nil\0\0\0\0\0', 'latin1')),
          dbl,
          chr,
          empty
        ])
      )
      const body = Buffer.concat([header(), struct])
      expect(readMat5(body)).toEqual({
        s: {
          kind: 'struct',
          dims: [1, 1],
          fields: ['num', 'chr', 'nil'],
          items: [
            {
              num: { kind: 'numeric', dims: [1, 3], data: [1, 98, 196] },
              chr: { kind: 'char', dims: [2, 2], rows: ['ab', 'cd'] },
              nil: { kind: 'numeric', dims: [0, 0], data: [] }
            }
          ]
        }
      })
    })
  }

  it('says a truncated file is truncated, plain or compressed', () => {
    for (const compress of [false, true]) {
      const file = join(tempDir(), 'x.mat')
      writeMat(
        file,
        { c: { t: 'cell', v: Array.from({ length: 20 }, (_, i) => ({ t: 'double', v: i })) } },
        compress
      )
      const whole = readFileSync(file)
      expect(() => readMat5(whole.subarray(0, whole.length - 40))).toThrow(
        /the file ends in the middle of a \d+-byte data element .*truncated or damaged/
      )
      expect(() => readMat5(whole.subarray(0, 131))).toThrow(
        /ends in the middle of a data element tag/
      )
    }
  })

  it('refuses MAT v7.3 (HDF5), level-4, headerless and too-short files with a reason', () => {
    const { header } = builder(true)
    const v73 = Buffer.concat([
      header(
        0x0200,
        'MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Dec  7 2026 HDF5 schema 1.00 .'
      ),
      Buffer.from('\x89HDF\r\n\x1a\n', 'latin1'),
      Buffer.alloc(400)
    ])
    expect(() => readMat5(v73)).toThrow(/MAT v7\.3 \(HDF5\) files are not supported.*-v7/)
    const level4 = Buffer.alloc(200, 0)
    level4.writeInt32LE(2, 4)
    expect(() => readMat5(level4)).toThrow(/level-4 MAT-file/)
    expect(() => readMat5(level4.subarray(0, 60))).toThrow(/level-4 MAT-file/)
    expect(() => readMat5(Buffer.alloc(200, 7))).toThrow(/no MAT-file header/)
    expect(() => readMat5(Buffer.from('MATLAB 5.0'))).toThrow(/too short/)
    expect(() => readMat5(Buffer.from(header(0x0300)))).toThrow(/unknown MAT-file version 0x300/)
  })

  it('names the class it does not support (sparse) and a damaged compressed stream', () => {
    const { el, small, u32, header } = builder(true)
    const sparse = el(
      14,
      Buffer.concat([el(6, u32(5, 0)), el(5, u32(2, 2)), small(1, Buffer.from('sp', 'latin1'))])
    )
    expect(() => readMat5(Buffer.concat([header(), sparse]))).toThrow(
      /variable 1 "sp": MATLAB sparse arrays are not supported/
    )
    const junk = Buffer.concat([u32(15, 16), Buffer.alloc(16, 0xab)])
    const err = (() => {
      try {
        readMat5(Buffer.concat([header(), junk]))
      } catch (e) {
        return e
      }
      return null
    })()
    expect(err).toBeInstanceOf(MatFormatError)
    expect((err as Error).message).toMatch(/compressed variable 1 cannot be inflated/)
    const z = deflateSync(sparse)
    expect(() => readMat5(Buffer.concat([header(), u32(15, z.length), z]))).toThrow(
      /variable 1 "sp": MATLAB sparse arrays are not supported/
    )
  })
})
