/**
 * Hand-assembled WebAssembly SIMD kernels that run inside the tfjs wasm backend's own memory.
 *
 * Why: on wasm every tfjs op is one pass over memory plus an allocation. At SOP scale the
 * 11,318×512 class tables make each pass expensive, and an Adam update or the Mahalanobis
 * gradient written as ops is a dozen passes. Plain JS loops are slower than tfjs's SIMD
 * kernels, so the fused loops are emitted as a tiny wasm module (f32x4 arithmetic, one file per
 * kernel in ./simd) that imports the backend's WebAssembly.Memory and reads/writes tensor
 * buffers in place: one pass, no copies, no downloads.
 *
 * This file binds the module to a backend and registers tfjs kernels backed by it. It reads
 * tfjs-backend-wasm internals (the heap, dataIdMap, makeOutput), which is why ./version.ts
 * checks the installed version before anything here is registered.
 * wasmSimd.test.ts checks every kernel against a scalar JS reference, including row tails.
 */
import * as tf from '@tensorflow/tfjs'
import { adamFn } from './simd/adam.simd'
import { assemble } from './simd/assembler'
import { colSumFn } from './simd/colSum.simd'
import { distBackFn } from './simd/distBack.simd'
import { depthwiseFilterFn, depthwiseInputFn } from './simd/depthwiseGrads.simd'
import { distPrepFn } from './simd/distPrep.simd'
import { relu6BiasGradFn, relu6GradFn } from './simd/relu6Grad.simd'
import { transposeFn } from './simd/transpose.simd'

/** The module's exports (all pointers are byte offsets into the backend's heap). */
export interface SimdKernels {
  /** Fused Adam/AdamW step; see adamFn. */
  adam(
    p: number,
    g: number,
    m: number,
    v: number,
    po: number,
    mo: number,
    vo: number,
    n: number,
    decay: number,
    l2: number,
    w1: number,
    beta2: number,
    w2: number,
    stepSize: number,
    bc2Sqrt: number,
    eps: number
  ): void
  /** Mahalanobis forward element-wise part; see distPrepFn. */
  distPrep(
    mu: number,
    lv: number,
    p2: number,
    rn: number,
    bias: number,
    rows: number,
    cols: number
  ): void
  /** Depthwise conv filter gradient; see depthwiseFilterFn. */
  dwFilter(
    x: number,
    dy: number,
    out: number,
    n: number,
    hp: number,
    wp: number,
    cb: number,
    ho: number,
    wo: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number
  ): void
  /** Depthwise conv input gradient (padded); see depthwiseInputFn. */
  dwInput(
    w: number,
    dy: number,
    out: number,
    n: number,
    hp: number,
    wp: number,
    cb: number,
    ho: number,
    wo: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number
  ): void
  /** relu6 gradient; see relu6GradFn. */
  relu6Grad(x: number, dy: number, out: number, n: number): void
  /** relu6 gradient from the output, with the bias gradient; see relu6BiasGradFn. */
  relu6BiasGrad(y: number, dy: number, out: number, db: number, rows: number, cb: number): void
  /** Sum over leading rows; see colSumFn. */
  colSum(x: number, out: number, rows: number, cb: number): void
  /** 2-D transpose; see transposeFn. */
  transpose(src: number, dst: number, rows: number, cols: number): void
  /** Mahalanobis backward element-wise part; see distBackFn. */
  distBack(
    mu: number,
    lv: number,
    p2: number,
    rn: number,
    active: number,
    gs: number,
    nb: number,
    dmu: number,
    dlv: number,
    rows: number,
    cols: number
  ): void
}

/** The wasm bytes (exported for the validation test). */
export function simdModuleBytes(): Uint8Array {
  return assemble([
    adamFn(),
    distPrepFn(),
    distBackFn(),
    transposeFn(),
    depthwiseFilterFn(),
    depthwiseInputFn(),
    relu6GradFn(),
    relu6BiasGradFn(),
    colSumFn()
  ])
}

