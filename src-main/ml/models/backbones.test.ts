import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../backend'
import { loadBackbone, type Backbone } from './backbones'
import { LayersBackbone } from './layersBackbone'
import { buildTinyLayersModel, saveLayersModel, writeTinyGraphModel } from './models.testutil'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hist-backbones-'))
const opts = { modelsDir: path.join(tmp, 'models') }

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0])
}

/** One SGD-free training step: returns the gradients' global norm per variable (all finite). */
function gradStep(bb: Backbone, x: tf.Tensor4D): number[] {
  const vars = bb.trainableVariables()
  const { value, grads } = tf.variableGrads(
    () => tf.mean(tf.square(bb.apply(x, true))) as tf.Scalar,
    vars
  )
  const norms = vars.map((v) => tf.tidy(() => tf.norm(grads[v.name]).dataSync()[0]))
  tf.dispose([value, ...Object.values(grads)])
  return norms
}

beforeAll(async () => {
  await initBackend({ only: ['wasm'] })
})

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true })
})

describe('MobileNetV2 from nsfwjs (offline)', () => {
  let bb: LayersBackbone
  beforeAll(async () => {
    bb = (await loadBackbone({ kind: 'mobilenetv2' }, opts)) as LayersBackbone
  })
  afterAll(() => bb.dispose())

  it('loads the Keras MobileNetV2 with out_relu as a 7×7×1280 feature map', () => {
    expect(bb.name).toBe('mobilenetv2')
    expect(bb.inputSize).toBe(224)
    expect(bb.featureChannels).toBe(1280)
    expect(bb.mean).toEqual([0, 0, 0])
    expect(bb.std).toEqual([1, 1, 1])
    expect(bb.trainable).toBe(true)
    expect(bb.fused).toBe(true)
  })

  it('runs the BN-folded fused graph with the same output as the plain layers graph', () => {
    const x = tf.randomUniform([2, 224, 224, 3], 0, 1, 'float32', 3) as tf.Tensor4D
    const before = tf.memory().numTensors
    const fused = bb.apply(x, false)
    const plain = bb.applyGraph(x, false)
    expect(fused.shape).toEqual([2, 7, 7, 1280])
    expect(maxAbsDiff(fused, plain)).toBeLessThan(1e-3)
    tf.dispose([fused, plain])
    expect(tf.memory().numTensors).toBe(before)
    x.dispose()
  })

  it('exposes every conv kernel for training, and BN parameters only when BN is not frozen', () => {
    bb.setBnFrozen(true)
    expect(bb.trainableVariables().length).toBe(52)
    bb.setBnFrozen(false)
    expect(bb.trainableVariables().length).toBe(52 * 3)
    bb.setBnFrozen(true)
    expect(bb.source).toBeNull()
  })

  it('takes a training step on wasm with finite, non-zero gradients for every variable', () => {
    const x = tf.randomUniform([2, 224, 224, 3], 0, 1, 'float32', 4) as tf.Tensor4D
    const before = tf.memory().numTensors
    const norms = gradStep(bb, x)
    expect(norms.length).toBe(52)
    for (const n of norms) {
      expect(Number.isFinite(n)).toBe(true)
      expect(n).toBeGreaterThan(0)
    }
    expect(tf.memory().numTensors).toBe(before)
    x.dispose()
  })

  it('trains the fused plan (one-kernel conv+bias+relu6 on wasm) with the gradients of the plain layers graph', async () => {
    bb.setBnFrozen(true)
    const x = tf.randomUniform([2, 224, 224, 3], 0, 1, 'float32', 6) as tf.Tensor4D
    const vars = bb.trainableVariables()
    const before = tf.memory().numTensors
    const gradsOf = (f: () => tf.Tensor4D) =>
      tf.variableGrads(() => tf.mean(tf.square(f())) as tf.Scalar, vars)
    let fused: ReturnType<typeof gradsOf> | null = null
    const info = await tf.profile(() => {
      fused = gradsOf(() => bb.apply(x, true))
    })
    const plain = gradsOf(() => bb.applyGraph(x, false))
    const f = fused as unknown as ReturnType<typeof gradsOf>
    // 34 conv+relu6 layers (all but Conv1, whose input gradient is not needed) take the path.
    expect(info.kernels.filter((k) => k.name === 'HistStudioRelu6BiasGrad').length).toBe(34)
    for (const v of vars) {
      const scale = tf.tidy(() => tf.max(tf.abs(plain.grads[v.name])).dataSync()[0])
      expect(scale, v.name).toBeGreaterThan(0)
      expect(maxAbsDiff(f.grads[v.name], plain.grads[v.name]) / scale, v.name).toBeLessThan(1e-3)
    }
    expect(maxAbsDiff(f.value, plain.value)).toBeLessThan(
      1e-4 * Math.abs(plain.value.dataSync()[0])
    )
    tf.dispose([f.value, plain.value, ...Object.values(f.grads), ...Object.values(plain.grads)])
    expect(tf.memory().numTensors).toBe(before)
    x.dispose()
  })

  it('round-trips its weights by stable keys', () => {
    const w = bb.getWeights()
    expect(Object.keys(w)).toContain('Conv1/kernel')
    expect(Object.keys(w)).toContain('out_relu' in w ? 'never' : 'Conv_1_bn/moving_mean')
    const x = tf.randomUniform([1, 224, 224, 3], 0, 1, 'float32', 5) as tf.Tensor4D
    const y0 = bb.apply(x, false)
    const changed = { ...w, 'Conv1/kernel': tf.mul(w['Conv1/kernel'], 0.5) }
    bb.setWeights(changed)
    const y1 = bb.apply(x, false)
    expect(maxAbsDiff(y0, y1)).toBeGreaterThan(1e-3)
    bb.setWeights(w)
    const y2 = bb.apply(x, false)
    expect(maxAbsDiff(y0, y2)).toBe(0)
    expect(() => bb.setWeights({})).toThrow(/missing/)
    tf.dispose([x, y0, y1, y2, changed['Conv1/kernel'], ...Object.values(w)])
  })
})

