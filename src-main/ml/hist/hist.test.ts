/** HistLoss behaviour beyond the oracle: stability where p_i underflows, no leaks over training, BatchNorm bookkeeping, init. */
import * as tf from '@tensorflow/tfjs'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createLoss } from '../lossRegistry'
import type { LossOptions, MetricLoss } from '../losses'
import { randn, useBackend } from '../losses/losses.testutil'
import { GroupedAdam } from '../optim'
import { mahalanobisDistances } from './distributions'
import { histForward, HistLoss } from './histLoss'

function opts(over: Partial<LossOptions> = {}): LossOptions {
  return {
    numClasses: 10,
    embeddingSize: 16,
    tau: 32,
    alpha: 0.9,
    ls: 1,
    hgnnHidden: 16,
    margin: 0,
    scale: 1,
    seed: 7,
    ...over
  }
}

/** One training step as the trainer does it: variableGrads over the loss's variables and the embeddings, then Adam. */
function trainStep(
  loss: MetricLoss,
  opt: GroupedAdam,
  x: tf.Variable,
  labels: tf.Tensor1D
): number {
  const vars = [x, ...loss.paramGroups.flatMap((g) => g.variables)]
  let parts: Record<string, tf.Scalar> = {}
  const { value, grads } = tf.variableGrads(() => {
    const out = loss.forward(x as unknown as tf.Tensor2D, labels)
    parts = Object.fromEntries(Object.entries(out.parts).map(([k, v]) => [k, tf.keep(v)]))
    return out.loss
  }, vars)
  opt.applyGradients(grads)
  const v = value.dataSync()[0]
  const finite = Object.values(grads).every((g) =>
    tf.tidy(() => tf.all(tf.isFinite(g)).dataSync()[0] === 1)
  )
  tf.dispose([value, ...Object.values(grads), ...Object.values(parts)])
  return finite ? v : NaN
}

function adamFor(loss: MetricLoss, x: tf.Variable): GroupedAdam {
  return new GroupedAdam([
    ...loss.paramGroups.map((g) => ({
      name: g.name,
      variables: g.variables,
      lr: g.name === 'distributions' ? 0.1 : 1e-3,
      weightDecay: 1e-4
    })),
    { name: 'embeddings', variables: [x], lr: 1e-2, weightDecay: 0 }
  ])
}

const live: { dispose(): void }[] = []
afterEach(() => {
  live.splice(0).forEach((o) => o.dispose())
})

