/**
 * Worker thread of the embedding pool: initialises its own TF.js backend (the owner's) and
 * backbone, then embeds the path lists it is sent. Messages are plain data (see EmbedRequest /
 * EmbedReply); features travel as transferred Float32Array buffers.
 */
import { parentPort, workerData } from 'node:worker_threads'
import type { BackendName } from '../../../src-preload/contract/system'
import { initBackend } from '../backend'
import { loadBackbone, type BackboneSpecInput } from '../models/backbones'
import { embedImages, type EmbedMode } from './embed'

/** Data the pool passes when starting a worker. */
export interface EmbedWorkerData {
  spec: BackboneSpecInput
  modelsDir: string
  seed?: number
  /** The backend of the process that started the pool (workers use the same one). */
  backend?: BackendName
}

/** Parent → worker. */
export type EmbedRequest =
  | { type: 'embed'; id: number; paths: string[]; mode: EmbedMode; batchSize: number }
  | { type: 'close' }

/** Worker → parent. */
export type EmbedReply =
  | { type: 'ready'; dim: number; backend: string }
  | { type: 'progress'; id: number; done: number }
  | { type: 'result'; id: number; features: Float32Array }
  | { type: 'error'; id: number | null; message: string }

async function main(): Promise<void> {
  const port = parentPort
  if (!port) throw new Error('embedWorker must run in a worker thread')
  const data = workerData as EmbedWorkerData
  const send = (m: EmbedReply, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer)
  try {
    const report = await initBackend(data.backend ? { only: [data.backend] } : {})
    const backbone = await loadBackbone(data.spec, { modelsDir: data.modelsDir, seed: data.seed })
    // Tasks run one at a time: the pool never sends a second before the first answered.
    port.on('message', (msg: EmbedRequest) => {
      if (msg.type === 'close') {
        backbone.dispose()
        port.close()
        return
      }
      embedImages(backbone, msg.paths, msg.mode, {
        batchSize: msg.batchSize,
        onBatch: (done) => send({ type: 'progress', id: msg.id, done })
      }).then(
        (features) =>
          send({ type: 'result', id: msg.id, features }, [features.buffer as ArrayBuffer]),
        (err: Error) => send({ type: 'error', id: msg.id, message: err.message })
      )
    })
    send({ type: 'ready', dim: backbone.featureChannels, backend: report.active })
  } catch (err) {
    send({ type: 'error', id: null, message: (err as Error).message })
  }
}

void main()
