/**
 * A run's network loaded from its checkpoint file, without the database, so that a worker
 * thread can embed images with it: the backbone (BN frozen, trained weights when the checkpoint
 * has them) and the embedding head, applied as runs/inference's loadRunModel applies them (test
 * transform, GAP + GMP, head, L2-normalised rows).
 */
import * as tf from '@tensorflow/tfjs'
import { BackboneSpec } from '../../src-preload/contract/runs'
import { decodeImageU8, normalize, toBatch } from '../ml/data/decode'
import { loadBackbone, type Backbone } from '../ml/models/backbones'
import { EmbeddingHead, poolFeatures } from '../ml/models/head'
import { readCheckpoint } from '../ml/train/checkpoints'
import { fromPlain } from '../ml/train/model'
import { evalTransform } from '../ml/train/transforms'

/** What a worker needs to load a run's selected model (plain data). */
export interface NetworkSpec {
  backbone: unknown
  seed: number
  embeddingSize: number
  /** The selected checkpoint (best epoch, else the last one). */
  checkpointPath: string
  modelsDir: string
}

/** A loaded network that embeds image files. */
export interface Network {
  dim: number
  /** n × dim L2-normalised rows for these files (or encoded bytes). */
  embed(inputs: (string | Buffer)[]): Promise<Float32Array>
  dispose(): void
}

/** Loads the backbone and head of a checkpoint. */
export async function loadNetwork(spec: NetworkSpec): Promise<Network> {
  const ckpt = readCheckpoint(spec.checkpointPath)
  if (!ckpt.sections.head)
    throw new Error(`checkpoint ${spec.checkpointPath} has no embedding head`)
  const backboneSpec = BackboneSpec.parse(spec.backbone)
  const backbone: Backbone = await loadBackbone(backboneSpec, {
    modelsDir: spec.modelsDir,
    seed: spec.seed
  })
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
    head = new EmbeddingHead(backbone.featureChannels, spec.embeddingSize, spec.seed)
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
  const h = head
  const s = backbone.inputSize
  const dim = spec.embeddingSize
  const mode = evalTransform(backboneSpec)
  return {
    dim,
    async embed(inputs) {
      const pixels = await Promise.all(inputs.map((p) => decodeImageU8(p, s, { mode })))
      const emb = tf.tidy(() => {
        const x = normalize(toBatch(pixels, s), backbone.mean, backbone.std)
        const e = h.apply(poolFeatures(backbone.apply(x, false)))
        return tf.div(e, tf.maximum(tf.norm(e, 2, 1, true), 1e-12))
      })
      try {
        return (await emb.data()) as Float32Array
      } finally {
        emb.dispose()
      }
    },
    dispose() {
      h.dispose()
      backbone.dispose()
    }
  }
}
