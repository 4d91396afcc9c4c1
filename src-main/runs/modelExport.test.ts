/**
 * buildLayersModel on the pretrained MobileNetV2 backbone (a LayersBackbone, whose inference
 * path folds BatchNorm): the exported LayersModel computes the app's embedding network.
 * Tolerance 1e-4: the app folds BN into the convolutions, the export runs them unfolded.
 */
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TrainConfig } from '../../src-preload/contract/runs'
import { initBackend } from '../ml/backend'
import { loadBackbone } from '../ml/models/backbones'
import { EmbeddingHead, poolFeatures } from '../ml/models/head'
import { buildLayersModel } from './modelExport'
import type { RunNetwork } from './inference'

let net: RunNetwork

beforeAll(async () => {
  await initBackend()
  const config = TrainConfig.parse({
    datasetId: 1,
    backbone: { kind: 'mobilenetv2' },
    embeddingSize: 16
  })
  const backbone = await loadBackbone(config.backbone, { modelsDir: '/nonexistent' })
  backbone.setBnFrozen(true)
  const head = new EmbeddingHead(backbone.featureChannels, 16, 3)
  net = { backbone, head, config, checkpoint: 'none' }
}, 120_000)

afterAll(() => {
  net?.head.dispose()
  net?.backbone.dispose()
})

describe('buildLayersModel', () => {
  it('matches the app network on MobileNetV2 to 1e-4 (LayerNorm output scale)', () => {
    const x = tf.randomUniform([2, 224, 224, 3], 0, 1, 'float32', 5) as tf.Tensor4D
    // The first apply caches the BN-folded kernels of the fused plan (kept by the backbone).
    tf.dispose(net.backbone.apply(x, false))
    const before = tf.memory().numTensors
    const { model, created } = buildLayersModel(net)
    const want = tf.tidy(() => net.head.apply(poolFeatures(net.backbone.apply(x, false))))
    const got = model.predict(x) as tf.Tensor
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(want, got))).dataSync()[0])
    expect(diff).toBeLessThan(1e-4)
    tf.dispose([want, got])
    for (const l of created) l.dispose()
    expect(tf.memory().numTensors).toBe(before)
    x.dispose()
  }, 120_000)
})
