/**
 * A trained run's backbone and embedding head, loaded from a checkpoint for explanations: the
 * backbone's spatial feature map (before pooling) of one image, decoded with the test transform
 * the gallery was embedded with.
 */
import * as tf from '@tensorflow/tfjs'
import { decodeImageU8, normalize, toBatch } from '../data/decode'
import { loadBackbone, type Backbone } from '../models/backbones'
import { EmbeddingHead } from '../models/head'
import { readCheckpoint } from '../train/checkpoints'
import { fromPlain } from '../train/model'
import { evalTransform } from '../train/transforms'
import { BackboneSpec } from '../../../src-preload/contract/runs'
import type { ExplainModelSpec } from './protocol'

/** The loaded model. */
export interface SpatialModel {
  head: EmbeddingHead
  /** The feature map [h, w, C] of one image file; the caller disposes it. */
  featureMap(path: string): Promise<tf.Tensor3D>
  dispose(): void
}

function loadInto(
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

/** Loads a run's backbone and head from its checkpoint. */
export async function loadSpatialModel(spec: ExplainModelSpec): Promise<SpatialModel> {
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
    if (ckpt.sections.backbone) loadInto((w) => backbone.setWeights(w), ckpt.sections.backbone)
    backbone.setBnFrozen(true)
    head = new EmbeddingHead(
      backbone.featureChannels,
      spec.embeddingSize,
      spec.seed,
      `explain-${spec.key}`
    )
    const h = head
    loadInto((w) => h.setWeights(renameKeys(w, h.keys)), ckpt.sections.head)
  } catch (err) {
    head?.dispose()
    backbone.dispose()
    throw err
  }
  const h = head
  const mode = evalTransform(backboneSpec)
  return {
    head: h,
    async featureMap(path) {
      const px = await decodeImageU8(path, backbone.inputSize, { mode })
      return tf.tidy(() => {
        const x = normalize(toBatch([px], backbone.inputSize), backbone.mean, backbone.std)
        return tf.squeeze(backbone.apply(x, false), [0]) as tf.Tensor3D
      })
    },
    dispose() {
      h.dispose()
      backbone.dispose()
    }
  }
}

/** The checkpoint stores the head as `head/weight`, `head/bias`; our head may have another name. */
function renameKeys(
  w: Record<string, tf.Tensor>,
  keys: [string, string]
): Record<string, tf.Tensor> {
  const weight = Object.keys(w).find((k) => k.endsWith('/weight'))
  const bias = Object.keys(w).find((k) => k.endsWith('/bias'))
  if (!weight || !bias) throw new Error('the checkpoint’s embedding head has no weight or bias')
  return { [keys[0]]: w[weight], [keys[1]]: w[bias] }
}
