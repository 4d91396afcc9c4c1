/**
 * HIST against the authors' PyTorch code: every fixture in HIST_ORACLE_DIR (default
 * ../shared/fixtures/hist-oracle beside the repo) is compared — forward values and the gradient
 * of the total loss w.r.t. every input — on the wasm and cpu backends.
 */
import * as tf from '@tensorflow/tfjs'
import { describe, expect, it, beforeAll } from 'vitest'
import { createLoss } from '../lossRegistry'
import { closeness, flat, useBackend } from '../losses/losses.testutil'
import { classesWithinBatch, compactIncidence, histForward, type HistParams } from './index'
import { histOracleDir, loadHistFixtures, type HistFixture } from './oracle'

const fixtures = loadHistFixtures()
const GRAD_INPUTS = [
  'X',
  'means',
  'log_vars',
  'theta1_weight',
  'theta1_bias',
  'bn1_weight',
  'bn1_bias',
  'theta2_weight',
  'theta2_bias'
] as const
type Inputs9 = [
  tf.Tensor,
  tf.Tensor,
  tf.Tensor,
  tf.Tensor,
  tf.Tensor,
  tf.Tensor,
  tf.Tensor,
  tf.Tensor,
  tf.Tensor
]

/** Asserts closeness with a message that says which quantity of which fixture failed. */
function expectClose(what: string, actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  const bad = closeness(actual, expected)
  expect(bad, `${what}: ${JSON.stringify(bad)}`).toBeNull()
}

/** Builds the loss from PyTorch-layout tensors, transposing into the internal layouts. */
function lossFrom(fx: HistFixture, labels: tf.Tensor1D) {
  return (
    x: tf.Tensor,
    means: tf.Tensor,
    logVars: tf.Tensor,
    w1: tf.Tensor,
    b1: tf.Tensor,
    g: tf.Tensor,
    b: tf.Tensor,
    w2: tf.Tensor,
    b2: tf.Tensor
  ) => {
    const p: HistParams = {
      means: means as tf.Tensor2D,
      logVars: logVars as tf.Tensor2D,
      hgnn: {
        w1t: tf.transpose(w1) as tf.Tensor2D,
        b1: b1 as tf.Tensor1D,
        gamma: g as tf.Tensor1D,
        beta: b as tf.Tensor1D,
        w2: w2 as tf.Tensor2D,
        b2: b2 as tf.Tensor1D
      }
    }
    return histForward(x as tf.Tensor2D, labels, p, fx.config)
  }
}

describe('HIST oracle fixtures', () => {
  it(`finds fixtures in ${histOracleDir()}`, () => {
    expect(fixtures.length).toBeGreaterThan(0)
  })

  for (const backend of ['wasm', 'cpu'] as const) {
    describe(`on ${backend}`, () => {
      beforeAll(async () => {
        await useBackend(backend)
      })

      for (const fx of fixtures) {
        it(`${fx.file}: forward values match the official code`, () => {
          const before = tf.memory().numTensors
          const labels = tf.tensor1d(fx.inputs.T, 'int32')
          const inputs = GRAD_INPUTS.map((k) => tf.tensor(fx.inputs[k] as number[]))
          const out = tf.tidy(() => ({ ...lossFrom(fx, labels)(...(inputs as Inputs9)) }))
          const classes = classesWithinBatch(fx.inputs.T)
          expect(classes).toEqual(fx.outputs.class_within_batch)
          const compact = compactIncidence(out.H, classes)
          expectClose('dist_loss', out.lds.dataSync(), [fx.outputs.dist_loss])
          expectClose('H', compact.dataSync(), flat(fx.outputs.H))
          expectClose('G', out.G.dataSync(), flat(fx.outputs.G))
          expectClose('logits', out.logits.dataSync(), flat(fx.outputs.logits))
          expectClose('ce_loss', out.ce.dataSync(), [fx.outputs.ce_loss])
          expectClose('loss', out.loss.dataSync(), [fx.outputs.loss])
          // Columns of classes absent from the batch carry no hyperedge.
          const absent = Array.from({ length: fx.config.nb_classes }, (_, c) => c).filter(
            (c) => !classes.includes(c)
          )
          const absentCols = compactIncidence(out.H, absent)
          if (absent.length) expect(Math.max(...absentCols.dataSync())).toBe(0)
          tf.dispose([labels, ...inputs, compact, absentCols, ...Object.values(out)])
          expect(tf.memory().numTensors).toBe(before)
        })

        it(`${fx.file}: gradients of the total loss match the official code`, () => {
          const before = tf.memory().numTensors
          const labels = tf.tensor1d(fx.inputs.T, 'int32')
          const inputs = GRAD_INPUTS.map((k) => tf.tensor(fx.inputs[k] as number[]))
          const f = lossFrom(fx, labels)
          const grads = tf.grads((...xs: tf.Tensor[]) => {
            return f(...(xs as Inputs9)).loss
          })(inputs)
          GRAD_INPUTS.forEach((k, i) => {
            expect(grads[i].shape).toEqual(inputs[i].shape)
            expectClose(`grad ${k}`, grads[i].dataSync(), flat(fx.grads[k]))
          })
          tf.dispose([labels, ...inputs, ...grads])
          expect(tf.memory().numTensors).toBe(before)
        })
      }
    })
  }
})

