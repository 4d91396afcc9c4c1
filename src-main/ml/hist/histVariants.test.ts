/** The ablation switches of the HIST loss: CE only (no L_ds), and a plain graph instead of the hypergraph. */
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { createLoss } from '../lossRegistry'
import type { LossOptions } from '../losses'
import { randn, useBackend } from '../losses/losses.testutil'
import { histForward, HistLoss } from './histLoss'
import { pairwisePropagationMatrix } from './hypergraph'

function opts(over: Partial<LossOptions> = {}): LossOptions {
  return {
    numClasses: 5,
    embeddingSize: 8,
    tau: 16,
    alpha: 0.9,
    ls: 0.7,
    hgnnHidden: 8,
    margin: 0,
    scale: 1,
    seed: 3,
    ...over
  }
}

const N = 6
const labelsArr = [0, 0, 1, 1, 3, 3]

describe('HIST ablation switches', () => {
  beforeAll(async () => {
    await useBackend('cpu')
  })

  it('histDs off: the total is λs·CE alone; on: L_ds + λs·CE', () => {
    const before = tf.memory().numTensors
    const full = createLoss('hist', opts()) as HistLoss
    const ceOnly = createLoss('hist', opts({ histDs: false, scope: 'ceonly' })) as HistLoss
    const x = tf.tensor2d(randn(N * 8, 11), [N, 8])
    const y = tf.tensor1d(labelsArr, 'int32')
    const a = full.forward(x, y)
    const b = ceOnly.forward(x, y)
    const [loss, lds, ce] = [a.loss, a.parts.lds, a.parts.ce].map((t) => t.dataSync()[0])
    const [lossB, ceB] = [b.loss, b.parts.ce].map((t) => t.dataSync()[0])
    expect(loss).toBeCloseTo(lds + 0.7 * ce, 5)
    expect(ceB).toBeCloseTo(ce, 5) // same seed, same parameters, same CE
    expect(lossB).toBeCloseTo(0.7 * ce, 5)
    expect(lossB).not.toBeCloseTo(loss, 3)
    tf.dispose([x, y, a.loss, b.loss, ...Object.values(a.parts), ...Object.values(b.parts)])
    full.dispose()
    ceOnly.dispose()
    expect(tf.memory().numTensors).toBe(before)
  })

  it('histDs off still trains the distributions through the hypergraph (their gradient is non-zero)', () => {
    const loss = createLoss('hist', opts({ histDs: false })) as HistLoss
    const x = tf.tensor2d(randn(N * 8, 12), [N, 8])
    const y = tf.tensor1d(labelsArr, 'int32')
    const means = loss.paramGroups.find((g) => g.name === 'distributions')!.variables
    const { value, grads } = tf.variableGrads(() => loss.forward(x, y).loss, means)
    const norm = Object.values(grads).reduce((s, g) => s + tf.norm(g).dataSync()[0], 0)
    expect(norm).toBeGreaterThan(0)
    tf.dispose([x, y, value, ...Object.values(grads)])
    loss.dispose()
  })

  it('refuses a HIST with neither term', () => {
    expect(() => createLoss('hist', opts({ histDs: false, ls: 0 }))).toThrow(/no loss to train/)
  })

  it('the plain graph matches a loop-by-loop GCN normalisation of A[i,j] = H[i, y_j]', () => {
    const h = [
      [1, 0.2, 0, 0.5],
      [1, 0.4, 0, 0.1],
      [0.3, 1, 0, 0.2],
      [0.6, 0.1, 0, 1]
    ]
    const y = [0, 0, 1, 3]
    const oneHot = y.map((c) => [0, 1, 2, 3].map((k) => (k === c ? 1 : 0)))
    const got = tf.tidy(() =>
      pairwisePropagationMatrix(tf.tensor2d(h), tf.tensor2d(oneHot)).arraySync()
    )
    const n = y.length
    const a = [...Array(n)].map((_, i) =>
      [...Array(n)].map((_, j) => (h[i][y[j]] + h[j][y[i]]) / 2)
    )
    const deg = a.map((r) => r.reduce((s, v) => s + v, 0))
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        expect(got[i][j]).toBeCloseTo(a[i][j] / Math.sqrt(deg[i] * deg[j]), 6)
        expect(got[i][j]).toBeCloseTo(got[j][i], 6)
      }
  })

  it("histGraph 'graph' changes the HGNN's logits but not L_ds", () => {
    const loss = createLoss('hist', opts()) as HistLoss
    const x = tf.tensor2d(randn(N * 8, 13), [N, 8])
    const y = tf.tensor1d(labelsArr, 'int32')
    const cfg = { tau: 16, alpha: 0.9, ls: 0.7 }
    const hyper = histForward(x, y, loss.params, { ...cfg, graph: 'hypergraph' })
    const plain = histForward(x, y, loss.params, { ...cfg, graph: 'graph' })
    expect(plain.lds.dataSync()[0]).toBeCloseTo(hyper.lds.dataSync()[0], 6)
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(plain.logits, hyper.logits))).dataSync()[0])
    expect(diff).toBeGreaterThan(1e-4)
    expect(Number.isFinite(plain.loss.dataSync()[0])).toBe(true)
    tf.dispose([x, y, ...Object.values(hyper), ...Object.values(plain)])
    loss.dispose()
  })
})
