import * as tf from '@tensorflow/tfjs'
import '@tensorflow/tfjs-backend-wasm'
import { beforeAll, describe, expect, it } from 'vitest'
import { createRng, normalArray } from '../util/rng'
import { registerFastKernels } from './index'
import { depthwiseFilterGradSimd } from './trainingKernels'
import { WASM_GRADIENT_KERNELS, WASM_REPLACED_KERNELS, ensureWasmGradients } from './wasmGradients'

type Inputs = Record<string, { shape: number[]; data: Float32Array }>

function make(shape: number[], seed: number): { shape: number[]; data: Float32Array } {
  const n = shape.reduce((a, b) => a * b, 1)
  return { shape, data: normalArray(createRng(seed), n) }
}

/** Runs `f` on `backend` and returns d(sum(f · r))/d(each input) as plain arrays. */
async function gradsOn(
  backend: string,
  inputs: Inputs,
  f: (t: Record<string, tf.Tensor>) => tf.Tensor
): Promise<Record<string, Float32Array>> {
  await tf.setBackend(backend)
  const names = Object.keys(inputs)
  const ts = names.map((k) => tf.tensor(inputs[k].data, inputs[k].shape))
  const out: Record<string, Float32Array> = {}
  const grads = tf.tidy(() => {
    const probe = f(Object.fromEntries(names.map((k, i) => [k, ts[i]])))
    const r = tf.tensor(normalArray(createRng(99), probe.size), probe.shape)
    const g = tf.grads((...xs: tf.Tensor[]) =>
      tf.sum(tf.mul(f(Object.fromEntries(names.map((k, i) => [k, xs[i]]))), r))
    )
    return g(ts)
  })
  for (let i = 0; i < names.length; i++) out[names[i]] = (await grads[i].data()) as Float32Array
  tf.dispose([...grads, ...ts])
  return out
}

function relErr(a: Float32Array, b: Float32Array): number {
  let num = 0
  let den = 0
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]))
    den = Math.max(den, Math.abs(b[i]))
  }
  return num / Math.max(den, 1e-12)
}

async function expectAgree(
  inputs: Inputs,
  f: (t: Record<string, tf.Tensor>) => tf.Tensor
): Promise<void> {
  const cpu = await gradsOn('cpu', inputs, f)
  const before = tf.memory().numTensors
  const wasm = await gradsOn('wasm', inputs, f)
  expect(tf.memory().numTensors).toBe(before)
  for (const k of Object.keys(inputs)) {
    expect(wasm[k].length).toBe(cpu[k].length)
    expect(relErr(wasm[k], cpu[k]), `gradient of ${k}`).toBeLessThan(1e-4)
  }
}

beforeAll(async () => {
  ensureWasmGradients()
  await tf.setBackend('wasm')
  await tf.ready()
  // As the backend start-up does: the SIMD depthwise-filter and relu6 gradients too.
  registerFastKernels('wasm')
})

