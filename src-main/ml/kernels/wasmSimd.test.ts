/** The hand-assembled SIMD kernels against tfjs-op / scalar references, on odd sizes too. */
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { distBack, distPrep } from './distance'
import { keepForBackward } from '../losses/ops'
import { closeness, randn, useBackend } from '../losses/losses.testutil'
import { fastTranspose } from './transpose'
import { activeSimdKernels, simdModuleBytes, wasmApi } from './wasmSimd'

/** A [rows, cols] tensor of N(0, scale²) values with a few exact 0 / 6 / out-of-range entries. */
function table(rows: number, cols: number, seed: number, scale = 1): tf.Tensor2D {
  const v = randn(rows * cols, seed).map((x) => x * scale)
  if (v.length > 4) {
    v[0] = 0
    v[1] = 6
    v[2] = -7
    v[3] = 9
  }
  return tf.tensor2d(v, [rows, cols])
}

describe('wasm SIMD kernels', () => {
  beforeAll(async () => {
    await useBackend('wasm')
  })

  it('assemble to a valid module and bind to the wasm backend', () => {
    expect(wasmApi.validate(simdModuleBytes())).toBe(true)
    expect(activeSimdKernels()).not.toBeNull()
  })

  it('transpose matches tf.transpose for sizes that are and are not multiples of 4 / 16', () => {
    for (const [r, c] of [
      [1, 1],
      [3, 5],
      [4, 4],
      [16, 8],
      [33, 7],
      [37, 19],
      [64, 130]
    ]) {
      const x = tf.tensor2d(randn(r * c, r * 100 + c), [r, c])
      const a = fastTranspose(x)
      const b = tf.transpose(x)
      expect(a.shape).toEqual([c, r])
      expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()))
      tf.dispose([x, a, b])
    }
  })

  for (const cols of [7, 16, 13, 130]) {
    it(`distPrep equals the tfjs-op version (cols = ${cols})`, () => {
      const before = tf.memory().numTensors
      const rows = 6
      const mu = table(rows, cols, cols, 0.3)
      const lv = table(rows, cols, cols + 1, 3)
      const f = distPrep(mu, lv, true)
      const o = distPrep(mu, lv, false)
      expect(f.p2.shape).toEqual([rows, 2 * cols])
      expect(closeness(f.p2.dataSync(), o.p2.dataSync(), 1e-6, 1e-12)).toBeNull()
      expect(closeness(f.rn.dataSync(), o.rn.dataSync(), 1e-6, 0)).toBeNull()
      expect(closeness(f.bias.dataSync(), o.bias.dataSync(), 1e-6, 1e-9)).toBeNull()
      tf.dispose([mu, lv, f.p2, f.rn, f.bias, o.p2, o.rn, o.bias])
      expect(tf.memory().numTensors).toBe(before)
    })

    it(`distBack equals the tfjs-op version, incl. relu6 edges and a zero-norm row (cols = ${cols})`, () => {
      const rows = 5
      const mu = tf.tidy(
        () => tf.concat([table(rows - 1, cols, 3 * cols, 0.3), tf.zeros([1, cols])]) as tf.Tensor2D
      )
      const lv = table(rows, cols, 3 * cols + 1, 3)
      const prep = distPrep(mu, lv, false)
      const active = tf.tensor2d([1, 1, 1, 1, 0], [rows, 1])
      const gs = tf.tensor2d(randn(rows, 5), [rows, 1])
      const nb = table(rows, 2 * cols, 3 * cols + 2)
      const args = { mu, lv, p2: prep.p2, rn: prep.rn, active, gs, nb }
      const f = distBack(args, true)
      const o = distBack(args, false)
      expect(closeness(f.dMu.dataSync(), o.dMu.dataSync(), 1e-5, 1e-6)).toBeNull()
      expect(closeness(f.dLv.dataSync(), o.dLv.dataSync(), 1e-5, 1e-7)).toBeNull()
      // ℓ = 0, 6 and outside (0, 6) get no gradient.
      expect(Array.from(f.dLv.dataSync().slice(0, 4))).toEqual([0, 0, 0, 0])
      tf.dispose([mu, lv, prep.p2, prep.rn, prep.bias, active, gs, nb, f.dMu, f.dLv, o.dMu, o.dLv])
    })
  }

  it('computes exp(−relu6(ℓ)) to within 3e-7 relative of Math.exp', () => {
    const n = 4001
    const vals = Array.from({ length: n }, (_, i) => -1 + (8 * i) / (n - 1)) // −1 … 7
    const lv = tf.tensor2d(vals, [1, n])
    const mu = tf.ones([1, n]) as tf.Tensor2D
    const f = distPrep(mu, lv, true)
    const iv = f.p2.dataSync().slice(0, n)
    const ref = vals.map((v) => Math.exp(-Math.min(Math.max(v, 0), 6)))
    expect(closeness(iv, ref, 3e-7, 0)).toBeNull()
    tf.dispose([lv, mu, f.p2, f.rn, f.bias])
  })
})

describe('keepForBackward', () => {
  beforeAll(async () => {
    await useBackend('wasm')
  })

  it('keeps nothing outside a gradient tape and frees aliases whose backward never ran', () => {
    const x = tf.ones([3, 3])
    const start = tf.memory().numTensors
    expect(keepForBackward([x])).toBeNull()
    const v = tf.tidy(() => tf.variable(tf.zeros([1]), true, 'kfb/v'))
    // Under a tape, but the kept alias's backward never runs (release is not called).
    const g = tf.variableGrads(() => {
      keepForBackward([x])
      return tf.sum(v) as tf.Scalar
    }, [v])
    tf.dispose([g.value, ...Object.values(g.grads)])
    expect(tf.memory().numTensors).toBe(start + 2) // v and the stale alias
    expect(keepForBackward([x])).toBeNull() // the next call (no tape) frees the stale alias
    expect(tf.memory().numTensors).toBe(start + 1)
    v.dispose()
    x.dispose()
  })
})
