/** A SIMD 2-D transpose kernel for wasm, with tf.transpose as the fallback everywhere else. */
import * as tf from '@tensorflow/tfjs'
import { activeSimdKernels, heapOffset, registerWasmKernel } from './wasmSimd'

const TRANSPOSE = 'HistStudioTranspose2D'

/** Registers the transpose kernel for wasm (idempotent; called by registerFastKernels). */
export function registerTransposeKernel(): void {
  registerWasmKernel(TRANSPOSE, (k, b, { x }) => {
    const [rows, cols] = x.shape
    const out = b.makeOutput([cols, rows], 'float32')
    k.transpose(heapOffset(b, x), heapOffset(b, out), rows, cols)
    return out // a single TensorInfo: runKernel then returns a Tensor, not an array
  })
}

/**
 * xᵀ for a float32 2-D tensor: the SIMD block transpose on wasm when registered (2–3× faster
 * than tfjs's there), else tf.transpose. Not differentiable.
 */
export function fastTranspose(x: tf.Tensor2D): tf.Tensor2D {
  if (x.dtype === 'float32' && tf.getKernel(TRANSPOSE, 'wasm') && activeSimdKernels())
    return tf.engine().runKernel(TRANSPOSE, { x }) as tf.Tensor2D
  return tf.transpose(x)
}
