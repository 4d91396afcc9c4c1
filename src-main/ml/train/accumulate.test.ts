import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TrainConfig, type TrainConfigInput } from '../../../src-preload/contract/runs'
import { initBackend } from '../backend'
import { loadBackbone, type Backbone } from '../models/backbones'
import { createRng } from '../util/rng'
import { memoryRisk, microBatches, resolveMicroBatch } from './accumulate'
import { fit } from './loop'
import { TrainModel } from './model'
import { computeGrads, trainStep } from './step'

// A small CNN fine-tuned with frozen BN (the HIST default) at 16 px, HIST loss, batch 12.
const S = 16
const N = 12
const C = 4

function config(over: Partial<TrainConfigInput> = {}): TrainConfig {
  return TrainConfig.parse({
    datasetId: 1,
    backbone: { kind: 'small-cnn', inputSize: S },
    frozen: false,
    bnFreeze: true,
    warm: 0,
    embeddingSize: 16,
    hgnnHidden: 8,
    batchSize: N,
    lr: 1e-2,
    seed: 3,
    ...over
  })
}

async function setup(
  over: Partial<TrainConfigInput> = {}
): Promise<{ model: TrainModel; backbone: Backbone }> {
  const backbone = await loadBackbone(
    { kind: 'small-cnn', inputSize: S },
    { modelsDir: '/nonexistent', seed: 2 }
  )
  const model = new TrainModel(config(over), {
    backbone,
    inChannels: backbone.featureChannels,
    numClasses: C
  })
  return { model, backbone }
}

const images = (seed: number, n = N): tf.Tensor4D =>
  tf.randomNormal([n, S, S, 3], 0, 1, 'float32', seed) as tf.Tensor4D
const labelsOf = (n = N): tf.Tensor1D =>
  tf.tensor1d(
    Array.from({ length: n }, (_, i) => i % C),
    'int32'
  )

/** Loss and gradients (plain arrays by variable name) of one batch, all tensors freed. */
async function gradsOf(
  model: TrainModel,
  x: tf.Tensor,
  y: tf.Tensor1D,
  micro?: number
): Promise<{ loss: number; grads: Record<string, Float32Array> }> {
  const kept: Record<string, tf.Scalar> = {}
  const { value, grads } = computeGrads(model, x, y, model.trainableVariables(0), kept, micro)
  const out: Record<string, Float32Array> = {}
  for (const [k, g] of Object.entries(grads)) out[k] = (await g.data()) as Float32Array
  const loss = (await value.data())[0]
  tf.dispose([value, ...Object.values(grads), ...Object.values(kept)])
  return { loss, grads: out }
}

beforeAll(async () => {
  await initBackend()
})
afterAll(() => {
  tf.disposeVariables()
})

