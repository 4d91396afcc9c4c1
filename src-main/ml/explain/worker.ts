/**
 * Worker thread of the similarity explanations: loads a run's model (keeping the last one),
 * computes the feature maps of the images it is sent and decomposes their similarity. Keeps
 * TF.js work off the main process's event loop.
 */
import { parentPort } from 'node:worker_threads'
import * as tf from '@tensorflow/tfjs'
import { initBackend } from '../backend'
import { explainPair, explainSingle } from './decompose'
import type { ExplainModelSpec, ExplainReply, ExplainRequest } from './protocol'
import { loadSpatialModel, type SpatialModel } from './spatialModel'

let cached: { key: string; model: SpatialModel } | null = null
let ready: Promise<unknown> | null = null

async function model(spec: ExplainModelSpec): Promise<SpatialModel> {
  if (cached?.key === spec.key) return cached.model
  cached?.model.dispose()
  cached = null
  const m = await loadSpatialModel(spec)
  cached = { key: spec.key, model: m }
  return m
}

async function handle(msg: ExplainRequest): Promise<ExplainReply> {
  ready ??= initBackend()
  await ready
  const m = await model(msg.model)
  const w = m.head.variables[0] as unknown as tf.Tensor2D
  const b = m.head.variables[1] as unknown as tf.Tensor1D
  if (msg.type === 'single') {
    const fm = await m.featureMap(msg.image)
    try {
      return { type: 'single', id: msg.id, map: await explainSingle(fm, w, b) }
    } finally {
      fm.dispose()
    }
  }
  const fq = await m.featureMap(msg.query)
  const fr = await m.featureMap(msg.result).catch((err: Error) => {
    fq.dispose()
    throw err
  })
  try {
    const e = await explainPair(fq, fr, w, b)
    return { type: 'pair', id: msg.id, ...e }
  } finally {
    tf.dispose([fq, fr])
  }
}

const port = parentPort
if (!port) throw new Error('the explain worker must run in a worker thread')
// One request at a time, in order: a queue keeps the model cache simple.
let chain: Promise<void> = Promise.resolve()
port.on('message', (msg: ExplainRequest) => {
  chain = chain.then(() =>
    handle(msg).then(
      (reply) => port.postMessage(reply),
      (err: Error) => port.postMessage({ type: 'error', id: msg.id, message: err.message })
    )
  )
})
