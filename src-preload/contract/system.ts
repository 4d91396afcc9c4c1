import { NoInput } from './common'

export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu'

/** What the backend probe found for one candidate, in probe order. */
export interface BackendCandidate {
  name: BackendName
  status: 'in-use' | 'skipped' | 'available'
  /** Why it was skipped, e.g. "@tensorflow/tfjs-node-gpu not installed". */
  reason?: string
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

export interface SystemService {
  status(): Promise<SystemStatus>
  pickFolder(): Promise<string | null>
  pickImage(): Promise<string | null>
}
