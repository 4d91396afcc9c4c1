import * as tf from '@tensorflow/tfjs'
import '@tensorflow/tfjs-backend-wasm'
import { beforeAll, describe, expect, it } from 'vitest'
import { createRng, normalArray } from '../util/rng'
import { registerFastKernels } from './index'
import { SUM_MAX_INNER, leadingSumStats } from './sumKernel'

async function sumOn(
  backend: string,
  shape: number[],
  axis: number | number[],
  keepDims: boolean,
  dtype: 'float32' | 'int32' = 'float32'
) {
  await tf.setBackend(backend)
  const n = shape.reduce((a, b) => a * b, 1)
  const data = normalArray(createRng(n + 1), n).map((v) =>
    dtype === 'int32' ? Math.round(v * 9) : v
  )
  const before = tf.memory().numTensors
  const x = tf.tensor(data, shape, dtype)
  const y = tf.sum(x, axis, keepDims)
  const out = { shape: y.shape, vals: Array.from(await y.data()) }
  tf.dispose([x, y])
  expect(tf.memory().numTensors).toBe(before)
  return out
}

beforeAll(async () => {
  await tf.setBackend('wasm')
  await tf.ready()
  registerFastKernels('wasm')
})

describe('wasm Sum over leading axes (SIMD column sum)', () => {
  const cases: [number[], number | number[], boolean][] = [
    [[2, 5, 5, 8], [0, 1, 2], false], // a bias gradient
    [[2, 5, 5, 8], [2, 0, 1], true], // any order, kept dims
    [[3, 7, 12], [0, 1], false],
    [[9, 16], 0, false],
    [[9, 16], -2, true],
    [[4, 6, 6, 6], [0, 1, 2], false], // C = 6: not a multiple of 4, wasm's own Sum
    [[2, 3, 4, 8], [1, 2], false], // not leading: wasm's own Sum
    [[2, 3, 4, 8], [0, 1, 2, 3], false], // everything
    [[3, SUM_MAX_INNER + 4], 0, false] // too wide for the cached accumulator
  ]
  for (const [shape, axis, keep] of cases) {
    it(`sum [${shape}] over ${JSON.stringify(axis)}${keep ? ' (keepDims)' : ''} matches cpu (1e-5)`, async () => {
      const ref = await sumOn('cpu', shape, axis, keep)
      const got = await sumOn('wasm', shape, axis, keep)
      expect(got.shape).toEqual(ref.shape)
      got.vals.forEach((v, i) =>
        expect(Math.abs(v - ref.vals[i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(ref.vals[i])))
      )
    })
  }

  it('leaves int32 to wasm’s own Sum, exactly', async () => {
    const ref = await sumOn('cpu', [4, 8], 0, false, 'int32')
    const got = await sumOn('wasm', [4, 8], 0, false, 'int32')
    expect(got.vals).toEqual(ref.vals)
  })

  it('takes the SIMD path for a bias gradient only', async () => {
    await tf.setBackend('wasm')
    const x = tf.ones([2, 4, 4, 8])
    const before = leadingSumStats.simd
    tf.sum(x, [0, 1, 2]).dispose()
    expect(leadingSumStats.simd).toBe(before + 1)
    tf.sum(x, [1, 2]).dispose()
    tf.tidy(() => tf.sum(tf.ones([2, 6]), 0))
    expect(leadingSumStats.simd).toBe(before + 1)
    x.dispose()
  })
})
