import * as tf from '@tensorflow/tfjs'
import '@tensorflow/tfjs-backend-wasm'
import { beforeAll, describe, expect, it } from 'vitest'
import { EmbeddingHead, layerNorm, poolFeatures } from './head'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

describe('poolFeatures', () => {
  it('adds global average and global max pooling', () => {
    // Channel 0: values 1..4, channel 1: values −1..−4.
    const fm = tf.tensor4d([1, -1, 2, -2, 3, -3, 4, -4], [1, 2, 2, 2])
    const p = poolFeatures(fm)
    expect(p.shape).toEqual([1, 2])
    expect(Array.from(p.dataSync())).toEqual([2.5 + 4, -2.5 + -1])
    tf.dispose([fm, p])
  })

  it('has tf.max’s gradient on wasm (every tied maximum gets dy), within 1e-5', async () => {
    // relu6-clipped values: many ties at 6 and at 0 in each channel.
    const vals = Array.from({ length: 2 * 3 * 3 * 8 }, (_, i) =>
      Math.min(6, Math.max(0, ((i * 37) % 23) - 8))
    )
    const grads = async (backend: string, f: (x: tf.Tensor4D) => tf.Tensor) => {
      await tf.setBackend(backend)
      const before = tf.memory().numTensors
      const fm = tf.tensor4d(vals, [2, 3, 3, 8])
      const r = tf.tensor2d(
        Array.from({ length: 16 }, (_, i) => i - 7.5),
        [2, 8]
      )
      const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(f(x as tf.Tensor4D), r)))(fm)
      const y = tf.tidy(() => f(fm))
      const out = { g: Array.from(await g.data()), y: Array.from(await y.data()) }
      tf.dispose([fm, r, g, y])
      expect(tf.memory().numTensors).toBe(before)
      return out
    }
    const ref = await grads('cpu', (x) => tf.add(tf.mean(x, [1, 2]), tf.max(x, [1, 2])))
    const got = await grads('wasm', (x) => poolFeatures(x))
    expect(ref.g.filter((v, i) => v !== 0 && vals[i] === 6).length).toBeGreaterThan(2)
    got.y.forEach((v, i) => expect(v).toBeCloseTo(ref.y[i], 5))
    got.g.forEach((v, i) => expect(v).toBeCloseTo(ref.g[i], 5))
    await tf.setBackend('cpu')
  })
})

describe('layerNorm', () => {
  it('normalises each row to mean 0 and (biased) variance 1 without affine', () => {
    const x = tf.tensor2d([
      [1, 2, 3, 4],
      [10, 10, 10, 14]
    ])
    const y = layerNorm(x)
    const d = y.arraySync()
    for (const row of d) {
      const m = row.reduce((a, b) => a + b, 0) / 4
      const v = row.reduce((a, b) => a + (b - m) ** 2, 0) / 4
      expect(Math.abs(m)).toBeLessThan(1e-6)
      expect(Math.abs(v - 1)).toBeLessThan(1e-4)
    }
    // Row 1: mean 2.5, var 1.25 → (1 − 2.5)/√(1.25 + 1e−5).
    expect(d[0][0]).toBeCloseTo(-1.5 / Math.sqrt(1.25 + 1e-5), 5)
    tf.dispose([x, y])
  })
})

describe('EmbeddingHead', () => {
  it('initialises Kaiming-normal (fan_out) weights and zero bias, reproducibly from the seed', () => {
    const h = new EmbeddingHead(256, 128, 1)
    const [w, b] = h.variables
    expect(w.shape).toEqual([256, 128])
    const wd = w.dataSync() as Float32Array
    const std = Math.sqrt(wd.reduce((a, v) => a + v * v, 0) / wd.length)
    expect(Math.abs(std - Math.sqrt(2 / 128)) / Math.sqrt(2 / 128)).toBeLessThan(0.03)
    expect(Array.from(b.dataSync()).every((v) => v === 0)).toBe(true)
    const h2 = new EmbeddingHead(256, 128, 1)
    const h3 = new EmbeddingHead(256, 128, 2)
    expect(Array.from(h2.variables[0].dataSync())).toEqual(Array.from(wd))
    expect(Array.from(h3.variables[0].dataSync())).not.toEqual(Array.from(wd))
    ;[h, h2, h3].forEach((x) => x.dispose())
  })

  it('gives variables unique engine names but stable checkpoint keys', () => {
    const a = new EmbeddingHead(8, 4, 1)
    const b = new EmbeddingHead(8, 4, 1)
    expect(a.variables[0].name).not.toBe(b.variables[0].name)
    const w = a.getWeights()
    expect(Object.keys(w)).toEqual(['head/weight', 'head/bias'])
    tf.dispose(Object.values(w))
    a.dispose()
    b.dispose()
  })

  it('apply = LayerNorm(pooled · W + b) and does not leak tensors', () => {
    const h = new EmbeddingHead(6, 4, 3)
    const x = tf.randomNormal([5, 6]) as tf.Tensor2D
    const before = tf.memory().numTensors
    const y = h.apply(x)
    expect(y.shape).toEqual([5, 4])
    const ref = tf.tidy(() => layerNorm(tf.add(tf.matMul(x, h.variables[0]), h.variables[1])))
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(y, ref))).dataSync()[0])).toBeLessThan(1e-6)
    tf.dispose([y, ref])
    expect(tf.memory().numTensors).toBe(before)
    x.dispose()
    h.dispose()
  })

  it('round-trips weights and rejects wrong shapes or missing keys', () => {
    const a = new EmbeddingHead(6, 4, 3)
    const b = new EmbeddingHead(6, 4, 9)
    const w = a.getWeights()
    b.setWeights(w)
    expect(Array.from(b.variables[0].dataSync())).toEqual(Array.from(a.variables[0].dataSync()))
    expect(() =>
      b.setWeights({ 'head/weight': tf.zeros([6, 5]), 'head/bias': tf.zeros([4]) })
    ).toThrow(/shape/)
    expect(() => b.setWeights({ 'head/bias': tf.zeros([4]) })).toThrow(/missing 'head\/weight'/)
    tf.dispose(Object.values(w))
    a.dispose()
    b.dispose()
  })
})
