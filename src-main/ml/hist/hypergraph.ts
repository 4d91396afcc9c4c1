/**
 * Semantic tuplets → hypergraph. Only classes present in the batch make hyperedges:
 * H[i, j] = 1 if y_i = c_j, else exp(−α·d(x_i, c_j)).
 *
 * For training the incidence is kept at full width [N, C] with the columns of absent classes
 * zeroed. That gives exactly the same propagation matrix G as the official compacted [N, K]
 * matrix (zero columns add nothing to the degrees or to H·De⁻¹·Hᵀ), keeps shapes static and
 * needs neither a label download nor a gather (whose gradient wasm lacks).
 */
import * as tf from '@tensorflow/tfjs'
import { matMul } from '../losses/ops'

/** Sorted unique labels, the column order of the official `class_within_batch`. */
export function classesWithinBatch(labels: ArrayLike<number>): number[] {
  return [...new Set(Array.from(labels))].sort((a, b) => a - b)
}

/** 1 for classes with at least one sample in the batch, else 0: [C]. */
export function presentClasses(oneHot: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.cast(tf.greater(tf.sum(oneHot, 0), 0), 'float32') as tf.Tensor1D)
}

/** Full-width incidence [N, C]: the HIST hyperedge weights on present classes, 0 on absent ones. */
export function incidenceMatrix(d: tf.Tensor2D, oneHot: tf.Tensor2D, alpha: number): tf.Tensor2D {
  return tf.tidy(() => {
    const soft = tf.exp(tf.mul(d, -alpha))
    const h = tf.add(oneHot, tf.mul(soft, tf.sub(1, oneHot)))
    return tf.mul(h, presentClasses(oneHot)) as tf.Tensor2D
  })
}

/** The official compact incidence [N, K] over `classesWithinBatch` (for inspection and tests; no gradient needed). */
export function compactIncidence(fullH: tf.Tensor2D, classes: number[]): tf.Tensor2D {
  return tf.tidy(() => tf.gather(fullH, tf.tensor1d(classes, 'int32'), 1) as tf.Tensor2D)
}

/**
 * HGNN propagation matrix G = Dv^-1/2 · H · W · De^-1 · Hᵀ · Dv^-1/2 with W = I, Dv = H·1,
 * De = Hᵀ·1.
 * @param present 1/0 per column of `h` (from the labels, so off the gradient tape); zero columns
 *   get De = 1 before inverting so their 0·∞ never reaches the gradient. Omit it when every
 *   column is a real hyperedge (the compact form).
 */
export function propagationMatrix(h: tf.Tensor2D, present?: tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(() => {
    const dvInvSqrt = tf.rsqrt(tf.sum(h, 1, true)) // [N, 1]
    const de = tf.sum(h, 0) // [C]
    const deInv = present ? tf.div(present, tf.add(de, tf.sub(1, present))) : tf.reciprocal(de)
    const a = tf.mul(h, dvInvSqrt) // Dv^-1/2 H
    return matMul(tf.mul(a, deInv) as tf.Tensor2D, tf.transpose(a) as tf.Tensor2D)
  })
}

/**
 * The plain-graph ablation of HIST: pairwise edges between the batch's samples instead of
 * hyperedges. A[i, j] = H[i, y_j] (1 for a same-class pair, else exp(−α·d(x_i, c_{y_j}))), made
 * symmetric, then normalised as a GCN does: G = D^-1/2 · A · D^-1/2 with D = A·1. Self-loops
 * are in A already (A[i, i] = 1). Costs one N×C×N product.
 */
export function pairwisePropagationMatrix(h: tf.Tensor2D, oneHot: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const a = matMul(h, tf.transpose(oneHot) as tf.Tensor2D)
    const sym = tf.mul(tf.add(a, tf.transpose(a)), 0.5) as tf.Tensor2D
    const dInvSqrt = tf.rsqrt(tf.sum(sym, 1, true)) // [N, 1]
    return tf.mul(tf.mul(sym, dInvSqrt), tf.transpose(dInvSqrt)) as tf.Tensor2D
  })
}
