/**
 * The trained model of a run: an optional backbone (absent in frozen mode, where the loop feeds
 * cached pooled features), the embedding head, the metric loss with its parameters, and the
 * grouped Adam optimiser with the official parameter groups and learning rates:
 *   backbone at lr, embedding head at lr, distributions/proxies at lrDs, HGNN at lr × lrHgnnFactor,
 * each stepped down by StepLR. During warm-up epochs the backbone is not trained.
 */
import * as tf from '@tensorflow/tfjs'
import type { TrainConfig } from '../../../src-preload/contract/runs'
import { createLoss } from '../lossRegistry'
import type { MetricLoss } from '../losses'
import type { Backbone } from '../models/backbones'
import { EmbeddingHead, poolFeatures } from '../models/head'
import { GroupedAdam, stepLr, type AdamGroup } from '../optim'
import type { StepStages } from './accumulate'
import type { FitModel } from './loop'

/** A named array of numbers, the plain form of a tensor in checkpoints. */
export interface PlainTensor {
  name: string
  shape: number[]
  data: Float32Array | Int32Array
}

/** The model's whole trainable state as plain arrays, by part. */
export interface ModelState {
  sections: Record<string, PlainTensor[]>
  /** Adam step count per variable. */
  optimizerSteps: Record<string, number>
}

/**
 * Converts named tensors to plain arrays and disposes the tensors. Asynchronous, because a GPU
 * backend (webgpu) cannot download synchronously in Node; all downloads run together.
 */
export async function toPlain(tensors: Record<string, tf.Tensor>): Promise<PlainTensor[]> {
  const entries = Object.entries(tensors)
  try {
    const datas = await Promise.all(entries.map(([, t]) => t.data()))
    return entries.map(([name, t], i) => ({
      name,
      shape: [...t.shape],
      data:
        t.dtype === 'int32'
          ? Int32Array.from(datas[i] as Int32Array)
          : Float32Array.from(datas[i] as Float32Array)
    }))
  } finally {
    tf.dispose(entries.map(([, t]) => t))
  }
}

/** Converts plain arrays to named tensors (the caller disposes them). */
export function fromPlain(arrays: PlainTensor[]): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {}
  for (const a of arrays)
    out[a.name] = tf.tensor(a.data, a.shape, a.data instanceof Int32Array ? 'int32' : 'float32')
  return out
}

/** How to build the model. */
export interface BuildModelOptions {
  /** The backbone to fine-tune, or null when training on cached features (frozen mode). */
  backbone: Backbone | null
  /** Width of the head's input (the backbone's feature channels). */
  inChannels: number
  /** Number of training classes (size of the loss's class tables). */
  numClasses: number
}

/** The run's model; implements what the loop needs. */
export class TrainModel implements FitModel {
  readonly head: EmbeddingHead
  readonly loss: MetricLoss
  readonly optimizer: GroupedAdam
  readonly backbone: Backbone | null
  /** True when the backbone's weights are trained (fine-tune mode on a trainable backbone). */
  readonly trainsBackbone: boolean
  /** The backbone/head split for micro-batched steps; null in frozen mode (features in). */
  readonly stages: StepStages | null
  private readonly baseLr: Record<string, number>
  private readonly backboneVars: tf.Variable[]

