/**
 * Pooled (GAP + GMP) backbone features of image files, computed in this thread. Decoding of the
 * next batch (sharp, on libuv threads) overlaps the forward pass of the current one.
 */
import * as tf from '@tensorflow/tfjs'
import type { Backbone } from '../models/backbones'
import { poolFeatures } from '../models/head'
import { decodeImageU8, normalize, toBatch } from './decode'

/** Transforms usable for feature extraction (deterministic ones only). */
export type EmbedMode = 'test' | 'cover'

/** Options of embedImages. */
export interface EmbedOptions {
  /** Images per forward pass (default 32). */
  batchSize?: number
  /** Called after each batch with the number of images done. */
  onBatch?: (done: number) => void
  signal?: AbortSignal
}

/** An error thrown when an AbortSignal fires. */
export function abortError(): Error {
  const e = new Error('cancelled')
  e.name = 'AbortError'
  return e
}

/** Features [N × C] (row-major) of the images at `paths`, in order. */
export async function embedImages(
  backbone: Backbone,
  paths: string[],
  mode: EmbedMode,
  opts: EmbedOptions = {}
): Promise<Float32Array> {
  const bs = Math.max(1, opts.batchSize ?? 32)
  const dim = backbone.featureChannels
  const out = new Float32Array(paths.length * dim)
  const decode = (start: number): Promise<Uint8Array[]> =>
    Promise.all(
      paths.slice(start, start + bs).map((p) => decodeImageU8(p, backbone.inputSize, { mode }))
    )
  let next = paths.length ? decode(0) : null
  for (let start = 0; start < paths.length; start += bs) {
    if (opts.signal?.aborted) throw abortError()
    const imgs = await (next as Promise<Uint8Array[]>)
    next = start + bs < paths.length ? decode(start + bs) : null
    // Keep the prefetch's possible rejection from surfacing as unhandled while we compute.
    next?.catch(() => undefined)
    const feats = tf.tidy(() => {
      const x = toBatch(imgs, backbone.inputSize)
      return poolFeatures(backbone.apply(normalize(x, backbone.mean, backbone.std), false))
    })
    out.set((await feats.data()) as Float32Array, start * dim)
    feats.dispose()
    opts.onBatch?.(Math.min(paths.length, start + bs))
  }
  return out
}
