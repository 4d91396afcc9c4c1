/**
 * Gradient accumulation for fine-tuning in bounded memory, exact for HIST's batch-level loss.
 *
 * HIST's loss is not a sum over images: the hypergraph, its degree normalisation and the HGNN
 * couple every embedding of the batch. Summing the gradients of micro-batch losses would train
 * a different (micro-batch) loss. Instead this is the "gradient cache" (Gao et al., 2021):
 *   1. the backbone runs over the batch in micro-batches WITHOUT a tape, keeping only the pooled
 *      features F [N, C] (the big activations of one micro-batch are freed before the next);
 *   2. the head and the loss run on the whole batch with a tape, giving the loss, the gradients
 *      of the head and loss parameters, and G = ∂L/∂F [N, C];
 *   3. each micro-batch k runs through the backbone again WITH a tape, and the gradient of the
 *      surrogate Σ(F_k ⊙ G_k) w.r.t. the backbone's weights (= Σ (∂F_k/∂θ)ᵀ G_k, the chain rule)
 *      is added up over k.
 * The result is the gradient of the full-batch loss, equal to one whole-batch step up to the
 * order of float additions, as long as the backbone is a deterministic function of its input in
 * step 1 and 3: BatchNorm in inference mode (frozen BN, the HIST default) and no Dropout. With BN
 * training, batch statistics of a micro-batch differ from the batch's, so the contract refuses an
 * explicit micro-batch then and 'auto' does not split. The price is a second backbone forward
 * pass per batch (roughly a third of a forward + backward step; not measured separately).
 */
import * as tf from '@tensorflow/tfjs'
import type { MicroBatchSetting } from '../../../src-preload/contract/runs'
import type { MetricLoss } from '../losses/types'

/** The model split where the gradient is cached: backbone + pooling, then the head. */
export interface StepStages {
  /** Images [n, S, S, 3] → pooled backbone features [n, C]. */
  features(x: tf.Tensor4D, training: boolean): tf.Tensor2D
  /** Pooled features → embeddings [n, D]. */
  head(f: tf.Tensor2D): tf.Tensor2D
  /** The backbone's trainable variables (those differentiated through step 3). */
  backboneVariables: ReadonlySet<tf.Variable>
}

/**
 * Pixels of one micro-batch that the wasm backend's 4 GB heap holds while fine-tuning
 * MobileNetV2 (activations and their gradients) with tfjs's own kernels: batch 8 at 224 px
 * trains (1.4 GB peak), batch 32 runs out.
 */
export const WASM_MICRO_BATCH_PIXELS = 8 * 224 * 224

/**
 * The same budget when the wasm-simd fast path keeps conv + bias + relu6 one fused kernel while
 * training (ml/kernels/fusedConv.ts): one tape over batch 32 at 224 px peaks at 2.6 GB with
 * BatchNorm frozen, and skips the gradient cache's second forward pass (bench:finetune: about a
 * fifth less CPU per step than 4 × 8). Training BatchNorm still runs out at batch 32.
 */
export const WASM_FUSED_BATCH_PIXELS = 32 * 224 * 224

/** What resolving 'auto' depends on. */
export interface MicroBatchContext {
  batchSize: number
  /** The tfjs backend in use (tf.getBackend()). */
  backend: string
  /** The backbone's input side in px. */
  inputSize: number
  /**
   * True when images go through a backbone whose BatchNorm is not training (frozen BN or not
   * trainable): only then is splitting exact. False in frozen mode (features, nothing to split).
   */
  splittable: boolean
  /**
   * True when the wasm-simd fast path (fused conv + relu6 training kernel) is active, which
   * lets a whole MobileNetV2 batch of 32 fit the heap (see WASM_FUSED_BATCH_PIXELS).
   */
  fusedConv?: boolean
}

/** Pixels of a batch that fits the wasm heap in one pass, given the active kernels. */
function wasmBudget(c: MicroBatchContext): number {
  return c.fusedConv && c.splittable ? WASM_FUSED_BATCH_PIXELS : WASM_MICRO_BATCH_PIXELS
}

/**
 * The micro-batch size a run uses: the whole batch unless splitting is possible and either asked
 * for (a number) or needed ('auto': wasm, whose heap holds MobileNetV2 at batch 32 and 224 px
 * only with the fused conv kernel; otherwise micro-batches of 8).
 */
export function resolveMicroBatch(setting: MicroBatchSetting, c: MicroBatchContext): number {
  if (!c.splittable) return c.batchSize
  // A config stored before the setting existed has none: 'auto'.
  if (typeof setting === 'number') return Math.max(1, Math.min(setting, c.batchSize))
  if (c.backend !== 'wasm') return c.batchSize
  const fit = Math.floor(wasmBudget(c) / (c.inputSize * c.inputSize))
  return Math.max(1, Math.min(fit, c.batchSize))
}

