/**
 * The trainer's checkpoints of a run: what the JSON part holds, resuming from one, writing one
 * and loading the selected (best) epoch's weights. The file format itself is ml/train/checkpoints.
 */
import { join } from 'node:path'
import type { Metrics } from '../../src-preload/contract/common'
import { CheckpointError, readCheckpoint, writeCheckpoint } from '../ml/train/checkpoints'
import type { Position } from '../ml/train/loop'
import type { ModelState, TrainModel } from '../ml/train/model'
import type { RunJob } from './protocol'

/** The best epoch so far on the model-selection split. */
export type BestEpoch = { epoch: number; metrics: Metrics; checkpoint: string } | null

/** What a checkpoint file's JSON part holds besides the arrays. */
export interface CheckpointMeta {
  version: 1
  runId: number
  /** The next batch to train. */
  position: Position
  /** The best epoch so far on the model-selection split. */
  best: BestEpoch
  optimizerSteps: Record<string, number>
  /** Parts of the model stored (head, loss, backbone?, optimizer). */
  parts: string[]
}

/** Where training goes on: the start, or the job's checkpoint (weights and optimiser restored). */
export function resumeFromCheckpoint(
  job: RunJob,
  model: TrainModel
): { position: Position; best: BestEpoch; resumed: boolean } {
  if (!job.checkpoint)
    return { position: { epoch: 0, batch: 0, step: 0 }, best: null, resumed: false }
  const ck = readCheckpoint<CheckpointMeta>(join(job.runDir, job.checkpoint))
  model.restoreState({ sections: ck.sections, optimizerSteps: ck.meta.optimizerSteps })
  return { position: ck.meta.position, best: ck.meta.best, resumed: true }
}

/** Writes the model's full state (weights, optimiser, position, best) as `name` in the run folder. */
export async function writeRunCheckpoint(
  job: RunJob,
  model: TrainModel,
  name: string,
  position: Position,
  best: BestEpoch
): Promise<void> {
  const state: ModelState = await model.captureState()
  const meta: CheckpointMeta = {
    version: 1,
    runId: job.runId,
    position,
    best,
    optimizerSteps: state.optimizerSteps,
    parts: Object.keys(state.sections)
  }
  writeCheckpoint(join(job.runDir, name), { meta, sections: state.sections })
}

/**
 * Loads the best epoch's weights (not its optimiser state) into the model. A damaged or lost
 * best checkpoint should not cost the whole run: it returns the reason instead, and the model
 * keeps the last epoch's weights.
 */
export function restoreBest(
  job: RunJob,
  model: TrainModel,
  best: NonNullable<BestEpoch>
): string | null {
  let ck
  try {
    ck = readCheckpoint<CheckpointMeta>(join(job.runDir, best.checkpoint))
  } catch (err) {
    if (err instanceof CheckpointError) return err.message
    throw err
  }
  model.restoreState({ sections: ck.sections, optimizerSteps: ck.meta.optimizerSteps }, false)
  return null
}