describe('wasm gradient kernels', () => {
  it('registers exactly the kernels wasm lacks, once', () => {
    for (const k of [...WASM_GRADIENT_KERNELS, ...WASM_REPLACED_KERNELS])
      expect(tf.getKernel(k, 'wasm'), k).toBeDefined()
    expect(ensureWasmGradients()).toEqual([])
  })

  const convCases: [number, 'same' | 'valid', number, number][] = [
    // stride, pad, kernel, input side (odd sides leave rows unused by 'valid' stride 2)
    [1, 'same', 3, 7],
    [2, 'same', 3, 7],
    [1, 'valid', 3, 7],
    [2, 'valid', 3, 8],
    [2, 'valid', 1, 7],
    [1, 'same', 1, 6],
    [2, 'same', 5, 9]
  ]
  for (const [s, pad, k, side] of convCases) {
    it(`conv2d ${k}x${k} stride ${s} ${pad} agrees with cpu`, async () => {
      await expectAgree({ x: make([2, side, side, 3], 1), w: make([k, k, 3, 4], 2) }, (t) =>
        tf.conv2d(t.x as tf.Tensor4D, t.w as tf.Tensor4D, s, pad)
      )
    })
    it(`depthwise ${k}x${k} stride ${s} ${pad} agrees with cpu`, async () => {
      await expectAgree({ x: make([2, side, side, 3], 3), w: make([k, k, 3, 1], 4) }, (t) =>
        tf.depthwiseConv2d(t.x as tf.Tensor4D, t.w as tf.Tensor4D, s, pad)
      )
    })
  }

  for (const [s, pad, k, side] of convCases) {
    it(`depthwise ${k}x${k} stride ${s} ${pad}, 8 channels (SIMD filter gradient) agrees with cpu`, async () => {
      await expectAgree({ x: make([2, side, side, 8], 30), w: make([k, k, 8, 1], 31) }, (t) =>
        tf.depthwiseConv2d(t.x as tf.Tensor4D, t.w as tf.Tensor4D, s, pad)
      )
    })
  }

  it('1×1 convolutions with more inputs than outputs and the reverse agree with cpu', async () => {
    for (const [ci, co] of [
      [8, 4],
      [4, 12]
    ]) {
      await expectAgree({ x: make([2, 5, 6, ci], 50), w: make([1, 1, ci, co], 51) }, (t) =>
        tf.conv2d(t.x as tf.Tensor4D, t.w as tf.Tensor4D, 1, 'same')
      )
    }
  })

  it('the SIMD depthwise filter gradient runs for channels in fours, not otherwise', () => {
    const xp = tf.ones([1, 5, 5, 8]) as tf.Tensor4D
    const dy = tf.ones([1, 3, 3, 8]) as tf.Tensor4D
    const g = depthwiseFilterGradSimd(xp, dy, 3, 3, 1, 1)
    expect(g?.shape).toEqual([3, 3, 8, 1])
    expect(Array.from(g!.dataSync()).every((v) => v === 9)).toBe(true)
    const odd = tf.ones([1, 5, 5, 3]) as tf.Tensor4D
    expect(
      depthwiseFilterGradSimd(odd, tf.ones([1, 3, 3, 3]) as tf.Tensor4D, 3, 3, 1, 1)
    ).toBeNull()
    tf.dispose([xp, dy, g!, odd])
  })

  it('clone (Identity) shares the buffer instead of copying it, and stays valid alone', () => {
    const x = tf.tensor2d([1, 2, 3, 4], [2, 2])
    const y = tf.clone(x)
    expect(y.dataId).toBe(x.dataId) // no second buffer
    x.dispose()
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4])
    const v = tf.variable(y)
    v.assign(tf.zeros([2, 2]))
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4]) // assign re-points, never writes in place
    tf.dispose([y, v])
  })

  it('relu6 gradient (SIMD) agrees with cpu, at 0 and 6 exactly and on a ragged size', async () => {
    const x = make([3, 5, 7], 32)
    x.data = x.data.map((v) => v * 5)
    x.data.set([0, 6, -0, 6.0000005, 5.9999995, -1e-30], 0)
    await expectAgree({ x }, (t) => tf.relu6(t.x))
  })

  it('a MobileNet-style block backward runs the SIMD kernels, not LessEqual or an image-sized depthwise', async () => {
    const x = tf.randomNormal([2, 9, 9, 8], 0, 1, 'float32', 40) as tf.Tensor4D
    const w = tf.randomNormal([3, 3, 8, 1], 0, 1, 'float32', 41) as tf.Tensor4D
    const info = await tf.profile(() => {
      const g = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.relu6(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')))
      )([x, w])
      tf.dispose(g)
    })
    const names = new Set(info.kernels.map((k) => k.name))
    expect(names).toContain('HistStudioRelu6Grad')
    expect(names).toContain('HistStudioDepthwiseFilterGrad')
    expect(names).toContain('HistStudioDepthwiseInputGrad')
    expect(names).not.toContain('LessEqual')
    tf.dispose([x, w])
  })

  it('depthwise with channel multiplier 2 agrees with cpu', async () => {
    await expectAgree({ x: make([1, 6, 5, 2], 5), w: make([3, 3, 2, 2], 6) }, (t) =>
      tf.depthwiseConv2d(t.x as tf.Tensor4D, t.w as tf.Tensor4D, 2, 'same')
    )
  })

  it('explicit padding (ZeroPadding-style asymmetric) agrees with cpu', async () => {
    const pad: tf.backend_util.ExplicitPadding = [
      [0, 0],
      [0, 1],
      [0, 1],
      [0, 0]
    ]
    await expectAgree({ x: make([1, 8, 8, 2], 7), w: make([3, 3, 2, 3], 8) }, (t) =>
      tf.conv2d(t.x as tf.Tensor4D, t.w as tf.Tensor4D, 2, pad)
    )
  })

  it('max pool, avg pool and batch-norm gradients agree with cpu', async () => {
    await expectAgree({ x: make([2, 7, 7, 3], 9), g: make([3], 10), b: make([3], 11) }, (t) => {
      const { mean, variance } = tf.moments(t.x, [0, 1, 2])
      const bn = tf.batchNorm(
        t.x as tf.Tensor4D,
        mean,
        variance,
        t.b as tf.Tensor1D,
        t.g as tf.Tensor1D,
        1e-3
      )
      const mp = tf.maxPool(tf.relu(bn) as tf.Tensor4D, 2, 2, 'same') as tf.Tensor4D
      return tf.add(mp, tf.avgPool(mp, 3, 1, 'same'))
    })
  })

  it('matmul with transpose flags (wrapped BatchMatMul) agrees with cpu', async () => {
    await expectAgree({ a: make([2, 5, 3], 13), b: make([2, 4, 5], 14) }, (t) =>
      tf.matMul(t.a, t.b, true, true)
    )
    await expectAgree({ a: make([6, 3], 15), b: make([6, 4], 16), bias: make([4], 17) }, (t) =>
      tf.fused.matMul({
        a: t.a as tf.Tensor2D,
        b: t.b as tf.Tensor2D,
        transposeA: true,
        bias: t.bias,
        activation: 'relu'
      })
    )
  })

  it('gather (UnsortedSegmentSum) gradient agrees with cpu', async () => {
    const idx = tf.tensor1d([0, 2, 2, 1, 0], 'int32')
    await expectAgree({ p: make([4, 3], 12) }, (t) => tf.gather(t.p, idx))
    idx.dispose()
  })

  it('a small conv-net training step agrees with cpu on every parameter', async () => {
    await expectAgree(
      {
        x: make([2, 12, 12, 3], 20),
        w1: make([3, 3, 3, 8], 21),
        d1: make([3, 3, 8, 1], 22),
        w2: make([1, 1, 8, 6], 23),
        d2: make([3, 3, 6, 1], 24),
        gamma: make([8], 25),
        beta: make([8], 26)
      },
      (t) => {
        let h: tf.Tensor4D = tf.conv2d(t.x as tf.Tensor4D, t.w1 as tf.Tensor4D, 1, 'same')
        const { mean, variance } = tf.moments(h, [0, 1, 2])
        h = tf.relu6(
          tf.batchNorm(h, mean, variance, t.beta as tf.Tensor1D, t.gamma as tf.Tensor1D, 1e-3)
        ) as tf.Tensor4D
        h = tf.depthwiseConv2d(h, t.d1 as tf.Tensor4D, 2, 'same')
        h = tf.conv2d(tf.relu(h), t.w2 as tf.Tensor4D, 1, 'valid')
        h = tf.depthwiseConv2d(h, t.d2 as tf.Tensor4D, 1, 'valid')
        return tf.add(tf.mean(h, [1, 2]), tf.max(tf.maxPool(h, 2, 2, 'valid'), [1, 2]))
      }
    )
  })
})
