/**
 * Runs a projection off the main thread. The worker entry is found next to this module: the
 * TypeScript source under tsx/vitest, or `projectionWorker.js` beside the bundle when
 * electron-vite builds it as its own entry. If no worker entry can be found or started, small
 * galleries are projected in-thread and larger ones fail clearly.
 *
 * Node 20 does not apply `--import tsx` given in a Worker's execArgv (loader hooks are not
 * per-thread there), so a .ts entry is started from a tiny CommonJS bootstrap that registers
 * tsx's require hook and then requires the entry.
 */
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { ProjectionMethod } from './projection'
import { projectRows, type ProjectionResult } from './projectionJob'

/** A job posted to the projection worker. */
export interface ProjectionRequest {
  type: 'project'
  method: ProjectionMethod
  data: Float32Array
  n: number
  d: number
  seed: number
  /** Largest UMAP fit (projectionJob.ts); default UMAP_FIT_LIMIT. */
  fitLimit?: number
}

/** The worker's messages: progress (UMAP epochs), then the answer. */
export type ProjectionReply =
  | { type: 'progress'; done: number; total: number }
  | { type: 'done'; coords: Float64Array; fitted: number | null }
  | { type: 'error'; message: string }

/** Largest n·d projected on the main thread when no worker is available (about 1.3 M floats). */
export const IN_THREAD_LIMIT = 2500 * 512

let workerOverride: string | null = null

/** Points the worker at a built file (the Electron shell may set `out/main/projectionWorker.js`). */
export function setProjectionWorkerPath(path: string | null): void {
  workerOverride = path
}

/** The worker entry to start, or null when none exists. */
export function projectionWorkerEntry(): { file: string; typescript: boolean } | null {
  if (workerOverride)
    return { file: workerOverride, typescript: /\.(c|m)?ts$/.test(workerOverride) }
  const here = dirname(fileURLToPath(import.meta.url))
  const ts = join(here, 'projectionWorker.ts')
  if (existsSync(ts)) return { file: ts, typescript: true }
  // Bundled, this module may sit in out/main or in a shared chunk folder below it.
  for (const folder of [here, dirname(here)]) {
    for (const name of ['projectionWorker.js', 'projectionWorker.mjs']) {
      const js = join(folder, name)
      if (existsSync(js)) return { file: js, typescript: false }
    }
  }
  return null
}

function startWorker(entry: { file: string; typescript: boolean }): Worker {
  if (!entry.typescript) return new Worker(entry.file)
  const tsxApi = createRequire(import.meta.url).resolve('tsx/cjs/api')
  const boot = `require(${JSON.stringify(tsxApi)}).register(); require(${JSON.stringify(entry.file)})`
  return new Worker(boot, { eval: true })
}

function runInWorker(
  entry: { file: string; typescript: boolean },
  req: ProjectionRequest,
  onProgress?: (done: number, total: number) => void
): Promise<ProjectionResult> {
  return new Promise((resolve, reject) => {
    let worker: Worker
    try {
      worker = startWorker(entry)
    } catch (err) {
      reject(new WorkerStartError(err instanceof Error ? err.message : String(err)))
      return
    }
    let settled = false
    const finish = (fn: () => void): void => {
      if (settled) return
      settled = true
      fn()
      void worker.terminate()
    }
    worker.on('message', (reply: ProjectionReply) => {
      if (reply.type === 'progress') {
        if (!settled) onProgress?.(reply.done, reply.total)
        return
      }
      finish(() =>
        reply.type === 'done'
          ? resolve({ coords: reply.coords, fitted: reply.fitted })
          : reject(new Error(reply.message))
      )
    })
    // An 'error' before any message means the entry could not load (or crashed): a start failure.
    worker.once('error', (err) => finish(() => reject(new WorkerStartError(err.message))))
    worker.once('exit', (code) =>
      finish(() => reject(new WorkerStartError(`exited with code ${code}`)))
    )
    // The data is a copy, so transferring its buffer leaves the cached gallery intact.
    worker.postMessage(req, [req.data.buffer as ArrayBuffer])
  })
}

/** The worker could not be started or died; the projection itself did not report an error. */
class WorkerStartError extends Error {}

/** How the last projection ran, for diagnostics and tests. */
export let lastProjectionMode: 'worker' | 'in-thread' | null = null

/** Options of `runProjection`. */
export interface RunProjectionOptions {
  seed?: number
  /** The caller gives up `data`: it is transferred to the worker instead of copied. */
  transfer?: boolean
  /** Largest UMAP fit before sampling (projectionJob.ts). */
  fitLimit?: number
  /** UMAP optimisation progress (done, total epochs). */
  onProgress?: (done: number, total: number) => void
}

/**
 * Projects n×d rows to 2-D in a worker thread. Without a worker entry (or if starting it fails)
 * it runs in-thread when n·d ≤ IN_THREAD_LIMIT and throws otherwise.
 */
export async function runProjection(
  method: ProjectionMethod,
  data: Float32Array,
  n: number,
  d: number,
  opts: RunProjectionOptions = {}
): Promise<ProjectionResult> {
  const seed = opts.seed ?? 42
  const entry = projectionWorkerEntry()
  if (entry) {
    const copy = opts.transfer ? data : data.slice(0, n * d)
    try {
      const req: ProjectionRequest = {
        type: 'project',
        method,
        data: copy,
        n,
        d,
        seed,
        fitLimit: opts.fitLimit
      }
      const res = await runInWorker(entry, req, opts.onProgress)
      lastProjectionMode = 'worker'
      return res
    } catch (err) {
      // A projection error (not a start-up failure) would fail in-thread too: report it.
      if (!(err instanceof WorkerStartError)) throw err
      if (n * d > IN_THREAD_LIMIT)
        throw new Error(`the projection worker could not run: ${err.message}`)
    }
  } else if (n * d > IN_THREAD_LIMIT) {
    throw new Error(
      'the projection worker is missing from this build and the gallery is too large to project in-thread'
    )
  }
  lastProjectionMode = 'in-thread'
  return projectRows(method, data.subarray(0, n * d), n, d, {
    seed,
    fitLimit: opts.fitLimit,
    onProgress: opts.onProgress
  })
}
