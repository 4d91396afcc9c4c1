/**
 * Triplet loss with semi-hard negative mining (Schroff et al., FaceNet 2015), with the
 * semantics of TensorFlow Addons' triplet_semihard_loss: for every positive pair (a, p), the
 * negative is the closest n with d(a,n) > d(a,p); if there is none, the farthest negative.
 * Loss = mean over positive pairs of max(d(a,p) − d(a,n) + margin, 0); pairs whose anchor has no
 * negative in the batch are left out. Distances are Euclidean between L2-normalised embeddings.
 */
import * as tf from '@tensorflow/tfjs'
import { BaseMetricLoss, requireFinite } from './base'
import { l2Normalize, matMul, noGrad, sameLabelMatrix } from './ops'
import type { LossOptions } from './types'

const BIG = 1e4

/** One-hot choice of the negative for every (a, p): [a, p, n]. */
function semiHardSelection(d: tf.Tensor2D, same: tf.Tensor2D): tf.Tensor3D {
  const n = d.shape[0]
  const negMask = tf.sub(1, same)
  // cand[a, p, n]: n is a negative of a farther than p.
  const dAN = tf.expandDims(d, 1) // [a, 1, n]
  const dAP = tf.expandDims(d, 2) // [a, p, 1]
  const cand = tf.mul(tf.expandDims(negMask, 1), tf.cast(tf.greater(dAN, dAP), 'float32'))
  const hasCand = tf.greater(tf.max(cand, 2), 0) // [a, p]
  const semiHard = tf.argMin(tf.add(dAN, tf.mul(tf.sub(1, cand), BIG)), 2) // [a, p]
  const farthest = tf.argMax(tf.sub(d, tf.mul(tf.sub(1, negMask), BIG)), 1) // [a]
  const idx = tf.where(hasCand, semiHard, tf.broadcastTo(tf.expandDims(farthest, 1), [n, n]))
  return tf.cast(tf.oneHot(idx as tf.Tensor2D, n), 'float32') as tf.Tensor3D
}

/** Pairwise Euclidean distances of L2-normalised rows; clamped at 1e-12 before sqrt so that identical points get a zero, not NaN, gradient. */
export function normalizedDistances(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const xh = l2Normalize(x, 1)
    const sq = tf.sub(2, tf.mul(matMul(xh, tf.transpose(xh)), 2))
    return tf.sqrt(tf.maximum(sq, 1e-12)) as tf.Tensor2D
  })
}

/** Semi-hard triplet loss and the fraction of positive pairs with a non-zero loss. */
export function tripletSemiHard(
  x: tf.Tensor2D,
  labels: tf.Tensor1D,
  margin: number
): { loss: tf.Scalar; active: tf.Scalar } {
  return tf.tidy(() => {
    const n = x.shape[0]
    const d = normalizedDistances(x)
    const same = sameLabelMatrix(labels)
    const sel = noGrad(
      (dist, sm) => semiHardSelection(dist as tf.Tensor2D, sm as tf.Tensor2D),
      d,
      same
    ) // [a, p, n]
    const dNeg = tf.sum(tf.mul(tf.expandDims(d, 1), sel), 2) // d(a, n*), differentiable
    const negMask = tf.sub(1, same)
    const hasNeg = tf.cast(tf.greater(tf.sum(negMask, 1, true), 0), 'float32') // [a, 1]
    const valid = tf.mul(tf.sub(same, tf.eye(n)), hasNeg) // positive pairs whose anchor has a negative
    const per = tf.mul(tf.relu(tf.add(tf.sub(d, dNeg), margin)), valid)
    const count = tf.maximum(tf.sum(valid), 1)
    const loss = tf.div(tf.sum(per), count) as tf.Scalar
    const active = tf.div(
      tf.sum(tf.mul(tf.cast(tf.greater(per, 0), 'float32'), valid)),
      count
    ) as tf.Scalar
    return { loss, active }
  })
}

/** Triplet loss with semi-hard mining (no parameters). */
export class TripletLoss extends BaseMetricLoss {
  readonly name = 'triplet' as const

  constructor(opts: LossOptions) {
    super(opts)
    requireFinite('margin', opts.margin, 'non-negative')
  }

  protected compute(x: tf.Tensor2D, labels: tf.Tensor1D) {
    const { loss, active } = tripletSemiHard(x, labels, this.opts.margin)
    return { loss, parts: { active } }
  }
}
