/**
 * Fixes for kernels of @tensorflow/tfjs-backend-webgpu 4.22 that fail on real devices, built
 * from the backend's own kernels (no wasm fast path ever runs on webgpu).
 *
 * - AddN: one shader binds every input as a storage buffer, so more inputs than the device's
 *   maxStorageBuffersPerShaderStage − 1 (e.g. 11 on SwiftShader, 8 by default) make an invalid
 *   pipeline, and the result is silently garbage. Summing a step's gradients (step.ts) and
 *   tfjs's own gradient accumulation reach that. Here the inputs are summed in chunks that fit,
 *   then the partial sums, as Concat already does in the same package.
 */
import * as tf from '@tensorflow/tfjs'

interface WebGpuBackendLike {
  device: { limits: { maxStorageBuffersPerShaderStage: number } }
  disposeData(dataId: object): boolean
}

let patched = false

/** Replaces the webgpu AddN kernel with a chunked one (idempotent). */
export function patchWebGpuKernels(): void {
  if (patched) return
  const orig = tf.getKernel('AddN', 'webgpu')
  if (!orig) return
  const run = orig.kernelFunc
  const chunked = (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: unknown }) => {
    const b = args.backend as WebGpuBackendLike
    const max = Math.max(2, b.device.limits.maxStorageBuffersPerShaderStage - 1)
    let infos = args.inputs as unknown as tf.TensorInfo[]
    const temps: tf.TensorInfo[] = []
    while (infos.length > max) {
      const next: tf.TensorInfo[] = []
      for (let i = 0; i < infos.length; i += max) {
        const part = run({
          inputs: infos.slice(i, i + max) as unknown as tf.NamedTensorInfoMap,
          backend: args.backend,
          attrs: {}
        } as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo
        next.push(part)
        temps.push(part)
      }
      infos = next
    }
    const out = run({
      inputs: infos as unknown as tf.NamedTensorInfoMap,
      backend: args.backend,
      attrs: {}
    } as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo
    for (const t of temps) b.disposeData(t.dataId)
    return out
  }
  tf.unregisterKernel('AddN', 'webgpu')
  tf.registerKernel({
    kernelName: 'AddN',
    backendName: 'webgpu',
    kernelFunc: chunked as unknown as tf.KernelFunc
  })
  patched = true
}
