/**
 * The data of a run inside the trainer: the class-disjoint splits, image batches, and the two
 * ways to feed the model — cached backbone features (frozen mode) or decoded images
 * (fine-tuning) — each with the matching embedder used by evaluation.
 */
import * as tf from '@tensorflow/tfjs'
import { invalidField } from '../../src-preload/contract/errors'
import { decodeImageU8, normalize, toBatch } from '../ml/data/decode'
import { extractFeatures } from '../ml/data/featureCache'
import type { Backbone } from '../ml/models/backbones'
import type { FitData } from '../ml/train/loop'
import { TrainModel } from '../ml/train/model'
import { carveValidation, denseLabels } from '../ml/train/splits'
import { evalTransform } from '../ml/train/transforms'
import { createRng, type Rng } from '../ml/util/rng'
import type { JobItem, RunJob } from './protocol'
import type { Progress } from './reporting'

/** Images embedded per forward pass during evaluation. */
const EVAL_CHUNK = 64

/** Embeds the model-selection ('sel') or test items with the current model, L2-normalised rows. */
export type Embedder = (
  which: 'sel' | 'test',
  onChunk?: (done: number, total: number) => void
) => Promise<Float32Array>

/** The items and dense labels of a run's training, model-selection and test splits. */
export interface RunSplits {
  trainItems: JobItem[]
  selItems: JobItem[]
  trainLabels: Int32Array
  selLabels: Int32Array
  testLabels: Int32Array
  numClasses: number
}

/** The model with what feeds it: training batches, the embedder and (frozen) raw test features. */
export interface RunData {
  model: TrainModel
  data: FitData
  embedder: Embedder
  /** Frozen mode: the test split's raw pooled features, to report the backbone's own quality. */
  rawTest: { feat: Float32Array; dim: number } | null
  /** The backbone was released (frozen mode trains and evaluates on features only). */
  backboneDisposed: boolean
}

export function l2NormalizeRows(x: Float32Array, n: number, d: number): Float32Array {
  for (let i = 0; i < n; i++) {
    let s = 0
    for (let j = 0; j < d; j++) s += x[i * d + j] ** 2
    const inv = 1 / Math.max(Math.sqrt(s), 1e-12)
    for (let j = 0; j < d; j++) x[i * d + j] *= inv
  }
  return x
}

