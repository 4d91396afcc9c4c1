/**
 * A run's network in a worker thread, behind the Network interface: the main process embeds
 * images through it (a run's train images for the dataset embeddings, the test split when a
 * stopped run's best checkpoint is evaluated) so that long embeddings never block Electron's IPC
 * or the web server. One worker per model; dispose() ends it. The worker entry is found by
 * ml/workers.ts: the TypeScript source under tsx/vitest, `networkWorker.js` beside the bundle in
 * a build, or HIST_NETWORK_WORKER.
 */
import { startWorker, type WorkerFile } from '../workers'
import type { Network, NetworkSpec } from './runNetwork'

/** Main → worker, without the request id. */
type NetworkAsk =
  { type: 'load'; spec: NetworkSpec; label?: string } | { type: 'embed'; paths: string[] }
/** Main → worker. */
export type NetworkRequest = NetworkAsk & { id: number }

/** Worker → main. */
export type NetworkReply =
  | { type: 'loaded'; id: number; dim: number }
  | { type: 'rows'; id: number; rows: Float32Array }
  | { type: 'error'; id: number; message: string }

/** The network worker's file. */
export const NETWORK_WORKER: WorkerFile = {
  name: 'networkWorker',
  source: './networkWorker.ts',
  envVar: 'HIST_NETWORK_WORKER'
}

/**
 * Loads a checkpoint's network in a new worker thread. Its embed() takes image paths only
 * (encoded bytes are not sent across); `label` names the checkpoint in errors.
 */
export async function loadNetworkInWorker(spec: NetworkSpec, label?: string): Promise<Network> {
  const worker = startWorker(NETWORK_WORKER, import.meta.url)
  let nextId = 1
  let ended: Error | null = null
  const pending = new Map<number, { ok: (r: NetworkReply) => void; fail: (e: Error) => void }>()
  const failAll = (err: Error): void => {
    ended = err
    for (const p of pending.values()) p.fail(err)
    pending.clear()
  }
  worker.on('message', (reply: NetworkReply) => {
    const p = pending.get(reply.id)
    if (!p) return
    pending.delete(reply.id)
    if (reply.type === 'error') p.fail(new Error(reply.message))
    else p.ok(reply)
  })
  worker.on('error', failAll)
  worker.on('exit', (code) => failAll(new Error(`the network worker exited (${code})`)))
  const ask = (req: NetworkAsk): Promise<NetworkReply> =>
    new Promise((ok, fail) => {
      if (ended) return fail(ended)
      const id = nextId++
      pending.set(id, { ok, fail })
      worker.postMessage({ ...req, id })
    })
  let dim: number
  try {
    const r = await ask({ type: 'load', spec, label })
    dim = (r as Extract<NetworkReply, { type: 'loaded' }>).dim
  } catch (err) {
    void worker.terminate()
    throw err
  }
  return {
    dim,
    async embed(inputs) {
      if (inputs.some((i) => typeof i !== 'string'))
        throw new Error('the network worker takes image paths only')
      const r = await ask({ type: 'embed', paths: inputs as string[] })
      return (r as Extract<NetworkReply, { type: 'rows' }>).rows
    },
    dispose() {
      if (!ended) failAll(new Error('the run model was disposed'))
      void worker.terminate()
    }
  }
}
