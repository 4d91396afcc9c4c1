/**
 * Every image of a run's dataset (train and test split) embedded with the run's selected model,
 * for galleries beyond the test split and for the dataset audit. Test rows reuse the run's
 * gallery file (the trainer embedded them); train rows are embedded here in bounded batches, and
 * the whole matrix is cached in the run folder. The cache is keyed by what changes when the run
 * is evaluated again (finish time, gallery file, selected checkpoint) and by the image rows
 * themselves, so a re-evaluated run or a changed dataset is embedded again; otherwise a second
 * call is a file read.
 */
import { createHash } from 'node:crypto'
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { UnavailableError } from '../../src-preload/contract/errors'
import type { AppContext } from '../app/context'
import { CancelledError } from '../app/jobs'
import { getDatasetItems } from '../datasets/queries'
import { readGallery, readGalleryHeader, writeGallery } from '../ml/eval/gallery'
import { RunsRepo } from '../runs/repo'
import { galleryFileOf, readGalleryFile, runDirOf } from './galleryIo'
import { trainRowsFromFeatures } from './datasetFeatures'
import type { RunModel } from './models'
import { RetrievalRepo } from './repo'

/** A run's whole dataset embedded: one row per image, train rows first, then the test gallery. */
export interface DatasetEmbeddings {
  runId: number
  dim: number
  /** Image id per row. */
  imageIds: Int32Array
  /** Class id per row. */
  classIds: Int32Array
  /** Split per row: 0 = train, 1 = test. */
  split: Uint8Array
  /** rows × dim, L2-normalised. */
  data: Float32Array
}

/** Options of loadDatasetEmbeddings. */
export interface DatasetEmbeddingsOptions {
  /** Called as rows are ready (test rows count as done once read), at most once per batch. */
  onProgress?: (done: number, total: number) => void
  /** Stops the embedding between batches (rejects with CancelledError); nothing is cached. */
  signal?: AbortSignal
  /**
   * Loads the run's selected model; defaults to the run's model in a worker thread
   * (runs/workerModel.ts). Tests inject runs/inference loadRunModel or a fake.
   */
  loadModel?: (ctx: AppContext, runId: number) => Promise<RunModel>
  /**
   * Images per model call: bounds the decoded pixels in memory and how long one batch holds the
   * event loop (TF.js runs in-process). Default 16.
   */
  batchSize?: number
}

/** Split codes of DatasetEmbeddings.split. */
export const TRAIN = 0
export const TEST = 1

/** Cache files inside the run folder. */
export const DATA_FILE = 'dataset-embeddings.bin'
export const META_FILE = 'dataset-embeddings.json'
const META_VERSION = 1

/** The rows of a run's dataset embeddings, with the paths of the train images. */
export interface Rows {
  imageIds: Int32Array
  classIds: Int32Array
  split: Uint8Array
  /** Absolute path of each train row (test rows come from the gallery file). */
  trainPaths: string[]
  nTrain: number
}

async function defaultLoadModel(ctx: AppContext, runId: number): Promise<RunModel> {
  // In a worker thread: a long embedding must not hold the main process's event loop.
  const mod = await import('../runs/workerModel')
  return mod.loadRunModelInWorker(ctx, runId)
}

