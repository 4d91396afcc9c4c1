/**
 * Each baseline loss against a naive loop-by-loop plain-JS version of itself: values, and
 * gradients against central finite differences of the naive version. Plus the shared
 * MetricLoss plumbing (input checks, names, weights I/O, disposal).
 */
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { createLoss, LOSS_NAMES } from '../lossRegistry'
import type { LossName, LossOptions, MetricLoss } from './index'
import {
  naiveMultiSimilarity,
  naiveNormalizedSoftmax,
  naiveProxyAnchor,
  naiveTripletSemiHard
} from './reference'
import { closeness, randn, rng, useBackend } from './losses.testutil'

const N = 12
const D = 6
const C = 5

function opts(over: Partial<LossOptions> = {}): LossOptions {
  return {
    numClasses: C,
    embeddingSize: D,
    tau: 32,
    alpha: 0.9,
    ls: 1,
    hgnnHidden: 8,
    margin: 0.2,
    scale: 16,
    seed: 3,
    ...over
  }
}

/** Random batch with every present class appearing at least twice. */
function batch(seed: number): { x: number[][]; y: number[] } {
  const r = rng(seed)
  const y = Array.from({ length: N }, (_, i) => (i < 2 * 3 ? i % 3 : Math.floor(r() * C)))
  const flat = randn(N * D, seed + 1)
  const x = Array.from({ length: N }, (_, i) => flat.slice(i * D, (i + 1) * D))
  return { x, y }
}

type Naive = (x: number[][], y: number[], proxies: number[][]) => number

const cases: { name: Exclude<LossName, 'hist'>; naive: Naive; o?: Partial<LossOptions> }[] = [
  { name: 'normalized-softmax', naive: (x, y, p) => naiveNormalizedSoftmax(x, y, p, 16) },
  { name: 'proxy-anchor', naive: (x, y, p) => naiveProxyAnchor(x, y, p) },
  { name: 'multi-similarity', naive: (x, y) => naiveMultiSimilarity(x, y) },
  { name: 'triplet', naive: (x, y) => naiveTripletSemiHard(x, y, 0.2) }
]

/** PyTorch-layout proxies of a loss ([] for parameter-free losses). */
function proxiesOf(loss: MetricLoss): number[][] {
  const w = loss.getWeights()
  const t = Object.values(w)[0]
  const out = t ? (t.arraySync() as number[][]) : []
  tf.dispose(Object.values(w))
  return out
}

/** Central finite differences of f at x (float64). */
function numericGrad(f: (x: number[][]) => number, x: number[][], h = 1e-5): number[] {
  const g: number[] = []
  for (let i = 0; i < x.length; i++) {
    for (let j = 0; j < x[i].length; j++) {
      const xp = x.map((r) => [...r])
      const xm = x.map((r) => [...r])
      xp[i][j] += h
      xm[i][j] -= h
      g.push((f(xp) - f(xm)) / (2 * h))
    }
  }
  return g
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`baseline losses on ${backend}`, () => {
    beforeAll(async () => {
      await useBackend(backend)
    })

    for (const c of cases) {
      for (const seed of [11, 22, 33]) {
        it(`${c.name} (seed ${seed}) equals its naive loop version, value and gradients`, () => {
          const before = tf.memory().numTensors
          const loss = createLoss(c.name, opts({ seed, ...c.o }))
          const { x, y } = batch(seed)
          const proxies = proxiesOf(loss)
          const xt = tf.tensor2d(x)
          const yt = tf.tensor1d(y, 'int32')
          const varList = loss.paramGroups.flatMap((g) => g.variables)
          const { value, grads } = varList.length
            ? tf.variableGrads(() => loss.forward(xt, yt).loss, varList)
            : {
                value: tf.tidy(() => loss.forward(xt, yt).loss),
                grads: {} as Record<string, tf.Tensor>
              }
          const expected = c.naive(x, y, proxies)
          expect(closeness(value.dataSync(), [expected], 1e-4, 1e-6)).toBeNull()
          // d loss / d embeddings
          const gx = tf.grad((e: tf.Tensor) => loss.forward(e as tf.Tensor2D, yt).loss)(xt)
          const numX = numericGrad((xx) => c.naive(xx, y, proxies), x)
          expect(closeness(gx.dataSync(), numX, 2e-3, 2e-5), 'grad wrt embeddings').toBeNull()
          // d loss / d proxies (proxies are [C, D], as the naive version)
          if (varList.length) {
            const gp = grads[varList[0].name].clone()
            const numP = numericGrad((pp) => c.naive(x, y, pp), proxies)
            expect(closeness(gp.dataSync(), numP, 2e-3, 2e-5), 'grad wrt proxies').toBeNull()
            gp.dispose()
          }
          tf.dispose([xt, yt, value, gx, ...Object.values(grads)])
          loss.dispose()
          expect(tf.memory().numTensors).toBe(before)
        })
      }
    }

    it('mining changes the multi-similarity and triplet values (the naive check is not vacuous)', () => {
      const { x, y } = batch(5)
      // Without mining every pair would count; the mined versions must differ from that.
      expect(naiveMultiSimilarity(x, y, 2, 50, 0.5, 10)).not.toBeCloseTo(
        naiveMultiSimilarity(x, y),
        6
      )
      expect(naiveTripletSemiHard(x, y, 0.2)).toBeGreaterThan(0)
    })
  })
}

