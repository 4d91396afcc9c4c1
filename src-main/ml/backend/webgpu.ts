/**
 * The WebGPU backend in Node: Dawn's Node binding (the optional npm package `webgpu`,
 * dawn.node, an N-API addon) provides the GPU, and @tensorflow/tfjs-backend-webgpu runs on it.
 *
 * We request the adapter and the device ourselves and register the tfjs backend with a factory
 * that returns a backend on that device, instead of relying on the package's own registration
 * (which runs at import time only when `navigator.gpu` exists, picks its own adapter, and
 * would give webgpu a priority over wasm in `tf.ready()`). The backend's constructor still
 * checks `navigator.gpu`, so Dawn's GPU object is exposed there, carefully: Node 21+ has a
 * `navigator` (without `gpu`), which gets an own `gpu` property; Node 20 has none, which gets
 * a minimal `{ gpu }` object. Dawn's WebGPU constants (GPUBufferUsage, GPUMapMode, …) are
 * installed as globals, which the tfjs backend uses.
 */
import { existsSync } from 'node:fs'
import * as tf from '@tensorflow/tfjs'
import type { GpuAdapterInfo } from '../../../src-preload/contract/system'
import { patchWebGpuKernels } from './webgpuKernels'

/** The npm package of Dawn's Node binding. */
export const DAWN_PACKAGE = 'webgpu'

/** The parts of dawn.node's module we use. */
interface DawnModule {
  create(flags: string[]): GpuLike
  globals: Record<string, unknown>
}

interface AdapterLike {
  info?: { vendor?: string; architecture?: string; description?: string; device?: string }
  isFallbackAdapter?: boolean
  features: { has(name: string): boolean }
  limits: Record<string, number>
  requestDevice(desc: unknown): Promise<DeviceLike>
}

interface DeviceLike {
  destroy(): void
}

/** Makes `navigator.gpu` Dawn's GPU without replacing an existing navigator or gpu. */
function exposeNavigatorGpu(gpu: GpuLike): void {
  const g = globalThis as { navigator?: { gpu?: unknown } }
  if (g.navigator === undefined || g.navigator === null) {
    Object.defineProperty(globalThis, 'navigator', {
      value: { gpu },
      configurable: true,
      writable: true
    })
  } else if (!g.navigator.gpu) {
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true })
  }
}

interface GpuLike {
  requestAdapter(opts?: unknown): Promise<AdapterLike | null>
}

type WebGpuBackendClass = new (device: unknown, info?: unknown) => tf.KernelBackend

/** Loads a module by name (dynamic import); tests pass a fake. */
export type ModuleLoader = (name: string) => Promise<unknown>

/** Outcome of the WebGPU probe: the adapter (when one was found) and why it is not usable. */
export interface WebGpuProbe {
  adapter?: GpuAdapterInfo
  /** null when the tfjs backend 'webgpu' is registered and usable. */
  reason: string | null
}

const SOFTWARE = /swiftshader|lavapipe|llvmpipe|softpipe|warp|software|microsoft basic render/i

/** True for adapters that implement the GPU API on the CPU. */
export function isSoftwareAdapter(
  info: Omit<GpuAdapterInfo, 'software'>,
  fallback = false
): boolean {
  return fallback || SOFTWARE.test(`${info.vendor} ${info.architecture} ${info.description}`)
}

/** Why no adapter came back, with the Linux ICD hint when VK_ICD_FILENAMES is set. */
function noAdapterReason(env: NodeJS.ProcessEnv): string {
  const icd = env.VK_ICD_FILENAMES
  if (icd) {
    const missing = icd.split(':').filter((f) => f && !existsSync(f))
    if (missing.length)
      return `no WebGPU adapter: VK_ICD_FILENAMES names ${missing.join(', ')}, which does not exist`
    return `no WebGPU adapter from the Vulkan driver(s) in VK_ICD_FILENAMES (${icd})`
  }
  return 'no WebGPU adapter (no Vulkan, Metal or D3D12 driver that Dawn can use)'
}

function firstLine(err: unknown): string {
  const e = err as { code?: string; message?: string }
  if (e?.code === 'MODULE_NOT_FOUND' || e?.code === 'ERR_MODULE_NOT_FOUND') return 'not installed'
  return (e?.message ?? String(err)).split('\n')[0].slice(0, 200)
}

/** What the last successful probe in this process registered. */
let registered: { adapter: GpuAdapterInfo; device: DeviceLike } | null = null