/** The rows of the run's dataset: train images of its split, then its test gallery in row order. */
function datasetRows(ctx: AppContext, runId: number): Rows {
  const retrieval = new RetrievalRepo(ctx.db)
  const run = retrieval.run(runId) // NotFoundError for an unknown id
  if (retrieval.galleryCount(runId) === 0) {
    throw new UnavailableError(
      `run ${runId} ("${run.name}") has no test evaluation yet, so its dataset cannot be embedded`
    )
  }
  if (run.datasetId === null)
    throw new UnavailableError(`the dataset of run ${runId} ("${run.datasetName}") was removed`)
  const config = new RunsRepo(ctx.db).get(runId).config
  const gallery = retrieval.galleryRefs(runId)
  const missing = gallery.refs.filter((r) => r === null).length
  if (missing > 0) {
    throw new UnavailableError(
      `${missing} test images of run ${runId} are no longer in the database (was "${run.datasetName}" re-imported?)`
    )
  }
  const inGallery = new Set(gallery.imageIds)
  const train = getDatasetItems(ctx, run.datasetId, 'train', config.split).filter(
    (i) => !inGallery.has(i.imageId)
  )
  const n = train.length + gallery.imageIds.length
  const imageIds = new Int32Array(n)
  const classIds = new Int32Array(n)
  const split = new Uint8Array(n)
  train.forEach((item, r) => {
    imageIds[r] = item.imageId
    classIds[r] = item.classId
    split[r] = TRAIN
  })
  gallery.refs.forEach((ref, k) => {
    const r = train.length + k
    imageIds[r] = gallery.imageIds[k]
    classIds[r] = ref!.classId
    split[r] = TEST
  })
  return {
    imageIds,
    classIds,
    split,
    trainPaths: train.map((i) => i.absPath),
    nTrain: train.length
  }
}

/** What the cache is valid for: the run's evaluation, its model and the rows. */
function cacheKey(ctx: AppContext, runId: number, rows: Rows): string {
  const run = new RetrievalRepo(ctx.db).run(runId)
  const st = new RunsRepo(ctx.db).resumeState(runId)
  const stamp = (file: string | null): string => {
    if (!file) return '-'
    try {
      const s = statSync(file)
      return `${s.size}:${s.mtimeMs}`
    } catch {
      return 'missing'
    }
  }
  const ckpt = st.bestCheckpoint ?? st.checkpoint
  const h = createHash('sha256')
  h.update(
    JSON.stringify({
      finishedAt: run.finishedAt,
      gallery: stamp(galleryFileOf(ctx, runId)),
      checkpoint: ckpt,
      checkpointFile: st.dir && ckpt ? stamp(join(st.dir, ckpt)) : '-'
    })
  )
  h.update(Buffer.from(rows.imageIds.buffer, rows.imageIds.byteOffset, rows.imageIds.byteLength))
  h.update(Buffer.from(rows.classIds.buffer, rows.classIds.byteOffset, rows.classIds.byteLength))
  h.update(Buffer.from(rows.split))
  return h.digest('hex')
}

/** The cached matrix when its key matches, else null (a damaged cache counts as missing). */
function readCache(dir: string, key: string, n: number): Float32Array | null {
  try {
    const meta = JSON.parse(readFileSync(join(dir, META_FILE), 'utf8')) as {
      version?: number
      key?: string
    }
    if (meta.version !== META_VERSION || meta.key !== key) return null
    const g = readGallery(join(dir, DATA_FILE), { n })
    return g.data
  } catch {
    return null
  }
}

function writeCache(dir: string, key: string, data: Float32Array, n: number, dim: number): void {
  writeGallery(join(dir, DATA_FILE), data, n, dim)
  // The key goes last: a crash between the two files leaves a cache that does not match.
  const tmp = join(dir, `${META_FILE}.${process.pid}.tmp`)
  writeFileSync(tmp, JSON.stringify({ version: META_VERSION, key, n, dim }))
  renameSync(tmp, join(dir, META_FILE))
}

/** L2-normalises each row in place (zero rows stay zero). */
function normalizeRows(data: Float32Array, n: number, d: number): void {
  for (let r = 0; r < n; r++) {
    let ss = 0
    for (let f = 0; f < d; f++) ss += data[r * d + f] ** 2
    const inv = 1 / Math.max(Math.sqrt(ss), 1e-12)
    for (let f = 0; f < d; f++) data[r * d + f] *= inv
  }
}

/** The rows loadDatasetEmbeddings gives for the run, without embedding anything (SQL only). */
export function datasetEmbeddingRows(
  ctx: AppContext,
  runId: number
): Pick<DatasetEmbeddings, 'imageIds' | 'classIds' | 'split'> {
  const { imageIds, classIds, split } = datasetRows(ctx, runId)
  return { imageIds, classIds, split }
}

