/**
 * One run, start to finish, inside the trainer process (or in-process for benchmarks): the
 * validation split, backbone features (cached on disk in frozen mode), the untrained baseline,
 * the training loop with per-epoch evaluation and checkpoints, model selection, and the final
 * test evaluation with the gallery file. It talks to the owner only through `send` (plain data)
 * and never touches the database.
 */
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import type { Metrics } from '../../src-preload/contract/common'
import { invalidField } from '../../src-preload/contract/errors'
import type { TrainConfig } from '../../src-preload/contract/runs'
import { backendLabel, describeBackend, initBackend } from '../ml/backend'
import { decodeImageU8, normalize, toBatch } from '../ml/data/decode'
import { extractFeatures } from '../ml/data/featureCache'
import { evaluate, toMetrics, writeGallery } from '../ml/eval'
import { loadBackbone, type Backbone } from '../ml/models/backbones'
import { RateMeter, Throttle, type BatchLogs } from '../ml/train/callbacks'
import { batchesPerEpoch, fit, type FitData, type Position } from '../ml/train/loop'
import { TrainModel, type ModelState } from '../ml/train/model'
import { carveValidation, denseLabels } from '../ml/train/splits'
import { evalTransform } from '../ml/train/transforms'
import { NonFiniteLossError } from '../ml/train/step'
import { createRng, type Rng } from '../ml/util/rng'
import { checkpointName, readCheckpoint, writeCheckpoint } from '../ml/train/checkpoints'
import { GALLERY_FILE } from '../runs/paths'
import type { FromTrainer, JobItem, RunJob } from './protocol'

/** Pause and stop requests from the owner. */
export interface RunControl {
  signal: AbortSignal
  pauseRequested(): boolean
}

/** What a checkpoint file's JSON part holds besides the arrays. */
export interface CheckpointMeta {
  version: 1
  runId: number
  /** The next batch to train. */
  position: Position
  /** The best epoch so far on the model-selection split. */
  best: { epoch: number; metrics: Metrics; checkpoint: string } | null
  optimizerSteps: Record<string, number>
  /** Parts of the model stored (head, loss, backbone?, optimizer). */
  parts: string[]
}

/** Images embedded per forward pass during evaluation. */
const EVAL_CHUNK = 64

type Send = (m: FromTrainer) => void

/** Embeds items with the current model, L2-normalised rows. */
type Embedder = (
  which: 'sel' | 'test',
  onChunk?: (done: number, total: number) => void
) => Promise<Float32Array>

function l2NormalizeRows(x: Float32Array, n: number, d: number): Float32Array {
  for (let i = 0; i < n; i++) {
    let s = 0
    for (let j = 0; j < d; j++) s += x[i * d + j] ** 2
    const inv = 1 / Math.max(Math.sqrt(s), 1e-12)
    for (let j = 0; j < d; j++) x[i * d + j] *= inv
  }
  return x
}

/** Decodes and normalises a batch of images into [N, S, S, 3]. */
async function imageBatch(
  paths: string[],
  backbone: Backbone,
  mode: 'train' | 'test' | 'cover',
  rng?: Rng
): Promise<tf.Tensor4D> {
  const s = backbone.inputSize
  // Sequential random draws (crop, flip) per image keep the augmentation a function of the rng.
  const boxes = paths.map(() => (rng ? Math.floor(rng.next() * 2 ** 31) : 0))
  const pixels = await Promise.all(
    paths.map((p, i) => decodeImageU8(p, s, { mode, rng: rng ? createRng(boxes[i]) : undefined }))
  )
  return tf.tidy(() => normalize(toBatch(pixels, s), backbone.mean, backbone.std))
}

/** Rows `idx` of an n×d matrix. */
function gatherRows(src: Float32Array, d: number, idx: number[]): Float32Array {
  const out = new Float32Array(idx.length * d)
  idx.forEach((r, i) => out.set(src.subarray(r * d, (r + 1) * d), i * d))
  return out
}

/** Metrics (without per-query parts) of L2-normalised embeddings. */
async function metricsOf(
  emb: Float32Array,
  labels: Int32Array,
  d: number,
  ks: number[],
  seed: number
): Promise<Metrics> {
  const n = labels.length
  return toMetrics(
    await evaluate(emb, n, d, labels, { ks, nmi: n <= 20_000, seed, normalized: true })
  )
}

/** Sends throttled progress (about 8 a second) with an ETA. */
class Progress {
  private throttle = new Throttle(125)
  constructor(private send: Send) {}
  /** Reports progress; `force` for phase changes and ends. */
  report(
    p: Omit<Extract<FromTrainer, { type: 'progress' }>['progress'], never>,
    force = false
  ): void {
    if (this.throttle.ready(force)) this.send({ type: 'progress', progress: p })
  }
}

