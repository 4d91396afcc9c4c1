/**
 * Reading TF.js models from disk without network: the nsfwjs MobileNetV2 (shipped as browserify
 * .min.js wrappers around model.json and base64 weight shards) and plain model.json folders
 * (user models, downloaded models) through an in-memory tf.io handler.
 */
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { FileProblemError, readFileSafely, readJsonSafely } from '../util/safeFile'

const require = createRequire(import.meta.url)

/** The parsed model.json of a TF.js model. */
export interface ModelJson {
  format?: string
  modelTopology: unknown
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[]
  signature?: unknown
  userDefinedMetadata?: Record<string, object>
  modelInitializer?: unknown
}

/** Folder holding nsfwjs's bundled MobileNetV2 files (model.min.js, group1-shard1of1.min.js). */
export function nsfwjsModelDir(model = 'mobilenet_v2'): string {
  // 'nsfwjs' resolves to dist/cjs/index.js; the models sit in dist/models.
  const main = require.resolve('nsfwjs')
  return path.resolve(path.dirname(main), '..', 'models', model)
}

/**
 * Evaluates one of nsfwjs's UMD bundles and returns its export. The bundles only reference
 * `module`/`exports` (their require is internal), so a Function with a fake module suffices;
 * this avoids `import()` of .js files under a "type": "module" package and works the same under
 * tsx, vitest and the electron-vite bundle.
 */
function evalUmdBundle(file: string): unknown {
  const src = fs.readFileSync(file, 'utf8')
  const mod: { exports: unknown } = { exports: {} }
  new Function('module', 'exports', 'require', 'define', src)(
    mod,
    mod.exports,
    undefined,
    undefined
  )
  const e = mod.exports as { default?: unknown }
  return e && typeof e === 'object' && 'default' in e ? e.default : e
}

/** Sum of the bytes the weight specs occupy in the shards (quantised dtypes counted as stored). */
export function manifestWeightBytes(json: ModelJson): number {
  const bytesPer: Record<string, number> = {
    float32: 4,
    int32: 4,
    bool: 1,
    uint8: 1,
    int8: 1,
    uint16: 2,
    int16: 2,
    float16: 2
  }
  let total = 0
  for (const group of json.weightsManifest ?? []) {
    for (const w of group.weights) {
      const n = w.shape.reduce((a, b) => a * b, 1)
      const dtype = w.quantization?.dtype ?? w.dtype
      const b = bytesPer[dtype]
      if (b === undefined) throw new Error(`weight '${w.name}' has unsupported dtype '${dtype}'`)
      total += n * b
    }
  }
  return total
}

/** Builds ModelArtifacts from a parsed model.json and its concatenated shard bytes. */
export function artifactsFrom(json: ModelJson, weightData: Uint8Array): tf.io.ModelArtifacts {
  const weightSpecs = (json.weightsManifest ?? []).flatMap((g) => g.weights)
  const expected = manifestWeightBytes(json)
  if (weightData.byteLength !== expected) {
    throw new Error(
      `weight shards hold ${weightData.byteLength} bytes but model.json describes ${expected}`
    )
  }
  const buf = weightData.buffer.slice(
    weightData.byteOffset,
    weightData.byteOffset + weightData.byteLength
  ) as ArrayBuffer
  return {
    modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
    format: json.format,
    weightSpecs,
    weightData: buf,
    signature: json.signature as tf.io.ModelArtifacts['signature'],
    userDefinedMetadata: json.userDefinedMetadata,
    modelInitializer: json.modelInitializer as tf.io.ModelArtifacts['modelInitializer']
  }
}

/** Loads nsfwjs's MobileNetV2 (Keras, uint8-quantised weights) as in-memory artifacts. */
export function loadNsfwjsArtifacts(model = 'mobilenet_v2'): tf.io.ModelArtifacts {
  const dir = nsfwjsModelDir(model)
  const modelFile = path.join(dir, 'model.min.js')
  if (!fs.existsSync(modelFile))
    throw new Error(`nsfwjs model files not found in ${dir}; is the nsfwjs package installed?`)
  const json = evalUmdBundle(modelFile) as ModelJson
  const shards: Uint8Array[] = []
  for (const group of json.weightsManifest) {
    for (const p of group.paths) {
      const b64 = evalUmdBundle(path.join(dir, `${p}.min.js`))
      if (typeof b64 !== 'string')
        throw new Error(`nsfwjs weight bundle ${p}.min.js did not export base64 text`)
      shards.push(Buffer.from(b64, 'base64'))
    }
  }
  return artifactsFrom(json, Buffer.concat(shards))
}

/** True when a model.json describes a LayersModel (else a GraphModel). */
export function isLayersModelJson(json: ModelJson): boolean {
  if (json.format === 'layers-model') return true
  if (json.format === 'graph-model') return false
  const topo = json.modelTopology as Record<string, unknown> | null
  return !!topo && ('model_config' in topo || 'class_name' in topo)
}

/** Reads model.json and its shards from a folder on disk. */
export function readModelFolder(modelJsonPath: string): {
  json: ModelJson
  artifacts: tf.io.ModelArtifacts
} {
  // Errors name the file and the problem, never its content (it may be any file of the user's).
  const json = readJsonSafely(modelJsonPath, 'a TF.js model.json') as ModelJson
  if (!json || typeof json !== 'object' || !json.modelTopology) {
    throw new FileProblemError(modelJsonPath, 'is not a TF.js model.json (no modelTopology)')
  }
  const dir = path.dirname(modelJsonPath)
  const shards: Buffer[] = []
  for (const group of json.weightsManifest ?? []) {
    for (const p of group.paths) {
      const file = path.join(dir, decodeURIComponent(p))
      if (!fs.existsSync(file)) throw new Error(`weight shard ${p} of ${modelJsonPath} is missing`)
      shards.push(readFileSafely(file, 2 ** 31 - 1))
    }
  }
  return { json, artifacts: artifactsFrom(json, Buffer.concat(shards)) }
}