describe('gradient cache (micro-batched steps)', () => {
  it('gives the gradient of the whole-batch HIST loss: every variable within 1e-4 of its largest entry', async () => {
    const { model, backbone } = await setup()
    const x = images(1)
    const y = labelsOf()
    try {
      const full = await gradsOf(model, x, y)
      // 5 does not divide 12: micro-batches of 5, 5 and 2.
      for (const micro of [5, 4, 1]) {
        const acc = await gradsOf(model, x, y, micro)
        expect(Math.abs(acc.loss - full.loss)).toBeLessThan(1e-5 * Math.abs(full.loss))
        expect(Object.keys(acc.grads).sort()).toEqual(Object.keys(full.grads).sort())
        const bbNames = new Set(backbone.trainableVariables().map((v) => v.name))
        expect(Object.keys(acc.grads).filter((k) => bbNames.has(k))).toHaveLength(bbNames.size)
        for (const [k, g] of Object.entries(full.grads)) {
          const a = acc.grads[k]
          const scale = Math.max(...g.map(Math.abs))
          expect(scale, k).toBeGreaterThan(0)
          let worst = 0
          for (let i = 0; i < g.length; i++) worst = Math.max(worst, Math.abs(a[i] - g[i]))
          expect(worst / scale, `${k} (micro ${micro})`).toBeLessThan(1e-4)
        }
      }
    } finally {
      tf.dispose([x, y])
      model.dispose()
      backbone.dispose()
    }
  })

  it('in a warm-up epoch (backbone not trained) gives the same head and loss gradients', async () => {
    const { model, backbone } = await setup({ warm: 1 })
    const x = images(5)
    const y = labelsOf()
    try {
      const vars = model.trainableVariables(0)
      const read = async (micro?: number): Promise<Record<string, Float32Array>> => {
        const kept: Record<string, tf.Scalar> = {}
        const g = computeGrads(model, x, y, vars, kept, micro)
        const out: Record<string, Float32Array> = {}
        for (const [k, t] of Object.entries(g.grads)) out[k] = (await t.data()) as Float32Array
        tf.dispose([g.value, ...Object.values(g.grads), ...Object.values(kept)])
        return out
      }
      const full = await read()
      const acc = await read(5)
      expect(Object.keys(acc).sort()).toEqual(Object.keys(full).sort())
      const bbNames = new Set(backbone.trainableVariables().map((v) => v.name))
      expect(Object.keys(acc).some((k) => bbNames.has(k))).toBe(false)
      for (const [k, g] of Object.entries(full)) {
        const scale = Math.max(...g.map(Math.abs))
        const worst = Math.max(...g.map((v, i) => Math.abs(acc[k][i] - v)))
        expect(worst / scale, k).toBeLessThan(1e-4)
      }
    } finally {
      tf.dispose([x, y])
      model.dispose()
      backbone.dispose()
    }
  })

  it('is NOT the same as summing micro-batch losses (which is why the cache exists)', async () => {
    const { model, backbone } = await setup()
    const x = images(2)
    const y = labelsOf()
    try {
      const full = await gradsOf(model, x, y)
      // Plain accumulation: the mean of the two half-batch losses' gradients.
      const xa = tf.slice(x, 0, N / 2)
      const xb = tf.slice(x, N / 2, N / 2)
      const ya = tf.slice(y, 0, N / 2)
      const yb = tf.slice(y, N / 2, N / 2)
      const a = await gradsOf(model, xa, ya)
      const b = await gradsOf(model, xb, yb)
      tf.dispose([xa, xb, ya, yb])
      const k = Object.keys(full.grads).find((n) => n.includes('conv1'))!
      const g = full.grads[k]
      const scale = Math.max(...g.map(Math.abs))
      let worst = 0
      for (let i = 0; i < g.length; i++)
        worst = Math.max(worst, Math.abs((a.grads[k][i] + b.grads[k][i]) / 2 - g[i]))
      expect(worst / scale).toBeGreaterThan(1e-2)
    } finally {
      tf.dispose([x, y])
      model.dispose()
      backbone.dispose()
    }
  })

  it('frees every tensor it makes (numTensors unchanged after a micro-batched step)', async () => {
    const { model, backbone } = await setup()
    const x = images(3)
    const y = labelsOf()
    try {
      const vars = model.trainableVariables(0)
      // The first step creates Adam's moment tensors; count from the second.
      await trainStep(model, x, y, vars, 0, 5)
      const before = tf.memory().numTensors
      await trainStep(model, x, y, vars, 1, 5)
      await trainStep(model, x, y, vars, 2, 3)
      expect(tf.memory().numTensors).toBe(before)
      // The gradient computation alone: only the returned tensors outlive it.
      const kept: Record<string, tf.Scalar> = {}
      const g = computeGrads(model, x, y, vars, kept, 4)
      expect(tf.memory().numTensors).toBe(
        before + 1 + Object.keys(g.grads).length + Object.keys(kept).length
      )
      tf.dispose([g.value, ...Object.values(g.grads), ...Object.values(kept)])
      expect(tf.memory().numTensors).toBe(before)
    } finally {
      tf.dispose([x, y])
      model.dispose()
      backbone.dispose()
    }
  })

  it('takes the same optimiser step as one whole batch (weights after 2 steps within 2e-3 × lr)', async () => {
    const run = async (micro?: number): Promise<Float32Array[]> => {
      const { model, backbone } = await setup()
      const x = images(4)
      const y = labelsOf()
      try {
        const vars = model.trainableVariables(0)
        for (let s = 0; s < 2; s++) await trainStep(model, x, y, vars, s, micro)
        return await Promise.all(vars.map(async (v) => (await v.data()) as Float32Array))
      } finally {
        tf.dispose([x, y])
        model.dispose()
        backbone.dispose()
      }
    }
    const full = await run()
    const acc = await run(5)
    const lr = config().lr
    full.forEach((w, i) => {
      let worst = 0
      for (let j = 0; j < w.length; j++) worst = Math.max(worst, Math.abs(acc[i][j] - w[j]))
      // Adam moves each weight by about lr per step whatever the gradient's size, so float
      // rounding in tiny gradients shows up as ~3e-4 × lr here; a wrong gradient would be ~lr.
      expect(worst).toBeLessThan(2e-3 * lr)
    })
  })

  it('trains a small fine-tune run with accumulation through the loop', async () => {
    const { model, backbone } = await setup({ warm: 1, epochs: 2 })
    const rng = createRng(9)
    const n = 36
    const labels = Int32Array.from({ length: n }, (_, i) => i % C)
    const pixels = Float32Array.from({ length: n * S * S * 3 }, () => rng.normal())
    const losses: number[] = []
    try {
      const conv1 = async (): Promise<Float32Array> => {
        const w = backbone.getWeights()
        const d = (await w['small-cnn/conv1/kernel'].data()) as Float32Array
        tf.dispose(Object.values(w))
        return d
      }
      const w0 = await conv1()
      const before = tf.memory().numTensors
      const res = await fit(
        model,
        {
          labels,
          load: (idx) => {
            const out = new Float32Array(idx.length * S * S * 3)
            const m = S * S * 3
            idx.forEach((r, i) => out.set(pixels.subarray(r * m, (r + 1) * m), i * m))
            return tf.tensor4d(out, [idx.length, S, S, 3])
          }
        },
        {
          epochs: 2,
          batchSize: N,
          sampler: 'random',
          ipc: 4,
          seed: 1,
          microBatch: 5,
          callbacks: { onBatchEnd: (l) => void losses.push(l.loss) }
        }
      )
      expect(res.reason).toBe('completed')
      expect(losses).toHaveLength(6)
      expect(losses.every(Number.isFinite)).toBe(true)
      // Epoch 1 is warm-up (backbone frozen), epoch 2 trains it.
      const w1 = await conv1()
      expect(w1.some((v, i) => v !== w0[i])).toBe(true)
      // Adam's moments exist from the start (GroupedAdam allocates them): nothing may be left.
      expect(tf.memory().numTensors).toBe(before)
    } finally {
      model.dispose()
      backbone.dispose()
    }
  })
})

