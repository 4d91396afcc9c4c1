/**
 * Proxy-Anchor loss (Kim et al., CVPR 2020), as the authors' code:
 * (1/|P⁺|)·Σ_{p∈P⁺} log(1 + Σ_{x∈X⁺_p} e^{−α(s(x,p)−δ)}) + (1/|P|)·Σ_{p∈P} log(1 + Σ_{x∈X⁻_p} e^{α(s(x,p)+δ)}),
 * with P⁺ the proxies of classes present in the batch. Proxies are [C, D].
 */
import * as tf from '@tensorflow/tfjs'
import { BaseMetricLoss } from './base'
import { cosineToProxies, kaimingNormalFanOut, oneHotFloat } from './ops'
import type { LossOptions } from './types'

/** Proxy-Anchor hyper-parameters (the paper's defaults). */
export interface ProxyAnchorConfig {
  /** Scale α (32). */
  alpha: number
  /** Margin δ (0.1). */
  delta: number
}

/** The defaults of the paper and the official code. */
export const PROXY_ANCHOR_DEFAULTS: ProxyAnchorConfig = { alpha: 32, delta: 0.1 }

/** Proxy-Anchor loss terms for proxies [C, D]. */
export function proxyAnchorTerms(
  x: tf.Tensor2D,
  labels: tf.Tensor1D,
  proxies: tf.Tensor2D,
  cfg: ProxyAnchorConfig = PROXY_ANCHOR_DEFAULTS
): { loss: tf.Scalar; pos: tf.Scalar; neg: tf.Scalar } {
  return tf.tidy(() => {
    const numClasses = proxies.shape[0]
    const cos = cosineToProxies(x, proxies) // [N, C]
    const pOneHot = oneHotFloat(labels, numClasses)
    const nOneHot = tf.sub(1, pOneHot)
    const posExp = tf.exp(tf.mul(tf.sub(cos, cfg.delta), -cfg.alpha))
    const negExp = tf.exp(tf.mul(tf.add(cos, cfg.delta), cfg.alpha))
    const numValid = tf.sum(tf.cast(tf.greater(tf.sum(pOneHot, 0), 0), 'float32'))
    const pos = tf.div(tf.sum(tf.log1p(tf.sum(tf.mul(pOneHot, posExp), 0))), numValid) as tf.Scalar
    const neg = tf.div(
      tf.sum(tf.log1p(tf.sum(tf.mul(nOneHot, negExp), 0))),
      numClasses
    ) as tf.Scalar
    return { loss: tf.add(pos, neg) as tf.Scalar, pos, neg }
  })
}

/** Proxy-Anchor loss with proxies `<scope>/proxies` (Kaiming-normal fan_out, as the official code). */
export class ProxyAnchorLoss extends BaseMetricLoss {
  readonly name = 'proxy-anchor' as const
  /** Class proxies: [C, D]. */
  readonly proxies: tf.Variable
  private readonly cfg: ProxyAnchorConfig

  constructor(opts: LossOptions, cfg: Partial<ProxyAnchorConfig> = {}) {
    super(opts)
    this.cfg = { ...PROXY_ANCHOR_DEFAULTS, ...cfg }
    const init = kaimingNormalFanOut([opts.numClasses, opts.embeddingSize], opts.seed)
    this.proxies = this.addVariable('proxies', init, { group: 'proxies' })
  }

  protected compute(x: tf.Tensor2D, labels: tf.Tensor1D) {
    const { loss, pos, neg } = proxyAnchorTerms(x, labels, this.proxies as tf.Tensor2D, this.cfg)
    return { loss, parts: { pos, neg } }
  }
}
