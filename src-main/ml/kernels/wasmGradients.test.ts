import * as tf from '@tensorflow/tfjs'
import '@tensorflow/tfjs-backend-wasm'
import { beforeAll, describe, expect, it } from 'vitest'
import { createRng, normalArray } from '../util/rng'
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
