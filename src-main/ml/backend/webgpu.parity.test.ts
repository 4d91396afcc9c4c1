/**
 * One training step on webgpu matches the same step on wasm: the loss, every gradient and every
 * updated weight (after the Adam update), for the HIST head with its HGNN on features, a small
 * CNN fine-tune, and MobileNetV2 with its last blocks trainable, at small shapes so that the
 * software adapter (SwiftShader) stays quick.
 *
 * Tolerances (stated once, used everywhere):
 * - loss: relative difference ≤ 1e-3;
 * - gradients: max |g_gpu − g_wasm| ≤ 2e-3 · max |g_wasm| per variable (float32 sums in another
 *   order, conv algorithms that differ between the backends);
 * - updated weights: max |w_gpu − w_wasm| ≤ 1e-2 · lr, except where the gradient itself is
 *   below the gradient tolerance: Adam's first step moves a weight by ≈ lr · sign(g), so a
 *   gradient that is zero up to rounding may legitimately move either way (≤ 2 · lr).
 */
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TrainConfig } from '../../../src-preload/contract/runs'
import { loadBackbone, type Backbone } from '../models/backbones'
import { TrainModel } from '../train/model'
import { trainStep } from '../train/step'
import { initBackend } from '.'
import { webgpuTestEnv } from './webgpuEnv.testutil'

const skip = webgpuTestEnv()
if (skip) console.warn(`webgpu parity tests skipped: ${skip}`)

const LOSS_RTOL = 1e-3
const GRAD_RTOL = 2e-3
const LR = 1e-3

interface Case {
  cfg: TrainConfig
  backbone: () => Promise<Backbone | null>
  inChannels: number
  numClasses: number
  x: () => tf.Tensor
  labels: number[]
  /** Which backbone variables are trained (all when undefined). */
  backboneVars?: (all: tf.Variable[]) => tf.Variable[]
}

interface Outcome {
  loss: number
  grads: Record<string, Float32Array>
  before: Record<string, Float32Array>
  after: Record<string, Float32Array>
}

/** Plain copies of the variables, by a name that is the same on both backends (the order). */
async function read(vars: tf.Variable[]): Promise<Record<string, Float32Array>> {
  const datas = await Promise.all(vars.map((v) => v.data()))
  return Object.fromEntries(
    vars.map((v, i) => [`${i}:${v.shape.join('x')}`, datas[i] as Float32Array])
  )
}

/** Builds the case on the active backend and runs one step: gradients, then trainStep. */
async function runCase(c: Case): Promise<Outcome> {
  const backbone = await c.backbone()
  const model = new TrainModel(c.cfg, {
    backbone,
    inChannels: backbone?.featureChannels ?? c.inChannels,
    numClasses: c.numClasses
  })
  const x = c.x()
  const y = tf.tensor1d(c.labels, 'int32')
  try {
    const head = model.trainableVariables(0)
    const bbAll = backbone && !c.cfg.frozen ? backbone.trainableVariables() : []
    const vars = [...head, ...(c.backboneVars ? c.backboneVars(bbAll) : bbAll)]
    const before = await read(vars)
    const g = tf.variableGrads(() => model.loss.forward(model.embed(x, true), y).loss, vars)
    const gradList = vars.map((v) => g.grads[v.name])
    const gData = await Promise.all(gradList.map((t) => t.data()))
    tf.dispose([g.value, ...gradList])
    const grads = Object.fromEntries(
      Object.keys(before).map((k, i) => [k, gData[i] as Float32Array])
    )
    const res = await trainStep(model, x, y, vars, 0)
    const after = await read(vars)
    return { loss: res.loss, grads, before, after }
  } finally {
    tf.dispose([x, y])
    model.dispose()
    backbone?.dispose()
  }
}

function maxAbs(a: Float32Array): number {
  let m = 0
  for (const v of a) m = Math.max(m, Math.abs(v))
  return m
}

