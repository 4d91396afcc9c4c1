/**
 * The training loop: epochs of mini-batches with the StepLR schedule, warm-up with the backbone
 * frozen, random or class-balanced batches (drop_last), prefetching of the next two batches while
 * the current one trains, tfjs-style callbacks, and cancellation or pausing between batches.
 *
 * Every random choice is a pure function of (seed, epoch, batch): the batches of an epoch come
 * from a generator seeded by (seed, epoch), the augmentations of a batch from (seed, epoch,
 * batch). So a run resumed at any batch boundary continues exactly as if it had not stopped,
 * and the checkpoint needs no RNG state beyond its position.
 */
import * as tf from '@tensorflow/tfjs'
import { balancedBatches, randomBatches } from '../data/samplers'
import { createRng, type Rng } from '../util/rng'
import type { BatchLogs, TrainCallbacks } from './callbacks'
import { trainStep, type StepModel } from './step'

/** Where training stands: the next batch to run. */
export interface Position {
  /** 0-based epoch of the next batch. */
  epoch: number
  /** 0-based batch within that epoch. */
  batch: number
  /** Global step index of the next batch. */
  step: number
}

/** The training data as the loop sees it. */
export interface FitData {
  /** Dense labels 0..C-1 of the training items. */
  labels: Int32Array
  /**
   * Builds the network input of a batch (features or decoded, augmented images); the loop
   * disposes the tensor. `rng` is the batch's own augmentation stream.
   */
  load(indices: number[], rng: Rng): Promise<tf.Tensor> | tf.Tensor
}

/** The model as the loop sees it. */
export interface FitModel extends StepModel {
  /** Sets the learning rates of every group for a 0-based epoch; returns the base (head) lr. */
  setEpoch(epoch: number): number
  /** The variables trained in a 0-based epoch (the backbone's are left out during warm-up). */
  trainableVariables(epoch: number): tf.Variable[]
}

/** Loop settings (from the run's TrainConfig). */
export interface FitOptions {
  epochs: number
  batchSize: number
  sampler: 'random' | 'balanced'
  /** Images per class in a balanced batch. */
  ipc: number
  seed: number
  /**
   * Images per backbone micro-batch (gradient cache, exact for the batch's loss); unset or ≥
   * batchSize: one pass over the whole batch.
   */
  microBatch?: number
  /** Batches loaded ahead of the one training (default 2). */
  prefetch?: number
  /** Resume position (default: the very start). */
  start?: Position
  /** Stops between batches (the run ends 'cancelled'). */
  signal?: AbortSignal
  /** Polled between batches; true ends the loop 'paused' at a batch boundary. */
  shouldPause?: () => boolean
  callbacks?: TrainCallbacks
}

/** How the loop ended and where it stands. */
export interface FitResult {
  reason: 'completed' | 'paused' | 'cancelled'
  position: Position
}

/** Seeds of the per-epoch and per-batch random streams (distinct, well mixed). */
export function epochSeed(seed: number, epoch: number): number {
  return (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca77)) | 0
}

/** Seed of a batch's augmentation stream. */
export function batchSeed(seed: number, epoch: number, batch: number): number {
  return (epochSeed(seed, epoch) ^ Math.imul(batch + 1, 0xc2b2ae3d) ^ 0x27d4eb2f) | 0
}

/** The batches (index lists) of a 0-based epoch. */
export function epochBatches(
  labels: Int32Array,
  opts: Pick<FitOptions, 'batchSize' | 'sampler' | 'ipc' | 'seed'>,
  epoch: number
): number[][] {
  const rng = createRng(epochSeed(opts.seed, epoch))
  return opts.sampler === 'balanced'
    ? balancedBatches(labels, opts.batchSize, opts.ipc, rng)
    : randomBatches(labels, opts.batchSize, rng, true)
}

/** Batches per epoch (drop_last), without building them. */
export function batchesPerEpoch(
  labels: Int32Array,
  opts: Pick<FitOptions, 'batchSize' | 'sampler' | 'ipc' | 'seed'>
): number {
  return opts.sampler === 'balanced'
    ? epochBatches(labels, opts, 0).length
    : Math.floor(labels.length / opts.batchSize)
}

