/**
 * The speed-up kernels, in one place, and the one call that turns them on.
 *
 * - wasm-simd: hand-assembled f32x4 kernels (fused Adam, the Mahalanobis distance block, a 2-D
 *   transpose) that run in the tfjs wasm backend's heap (./wasmSimd.ts, ./simd/*);
 * - wasm-gradients: gradient kernels tfjs-backend-wasm lacks, plus faster replacements of a few
 *   it has (./wasmGradients.ts, ./convGradients.ts);
 * - fused-adam-cpu: the fused Adam update as a JS loop for the cpu backend (./adam.ts);
 * - eval-similarity: the evaluation's native similarity addon, built at install
 *   (../eval/native.ts); it does not depend on the TensorFlow.js backend.
 *
 * Nothing registers on import: the backend start-up (initBackend) calls registerFastKernels with
 * the backend it activated, and the answer says which fast path is on and, if not, why. On any
 * other backend (tensorflow, webgpu) no kernel of this folder is registered or used.
 */
import * as tf from '@tensorflow/tfjs'
import type { FastPathStatus } from '../../../src-preload/contract/system'
import { loadNativeKernel, NATIVE_SOURCE_LABEL } from '../eval/native'
import { registerCpuAdamKernel, registerWasmAdamKernel } from './adam'
import { registerDistanceKernels } from './distance'
import { registerFusedConvKernels } from './fusedConv'
import { registerLeadingSum } from './sumKernel'
import { registerTransposeKernel } from './transpose'
import { registerTrainingKernels } from './trainingKernels'
import { tfjsVersionMismatch } from './version'
import { registerMissingWasmGradients, replaceSlowWasmKernels } from './wasmGradients'
import { setSimdEnabled, simdKernelsFor } from './wasmSimd'

export type { FastPathStatus }
export { KERNELS_WRITTEN_FOR, installedTfjsVersions, tfjsVersionMismatch } from './version'

/** Options of registerFastKernels (tests simulate other installed versions). */
export interface RegisterOptions {
  /** Installed package versions; defaults to the ones loaded in this process. */
  installed?: Record<string, string>
}

let last: FastPathStatus[] = []

function wasmSimd(mismatch: string | null): FastPathStatus {
  const name = 'wasm-simd'
  setSimdEnabled(false)
  if (mismatch) return { name, active: false, detail: `off: ${mismatch}` }
  const backend = tf.findBackend('wasm')
  if (!backend) return { name, active: false, detail: 'off: the wasm backend is not initialised' }
  if (!simdKernelsFor(backend)) {
    return {
      name,
      active: false,
      detail: 'off: this runtime has no WebAssembly SIMD, or the wasm backend has no reachable heap'
    }
  }
  registerTransposeKernel()
  registerDistanceKernels()
  registerWasmAdamKernel()
  registerTrainingKernels()
  registerFusedConvKernels()
  registerLeadingSum()
  setSimdEnabled(true)
  return {
    name,
    active: true,
    detail:
      'fused Adam, Mahalanobis distance, transpose, depthwise filter, relu6 and fused conv+relu6 gradients, leading-axes Sum (f32x4)'
  }
}

function wasmGradients(mismatch: string | null): FastPathStatus {
  const name = 'wasm-gradients'
  // The missing kernels are needed to train conv nets on wasm at all and use public ops only.
  registerMissingWasmGradients()
  if (mismatch) {
    return {
      name,
      active: false,
      detail: `off: ${mismatch} (only the missing gradient kernels are registered)`
    }
  }
  replaceSlowWasmKernels()
  return {
    name,
    active: true,
    detail: 'conv/depthwise backprops through XNNPACK, untransposed matmuls'
  }
}

const OTHER_BACKEND = (b: string, on: string) =>
  `off: the active backend is ${b}; this path is for ${on}`

/**
 * Registers the fast kernels for the backend that was just activated (idempotent) and returns
 * the status of every fast path. Call it after tf.setBackend(backendName) succeeded.
 */
export function registerFastKernels(
  backendName: string,
  opts: RegisterOptions = {}
): FastPathStatus[] {
  const out: FastPathStatus[] = []
  if (backendName === 'wasm') {
    const mismatch = tfjsVersionMismatch(opts.installed)
    out.push(wasmSimd(mismatch), wasmGradients(mismatch))
  } else {
    setSimdEnabled(false)
    out.push(
      { name: 'wasm-simd', active: false, detail: OTHER_BACKEND(backendName, 'wasm') },
      { name: 'wasm-gradients', active: false, detail: OTHER_BACKEND(backendName, 'wasm') }
    )
  }
  if (backendName === 'cpu') {
    registerCpuAdamKernel()
    out.push({ name: 'fused-adam-cpu', active: true, detail: 'fused Adam update (one JS loop)' })
  } else {
    out.push({ name: 'fused-adam-cpu', active: false, detail: OTHER_BACKEND(backendName, 'cpu') })
  }
  const evalKernel = loadNativeKernel()
  out.push({
    name: 'eval-similarity',
    active: evalKernel.kernel !== null,
    detail:
      evalKernel.kernel && evalKernel.source
        ? `native ${evalKernel.kernel.kind()} addon, ${NATIVE_SOURCE_LABEL[evalKernel.source]}`
        : `off: ${evalKernel.detail}; evaluation uses TensorFlow.js or JS (same results)`
  })
  last = out
  return out.map((s) => ({ ...s }))
}

/** The status returned by the last registerFastKernels call ([] before any). */
export function fastPathStatus(): FastPathStatus[] {
  return last.map((s) => ({ ...s }))
}
