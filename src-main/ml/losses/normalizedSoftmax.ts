/**
 * Normalized Softmax (Zhai & Wu, BMVC 2019): cross-entropy over cosine similarities to one
 * learnable proxy per class, scaled by `scale` (= 1 / temperature). Proxies are [C, D].
 */
import * as tf from '@tensorflow/tfjs'
import { BaseMetricLoss, requireFinite } from './base'
import { cosineToProxies, crossEntropy, oneHotFloat } from './ops'
import type { LossOptions } from './types'

/** The logits scale·cos(x, w_c) [N, C] for proxies stored [D, C]. */
export function normalizedSoftmaxLogits(
  x: tf.Tensor2D,
  proxies: tf.Tensor2D,
  scale: number
): tf.Tensor2D {
  return tf.tidy(() => tf.mul(cosineToProxies(x, proxies), scale) as tf.Tensor2D)
}

/** Normalized Softmax loss with proxies `<scope>/proxies`. */
export class NormalizedSoftmaxLoss extends BaseMetricLoss {
  readonly name = 'normalized-softmax' as const
  /** Class proxies: [C, D]. */
  readonly proxies: tf.Variable

  constructor(opts: LossOptions) {
    super(opts)
    requireFinite('scale', opts.scale, 'positive')
    // pytorch-metric-learning initialises these weights with a standard normal.
    const init = tf.randomNormal([opts.numClasses, opts.embeddingSize], 0, 1, 'float32', opts.seed)
    this.proxies = this.addVariable('proxies', init, { group: 'proxies' })
  }

  protected compute(x: tf.Tensor2D, labels: tf.Tensor1D) {
    const loss = tf.tidy(() => {
      const logits = normalizedSoftmaxLogits(x, this.proxies as tf.Tensor2D, this.opts.scale)
      return crossEntropy(logits, oneHotFloat(labels, this.opts.numClasses))
    })
    return { loss, parts: {} }
  }
}
