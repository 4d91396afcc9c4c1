/**
 * A trained run's network from its checkpoint file, without the database: the backbone (BN
 * frozen; the fine-tuned weights when the checkpoint has a `backbone` section) and the embedding
 * head. runs/inference loads a run's model with it in-process; the network worker thread
 * (networkWorker.ts) loads the same model in a thread of its own. Both embed images as the
 * trainer embedded the gallery: test transform, GAP + GMP, head, L2-normalised rows.
 */
import * as tf from '@tensorflow/tfjs'
import { BackboneSpec } from '../../../src-preload/contract/runs'
import { decodeImageU8, normalize, toBatch } from '../data/decode'
import { readCheckpoint } from '../train/checkpoints'
import { fromPlain } from '../train/model'
import { evalTransform } from '../train/transforms'
import { loadBackbone, type Backbone, type BackboneSpecInput } from './backbones'
import { EmbeddingHead, poolFeatures } from './head'

/** What loading a run's selected model needs (plain data: it crosses to worker threads). */
export interface NetworkSpec {
  backbone: BackboneSpecInput
  seed: number
  embeddingSize: number
  /** The selected checkpoint (best epoch, else the last one). */
  checkpointPath: string
  modelsDir: string
}

/** Options of loadCheckpointNetwork. */
export interface LoadNetworkOptions {
  /** How errors name the checkpoint (default: its path). */
  label?: string
}

/** The backbone and head with the checkpoint's weights; the caller disposes both. */
export interface CheckpointNetwork {
  backbone: Backbone
  head: EmbeddingHead
}

/** A loaded network that embeds images. */
export interface Network {
  /** Embedding dimension. */
  dim: number
  /** n × dim L2-normalised rows for these image files (paths) or encoded image bytes. */
  embed(inputs: (string | Buffer)[]): Promise<Float32Array>
  /** Frees the model's tensors; embed() afterwards throws. */
  dispose(): void
}

/** Images per forward pass: bounds the decoded pixels and activations held at once. */
export const EMBED_CHUNK = 32

function setFrom(
  set: (w: Record<string, tf.Tensor>) => void,
  plain: Parameters<typeof fromPlain>[0]
): void {
  const w = fromPlain(plain)
  try {
    set(w)
  } finally {
    tf.dispose(Object.values(w))
  }
}

/** Loads the backbone and head of a checkpoint (the TF.js backend must be initialised). */
export async function loadCheckpointNetwork(
  spec: NetworkSpec,
  opts: LoadNetworkOptions = {}
): Promise<CheckpointNetwork> {
  const ckpt = readCheckpoint(spec.checkpointPath)
  const label = opts.label ?? spec.checkpointPath
  if (!ckpt.sections.head) throw new Error(`checkpoint ${label} has no embedding head`)
  const headPlain = ckpt.sections.head
  const backbone = await loadBackbone(BackboneSpec.parse(spec.backbone), {
    modelsDir: spec.modelsDir,
    seed: spec.seed
  })
  let head: EmbeddingHead | null = null
  try {
    if (ckpt.sections.backbone) setFrom((w) => backbone.setWeights(w), ckpt.sections.backbone)
    backbone.setBnFrozen(true)
    const h = new EmbeddingHead(backbone.featureChannels, spec.embeddingSize, spec.seed)
    head = h
    setFrom((w) => h.setWeights(w), headPlain)
  } catch (err) {
    head?.dispose()
    backbone.dispose()
    throw err
  }
  return { backbone, head }
}

/** Embeds with a loaded backbone and head (owning them: dispose() frees both). */
export function networkOf(net: CheckpointNetwork, spec: NetworkSpec): Network {
  const { backbone, head } = net
  const s = backbone.inputSize
  const dim = spec.embeddingSize
  // The transform the trainer embedded the gallery with, so that queries are comparable.
  const mode = evalTransform(BackboneSpec.parse(spec.backbone))
  let disposed = false
  return {
    dim,
    async embed(inputs) {
      if (disposed) throw new Error('the run model was disposed')
      const out = new Float32Array(inputs.length * dim)
      for (let start = 0; start < inputs.length; start += EMBED_CHUNK) {
        const part = inputs.slice(start, start + EMBED_CHUNK)
        const pixels = await Promise.all(part.map((p) => decodeImageU8(p, s, { mode })))
        const emb = tf.tidy(() => {
          const x = normalize(toBatch(pixels, s), backbone.mean, backbone.std)
          const e = head.apply(poolFeatures(backbone.apply(x, false)))
          return tf.div(e, tf.maximum(tf.norm(e, 2, 1, true), 1e-12))
        })
        try {
          out.set(await emb.data(), start * dim)
        } finally {
          emb.dispose()
        }
      }
      return out
    },
    dispose() {
      if (disposed) return
      disposed = true
      head.dispose()
      backbone.dispose()
    }
  }
}

/** Loads a checkpoint's network for embedding (the TF.js backend must be initialised). */
export async function loadNetwork(
  spec: NetworkSpec,
  opts: LoadNetworkOptions = {}
): Promise<Network> {
  return networkOf(await loadCheckpointNetwork(spec, opts), spec)
}