// ---------------------------------------------------------------------------------------------
// Binding to the tfjs wasm backend

/** A WebAssembly.Memory (typed locally: the node tsconfig has no DOM/wasm lib). */
export interface WasmMemory {
  /** The memory's current buffer. */
  readonly buffer: ArrayBuffer
}

/** The WebAssembly API surface used here. */
interface WasmApi {
  Memory: abstract new (...args: never[]) => WasmMemory
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => { exports: unknown }
  validate(bytes: Uint8Array): boolean
}

/** The runtime's WebAssembly global. */
export const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

/** The parts of tfjs-backend-wasm's BackendWasm this module relies on (tfjs 4.x internals). */
export interface WasmBackendInternals {
  wasm: { asm?: { memory?: WasmMemory } }
  dataIdMap: { get(id: tf.DataId): { memoryOffset: number } | undefined }
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo
}

const instances = new WeakMap<WasmMemory, SimdKernels | null>()

/** The kernels bound to a wasm backend's memory, or null when unavailable (other backend, no SIMD, unexpected internals). */
export function simdKernelsFor(backend: unknown): SimdKernels | null {
  const b = backend as Partial<WasmBackendInternals> | undefined
  const memory = b?.wasm?.asm?.memory
  if (!memory || !(memory instanceof wasmApi.Memory)) return null
  if (typeof b?.makeOutput !== 'function' || !b.dataIdMap) return null
  if (instances.has(memory)) return instances.get(memory) ?? null
  let kernels: SimdKernels | null = null
  try {
    const mod = new wasmApi.Module(simdModuleBytes())
    kernels = new wasmApi.Instance(mod, { env: { memory } }).exports as unknown as SimdKernels
  } catch {
    kernels = null // no wasm SIMD in this runtime: callers fall back to tfjs ops
  }
  instances.set(memory, kernels)
  return kernels
}

let enabled = false

/**
 * Switches the SIMD fast path on or off for this process (registerFastKernels does, after the
 * version check). While off, activeSimdKernels() is null and every caller uses tfjs ops.
 */
export function setSimdEnabled(on: boolean): void {
  enabled = on
}

/** The SIMD kernels of the active backend when it is wasm and the fast path is on, else null. */
export function activeSimdKernels(): SimdKernels | null {
  return enabled && tf.getBackend() === 'wasm' ? simdKernelsFor(tf.backend()) : null
}

/** Byte offset of a tensor's data in the wasm heap. */
export function heapOffset(backend: WasmBackendInternals, t: tf.TensorInfo): number {
  const entry = backend.dataIdMap.get(t.dataId)
  if (!entry) throw new Error('tensor is not on the wasm backend')
  return entry.memoryOffset
}

/** Runs one SIMD kernel: gets the kernels, the backend and the inputs, returns the output(s) it allocated with `makeOutput` (an array for multi-output kernels). */
export type SimdKernelRun = (
  kernels: SimdKernels,
  backend: WasmBackendInternals,
  inputs: Record<string, tf.TensorInfo>,
  attrs: Record<string, unknown>
) => tf.TensorInfo | tf.TensorInfo[]

/** Registers a tfjs kernel for the wasm backend backed by the SIMD module (idempotent). */
export function registerWasmKernel(kernelName: string, run: SimdKernelRun): void {
  if (tf.getKernel(kernelName, 'wasm')) return
  const kernelFunc = ({
    inputs,
    backend,
    attrs
  }: {
    inputs: tf.NamedTensorInfoMap
    backend: unknown
    attrs?: unknown
  }) => {
    const kernels = simdKernelsFor(backend)
    if (!kernels) throw new Error(`${kernelName}: wasm SIMD kernels unavailable`)
    return run(
      kernels,
      backend as WasmBackendInternals,
      inputs as Record<string, tf.TensorInfo>,
      (attrs ?? {}) as Record<string, unknown>
    )
  }
  tf.registerKernel({
    kernelName,
    backendName: 'wasm',
    kernelFunc: kernelFunc as unknown as tf.KernelFunc
  })
}
