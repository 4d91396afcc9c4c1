/**
 * Tiny TF.js models written to disk for tests (a Keras-style LayersModel with the
 * ZeroPadding → Conv → BN → ReLU6 patterns of MobileNetV2, and a hand-written GraphModel).
 */
import fs from 'node:fs'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { createRng, normalArray } from '../util/rng'

/** Builds a small MobileNetV2-like LayersModel with non-trivial BN statistics. */
export function buildTinyLayersModel(seed = 1, size = 16): tf.LayersModel {
  const input = tf.input({ shape: [size, size, 3], name: 'input_1' })
  let h = tf.layers
    .zeroPadding2d({
      padding: [
        [0, 1],
        [0, 1]
      ],
      name: 'stem_pad'
    })
    .apply(input) as tf.SymbolicTensor
  h = tf.layers
    .conv2d({
      filters: 8,
      kernelSize: 3,
      strides: 2,
      padding: 'valid',
      useBias: false,
      name: 'stem'
    })
    .apply(h) as tf.SymbolicTensor
  h = tf.layers.batchNormalization({ name: 'stem_bn', epsilon: 1e-3 }).apply(h) as tf.SymbolicTensor
  h = tf.layers.reLU({ maxValue: 6, name: 'stem_relu' }).apply(h) as tf.SymbolicTensor
  const skip = h
  h = tf.layers
    .depthwiseConv2d({ kernelSize: 3, padding: 'same', useBias: false, name: 'dw' })
    .apply(h) as tf.SymbolicTensor
  h = tf.layers.batchNormalization({ name: 'dw_bn' }).apply(h) as tf.SymbolicTensor
  h = tf.layers.reLU({ name: 'dw_relu' }).apply(h) as tf.SymbolicTensor
  h = tf.layers
    .conv2d({ filters: 8, kernelSize: 1, useBias: true, name: 'project' })
    .apply(h) as tf.SymbolicTensor
  h = tf.layers.batchNormalization({ name: 'project_bn' }).apply(h) as tf.SymbolicTensor
  h = tf.layers.add({ name: 'add' }).apply([skip, h]) as tf.SymbolicTensor
  h = tf.layers
    .conv2d({ filters: 12, kernelSize: 1, useBias: false, name: 'head_conv' })
    .apply(h) as tf.SymbolicTensor
  h = tf.layers.batchNormalization({ name: 'head_bn' }).apply(h) as tf.SymbolicTensor
  const feat = tf.layers.reLU({ maxValue: 6, name: 'out_relu' }).apply(h) as tf.SymbolicTensor
  const pooled = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(feat) as tf.SymbolicTensor
  const logits = tf.layers.dense({ units: 3, name: 'logits' }).apply(pooled) as tf.SymbolicTensor
  const model = tf.model({ inputs: input, outputs: logits, name: 'tiny' })
  // Random weights and BN statistics, so that BN folding is really exercised.
  const rng = createRng(seed)
  for (const l of model.layers) {
    const ws = l.getWeights()
    if (!ws.length) continue
    l.setWeights(
      ws.map((w, i) => {
        const isVar = l.getClassName() === 'BatchNormalization' && i === 3
        const vals = normalArray(rng, w.size, 0.5).map((v) => (isVar ? 0.5 + Math.abs(v) : v))
        return tf.tensor(vals, w.shape)
      })
    )
  }
  return model
}

/** Saves a LayersModel as model.json + weights.bin into `dir`; returns the model.json path. */
export async function saveLayersModel(model: tf.LayersModel, dir: string): Promise<string> {
  fs.mkdirSync(dir, { recursive: true })
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const data = a.weightData as ArrayBuffer
      fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(data))
      const json = {
        format: 'layers-model',
        modelTopology: a.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }]
      }
      fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json))
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }
    })
  )
  return path.join(dir, 'model.json')
}

const b64 = (s: string): string => Buffer.from(s).toString('base64')

/** Writes a GraphModel: x [N,16,16,3] → Conv2D 3×3 SAME (4 filters) → 'feat' (Relu) → 'pool' (Mean). */
export function writeTinyGraphModel(dir: string, seed = 1): string {
  fs.mkdirSync(dir, { recursive: true })
  const dims = (d: number[]): { dim: { size: string }[] } => ({
    dim: d.map((v) => ({ size: String(v) }))
  })
  const w = normalArray(createRng(seed), 3 * 3 * 3 * 4)
  const axes = new Int32Array([1, 2])
  const node = [
    {
      name: 'x',
      op: 'Placeholder',
      attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: dims([-1, 16, 16, 3]) } }
    },
    {
      name: 'w',
      op: 'Const',
      attr: {
        dtype: { type: 'DT_FLOAT' },
        value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dims([3, 3, 3, 4]) } }
      }
    },
    {
      name: 'axes',
      op: 'Const',
      attr: {
        dtype: { type: 'DT_INT32' },
        value: { tensor: { dtype: 'DT_INT32', tensorShape: dims([2]) } }
      }
    },
    {
      name: 'conv',
      op: 'Conv2D',
      input: ['x', 'w'],
      attr: {
        T: { type: 'DT_FLOAT' },
        strides: { list: { i: ['1', '1', '1', '1'] } },
        padding: { s: b64('SAME') },
        data_format: { s: b64('NHWC') },
        dilations: { list: { i: ['1', '1', '1', '1'] } }
      }
    },
    { name: 'feat', op: 'Relu', input: ['conv'], attr: { T: { type: 'DT_FLOAT' } } },
    {
      name: 'pool',
      op: 'Mean',
      input: ['feat', 'axes'],
      attr: { T: { type: 'DT_FLOAT' }, keep_dims: { b: false } }
    }
  ]
  const json = {
    format: 'graph-model',
    modelTopology: { node, library: {}, versions: { producer: 1 } },
    weightsManifest: [
      {
        paths: ['graph.bin'],
        weights: [
          { name: 'w', shape: [3, 3, 3, 4], dtype: 'float32' },
          { name: 'axes', shape: [2], dtype: 'int32' }
        ]
      }
    ]
  }
  fs.writeFileSync(
    path.join(dir, 'graph.bin'),
    Buffer.concat([Buffer.from(w.buffer), Buffer.from(axes.buffer)])
  )
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json))
  return path.join(dir, 'model.json')
}
