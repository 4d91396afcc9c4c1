/**
 * Slice and PadV2 for the wasm backend as a few large memmoves instead of one small copy per
 * innermost row (tfjs-backend-wasm 4.22's Slice walks rank-4 tensors row by row in JS, one
 * `subarray` + `set` per C channels: ~100k calls to crop one MobileNetV2 activation).
 *
 * Both collapse the trailing axes that are copied whole into one contiguous run, so cropping or
 * padding H and W of an NHWC tensor is one memmove per (image, row). Only 4-byte dtypes
 * (float32, int32) take this path; every other case goes to the original kernel. Registered for
 * wasm by ./wasmGradients.ts (replaceSlowWasmKernels) and checked against the cpu backend by
 * copyKernels.test.ts.
 */
import * as tf from '@tensorflow/tfjs'
import type { WasmBackendInternals } from './wasmSimd'

interface HeapBackend extends WasmBackendInternals {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo
}

type KernelArgs = Parameters<tf.KernelFunc>[0]

const FOUR_BYTES = new Set<tf.DataType>(['float32', 'int32'])

/** The backend's heap as 32-bit words (fetched after allocating: the heap may grow). */
function words(b: HeapBackend, dtype: tf.DataType): Float32Array | Int32Array | null {
  const buffer = b.wasm.asm?.memory?.buffer
  if (!buffer) return null
  return dtype === 'int32' ? new Int32Array(buffer) : new Float32Array(buffer)
}

function offsetOf(b: HeapBackend, t: tf.TensorInfo): number | null {
  const e = b.dataIdMap.get(t.dataId)
  return e ? e.memoryOffset / 4 : null
}

/**
 * Copies a box of `size` from `src` (shape `srcShape`, box starting at `srcBegin`) into `dst`
 * (shape `dstShape`, box starting at `dstBegin`), both row-major in `heap` at word offsets
 * `srcAt` / `dstAt`. The trailing axes where the box spans both tensors whole are merged.
 * With `fill`, every element of `dst` outside the box is set to it (`dstSize` elements in all),
 * in the same single pass: the runs land at increasing offsets, so the gaps are filled between
 * them.
 */
function copyBox(
  heap: Float32Array | Int32Array,
  srcAt: number,
  srcShape: number[],
  srcBegin: number[],
  dstAt: number,
  dstShape: number[],
  dstBegin: number[],
  size: number[],
  fill?: { value: number; dstSize: number }
): void {
  const rank = size.length
  if (size.some((s) => s === 0)) {
    if (fill) heap.fill(fill.value, dstAt, dstAt + fill.dstSize)
    return
  }
  const srcStrides = stridesOf(srcShape)
  const dstStrides = stridesOf(dstShape)
  // Axis `a` is the last one that is not copied whole; everything after it is one run.
  let a = rank - 1
  while (
    a > 0 &&
    srcBegin[a] === 0 &&
    dstBegin[a] === 0 &&
    size[a] === srcShape[a] &&
    size[a] === dstShape[a]
  )
    a--
  const run = size[a] * srcStrides[a]
  let s0 = srcAt
  let d0 = dstAt
  for (let i = 0; i < rank; i++) {
    s0 += srcBegin[i] * srcStrides[i]
    d0 += dstBegin[i] * dstStrides[i]
  }
  const idx = new Array<number>(a).fill(0)
  let s = s0
  let d = d0
  let filled = dstAt
  for (;;) {
    if (fill) {
      if (d > filled) heap.fill(fill.value, filled, d)
      filled = d + run
    }
    heap.copyWithin(d, s, s + run)
    // Odometer over the outer axes 0..a-1.
    let k = a - 1
    while (k >= 0) {
      idx[k]++
      s += srcStrides[k]
      d += dstStrides[k]
      if (idx[k] < size[k]) break
      s -= size[k] * srcStrides[k]
      d -= size[k] * dstStrides[k]
      idx[k] = 0
      k--
    }
    if (k < 0) break
  }
  if (fill && filled < dstAt + fill.dstSize) heap.fill(fill.value, filled, dstAt + fill.dstSize)
}

function stridesOf(shape: number[]): number[] {
  const out = new Array<number>(shape.length)
  let acc = 1
  for (let i = shape.length - 1; i >= 0; i--) {
    out[i] = acc
    acc *= shape[i]
  }
  return out
}

/** Slice through copyBox; the original kernel for other dtypes and rank 0. */
export function fastSlice(orig: tf.KernelConfig): tf.KernelFunc {
  return (args: KernelArgs) => {
    const x = (args.inputs as unknown as { x: tf.TensorInfo }).x
    const attrs = args.attrs as unknown as { begin: number | number[]; size: number | number[] }
    if (!FOUR_BYTES.has(x.dtype) || x.shape.length === 0) return orig.kernelFunc(args)
    const [begin, size] = tf.slice_util.parseSliceParams(
      x as unknown as tf.Tensor,
      attrs.begin,
      attrs.size
    )
    const b = args.backend as unknown as HeapBackend
    const out = b.makeOutput(size, x.dtype)
    const heap = words(b, x.dtype)
    const xAt = offsetOf(b, x)
    const outAt = offsetOf(b, out)
    if (!heap || xAt === null || outAt === null)
      throw new Error('Slice: tensor not on the wasm heap')
    const zeros = size.map(() => 0)
    copyBox(heap, xAt, x.shape, begin, outAt, size, zeros, size)
    return out
  }
}

/** PadV2: copyBox the input in, filling the border with the constant in the same pass; the original for other dtypes. */
export function fastPad(orig: tf.KernelConfig): tf.KernelFunc {
  return (args: KernelArgs) => {
    const x = (args.inputs as unknown as { x: tf.TensorInfo }).x
    const attrs = args.attrs as unknown as {
      paddings: [number, number][]
      constantValue: number
    }
    if (!FOUR_BYTES.has(x.dtype) || x.shape.length === 0) return orig.kernelFunc(args)
    const outShape = attrs.paddings.map((p, i) => p[0] + x.shape[i] + p[1])
    const b = args.backend as unknown as HeapBackend
    const out = b.makeOutput(outShape, x.dtype)
    const heap = words(b, x.dtype)
    const xAt = offsetOf(b, x)
    const outAt = offsetOf(b, out)
    if (!heap || xAt === null || outAt === null)
      throw new Error('PadV2: tensor not on the wasm heap')
    const n = outShape.reduce((p, q) => p * q, 1)
    const zeros = x.shape.map(() => 0)
    copyBox(
      heap,
      xAt,
      x.shape,
      zeros,
      outAt,
      outShape,
      attrs.paddings.map((p) => p[0]),
      x.shape,
      { value: attrs.constantValue, dstSize: n }
    )
    return out
  }
}