/** Whether loadDatasetEmbeddings would only read its cache (nothing to embed). */
export function datasetEmbeddingsCached(ctx: AppContext, runId: number): boolean {
  const rows = datasetRows(ctx, runId)
  const dir = runDirOf(ctx, runId)
  try {
    const meta = JSON.parse(readFileSync(join(dir, META_FILE), 'utf8')) as {
      version?: number
      key?: string
    }
    if (meta.version !== META_VERSION || meta.key !== cacheKey(ctx, runId, rows)) return false
    return readGalleryHeader(join(dir, DATA_FILE)).n === rows.imageIds.length
  } catch {
    return false
  }
}

const nextTick = (): Promise<void> => new Promise((r) => setImmediate(r))

/** One embedding in progress, shared by every caller that asks for the same run and key. */
interface Work {
  promise: Promise<{ data: Float32Array; dim: number }>
  controller: AbortController
  listeners: Set<(done: number, total: number) => void>
  /** The last progress reported, for a caller that joins late. */
  last: [number, number] | null
  /** Callers still waiting; the work is aborted when the last of them aborts. */
  waiting: number
}
const inflight = new Map<string, Work>()

/**
 * Every image of the run's dataset embedded with its selected model (see DatasetEmbeddings).
 * Reads the cache in the run folder when it is still valid; otherwise embeds the train images
 * in batches (the event loop runs between batches), reuses the test gallery file, and writes
 * the cache. Concurrent calls for the same run share one embedding (the first caller's model
 * loader and batch size); each caller's abort only stops its own wait, and the embedding stops
 * when every caller has aborted. Throws NotFoundError for an unknown run, UnavailableError for a
 * run without a test evaluation or whose model or gallery cannot be used, CancelledError when
 * `signal` aborts.
 */
export async function loadDatasetEmbeddings(
  ctx: AppContext,
  runId: number,
  opts: DatasetEmbeddingsOptions = {}
): Promise<DatasetEmbeddings> {
  const rows = datasetRows(ctx, runId)
  const n = rows.imageIds.length
  const dir = runDirOf(ctx, runId)
  const key = cacheKey(ctx, runId, rows)
  const result = (data: Float32Array, dim: number): DatasetEmbeddings => ({
    runId,
    dim,
    imageIds: rows.imageIds,
    classIds: rows.classIds,
    split: rows.split,
    data
  })
  const cached = readCache(dir, key, n)
  if (cached) {
    opts.onProgress?.(n, n)
    return result(cached, cached.length / n)
  }
  const cancelled = (): CancelledError => new CancelledError('embedding the dataset was cancelled')
  if (opts.signal?.aborted) throw cancelled()

  const id = `${dir}|${key}`
  let work = inflight.get(id)
  if (!work) {
    const controller = new AbortController()
    const w: Work = {
      controller,
      listeners: new Set(),
      last: null,
      waiting: 0,
      promise: Promise.resolve({ data: new Float32Array(0), dim: 0 })
    }
    w.promise = embedRows(ctx, runId, rows, {
      signal: controller.signal,
      loadModel: opts.loadModel,
      batchSize: opts.batchSize,
      onProgress: (done, total) => {
        w.last = [done, total]
        for (const l of w.listeners) l(done, total)
      }
    })
      .then((out) => {
        writeCache(dir, key, out.data, n, out.dim)
        return out
      })
      .finally(() => {
        if (inflight.get(id) === w) inflight.delete(id)
      })
    // Every caller handles the outcome; this keeps a rejection nobody waits for any more quiet.
    w.promise.catch(() => {})
    inflight.set(id, w)
    work = w
  }
  const w = work
  const listener = opts.onProgress
  if (listener) {
    if (w.last) listener(w.last[0], w.last[1])
    w.listeners.add(listener)
  }
  w.waiting++
  let onAbort: (() => void) | null = null
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      w.waiting--
      if (w.waiting > 0) {
        reject(cancelled())
        return
      }
      w.controller.abort()
      // A caller that comes now starts afresh instead of joining a stopping embedding.
      if (inflight.get(id) === w) inflight.delete(id)
      // The last caller returns once the embedding has stopped and freed the model.
      void w.promise.then(
        () => reject(cancelled()),
        () => reject(cancelled())
      )
    }
    opts.signal?.addEventListener('abort', onAbort, { once: true })
  })
  aborted.catch(() => {})
  try {
    const out = await Promise.race([w.promise, aborted])
    return result(out.data, out.dim)
  } finally {
    if (listener) w.listeners.delete(listener)
    if (onAbort) opts.signal?.removeEventListener('abort', onAbort)
    if (!opts.signal?.aborted) w.waiting--
  }
}

