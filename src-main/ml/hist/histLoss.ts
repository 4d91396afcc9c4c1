/**
 * The HIST loss (Lim et al., CVPR 2022): L = L_ds + λ_s·CE(HGNN(x, G(H)), y), where the
 * hypergraph H comes from the prototypical distributions. `histForward` is the pure function
 * (every intermediate exposed, for the oracle tests); `HistLoss` owns the variables.
 */
import * as tf from '@tensorflow/tfjs'
import { BaseMetricLoss, requireFinite, requirePositiveInt } from '../losses/base'
import { crossEntropy, kaimingNormalFanOut, linearUniform, oneHotFloat } from '../losses/ops'
import type { LossOptions } from '../losses/types'
import { distributionLoss, mahalanobisDistances } from './distributions'
import { BN_MOMENTUM, hgnnForward, type HgnnParams } from './hgnn'
import {
  incidenceMatrix,
  pairwisePropagationMatrix,
  presentClasses,
  propagationMatrix
} from './hypergraph'

/** Hyper-parameters of the loss itself. */
export interface HistConfig {
  /** Softmax temperature τ of L_ds. */
  tau: number
  /** Hardness scale α of the incidence exp(−α·d). */
  alpha: number
  /** Weight λ_s of the HGNN cross-entropy. */
  ls: number
  /** Include L_ds in the total (default true); false leaves λ_s·CE alone (ablation). */
  ds?: boolean
  /** The HGNN's graph (default 'hypergraph'); 'graph' is the plain pairwise graph (ablation). */
  graph?: 'hypergraph' | 'graph'
}

/** All HIST tensors (PyTorch layouts, except Linear_1's weight). */
export interface HistParams {
  /** Class means μ: [C, D]. */
  means: tf.Tensor2D
  /** Class log-variances ℓ (before relu6): [C, D]. */
  logVars: tf.Tensor2D
  /** HGNN weights. */
  hgnn: HgnnParams
}

/** Every intermediate of one HIST forward pass. */
export interface HistOutputs {
  /** L_ds + λ_s·CE. */
  loss: tf.Scalar
  /** Distribution loss L_ds. */
  lds: tf.Scalar
  /** HGNN cross-entropy (unweighted). */
  ce: tf.Scalar
  /** Squared Mahalanobis distances [N, C]. */
  d: tf.Tensor2D
  /** Full-width incidence [N, C]; columns of classes absent from the batch are 0. */
  H: tf.Tensor2D
  /** Propagation matrix [N, N]. */
  G: tf.Tensor2D
  /** HGNN logits [N, C]. */
  logits: tf.Tensor2D
  /** BatchNorm batch mean [hidden]. */
  batchMean: tf.Tensor1D
  /** BatchNorm biased batch variance [hidden]. */
  batchVar: tf.Tensor1D
}

/** One HIST forward pass on embeddings x [N, D] with int32 labels [N]. Differentiable in x and all params. */
export function histForward(
  x: tf.Tensor2D,
  labels: tf.Tensor1D,
  p: HistParams,
  cfg: HistConfig
): HistOutputs {
  return tf.tidy(() => {
    const numClasses = p.means.shape[0]
    const oneHot = oneHotFloat(labels, numClasses)
    const d = mahalanobisDistances(x, p.means, p.logVars)
    const lds = distributionLoss(d, oneHot, cfg.tau)
    const H = incidenceMatrix(d, oneHot, cfg.alpha)
    const G =
      cfg.graph === 'graph'
        ? pairwisePropagationMatrix(H, oneHot)
        : propagationMatrix(H, presentClasses(oneHot))
    const { logits, batchMean, batchVar } = hgnnForward(x, G, p.hgnn)
    const ce = crossEntropy(logits, oneHot)
    const weightedCe = tf.mul(ce, cfg.ls) as tf.Scalar
    const loss = (cfg.ds === false ? weightedCe : tf.add(lds, weightedCe)) as tf.Scalar
    return { loss, lds, ce, d, H, G, logits, batchMean, batchVar }
  })
}

