/**
 * Tensor helpers shared by HIST and the baseline losses.
 *
 * The wasm backend multiplies untransposed matrices with XNNPACK but falls back to a naive loop
 * as soon as `transposeA` / `transposeB` is set (10–30× slower at SOP scale), and tf.matMul's own
 * gradient uses exactly those flags. `matMul` below therefore has a custom gradient that only
 * ever calls plain products. XNNPACK also repacks the right operand on every call, so large
 * [C, D] class tables go on the left: cos = P̂·x̂ᵀ, then a transpose of the small [C, N] result.
 */
import * as tf from '@tensorflow/tfjs'
import { fastTranspose } from '../kernels/transpose'

/** Transposes a 2-D tensor (inside custom gradients only: not differentiable). */
function t2(x: tf.Tensor2D): tf.Tensor2D {
  return fastTranspose(x)
}

/** Forward result of a custom-gradient op: its value and the gradient of each input. */
export interface CustomOpResult {
  /** The op's output. */
  value: tf.Tensor
  /** Gradients w.r.t. each input, in order, given dL/d(value) and the tensors passed to `save`. */
  gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[]
}

/**
 * tf.customGrad with a typed, array-based signature. The forward runs with the tape paused, so
 * only the op itself is recorded; `save` keeps tensors for the backward pass (only when a
 * gradient is being recorded).
 */
export function customOp(
  f: (inputs: tf.Tensor[], save: tf.GradSaveFunc) => CustomOpResult
): (...inputs: tf.Tensor[]) => tf.Tensor {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc
    const r = f(args as tf.Tensor[], save)
    return {
      value: r.value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => r.gradFunc(dy, saved)
    }
  })
  return (...inputs: tf.Tensor[]) => op(...inputs)
}

/*
 * Cost model in element passes, measured on wasm: a transpose costs one pass over its input;
 * the right operand of a product is repacked by XNNPACK on every call (about two passes).
 */

/** dA = dY·Bᵀ for dY [M,N], B [K,N], computed with plain products only. */
function gradLeft(dy: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  const [m, n] = dy.shape
  const k = b.shape[0]
  const viaB = 3 * k * n // transpose B, then Bᵀ is the right operand
  const viaDy = 3 * m * n + k * m // (B·dYᵀ)ᵀ
  return viaB <= viaDy ? tf.matMul(dy, t2(b)) : t2(tf.matMul(b, t2(dy)))
}

/** dB = Aᵀ·dY for A [M,K], dY [M,N], computed with plain products only. */
function gradRight(a: tf.Tensor2D, dy: tf.Tensor2D): tf.Tensor2D {
  const [m, k] = a.shape
  const n = dy.shape[1]
  const viaA = m * k + 2 * m * n // transpose A, dY is the right operand
  const viaDy = m * n + n * k + 2 * m * k // (dYᵀ·A)ᵀ, A is the right operand
  return viaA <= viaDy ? tf.matMul(t2(a), dy) : t2(tf.matMul(t2(dy), a))
}

const plainMatMul = customOp(([a, b]) => {
  // Zero-copy aliases rather than `save` (which copies on wasm); null when nothing is recorded.
  const kept = keepForBackward([a, b])
  return {
    value: tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
    gradFunc: (dy) => {
      const [sa, sb] = kept!.tensors as tf.Tensor2D[]
      const g = dy as tf.Tensor2D
      const grads = [gradLeft(g, sb), gradRight(sa, g)]
      kept!.release()
      return grads
    }
  }
})

/** A·B for 2-D tensors whose gradient avoids transposed products (see the file comment). */
export function matMul(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return plainMatMul(a, b) as tf.Tensor2D
}

/**
 * Divides each slice along `axis` by its L2 norm, as torch.nn.functional.normalize (eps 1e-12).
 * The clamp is applied to the squared norm so that an all-zero slice gets a zero gradient
 * instead of 0·∞ = NaN from sqrt at 0.
 */
export function l2Normalize<T extends tf.Tensor>(x: T, axis: number): T {
  return tf.tidy(() => {
    const sq = tf.sum(tf.square(x), axis, true)
    return tf.mul(x, tf.rsqrt(tf.maximum(sq, 1e-24))) as T
  })
}

/** Float one-hot matrix [N, C] of int32 labels. */
export function oneHotFloat(labels: tf.Tensor1D, numClasses: number): tf.Tensor2D {
  return tf.tidy(() => tf.cast(tf.oneHot(labels, numClasses), 'float32') as tf.Tensor2D)
}