/** Decodes and normalises a batch of images into [N, S, S, 3]. */
export async function imageBatch(
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

/**
 * The splits of a run: validation classes are carved from the training classes (class-disjoint,
 * seeded) when model selection is on 'val'; on 'test' the test split selects the model.
 */
export function runSplits(job: RunJob, log: (message: string) => void): RunSplits {
  const cfg = job.config
  let trainItems: JobItem[] = job.train
  let selItems: JobItem[]
  if (cfg.modelSelection === 'val') {
    const carved = carveValidation(job.train, cfg.valRatio, cfg.seed)
    trainItems = carved.train
    selItems = carved.val
    if (!job.checkpoint) {
      const names = [...new Set(carved.val.map((i) => i.className))]
      log(
        `Validation split: ${names.length} of the ${names.length + new Set(trainItems.map((i) => i.classId)).size} training classes (${selItems.length} images): ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''}.`
      )
    }
  } else {
    // The owner logged the visible warning when the run was created (runs service).
    selItems = job.test
  }
  const { labels: trainLabels } = denseLabels(trainItems)
  if (trainItems.length < cfg.batchSize)
    throw invalidField(
      'batchSize',
      `the training split has ${trainItems.length} images, fewer than one batch of ${cfg.batchSize}`
    )
  return {
    trainItems,
    selItems,
    trainLabels,
    selLabels: denseLabels(selItems).labels,
    testLabels: denseLabels(job.test).labels,
    numClasses: new Set(trainLabels).size
  }
}

/**
 * Frozen mode: features of every image of the run's split, computed once and cached on disk,
 * then a head-only model on them. The backbone is released once the features exist. Returns
 * null when the feature extraction was cancelled.
 */
export async function frozenRunData(
  job: RunJob,
  splits: RunSplits,
  backbone: Backbone,
  progress: Progress,
  signal: AbortSignal
): Promise<RunData | null> {
  const cfg = job.config
  const log = (message: string): void => progress.log('info', message)
  // The list is in image-id order, so any validation carve or seed of the same split reuses the file.
  const all = [...job.train, ...job.test].sort((a, b) => a.imageId - b.imageId)
  const row = new Map(all.map((it, r) => [it.imageId, r]))
  const total = all.length
  const transform = evalTransform(cfg.backbone)
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
        signal,
        onProgress: (done: number) =>
          progress.report(
            {
              epoch: 0,
              epochs: cfg.epochs,
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
    if (signal.aborted) return null
    throw err
  }
  const featSec = (performance.now() - t0) / 1000
  if (featSec > 2)
    log(
      `Backbone features of ${total} images computed in ${featSec.toFixed(1)} s (${(total / featSec).toFixed(1)} images/s); cached for later runs.`
    )
  const dim = feats.dim
  const pick = (items: JobItem[]): Float32Array =>
    gatherRows(
      feats.features,
      dim,
      items.map((i) => row.get(i.imageId)!)
    )
  const trainFeat = pick(splits.trainItems)
  const selFeat = pick(splits.selItems)
  const testFeat = cfg.modelSelection === 'val' ? pick(job.test) : selFeat
  // The backbone is not needed any more: training and evaluation run on the features.
  backbone.dispose()
  const model = new TrainModel(cfg, {
    backbone: null,
    inChannels: dim,
    numClasses: splits.numClasses
  })
  const embedder: Embedder = async (which) => {
    const src = which === 'sel' ? selFeat : testFeat
    const n = src.length / dim
    const out = new Float32Array(n * cfg.embeddingSize)
    for (let s = 0; s < n; s += 1024) {
      const e = Math.min(n, s + 1024)
      const part = tf.tidy(() =>
        model.embed(tf.tensor2d(src.subarray(s * dim, e * dim), [e - s, dim]), false)
      )
      out.set(await part.data(), s * cfg.embeddingSize)
      part.dispose()
    }
    return l2NormalizeRows(out, n, cfg.embeddingSize)
  }
  return {
    model,
    data: {
      labels: splits.trainLabels,
      load: (idx) => tf.tensor2d(gatherRows(trainFeat, dim, idx), [idx.length, dim])
    },
    embedder,
    rawTest: { feat: testFeat, dim },
    backboneDisposed: true
  }
}

/** Fine-tuning: the whole model on decoded, augmented images; evaluation decodes ahead by one chunk. */
export function fineTuneRunData(job: RunJob, splits: RunSplits, backbone: Backbone): RunData {
  const cfg = job.config
  const transform = evalTransform(cfg.backbone)
  const model = new TrainModel(cfg, {
    backbone,
    inChannels: backbone.featureChannels,
    numClasses: splits.numClasses
  })
  const batchOf = (items: JobItem[]): Promise<tf.Tensor4D> =>
    imageBatch(
      items.map((i) => i.absPath),
      backbone,
      transform
    )
  const embedder: Embedder = async (which, onChunk) => {
    const items = which === 'sel' ? splits.selItems : job.test
    const out = new Float32Array(items.length * cfg.embeddingSize)
    let next = items.length ? batchOf(items.slice(0, EVAL_CHUNK)) : null
    for (let s = 0; s < items.length; s += EVAL_CHUNK) {
      const x = await next!
      const e = Math.min(items.length, s + EVAL_CHUNK)
      next = e < items.length ? batchOf(items.slice(e, e + EVAL_CHUNK)) : null
      const emb = tf.tidy(() => model.embed(x, false))
      out.set(await emb.data(), s * cfg.embeddingSize)
      tf.dispose([x, emb])
      onChunk?.(e, items.length)
    }
    return l2NormalizeRows(out, items.length, cfg.embeddingSize)
  }
  return {
    model,
    data: {
      labels: splits.trainLabels,
      load: (idx, rng) =>
        imageBatch(
          idx.map((i) => splits.trainItems[i].absPath),
          backbone,
          'train',
          rng
        )
    },
    embedder,
    rawTest: null,
    backboneDisposed: false
  }
}
