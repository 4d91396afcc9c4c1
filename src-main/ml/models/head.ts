/**
 * The embedding head of HIST's embedding network: GAP + GMP (added), Linear to D, LayerNorm
 * without affine parameters (the official `add_gmp` and `layer_norm` options, both on).
 */
import * as tf from '@tensorflow/tfjs'
import { createRng, normalArray } from '../util/rng'

/** LayerNorm epsilon, PyTorch's default. */
export const LAYER_NORM_EPS = 1e-5

/** Global average pooling plus global max pooling of a feature map [N,h,w,C] → [N,C]. */
export function poolFeatures(fm: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() =>
    tf.add(tf.mean(fm, [1, 2]), tf.getBackend() === 'wasm' ? globalMax(fm) : tf.max(fm, [1, 2]))
  )
}

/**
 * tf.max over [1, 2] with tfjs's own gradient (dy to every position equal to the max, ties
 * included), computed as (x − max == 0) instead of equal(x, max) broadcast: wasm runs a
 * broadcasting Equal through a generic index loop, ~230 ms CPU per MobileNetV2 batch-32 step
 * against ~20 ms for Sub (XNNPACK) + same-shape Equal. x − m == 0 ⇔ x == m for finite x.
 */
const globalMax = (fm: tf.Tensor4D): tf.Tensor2D => {
  const [n, , , c] = fm.shape
  const op = tf.customGrad((x, save) => {
    const m = tf.max(x as tf.Tensor4D, [1, 2], true)
    ;(save as tf.GradSaveFunc)([x as tf.Tensor, m])
    return {
      value: tf.reshape(m, [n, c]),
      gradFunc: (dy: tf.Tensor, [sx, sm]: tf.Tensor[]) =>
        tf.mul(tf.cast(tf.equal(tf.sub(sx, sm), 0), 'float32'), tf.reshape(dy, [n, 1, 1, c]))
    }
  })
  return op(fm) as tf.Tensor2D
}

/** LayerNorm over the last axis without scale or shift (biased variance, as PyTorch). */
export function layerNorm(x: tf.Tensor2D, eps = LAYER_NORM_EPS): tf.Tensor2D {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true)
    return tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps)))
  })
}

/** A variable name not yet registered with the engine: `base`, else `base_1`, `base_2`, … */
export function uniqueVariableName(base: string): string {
  const taken = tf.engine().registeredVariables
  if (!(base in taken)) return base
  for (let k = 1; ; k++) if (!(`${base}_${k}` in taken)) return `${base}_${k}`
}

/** Linear(inChannels → dim) + LayerNorm (no affine); input is the pooled backbone feature. */
export class EmbeddingHead {
  /** [weight [inChannels, dim], bias [dim]], the trainable parameters. */
  readonly variables: tf.Variable[]
  /** Stable checkpoint keys: `${name}/weight`, `${name}/bias`. */
  readonly keys: [string, string]
  private readonly weight: tf.Variable
  private readonly bias: tf.Variable

  /** Kaiming-normal (fan_out = dim, gain √2) weights from `seed`, zero bias. */
  constructor(
    readonly inChannels: number,
    readonly dim: number,
    seed: number,
    readonly name = 'head'
  ) {
    if (!(inChannels > 0 && dim > 0))
      throw new Error(`EmbeddingHead needs positive sizes, got ${inChannels} → ${dim}`)
    const std = Math.sqrt(2 / dim)
    const w = tf.tensor2d(normalArray(createRng(seed), inChannels * dim, std), [inChannels, dim])
    this.keys = [`${name}/weight`, `${name}/bias`]
    this.weight = tf.variable(w, true, uniqueVariableName(this.keys[0]))
    const b = tf.zeros([dim])
    this.bias = tf.variable(b, true, uniqueVariableName(this.keys[1]))
    w.dispose()
    b.dispose()
    this.variables = [this.weight, this.bias]
  }

  /** pooled [N, inChannels] → embedding [N, dim]. */
  apply(pooled: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => layerNorm(tf.add(tf.matMul(pooled, this.weight), this.bias)))
  }

  /** Copies of the parameters keyed by `keys`; the caller disposes them. */
  getWeights(): Record<string, tf.Tensor> {
    return { [this.keys[0]]: tf.clone(this.weight), [this.keys[1]]: tf.clone(this.bias) }
  }

  /** Loads parameters saved by getWeights; missing keys or wrong shapes throw. */
  setWeights(w: Record<string, tf.Tensor>): void {
    const pairs: [tf.Variable, string][] = [
      [this.weight, this.keys[0]],
      [this.bias, this.keys[1]]
    ]
    for (const [v, k] of pairs) {
      const t = w[k]
      if (!t) throw new Error(`embedding head weights: missing '${k}'`)
      if (!tf.util.arraysEqual(t.shape, v.shape)) {
        throw new Error(
          `embedding head weights: '${k}' has shape [${t.shape}], expected [${v.shape}]`
        )
      }
    }
    for (const [v, k] of pairs) v.assign(w[k])
  }

  /** Frees the variables. */
  dispose(): void {
    this.weight.dispose()
    this.bias.dispose()
  }
}
