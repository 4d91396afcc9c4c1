import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { checkpointName, pruneCheckpoints, readCheckpoint, writeCheckpoint } from './checkpoints'

const dirs: string[] = []
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'hist-ckpt-'))
  dirs.push(d)
  return d
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

describe('checkpoint files', () => {
  it('round-trips metadata and float32/int32 arrays of odd lengths', () => {
    const file = join(tmp(), checkpointName(3))
    const a = new Float32Array([1.5, -2, 3.25])
    const b = new Int32Array([7, 8, 9, 10, 11])
    writeCheckpoint(file, {
      meta: { position: { epoch: 3 } },
      sections: {
        head: [{ name: 'w', shape: [3], data: a }],
        optimizer: [{ name: 's', shape: [5], data: b }]
      }
    })
    const ck = readCheckpoint<{ position: { epoch: number } }>(file)
    expect(ck.meta.position.epoch).toBe(3)
    expect(Array.from(ck.sections.head[0].data)).toEqual([1.5, -2, 3.25])
    expect(ck.sections.optimizer[0].data).toBeInstanceOf(Int32Array)
    expect(Array.from(ck.sections.optimizer[0].data)).toEqual([7, 8, 9, 10, 11])
  })

  it('leaves no temporary file behind and refuses a damaged file', () => {
    const dir = tmp()
    const file = join(dir, 'epoch-0001.ckpt')
    writeCheckpoint(file, {
      meta: {},
      sections: { head: [{ name: 'w', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }] }
    })
    expect(readdirSync(dir)).toEqual(['epoch-0001.ckpt'])
    const buf = readFileSync(file)
    buf[buf.length - 1] ^= 0xff
    writeFileSync(file, buf)
    expect(() => readCheckpoint(file)).toThrow(/damaged/)
    writeFileSync(file, buf.subarray(0, 20))
    expect(() => readCheckpoint(file)).toThrow(/truncated|damaged/)
  })

  it('rejects a shape that does not match the data', () => {
    expect(() =>
      writeCheckpoint(join(tmp(), 'x.ckpt'), {
        meta: {},
        sections: { a: [{ name: 'w', shape: [3], data: new Float32Array(2) }] }
      })
    ).toThrow(/shape/)
  })

  it('prunes unreferenced checkpoints, and temp files only when asked', () => {
    const dir = tmp()
    for (const n of [
      'epoch-0001.ckpt',
      'epoch-0002.ckpt',
      'epoch-0003.ckpt',
      '.epoch-0004.ckpt.tmp-123',
      'gallery.bin'
    ])
      writeFileSync(join(dir, n), 'x')
    pruneCheckpoints(dir, ['epoch-0003.ckpt', 'epoch-0001.ckpt'])
    expect(readdirSync(dir).sort()).toEqual([
      '.epoch-0004.ckpt.tmp-123',
      'epoch-0001.ckpt',
      'epoch-0003.ckpt',
      'gallery.bin'
    ])
    pruneCheckpoints(dir, ['epoch-0003.ckpt'], true)
    expect(readdirSync(dir).sort()).toEqual(['epoch-0003.ckpt', 'gallery.bin'])
    expect(existsSync(join(dir, 'gallery.bin'))).toBe(true)
  })

  it('names mid-epoch checkpoints by batch', () => {
    expect(checkpointName(2)).toBe('epoch-0002.ckpt')
    expect(checkpointName(2, 17)).toBe('epoch-0002-batch-000017.ckpt')
  })
})
