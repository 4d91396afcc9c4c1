/**
 * Exports a run's embedding network as a standard TensorFlow.js LayersModel, loadable with
 * `tf.loadLayersModel` without this app:
 *
 *   model.json            topology + weights manifest + userDefinedMetadata.preprocessing
 *   group1-shardKofN.bin  weights (4 MiB shards, as the tfjs converter writes them)
 *   preprocessing.json    how to turn an image into the model's input (same as the metadata)
 *
 * The model maps a preprocessed image batch [N,S,S,3] to the LayerNorm'd embedding [N,D]
 * (backbone in inference mode → GAP + GMP → Dense → LayerNorm without affine); the app's
 * embeddings are its rows divided by their L2 norm.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { zipSync } from 'fflate'
import * as tf from '@tensorflow/tfjs'
import { InvalidError, invalidField } from '../../src-preload/contract/errors'
import type { AppContext } from '../app/context'
import { LAYER_NORM_EPS } from '../ml/models/head'
import { evalTransform } from '../ml/train/transforms'
import { loadRunNetwork, type RunNetwork } from './inference'

/** Marker of the preprocessing description. */
export const PREPROCESSING_FORMAT = 'hist-studio-preprocessing'
/** Largest weight shard, in bytes (the tfjs converter's default). */
const SHARD_BYTES = 4 * 1024 * 1024

/** How to turn an image file into the exported model's input row. */
export interface Preprocessing {
  format: typeof PREPROCESSING_FORMAT
  version: 1
  /** Square input side in px; the model's input is [N, inputSize, inputSize, 3]. */
  inputSize: number
  /**
   * 'cover': resize to inputSize × inputSize cropping the longer side (centre), as sharp's
   * fit 'cover'; 'resize-shorter-center-crop': resize the shorter side to
   * round(inputSize·256/224) (bilinear), then centre crop inputSize.
   */
  resize: 'cover' | 'resize-shorter-center-crop'
  /** Images are upright (EXIF orientation applied), sRGB, alpha dropped, grey as 3 channels. */
  colorSpace: 'srgb'
  channelOrder: 'RGB'
  layout: 'NHWC'
  /** x = (pixel / scale − mean[c]) / std[c]. */
  scale: 255
  mean: [number, number, number]
  std: [number, number, number]
  /** The model's output is not L2-normalised; divide each row by its norm to compare by cosine. */
  l2Normalize: true
  embeddingSize: number
  runId: number
  backbone: string
}

/** What an export wrote. */
export interface ModelExportResult {
  dir: string
  files: string[]
  preprocessing: Preprocessing
}

/** The recorded preprocessing of a run's network. */
export function describePreprocessing(runId: number, net: RunNetwork): Preprocessing {
  const b = net.backbone
  return {
    format: PREPROCESSING_FORMAT,
    version: 1,
    inputSize: b.inputSize,
    resize: evalTransform(net.config.backbone) === 'cover' ? 'cover' : 'resize-shorter-center-crop',
    colorSpace: 'srgb',
    channelOrder: 'RGB',
    layout: 'NHWC',
    scale: 255,
    mean: [...b.mean],
    std: [...b.std],
    l2Normalize: true,
    embeddingSize: net.config.embeddingSize,
    runId,
    backbone: b.name
  }
}

/**
 * Builds the network as one LayersModel (shares the backbone's layers when it already is one).
 * Returns the model and the layers created for it, which the caller disposes.
 */
export function buildLayersModel(net: RunNetwork): {
  model: tf.LayersModel
  created: tf.layers.Layer[]
} {
  const { backbone, head } = net
  if (!backbone.layersGraph) {
    throw new InvalidError(
      `the backbone '${backbone.name}' is a TF.js graph model; it cannot be exported as a LayersModel`
    )
  }
  const g = backbone.layersGraph()
  const created = [...g.created]
  const add = <L extends tf.layers.Layer>(l: L): L => (created.push(l), l)
  const gap = add(tf.layers.globalAveragePooling2d({ name: 'embed_gap' }))
  const gmp = add(tf.layers.globalMaxPooling2d({ name: 'embed_gmp' }))
  const sum = add(tf.layers.add({ name: 'embed_pool' }))
  const dense = add(tf.layers.dense({ units: head.dim, name: 'embed_linear' }))
  const norm = add(
    tf.layers.layerNormalization({
      axis: -1,
      center: false,
      scale: false,
      epsilon: LAYER_NORM_EPS,
      name: 'embed_layernorm'
    })
  )
  const pooled = sum.apply([
    gap.apply(g.features) as tf.SymbolicTensor,
    gmp.apply(g.features) as tf.SymbolicTensor
  ]) as tf.SymbolicTensor
  const out = norm.apply(dense.apply(pooled)) as tf.SymbolicTensor
  const w = head.getWeights()
  try {
    dense.setWeights([w[head.keys[0]], w[head.keys[1]]])
  } finally {
    tf.dispose(Object.values(w))
  }
  return { model: tf.model({ inputs: g.input, outputs: out, name: 'hist_embedding' }), created }
}