describe('small CNN from scratch', () => {
  it('gives [N, S/4, S/4, 128] features, reproducibly from the seed', async () => {
    const a = await loadBackbone({ kind: 'small-cnn', inputSize: 28 }, { ...opts, seed: 3 })
    const b = await loadBackbone({ kind: 'small-cnn', inputSize: 28 }, { ...opts, seed: 3 })
    const c = await loadBackbone({ kind: 'small-cnn', inputSize: 28 }, { ...opts, seed: 4 })
    const x = tf.randomNormal([3, 28, 28, 3], 0, 1, 'float32', 1) as tf.Tensor4D
    const [ya, yb, yc] = [a, b, c].map((m) => m.apply(x, false))
    expect(ya.shape).toEqual([3, 7, 7, 128])
    expect(a.featureChannels).toBe(128)
    expect(maxAbsDiff(ya, yb)).toBe(0)
    expect(maxAbsDiff(ya, yc)).toBeGreaterThan(1e-3)
    tf.dispose([x, ya, yb, yc])
    ;[a, b, c].forEach((m) => m.dispose())
  })

  it('trains on wasm; BN statistics update unless BN is frozen', async () => {
    const bb = await loadBackbone({ kind: 'small-cnn', inputSize: 32 }, { ...opts, seed: 1 })
    const x = tf.randomNormal([4, 32, 32, 3], 0.5, 1, 'float32', 2) as tf.Tensor4D
    const key = 'small-cnn/conv1/running_mean'
    const stat = (): number[] => {
      const w = bb.getWeights()
      const v = Array.from(w[key].dataSync())
      tf.dispose(Object.values(w))
      return v
    }
    const before = tf.memory().numTensors
    const s0 = stat()
    const norms = gradStep(bb, x)
    expect(norms.length).toBe(15)
    expect(norms.every((n) => Number.isFinite(n) && n > 0)).toBe(true)
    const s1 = stat()
    expect(s1).not.toEqual(s0)
    bb.setBnFrozen(true)
    expect(gradStep(bb, x).length).toBe(5)
    expect(stat()).toEqual(s1)
    expect(tf.memory().numTensors).toBe(before)
    x.dispose()
    bb.dispose()
  })
})

