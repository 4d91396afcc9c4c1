/**
 * A pool of worker threads that decode images and run the backbone in parallel (wasm is
 * single-threaded in Node, so one worker per core is how both cores get used). The worker is
 * found by ml/workers.ts: embedWorker.ts under tsx/vitest, the built `embedWorker.js` next to
 * the bundle or one folder up, or HIST_EMBED_WORKER.
 */
import type { Worker } from 'node:worker_threads'
import * as tf from '@tensorflow/tfjs'
import type { BackendName } from '../../../src-preload/contract/system'
import type { BackboneSpecInput } from '../models/backbones'
import { startWorker, type WorkerFile } from '../workers'
import { abortError, type EmbedMode } from './embed'
import type { EmbedReply, EmbedRequest, EmbedWorkerData } from './embedWorker'

/** Options of createEmbedPool. */
export interface EmbedPoolOptions {
  /** Number of worker threads (one per core is best). */
  workers: number
  spec: BackboneSpecInput
  modelsDir: string
  /** Init seed of a randomly initialised backbone, so every worker builds the same weights. */
  seed?: number
  /** The backend the workers start (default: the one active in this process). */
  backend?: BackendName
  /** Images per forward pass inside a worker (default 32). */
  batchSize?: number
}

/** Options of EmbedPool.features. */
export interface PoolFeatureOptions {
  onProgress?: (done: number, total: number) => void
  signal?: AbortSignal
}

/** A running pool. */
export interface EmbedPool {
  /** Feature width C. */
  readonly dim: number
  /** Pooled features [N × C] of the images, in order. */
  features(
    paths: string[],
    mode: EmbedMode,
    opts?: PoolFeatureOptions
  ): Promise<{ features: Float32Array; dim: number }>
  /** Stops the workers. */
  close(): Promise<void>
}

/** The active backend's name, or undefined before any backend started. */
function activeBackendName(): BackendName | undefined {
  try {
    return (tf.getBackend() as BackendName | undefined) ?? undefined
  } catch {
    return undefined
  }
}

/** The embedding pool's worker file. */
export const EMBED_WORKER: WorkerFile = {
  name: 'embedWorker',
  source: './embedWorker.ts',
  envVar: 'HIST_EMBED_WORKER'
}

/** Starts a worker running embedWorker with `data`. */
export function startEmbedWorker(data: EmbedWorkerData): Worker {
  return startWorker(EMBED_WORKER, import.meta.url, data)
}

interface Slot {
  worker: Worker
  busy: boolean
}

interface Task {
  id: number
  start: number
  paths: string[]
}

/** Starts `workers` threads, each loading the backbone; resolves once all are ready. */
export async function createEmbedPool(opts: EmbedPoolOptions): Promise<EmbedPool> {
  const n = Math.max(1, Math.floor(opts.workers))
  const batchSize = opts.batchSize ?? 32
  const slots: Slot[] = []
  let dim = 0
  let broken: Error | null = null
  const handlers = new Map<Worker, (m: EmbedReply) => void>()
  const failers = new Map<Worker, (e: Error) => void>()
  try {
    await Promise.all(
      Array.from({ length: n }, () => {
        const worker = startEmbedWorker({
          spec: opts.spec,
          modelsDir: opts.modelsDir,
          seed: opts.seed,
          backend: opts.backend ?? activeBackendName()
        })
        slots.push({ worker, busy: false })
        worker.on('message', (m: EmbedReply) => handlers.get(worker)?.(m))
        worker.on('error', (e) => failers.get(worker)?.(e))
        worker.on('exit', (code) =>
          failers.get(worker)?.(new Error(`embedding worker exited with code ${code}`))
        )
        return new Promise<void>((resolve, reject) => {
          handlers.set(worker, (m) => {
            if (m.type === 'ready') {
              dim = m.dim
              resolve()
            } else if (m.type === 'error')
              reject(new Error(`embedding worker failed to start: ${m.message}`))
          })
          failers.set(worker, reject)
        })
      })
    )
  } catch (err) {
    await Promise.all(slots.map((s) => s.worker.terminate()))
    throw err
  }

  let nextId = 1
  let running = false

  const features = async (
    paths: string[],
    mode: EmbedMode,
    fopts: PoolFeatureOptions = {}
  ): Promise<{ features: Float32Array; dim: number }> => {
    if (broken) throw broken
    if (running) throw new Error('embedding pool is busy with another request')
    running = true
    const out = new Float32Array(paths.length * dim)
    // Chunks of a few batches: small enough to balance the workers, large enough to amortise messages.
    const chunk = batchSize * 2
    const queue: Task[] = []
    for (let s = 0; s < paths.length; s += chunk)
      queue.push({ id: nextId++, start: s, paths: paths.slice(s, s + chunk) })
    const doneByTask = new Map<number, number>()
    let done = 0
    try {
      await new Promise<void>((resolve, reject) => {
        let outstanding = queue.length
        if (outstanding === 0) return resolve()
        let failed = false
        const fail = (e: Error): void => {
          if (failed) return
          failed = true
          reject(e)
        }
        const onAbort = (): void => fail(abortError())
        fopts.signal?.addEventListener('abort', onAbort, { once: true })
        const dispatch = (slot: Slot): void => {
          if (failed) return
          const task = queue.shift()
          if (!task) return
          slot.busy = true
          handlers.set(slot.worker, (m) => {
            if (m.type === 'progress' && m.id === task.id) {
              done += m.done - (doneByTask.get(task.id) ?? 0)
              doneByTask.set(task.id, m.done)
              fopts.onProgress?.(done, paths.length)
            } else if (m.type === 'result' && m.id === task.id) {
              out.set(m.features, task.start * dim)
              slot.busy = false
              if (--outstanding === 0) {
                fopts.signal?.removeEventListener('abort', onAbort)
                resolve()
              } else dispatch(slot)
            } else if (m.type === 'error') {
              fail(new Error(m.message))
            }
          })
          failers.set(slot.worker, (e) => {
            broken = e
            fail(e)
          })
          const req: EmbedRequest = {
            type: 'embed',
            id: task.id,
            paths: task.paths,
            mode,
            batchSize
          }
          slot.worker.postMessage(req)
        }
        if (fopts.signal?.aborted) return fail(abortError())
        for (const s of slots) dispatch(s)
      })
    } catch (err) {
      // A worker may still be busy with an abandoned task; stop the pool rather than mix answers.
      broken = err as Error
      await Promise.all(slots.map((s) => s.worker.terminate()))
      throw err
    } finally {
      running = false
    }
    return { features: out, dim }
  }

  const close = async (): Promise<void> => {
    for (const s of slots) {
      failers.delete(s.worker)
      handlers.delete(s.worker)
    }
    broken = broken ?? new Error('embedding pool is closed')
    await Promise.all(slots.map((s) => s.worker.terminate()))
  }

  return {
    get dim() {
      return dim
    },
    features,
    close
  }
}