function compare(ref: Outcome, gpu: Outcome, lr: number): void {
  expect(Number.isFinite(gpu.loss)).toBe(true)
  expect(Math.abs(gpu.loss - ref.loss)).toBeLessThanOrEqual(
    LOSS_RTOL * Math.max(1, Math.abs(ref.loss))
  )
  for (const k of Object.keys(ref.grads)) {
    // The same starting weights on both backends (seeded initialisers run in JS).
    expect(maxAbs(ref.before[k].map((v, i) => v - gpu.before[k][i])), `start ${k}`).toBe(0)
    const r = ref.grads[k]
    const tol = GRAD_RTOL * Math.max(maxAbs(r), 1e-6)
    let worst = 0
    for (let i = 0; i < r.length; i++) worst = Math.max(worst, Math.abs(gpu.grads[k][i] - r[i]))
    expect(worst, `gradient ${k}`).toBeLessThanOrEqual(tol)
    const wr = ref.after[k]
    const wg = gpu.after[k]
    for (let i = 0; i < wr.length; i++) {
      const d = Math.abs(wg[i] - wr[i])
      const bound = Math.abs(r[i]) <= tol ? 2 * lr + 1e-6 : 1e-2 * lr + 1e-6
      if (d > bound) expect(d, `updated weight ${k}[${i}] (g=${r[i]})`).toBeLessThanOrEqual(bound)
    }
  }
}

function config(over: Record<string, unknown>): TrainConfig {
  return TrainConfig.parse({ datasetId: 1, lr: LR, seed: 5, warm: 0, ...over })
}

/** Runs a case on wasm, then on webgpu, and compares; leaves no tensors behind. */
async function parity(c: Case): Promise<void> {
  await initBackend({ only: ['wasm'] })
  const before = tf.memory().numTensors
  const ref = await runCase(c)
  expect(tf.memory().numTensors).toBe(before)
  const report = await initBackend({ only: ['webgpu'] })
  expect(report.active).toBe('webgpu')
  const gpuBefore = tf.memory().numTensors
  const gpu = await runCase(c)
  expect(tf.memory().numTensors).toBe(gpuBefore)
  compare(ref, gpu, c.cfg.lr)
}

const seeded = (shape: number[], seed: number) => () =>
  tf.randomUniform(shape, 0, 1, 'float32', seed)

describe.skipIf(skip !== null)('one training step: webgpu matches wasm', () => {
  beforeAll(async () => {
    const r = await initBackend({ only: ['webgpu'] })
    expect(r.adapter).toBeDefined()
  })
  afterAll(async () => {
    await initBackend({ only: ['wasm'] })
  })

  it('HIST head with the HGNN on features (frozen backbone)', async () => {
    await parity({
      cfg: config({ loss: 'hist', frozen: true, embeddingSize: 32, hgnnHidden: 16 }),
      backbone: async () => null,
      inChannels: 48,
      numClasses: 4,
      x: seeded([16, 48], 11),
      labels: [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]
    })
  }, 600_000)

  it('small-CNN fine-tune (backbone and head, 32 px)', async () => {
    await parity({
      cfg: config({
        loss: 'hist',
        frozen: false,
        embeddingSize: 16,
        hgnnHidden: 8,
        backbone: { kind: 'small-cnn', inputSize: 32 }
      }),
      backbone: () =>
        loadBackbone({ kind: 'small-cnn', inputSize: 32 }, { modelsDir: '/nonexistent', seed: 5 }),
      inChannels: 0,
      numClasses: 3,
      x: seeded([6, 32, 32, 3], 12),
      labels: [0, 0, 1, 1, 2, 2]
    })
  }, 600_000)

  it('MobileNetV2 with its last blocks trainable (4 images at 32 px)', async () => {
    await parity({
      cfg: config({ loss: 'hist', frozen: false, embeddingSize: 16, hgnnHidden: 8 }),
      backbone: () => loadBackbone({ kind: 'mobilenetv2' }, { modelsDir: '/nonexistent' }),
      inChannels: 1280,
      numClasses: 2,
      x: seeded([4, 32, 32, 3], 13),
      labels: [0, 0, 1, 1],
      // The last two inverted-residual blocks and the final 1×1 conv (8 conv kernels).
      backboneVars: (all) => all.slice(-8)
    })
  }, 600_000)
})
