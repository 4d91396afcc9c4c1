/**
 * The two-layer HGNN of HIST (Feng et al., AAAI 2019):
 * h = LeakyReLU_0.1(BatchNorm1d(G·Linear_1(x))), logits = G·Linear_2(h).
 * Linear_1's weight is stored transposed ([in, out]) so that x·W is a plain product; Linear_2's
 * [C, hidden] weight keeps PyTorch's layout and goes on the left of its product (see `linearWide`).
 */
import * as tf from '@tensorflow/tfjs'
import { customOp, matMul, saveForBackward } from '../losses/ops'
import { fastTranspose } from '../kernels/transpose'

/** BatchNorm1d epsilon, as PyTorch. */
export const BN_EPS = 1e-5
/** BatchNorm1d momentum of the running statistics, as PyTorch. */
export const BN_MOMENTUM = 0.1
/** Negative slope of the LeakyReLU. */
export const LEAKY_SLOPE = 0.1

/** The HGNN's tensors. */
export interface HgnnParams {
  /** Linear_1 weight, transposed: [D, hidden]. */
  w1t: tf.Tensor2D
  /** Linear_1 bias: [hidden]. */
  b1: tf.Tensor1D
  /** BatchNorm scale γ: [hidden]. */
  gamma: tf.Tensor1D
  /** BatchNorm shift β: [hidden]. */
  beta: tf.Tensor1D
  /** Linear_2 weight, PyTorch layout: [C, hidden]. */
  w2: tf.Tensor2D
  /** Linear_2 bias: [C]. */
  b2: tf.Tensor1D
}

/** HGNN outputs: per-class logits and the batch statistics of the BatchNorm (for the running averages). */
export interface HgnnOutput {
  /** One logit per training class: [N, C]. */
  logits: tf.Tensor2D
  /** Batch mean of the BatchNorm input: [hidden]. */
  batchMean: tf.Tensor1D
  /** Biased batch variance of the BatchNorm input: [hidden]. */
  batchVar: tf.Tensor1D
}

/**
 * y = h·Wᵀ + b for a wide layer (W [C, H] with C large), with a hand-written gradient that
 * uses plain products only, with W always the left operand (XNNPACK repacks a right operand on
 * every call, which for a fresh 11,318×512 matrix costs more than a SIMD transpose).
 */
const linearWideOp = customOp(([h, w, b], save) => {
  const yT = tf.add(
    tf.matMul(w as tf.Tensor2D, fastTranspose(h as tf.Tensor2D)),
    tf.expandDims(b, 1)
  )
  const restore = saveForBackward(save, [h, w])
  return {
    value: fastTranspose(yT as tf.Tensor2D),
    gradFunc: (dy, saved) => {
      const [sh, sw] = restore(saved) as tf.Tensor2D[]
      const dyT = fastTranspose(dy as tf.Tensor2D) as tf.Tensor2D // [C, N]
      const dW = tf.matMul(dyT, sh) // [C, H]
      const dB = tf.sum(dyT, 1)
      const dH = fastTranspose(tf.matMul(fastTranspose(sw as tf.Tensor2D), dyT)) // [N, H]
      return [dH, dW, dB]
    }
  }
})

/** h·Wᵀ + b with W [C, H] in PyTorch layout (fast for large C). */
export function linearWide(h: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  return linearWideOp(h, w, b) as tf.Tensor2D
}

/** Forward pass with the BatchNorm in training mode (batch statistics, biased variance). */
export function hgnnForward(x: tf.Tensor2D, g: tf.Tensor2D, p: HgnnParams): HgnnOutput {
  return tf.tidy(() => {
    const z = matMul(g, tf.add(matMul(x, p.w1t), p.b1) as tf.Tensor2D)
    const batchMean = tf.mean(z, 0) as tf.Tensor1D
    const centred = tf.sub(z, batchMean)
    const batchVar = tf.mean(tf.square(centred), 0) as tf.Tensor1D
    const normed = tf.add(
      tf.mul(tf.mul(centred, tf.rsqrt(tf.add(batchVar, BN_EPS))), p.gamma),
      p.beta
    )
    const h = tf.leakyRelu(normed as tf.Tensor2D, LEAKY_SLOPE)
    const logits = matMul(g, linearWide(h, p.w2, p.b2))
    return { logits, batchMean, batchVar }
  })
}