/**
 * Why a fine-tuning batch may not fit the backend's memory although it is not split (training
 * BatchNorm forbids an exact split), or null. Only wasm's fixed 4 GB heap is known: twice the
 * micro-batch budget (16 images at 224 px) is the most measured to fit there.
 */
export function memoryRisk(
  micro: number,
  c: MicroBatchContext & { fineTunes: boolean }
): string | null {
  if (!c.fineTunes || c.backend !== 'wasm' || micro < c.batchSize) return null
  const budget = c.fusedConv && c.splittable ? WASM_FUSED_BATCH_PIXELS : 2 * WASM_MICRO_BATCH_PIXELS
  if (micro * c.inputSize * c.inputSize <= budget) return null
  const what = `a batch of ${c.batchSize} at ${c.inputSize} px may not fit the wasm backend's 4 GB memory`
  return c.splittable
    ? `${what} in one pass: set the micro-batch to auto (or 8)`
    : `${what}, and with BatchNorm training it cannot be split into exact micro-batches: freeze BatchNorm (then it is split automatically) or lower the batch size`
}

/** [start, size] of each micro-batch of n rows. */
export function microBatches(n: number, micro: number): [number, number][] {
  const out: [number, number][] = []
  for (let s = 0; s < n; s += micro) out.push([s, Math.min(micro, n - s)])
  return out
}

/** Rows [start, start + size) of a tensor along axis 0. */
function rows<T extends tf.Tensor>(t: T, start: number, size: number): T {
  const begin = t.shape.map((_, i) => (i === 0 ? start : 0))
  const len = t.shape.map((d, i) => (i === 0 ? size : d))
  return tf.slice(t, begin, len) as T
}

/** The loss of a step and the gradients of its variables (what a step applies). */
export interface StepGrads {
  value: tf.Scalar
  grads: tf.NamedTensorMap
}

/**
 * The loss and gradients of one batch through the gradient cache (see the top of the file).
 * `kept` receives the loss parts (kept tensors the caller disposes). Returned tensors are the
 * caller's; everything else is freed.
 */
export function gradCacheGrads(
  stages: StepStages,
  loss: MetricLoss,
  x: tf.Tensor4D,
  y: tf.Tensor1D,
  vars: tf.Variable[],
  micro: number,
  kept: Record<string, tf.Scalar>
): StepGrads {
  const chunks = microBatches(x.shape[0], micro)
  const bbVars = vars.filter((v) => v.trainable && stages.backboneVariables.has(v))
  const headVars = vars.filter((v) => v.trainable && !stages.backboneVariables.has(v))
  // 1. Pooled features of the whole batch, one micro-batch's activations alive at a time.
  const feats = tf.tidy(() =>
    tf.concat(
      chunks.map(([s, k]) => tf.tidy(() => stages.features(rows(x, s, k), true))),
      0
    )
  )
  const grads: tf.NamedTensorMap = {}
  let value: tf.Scalar | null = null
  try {
    // 2. Head + loss on the whole batch: the loss, head/loss gradients and ∂L/∂F.
    const out = tf.engine().gradients(
      () => {
        const res = loss.forward(stages.head(feats), y)
        for (const [k, t] of Object.entries(res.parts)) kept[k] = tf.keep(t)
        return res.loss
      },
      [...headVars, feats],
      undefined,
      true
    )
    value = out.value as tf.Scalar
    const gFeat = out.grads[headVars.length]
    headVars.forEach((v, i) => {
      const g = out.grads[i]
      if (g) grads[v.name] = g
    })
    try {
      // 3. Backbone gradients, micro-batch by micro-batch, summed.
      for (const [s, k] of chunks) {
        if (!bbVars.length || !gFeat) break
        const part = tf.tidy(() => {
          const gk = rows(gFeat, s, k)
          const r = tf
            .engine()
            .gradients(
              () => tf.sum(tf.mul(stages.features(rows(x, s, k), true), gk)),
              bbVars,
              undefined,
              true
            )
          return r.grads
        })
        bbVars.forEach((v, i) => {
          const g = part[i]
          if (!g) return
          const prev = grads[v.name]
          if (prev) {
            grads[v.name] = tf.add(prev, g)
            tf.dispose([prev, g])
          } else grads[v.name] = g
        })
      }
    } finally {
      gFeat?.dispose()
    }
    return { value, grads }
  } catch (err) {
    tf.dispose([...(value ? [value] : []), ...Object.values(grads)])
    throw err
  } finally {
    feats.dispose()
  }
}
