/**
 * The similarity decomposition: contributions sum to the cosine similarity of the embeddings
 * the real head computes (exactly: the LayerNorm has no affine part), and every per-position
 * contribution matches a brute-force loop computation (pooling, argmaxes, head) on a small model.
 */
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { useBackend } from '../losses/losses.testutil'
import { EmbeddingHead, poolFeatures } from '../models/head'
import { mulberry32 } from '../util/rng'
import { explainPair, explainSingle, positionContributions } from './decompose'

const H = 3
const W = 4
const C = 6
const D = 5

function featureMap(seed: number): number[][][] {
  const rng = mulberry32(seed)
  // ReLU-like: non-negative with some exact zeros, as a backbone's out_relu.
  return [...Array(H)].map(() =>
    [...Array(W)].map(() => [...Array(C)].map(() => Math.max(0, rng() * 2 - 0.5)))
  )
}

/** Loop-by-loop reference: pooled feature, z, LayerNorm, L2 and the per-position maps. */
function bruteForce(fq: number[][][], fr: number[][][], wt: number[][], b: number[]) {
  const P = H * W
  const flat = (f: number[][][]) => f.flat()
  function parts(f: number[][][]) {
    const F = flat(f)
    const argmax = [...Array(C)].map((_, c) => {
      let best = 0
      for (let s = 1; s < P; s++) if (F[s][c] > F[best][c]) best = s
      return best
    })
    const u = F.map((row, s) =>
      [...Array(D)].map((_, d) => {
        let acc = b[d] / P
        for (let c = 0; c < C; c++) acc += (row[c] / P + (argmax[c] === s ? row[c] : 0)) * wt[c][d]
        return acc
      })
    )
    const v = u.map((row) => {
      const m = row.reduce((a, x) => a + x, 0) / D
      return row.map((x) => x - m)
    })
    // The embedding itself, straight from the head's definition.
    const pooled = [...Array(C)].map(
      (_, c) => F.reduce((a, r) => a + r[c], 0) / P + Math.max(...F.map((r) => r[c]))
    )
    const z = [...Array(D)].map((_, d) => pooled.reduce((a, x, c) => a + x * wt[c][d], b[d]))
    const mean = z.reduce((a, x) => a + x, 0) / D
    const variance = z.reduce((a, x) => a + (x - mean) ** 2, 0) / D
    const ln = z.map((x) => (x - mean) / Math.sqrt(variance + 1e-5))
    const n = Math.hypot(...ln)
    const e = ln.map((x) => x / n)
    const cz = z.map((x) => x - mean)
    return { v, e, czNorm: Math.hypot(...cz) }
  }
  const q = parts(fq)
  const r = parts(fr)
  const dot = (a: number[], c: number[]) => a.reduce((s, x, i) => s + x * c[i], 0)
  return {
    similarity: dot(q.e, r.e),
    query: q.v.map((vs) => dot(vs, r.e) / q.czNorm),
    result: r.v.map((vt) => dot(vt, q.e) / r.czNorm)
  }
}

describe('similarity decomposition (Zhu et al.) through GAP + GMP, Linear, LayerNorm', () => {
  beforeAll(async () => {
    await useBackend('cpu')
  })

  it('matches a brute-force loop computation, and both maps sum to the head’s cosine similarity', async () => {
    const before = tf.memory().numTensors
    const head = new EmbeddingHead(C, D, 11, 'explain-test')
    const [wv, bv] = head.variables
    // A non-zero bias, so that its even share over positions is tested too.
    tf.tidy(() => bv.assign(tf.tensor1d([0.3, -0.2, 0.1, 0.5, -0.4])))
    const fq = featureMap(1)
    const fr = featureMap(2)
    const tq = tf.tensor3d(fq)
    const tr = tf.tensor3d(fr)
    const got = await explainPair(tq, tr, wv as tf.Tensor2D, bv as tf.Tensor1D)
    const ref = bruteForce(fq, fr, wv.arraySync() as number[][], bv.arraySync() as number[])
    // The cosine of the embeddings the real head computes.
    const headSim = tf.tidy(() => {
      const e = head.apply(poolFeatures(tf.stack([tq, tr]) as tf.Tensor4D))
      const n = tf.div(e, tf.norm(e, 2, 1, true))
      return tf.sum(tf.prod(n, 0)).dataSync()[0]
    })
    expect(got.similarity).toBeCloseTo(headSim, 5)
    expect(got.similarity).toBeCloseTo(ref.similarity, 5)
    const sum = (a: ArrayLike<number>) => Array.from(a).reduce((s, x) => s + x, 0)
    expect(sum(got.query.values)).toBeCloseTo(headSim, 5)
    expect(sum(got.result.values)).toBeCloseTo(headSim, 5)
    expect(got.query).toMatchObject({ h: H, w: W })
    for (let s = 0; s < H * W; s++) {
      expect(got.query.values[s]).toBeCloseTo(ref.query[s], 5)
      expect(got.result.values[s]).toBeCloseTo(ref.result[s], 5)
    }
    tf.dispose([tq, tr])
    head.dispose()
    expect(tf.memory().numTensors).toBe(before)
  })

  it('gives the GMP part to the argmax position only', () => {
    // One channel, one output: GAP spreads evenly; GMP's whole share sits at the peak.
    const fm = tf.tensor3d([
      [[1], [5]],
      [[2], [0]]
    ]) // P = 4, peak at position 1
    const wgt = tf.tensor2d([[1, -1]])
    const bias = tf.zeros([2]) as tf.Tensor1D
    const v = tf.tidy(() => positionContributions(fm, wgt, bias).arraySync())
    // u_s = (F_s/4 + [s = 1]·F_s)·[1, −1]; centred: ±u_s[0]
    expect(v.map((r) => r[0])).toEqual([0.25, 1.25 + 5, 0.5, 0].map((x) => expect.closeTo(x, 6)))
    tf.dispose([fm, wgt, bias])
  })

  it('a single image’s activation map sums to 1', async () => {
    const head = new EmbeddingHead(C, D, 12, 'explain-test-2')
    const fm = tf.tensor3d(featureMap(3))
    const m = await explainSingle(
      fm,
      head.variables[0] as tf.Tensor2D,
      head.variables[1] as tf.Tensor1D
    )
    expect(Array.from(m.values).reduce((s, x) => s + x, 0)).toBeCloseTo(1, 5)
    fm.dispose()
    head.dispose()
  })
})