/** HIST as a MetricLoss: variables `<scope>/means`, `<scope>/log_vars`, `<scope>/hgnn/...`. */
export class HistLoss extends BaseMetricLoss {
  readonly name = 'hist' as const
  /** The live tensors, for direct use with `histForward`. */
  readonly params: HistParams
  private readonly runningMean: tf.Variable
  private readonly runningVar: tf.Variable
  private readonly cfg: HistConfig

  constructor(opts: LossOptions) {
    super(opts)
    requireFinite('tau', opts.tau, 'positive')
    requireFinite('alpha', opts.alpha, 'non-negative')
    requireFinite('ls', opts.ls, 'non-negative')
    requirePositiveInt('hgnnHidden', opts.hgnnHidden)
    this.minBatchSize = 2 // BatchNorm statistics need two samples
    if (opts.histDs === false && opts.ls === 0)
      throw new Error('HIST with neither L_ds (histDs off) nor the CE (ls 0) has no loss to train')
    this.cfg = {
      tau: opts.tau,
      alpha: opts.alpha,
      ls: opts.ls,
      ds: opts.histDs ?? true,
      graph: opts.histGraph ?? 'hypergraph'
    }
    const { numClasses: c, embeddingSize: d, hgnnHidden: h, seed } = opts
    const dist = { group: 'distributions' as const }
    const means = this.addVariable('means', kaimingNormalFanOut([c, d], seed), dist)
    const logVars = this.addVariable('log_vars', kaimingNormalFanOut([c, d], seed + 1), dist)
    const hg = { group: 'hgnn' as const }
    // Linear_1 is held transposed ([D, hidden]) for a plain x·W product; exported as [hidden, D].
    const w1t = this.addVariable('hgnn/theta1/weight', linearUniform([d, h], d, seed + 2), {
      ...hg,
      transposed: true
    })
    const b1 = this.addVariable('hgnn/theta1/bias', linearUniform([h], d, seed + 3), hg)
    const gamma = this.addVariable('hgnn/bn1/weight', tf.ones([h]), hg)
    const beta = this.addVariable('hgnn/bn1/bias', tf.zeros([h]), hg)
    const w2 = this.addVariable('hgnn/theta2/weight', linearUniform([c, h], h, seed + 4), hg)
    const b2 = this.addVariable('hgnn/theta2/bias', linearUniform([c], h, seed + 5), hg)
    this.runningMean = this.addVariable('hgnn/bn1/running_mean', tf.zeros([h]))
    this.runningVar = this.addVariable('hgnn/bn1/running_var', tf.ones([h]))
    this.params = {
      means: means as tf.Tensor2D,
      logVars: logVars as tf.Tensor2D,
      hgnn: {
        w1t: w1t as tf.Tensor2D,
        b1: b1 as tf.Tensor1D,
        gamma: gamma as tf.Tensor1D,
        beta: beta as tf.Tensor1D,
        w2: w2 as tf.Tensor2D,
        b2: b2 as tf.Tensor1D
      }
    }
  }

  protected compute(
    embeddings: tf.Tensor2D,
    labels: tf.Tensor1D
  ): { loss: tf.Scalar; parts: Record<string, tf.Scalar> } {
    const out = histForward(embeddings, labels, this.params, this.cfg)
    this.updateRunningStats(out.batchMean, out.batchVar, embeddings.shape[0])
    tf.dispose([out.d, out.H, out.G, out.logits, out.batchMean, out.batchVar])
    return { loss: out.loss, parts: { lds: out.lds, ce: out.ce } }
  }

  /** PyTorch BatchNorm1d bookkeeping: running mean and unbiased running variance, momentum 0.1. */
  private updateRunningStats(mean: tf.Tensor1D, biasedVar: tf.Tensor1D, n: number): void {
    tf.tidy(() => {
      const m = BN_MOMENTUM
      this.runningMean.assign(tf.add(tf.mul(this.runningMean, 1 - m), tf.mul(mean, m)))
      const unbiased = tf.mul(biasedVar, n / (n - 1))
      this.runningVar.assign(tf.add(tf.mul(this.runningVar, 1 - m), tf.mul(unbiased, m)))
    })
  }
}