describe('MetricLoss plumbing', () => {
  beforeAll(async () => {
    await useBackend('wasm')
  })

  it('creates every loss with unique, stable, prefixed variable names and the right groups', () => {
    const expectGroups: Record<LossName, string[]> = {
      hist: ['distributions', 'hgnn'],
      'proxy-anchor': ['proxies'],
      'normalized-softmax': ['proxies'],
      'multi-similarity': [],
      triplet: []
    }
    for (const name of LOSS_NAMES) {
      const loss = createLoss(name, opts())
      expect(loss.name).toBe(name)
      expect(loss.paramGroups.map((g) => g.name)).toEqual(expectGroups[name])
      const names = loss.paramGroups.flatMap((g) => g.variables.map((v) => v.name))
      expect(new Set(names).size).toBe(names.length)
      for (const n of names) expect(n.startsWith(`${name}/`)).toBe(true)
      loss.dispose()
      // Same names again after dispose: stable across instances.
      const again = createLoss(name, opts())
      expect(again.paramGroups.flatMap((g) => g.variables.map((v) => v.name))).toEqual(names)
      again.dispose()
    }
  })

  it('refuses a second live loss with the same names unless scoped', () => {
    const a = createLoss('proxy-anchor', opts())
    expect(() => createLoss('proxy-anchor', opts())).toThrow(/already in use/)
    const b = createLoss('proxy-anchor', opts({ scope: 'other' }))
    expect(b.paramGroups[0].variables[0].name).toBe('other/proxies')
    a.dispose()
    b.dispose()
  })

  it('checks inputs: shape, dtype, size and label range', () => {
    const loss = createLoss('triplet', opts())
    const x = tf.zeros([4, D]) as tf.Tensor2D
    const bad = [
      [tf.zeros([4, D + 1]), tf.tensor1d([0, 1, 0, 1], 'int32'), /embedding size/],
      [x, tf.tensor1d([0, 1, 0], 'int32'), /labels must be \[4\]/],
      [x, tf.tensor1d([0, 1, 0, 1], 'float32'), /int32/],
      [x, tf.tensor1d([0, 1, 0, C], 'int32'), /outside \[0, 5\)/],
      [x, tf.tensor1d([0, -1, 0, 1], 'int32'), /outside/]
    ] as const
    for (const [e, l, re] of bad)
      expect(() => loss.forward(e as tf.Tensor2D, l as tf.Tensor1D)).toThrow(re)
    tf.dispose([x, ...bad.flatMap(([e, l]) => [e, l])])
    expect(() => createLoss('normalized-softmax', opts({ scale: 0 }))).toThrow(/scale/)
    expect(() => createLoss('hist', opts({ numClasses: 0 }))).toThrow(/numClasses/)
    expect(() => createLoss('nope' as LossName, opts())).toThrow(/unknown loss/)
    loss.dispose()
  })

  it('round-trips weights through getWeights/setWeights in PyTorch layout', () => {
    const a = createLoss('normalized-softmax', opts({ seed: 1 }))
    const w = a.getWeights()
    expect(w['normalized-softmax/proxies'].shape).toEqual([C, D])
    a.dispose()
    const b = createLoss('normalized-softmax', opts({ seed: 2 }))
    const before = b.getWeights()
    expect(Array.from(before['normalized-softmax/proxies'].dataSync())).not.toEqual(
      Array.from(w['normalized-softmax/proxies'].dataSync())
    )
    b.setWeights(w)
    const after = b.getWeights()
    expect(Array.from(after['normalized-softmax/proxies'].dataSync())).toEqual(
      Array.from(w['normalized-softmax/proxies'].dataSync())
    )
    expect(() => b.setWeights({})).toThrow(/missing/)
    const wrong = tf.zeros([D, C])
    expect(() => b.setWeights({ 'normalized-softmax/proxies': wrong })).toThrow(/shape/)
    tf.dispose([...Object.values(w), ...Object.values(before), ...Object.values(after), wrong])
    b.dispose()
  })

  it('dispose frees every tensor of every loss', () => {
    const start = tf.memory().numTensors
    for (const name of LOSS_NAMES) createLoss(name, opts()).dispose()
    expect(tf.memory().numTensors).toBe(start)
  })
})