/** Mean cross-entropy of logits [N, C] against one-hot targets, through the stable log-softmax. */
export function crossEntropy(logits: tf.Tensor2D, oneHot: tf.Tensor2D): tf.Scalar {
  return tf.tidy(
    () => tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(logits), oneHot), 1))) as tf.Scalar
  )
}

/** Kaiming-normal (fan_out, gain √2) init of a PyTorch-layout [out, in] tensor, like nn.init.kaiming_normal_(mode='fan_out'). */
export function kaimingNormalFanOut(shape: [number, number], seed: number): tf.Tensor2D {
  const std = Math.sqrt(2 / shape[0])
  return tf.randomNormal(shape, 0, std, 'float32', seed) as tf.Tensor2D
}

/** nn.Linear's default init U(−1/√fan_in, 1/√fan_in), for a weight or bias of a layer with `fanIn` inputs. */
export function linearUniform(shape: number[], fanIn: number, seed: number): tf.Tensor {
  const bound = 1 / Math.sqrt(fanIn)
  return tf.randomUniform(shape, -bound, bound, 'float32', seed)
}

/**
 * Runs `f` off the gradient tape and gives its result a zero gradient. Mining masks are built
 * from comparisons (Greater, Less, ArgMin…), which have no gradient in tfjs: recorded on the
 * tape downstream of a differentiated input, they make backprop throw. Inside a customGrad
 * forward the tape is paused, so only this one node (with zero gradients) is recorded.
 */
export function noGrad(f: (...xs: tf.Tensor[]) => tf.Tensor, ...inputs: tf.Tensor[]): tf.Tensor {
  const shapes = inputs.map((t) => t.shape)
  const op = customOp((xs, save) => {
    save([])
    return { value: f(...xs), gradFunc: () => shapes.map((s) => tf.zeros(s)) }
  })
  return op(...inputs)
}

/** Pairwise "same label" matrix [N, N] (1/0, float) from int32 labels. */
export function sameLabelMatrix(labels: tf.Tensor1D): tf.Tensor2D {
  return tf.tidy(
    () =>
      tf.cast(
        tf.equal(tf.expandDims(labels, 1), tf.expandDims(labels, 0)),
        'float32'
      ) as tf.Tensor2D
  )
}

/** Cosine similarities [N, C] of embeddings x [N, D] to class proxies [C, D] (proxies on the left of the product). */
export function cosineToProxies(x: tf.Tensor2D, proxies: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const xh = l2Normalize(x, 1)
    const ph = l2Normalize(proxies, 1)
    return tf.transpose(matMul(ph, tf.transpose(xh) as tf.Tensor2D)) as tf.Tensor2D
  })
}

/**
 * Saves tensors for a customOp's backward pass without copying variables: on wasm a saved
 * tensor is cloned, and a clone is a full memory copy (the Identity kernel), which at SOP scale
 * costs as much as a kernel. Variables are referenced instead — they cannot be disposed by the
 * forward tidy, and nothing reassigns them between a forward pass and its gradient. Returns the
 * function that maps the backward pass's `saved` array back to the original order.
 */
export function saveForBackward(
  save: tf.GradSaveFunc,
  tensors: tf.Tensor[]
): (saved: tf.Tensor[]) => tf.Tensor[] {
  const isVar = tensors.map((t) => t instanceof tf.Variable)
  save(tensors.filter((_, i) => !isVar[i]))
  return (saved) => {
    let k = 0
    return tensors.map((t, i) => (isVar[i] ? t : saved[k++]))
  }
}

interface Kept {
  tape: unknown
  tensors: tf.Tensor[]
}
const kept = new Set<Kept>()

function activeTape(): unknown {
  return (tf.engine().state as unknown as { activeTape: unknown }).activeTape ?? null
}

/**
 * Keeps zero-copy aliases of intermediate tensors of a customOp forward for its backward pass
 * (a `save`d tensor is copied on wasm). Returns null when no gradient is being recorded. The
 * backward must call `release()`; if a gradient computation ends without running this op's
 * backward, the aliases are freed by the next call made under a different tape.
 */
export function keepForBackward(
  tensors: tf.Tensor[]
): { tensors: tf.Tensor[]; release: () => void } | null {
  const tape = activeTape()
  for (const k of kept) {
    if (k.tape !== tape) {
      tf.dispose(k.tensors)
      kept.delete(k)
    }
  }
  if (tape === null) return null
  // reshape to the same shape shares the buffer (refcount) on every backend; clone would copy on wasm.
  const entry: Kept = { tape, tensors: tensors.map((t) => tf.keep(tf.reshape(t, t.shape))) }
  kept.add(entry)
  return {
    tensors: entry.tensors,
    release: () => {
      if (kept.delete(entry)) tf.dispose(entry.tensors)
    }
  }
}