describe('local TF.js models', () => {
  it('loads a LayersModel cut at a chosen layer; the fused path matches the layers graph', async () => {
    const model = buildTinyLayersModel(1)
    const file = await saveLayersModel(model, path.join(tmp, 'tiny-layers'))
    const x = tf.randomUniform([2, 16, 16, 3], 0, 1, 'float32', 7) as tf.Tensor4D
    const bb = (await loadBackbone(
      { kind: 'local', modelPath: file, featureNode: 'out_relu', inputSize: 16 },
      opts
    )) as LayersBackbone
    expect(bb.trainable).toBe(true)
    expect(bb.featureChannels).toBe(12)
    const fused = bb.apply(x, false)
    const plain = bb.applyGraph(x, false)
    const original = tf.model({
      inputs: model.inputs,
      outputs: model.getLayer('out_relu').output as tf.SymbolicTensor
    })
    const ref = original.predict(x) as tf.Tensor
    expect(fused.shape).toEqual([2, 8, 8, 12])
    expect(maxAbsDiff(fused, plain)).toBeLessThan(1e-4)
    expect(maxAbsDiff(fused, ref)).toBeLessThan(1e-4)
    // Training with frozen BN runs the fused plan too; its gradients match the plain graph's.
    bb.setBnFrozen(true)
    const vars = bb.trainableVariables()
    const g1 = tf.variableGrads(() => tf.sum(bb.apply(x, true)) as tf.Scalar, vars)
    const g2 = tf.variableGrads(() => tf.sum(bb.applyGraph(x, false)) as tf.Scalar, vars)
    for (const v of vars) expect(maxAbsDiff(g1.grads[v.name], g2.grads[v.name])).toBeLessThan(1e-3)
    tf.dispose([
      x,
      fused,
      plain,
      ref,
      g1.value,
      g2.value,
      ...Object.values(g1.grads),
      ...Object.values(g2.grads)
    ])
    bb.dispose()
    model.dispose()
  })

  it('names the available layers when the feature layer does not exist', async () => {
    const file = path.join(tmp, 'tiny-layers', 'model.json')
    await expect(
      loadBackbone({ kind: 'local', modelPath: file, featureNode: 'nope', inputSize: 16 }, opts)
    ).rejects.toThrow(/layer 'nope' not found.*available layers: input_1, stem_pad, stem/)
  })

  it('loads a GraphModel as a frozen backbone at a chosen node, or errs naming the nodes', async () => {
    const file = writeTinyGraphModel(path.join(tmp, 'tiny-graph'))
    const bb = await loadBackbone(
      { kind: 'local', modelPath: file, featureNode: 'feat', inputSize: 16 },
      opts
    )
    expect(bb.trainable).toBe(false)
    expect(bb.trainableVariables()).toEqual([])
    expect(bb.featureChannels).toBe(4)
    const x = tf.randomUniform([2, 16, 16, 3]) as tf.Tensor4D
    const y = bb.apply(x, true)
    expect(y.shape).toEqual([2, 16, 16, 4])
    expect(tf.tidy(() => tf.min(y).dataSync()[0])).toBeGreaterThanOrEqual(0)
    const pooled = await loadBackbone(
      { kind: 'local', modelPath: file, featureNode: 'pool', inputSize: 16 },
      opts
    )
    const yp = pooled.apply(x, false)
    expect(yp.shape).toEqual([2, 1, 1, 4])
    tf.dispose([x, y, yp])
    bb.dispose()
    pooled.dispose()
    await expect(
      loadBackbone({ kind: 'local', modelPath: file, featureNode: 'nope', inputSize: 16 }, opts)
    ).rejects.toThrow(/node 'nope' not found.*available nodes: x, w, axes, conv, feat, pool/)
  })

  it('reports a missing model file clearly', async () => {
    await expect(
      loadBackbone(
        { kind: 'local', modelPath: path.join(tmp, 'missing', 'model.json'), featureNode: 'a' },
        opts
      )
    ).rejects.toThrow(/model\.json: does not exist/)
  })
})
