/**
 * A fused Adam/AdamW update kernel registered with tfjs for the wasm and cpu backends.
 *
 * Written as tfjs ops, one update is ~14 element-wise kernels, each allocating and sweeping a
 * full-size tensor: at SOP scale (three 11,318×512 tables) that alone was most of a training
 * step, and all the temporaries raise the wasm heap's high-water mark. On wasm the kernel runs a
 * hand-assembled SIMD loop (./simd/adam.simd.ts) over the backend's own memory; on cpu a JS loop.
 * Either way it reads p, g, m, v once and writes the three new tensors; nothing is downloaded
 * and no input is mutated (variables may share their buffers with clones). Other backends use
 * the op-by-op path in groupedAdam.ts.
 */
import * as tf from '@tensorflow/tfjs'
import { activeSimdKernels, heapOffset, registerWasmKernel, type SimdKernelRun } from './wasmSimd'

/** Kernel name registered with tfjs. */
export const ADAM_KERNEL = 'HistStudioAdamStep'

/** Hyper-parameters of one update; bias corrections are for the step being taken. */
export interface AdamStepAttrs {
  /** Learning rate. */
  lr: number
  /** First-moment decay β1. */
  beta1: number
  /** Second-moment decay β2. */
  beta2: number
  /** Added to the bias-corrected √v. */
  eps: number
  /** Weight decay (L2 in the gradient, or decoupled). */
  weightDecay: number
  /** 1 = AdamW (decoupled decay), 0 = Adam with L2 added to the gradient. */
  decoupled: number
  /** 1 − β1^t. */
  bc1: number
  /** 1 − β2^t. */
  bc2: number
}

/** The element loop, as torch.optim.Adam / AdamW (single-tensor, non-amsgrad). */
function update(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  po: Float32Array,
  mo: Float32Array,
  vo: Float32Array,
  a: AdamStepAttrs
): void {
  const { lr, beta1, beta2, eps, weightDecay: wd } = a
  const decay = a.decoupled ? 1 - lr * wd : 1
  const l2 = a.decoupled ? 0 : wd
  const w1 = 1 - beta1
  const w2 = 1 - beta2
  const stepSize = lr / a.bc1
  const bc2Sqrt = Math.sqrt(a.bc2)
  for (let i = 0; i < p.length; i++) {
    const pi = p[i] * decay
    const gi = g[i] + l2 * p[i]
    const mi = m[i] + w1 * (gi - m[i])
    const vi = beta2 * v[i] + w2 * gi * gi // (w2·g)·g, as addcmul
    mo[i] = mi
    vo[i] = vi
    po[i] = pi - stepSize * (mi / (Math.sqrt(vi) / bc2Sqrt + eps))
  }
}

interface CpuLike {
  data: { get(id: tf.DataId): { values: Float32Array } }
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo
}

const wasmRun: SimdKernelRun = (simd, b, inputs, attrs) => {
  const a = attrs as unknown as AdamStepAttrs
  const { p, g, m, v } = inputs
  const n = p.shape.reduce((x, y) => x * y, 1)
  const outs = [
    b.makeOutput(p.shape, 'float32'),
    b.makeOutput(p.shape, 'float32'),
    b.makeOutput(p.shape, 'float32')
  ]
  const at = (t: tf.TensorInfo) => heapOffset(b, t)
  simd.adam(
    at(p),
    at(g),
    at(m),
    at(v),
    at(outs[0]),
    at(outs[1]),
    at(outs[2]),
    n,
    a.decoupled ? 1 - a.lr * a.weightDecay : 1,
    a.decoupled ? 0 : a.weightDecay,
    1 - a.beta1,
    a.beta2,
    1 - a.beta2,
    a.lr / a.bc1,
    Math.sqrt(a.bc2),
    a.eps
  )
  return outs
}

function cpuKernel({
  inputs,
  backend,
  attrs
}: {
  inputs: tf.NamedTensorInfoMap
  backend: unknown
  attrs?: unknown
}) {
  const b = backend as CpuLike
  const { p, g, m, v } = inputs as Record<'p' | 'g' | 'm' | 'v', tf.TensorInfo>
  const n = p.shape.reduce((x, y) => x * y, 1)
  const [po, mo, vo] = [new Float32Array(n), new Float32Array(n), new Float32Array(n)]
  const read = (t: tf.TensorInfo) => b.data.get(t.dataId).values
  update(read(p), read(g), read(m), read(v), po, mo, vo, attrs as AdamStepAttrs)
  return [po, mo, vo].map((vals) => b.makeTensorInfo(p.shape, 'float32', vals))
}

/** Registers the SIMD kernel for wasm (idempotent; called by registerFastKernels). */
export function registerWasmAdamKernel(): void {
  registerWasmKernel(ADAM_KERNEL, wasmRun)
}

/** Registers the JS-loop kernel for cpu (idempotent; called by registerFastKernels). */
export function registerCpuAdamKernel(): void {
  if (!tf.getKernel(ADAM_KERNEL, 'cpu')) {
    tf.registerKernel({
      kernelName: ADAM_KERNEL,
      backendName: 'cpu',
      kernelFunc: cpuKernel as unknown as tf.KernelFunc
    })
  }
}

/** True when the active backend can run the fused kernel. */
export function hasFusedAdam(): boolean {
  const name = tf.getBackend()
  if (!tf.getKernel(ADAM_KERNEL, name)) return false
  return name !== 'wasm' || activeSimdKernels() !== null
}

/** Runs the fused update; returns new [p, m, v]. All inputs must be float32 of one shape. */
export function fusedAdamStep(
  p: tf.Tensor,
  g: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  attrs: AdamStepAttrs
): tf.Tensor[] {
  return tf
    .engine()
    .runKernel(ADAM_KERNEL, { p, g, m, v }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[]
}
