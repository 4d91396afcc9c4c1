import * as tf from '@tensorflow/tfjs'
import '@tensorflow/tfjs-backend-wasm'
import { beforeAll, describe, expect, it } from 'vitest'
import { createRng, normalArray } from '../util/rng'
import { registerFastKernels } from './index'

/** Runs `f` on cpu and on wasm (with the fast Slice/PadV2) and returns both results. */
async function both(
  shape: number[],
  dtype: 'float32' | 'int32',
  f: (x: tf.Tensor) => tf.Tensor
): Promise<[ArrayLike<number>, ArrayLike<number>, number[], number[]]> {
  const n = shape.reduce((a, b) => a * b, 1)
  const data = normalArray(createRng(n), n).map((v) =>
    dtype === 'int32' ? Math.round(v * 100) : v
  )
  const run = async (backend: string) => {
    await tf.setBackend(backend)
    const before = tf.memory().numTensors
    const x = tf.tensor(data, shape, dtype)
    const y = tf.tidy(() => f(x))
    const out = { vals: await y.data(), shape: y.shape }
    tf.dispose([x, y])
    expect(tf.memory().numTensors).toBe(before)
    return out
  }
  const cpu = await run('cpu')
  const wasm = await run('wasm')
  return [wasm.vals, cpu.vals, wasm.shape, cpu.shape]
}

beforeAll(async () => {
  await tf.setBackend('wasm')
  await tf.ready()
  registerFastKernels('wasm')
})

describe('wasm Slice and PadV2 as row memmoves', () => {
  it('are the registered wasm kernels', () => {
    const slice = tf.getKernel('Slice', 'wasm')
    const pad = tf.getKernel('PadV2', 'wasm')
    expect(slice?.kernelFunc.toString()).toContain('copyBox')
    expect(pad?.kernelFunc.toString()).toContain('copyBox')
  })

  const slices: [number[], number[], number[]][] = [
    // shape, begin, size
    [
      [2, 9, 9, 8],
      [0, 1, 1, 0],
      [2, 7, 7, 8]
    ], // NHWC crop (the depthwise input gradient)
    [
      [2, 9, 9, 8],
      [1, 0, 2, 0],
      [1, 9, 5, 8]
    ],
    [
      [3, 5, 7, 6],
      [0, 0, 0, 2],
      [3, 5, 7, 3]
    ], // channel slice: runs of 3
    [
      [3, 5, 7, 6],
      [1, 2, 3, 4],
      [2, 3, 4, 2]
    ],
    [
      [4, 10],
      [1, 3],
      [2, 5]
    ],
    [
      [4, 10],
      [1, 0],
      [2, 10]
    ], // contiguous
    [[5], [2], [3]],
    [
      [2, 3, 4, 5, 6],
      [1, 0, 1, 2, 0],
      [1, 3, 2, 3, 6]
    ],
    [
      [2, 4, 4, 4],
      [0, 1, 1, 0],
      [2, 0, 3, 4]
    ] // empty
  ]
  for (const [shape, begin, size] of slices) {
    for (const dtype of ['float32', 'int32'] as const) {
      it(`slice ${dtype} [${shape}] at [${begin}] size [${size}] matches cpu exactly`, async () => {
        const [w, c, ws, cs] = await both(shape, dtype, (x) => tf.slice(x, begin, size))
        expect(ws).toEqual(cs)
        expect(Array.from(w)).toEqual(Array.from(c))
      })
    }
  }

  const pads: [number[], [number, number][], number][] = [
    [
      [2, 7, 7, 8],
      [
        [0, 0],
        [1, 1],
        [1, 1],
        [0, 0]
      ],
      0
    ], // the depthwise filter gradient's pad
    [
      [2, 7, 7, 8],
      [
        [0, 0],
        [0, 2],
        [3, 0],
        [0, 0]
      ],
      0.5
    ],
    [
      [2, 5, 5, 6],
      [
        [1, 0],
        [0, 0],
        [0, 0],
        [2, 1]
      ],
      -1
    ], // channel and batch pads
    [
      [4, 10],
      [
        [2, 1],
        [0, 3]
      ],
      0
    ],
    [[6], [[0, 0]], 0],
    [
      [2, 3, 4, 2, 3],
      [
        [0, 1],
        [1, 0],
        [0, 0],
        [1, 1],
        [0, 0]
      ],
      2
    ],
    [
      [0, 3, 2],
      [
        [1, 1],
        [0, 0],
        [2, 0]
      ],
      1.5
    ] // empty input: all constant
  ]
  for (const [shape, paddings, value] of pads) {
    for (const dtype of ['float32', 'int32'] as const) {
      it(`pad ${dtype} [${shape}] by ${JSON.stringify(paddings)} with ${value} matches cpu exactly`, async () => {
        const v = dtype === 'int32' ? Math.round(value) : value
        const [w, c, ws, cs] = await both(shape, dtype, (x) => tf.pad(x, paddings, v))
        expect(ws).toEqual(cs)
        expect(Array.from(w)).toEqual(Array.from(c))
      })
    }
  }

  it('leaves bool tensors to the original kernels', async () => {
    const [w, c] = await both([2, 4, 4, 3], 'float32', (x) =>
      tf.cast(
        tf.pad(tf.slice(tf.greater(x, 0), [0, 1, 1, 0], [2, 2, 3, 3]), [
          [0, 0],
          [1, 1],
          [0, 0],
          [0, 0]
        ]),
        'float32'
      )
    )
    expect(Array.from(w)).toEqual(Array.from(c))
  })
})
