import * as tf from '@tensorflow/tfjs'
import '@tensorflow/tfjs-backend-wasm'
import { beforeAll, describe, expect, it } from 'vitest'
import { createRng, normalArray } from '../util/rng'
import { registerFastKernels } from './index'
import { fusedConv, fusedReluPath, type FusedConvArgs } from './fusedConv'

type Pad = FusedConvArgs['pad']
interface Case {
  depthwise: boolean
  stride: number
  pad: Pad
  k: number
  side: number
  cin: number
  cout: number
}

const rand = (shape: number[], seed: number, scale = 1) =>
  normalArray(
    createRng(seed),
    shape.reduce((a, b) => a * b, 1)
  ).map((v) => v * scale)

/**
 * d(Σ f · r)/d(x, filter, bias) and f itself on `backend`; `fused` picks fusedConv, else the
 * unfused reference (conv, add, relu6: tfjs's own gradients).
 */
async function run(backend: string, c: Case, fused: boolean) {
  await tf.setBackend(backend)
  const fShape = c.depthwise ? [c.k, c.k, c.cin, 1] : [c.k, c.k, c.cin, c.cout]
  const co = c.depthwise ? c.cin : c.cout
  const x = tf.tensor4d(rand([2, c.side, c.side, c.cin], 1, 3), [2, c.side, c.side, c.cin])
  const w = tf.tensor4d(rand(fShape, 2), fShape as [number, number, number, number])
  const b = tf.tensor1d(rand([co], 3))
  const before = tf.memory().numTensors
  let pathOn = false
  const f = (xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) => {
    const a: FusedConvArgs = {
      x: xi as tf.Tensor4D,
      filter: wi as tf.Tensor4D,
      bias: bi as tf.Tensor1D,
      strides: [c.stride, c.stride],
      pad: c.pad,
      dilations: [1, 1],
      activation: 'relu6',
      depthwise: c.depthwise
    }
    if (fused) {
      pathOn = pathOn || fusedReluPath(a)
      return fusedConv(a)
    }
    const conv = c.depthwise
      ? tf.depthwiseConv2d(a.x, a.filter, a.strides, c.pad as 'same')
      : tf.conv2d(a.x, a.filter, a.strides, c.pad as 'same')
    return tf.relu6(tf.add(conv, a.bias as tf.Tensor1D))
  }
  const [y, ...grads] = tf.tidy(() => {
    const probe = f(x, w, b)
    const r = tf.tensor(rand(probe.shape, 4), probe.shape)
    const g = tf.grads((xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) =>
      tf.sum(tf.mul(f(xi, wi, bi), r))
    )
    return [probe, ...g([x, w, b])]
  })
  const out = {
    y: (await y.data()) as Float32Array,
    grads: await Promise.all(grads.map(async (g) => (await g.data()) as Float32Array)),
    pathOn
  }
  tf.dispose([y, ...grads])
  expect(tf.memory().numTensors).toBe(before)
  tf.dispose([x, w, b])
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

beforeAll(async () => {
  await tf.setBackend('wasm')
  await tf.ready()
  registerFastKernels('wasm')
})

describe('fused conv + bias + relu6 with its one-pass gradient (wasm)', () => {
  const explicit: Pad = [
    [0, 0],
    [0, 1],
    [0, 1],
    [0, 0]
  ]
  const cases: Case[] = [
    { depthwise: false, stride: 1, pad: 'valid', k: 1, side: 6, cin: 8, cout: 12 },
    { depthwise: false, stride: 1, pad: 'same', k: 3, side: 7, cin: 4, cout: 8 },
    { depthwise: false, stride: 2, pad: explicit, k: 3, side: 8, cin: 3, cout: 8 },
    { depthwise: true, stride: 1, pad: 'same', k: 3, side: 7, cin: 8, cout: 8 },
    { depthwise: true, stride: 2, pad: explicit, k: 3, side: 8, cin: 12, cout: 12 }
  ]
  for (const c of cases) {
    it(`${c.depthwise ? 'depthwise' : 'conv2d'} k${c.k} s${c.stride} ${JSON.stringify(c.pad)} matches the unfused ops on cpu (1e-4)`, async () => {
      const ref = await run('cpu', c, false)
      const got = await run('wasm', c, true)
      expect(got.pathOn).toBe(true)
      expect(relErr(got.y, ref.y)).toBeLessThan(1e-5)
      // Some outputs must be clipped at 6 and at 0 for the mask to be tested.
      expect(ref.y.some((v) => v === 6)).toBe(true)
      expect(ref.y.some((v) => v === 0)).toBe(true)
      ;['x', 'filter', 'bias'].forEach((name, i) =>
        expect(relErr(got.grads[i], ref.grads[i]), name).toBeLessThan(1e-4)
      )
    })
  }

  it('is the plain fused op outside a tape, on other activations and on cpu', async () => {
    await tf.setBackend('wasm')
    const a: FusedConvArgs = {
      x: tf.ones([1, 4, 4, 4]),
      filter: tf.ones([1, 1, 4, 4]),
      bias: tf.zeros([4]),
      strides: [1, 1],
      pad: 'valid',
      dilations: [1, 1],
      activation: 'relu6',
      depthwise: false
    }
    expect(fusedReluPath(a)).toBe(false) // no tape
    tf.grad((x: tf.Tensor) => {
      expect(fusedReluPath({ ...a, x: x as tf.Tensor4D })).toBe(true)
      expect(fusedReluPath({ ...a, x: x as tf.Tensor4D, activation: 'linear' })).toBe(false)
      expect(fusedReluPath({ ...a, x: x as tf.Tensor4D, inputGrad: false })).toBe(false)
      return tf.sum(x)
    })(a.x).dispose()
    await tf.setBackend('cpu')
    tf.grad((x: tf.Tensor) => {
      expect(fusedReluPath({ ...a, x: x as tf.Tensor4D })).toBe(false)
      return tf.sum(x)
    })(tf.ones([1])).dispose()
    tf.dispose([a.x, a.filter, a.bias as tf.Tensor])
  })
})