describe('HistLoss (the MetricLoss) on the oracle fixtures', () => {
  beforeAll(async () => {
    await useBackend('wasm')
  })

  /** Fixture inputs keyed by HistLoss's checkpoint names (PyTorch layouts). */
  const weightNames: Record<string, string> = {
    means: 'hist/means',
    log_vars: 'hist/log_vars',
    theta1_weight: 'hist/hgnn/theta1/weight',
    theta1_bias: 'hist/hgnn/theta1/bias',
    bn1_weight: 'hist/hgnn/bn1/weight',
    bn1_bias: 'hist/hgnn/bn1/bias',
    theta2_weight: 'hist/hgnn/theta2/weight',
    theta2_bias: 'hist/hgnn/theta2/bias'
  }

  for (const fx of fixtures) {
    it(`${fx.file}: setWeights + forward + variableGrads reproduce the official loss and gradients`, () => {
      const c = fx.config
      const loss = createLoss('hist', {
        numClasses: c.nb_classes,
        embeddingSize: c.sz_embed,
        hgnnHidden: c.hgnn_hidden,
        tau: c.tau,
        alpha: c.alpha,
        ls: c.ls,
        margin: 0,
        scale: 1,
        seed: 0
      })
      try {
        const before = tf.memory().numTensors
        const w = loss.getWeights()
        for (const [k, name] of Object.entries(weightNames)) {
          w[name].dispose()
          w[name] = tf.tensor(fx.inputs[k] as number[])
        }
        loss.setWeights(w)
        tf.dispose(Object.values(w))
        const x = tf.tidy(() =>
          tf.variable(tf.tensor2d(fx.inputs.X as number[][]), true, 'oracle/X')
        )
        const labels = tf.tensor1d(fx.inputs.T, 'int32')
        const vars = [x, ...loss.paramGroups.flatMap((g) => g.variables)]
        let parts: Record<string, tf.Scalar> = {}
        const { value, grads } = tf.variableGrads(() => {
          const out = loss.forward(x as unknown as tf.Tensor2D, labels)
          parts = { lds: tf.keep(out.parts.lds), ce: tf.keep(out.parts.ce) }
          return out.loss
        }, vars)
        expectClose('loss', value.dataSync(), [fx.outputs.loss])
        expectClose('lds', parts.lds.dataSync(), [fx.outputs.dist_loss])
        expectClose('ce', parts.ce.dataSync(), [fx.outputs.ce_loss])
        expectClose('grad X', grads['oracle/X'].dataSync(), flat(fx.grads.X))
        for (const [k, name] of Object.entries(weightNames)) {
          const g = grads[name]
          // Linear_1's weight is held transposed; compare in PyTorch layout.
          const pt = k === 'theta1_weight' ? tf.transpose(g) : g.clone()
          expectClose(`grad ${k}`, pt.dataSync(), flat(fx.grads[k]))
          pt.dispose()
        }
        tf.dispose([x, labels, value, ...Object.values(grads), ...Object.values(parts)])
        expect(tf.memory().numTensors).toBe(before)
      } finally {
        loss.dispose()
        tf.engine().registeredVariables['oracle/X']?.dispose()
      }
    })
  }
})
