/**
 * A trained run's backbone and embedding head, loaded from a checkpoint for explanations: the
 * backbone's spatial feature map (before pooling) of one image, decoded with the test transform
 * the gallery was embedded with.
 */
import * as tf from '@tensorflow/tfjs'
import { decodeImageU8, normalize, toBatch } from '../data/decode'
import type { EmbeddingHead } from '../models/head'
import { loadCheckpointNetwork } from '../models/runNetwork'
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

/** Loads a run's backbone and head from its checkpoint (as runs/inference does). */
export async function loadSpatialModel(spec: ExplainModelSpec): Promise<SpatialModel> {
  const { backbone, head } = await loadCheckpointNetwork(spec)
  const h = head
  const mode = evalTransform(BackboneSpec.parse(spec.backbone))
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
