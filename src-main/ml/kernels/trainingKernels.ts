/**
 * SIMD kernels for the two training-step costs that tfjs ops handle badly on wasm (measured on a
 * MobileNetV2 fine-tuning step, bench/finetune.bench.ts with BENCH_PROFILE=1):
 *  - the depthwise filter gradient, which ./convGradients.ts otherwise runs as a depthwise
 *    convolution with an image-sized filter, and the depthwise input gradient, otherwise a
 *    convolution over a zero-dilated, padded copy of dy (4× the pixels at stride 2, with
 *    XNNPACK operators whose creation ran out of memory at batch 32);
 *  - the Relu6 gradient, five kernels (LessEqual, Step, Cast, two Multiply) for one mask.
 * Both are registered for wasm only (registerFastKernels) and used only while the SIMD path is on;
 * everywhere else the tfjs ops run.
 */
import * as tf from '@tensorflow/tfjs'
import { activeSimdKernels, heapOffset, registerWasmKernel } from './wasmSimd'

const DW_FILTER = 'HistStudioDepthwiseFilterGrad'
const DW_INPUT = 'HistStudioDepthwiseInputGrad'
const RELU6_GRAD = 'HistStudioRelu6Grad'

let originalRelu6: tf.GradConfig | undefined

/** Registers both kernels for wasm and routes the Relu6 gradient through them (idempotent). */
export function registerTrainingKernels(): void {
  registerWasmKernel(DW_FILTER, (k, b, { x, dy }, attrs) => {
    const [n, hp, wp, c] = x.shape
    const [, ho, wo] = dy.shape
    const { kh, kw, sh, sw } = attrs as { kh: number; kw: number; sh: number; sw: number }
    const out = b.makeOutput([kh, kw, c, 1], 'float32')
    const at = (t: tf.TensorInfo) => heapOffset(b, t)
    k.dwFilter(at(x), at(dy), at(out), n, hp, wp, c * 4, ho, wo, kh, kw, sh, sw)
    return out
  })
  registerWasmKernel(DW_INPUT, (k, b, { w, dy }, attrs) => {
    const [n, ho, wo, c] = dy.shape
    const [kh, kw] = w.shape
    const { hp, wp, sh, sw } = attrs as { hp: number; wp: number; sh: number; sw: number }
    const out = b.makeOutput([n, hp, wp, c], 'float32')
    const at = (t: tf.TensorInfo) => heapOffset(b, t)
    k.dwInput(at(w), at(dy), at(out), n, hp, wp, c * 4, ho, wo, kh, kw, sh, sw)
    return out
  })
  registerWasmKernel(RELU6_GRAD, (k, b, { x, dy }) => {
    const out = b.makeOutput(x.shape, 'float32')
    const n = x.shape.reduce((p, q) => p * q, 1)
    k.relu6Grad(heapOffset(b, x), heapOffset(b, dy), heapOffset(b, out), n)
    return out
  })
  if (originalRelu6) return
  const orig = tf.getGradient('Relu6')
  if (!orig) return
  originalRelu6 = orig
  // The gradient registry has no per-backend entries: fall through to tfjs's own elsewhere.
  tf.registerGradient({
    kernelName: 'Relu6',
    inputsToSave: orig.inputsToSave,
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved
      const d = dy as tf.Tensor
      if (x.dtype === 'float32' && d.dtype === 'float32' && simdOn(RELU6_GRAD))
        return { x: () => tf.engine().runKernel(RELU6_GRAD, { x, dy: d }) as tf.Tensor }
      return orig.gradFunc(dy, saved, attrs)
    }
  })
}

function simdOn(kernel: string): boolean {
  return activeSimdKernels() !== null && tf.getKernel(kernel, 'wasm') !== undefined
}

/**
 * Σ_{n,h,w} xp[n, h·sh+i, w·sw+j, c]·dy[n, h, w, c] as [kh, kw, C, 1] when the SIMD kernel can
 * run it (wasm, float32, C a multiple of 4), else null. `xp` is the forward input already
 * padded/cropped for a stride-1 'valid' correlation with the stride-dilated dy.
 */
export function depthwiseFilterGradSimd(
  xp: tf.Tensor4D,
  dy: tf.Tensor4D,
  kh: number,
  kw: number,
  sh: number,
  sw: number
): tf.Tensor4D | null {
  const c = xp.shape[3]
  if (c % 4 !== 0 || xp.dtype !== 'float32' || dy.dtype !== 'float32') return null
  if (!simdOn(DW_FILTER)) return null
  return tf.engine().runKernel(DW_FILTER, { x: xp, dy }, { kh, kw, sh, sw }) as tf.Tensor4D
}

/**
 * The gradient of a depthwise convolution's (multiplier 1, dilation 1) padded input
 * [n, hp, wp, C], where tap (i, j) of output (h, w) read padded pixel (h·sh + i, w·sw + j), when
 * the SIMD kernel can run it (wasm, float32, C a multiple of 4), else null. The caller crops it.
 */
export function depthwiseInputGradSimd(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  hp: number,
  wp: number,
  sh: number,
  sw: number
): tf.Tensor4D | null {
  const c = dy.shape[3]
  if (c % 4 !== 0 || filter.shape[3] !== 1 || dy.dtype !== 'float32') return null
  if (filter.dtype !== 'float32' || !simdOn(DW_INPUT)) return null
  return tf.engine().runKernel(DW_INPUT, { w: filter, dy }, { hp, wp, sh, sw }) as tf.Tensor4D
}
