/**
 * The training phases of a run: the selection phase (train, evaluate on the selection split
 * after every epoch, checkpoint, remember the best) and the refit on all training classes for
 * the selected number of epochs.
 */
import { join } from 'node:path'
import {
  RateMeter,
  Throttle,
  type BatchLogs,
  type EpochLogs,
  type TrainCallbacks
} from '../ml/train/callbacks'
import { checkpointName, writeCheckpoint } from '../ml/train/checkpoints'
import { batchesPerEpoch, fit, type FitData, type FitResult, type Position } from '../ml/train/loop'
import type { ModelState, TrainModel } from '../ml/train/model'
import { denseLabels } from '../ml/train/splits'
import { NonFiniteLossError } from '../ml/train/step'
import type { JobItem } from './protocol'
import { metricsOf, score, type CheckpointMeta, type RunCtx, type Send } from './runCtx'

/** Writes the model's state as a checkpoint file of the run folder. */
export async function writeState(
  rc: RunCtx,
  model: TrainModel,
  name: string,
  pos: Position,
  best: CheckpointMeta['best'],
  extra: Pick<CheckpointMeta, 'refit' | 'history'> = {}
): Promise<void> {
  const state: ModelState = await model.captureState()
  const meta: CheckpointMeta = {
    version: 1,
    runId: rc.job.runId,
    position: pos,
    best,
    optimizerSteps: state.optimizerSteps,
    parts: Object.keys(state.sections),
    ...extra
  }
  writeCheckpoint(join(rc.job.runDir, name), { meta, sections: state.sections })
}

/** Per-step records go out in small batches (every 250 ms). */
function stepSender(send: Send): { push(l: BatchLogs): void; flush(): void } {
  let pending: BatchLogs[] = []
  const throttle = new Throttle(250)
  const flush = (): void => {
    if (!pending.length) return
    send({
      type: 'steps',
      steps: pending.map((l) => ({
        step: l.step,
        epoch: l.epoch + 1,
        loss: l.loss,
        lds: l.parts.lds ?? null,
        ce: l.parts.ce ?? null,
        lr: l.lr
      }))
    })
    pending = []
  }
  return {
    push(l) {
      pending.push(l)
      if (throttle.ready()) flush()
    },
    flush
  }
}

/** Reports a non-finite loss as the run's failure; rethrows anything else. */
function failOnNonFinite(rc: RunCtx, err: unknown): void {
  if (err instanceof NonFiniteLossError) {
    rc.log('error', err.message)
    rc.send({ type: 'failed', message: err.message })
    return
  }
  throw err
}

/** What a phase tells the shared loop runner besides the data: its epochs, start and hooks. */
interface PhaseFit {
  epochs: number
  start: Position
  /** Called after each batch with the images/s meter (evaluation time excluded). */
  onBatch(l: BatchLogs, rate: RateMeter): void
  onEpochEnd?(l: EpochLogs): Promise<void>
  /** Sends what the phase holds back (before a failure is reported). */
  flush?(): void
}

/**
 * Runs the loop for one phase (selection or refit) with the run's settings, controls and
 * micro-batch, timing the batches for the ETA. Null when a non-finite loss failed the run
 * (already reported).
 */
async function runPhase(
  rc: RunCtx,
  model: TrainModel,
  data: FitData,
  phase: PhaseFit
): Promise<FitResult | null> {
  const { cfg } = rc
  const rate = new RateMeter()
  let lastBatchEnd = performance.now()
  const callbacks: TrainCallbacks = {
    onEpochBegin: () => {
      lastBatchEnd = performance.now()
    },
    onBatchEnd: (l) => {
      const now = performance.now()
      rate.add(l.size, (now - lastBatchEnd) / 1000)
      lastBatchEnd = now
      phase.onBatch(l, rate)
    },
    onEpochEnd: async (l) => {
      await phase.onEpochEnd?.(l)
      lastBatchEnd = performance.now()
    }
  }
  try {
    return await fit(model, data, {
      epochs: phase.epochs,
      batchSize: cfg.batchSize,
      sampler: cfg.sampler,
      ipc: cfg.ipc,
      seed: cfg.seed,
      microBatch: rc.microBatch,
      start: phase.start,
      signal: rc.control.signal,
      shouldPause: rc.control.pauseRequested,
      callbacks
    })
  } catch (err) {
    phase.flush?.()
    failOnNonFinite(rc, err)
    return null
  }
}

/**
 * Trains with an evaluation on the selection split after every epoch, a checkpoint per epoch
 * and the best epoch remembered. Null when the run paused, stopped or failed (already sent).
 */
