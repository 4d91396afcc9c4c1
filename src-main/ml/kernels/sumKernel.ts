/**
 * wasm's Sum over the LEADING axes (every bias gradient: Σ over N, H, W of an NHWC tensor) as
 * one SIMD pass with the [C] accumulator in cache. tfjs-backend-wasm 4.22 first transposes the
 * whole tensor so that the reduced axes are innermost, then sums: two extra passes and a copy.
 * Rows are added in the same order as there. Everything else (other axes, dtypes, C not a
 * multiple of 4 or over SUM_MAX_INNER values, SIMD off) goes to wasm's own Sum. Registered by
 * registerFastKernels with the other SIMD kernels; checked against the cpu backend by
 * sumKernel.test.ts.
 */
import * as tf from '@tensorflow/tfjs'
import { activeSimdKernels, heapOffset, type WasmBackendInternals } from './wasmSimd'

/** Largest kept row (floats) taken by the SIMD path: its accumulator must stay in cache. */
export const SUM_MAX_INNER = 16384

let replaced = false

/** How many Sums took the SIMD path (read by the tests and the profile notes). */
export const leadingSumStats = { simd: 0 }

/** The number of leading axes reduced, or 0 when `axis` is not exactly 0..k−1 with k < rank. */
function leadingAxes(axis: number | number[], rank: number): number {
  const axes = (Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a))
  const sorted = [...new Set(axes)].sort((a, b) => a - b)
  if (sorted.length === 0 || sorted.length >= rank) return 0
  return sorted.every((a, i) => a === i) ? sorted.length : 0
}

/** Replaces wasm's Sum with the leading-axes fast path (idempotent). */
export function registerLeadingSum(): void {
  if (replaced) return
  const orig = tf.getKernel('Sum', 'wasm')
  if (!orig) return
  replaced = true
  tf.unregisterKernel('Sum', 'wasm')
  tf.registerKernel({
    kernelName: 'Sum',
    backendName: 'wasm',
    setupFunc: orig.setupFunc,
    kernelFunc: (args) => {
      const x = (args.inputs as unknown as { x: tf.TensorInfo }).x
      const { axis, keepDims } = args.attrs as unknown as {
        axis: number | number[]
        keepDims: boolean
      }
      const k = x.dtype === 'float32' ? leadingAxes(axis, x.shape.length) : 0
      const kernels = k > 0 ? activeSimdKernels() : null
      const inner = x.shape.slice(k).reduce((p, q) => p * q, 1)
      const rows = x.shape.slice(0, k).reduce((p, q) => p * q, 1)
      if (!kernels || inner % 4 !== 0 || inner > SUM_MAX_INNER || rows === 0 || inner === 0)
        return orig.kernelFunc(args)
      const b = args.backend as unknown as WasmBackendInternals
      const shape = keepDims
        ? [...x.shape.slice(0, k).map(() => 1), ...x.shape.slice(k)]
        : x.shape.slice(k)
      const out = b.makeOutput(shape, 'float32')
      kernels.colSum(heapOffset(b, x), heapOffset(b, out), rows, inner * 4)
      leadingSumStats.simd++
      return out
    }
  })
}
