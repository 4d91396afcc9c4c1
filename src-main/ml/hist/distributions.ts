/**
 * Prototypical distributions of HIST: per-class mean μ_c and diagonal log-variance ℓ_c, the
 * squared Mahalanobis distances of the embeddings to them, and the distribution loss L_ds.
 *
 * The distances never form the N×C×D difference tensor of the official code: expanding the
 * square, d = (x̂²)·(1/σ²)ᵀ − 2·x̂·(μ̂/σ²)ᵀ + Σ_f μ̂²/σ², three N×C products. The class tables
 * ([C, D], PyTorch layout) dominate the cost at SOP scale (C = 11,318), so this block has a
 * hand-written gradient: it touches each C×D tensor a minimal number of times, keeps the big
 * operands on the left of every product (see ../losses/ops.ts) and records nothing big on the
 * tape. The oracle tests check it against the authors' autograd.
 */
import * as tf from '@tensorflow/tfjs'
import { customOp, keepForBackward, l2Normalize, saveForBackward } from '../losses/ops'
import { fastTranspose } from '../kernels/transpose'
import { distBack, distPrep } from '../kernels/distance'

/** [N, C] distances from normalised embeddings xh and the raw class tables; custom gradient. */
const distanceCore = customOp(([xh, means, logVars], save) => {
  const x = xh as tf.Tensor2D
  const mu = means as tf.Tensor2D
  const lv = logVars as tf.Tensor2D
  const { p2, rn, bias } = distPrep(mu, lv)
  // [x̂², −2x̂] [N, 2D]: dᵀ = p2·s2ᵀ + bias, with the [C, 2D] table as the left operand.
  const s2 = tf.concat([tf.square(x), tf.mul(x, -2)], 1) as tf.Tensor2D
  const dT = tf.add(tf.matMul(p2, fastTranspose(s2) as tf.Tensor2D), bias)
  const restore = saveForBackward(save, [x, mu, lv])
  // The tables are kept as zero-copy aliases (a `save`d tensor would be copied on wasm).
  const kept = keepForBackward([p2, rn])
  return {
    value: fastTranspose(dT as tf.Tensor2D),
    gradFunc: (dy, saved) => {
      const [sx, smu, slv] = restore(saved) as tf.Tensor2D[]
      // The forward's [1/σ² | μ̂/σ²] and 1/‖μ‖ (recomputed only if they were not kept).
      const [p2k, rnk] = kept?.tensors ?? []
      const prep = p2k ? { p2: p2k as tf.Tensor2D, rn: rnk as tf.Tensor2D } : distPrep(smu, slv)
      const g = dy as tf.Tensor2D // dL/dd, [N, C]
      const gT = fastTranspose(g) as tf.Tensor2D // [C, N]
      // With A = gᵀ·x̂², B = gᵀ·x̂ ([C, D]) and gs = Σ_n g:
      //   dL/d(1/σ²) = A − 2μ̂∘B + μ̂²∘gs,  dL/dμ̂ = −2(1/σ²)∘(B − μ̂∘gs),  dL/dx̂ = 2x̂∘(g·(1/σ²)) − 2g·(μ̂/σ²)
      const { dMu, dLv } = distBack({
        mu: smu,
        lv: slv,
        p2: prep.p2,
        rn: prep.rn,
        // 1/‖μ‖ reaches 1e12 exactly where the norm was clamped (no gradient through the norm there)
        active: tf.cast(tf.less(prep.rn, 1e12), 'float32') as tf.Tensor2D,
        gs: tf.sum(gT, 1, true) as tf.Tensor2D,
        nb: tf.matMul(gT, tf.neg(tf.concat([tf.square(sx), tf.mul(sx, 2)], 1)) as tf.Tensor2D)
      })
      // [g·(1/σ²) | g·(μ̂/σ²)] [N, 2D]. As a right operand the fresh [C, 2D] table would be
      // repacked by XNNPACK, which costs more than one SIMD transpose and a left-operand product.
      const gp2 = fastTranspose(tf.matMul(fastTranspose(prep.p2), gT))
      const d = sx.shape[1]
      const [gIv, gMhiv] = tf.split(gp2, [d, d], 1)
      const dX = tf.mul(tf.sub(tf.mul(sx, gIv), gMhiv), 2)
      kept?.release()
      return [dX, dMu, dLv]
    }
  }
})

/**
 * Squared Mahalanobis distances d[i, c] [N, C] between L2-normalised embeddings x [N, D] and the
 * L2-normalised class means, with variances exp(relu6(ℓ)).
 * @param means class means μ, [C, D]
 * @param logVars class log-variances ℓ before relu6, [C, D]
 */
export function mahalanobisDistances(
  x: tf.Tensor2D,
  means: tf.Tensor2D,
  logVars: tf.Tensor2D
): tf.Tensor2D {
  return tf.tidy(() => distanceCore(l2Normalize(x, 1), means, logVars) as tf.Tensor2D)
}

/**
 * L_ds = mean_i −log softmax_c(−τ·d)[i, y_i], through log-softmax so that a sample whose
 * probability would underflow still has a finite loss and gradient (the official code's
 * −log(softmax) turns NaN there).
 * @param oneHot float one-hot labels [N, C]
 */
export function distributionLoss(d: tf.Tensor2D, oneHot: tf.Tensor2D, tau: number): tf.Scalar {
  return tf.tidy(() => {
    const logP = tf.logSoftmax(tf.mul(d, -tau) as tf.Tensor2D)
    return tf.neg(tf.mean(tf.sum(tf.mul(logP, oneHot), 1))) as tf.Scalar
  })
}
