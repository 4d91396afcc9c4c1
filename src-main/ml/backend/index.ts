/**
 * Backend probe and selection: tensorflow-gpu → webgpu → tensorflow → wasm → cpu. Native
 * TensorFlow packages and Dawn (`webgpu`) are optional dependencies, so each one is probed at
 * run time and the reason for skipping it is kept for the UI.
 *
 * The device narrows the order: 'gpu' keeps tensorflow-gpu and webgpu (a software WebGPU
 * adapter is accepted, flagged, because it was asked for) and fails with every reason when
 * neither works; 'cpu' keeps tensorflow, wasm and cpu; 'auto' tries all but never picks a
 * software WebGPU adapter, which is slower than wasm. HIST_BACKEND (a list of names, for tests)
 * overrides the device and accepts a software adapter too.
 */
import { createRequire } from 'node:module'
import * as tf from '@tensorflow/tfjs'
import {
  COMPUTE_DEVICES,
  type BackendCandidate,
  type BackendName,
  type BackendReport,
  type ComputeDevice,
  type GpuAdapterInfo
} from '../../../src-preload/contract/system'
import { UnavailableError } from '../../../src-preload/contract/errors'
import { registerFastKernels } from '../kernels'
import { describeAdapter, probeWebGpu, type ModuleLoader } from './webgpu'

export { describeAdapter } from './webgpu'

const require = createRequire(import.meta.url)

const ORDER: BackendName[] = ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu']

/** Backends that compute on a GPU. */
export const GPU_BACKENDS: ReadonlySet<BackendName> = new Set(['tensorflow-gpu', 'webgpu'])

const DEVICE_BACKENDS: Record<Exclude<ComputeDevice, 'auto'>, BackendName[]> = {
  gpu: ['tensorflow-gpu', 'webgpu'],
  cpu: ['tensorflow', 'wasm', 'cpu']
}

/** Thrown when --device gpu (or a forced backend list) finds nothing usable; lists every reason. */
export class NoDeviceError extends UnavailableError {
  constructor(
    readonly device: ComputeDevice | 'HIST_BACKEND',
    readonly candidates: BackendCandidate[]
  ) {
    const why = candidates
      .filter((c) => c.status === 'skipped' && c.reason !== excluded(device))
      .map((c) => `${c.name}: ${c.reason}`)
    super(
      device === 'gpu'
        ? `no usable GPU: ${why.join('; ')}. Train on the CPU with --device cpu (or auto).`
        : `no TensorFlow.js backend could be initialised: ${why.join('; ')}`
    )
    this.name = 'NoDeviceError'
  }
}

function excluded(device: ComputeDevice | 'HIST_BACKEND'): string {
  return device === 'HIST_BACKEND' ? 'excluded by HIST_BACKEND' : `not a ${device} backend`
}

/** Parses a device name (CLI, env); throws a named error for anything else. */
export function parseDevice(text: string, from = '--device'): ComputeDevice {
  if ((COMPUTE_DEVICES as readonly string[]).includes(text)) return text as ComputeDevice
  throw new Error(`${from} must be one of ${COMPUTE_DEVICES.join(', ')}, got "${text}"`)
}

const NATIVE_PACKAGE: Record<'tensorflow-gpu' | 'tensorflow', string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node'
}

export interface ProbeOptions {
  /** Only consider these backends (in the fixed order); e.g. HIST_BACKEND=cpu in tests. */
  only?: BackendName[]
  /** Where to compute (default: HIST_DEVICE, else 'auto'); ignored when `only` or HIST_BACKEND is set. */
  device?: ComputeDevice
  /** Loads a package; tests replace it to simulate installed or broken native packages. */
  load?: (name: string) => unknown
  /** Loads an ES module (Dawn's `webgpu`); tests replace it. */
  importModule?: ModuleLoader
}

let current: BackendReport | null = null

function message(err: unknown): string {
  const e = err as { code?: string; message?: string }
  if (e?.code === 'MODULE_NOT_FOUND' || e?.code === 'ERR_MODULE_NOT_FOUND') return 'not installed'
  return (e?.message ?? String(err)).split('\n')[0].slice(0, 200)
}

async function tryNative(
  name: 'tensorflow-gpu' | 'tensorflow',
  load: (n: string) => unknown
): Promise<string | null> {
  const pkg = NATIVE_PACKAGE[name]
  try {
    load(pkg)
  } catch (err) {
    const why = message(err)
    return why === 'not installed' ? `${pkg} not installed` : `${pkg} failed to load: ${why}`
  }
  // tfjs-node registers the 'tensorflow' backend when loaded (the GPU package registers it too).
  if (!(await tf.setBackend('tensorflow')))
    return `${pkg} loaded but its backend did not initialise`
  if (name === 'tensorflow-gpu') {
    // tfjs-node-gpu falls back to CPU kernels silently when no CUDA device is usable.
    const gpus = (tf.backend() as unknown as { isUsingGpuDevice?: boolean }).isUsingGpuDevice
    if (gpus === false) return `${pkg} loaded but found no usable CUDA GPU`
  }
  return null
}

