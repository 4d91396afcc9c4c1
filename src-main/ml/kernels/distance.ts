/**
 * The element-wise parts of the Mahalanobis distance block over the [C, D] class tables, as
 * fused wasm SIMD kernels (./wasmSimd.ts) when they are registered and the wasm backend is active, else as tfjs
 * ops. Both paths compute the same quantities; the oracle tests run on wasm and cpu.
 */
import * as tf from '@tensorflow/tfjs'
import { activeSimdKernels, heapOffset, registerWasmKernel } from './wasmSimd'

/** Clamp of the squared norm, as F.normalize's eps = 1e-12 on the norm. */
export const NORM_EPS2 = 1e-24

const PREP = 'HistStudioDistPrep'
const BACK = 'HistStudioDistBack'

/** Registers the two kernels for wasm (idempotent; called by registerFastKernels). */
export function registerDistanceKernels(): void {
  registerWasmKernel(PREP, (k, b, { mu, lv }) => {
    const [rows, cols] = mu.shape
    const outs = [
      b.makeOutput([rows, 2 * cols], 'float32'),
      b.makeOutput([rows, 1], 'float32'),
      b.makeOutput([rows, 1], 'float32')
    ]
    const at = (t: tf.TensorInfo) => heapOffset(b, t)
    k.distPrep(at(mu), at(lv), at(outs[0]), at(outs[1]), at(outs[2]), rows, cols)
    return outs
  })

  registerWasmKernel(BACK, (k, b, { mu, lv, p2, rn, active, gs, nb }) => {
    const [rows, cols] = mu.shape
    const outs = [b.makeOutput([rows, cols], 'float32'), b.makeOutput([rows, cols], 'float32')]
    const at = (t: tf.TensorInfo) => heapOffset(b, t)
    k.distBack(
      at(mu),
      at(lv),
      at(p2),
      at(rn),
      at(active),
      at(gs),
      at(nb),
      at(outs[0]),
      at(outs[1]),
      rows,
      cols
    )
    return outs
  })
}

/** Forward quantities of the distance block. */
export interface DistPrep {
  /** [1/σ² | μ̂/σ²]: [C, 2D]. */
  p2: tf.Tensor2D
  /** 1/max(‖μ_c‖, 1e-12): [C, 1]. */
  rn: tf.Tensor2D
  /** Σ_f μ̂²/σ²: [C, 1]. */
  bias: tf.Tensor2D
}

/** True when the fused kernels will be used (wasm backend with SIMD). */
export function fusedDistanceKernels(): boolean {
  return activeSimdKernels() !== null && tf.getKernel(PREP, 'wasm') !== undefined
}

/** p2, rn, bias from the means and log-variances [C, D]. */
export function distPrep(
  mu: tf.Tensor2D,
  lv: tf.Tensor2D,
  fused = fusedDistanceKernels()
): DistPrep {
  if (fused) {
    const [p2, rn, bias] = tf.engine().runKernel(PREP, { mu, lv }) as tf.Tensor2D[]
    return { p2, rn, bias }
  }
  return tf.tidy(() => {
    const rn = tf.rsqrt(tf.maximum(tf.sum(tf.square(mu), 1, true), NORM_EPS2)) as tf.Tensor2D
    const muh = tf.mul(mu, rn)
    const iv = tf.exp(tf.neg(tf.relu6(lv)))
    const mhiv = tf.mul(muh, iv)
    const bias = tf.sum(tf.mul(muh, mhiv), 1, true) as tf.Tensor2D
    return { p2: tf.concat([iv, mhiv], 1) as tf.Tensor2D, rn, bias }
  })
}

/** Inputs of the element-wise backward. */
export interface DistBackInputs {
  /** Means [C, D]. */
  mu: tf.Tensor2D
  /** Log-variances [C, D]. */
  lv: tf.Tensor2D
  /** [1/σ² | μ̂/σ²] from distPrep: [C, 2D]. */
  p2: tf.Tensor2D
  /** 1/‖μ_c‖ [C, 1]. */
  rn: tf.Tensor2D
  /** 1 where ‖μ_c‖² > 1e-24 (the normalisation is differentiable), else 0: [C, 1]. */
  active: tf.Tensor2D
  /** Σ_n dL/dd[n, c]: [C, 1]. */
  gs: tf.Tensor2D
  /** [−gᵀ·x̂² | −2·gᵀ·x̂]: [C, 2D]. */
  nb: tf.Tensor2D
}

/** dL/dμ and dL/dℓ [C, D] from the products of the backward pass. */
export function distBack(
  a: DistBackInputs,
  fused = fusedDistanceKernels()
): { dMu: tf.Tensor2D; dLv: tf.Tensor2D } {
  if (fused) {
    const [dMu, dLv] = tf.engine().runKernel(BACK, { ...a }) as tf.Tensor2D[]
    return { dMu, dLv }
  }
  return tf.tidy(() => {
    const d = a.mu.shape[1]
    const [iv] = tf.split(a.p2, [d, d], 1)
    const [negA, negB2] = tf.split(a.nb, [d, d], 1)
    const muh = tf.mul(a.mu, a.rn)
    const t = tf.mul(muh, a.gs) // μ̂∘gs
    const q = tf.add(negB2, t) // −2B + μ̂∘gs
    const dMuh = tf.mul(iv, tf.add(q, t))
    const inRange = tf.cast(tf.logicalAnd(tf.greater(a.lv, 0), tf.less(a.lv, 6)), 'float32')
    const dLv = tf.mul(tf.mul(tf.sub(negA, tf.mul(muh, q)), iv), inRange) as tf.Tensor2D
    const proj = tf.mul(tf.sum(tf.mul(dMuh, muh), 1, true), a.active)
    const dMu = tf.mul(tf.sub(dMuh, tf.mul(muh, proj)), a.rn) as tf.Tensor2D
    return { dMu, dLv }
  })
}
