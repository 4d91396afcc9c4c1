import * as tf from '@tensorflow/tfjs'
import '@tensorflow/tfjs-backend-wasm'
import { beforeAll, describe, expect, it } from 'vitest'
import { getEngine, l2NormalizeRows, releaseEngineCaches } from './engine'
import { mulberry32 } from '../util/rng'
import { kmeans } from './kmeans'
import { knn } from './knn'
import { evaluate, RetrievalIndex } from './metrics'

let ready = false
beforeAll(async () => {
  ready = await tf.setBackend('wasm')
  await tf.ready()
})

function randn(n: number, seed: number): Float32Array {
  const rand = mulberry32(seed)
  return Float32Array.from({ length: n }, () => rand() - 0.5)
}

describe('tfjs engine (wasm backend)', () => {
  it('is picked by name, computes the JS similarities and frees its tensors', async () => {
    expect(ready).toBe(true)
    const before = tf.memory().numTensors
    const e = getEngine('float32', 'tfjs')
    expect(e.name).toBe('tfjs-wasm')
    expect(e.shapeInvariant).toBe(false)
    const d = 40
    const a = randn(7 * d, 1)
    const b = randn(50 * d, 2)
    const out = new Float32Array(7 * 50)
    const ref = new Float32Array(7 * 50)
    e.sims(a, 7, b, 50, d, out)
    getEngine('float32', 'js').sims(a, 7, b, 50, d, ref)
    for (let t = 0; t < out.length; t++) expect(out[t]).toBeCloseTo(ref[t], 5)
    // In-place changes after a release are seen (the gallery tensor is cached until then).
    b.fill(0)
    releaseEngineCaches()
    e.sims(a, 7, b, 50, d, out)
    expect(out.every((v) => v === 0)).toBe(true)
    releaseEngineCaches()
    expect(tf.memory().numTensors).toBe(before)
  })

  it('gives the same evaluation, kNN and k-means as the JS engine without leaking tensors', async () => {
    const before = tf.memory().numTensors
    const n = 300
    const d = 24
    const x = randn(n * d, 3)
    const labels = Int32Array.from({ length: n }, (_, i) => i % 29)
    const a = await evaluate(x, n, d, labels, {
      precision: 'float32',
      engine: 'tfjs',
      ks: [1, 4, 40],
      blockBytes: 4 * n * 64
    })
    const b = await evaluate(x, n, d, labels, {
      precision: 'float32',
      engine: 'js',
      ks: [1, 4, 40]
    })
    expect(a.engine).toBe('tfjs-wasm')
    expect(a.recall).toEqual(b.recall)
    expect(a.mapAtR).toBeCloseTo(b.mapAtR, 12)
    const u = l2NormalizeRows(x, n, d)
    const k1 = knn(u, 50, u, n, d, 5, { excludeSelf: true, engine: 'tfjs' })
    const k2 = knn(u, 50, u, n, d, 5, { excludeSelf: true, engine: 'js' })
    expect(Array.from(k1.indices)).toEqual(Array.from(k2.indices))
    const m1 = kmeans(u, n, d, { k: 10, seed: 4, engine: getEngine('float32', 'tfjs') })
    const m2 = kmeans(u, n, d, { k: 10, seed: 4, engine: 'js' })
    expect(Array.from(m1.labels)).toEqual(Array.from(m2.labels))
    const index = new RetrievalIndex(u, n, d, { labels, normalized: true, engine: 'tfjs' })
    const jsIndex = new RetrievalIndex(u, n, d, { labels, normalized: true, engine: 'js' })
    expect(index.detail(5, 3).apAtR).toBeCloseTo(jsIndex.detail(5, 3).apAtR!, 12)
    releaseEngineCaches()
    expect(tf.memory().numTensors).toBe(before)
  })
})