describe('HistLoss', () => {
  beforeAll(async () => {
    await useBackend('wasm')
  })

  it('stays finite and trains where the official −log(softmax) underflows (huge τ, far points)', () => {
    const c = 3
    const d = 4
    const loss = createLoss(
      'hist',
      opts({ numClasses: c, embeddingSize: d, tau: 1000, hgnnHidden: 4 })
    )
    live.push(loss)
    // Class means on the axes, unit variances; every sample sits on the mean of the *next* class.
    const w = loss.getWeights()
    const eye = tf.eye(c, d)
    w['hist/means'].dispose()
    w['hist/log_vars'].dispose()
    w['hist/means'] = eye
    w['hist/log_vars'] = tf.zeros([c, d])
    loss.setWeights(w)
    tf.dispose(Object.values(w))
    const ys = [0, 1, 2, 0, 1, 2]
    const x = tf.tidy(() =>
      tf.variable(
        tf
          .oneHot(
            tf.tensor1d(
              ys.map((y) => (y + 1) % c),
              'int32'
            ),
            d
          )
          .toFloat(),
        true,
        'underflow/x'
      )
    )
    live.push(x)
    const labels = tf.tensor1d(ys, 'int32')
    live.push(labels)
    // The official form: p_i underflows to exactly 0 and −log p_i is +∞ (it then drops those samples, or NaNs on denormals).
    const naive = tf.tidy(() => {
      const p = (loss as HistLoss).params
      const dist = mahalanobisDistances(x as unknown as tf.Tensor2D, p.means, p.logVars)
      const prob = tf.sum(tf.mul(tf.softmax(tf.mul(dist, -1000)), tf.oneHot(labels, c)), 1)
      return tf.neg(tf.log(prob)).dataSync()
    })
    expect(Array.from(naive).every((v) => v === Infinity)).toBe(true)
    const opt = adamFor(loss, x)
    live.push(opt)
    const values: number[] = []
    for (let i = 0; i < 15; i++) values.push(trainStep(loss, opt, x, labels))
    expect(values.every(Number.isFinite)).toBe(true)
    expect(values[0]).toBeGreaterThan(100) // ≈ τ·Δd = 1000·2, not clipped away
    expect(values[values.length - 1]).toBeLessThan(values[0])
    for (const v of loss.paramGroups.flatMap((g) => g.variables)) {
      expect(tf.tidy(() => tf.all(tf.isFinite(v)).dataSync()[0])).toBe(1)
    }
  })

  it('leaks no tensors over 100 training steps (forward + variableGrads + GroupedAdam)', () => {
    const loss = createLoss('hist', opts())
    live.push(loss)
    const n = 16
    const x = tf.tidy(() => tf.variable(tf.tensor2d(randn(n * 16, 5), [n, 16]), true, 'leak/x'))
    live.push(x)
    const labels = tf.tensor1d(
      Array.from({ length: n }, (_, i) => i % 5),
      'int32'
    )
    live.push(labels)
    const opt = adamFor(loss, x)
    live.push(opt)
    const before = tf.memory().numTensors
    let first = NaN
    let last = NaN
    for (let i = 0; i < 100; i++) {
      last = trainStep(loss, opt, x, labels)
      if (i === 0) first = last
    }
    expect(tf.memory().numTensors).toBe(before)
    expect(Number.isFinite(last)).toBe(true)
    expect(last).toBeLessThan(first)
  })

  it('updates the BatchNorm running statistics as PyTorch (momentum 0.1, unbiased variance)', () => {
    const loss = new HistLoss(opts())
    live.push(loss)
    const n = 8
    const x = tf.tensor2d(randn(n * 16, 9), [n, 16])
    const labels = tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3], 'int32')
    live.push(x, labels)
    const stats = tf.tidy(() => {
      const out = loss.forward(x, labels)
      tf.dispose(Object.values(out.parts))
      out.loss.dispose()
      const w = loss.getWeights()
      return [
        w['hist/hgnn/bn1/running_mean'].arraySync() as number[],
        w['hist/hgnn/bn1/running_var'].arraySync() as number[]
      ]
    })
    // The batch statistics of the same (unchanged) parameters, from the pure forward.
    const { mean, variance } = tf.tidy(() => {
      const o = histForward(x, labels, loss.params, { tau: 32, alpha: 0.9, ls: 1 })
      return {
        mean: o.batchMean.arraySync() as number[],
        variance: o.batchVar.arraySync() as number[]
      }
    })
    stats[0].forEach((v, i) => expect(v).toBeCloseTo(0.1 * mean[i], 5))
    stats[1].forEach((v, i) => expect(v).toBeCloseTo(0.9 + 0.1 * variance[i] * (n / (n - 1)), 5))
  })

  it('initialises means and log-variances Kaiming-normal (fan_out) and rejects a batch of one', () => {
    const c = 100
    const loss = createLoss('hist', opts({ numClasses: c, embeddingSize: 512, hgnnHidden: 8 }))
    live.push(loss)
    const w = loss.getWeights()
    for (const k of ['hist/means', 'hist/log_vars']) {
      expect(w[k].shape).toEqual([c, 512])
      const std = tf.tidy(() => Math.sqrt(tf.moments(w[k]).variance.dataSync()[0]))
      expect(std).toBeGreaterThan(Math.sqrt(2 / c) * 0.97)
      expect(std).toBeLessThan(Math.sqrt(2 / c) * 1.03)
    }
    expect(w['hist/hgnn/theta1/weight'].shape).toEqual([8, 512])
    expect(w['hist/hgnn/theta2/weight'].shape).toEqual([c, 8])
    tf.dispose(Object.values(w))
    const x = tf.zeros([1, 512]) as tf.Tensor2D
    const y = tf.tensor1d([0], 'int32')
    expect(() => loss.forward(x, y)).toThrow(/at least 2/)
    tf.dispose([x, y])
  })
})
