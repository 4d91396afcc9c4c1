import { NoInput } from './common'

export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu'

/** What the backend probe found for one candidate, in probe order. */
export interface BackendCandidate {
  name: BackendName
  status: 'in-use' | 'skipped' | 'available'
  /** Why it was skipped, e.g. "@tensorflow/tfjs-node-gpu not installed". */
  reason?: string
}

export interface BackendReport {
  active: BackendName
  candidates: BackendCandidate[]
}

export interface SystemStatus {
  appVersion: string
  mode: 'electron' | 'web'
  dataDir: string
  /** The backend the trainer uses; null while the probe is still running. */
  backend: BackendReport | null
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
