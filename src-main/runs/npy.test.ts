import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { decodeNpy, encodeNpy, writeNpy } from './npy'

function hasNumpy(): boolean {
  try {
    execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

describe('.npy writer', () => {
  it('writes a v1.0 header padded to 64 bytes, ending in a newline', () => {
    const buf = encodeNpy(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3])
    expect(buf.subarray(0, 6).toString('latin1')).toBe('\x93NUMPY')
    expect([buf[6], buf[7]]).toEqual([1, 0])
    const hlen = buf.readUInt16LE(8)
    expect((10 + hlen) % 64).toBe(0)
    const header = buf.toString('latin1', 10, 10 + hlen)
    expect(header).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3\), \}/)
    expect(header.endsWith('\n')).toBe(true)
    expect(buf.length).toBe(10 + hlen + 24)
  })

  it('round-trips float32 and int32 data, 1-D shapes with the trailing comma', () => {
    const f = decodeNpy(encodeNpy(new Float32Array([0.5, -1.25]), [2]))
    expect(f.shape).toEqual([2])
    expect(Array.from(f.data)).toEqual([0.5, -1.25])
    expect(encodeNpy(new Int32Array([1]), [1]).toString('latin1')).toContain("'shape': (1,)")
    const i = decodeNpy(encodeNpy(new Int32Array([3, 4, 5, 6]), [2, 2]))
    expect(i.data).toBeInstanceOf(Int32Array)
    expect(Array.from(i.data)).toEqual([3, 4, 5, 6])
  })

  it.runIf(hasNumpy())('is read by NumPy itself', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hist-npy-'))
    try {
      const file = join(dir, 'e.npy')
      writeNpy(file, new Float32Array([1, 2, 3, 4, 5, 6]), [3, 2])
      const out = execFileSync('python3', [
        '-c',
        `import numpy as np; a = np.load(${JSON.stringify(file)}); print(a.dtype, a.shape, a.sum(), a[2, 1])`
      ])
        .toString()
        .trim()
      expect(out).toBe('float32 (3, 2) 21.0 6.0')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