describe('resolveMicroBatch', () => {
  const base = { batchSize: 32, backend: 'wasm', inputSize: 224, splittable: true }
  it("'auto' splits MobileNetV2-sized batches on wasm only (8 images at 224 px)", () => {
    expect(resolveMicroBatch('auto', base)).toBe(8)
    expect(resolveMicroBatch('auto', { ...base, inputSize: 24 })).toBe(32)
    expect(resolveMicroBatch('auto', { ...base, backend: 'tensorflow' })).toBe(32)
    expect(resolveMicroBatch('auto', { ...base, backend: 'webgpu' })).toBe(32)
    expect(resolveMicroBatch('auto', { ...base, inputSize: 1024 })).toBe(1)
  })
  it("'auto' keeps batch 32 at 224 px whole on wasm when the fused conv kernel is active", () => {
    const fused = { ...base, fusedConv: true }
    expect(resolveMicroBatch('auto', fused)).toBe(32)
    expect(resolveMicroBatch('auto', { ...fused, batchSize: 64 })).toBe(32)
    expect(resolveMicroBatch('auto', { ...fused, inputSize: 448 })).toBe(8)
    // The whole batch in one pass is no memory risk then; training BatchNorm still is.
    expect(memoryRisk(32, { ...fused, fineTunes: true })).toBeNull()
    expect(memoryRisk(32, { ...fused, splittable: false, fineTunes: true })).toMatch(/may not fit/)
  })
  it('keeps an explicit size (capped at the batch) and never splits what cannot be split', () => {
    expect(resolveMicroBatch(4, base)).toBe(4)
    expect(resolveMicroBatch(64, base)).toBe(32)
    expect(resolveMicroBatch(4, { ...base, splittable: false })).toBe(32)
    expect(resolveMicroBatch('auto', { ...base, splittable: false })).toBe(32)
  })
  it('warns when an unsplittable fine-tuning batch may not fit wasm (training BatchNorm)', () => {
    const c = { ...base, splittable: false, fineTunes: true }
    expect(memoryRisk(32, c)).toMatch(/may not fit .*freeze BatchNorm/)
    expect(memoryRisk(16, { ...c, batchSize: 16 })).toBeNull()
    expect(memoryRisk(32, { ...c, inputSize: 24 })).toBeNull()
    expect(memoryRisk(32, { ...c, backend: 'tensorflow' })).toBeNull()
    expect(memoryRisk(32, { ...c, fineTunes: false })).toBeNull()
    expect(memoryRisk(8, { ...c, splittable: true })).toBeNull()
    // Split possible but the whole batch asked for.
    expect(memoryRisk(32, { ...c, splittable: true })).toMatch(
      /one pass: set the micro-batch to auto/
    )
  })

  it('cuts a batch into micro-batches, the last one shorter', () => {
    expect(microBatches(12, 5)).toEqual([
      [0, 5],
      [5, 5],
      [10, 2]
    ])
    expect(microBatches(8, 8)).toEqual([[0, 8]])
  })
})

describe('TrainConfig.microBatch', () => {
  it("defaults to 'auto' and refuses a size over the batch or with training BatchNorm", () => {
    expect(config().microBatch).toBe('auto')
    const over = TrainConfig.safeParse({ datasetId: 1, batchSize: 16, microBatch: 32 })
    expect(over.success).toBe(false)
    expect(over.error?.issues[0].path).toEqual(['microBatch'])
    expect(over.error?.issues[0].message).toMatch(/at most the batch size \(16\)/)
    const bn = TrainConfig.safeParse({
      datasetId: 1,
      frozen: false,
      bnFreeze: false,
      microBatch: 8
    })
    expect(bn.success).toBe(false)
    expect(bn.error?.issues[0].message).toMatch(/frozen BatchNorm/)
    expect(TrainConfig.safeParse({ datasetId: 1, microBatch: 0 }).success).toBe(false)
    expect(TrainConfig.safeParse({ datasetId: 1, microBatch: 'half' }).success).toBe(false)
    // Frozen mode trains on features: the setting has no effect and is accepted.
    expect(TrainConfig.parse({ datasetId: 1, bnFreeze: false, microBatch: 8 }).microBatch).toBe(8)
  })
})
