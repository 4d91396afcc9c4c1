/**
 * Starts the explain worker thread on first use and keeps it (its model cache makes the next
 * pair fast); requests carry ids so that answers find their caller. The worker is found as
 * embedPool finds its worker: the TypeScript entry under tsx/vitest, `explainWorker.js` beside
 * the bundle in a build, or HIST_EXPLAIN_WORKER.
 */
import * as fs from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { PositionMap } from './decompose'
import type { ExplainModelSpec, ExplainReply, ExplainRequest } from './protocol'

function startWorker(): Worker {
  const here = import.meta.url
  const override = process.env.HIST_EXPLAIN_WORKER
  if (override) return new Worker(override)
  if (here.endsWith('.ts')) {
    const require = createRequire(here)
    const api = pathToFileURL(
      require.resolve('tsx').replace(/loader\.mjs$/, 'esm/api/index.mjs')
    ).href
    const target = new URL('./worker.ts', here).href
    const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(target)}) })`
    return new Worker(boot, { eval: true })
  }
  for (const rel of [
    './explainWorker.js',
    '../explainWorker.js',
    './explainWorker.mjs',
    '../explainWorker.mjs'
  ]) {
    const candidate = fileURLToPath(new URL(rel, here))
    if (fs.existsSync(candidate)) return new Worker(candidate)
  }
  throw new Error(
    `explainWorker.js not found next to ${fileURLToPath(here)}; set HIST_EXPLAIN_WORKER`
  )
}

type Pending = { resolve: (r: ExplainReply) => void; reject: (e: Error) => void }

/** A client of the explain worker. */
export class ExplainRunner {
  private worker: Worker | null = null
  private nextId = 1
  private readonly pending = new Map<number, Pending>()

  private ensure(): Worker {
    if (this.worker) return this.worker
    const w = startWorker()
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
