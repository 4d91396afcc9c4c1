/**
 * One optimisation step: tf.tidy + tf.variableGrads + GroupedAdam.applyGradients, with the loss
 * and its parts read back and checked before the update, so that a NaN or Inf never reaches the
 * weights and the run stops with the step and the part that went wrong.
 */
import * as tf from '@tensorflow/tfjs'
import type { MetricLoss } from '../losses/types'
import type { GroupedAdam } from '../optim'
import { gradCacheGrads, type StepGrads, type StepStages } from './accumulate'

/** Thrown when a loss part or a gradient is NaN or infinite. */
export class NonFiniteLossError extends Error {
  constructor(
    readonly step: number,
    readonly part: string,
    readonly value: number
  ) {
    super(
      `training stopped: ${part} became ${value} at step ${step} (before the update; the last checkpoint is intact)`
    )
    this.name = 'NonFiniteLossError'
  }
}

/** What a step needs from the model. */
export interface StepModel {
  /** Batch input (features or images) → embeddings [N, D]. */
  embed(x: tf.Tensor, training: boolean): tf.Tensor2D
  loss: MetricLoss
  optimizer: GroupedAdam
  /** The backbone/head split, when the input is images through a backbone (micro-batching). */
  readonly stages?: StepStages | null
}

/** The numbers of one step. */
export interface StepResult {
  loss: number
  parts: Record<string, number>
}

/**
 * The loss and the gradients of `vars` for one batch: one tape over the whole batch, or, when
 * `microBatch` is smaller than the batch and the model has stages, the gradient cache over
 * micro-batches (the same gradient of the same full-batch loss, in bounded memory; see
 * accumulate.ts). The loss parts go to `kept` (the caller disposes them).
 */
export function computeGrads(
  model: StepModel,
  x: tf.Tensor,
  y: tf.Tensor1D,
  vars: tf.Variable[],
  kept: Record<string, tf.Scalar>,
  microBatch?: number
): StepGrads {
  if (model.stages && microBatch && microBatch < x.shape[0])
    return gradCacheGrads(model.stages, model.loss, x as tf.Tensor4D, y, vars, microBatch, kept)
  // The gradients leave the tidy (returned tensors survive it).
  return tf.tidy(() =>
    tf.variableGrads(() => {
      const emb = model.embed(x, true)
      const res = model.loss.forward(emb, y)
      // The parts would be freed with the tape's scope; keep them to read them afterwards.
      for (const [k, t] of Object.entries(res.parts)) kept[k] = tf.keep(t)
      return res.loss
    }, vars)
  )
}

/**
 * Runs one training step on input `x` with int32 labels `y`, differentiating `vars` only.
 * Every tensor it makes is disposed before it returns (x and y stay the caller's).
 * `microBatch` (images) bounds the backbone's memory with an exact gradient (computeGrads).
 *
 * The loss, its parts and one gradient checksum are the only read-backs, in one asynchronous
 * download: on a GPU backend (webgpu) a synchronous read is impossible in Node and everything
 * else stays on the device; on wasm/cpu it costs the same as dataSync.
 */
export async function trainStep(
  model: StepModel,
  x: tf.Tensor,
  y: tf.Tensor1D,
  vars: tf.Variable[],
  step: number,
  microBatch?: number
): Promise<StepResult> {
  const kept: Record<string, tf.Scalar> = {}
  // The update runs outside any tidy, because the optimiser's new moment tensors must not
  // belong to that scope.
  let out: StepGrads | null = null
  try {
    out = computeGrads(model, x, y, vars, kept, microBatch)
    const { value, grads } = out
    const partNames = Object.keys(kept)
    const names = Object.keys(grads)
    // One read-back: [loss, ...parts, Σ of all gradients] (a NaN or Inf anywhere makes the sum
    // non-finite), so a GPU step downloads a handful of floats.
    const packed = tf.tidy(() =>
      tf.stack([
        tf.reshape(value, []),
        ...partNames.map((k) => tf.reshape(kept[k], [])),
        names.length ? tf.addN(names.map((n) => tf.sum(grads[n]))) : tf.scalar(0)
      ])
    )
    const nums = await packed.data()
    packed.dispose()
    const loss = nums[0]
    const parts: Record<string, number> = {}
    partNames.forEach((k, i) => (parts[k] = nums[i + 1]))
    for (const [k, v] of Object.entries(parts))
      if (!Number.isFinite(v)) throw new NonFiniteLossError(step, `the loss part ${k}`, v)
    if (!Number.isFinite(loss)) throw new NonFiniteLossError(step, 'the total loss', loss)
    const total = nums[partNames.length + 1]
    if (!Number.isFinite(total)) {
      const sums = tf.tidy(() => tf.stack(names.map((n) => tf.sum(grads[n]))))
      const each = await sums.data()
      sums.dispose()
      const bad = names.find((_, i) => !Number.isFinite(each[i])) ?? names[0]
      throw new NonFiniteLossError(step, `the gradient of ${bad}`, total)
    }
    model.optimizer.applyGradients(grads)
    return { loss, parts }
  } finally {
    if (out) tf.dispose([out.value, ...Object.values(out.grads)])
    for (const t of Object.values(kept)) t.dispose()
  }
}
