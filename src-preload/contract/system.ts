import { NoInput } from './common'
import type { ServiceOf } from './define'

export type BackendName = 'tensorflow-gpu' | 'webgpu' | 'tensorflow' | 'wasm' | 'cpu'

/** Where training and embedding run: 'auto' picks the fastest usable backend. */
export const COMPUTE_DEVICES = ['auto', 'gpu', 'cpu'] as const
export type ComputeDevice = (typeof COMPUTE_DEVICES)[number]

/** The WebGPU adapter the probe found (Dawn's GPUAdapterInfo). */
export interface GpuAdapterInfo {
  vendor: string
  architecture: string
  description: string
  /** A CPU implementation of the GPU API (SwiftShader, lavapipe, llvmpipe): plumbing, not speed. */
  software: boolean
}

/** What the backend probe found for one candidate, in probe order. */
export interface BackendCandidate {
  name: BackendName
  status: 'in-use' | 'skipped' | 'available'
  /** Why it was skipped, e.g. "@tensorflow/tfjs-node-gpu not installed". */
  reason?: string
  /** For webgpu: the adapter found, also when it was skipped (e.g. a software adapter). */
  adapter?: GpuAdapterInfo
}

/** A speed-up path of src-main/ml/kernels (see registerFastKernels there). */
export type FastPathName = 'wasm-simd' | 'wasm-gradients' | 'fused-adam-cpu' | 'eval-similarity'

/** Whether one fast path is on and, if not, why. */
export interface FastPathStatus {
  name: FastPathName
  active: boolean
  /** What it does when on, e.g. "fused Adam … (f32x4)"; the reason when off ("off: …"). */
  detail: string
}

export interface BackendReport {
  active: BackendName
  candidates: BackendCandidate[]
  /** Whether the active backend computes on a GPU ('tensorflow-gpu', 'webgpu') or the CPU. */
  device?: 'gpu' | 'cpu'
  /** What was asked for (--device, HIST_DEVICE, the run's config). */
  requested?: ComputeDevice
  /** The WebGPU adapter in use when `active` is 'webgpu'. */
  adapter?: GpuAdapterInfo
  /** The fast kernels registered for the active backend (set by the backend start-up). */
  fastPaths?: FastPathStatus[]
}

export interface SystemStatus {
  appVersion: string
  mode: 'electron' | 'web'
  dataDir: string
  /** The backend the trainer uses; null while the probe is still running. */
  backend: BackendReport | null
  /** Whether each fast kernel path is on, and why not; null while the probe is still running. */
  fastPaths: FastPathStatus[] | null
}

export const systemSchemas = {
  status: NoInput,
  /** Opens a native folder picker (Electron only); web mode answers null. */
  pickFolder: NoInput,
  /** Opens a native file picker for images (Electron only); web mode answers null. */
  pickImage: NoInput
} as const

/** The system service: payloads from `systemSchemas`, results named here (see define.ts). */
export type SystemService = ServiceOf<
  typeof systemSchemas,
  {
    status: SystemStatus
    pickFolder: string | null
    pickImage: string | null
  }
>
