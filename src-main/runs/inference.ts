/**
 * A run's trained model, in-process, for the retrieval browser and `hist eval`: loads the
 * selected checkpoint (the best epoch; the last one for an unfinished run) into the backbone
 * and the embedding head, and embeds images the same way the trainer embedded the gallery
 * (test transform, L2-normalised rows), so that external queries are comparable with it.
 */
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { backendReport, initBackend } from '../ml/backend'
import { decodeImageU8, normalize, toBatch } from '../ml/data/decode'
import { loadBackbone, type Backbone } from '../ml/models/backbones'
import { EmbeddingHead, poolFeatures } from '../ml/models/head'
import { fromPlain } from '../ml/train/model'
import { evalTransform } from '../ml/train/transforms'
import type { TrainConfig } from '../../src-preload/contract/runs'
import type { AppContext } from '../app/context'
import { readCheckpoint } from '../ml/train/checkpoints'
import { RunsRepo } from './repo'

export { galleryPath } from './paths'

/** A loaded run model. */
export interface RunModel {
  /** Embeds image files (paths) or encoded image bytes; returns n × dim L2-normalised rows. */
  embed(inputs: (string | Buffer)[]): Promise<Float32Array>
  /** Embedding dimension. */
  dim: number
  /** Frees the model's tensors. */
  dispose(): void
}

/** Images per forward pass. */
const CHUNK = 32

/** A run's trained network: backbone (BN frozen) and embedding head with the selected weights. */
export interface RunNetwork {
  backbone: Backbone
  head: EmbeddingHead
  config: TrainConfig
  /** The checkpoint file the weights came from. */
  checkpoint: string
}

/** Loads the backbone and head of a run's selected checkpoint (the caller disposes both). */
export async function loadRunNetwork(ctx: AppContext, runId: number): Promise<RunNetwork> {
  const repo = new RunsRepo(ctx.db)
  const run = repo.get(runId)
  const st = repo.resumeState(runId)
  const file = st.bestCheckpoint ?? st.checkpoint
  if (!file || !st.dir)
    throw new Error(`run ${runId} has no saved model yet (no epoch has finished)`)
  const ckpt = readCheckpoint(join(st.dir, file))
  if (!backendReport()) await initBackend()
  const cfg = run.config
  const backbone = await loadBackbone(cfg.backbone, { modelsDir: ctx.paths.models, seed: cfg.seed })
  let head: EmbeddingHead | null = null
  try {
    if (ckpt.sections.backbone) {
      const w = fromPlain(ckpt.sections.backbone)
      try {
        backbone.setWeights(w)
      } finally {
        tf.dispose(Object.values(w))
      }
    }
    backbone.setBnFrozen(true)
    if (!ckpt.sections.head)
      throw new Error(`checkpoint ${file} of run ${runId} has no embedding head`)
    head = new EmbeddingHead(backbone.featureChannels, cfg.embeddingSize, cfg.seed)
    const hw = fromPlain(ckpt.sections.head)
    try {
      head.setWeights(hw)
    } finally {
      tf.dispose(Object.values(hw))
    }
  } catch (err) {
    head?.dispose()
    backbone.dispose()
    throw err
  }
  return { backbone, head, config: cfg, checkpoint: file }
}

/** Loads a run's selected checkpoint for in-process embedding. */
export async function loadRunModel(ctx: AppContext, runId: number): Promise<RunModel> {
  const { backbone, head, config: cfg } = await loadRunNetwork(ctx, runId)
  const h = head
  const s = backbone.inputSize
  const dim = cfg.embeddingSize
  // The transform the trainer embedded the gallery with, so that queries are comparable.
  const mode = evalTransform(cfg.backbone)
  let disposed = false
  return {
    dim,
    async embed(inputs) {
      if (disposed) throw new Error('the run model was disposed')
      const out = new Float32Array(inputs.length * dim)
      for (let start = 0; start < inputs.length; start += CHUNK) {
        const part = inputs.slice(start, start + CHUNK)
        const pixels = await Promise.all(part.map((p) => decodeImageU8(p, s, { mode })))
        const emb = tf.tidy(() => {
          const x = normalize(toBatch(pixels, s), backbone.mean, backbone.std)
          const e = h.apply(poolFeatures(backbone.apply(x, false)))
          return tf.div(e, tf.maximum(tf.norm(e, 2, 1, true), 1e-12))
        })
        out.set(await emb.data(), start * dim)
        emb.dispose()
      }
      return out
    },
    dispose() {
      if (disposed) return
      disposed = true
      h.dispose()
      backbone.dispose()
    }
  }
}
