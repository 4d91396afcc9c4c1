/**
 * Where a run's training batches and evaluation embeddings come from: cached backbone features
 * (frozen mode) or decoded images through the model's own backbone (fine-tune mode). Both give
 * the same two operations over any list of the run's items, so the selection phase, the refit on
 * all training classes and the final test evaluation share one code path.
 */
import * as tf from '@tensorflow/tfjs'
import { decodeImageU8, normalize, toBatch } from '../ml/data/decode'
import type { Backbone } from '../ml/models/backbones'
import type { FitData } from '../ml/train/loop'
import type { TrainModel } from '../ml/train/model'
import { denseLabels } from '../ml/train/splits'
import { createRng, type Rng } from '../ml/util/rng'
import type { EmbedMode } from '../ml/data/embed'
import type { JobItem } from './protocol'

/** Images embedded per forward pass during evaluation (fine-tune mode). */
const EVAL_CHUNK = 64
/** Feature rows embedded per forward pass (frozen mode). */
const FEATURE_CHUNK = 1024

/** Training data and evaluation embeddings over the run's items. */
export interface RunSource {
  /** Input channels of the head (the backbone's pooled feature size). */
  readonly inChannels: number
  /** Training data over these items, with dense labels in class-id order. */
  data(items: JobItem[]): FitData
  /** L2-normalised embeddings of these items by the model, in item order. */
  embed(model: TrainModel, items: JobItem[]): Promise<Float32Array>
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

/** Rows `idx` of an n×d matrix. */
export function gatherRows(src: Float32Array, d: number, idx: number[]): Float32Array {
  const out = new Float32Array(idx.length * d)
  idx.forEach((r, i) => out.set(src.subarray(r * d, (r + 1) * d), i * d))
  return out
}

/** Decodes and normalises a batch of images into [N, S, S, 3]. */
export async function imageBatch(
  paths: string[],
  backbone: Pick<Backbone, 'inputSize' | 'mean' | 'std'>,
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

/** Frozen mode: every item's pooled backbone features, one row per image id. */
export function featureSource(
  features: Float32Array,
  dim: number,
  rowOf: Map<number, number>,
  embeddingSize: number
): RunSource {
  const pick = (items: JobItem[]): Float32Array =>
    gatherRows(
      features,
      dim,
      items.map((i) => rowOf.get(i.imageId)!)
    )
  return {
    inChannels: dim,
    data(items) {
      const feat = pick(items)
      return {
        labels: denseLabels(items).labels,
        load: (idx) => tf.tensor2d(gatherRows(feat, dim, idx), [idx.length, dim])
      }
    },
    async embed(model, items) {
      const src = pick(items)
      const n = items.length
      const out = new Float32Array(n * embeddingSize)
      for (let s = 0; s < n; s += FEATURE_CHUNK) {
        const e = Math.min(n, s + FEATURE_CHUNK)
        const part = tf.tidy(() =>
          model.embed(tf.tensor2d(src.subarray(s * dim, e * dim), [e - s, dim]), false)
        )
        out.set(await part.data(), s * embeddingSize)
        part.dispose()
      }
      return l2NormalizeRows(out, n, embeddingSize)
    }
  }
}

/** Fine-tune mode: decoded images through the model's own backbone (prefetching two chunks). */
export function imageSource(
  backbone: Pick<Backbone, 'inputSize' | 'mean' | 'std' | 'featureChannels'>,
  transform: EmbedMode,
  embeddingSize: number,
  onChunk?: (done: number, total: number) => void
): RunSource {
  const evalMode = transform as 'test' | 'cover'
  return {
    inChannels: backbone.featureChannels,
    data(items) {
      return {
        labels: denseLabels(items).labels,
        load: (idx, rng) =>
          imageBatch(
            idx.map((i) => items[i].absPath),
            backbone,
            'train',
            rng
          )
      }
    },
    async embed(model, items) {
      const out = new Float32Array(items.length * embeddingSize)
      const chunk = (s: number): Promise<tf.Tensor4D> =>
        imageBatch(
          items.slice(s, s + EVAL_CHUNK).map((i) => i.absPath),
          backbone,
          evalMode
        )
      // Two chunks ahead, as the training loop: a chunk's decoding needs main-thread turns
      // between its stages, which the synchronous forward pass of the chunk before holds.
      const pending = new Map<number, Promise<tf.Tensor4D>>()
      const prefetch = (from: number): void => {
        for (let k = from; k < Math.min(items.length, from + 2 * EVAL_CHUNK); k += EVAL_CHUNK) {
          if (pending.has(k)) continue
          const p = chunk(k)
          p.catch(() => undefined)
          pending.set(k, p)
        }
      }
      prefetch(0)
      try {
        for (let s = 0; s < items.length; s += EVAL_CHUNK) {
          const cur = pending.get(s)!
          pending.delete(s)
          const x = await cur
          const e = Math.min(items.length, s + EVAL_CHUNK)
          prefetch(e)
          const emb = tf.tidy(() => model.embed(x, false))
          out.set(await emb.data(), s * embeddingSize)
          tf.dispose([x, emb])
          onChunk?.(e, items.length)
        }
      } finally {
        for (const p of pending.values())
          void p.then(
            (t) => t.dispose(),
            () => undefined
          )
      }
      return l2NormalizeRows(out, items.length, embeddingSize)
    }
  }
}