/** Writes tfjs save artifacts as model.json + weight shards into `dir`; returns the file names. */
async function writeArtifacts(model: tf.LayersModel, dir: string): Promise<string[]> {
  let files: string[] = []
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const parts = a.weightData === undefined ? [] : [a.weightData].flat()
      const data = Buffer.concat(parts.map((p) => Buffer.from(p)))
      const n = Math.max(1, Math.ceil(data.length / SHARD_BYTES))
      const shards = Array.from({ length: n }, (_, i) => `group1-shard${i + 1}of${n}.bin`)
      shards.forEach((f, i) =>
        writeFileSync(join(dir, f), data.subarray(i * SHARD_BYTES, (i + 1) * SHARD_BYTES))
      )
      const json = {
        format: 'layers-model',
        generatedBy: a.generatedBy,
        convertedBy: 'HIST Studio',
        modelTopology: a.modelTopology,
        weightsManifest: [{ paths: shards, weights: a.weightSpecs ?? [] }],
        userDefinedMetadata: a.userDefinedMetadata
      }
      writeFileSync(join(dir, 'model.json'), JSON.stringify(json))
      files = ['model.json', ...shards]
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) }
    })
  )
  return files
}

/** Names an export writes; a folder holding anything else is refused rather than overwritten. */
const EXPORT_FILE = /^(model\.json|preprocessing\.json|group\d+-shard\d+of\d+\.bin)$/

/** Creates `outDir` or clears a previous export there; any other content is refused. */
function prepareOutDir(outDir: string): void {
  if (existsSync(outDir)) {
    if (!statSync(outDir).isDirectory())
      throw invalidField('outDir', `${outDir} exists and is not a folder`)
    const foreign = readdirSync(outDir).filter((f) => !EXPORT_FILE.test(f))
    if (foreign.length) {
      throw invalidField(
        'outDir',
        `${outDir} is not empty (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}); choose an empty or new folder`
      )
    }
    for (const f of readdirSync(outDir)) rmSync(join(outDir, f))
  }
  mkdirSync(outDir, { recursive: true })
}

/**
 * Exports run `runId`'s embedding network (its selected checkpoint) into `outDir`: a new or
 * empty folder, or one holding a previous model export (replaced).
 */
export async function exportRunModel(
  ctx: AppContext,
  runId: number,
  outDir: string
): Promise<ModelExportResult> {
  const net = await loadRunNetwork(ctx, runId)
  let built: ReturnType<typeof buildLayersModel> | null = null
  try {
    built = buildLayersModel(net)
    const preprocessing = describePreprocessing(runId, net)
    built.model.setUserDefinedMetadata({ preprocessing })
    prepareOutDir(outDir)
    const files = await writeArtifacts(built.model, outDir)
    writeFileSync(join(outDir, 'preprocessing.json'), JSON.stringify(preprocessing, null, 2) + '\n')
    files.push('preprocessing.json')
    return { dir: outDir, files, preprocessing }
  } finally {
    for (const l of built?.created ?? []) l.dispose()
    net.head.dispose()
    net.backbone.dispose()
  }
}

/** The export of run `runId` as one zip (its files at the top level), for downloads. */
export async function exportRunModelZip(ctx: AppContext, runId: number): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'hist-model-export-'))
  try {
    const res = await exportRunModel(ctx, runId, join(dir, 'model'))
    const entries = Object.fromEntries(
      res.files.map((f) => [f, new Uint8Array(readFileSync(join(res.dir, f)))])
    )
    return Buffer.from(zipSync(entries, { level: 6 }))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
