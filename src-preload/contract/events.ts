import type { JobProgress } from './common'
import type { EpochRecord, RunLogEntry, RunStatus, StepRecord } from './runs'
import type { BackendReport } from './system'

/** Live training progress, throttled to about 8 updates a second. */
export interface RunProgress {
  runId: number
  epoch: number
  epochs: number
  batch: number
  batches: number
  /** Seconds left for the whole run, null until known. */
  etaSec: number | null
  imagesPerSec: number | null
  /** 'refit': training a fresh model on all training classes for the selected epoch count. */
  phase: 'features' | 'baseline' | 'train' | 'eval' | 'refit' | 'test'
}

/** Every event the backend pushes to the renderer, a discriminated union on `type`. */
export type AppEvent =
  | { type: 'job'; job: JobProgress }
  | { type: 'backend'; backend: BackendReport }
  | { type: 'run.status'; runId: number; status: RunStatus; message: string | null }
  | { type: 'run.progress'; progress: RunProgress }
  | { type: 'run.steps'; runId: number; steps: StepRecord[] }
  | { type: 'run.epoch'; runId: number; record: EpochRecord }
  | { type: 'run.log'; runId: number; entry: RunLogEntry }
  | { type: 'datasets.changed' }
  | { type: 'runs.changed' }
