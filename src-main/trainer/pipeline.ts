/**
 * One run, start to finish, inside the trainer process (or in-process for benchmarks): the
 * splits and the data that feeds the model (data.ts), the untrained baseline, the training loop
 * with per-epoch evaluation and checkpoints (checkpointing.ts), model selection, and the final
 * test evaluation with the gallery file (evaluation.ts). It talks to the owner only through
 * `send` (plain data, reporting.ts) and never touches the database.
 */
import type { Metrics } from '../../src-preload/contract/common'
import { backendLabel, describeBackend, initBackend } from '../ml/backend'
import { loadBackbone } from '../ml/models/backbones'
import { checkpointName } from '../ml/train/checkpoints'
import { batchesPerEpoch, fit, type FitResult, type Position } from '../ml/train/loop'
import { NonFiniteLossError } from '../ml/train/step'
import {
  restoreBest,
  resumeFromCheckpoint,
  writeRunCheckpoint,
  type BestEpoch
} from './checkpointing'
import { fineTuneRunData, frozenRunData, runSplits, type RunData } from './data'
import { finalTest, metricsOf, reportBaseline, score } from './evaluation'
import type { RunJob } from './protocol'
import { Progress, StepReporter, type Send } from './reporting'

export { probeRun } from './probe'
export type { CheckpointMeta } from './checkpointing'

/** Pause and stop requests from the owner. */
export interface RunControl {
  signal: AbortSignal
  pauseRequested(): boolean
}

/** Everything one training job shares between its phases. */
interface RunState {
  job: RunJob
  run: RunData
  send: Send
  progress: Progress
  perEpoch: number
  position: Position
  best: BestEpoch
  lastCheckpoint: string | null
  evalOnce(
    which: 'sel' | 'test',
    phase: 'baseline' | 'eval' | 'test'
  ): Promise<{ metrics: Metrics }>
}

/** Runs (or resumes) a whole training job. */
export async function runTraining(job: RunJob, send: Send, control: RunControl): Promise<void> {
  const cfg = job.config
  const report = await initBackend({ device: cfg.device })
  send({ type: 'backend', backend: backendLabel(report) })
  const progress = new Progress(send)
  progress.log('info', `Device ${cfg.device}: ${describeBackend(report).join('; ')}.`)
  if (report.adapter?.software)
    progress.log(
      'warn',
      'The WebGPU adapter is a software one (a CPU implementation of the GPU API): training works but is slower than on wasm.'
    )
  const splits = runSplits(job, (m) => progress.log('info', m))
  const backbone = await loadBackbone(cfg.backbone, {
    modelsDir: job.modelsDir,
    seed: cfg.seed,
    signal: control.signal
  })
  let run: RunData | null = null
  try {
    run = cfg.frozen
      ? await frozenRunData(job, splits, backbone, progress, control.signal)
      : fineTuneRunData(job, splits, backbone)
    if (!run) return send({ type: 'cancelled' })
    const { position, best, resumed } = resumeFromCheckpoint(job, run.model)
    if (resumed)
      progress.log(
        'info',
        `Resumed at epoch ${position.epoch + 1}, batch ${position.batch} (step ${position.step}).`
      )
    const perEpoch = batchesPerEpoch(splits.trainLabels, cfg)
    const r = run
    const state: RunState = {
      job,
      run,
      send,
      progress,
      perEpoch,
      position,
      best,
      lastCheckpoint: job.checkpoint,
      async evalOnce(which, phase) {
        progress.report(phaseProgress(job, state.position.epoch + 1, perEpoch, phase), true)
        const emb = await r.embedder(which)
        const labels = which === 'sel' ? splits.selLabels : splits.testLabels
        return { metrics: await metricsOf(emb, labels, cfg.embeddingSize, job.ks, cfg.seed) }
      }
    }
    await reportBaseline(job, run, splits, state.evalOnce, progress, send)
    const result = await trainEpochs(state, control)
    if (!result) return
    if (result.reason === 'cancelled') return send({ type: 'cancelled' })
    if (result.reason === 'paused') return await sendPaused(state, result.position)
    // The selected model: the best epoch's weights, evaluated on the test split.
    const lost = state.best ? restoreBest(job, run.model, state.best) : null
    if (lost) {
      send({ type: 'log', level: 'warn', message: `${lost}; the last epoch's model is tested.` })
      state.best = null
    }
    progress.report(phaseProgress(job, cfg.epochs, perEpoch, 'test'), true)
    await finalTest(job, run, splits, state.best?.epoch ?? cfg.epochs, progress, send)
  } finally {
    run?.model.dispose()
    if (!run?.backboneDisposed) backbone.dispose()
  }
}

