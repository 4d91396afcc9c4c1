/**
 * Multi-Similarity loss with its pair mining (Wang et al., CVPR 2019), as the authors' code:
 * for anchor i, negatives with S_ik + ε > min positive similarity and positives with
 * S_ij − ε < max negative similarity are kept; then
 * L_i = (1/α)·log(1 + Σ_P e^{−α(S_ij−λ)}) + (1/β)·log(1 + Σ_N e^{β(S_ik−λ)}),
 * summed over anchors that keep at least one pair of each kind and divided by the batch size.
 * The anchor itself is excluded by index (the official code drops similarities ≥ 1 − 1e-5).
 */
import * as tf from '@tensorflow/tfjs'
import { BaseMetricLoss } from './base'
import { l2Normalize, matMul, noGrad, sameLabelMatrix } from './ops'
import type { LossOptions } from './types'

/** Multi-Similarity hyper-parameters. */
export interface MultiSimilarityConfig {
  /** Positive scale α (2). */
  alpha: number
  /** Negative scale β (50). */
  beta: number
  /** Similarity offset λ (the paper's tables use 1, the official code 0.5; we use 0.5). */
  lambda: number
  /** Mining margin ε (0.1). */
  epsilon: number
}

/** The official code's defaults. */
export const MULTI_SIMILARITY_DEFAULTS: MultiSimilarityConfig = {
  alpha: 2,
  beta: 50,
  lambda: 0.5,
  epsilon: 0.1
}

const BIG = 1e4

/** The official mining rule as 1/0 masks, stacked [keptPos, keptNeg, valid anchor (row-broadcast)]: [3, N, N]. */
function miningMasks(s: tf.Tensor2D, same: tf.Tensor2D, epsilon: number): tf.Tensor3D {
  const n = s.shape[0]
  const posMask = tf.sub(same, tf.eye(n))
  const negMask = tf.sub(1, same)
  const minPos = tf.min(tf.add(s, tf.mul(tf.sub(1, posMask), BIG)), 1, true)
  const maxNeg = tf.max(tf.sub(s, tf.mul(tf.sub(1, negMask), BIG)), 1, true)
  const keptNeg = tf.mul(negMask, tf.cast(tf.greater(tf.add(s, epsilon), minPos), 'float32'))
  const keptPos = tf.mul(posMask, tf.cast(tf.less(tf.sub(s, epsilon), maxNeg), 'float32'))
  const valid = tf.mul(
    tf.cast(tf.greater(tf.sum(keptPos, 1, true), 0), 'float32'),
    tf.cast(tf.greater(tf.sum(keptNeg, 1, true), 0), 'float32')
  )
  return tf.stack([keptPos, keptNeg, tf.mul(valid, tf.onesLike(s))]) as tf.Tensor3D
}

/** The loss and its positive / negative halves. */
export function multiSimilarityTerms(
  x: tf.Tensor2D,
  labels: tf.Tensor1D,
  cfg: MultiSimilarityConfig = MULTI_SIMILARITY_DEFAULTS
): { loss: tf.Scalar; pos: tf.Scalar; neg: tf.Scalar } {
  return tf.tidy(() => {
    const n = x.shape[0]
    const xh = l2Normalize(x, 1)
    const s = matMul(xh, tf.transpose(xh)) // [N, N]
    // [keptPos, keptNeg, valid (broadcast)] mined off the tape.
    const masks = noGrad(
      (sim, same) => miningMasks(sim as tf.Tensor2D, same as tf.Tensor2D, cfg.epsilon),
      s,
      sameLabelMatrix(labels)
    )
    const [keptPos, keptNeg, validRows] = tf.unstack(masks)
    const valid = tf.max(validRows, 1)
    const posSum = tf.sum(tf.mul(keptPos, tf.exp(tf.mul(tf.sub(s, cfg.lambda), -cfg.alpha))), 1)
    const negSum = tf.sum(tf.mul(keptNeg, tf.exp(tf.mul(tf.sub(s, cfg.lambda), cfg.beta))), 1)
    const pos = tf.div(tf.sum(tf.mul(valid, tf.log1p(posSum))), cfg.alpha * n) as tf.Scalar
    const neg = tf.div(tf.sum(tf.mul(valid, tf.log1p(negSum))), cfg.beta * n) as tf.Scalar
    return { loss: tf.add(pos, neg) as tf.Scalar, pos, neg }
  })
}

/** Multi-Similarity loss (no parameters). */
export class MultiSimilarityLoss extends BaseMetricLoss {
  readonly name = 'multi-similarity' as const
  private readonly cfg: MultiSimilarityConfig

  constructor(opts: LossOptions, cfg: Partial<MultiSimilarityConfig> = {}) {
    super(opts)
    this.cfg = { ...MULTI_SIMILARITY_DEFAULTS, ...cfg }
  }

  protected compute(x: tf.Tensor2D, labels: tf.Tensor1D) {
    const { loss, pos, neg } = multiSimilarityTerms(x, labels, this.cfg)
    return { loss, parts: { pos, neg } }
  }
}