/** The model-selection score of metrics: Recall@1. */
const score = (m: Metrics): number => m.recall['1'] ?? 0

/** Runs (or resumes) a whole training job. */
export async function runTraining(job: RunJob, send: Send, control: RunControl): Promise<void> {
  const cfg: TrainConfig = job.config
  const log = (level: 'info' | 'warn' | 'error', message: string): void =>
    send({ type: 'log', level, message })
  const report = await initBackend({ device: cfg.device })
  send({ type: 'backend', backend: backendLabel(report) })
  log('info', `Device ${cfg.device}: ${describeBackend(report).join('; ')}.`)
  if (report.adapter?.software)
    log(
      'warn',
      'The WebGPU adapter is a software one (a CPU implementation of the GPU API): training works but is slower than on wasm.'
    )
  const progress = new Progress(send)

  // Splits: validation classes are carved from the training classes (class-disjoint, seeded).
  let trainItems: JobItem[] = job.train
  let selItems: JobItem[]
  if (cfg.modelSelection === 'val') {
    const carved = carveValidation(job.train, cfg.valRatio, cfg.seed)
    trainItems = carved.train
    selItems = carved.val
    if (!job.checkpoint) {
      const names = [...new Set(carved.val.map((i) => i.className))]
      log(
        'info',
        `Validation split: ${names.length} of the ${names.length + new Set(trainItems.map((i) => i.classId)).size} training classes (${selItems.length} images): ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''}.`
      )
    }
  } else {
    // The owner logged the visible warning when the run was created (runs service).
    selItems = job.test
  }
  const { labels: trainLabels } = denseLabels(trainItems)
  const numClasses = new Set(trainLabels).size
  const selLabels = denseLabels(selItems).labels
  const testLabels = denseLabels(job.test).labels
  if (trainItems.length < cfg.batchSize)
    throw invalidField(
      'batchSize',
      `the training split has ${trainItems.length} images, fewer than one batch of ${cfg.batchSize}`
    )

  const backbone = await loadBackbone(cfg.backbone, {
    modelsDir: job.modelsDir,
    seed: cfg.seed,
    signal: control.signal
  })
  let backboneDisposed = false
  let model: TrainModel | null = null
  try {
    let data: FitData
    let embedder: Embedder
    /** Frozen mode: the test split's raw pooled features, to report the backbone's own quality. */
    let rawTest: { feat: Float32Array; dim: number } | null = null
    const epochs = cfg.epochs
    const transform = evalTransform(cfg.backbone)
    if (cfg.frozen) {
      // Features of every image of the run's split, computed once and cached on disk. The list
      // is in image-id order, so any validation carve or seed of the same split reuses the file.
      const all = [...job.train, ...job.test].sort((a, b) => a.imageId - b.imageId)
      const row = new Map(all.map((it, r) => [it.imageId, r]))
      const total = all.length
      const t0 = performance.now()
      let feats
      try {
        feats = await extractFeatures(
          backbone,
          all.map((i) => ({ path: i.absPath })),
          {
            cacheDir: job.featuresDir,
            // The key material includes the backbone's init seed, so a small CNN gets one file per seed.
            cacheKey: `ds${job.dataset.id}-${backbone.name}-${transform}`,
            mode: transform,
            signal: control.signal,
            onProgress: (done: number) =>
              progress.report(
                {
                  epoch: 0,
                  epochs,
                  batch: done,
                  batches: total,
                  etaSec: null,
                  imagesPerSec: null,
                  phase: 'features'
                },
                done === total
              )
          }
        )
      } catch (err) {
        if (control.signal.aborted) return send({ type: 'cancelled' })
        throw err
      }
      const featSec = (performance.now() - t0) / 1000
      if (featSec > 2)
        log(
          'info',
          `Backbone features of ${total} images computed in ${featSec.toFixed(1)} s (${(total / featSec).toFixed(1)} images/s); cached for later runs.`
        )
      const dim = feats.dim
      const pick = (items: JobItem[]): Float32Array =>
        gatherRows(
          feats.features,
          dim,
          items.map((i) => row.get(i.imageId)!)
        )
      const trainFeat = pick(trainItems)
      const selFeat = pick(selItems)
      const testFeat = cfg.modelSelection === 'val' ? pick(job.test) : selFeat
      rawTest = { feat: testFeat, dim }
      // The backbone is not needed any more: training and evaluation run on the features.
      backbone.dispose()
      backboneDisposed = true
      model = new TrainModel(cfg, { backbone: null, inChannels: dim, numClasses })
      const m = model
      data = {
        labels: trainLabels,
        load: (idx) => tf.tensor2d(gatherRows(trainFeat, dim, idx), [idx.length, dim])
      }
      embedder = async (which) => {
        const src = which === 'sel' ? selFeat : testFeat
        const n = src.length / dim
        const out = new Float32Array(n * cfg.embeddingSize)
        for (let s = 0; s < n; s += 1024) {
          const e = Math.min(n, s + 1024)
          const part = tf.tidy(() =>
            m.embed(tf.tensor2d(src.subarray(s * dim, e * dim), [e - s, dim]), false)
          )
          out.set(await part.data(), s * cfg.embeddingSize)
          part.dispose()
        }
        return l2NormalizeRows(out, n, cfg.embeddingSize)
      }
    } else {
      model = new TrainModel(cfg, { backbone, inChannels: backbone.featureChannels, numClasses })
      const m = model
      data = {
        labels: trainLabels,
        load: (idx, rng) =>
          imageBatch(
            idx.map((i) => trainItems[i].absPath),
            backbone,
            'train',
            rng
          )
      }
      embedder = async (which, onChunk) => {
        const items = which === 'sel' ? selItems : job.test
        const out = new Float32Array(items.length * cfg.embeddingSize)
        let next = items.length
          ? imageBatch(
              items.slice(0, EVAL_CHUNK).map((i) => i.absPath),
              backbone,
              transform
            )
          : null
        for (let s = 0; s < items.length; s += EVAL_CHUNK) {
          const x = await next!
          const e = Math.min(items.length, s + EVAL_CHUNK)
          next =
            e < items.length
              ? imageBatch(
                  items.slice(e, e + EVAL_CHUNK).map((i) => i.absPath),
                  backbone,
                  transform
                )
              : null
          const emb = tf.tidy(() => m.embed(x, false))
          out.set(await emb.data(), s * cfg.embeddingSize)
          tf.dispose([x, emb])
          onChunk?.(e, items.length)
        }
        return l2NormalizeRows(out, items.length, cfg.embeddingSize)
      }
    }

    // Resume: weights, optimiser state and position from the checkpoint.
    let position: Position = { epoch: 0, batch: 0, step: 0 }
    let best: CheckpointMeta['best'] = null
    let lastCheckpoint = job.checkpoint
    if (job.checkpoint) {
      const ck = readCheckpoint<CheckpointMeta>(join(job.runDir, job.checkpoint))
      model.restoreState({ sections: ck.sections, optimizerSteps: ck.meta.optimizerSteps })
      position = ck.meta.position
      best = ck.meta.best
      log(
        'info',
        `Resumed at epoch ${position.epoch + 1}, batch ${position.batch} (step ${position.step}).`
      )
    }

    const D = cfg.embeddingSize
    const perEpoch = batchesPerEpoch(trainLabels, cfg)
    const evalLabels = (which: 'sel' | 'test'): Int32Array =>
      which === 'sel' ? selLabels : testLabels
    const evalOnce = async (
      which: 'sel' | 'test',
      phase: 'baseline' | 'eval' | 'test'
    ): Promise<{ emb: Float32Array; metrics: Metrics }> => {
      progress.report(
        {
          epoch: Math.min(position.epoch + 1, epochs),
          epochs,
          batch: 0,
          batches: perEpoch,
          etaSec: null,
          imagesPerSec: null,
          phase
        },
        true
      )
      const emb = await embedder(which)
      return { emb, metrics: await metricsOf(emb, evalLabels(which), D, job.ks, cfg.seed) }
    }

    if (!job.hasBaseline) {
      if (job.checkpoint)
        log(
          'warn',
          'No baseline was recorded before this checkpoint; the untrained model cannot be evaluated any more.'
        )
      else {
        const base = await evalOnce('test', 'baseline')
        send({ type: 'baseline', metrics: base.metrics })
        if (rawTest) {
          const n = rawTest.feat.length / rawTest.dim
          const raw = await metricsOf(
            l2NormalizeRows(Float32Array.from(rawTest.feat), n, rawTest.dim),
            testLabels,
            rawTest.dim,
            job.ks,
            cfg.seed
          )
          log(
            'info',
            `Raw backbone features (${rawTest.dim}-d) on test: R@1 ${(score(raw) * 100).toFixed(2)}.`
          )
        }
        log('info', `Untrained model on test: R@1 ${(score(base.metrics) * 100).toFixed(2)}.`)
      }
    }

    // Per-step records go out in small batches; progress about 8 times a second.
    let pending: BatchLogs[] = []
    const stepThrottle = new Throttle(250)
    const flushSteps = (): void => {
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
    const rate = new RateMeter()
    let lastBatchEnd = performance.now()
    let evalSeconds = 0
    let evalCount = 0
    const etaFor = (epoch: number, batch: number): number | null => {
      const left = (epochs - epoch - 1) * perEpoch + (perEpoch - batch - 1)
      const trainSec = rate.secondsFor(left * cfg.batchSize)
      if (trainSec === null) return null
      return trainSec + (evalCount ? (evalSeconds / evalCount) * (epochs - epoch) : 0)
    }

    const writeState = async (
      name: string,
      pos: Position,
      bestMeta: CheckpointMeta['best']
    ): Promise<void> => {
      const state: ModelState = await model!.captureState()
      const meta: CheckpointMeta = {
        version: 1,
        runId: job.runId,
        position: pos,
        best: bestMeta,
        optimizerSteps: state.optimizerSteps,
        parts: Object.keys(state.sections)
      }
      writeCheckpoint(join(job.runDir, name), { meta, sections: state.sections })
    }

    let result
    try {
      result = await fit(model, data, {
        epochs,
        batchSize: cfg.batchSize,
        sampler: cfg.sampler,
        ipc: cfg.ipc,
        seed: cfg.seed,
        start: position,
        signal: control.signal,
        shouldPause: control.pauseRequested,
        callbacks: {
          onEpochBegin: () => {
            lastBatchEnd = performance.now()
          },
          onBatchEnd: (l) => {
            const now = performance.now()
            rate.add(l.size, (now - lastBatchEnd) / 1000)
            lastBatchEnd = now
            pending.push(l)
            if (stepThrottle.ready()) flushSteps()
            progress.report({
              epoch: l.epoch + 1,
              epochs,
              batch: l.batch + 1,
              batches: l.batches,
              etaSec: etaFor(l.epoch, l.batch),
              imagesPerSec: rate.imagesPerSec(),
              phase: 'train'
            })
          },
          onEpochEnd: async (l) => {
            flushSteps()
            const t0 = performance.now()
            const { metrics } = await evalOnce('sel', 'eval')
            evalSeconds += (performance.now() - t0) / 1000
            evalCount++
            const epoch1 = l.epoch + 1
            const name = checkpointName(epoch1)
            const isBest = !best || score(metrics) > score(best.metrics)
            if (isBest) best = { epoch: epoch1, metrics, checkpoint: name }
            await writeState(name, { epoch: epoch1, batch: 0, step: l.step }, best)
            lastCheckpoint = name
            send({
              type: 'epoch',
              record: { epoch: epoch1, metrics, seconds: l.seconds, imagesPerSec: l.imagesPerSec },
              checkpoint: name,
              step: l.step,
              best: isBest ? best : null
            })
            if (isBest)
              log(
                'info',
                `Epoch ${epoch1}: new best ${cfg.modelSelection === 'val' ? 'validation' : 'test'} R@1 ${(score(metrics) * 100).toFixed(2)}; checkpoint ${name} kept as the selected model.`
              )
            lastBatchEnd = performance.now()
          }
        }
      })
    } catch (err) {
      flushSteps()
      if (err instanceof NonFiniteLossError) {
        log('error', err.message)
        send({ type: 'failed', message: err.message })
        return
      }
      throw err
    }
    flushSteps()

    if (result.reason === 'cancelled') return send({ type: 'cancelled' })
    if (result.reason === 'paused') {
      const pos = result.position
      const same = job.checkpoint !== null && pos.step === position.step
      let name = lastCheckpoint
      if (!same && (pos.batch > 0 || lastCheckpoint === null)) {
        name = checkpointName(pos.epoch, pos.batch)
        await writeState(name, pos, best)
      }
      return send({ type: 'paused', checkpoint: name, step: pos.step, epoch: pos.epoch })
    }

    // The selected model: the best epoch's weights, evaluated on the test split.
    if (best) {
      const ck = readCheckpoint<CheckpointMeta>(join(job.runDir, best.checkpoint))
      model.restoreState({ sections: ck.sections, optimizerSteps: ck.meta.optimizerSteps }, false)
    }
    progress.report(
      {
        epoch: epochs,
        epochs,
        batch: 0,
        batches: perEpoch,
        etaSec: null,
        imagesPerSec: null,
        phase: 'test'
      },
      true
    )
    const emb = await embedder('test')
    const n = testLabels.length
    const r = await evaluate(emb, n, D, testLabels, {
      ks: job.ks,
      nmi: true,
      seed: cfg.seed,
      perQuery: true,
      normalized: true
    })
    const testMetrics = toMetrics(r)
    writeGallery(join(job.runDir, GALLERY_FILE), emb, n, D)
    // Per-query AP is AP@R (the MAP@R term), the same number the retrieval browser shows.
    // Queries whose class has no other member have none (NaN); they are left out.
    const pq = r.perQuery!
    const queries: { imageId: number; ap: number; correctAt1: boolean }[] = []
    for (let t = 0; t < pq.index.length; t++) {
      if (Number.isNaN(pq.apAtR[t])) continue
      queries.push({
        imageId: job.test[pq.index[t]].imageId,
        ap: pq.apAtR[t],
        correctAt1: pq.correctAt1[t] === 1
      })
    }
    log(
      'info',
      `Test (epoch ${best?.epoch ?? epochs} selected): R@1 ${(score(testMetrics) * 100).toFixed(2)}.`
    )
    send({
      type: 'result',
      testMetrics,
      galleryFile: GALLERY_FILE,
      galleryImageIds: job.test.map((i) => i.imageId),
      queries
    })
  } finally {
    model?.dispose()
    if (!backboneDisposed) backbone.dispose()
  }
}

/** Times a few real batches of a config: seconds per epoch, memory and warnings. */
export async function probeRun(
  job: RunJob,
  control: RunControl
): Promise<{
  backend: string
  secondsPerEpoch: number
  memoryMb: number
  batchesPerEpoch: number
  warnings: string[]
}> {
  const cfg = job.config
  // Measured on the backend the run will use, so the estimate is the chosen device's.
  const report = await initBackend({ device: cfg.device })
  const warnings: string[] = []
  let train = job.train
  if (cfg.modelSelection === 'val') train = carveValidation(job.train, cfg.valRatio, cfg.seed).train
  else warnings.push('Model selection on the test split gives optimistic test metrics.')
  const { labels } = denseLabels(train)
  const perEpoch = batchesPerEpoch(labels, cfg)
  const backbone = await loadBackbone(cfg.backbone, {
    modelsDir: job.modelsDir,
    seed: cfg.seed,
    signal: control.signal
  })
  let model: TrainModel | null = null
  try {
    const sample = train.slice(0, Math.min(train.length, cfg.batchSize))
    const t0 = performance.now()
    const x = await imageBatch(
      sample.map((i) => i.absPath),
      backbone,
      evalTransform(cfg.backbone)
    )
    const fm = tf.tidy(() => backbone.apply(x, false))
    const featureSec = (performance.now() - t0) / 1000 / sample.length
    const dim = fm.shape[3]
    tf.dispose([fm])
    model = new TrainModel(cfg, {
      backbone: cfg.frozen ? null : backbone,
      inChannels: dim,
      numClasses: new Set(labels).size
    })
    const m = model
    const y = tf.tensor1d(
      Int32Array.from(sample, (_, i) => labels[i]),
      'int32'
    )
    const input = cfg.frozen ? tf.tidy(() => tf.randomNormal([sample.length, dim])) : x
    const { trainStep } = await import('../ml/train/step')
    const vars = m.trainableVariables(cfg.warm)
    await trainStep(m, input, y, vars, 0) // warm-up of kernels, not timed
    const t1 = performance.now()
    const steps = 3
    for (let i = 0; i < steps; i++) await trainStep(m, input, y, vars, i + 1)
    const stepSec = (performance.now() - t1) / 1000 / steps
    tf.dispose([x, y, input])
    const evalImages =
      cfg.modelSelection === 'val' ? job.train.length - train.length : job.test.length
    let secondsPerEpoch = perEpoch * stepSec + (cfg.frozen ? 0 : evalImages * featureSec)
    if (cfg.frozen)
      warnings.push(
        `Backbone features are computed once (about ${Math.round((job.train.length + job.test.length) * featureSec)} s unless cached).`
      )
    if (!cfg.frozen && secondsPerEpoch > 600)
      warnings.push(
        `Fine-tuning takes about ${Math.round(secondsPerEpoch / 60)} min per epoch on this machine; consider --frozen.`
      )
    secondsPerEpoch = Math.round(secondsPerEpoch * 10) / 10
    return {
      backend: backendLabel(report),
      secondsPerEpoch,
      memoryMb: Math.round(process.memoryUsage().rss / 2 ** 20),
      batchesPerEpoch: perEpoch,
      warnings
    }
  } finally {
    model?.dispose()
    backbone.dispose()
  }
}