export async function selectionPhase(
  rc: RunCtx,
  model: TrainModel,
  trainItems: JobItem[],
  selItems: JobItem[],
  ck: { meta: CheckpointMeta; sections: ModelState['sections'] } | null,
  /** The split selItems are from; with `select` false the epochs are only monitored. */
  sel: { split: 'validation' | 'test'; select: boolean }
): Promise<{ best: CheckpointMeta['best']; step: number; history: number[] } | null> {
  const { job, cfg, send, progress } = rc
  const epochs = cfg.epochs
  const data = rc.source.data(trainItems)
  const selLabels = denseLabels(selItems).labels
  let position: Position = { epoch: 0, batch: 0, step: 0 }
  let best: CheckpointMeta['best'] = null
  const history: number[] = []
  let lastCheckpoint = job.checkpoint
  if (ck) {
    model.restoreState({ sections: ck.sections, optimizerSteps: ck.meta.optimizerSteps })
    position = ck.meta.position
    best = ck.meta.best
    history.push(...(ck.meta.history ?? []))
    rc.log(
      'info',
      `Resumed at epoch ${position.epoch + 1}, batch ${position.batch} (step ${position.step}).`
    )
  }
  const perEpoch = batchesPerEpoch(data.labels, cfg)
  const steps = stepSender(send)
  let evalSeconds = 0
  let evalCount = 0
  // The refit trains again, for at most `epochs` epochs on all classes: counted in the ETA.
  const refitBatches = cfg.modelSelection === 'refit' ? epochs * perEpoch : 0
  const etaFor = (rate: RateMeter, epoch: number, batch: number): number | null => {
    const left = (epochs - epoch - 1) * perEpoch + (perEpoch - batch - 1) + refitBatches
    const trainSec = rate.secondsFor(left * cfg.batchSize)
    if (trainSec === null) return null
    return trainSec + (evalCount ? (evalSeconds / evalCount) * (epochs - epoch) : 0)
  }
  const result = await runPhase(rc, model, data, {
    epochs,
    start: position,
    flush: steps.flush,
    onBatch: (l, rate) => {
      steps.push(l)
      progress.report({
        epoch: l.epoch + 1,
        epochs,
        batch: l.batch + 1,
        batches: l.batches,
        etaSec: etaFor(rate, l.epoch, l.batch),
        imagesPerSec: rate.imagesPerSec(),
        phase: 'train'
      })
    },
    onEpochEnd: async (l) => {
      steps.flush()
      const t0 = performance.now()
      const epoch1 = l.epoch + 1
      progress.report(
        {
          epoch: epoch1,
          epochs,
          batch: 0,
          batches: perEpoch,
          etaSec: null,
          imagesPerSec: null,
          phase: 'eval'
        },
        true
      )
      const emb = await rc.source.embed(model, selItems)
      const metrics = {
        ...(await metricsOf(emb, selLabels, cfg.embeddingSize, job.ks, cfg.seed)),
        split: sel.split
      }
      evalSeconds += (performance.now() - t0) / 1000
      evalCount++
      const name = checkpointName(epoch1)
      const isBest = sel.select && (!best || score(metrics) > score(best.metrics))
      if (isBest) best = { epoch: epoch1, metrics, checkpoint: name }
      history[epoch1 - 1] = score(metrics)
      await writeState(rc, model, name, { epoch: epoch1, batch: 0, step: l.step }, best, {
        history
      })
      lastCheckpoint = name
      send({
        type: 'epoch',
        record: { epoch: epoch1, metrics, seconds: l.seconds, imagesPerSec: l.imagesPerSec },
        checkpoint: name,
        step: l.step,
        best: isBest ? best : null
      })
      if (isBest)
        rc.log(
          'info',
          `Epoch ${epoch1}: new best ${sel.split} R@1 ${(score(metrics) * 100).toFixed(2)}; checkpoint ${name} kept as the selected ${cfg.modelSelection === 'refit' ? 'epoch count' : 'model'}.`
        )
    }
  })
  if (!result) return null
  steps.flush()
  if (result.reason === 'cancelled') {
    send({ type: 'cancelled' })
    return null
  }
  if (result.reason === 'paused') {
    const pos = result.position
    const same = job.checkpoint !== null && pos.step === position.step
    let name = lastCheckpoint
    if (!same && (pos.batch > 0 || lastCheckpoint === null)) {
      name = checkpointName(pos.epoch, pos.batch)
      await writeState(rc, model, name, pos, best, { history })
    }
    send({ type: 'paused', checkpoint: name, step: pos.step, epoch: pos.epoch })
    return null
  }
  return { best, step: result.position.step, history }
}

/**
 * The refit: a fresh model trains on ALL training classes for the selected number of epochs,
 * without evaluation (there is nothing left to select). Pausing writes a refit checkpoint that
 * resumes here; a crash resumes from the last selection checkpoint and refits from the start.
 */
export async function refitPhase(
  rc: RunCtx,
  model: TrainModel,
  refit: NonNullable<CheckpointMeta['refit']>,
  ck: { meta: CheckpointMeta; sections: ModelState['sections'] } | null,
  selectedBest: CheckpointMeta['best'] = null
): Promise<'completed' | 'stopped'> {
  const { job, cfg, send, progress } = rc
  const best = ck?.meta.best ?? selectedBest
  let position: Position = { epoch: 0, batch: 0, step: 0 }
  if (ck) {
    model.restoreState({ sections: ck.sections, optimizerSteps: ck.meta.optimizerSteps })
    position = ck.meta.position
    rc.log('info', `Resumed the refit at epoch ${position.epoch + 1}, batch ${position.batch}.`)
  }
  const data = rc.source.data(job.train)
  const result = await runPhase(rc, model, data, {
    epochs: refit.epochs,
    start: position,
    onBatch: (l, rate) => {
      const left = (refit.epochs - l.epoch - 1) * l.batches + (l.batches - l.batch - 1)
      progress.report({
        epoch: l.epoch + 1,
        epochs: refit.epochs,
        batch: l.batch + 1,
        batches: l.batches,
        etaSec: rate.secondsFor(left * cfg.batchSize),
        imagesPerSec: rate.imagesPerSec(),
        phase: 'refit'
      })
    }
  })
  if (!result) return 'stopped'
  if (result.reason === 'cancelled') {
    send({ type: 'cancelled' })
    return 'stopped'
  }
  if (result.reason === 'paused') {
    const pos = result.position
    const name = `refit-${checkpointName(pos.epoch, pos.batch)}`
    await writeState(rc, model, name, pos, best, { refit })
    send({ type: 'paused', checkpoint: name, step: refit.selectionStep, epoch: cfg.epochs })
    return 'stopped'
  }
  return 'completed'
}