/** The adapter of the registered 'webgpu' backend, if any. */
export function registeredAdapter(): GpuAdapterInfo | null {
  return registered?.adapter ?? null
}

/** Asks Dawn for an adapter; on success with `allowSoftware` or a hardware adapter, registers tfjs's 'webgpu' backend on its device. */
export async function probeWebGpu(
  opts: { allowSoftware: boolean; load?: ModuleLoader; env?: NodeJS.ProcessEnv } = {
    allowSoftware: false
  }
): Promise<WebGpuProbe> {
  const env = opts.env ?? process.env
  if (registered && tf.findBackend('webgpu')) {
    const adapter = registered.adapter
    if (adapter.software && !opts.allowSoftware) return { adapter, reason: softwareReason(adapter) }
    return { adapter, reason: null }
  }
  const load = opts.load ?? ((n: string) => import(n))
  let dawn: DawnModule
  try {
    dawn = (await load(DAWN_PACKAGE)) as DawnModule
  } catch (err) {
    const why = firstLine(err)
    return {
      reason:
        why === 'not installed'
          ? `${DAWN_PACKAGE} (dawn.node) not installed`
          : `${DAWN_PACKAGE} (dawn.node) failed to load: ${why}`
    }
  }
  let backendClass: WebGpuBackendClass
  try {
    // Imported before navigator.gpu exists, so that the package does not register its own factory.
    backendClass = (
      (await import('@tensorflow/tfjs-backend-webgpu')) as unknown as {
        WebGPUBackend: WebGpuBackendClass
      }
    ).WebGPUBackend
  } catch (err) {
    return { reason: `@tensorflow/tfjs-backend-webgpu failed to load: ${firstLine(err)}` }
  }
  let adapterObj: AdapterLike | null
  try {
    Object.assign(globalThis, dawn.globals)
    const gpu = dawn.create([])
    exposeNavigatorGpu(gpu)
    adapterObj = await gpu.requestAdapter({ powerPreference: 'high-performance' })
  } catch (err) {
    return { reason: `requesting a WebGPU adapter failed: ${firstLine(err)}` }
  }
  if (!adapterObj) return { reason: noAdapterReason(env) }
  const raw = adapterObj.info ?? {}
  const base = {
    vendor: raw.vendor ?? '',
    architecture: raw.architecture ?? '',
    description: raw.description || raw.device || ''
  }
  const adapter: GpuAdapterInfo = {
    ...base,
    software: isSoftwareAdapter(base, adapterObj.isFallbackAdapter === true)
  }
  if (adapter.software && !opts.allowSoftware) return { adapter, reason: softwareReason(adapter) }
  try {
    await registerTfjsBackend(backendClass, adapterObj, adapter)
  } catch (err) {
    return { adapter, reason: `the WebGPU device failed to start: ${firstLine(err)}` }
  }
  return { adapter, reason: null }
}

function softwareReason(a: GpuAdapterInfo): string {
  return `${describeAdapter(a)} is a software adapter, slower than wasm (use --device gpu or HIST_BACKEND=webgpu to force it)`
}

/** "google swiftshader (SwiftShader driver 5.0.0)". */
export function describeAdapter(a: GpuAdapterInfo): string {
  const name = [a.vendor, a.architecture].filter(Boolean).join(' ') || 'unknown adapter'
  return a.description ? `${name} (${a.description})` : name
}

/** Requests the device with the limits tfjs-backend-webgpu asks for and registers the backend. */
async function registerTfjsBackend(
  WebGPUBackend: WebGpuBackendClass,
  adapterObj: AdapterLike,
  adapter: GpuAdapterInfo
): Promise<void> {
  const features = ['timestamp-query'].filter((f) => adapterObj.features.has(f))
  const l = adapterObj.limits
  const device = await adapterObj.requestDevice({
    requiredFeatures: features,
    requiredLimits: {
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      // tfjs sizes AddN's chunks (and other many-input programs) from the device's limit;
      // without asking for the adapter's value, Dawn validates against the default of 8.
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage
    }
  })
  if (tf.findBackend('webgpu')) tf.removeBackend('webgpu')
  // Priority 0: never chosen by tf.ready() on its own, only by setBackend('webgpu').
  tf.registerBackend(
    'webgpu',
    () => new WebGPUBackend(device, { vendor: adapter.vendor, architecture: adapter.architecture }),
    0
  )
  patchWebGpuKernels()
  registered = { adapter, device }
}