interface Plan {
  only: BackendName[] | null
  device: ComputeDevice
  /** Who narrowed the list, for the skip reason and the error. */
  by: ComputeDevice | 'HIST_BACKEND'
  allowSoftwareGpu: boolean
}

function plan(opts: ProbeOptions): Plan {
  // An empty HIST_BACKEND counts as unset.
  const envOnly = process.env.HIST_BACKEND?.trim()
    ? (process.env.HIST_BACKEND.split(',').map((s) => s.trim()) as BackendName[])
    : undefined
  const only = opts.only ?? envOnly
  if (only) return { only, device: 'auto', by: 'HIST_BACKEND', allowSoftwareGpu: true }
  const device =
    opts.device ??
    (process.env.HIST_DEVICE ? parseDevice(process.env.HIST_DEVICE, 'HIST_DEVICE') : 'auto')
  if (device === 'auto') return { only: null, device, by: device, allowSoftwareGpu: false }
  return { only: DEVICE_BACKENDS[device], device, by: device, allowSoftwareGpu: true }
}

async function tryOne(
  name: BackendName,
  p: Plan,
  opts: ProbeOptions
): Promise<{ reason: string | null; adapter?: GpuAdapterInfo }> {
  const load = opts.load ?? ((n: string) => require(n))
  if (name === 'tensorflow-gpu' || name === 'tensorflow')
    return { reason: await tryNative(name, load) }
  if (name === 'webgpu') {
    const probe = await probeWebGpu({ allowSoftware: p.allowSoftwareGpu, load: opts.importModule })
    if (probe.reason !== null) return probe
    const ok = await tf.setBackend('webgpu')
    return { adapter: probe.adapter, reason: ok ? null : 'the webgpu backend failed to initialise' }
  }
  if (name === 'wasm') {
    try {
      await import('@tensorflow/tfjs-backend-wasm')
      return {
        reason: (await tf.setBackend('wasm')) ? null : 'the wasm backend failed to initialise'
      }
    } catch (err) {
      return { reason: `@tensorflow/tfjs-backend-wasm failed to load: ${message(err)}` }
    }
  }
  return { reason: (await tf.setBackend('cpu')) ? null : 'the cpu backend failed to initialise' }
}

/**
 * Probes the backends in order, activates the first that works and records why others were
 * skipped. Throws NoDeviceError when the requested device (or HIST_BACKEND list) has none.
 */
export async function initBackend(opts: ProbeOptions = {}): Promise<BackendReport> {
  const p = plan(opts)
  const candidates: BackendCandidate[] = []
  let active: BackendName | null = null
  let adapter: GpuAdapterInfo | undefined
  for (const name of ORDER) {
    if (active) {
      candidates.push({ name, status: 'available' })
      continue
    }
    if (p.only && !p.only.includes(name)) {
      candidates.push({ name, status: 'skipped', reason: excluded(p.by) })
      continue
    }
    const res = await tryOne(name, p, opts)
    const extra = res.adapter ? { adapter: res.adapter } : {}
    if (res.reason === null) {
      await tf.ready()
      active = name
      adapter = res.adapter
      candidates.push({ name, status: 'in-use', ...extra })
    } else {
      candidates.push({ name, status: 'skipped', reason: res.reason, ...extra })
    }
  }
  if (!active) throw new NoDeviceError(p.by, candidates)
  current = {
    active,
    candidates,
    device: GPU_BACKENDS.has(active) ? 'gpu' : 'cpu',
    requested: p.device,
    ...(adapter ? { adapter } : {}),
    // The one place fast kernels are registered: for the backend just activated (none on webgpu).
    fastPaths: registerFastKernels(active)
  }
  return current
}

/** "webgpu (google swiftshader (SwiftShader driver 5.0.0), software)" or "wasm": for run records and logs. */
export function backendLabel(report: BackendReport): string {
  if (!report.adapter) return report.active
  return `${report.active} (${describeAdapter(report.adapter)}${report.adapter.software ? ', software' : ''})`
}

/** The report of the last probe, or null before `initBackend` ran. */
export function backendReport(): BackendReport | null {
  return current
}

/** One line per backend for logs and the CLI, e.g. "tensorflow-gpu: @tensorflow/tfjs-node-gpu not installed". */
export function describeBackend(report: BackendReport): string[] {
  return report.candidates.map((c) => {
    const on =
      c.adapter && c.status !== 'skipped'
        ? ` on ${describeAdapter(c.adapter)}${c.adapter.software ? ' (software adapter)' : ''}`
        : ''
    return c.status === 'in-use'
      ? `${c.name}: in use${on}`
      : c.status === 'skipped'
        ? `${c.name}: ${c.reason}`
        : `${c.name}: available`
  })
}
