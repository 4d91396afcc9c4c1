/**
 * The metric-loss contract the trainer programs against. Plain types only, so that the HIST
 * module and the baselines can both implement it without importing each other.
 */
import type * as tf from '@tensorflow/tfjs'
import type { LossName } from '../../../src-preload/contract/runs'

/** The losses the studio can train with (the contract's one list). */
export type { LossName }

/** Every loss gets the same options; each uses the fields it needs and ignores the rest. */
export interface LossOptions {
  /** Number of training classes (size of the class-parameter tables). */
  numClasses: number
  /** Embedding dimension D. */
  embeddingSize: number
  /** HIST: softmax temperature τ of the distribution loss (32; 16 for SOP). */
  tau: number
  /** HIST: hardness scale α of the hypergraph incidence (0.9; 1.1 CUB, 2 SOP). */
  alpha: number
  /** HIST: weight λ_s of the HGNN cross-entropy. */
  ls: number
  /** HIST: include the distribution loss L_ds (default true; false for the CE-only ablation). */
  histDs?: boolean
  /** HIST: the HGNN's graph (default 'hypergraph'; 'graph' for the plain-graph ablation). */
  histGraph?: 'hypergraph' | 'graph'
  /** HIST: hidden width of the HGNN (512). */
  hgnnHidden: number
  /** Triplet: margin on Euclidean distances of L2-normalised embeddings. */
  margin: number
  /** Normalized Softmax: logit scale (= 1 / temperature). */
  scale: number
  /** Seed of the parameter initialisers, for reproducible runs. */
  seed: number
  /** Prefix of the variable names (defaults to the loss name); only needed to hold two losses of one kind at once. */
  scope?: string
}

/** A set of trainable variables that share a learning rate and weight decay. */
export interface ParamGroup {
  /** Which optimiser group these belong to (HIST: distributions at lr_ds, hgnn at lr × factor). */
  name: 'distributions' | 'hgnn' | 'proxies'
  /** The variables, with unique stable names (the optimiser keys its state by name). */
  variables: tf.Variable[]
}

/** A deep-metric-learning loss with its own (possibly empty) learnable parameters. */
export interface MetricLoss {
  /** Which loss this is. */
  readonly name: LossName
  /** Learnable parameters by optimiser group; empty for parameter-free losses. */
  readonly paramGroups: ParamGroup[]
  /**
   * Scalar total + named parts (HIST: { lds, ce }); labels int32 class indices in [0, numClasses).
   * Inside tf.variableGrads the parts are disposed with the forward pass unless tf.keep'd there.
   */
  forward(
    embeddings: tf.Tensor2D,
    labels: tf.Tensor1D
  ): { loss: tf.Scalar; parts: Record<string, tf.Scalar> }
  /** Named weight tensors for checkpoints (copies the caller disposes). */
  getWeights(): Record<string, tf.Tensor>
  /** Restores weights saved by getWeights (shapes must match; missing names are an error). */
  setWeights(w: Record<string, tf.Tensor>): void
  /** Frees every variable of the loss. */
  dispose(): void
}
