/**
 * A run's model in a worker thread, behind the RunModel interface: datasetEmbeddings embeds the
 * train images through it so that long embeddings never block the main process (Electron's IPC,
 * the web server). One worker per model; dispose() ends it. The worker entry is found as the
 * explain runner finds its own: the TypeScript source under tsx/vitest, `datasetEmbedWorker.js`
 * beside the bundle in a build, or HIST_DATASET_EMBED_WORKER.
 */
import * as fs from 'node:fs'
import { join } from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { AppContext } from '../app/context'
import { RunsRepo } from '../runs/repo'
import type { RunModel } from './models'
import type { NetworkSpec } from './networkEmbed'

/** Main → worker, without the request id. */
type EmbedAsk = { type: 'load'; spec: NetworkSpec } | { type: 'embed'; paths: string[] }
/** Main → worker. */
export type EmbedRequest = EmbedAsk & { id: number }

/** Worker → main. */
export type EmbedReply =
  | { type: 'loaded'; id: number; dim: number }
  | { type: 'rows'; id: number; rows: Float32Array }
  | { type: 'error'; id: number; message: string }

function startWorker(): Worker {
  const here = import.meta.url
  const override = process.env.HIST_DATASET_EMBED_WORKER
  if (override) return new Worker(override)
  if (here.endsWith('.ts')) {
    const require = createRequire(here)
    const api = pathToFileURL(
      require.resolve('tsx').replace(/loader\.mjs$/, 'esm/api/index.mjs')
    ).href
    const target = new URL('./embedWorker.ts', here).href
    const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(target)}) })`
    return new Worker(boot, { eval: true })
  }
  for (const rel of ['./datasetEmbedWorker.js', '../datasetEmbedWorker.js']) {
    const candidate = fileURLToPath(new URL(rel, here))
    if (fs.existsSync(candidate)) return new Worker(candidate)
  }
  throw new Error(
    `datasetEmbedWorker.js not found next to ${fileURLToPath(here)}; set HIST_DATASET_EMBED_WORKER`
  )
}

/** The plain-data description of a run's selected model. */
export function networkSpecOf(ctx: AppContext, runId: number): NetworkSpec {
  const repo = new RunsRepo(ctx.db)
  const run = repo.get(runId)
  const st = repo.resumeState(runId)
  const file = st.bestCheckpoint ?? st.checkpoint
  if (!file || !st.dir)
    throw new Error(`run ${runId} has no saved model yet (no epoch has finished)`)
  return {
    backbone: run.config.backbone,
    seed: run.config.seed,
    embeddingSize: run.config.embeddingSize,
    checkpointPath: join(st.dir, file),
    modelsDir: ctx.paths.models
  }
}

/** Loads the run's selected model in a new worker thread. */
export async function loadRunModelInWorker(ctx: AppContext, runId: number): Promise<RunModel> {
  const spec = networkSpecOf(ctx, runId)
  const worker = startWorker()
  let nextId = 1
  let ended: Error | null = null
  const pending = new Map<number, { ok: (r: EmbedReply) => void; fail: (e: Error) => void }>()
  const failAll = (err: Error): void => {
    ended = err
    for (const p of pending.values()) p.fail(err)
    pending.clear()
  }
  worker.on('message', (reply: EmbedReply) => {
    const p = pending.get(reply.id)
    if (!p) return
    pending.delete(reply.id)
    if (reply.type === 'error') p.fail(new Error(reply.message))
    else p.ok(reply)
  })
  worker.on('error', failAll)
  worker.on('exit', (code) => failAll(new Error(`the embedding worker exited (${code})`)))
  const ask = (req: EmbedAsk): Promise<EmbedReply> =>
    new Promise((ok, fail) => {
      if (ended) return fail(ended)
      const id = nextId++
      pending.set(id, { ok, fail })
      worker.postMessage({ ...req, id })
    })
  let dim: number
  try {
    const r = await ask({ type: 'load', spec })
    dim = (r as Extract<EmbedReply, { type: 'loaded' }>).dim
  } catch (err) {
    void worker.terminate()
    throw err
  }
  return {
    dim,
    async embed(inputs) {
      if (inputs.some((i) => typeof i !== 'string'))
        throw new Error('the embedding worker takes image paths only')
      const r = await ask({ type: 'embed', paths: inputs as string[] })
      return (r as Extract<EmbedReply, { type: 'rows' }>).rows
    },
    dispose() {
      void worker.terminate()
    }
  }
}