  constructor(
    private config: TrainConfig,
    opts: BuildModelOptions
  ) {
    this.backbone = opts.backbone
    this.trainsBackbone = !!opts.backbone && opts.backbone.trainable && !config.frozen
    // Frozen BatchNorm (the HIST default) runs the backbone's BN in inference mode and keeps its
    // parameters out of the trainable set.
    opts.backbone?.setBnFrozen(config.bnFreeze)
    this.head = new EmbeddingHead(opts.inChannels, config.embeddingSize, config.seed)
    this.loss = createLoss(config.loss, {
      numClasses: opts.numClasses,
      embeddingSize: config.embeddingSize,
      tau: config.tau,
      alpha: config.alpha,
      ls: config.ls,
      histDs: config.histDs,
      histGraph: config.histGraph,
      hgnnHidden: config.hgnnHidden,
      margin: config.margin,
      scale: config.scale,
      seed: config.seed + 1
    })
    this.backboneVars = this.trainsBackbone ? opts.backbone!.trainableVariables() : []
    const bb = opts.backbone
    this.stages = bb
      ? {
          features: (x, training) =>
            tf.tidy(() => poolFeatures(bb.apply(x, training && this.trainsBackbone))),
          head: (f) => this.head.apply(f),
          backboneVariables: new Set(this.backboneVars)
        }
      : null
    const groupLr: Record<string, number> = {
      backbone: config.lr,
      embedding: config.lr,
      distributions: config.lrDs,
      proxies: config.lrDs,
      hgnn: config.lr * config.lrHgnnFactor
    }
    const groups: AdamGroup[] = []
    if (this.backboneVars.length)
      groups.push({
        name: 'backbone',
        variables: this.backboneVars,
        lr: config.lr,
        weightDecay: config.weightDecay
      })
    groups.push({
      name: 'embedding',
      variables: this.head.variables,
      lr: config.lr,
      weightDecay: config.weightDecay
    })
    for (const g of this.loss.paramGroups) {
      groups.push({
        name: g.name,
        variables: g.variables,
        lr: groupLr[g.name],
        weightDecay: config.weightDecay
      })
    }
    this.baseLr = Object.fromEntries(groups.map((g) => [g.name, g.lr]))
    this.optimizer = new GroupedAdam(groups, { decoupled: config.optimizer === 'adamw' })
  }

  /** Input → L2-free embedding (LayerNorm'd): features in frozen mode, images otherwise. */
  embed(x: tf.Tensor, training: boolean): tf.Tensor2D {
    if (!this.backbone) return this.head.apply(x as tf.Tensor2D)
    return tf.tidy(() =>
      this.head.apply(
        poolFeatures(this.backbone!.apply(x as tf.Tensor4D, training && this.trainsBackbone))
      )
    )
  }

  /** StepLR for every group; returns the embedding head's lr. */
  setEpoch(epoch: number): number {
    for (const [name, base] of Object.entries(this.baseLr)) {
      this.optimizer.setLr(
        name,
        stepLr(base, epoch, this.config.lrDecayStep, this.config.lrDecayGamma)
      )
    }
    return this.optimizer.getLr('embedding')
  }

  /** Head + loss parameters, plus the backbone's after the warm-up epochs. */
  trainableVariables(epoch: number): tf.Variable[] {
    const vars = [...this.head.variables, ...this.loss.paramGroups.flatMap((g) => g.variables)]
    if (this.backboneVars.length && epoch >= this.config.warm) vars.push(...this.backboneVars)
    return vars
  }

  /** Copies the whole state (weights of every trained part and the optimiser) to plain arrays. */
  async captureState(): Promise<ModelState> {
    const sections: Record<string, PlainTensor[]> = {
      head: await toPlain(this.head.getWeights()),
      loss: await toPlain(this.loss.getWeights())
    }
    if (this.trainsBackbone) sections.backbone = await toPlain(this.backbone!.getWeights())
    const opt = this.optimizer.getState()
    sections.optimizer = await toPlain(opt.tensors)
    return { sections, optimizerSteps: opt.step }
  }

  /** Restores a state from captureState (the optimiser part is optional: weights-only loads). */
  restoreState(state: ModelState, withOptimizer = true): void {
    const load = (part: string, set: (w: Record<string, tf.Tensor>) => void): void => {
      const arrays = state.sections[part]
      if (!arrays) throw new Error(`the checkpoint has no ${part} weights`)
      const w = fromPlain(arrays)
      try {
        set(w)
      } finally {
        tf.dispose(Object.values(w))
      }
    }
    load('head', (w) => this.head.setWeights(w))
    // A parameter-free loss (multi-similarity, triplet) writes an empty section, and a
    // checkpoint file keeps no empty section: nothing to restore then.
    if (this.loss.paramGroups.length || state.sections.loss)
      load('loss', (w) => this.loss.setWeights(w))
    if (this.trainsBackbone) load('backbone', (w) => this.backbone!.setWeights(w))
    if (withOptimizer)
      load('optimizer', (w) => this.optimizer.setState({ step: state.optimizerSteps, tensors: w }))
  }

  /** Frees the head, the loss and the optimiser state (the backbone belongs to the caller). */
  dispose(): void {
    this.optimizer.dispose()
    this.loss.dispose()
    this.head.dispose()
  }
}
