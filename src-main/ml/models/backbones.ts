/**
 * Feature extractors behind one interface: MobileNetV2 from nsfwjs (offline, trainable), a small
 * CNN from scratch, a user's local TF.js model, and downloadable ImageNet models.
 */
import * as tf from '@tensorflow/tfjs'
import type { z } from 'zod'
import {
  BackboneSpec,
  type BackboneSpec as BackboneSpecT
} from '../../../src-preload/contract/runs'
import { downloadModel, findDownloadable } from './download'
import { GraphBackbone, LayersBackbone } from './layersBackbone'
import { isLayersModelJson, loadNsfwjsArtifacts, readModelFolder } from './modelFiles'
import { SmallCnnBackbone } from './smallCnn'

/** Where a backbone came from, so a worker can load an identical copy. */
export interface BackboneSource {
  spec: BackboneSpecT
  modelsDir: string
  /** Init seed of randomly initialised weights (small CNN); part of what makes a copy identical. */
  seed?: number
}

/** A feature extractor. */
export interface Backbone {
  /** e.g. 'mobilenetv2', 'small-cnn'. */
  readonly name: string
  /** Square input side in px. */
  readonly inputSize: number
  /** Per-channel mean/std applied to [0,1] pixels. */
  readonly mean: [number, number, number]
  readonly std: [number, number, number]
  /** C of the feature map. */
  readonly featureChannels: number
  /** False for GraphModels, which are frozen. */
  readonly trainable: boolean
  /** The spec it was loaded from while its weights are unchanged (else null): lets workers copy it. */
  readonly source?: BackboneSource | null
  /** x: [N,S,S,3] float32 already normalised; returns the feature map [N,h,w,C]. */
  apply(x: tf.Tensor4D, training: boolean): tf.Tensor4D
  /** Trainable variables, without BatchNorm parameters when BN is frozen. */
  trainableVariables(): tf.Variable[]
  /** Frozen BN: inference mode (running statistics) and not trained. */
  setBnFrozen(frozen: boolean): void
  /** Copies of all weights (including BN statistics) by stable key; the caller disposes them. */
  getWeights(): Record<string, tf.Tensor>
  /** Restores weights saved by getWeights. */
  setWeights(w: Record<string, tf.Tensor>): void
  /**
   * The inference graph (frozen BN) as standard tfjs-layers with the current weights, for export;
   * absent when the backbone cannot be expressed as a LayersModel (graph models).
   */
  layersGraph?(): LayersGraph
  dispose(): void
}

/** A backbone as symbolic tfjs-layers: image input [N,S,S,3] → feature map [N,h,w,C]. */
export interface LayersGraph {
  input: tf.SymbolicTensor
  features: tf.SymbolicTensor
  /** Layers created for the export (the caller disposes them); shared layers are not listed. */
  created: tf.layers.Layer[]
}

/** A backbone spec before zod defaults are applied (e.g. small-cnn without inputSize). */
export type BackboneSpecInput = z.input<typeof BackboneSpec>

/** Options of loadBackbone. */
export interface LoadBackboneOptions {
  /** Cache folder for downloaded models. */
  modelsDir: string
  /** Seed of randomly initialised backbones (small-cnn). */
  seed?: number
  /** Download progress of 'download' backbones. */
  onProgress?: (doneBytes: number, totalBytes: number) => void
  signal?: AbortSignal
}

/** The nsfwjs MobileNetV2 feature layer: 7×7×1280 at 224 px. */
export const MOBILENET_FEATURE_LAYER = 'out_relu'

/** Layer names listed in errors are capped to keep messages readable. */
function listNames(names: string[]): string {
  return names.length > 300
    ? `${names.slice(0, 300).join(', ')}, … (${names.length} in all)`
    : names.join(', ')
}

async function fromModelJson(
  modelJsonPath: string,
  featureNode: string | undefined,
  meta: {
    name: string
    inputSize: number
    mean: [number, number, number]
    std: [number, number, number]
  },
  source: BackboneSource
): Promise<Backbone> {
  const { json, artifacts } = readModelFolder(modelJsonPath)
  if (isLayersModelJson(json)) {
    const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts))
    const layer = featureNode ?? model.layers[model.layers.length - 1].name
    try {
      return new LayersBackbone(model, layer, { ...meta, source })
    } catch (err) {
      model.dispose()
      throw err
    }
  }
  const model = await tf.loadGraphModel(tf.io.fromMemory(artifacts))
  if (featureNode) {
    const nodes = ((json.modelTopology as { node?: { name: string }[] }).node ?? []).map(
      (n) => n.name
    )
    const base = featureNode.split(':')[0]
    if (!nodes.includes(base)) {
      model.dispose()
      throw new Error(
        `node '${featureNode}' not found in the graph model ${modelJsonPath}; available nodes: ${listNames(nodes)}`
      )
    }
  }
  try {
    return new GraphBackbone(
      model,
      featureNode,
      meta.name,
      meta.inputSize,
      meta.mean,
      meta.std,
      source
    )
  } catch (err) {
    model.dispose()
    throw err
  }
}

/**
 * Loads the backbone a spec describes. To train it on wasm, the backend start-up (initBackend →
 * registerFastKernels) must have registered the wasm gradient kernels.
 */
export async function loadBackbone(
  specIn: BackboneSpecInput,
  opts: LoadBackboneOptions
): Promise<Backbone> {
  const parsed = BackboneSpec.safeParse(specIn)
  if (!parsed.success) throw new Error(`invalid backbone spec: ${parsed.error.message}`)
  const spec = parsed.data
  // Only the small CNN's weights depend on the seed; pretrained backbones share one copy.
  const seed = spec.kind === 'small-cnn' ? (opts.seed ?? 1) : undefined
  const source: BackboneSource = { spec, modelsDir: opts.modelsDir, seed }
  switch (spec.kind) {
    case 'mobilenetv2': {
      const model = await tf.loadLayersModel(tf.io.fromMemory(loadNsfwjsArtifacts()))
      // nsfwjs saved most early layers with trainable=false (its own fine-tuning); for metric
      // learning the whole backbone is trainable, and BN freezing is handled by setBnFrozen.
      for (const l of model.layers) l.trainable = true
      return new LayersBackbone(model, MOBILENET_FEATURE_LAYER, {
        name: 'mobilenetv2',
        inputSize: 224,
        // nsfwjs feeds pixels / 255 with no mean or std.
        mean: [0, 0, 0],
        std: [1, 1, 1],
        source
      })
    }
    case 'small-cnn':
      return new SmallCnnBackbone(spec.inputSize, seed ?? 1, source)
    case 'local':
      return fromModelJson(
        spec.modelPath,
        spec.featureNode,
        {
          name: `local:${spec.modelPath}`,
          inputSize: spec.inputSize,
          mean: spec.mean,
          std: spec.std
        },
        source
      )
    case 'download': {
      const entry = findDownloadable(spec.name)
      const jsonPath = await downloadModel(entry, opts.modelsDir, {
        onProgress: opts.onProgress,
        signal: opts.signal
      })
      return fromModelJson(
        jsonPath,
        entry.featureNode,
        { name: entry.name, inputSize: entry.inputSize, mean: entry.mean, std: entry.std },
        source
      )
    }
  }
}