/** A progress record at the start of an evaluation phase. */
function phaseProgress(
  job: RunJob,
  epoch: number,
  perEpoch: number,
  phase: 'baseline' | 'eval' | 'test'
): Parameters<Progress['report']>[0] {
  const epochs = job.config.epochs
  return {
    epoch: Math.min(epoch, epochs),
    epochs,
    batch: 0,
    batches: perEpoch,
    etaSec: null,
    imagesPerSec: null,
    phase
  }
}

/**
 * The training loop: after each epoch the model-selection split is evaluated, a checkpoint
 * written and the best epoch kept. Returns null when the loss went non-finite (already reported
 * as failed).
 */
async function trainEpochs(state: RunState, control: RunControl): Promise<FitResult | null> {
  const { job, run, send, progress } = state
  const cfg = job.config
  const epochs = cfg.epochs
  const steps = new StepReporter(send, {
    epochs,
    perEpoch: state.perEpoch,
    batchSize: cfg.batchSize
  })
  try {
    const result = await fit(run.model, run.data, {
      epochs,
      batchSize: cfg.batchSize,
      sampler: cfg.sampler,
      ipc: cfg.ipc,
      seed: cfg.seed,
      start: state.position,
      signal: control.signal,
      shouldPause: control.pauseRequested,
      callbacks: {
        onEpochBegin: () => steps.resetClock(),
        onBatchEnd: (l) => {
          steps.batchEnd(l)
          progress.report({
            epoch: l.epoch + 1,
            epochs,
            batch: l.batch + 1,
            batches: l.batches,
            etaSec: steps.eta(l.epoch, l.batch),
            imagesPerSec: steps.imagesPerSec(),
            phase: 'train'
          })
        },
        onEpochEnd: async (l) => {
          steps.flush()
          const t0 = performance.now()
          const { metrics } = await state.evalOnce('sel', 'eval')
          steps.evalDone((performance.now() - t0) / 1000)
          const epoch1 = l.epoch + 1
          const name = checkpointName(epoch1)
          const isBest = !state.best || score(metrics) > score(state.best.metrics)
          if (isBest) state.best = { epoch: epoch1, metrics, checkpoint: name }
          await writeRunCheckpoint(
            job,
            run.model,
            name,
            { epoch: epoch1, batch: 0, step: l.step },
            state.best
          )
          state.lastCheckpoint = name
          send({
            type: 'epoch',
            record: { epoch: epoch1, metrics, seconds: l.seconds, imagesPerSec: l.imagesPerSec },
            checkpoint: name,
            step: l.step,
            best: isBest ? state.best : null
          })
          if (isBest)
            progress.log(
              'info',
              `Epoch ${epoch1}: new best ${cfg.modelSelection === 'val' ? 'validation' : 'test'} R@1 ${(score(metrics) * 100).toFixed(2)}; checkpoint ${name} kept as the selected model.`
            )
          steps.resetClock()
        }
      }
    })
    steps.flush()
    return result
  } catch (err) {
    steps.flush()
    if (err instanceof NonFiniteLossError) {
      progress.log('error', err.message)
      send({ type: 'failed', message: err.message })
      return null
    }
    throw err
  }
}

/** Pauses: checkpoints mid-epoch (unless nothing moved since the last one) and says where. */
async function sendPaused(state: RunState, pos: Position): Promise<void> {
  const { job } = state
  const same = job.checkpoint !== null && pos.step === state.position.step
  let name = state.lastCheckpoint
  if (!same && (pos.batch > 0 || state.lastCheckpoint === null)) {
    name = checkpointName(pos.epoch, pos.batch)
    await writeRunCheckpoint(job, state.run.model, name, pos, state.best)
  }
  state.send({ type: 'paused', checkpoint: name, step: pos.step, epoch: pos.epoch })
}
