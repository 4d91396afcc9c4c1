/**
 * Backend probe and selection: tensorflow-gpu → tensorflow → wasm → cpu. Native TensorFlow
 * packages are optional dependencies (their install downloads libtensorflow), so each one is
 * probed at run time and the reason for skipping it is kept for the UI.
 */
import { createRequire } from 'node:module'
import * as tf from '@tensorflow/tfjs'
import type {
  BackendCandidate,
  BackendName,
  BackendReport
} from '../../../src-preload/contract/system'
import { registerFastKernels } from '../kernels'

const require = createRequire(import.meta.url)

const ORDER: BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']

const NATIVE_PACKAGE: Record<'tensorflow-gpu' | 'tensorflow', string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node'
}

export interface ProbeOptions {
  /** Only consider these backends (in the fixed order); e.g. HIST_BACKEND=cpu in tests. */
  only?: BackendName[]
  /** Loads a package; tests replace it to simulate installed or broken native packages. */
  load?: (name: string) => unknown
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

/** Probes the backends in order, activates the first that works and records why others were skipped. */
export async function initBackend(opts: ProbeOptions = {}): Promise<BackendReport> {
  const envOnly = process.env.HIST_BACKEND?.split(',').map((s) => s.trim()) as
    BackendName[] | undefined
  const only = opts.only ?? envOnly
  const load = opts.load ?? ((n: string) => require(n))
  const candidates: BackendCandidate[] = []
  let active: BackendName | null = null
  for (const name of ORDER) {
    if (active) {
      candidates.push({ name, status: 'available' })
      continue
    }
    if (only && !only.includes(name)) {
      candidates.push({ name, status: 'skipped', reason: 'excluded by HIST_BACKEND' })
      continue
    }
    let reason: string | null
    if (name === 'tensorflow-gpu' || name === 'tensorflow') {
      reason = await tryNative(name, load)
    } else if (name === 'wasm') {
      try {
        await import('@tensorflow/tfjs-backend-wasm')
        reason = (await tf.setBackend('wasm')) ? null : 'the wasm backend failed to initialise'
      } catch (err) {
        reason = `@tensorflow/tfjs-backend-wasm failed to load: ${message(err)}`
      }
    } else {
      reason = (await tf.setBackend('cpu')) ? null : 'the cpu backend failed to initialise'
    }
    if (reason === null) {
      await tf.ready()
      active = name
      candidates.push({ name, status: 'in-use' })
    } else {
      candidates.push({ name, status: 'skipped', reason })
    }
  }
  if (!active) throw new Error('no TensorFlow.js backend could be initialised')
  // The one place fast kernels are registered: for the backend just activated (none on webgpu).
  current = { active, candidates, fastPaths: registerFastKernels(active) }
  return current
}

/** The report of the last probe, or null before `initBackend` ran. */
export function backendReport(): BackendReport | null {
  return current
}

/** One line per backend for logs and the CLI, e.g. "tensorflow-gpu: @tensorflow/tfjs-node-gpu not installed". */
export function describeBackend(report: BackendReport): string[] {
  return report.candidates.map((c) =>
    c.status === 'in-use'
      ? `${c.name}: in use`
      : c.status === 'skipped'
        ? `${c.name}: ${c.reason}`
        : `${c.name}: available`
  )
}
