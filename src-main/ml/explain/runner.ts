/**
 * Starts the explain worker thread on first use and keeps it (its model cache makes the next
 * pair fast); requests carry ids so that answers find their caller. The worker is found by
 * ml/workers.ts: worker.ts under tsx/vitest, `explainWorker.js` beside the bundle in a build,
 * or HIST_EXPLAIN_WORKER.
 */
import type { Worker } from 'node:worker_threads'
import { startWorker, type WorkerFile } from '../workers'
import type { PositionMap } from './decompose'
import type { ExplainModelSpec, ExplainReply, ExplainRequest } from './protocol'

/** The explain worker's file. */
export const EXPLAIN_WORKER: WorkerFile = {
  name: 'explainWorker',
  source: './worker.ts',
  envVar: 'HIST_EXPLAIN_WORKER'
}

type Pending = { resolve: (r: ExplainReply) => void; reject: (e: Error) => void }

/** A client of the explain worker. */
export class ExplainRunner {
  private worker: Worker | null = null
  private nextId = 1
  private readonly pending = new Map<number, Pending>()

  private ensure(): Worker {
    if (this.worker) return this.worker
    const w = startWorker(EXPLAIN_WORKER, import.meta.url)
    w.on('message', (reply: ExplainReply) => {
      const p = this.pending.get(reply.id)
      if (!p) return
      this.pending.delete(reply.id)
      // An idle worker must not keep the process alive (the CLI and benches exit when done).
      if (!this.pending.size) w.unref()
      if (reply.type === 'error') p.reject(new Error(reply.message))
      else p.resolve(reply)
    })
    const fail = (err: Error): void => {
      this.worker = null
      for (const p of this.pending.values()) p.reject(err)
      this.pending.clear()
    }
    w.on('error', fail)
    w.on('exit', (code) => fail(new Error(`the explain worker exited (${code})`)))
    w.unref()
    this.worker = w
    return w
  }

  private ask(
    req: Omit<ExplainRequest, 'id'> & { type: ExplainRequest['type'] }
  ): Promise<ExplainReply> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      const w = this.ensure()
      w.ref() // a pending answer keeps the process alive
      w.postMessage({ ...req, id })
    })
  }

  /** The similarity of two images and both maps of contributions. */
  async pair(
    model: ExplainModelSpec,
    query: string,
    result: string
  ): Promise<{ similarity: number; query: PositionMap; result: PositionMap }> {
    const r = await this.ask({ type: 'pair', model, query, result } as ExplainRequest)
    if (r.type !== 'pair') throw new Error('the explain worker answered the wrong request')
    return { similarity: r.similarity, query: r.query, result: r.result }
  }

  /** One image's activation map. */
  async single(model: ExplainModelSpec, image: string): Promise<PositionMap> {
    const r = await this.ask({ type: 'single', model, image } as ExplainRequest)
    if (r.type !== 'single') throw new Error('the explain worker answered the wrong request')
    return r.map
  }

  /** Stops the worker. */
  async close(): Promise<void> {
    const w = this.worker
    this.worker = null
    if (w) await w.terminate()
  }
}