/** Embeds the train rows and copies the test rows from the gallery file (see above). */
async function embedRows(
  ctx: AppContext,
  runId: number,
  rows: Rows,
  opts: DatasetEmbeddingsOptions
): Promise<{ data: Float32Array; dim: number }> {
  const n = rows.imageIds.length
  const checkAbort = (): void => {
    if (opts.signal?.aborted) throw new CancelledError('embedding the dataset was cancelled')
  }
  checkAbort()
  let gallery
  try {
    gallery = readGalleryFile(galleryFileOf(ctx, runId))
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err)
    throw new UnavailableError(`the test embeddings of run ${runId} cannot be read: ${why}`)
  }
  const nTest = n - rows.nTrain
  if (gallery.n !== nTest) {
    throw new UnavailableError(
      `the gallery file of run ${runId} has ${gallery.n} rows but the run lists ${nTest} test images`
    )
  }
  const dim = gallery.d
  const data = new Float32Array(n * dim)
  data.set(gallery.data, rows.nTrain * dim)
  normalizeRows(data.subarray(rows.nTrain * dim), nTest, dim)
  let done = nTest
  opts.onProgress?.(done, n)

  // A frozen run's train rows from the trainer's feature cache: only the head runs (fast).
  const fromFeatures =
    rows.nTrain > 0 && !opts.loadModel
      ? await trainRowsFromFeatures(ctx, runId, rows, dim, checkAbort, (k) => {
          opts.onProgress?.(nTest + k, n)
        })
      : null
  if (fromFeatures) {
    data.set(fromFeatures, 0)
    normalizeRows(data, rows.nTrain, dim)
  } else if (rows.nTrain > 0) {
    const load = opts.loadModel ?? defaultLoadModel
    let model: RunModel
    try {
      model = await load(ctx, runId)
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err)
      throw new UnavailableError(`the model of run ${runId} cannot be loaded: ${why}`)
    }
    try {
      if (model.dim !== dim) {
        throw new UnavailableError(
          `the model of run ${runId} gives ${model.dim}-d embeddings but its gallery has ${dim}-d rows; evaluate the run again`
        )
      }
      const batch = Math.max(1, opts.batchSize ?? 16)
      for (let start = 0; start < rows.nTrain; start += batch) {
        checkAbort()
        const paths = rows.trainPaths.slice(start, start + batch)
        let out: Float32Array
        try {
          out = await model.embed(paths)
        } catch (err) {
          const why = err instanceof Error ? err.message : String(err)
          throw new UnavailableError(
            `the training images of run ${runId} cannot be embedded (images ${start + 1}–${start + paths.length} of ${rows.nTrain}): ${why}`
          )
        }
        if (out.length !== paths.length * dim) {
          throw new Error(
            `the model of run ${runId} returned ${out.length} values for ${paths.length} images, expected ${paths.length * dim}`
          )
        }
        for (let t = 0; t < out.length; t++) {
          if (!Number.isFinite(out[t]))
            throw new Error(`the model of run ${runId} produced a non-finite embedding`)
        }
        data.set(out, start * dim)
        done += paths.length
        opts.onProgress?.(done, n)
        // Let other requests and events through between batches.
        await nextTick()
      }
      checkAbort()
    } finally {
      model.dispose()
    }
    normalizeRows(data, rows.nTrain, dim)
  }
  return { data, dim }
}