/** Trains from `opts.start` to the end of `opts.epochs` (or until paused / cancelled). */
export async function fit(model: FitModel, data: FitData, opts: FitOptions): Promise<FitResult> {
  const cb = opts.callbacks ?? {}
  const pos: Position = { ...(opts.start ?? { epoch: 0, batch: 0, step: 0 }) }
  const stopNow = (): 'paused' | 'cancelled' | null =>
    opts.signal?.aborted ? 'cancelled' : opts.shouldPause?.() ? 'paused' : null

  await cb.onTrainBegin?.()
  for (; pos.epoch < opts.epochs; pos.epoch++, pos.batch = 0) {
    const early = stopNow()
    if (early) {
      await cb.onTrainEnd?.(early)
      return { reason: early, position: { ...pos } }
    }
    const epoch = pos.epoch
    const lr = model.setEpoch(epoch)
    const vars = model.trainableVariables(epoch)
    const batches = epochBatches(data.labels, opts, epoch)
    if (!batches.length)
      throw new Error(
        `no full batch of ${opts.batchSize}: the training split has ${data.labels.length} images`
      )
    await cb.onEpochBegin?.(epoch)
    const t0 = performance.now()
    let lossSum = 0
    let images = 0
    let ran = 0
    const loadBatch = (b: number): Promise<tf.Tensor> =>
      Promise.resolve(data.load(batches[b], createRng(batchSeed(opts.seed, epoch, b))))
    // Batches being loaded ahead, by index. Two ahead, because decoding needs the main thread
    // between its stages and a synchronous step holds it: a batch started one step earlier has
    // its decoding dispatched at that step's yields, so it is ready when its turn comes.
    const pending = new Map<number, Promise<tf.Tensor>>()
    const ahead = Math.max(1, opts.prefetch ?? 2)
    const prefetch = (from: number): void => {
      for (let k = from; k < Math.min(batches.length, from + ahead); k++) {
        if (pending.has(k)) continue
        const p = loadBatch(k)
        // A rejected prefetch that is never awaited must not crash the process.
        p.catch(() => undefined)
        pending.set(k, p)
      }
    }
    prefetch(pos.batch)
    try {
      for (; pos.batch < batches.length; pos.batch++) {
        const b = pos.batch
        const cur = pending.get(b)!
        pending.delete(b)
        const x = await cur
        prefetch(b + 1)
        const idx = batches[b]
        const y = tf.tensor1d(
          Int32Array.from(idx, (i) => data.labels[i]),
          'int32'
        )
        let res
        try {
          res = await trainStep(model, x, y, vars, pos.step, opts.microBatch)
        } finally {
          tf.dispose([x, y])
        }
        pos.step++
        lossSum += res.loss
        images += idx.length
        ran++
        const logs: BatchLogs = {
          step: pos.step - 1,
          epoch,
          batch: b,
          batches: batches.length,
          loss: res.loss,
          parts: res.parts,
          lr,
          size: idx.length
        }
        await cb.onBatchEnd?.(logs)
        // Let pending I/O run (the owner's pause/stop messages arrive as I/O callbacks, and a
        // loop of resolved promises alone would never let them in).
        await new Promise<void>((r) => setImmediate(r))
        const stop = stopNow()
        if (stop && b + 1 < batches.length) {
          pos.batch = b + 1
          await cb.onTrainEnd?.(stop)
          return { reason: stop, position: { ...pos } }
        }
      }
    } finally {
      // Free prefetched batches that will not be used (stop, pause or error).
      for (const p of pending.values())
        void p.then(
          (t) => t.dispose(),
          () => undefined
        )
    }
    const seconds = (performance.now() - t0) / 1000
    pos.batch = 0
    await cb.onEpochEnd?.({
      epoch,
      loss: ran ? lossSum / ran : NaN,
      seconds,
      imagesPerSec: seconds > 0 ? images / seconds : 0,
      step: pos.step
    })
  }
  await cb.onTrainEnd?.('completed')
  return { reason: 'completed', position: { epoch: opts.epochs, batch: 0, step: pos.step } }
}
