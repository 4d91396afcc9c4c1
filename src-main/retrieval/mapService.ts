/**
 * `retrieval.embeddingMap` behind the contract: the map of a run's test gallery or of its whole
 * dataset (train + test, embedded by loadDatasetEmbeddings), projected in the worker, with each
 * point's split, R@1 outcome and file path. Work that takes a while (embedding the dataset,
 * projecting without a cached map) runs as an 'embed' job of the run, so the view shows progress.
 */
import type { EmbeddingMap, MapScope } from '../../src-preload/contract/retrieval'
import { ConflictError } from '../../src-preload/contract/errors'
import type { AppContext } from '../app/context'
import { CancelledError, type JobHandle } from '../app/jobs'
import type { DatasetEmbeddings } from './datasetEmbeddings'
import {
  fingerprint,
  mapCacheFile,
  projectAndCache,
  readMapCache,
  type MapRows
} from './embeddingMap'
import type { GalleryStore } from './galleries'
import { runDirOf } from './galleryIo'
import { buildMapPayload } from './mapPayload'
import { EmbeddingMapRepo } from './mapRepo'
import type { ProjectionMethod } from './projection'
import type { ProjectionResult } from './projectionJob'
import type { RetrievalRepo, RunInfo } from './repo'

/** Loads (or computes and caches) a run's dataset embeddings. */
export type DatasetEmbeddingsLoader = (
  ctx: AppContext,
  runId: number,
  opts?: { onProgress?: (done: number, total: number) => void; signal?: AbortSignal }
) => Promise<DatasetEmbeddings>

/** Options of EmbeddingMaps (tests shrink the UMAP fit). */
export interface EmbeddingMapsOptions {
  loadDatasetEmbeddings: DatasetEmbeddingsLoader
  /** Largest UMAP fit before sampling; default UMAP_FIT_LIMIT. */
  umapFitLimit?: number
}

/** Builds embedding maps; concurrent requests for the same map share one computation. */
export class EmbeddingMaps {
  private inFlight = new Map<string, Promise<EmbeddingMap>>()
  private paths: EmbeddingMapRepo

  constructor(
    private ctx: AppContext,
    private repo: RetrievalRepo,
    private store: GalleryStore,
    private opts: EmbeddingMapsOptions
  ) {
    this.paths = new EmbeddingMapRepo(ctx.db)
  }

  /** The map of a run's test gallery or whole dataset. */
  get(runId: number, method: ProjectionMethod, scope: MapScope): Promise<EmbeddingMap> {
    const run = this.repo.run(runId)
    const key = `${run.id}|${run.finishedAt ?? ''}|${scope}|${method}`
    let job = this.inFlight.get(key)
    if (!job) {
      job = scope === 'test' ? this.testMap(run, method) : this.datasetMap(run, method)
      this.inFlight.set(key, job)
      const clear = (): void => {
        this.inFlight.delete(key)
      }
      job.then(clear, clear)
    }
    return job
  }

  private async testMap(run: RunInfo, method: ProjectionMethod): Promise<EmbeddingMap> {
    const g = this.store.gallery(run)
    const { meta, index } = g
    // The index holds L2-normalised rows: the map shows the geometry retrieval ranks by.
    const rows: MapRows = {
      imageIds: meta.imageIds,
      data: index.data,
      n: index.n,
      d: index.d,
      key: g.fileKey
    }
    const file = mapCacheFile(runDirOf(this.ctx, run.id), method, 'test')
    const res =
      readMapCache(file, rows, method) ??
      (await this.inJob(run, `Map of run ${run.id}: projecting ${rows.n} test images`, (job) =>
        this.project(job, run.id, file, rows, method)
      ))
    const hits = await this.hits(run)
    return buildMapPayload({
      runId: run.id,
      method,
      scope: 'test',
      imageIds: meta.imageIds,
      classIds: meta.classIds,
      split: new Uint8Array(rows.n).fill(1),
      coords: res.coords,
      fitted: res.fitted,
      hitOf: (id) => hits.get(id) ?? null,
      pathOf: (id) => meta.refs[meta.rowOf.get(id) ?? -1]?.relPath ?? ''
    })
  }

  private async datasetMap(run: RunInfo, method: ProjectionMethod): Promise<EmbeddingMap> {
    const datasetId = run.datasetId
    if (datasetId === null)
      throw new ConflictError(
        `run ${run.id} has no dataset any more, so its images cannot be mapped`
      )
    // Fails clearly (409) before any work when the run has no test evaluation yet.
    const hits = await this.hits(run)
    const { emb, res } = await this.inJob(
      run,
      `Map of run ${run.id}: embedding the dataset`,
      async (job) => {
        const emb = await this.opts
          .loadDatasetEmbeddings(this.ctx, run.id, {
            signal: job.signal,
            onProgress: (done, total) =>
              job.progress(done, total, `Map of run ${run.id}: embedding images`)
          })
          .catch((err: unknown) => {
            // A user's cancel is an answer, not an internal error.
            if (err instanceof CancelledError || job.signal.aborted)
              throw new ConflictError(`the whole-dataset map of run ${run.id} was cancelled`)
            throw err
          })
        checkEmbeddings(run.id, emb)
        const rows: MapRows = {
          imageIds: emb.imageIds,
          data: emb.data,
          n: emb.imageIds.length,
          d: emb.dim,
          key: `${run.finishedAt ?? ''}|${fingerprint(emb.imageIds, emb.data)}`
        }
        const file = mapCacheFile(runDirOf(this.ctx, run.id), method, 'dataset')
        const res =
          readMapCache(file, rows, method) ?? (await this.project(job, run.id, file, rows, method))
        return { emb, res }
      }
    )
    const paths = this.paths.pathsOf(datasetId)
    return buildMapPayload({
      runId: run.id,
      method,
      scope: 'dataset',
      imageIds: emb.imageIds,
      classIds: emb.classIds,
      split: emb.split,
      coords: res.coords,
      fitted: res.fitted,
      hitOf: (id) => hits.get(id) ?? null,
      pathOf: (id) => paths.get(id) ?? ''
    })
  }

  /** Projects in the worker, reporting UMAP epochs as the job's progress. */
  private project(
    job: JobHandle,
    runId: number,
    file: string,
    rows: MapRows,
    method: ProjectionMethod
  ): Promise<ProjectionResult> {
    const what = `Map of run ${runId}: ${method === 'umap' ? 'UMAP' : 'PCA'} of ${rows.n.toLocaleString('en')} images`
    job.progress(0, 1, what)
    return projectAndCache(
      file,
      rows,
      method,
      (done, total) => job.progress(done, total, `${what}, epoch ${done} of ${total}`),
      this.opts.umapFitLimit
    )
  }

  /** The R@1 outcome of each test query of the run, by image id. */
  private async hits(run: RunInfo): Promise<Map<number, boolean>> {
    const records = await this.store.queryRecords(run)
    return new Map(records.map((r) => [r.imageId, r.correctAt1]))
  }

  /** Runs `fn` as an 'embed' job of the run (progress events) and resolves with its result. */
  private inJob<T>(run: RunInfo, message: string, fn: (job: JobHandle) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.ctx.jobs.start(
        'embed',
        message,
        async (job) => {
          try {
            resolve(await fn(job))
          } catch (err) {
            reject(err)
            throw err
          }
        },
        run.id
      )
    })
  }
}

/** Refuses dataset embeddings whose columns disagree (a clear error, not a garbled map). */
function checkEmbeddings(runId: number, e: DatasetEmbeddings): void {
  const n = e.imageIds.length
  if (
    e.classIds.length !== n ||
    e.split.length !== n ||
    !(e.dim > 0) ||
    e.data.length !== n * e.dim
  ) {
    throw new Error(
      `the dataset embeddings of run ${runId} are inconsistent: ${n} ids, ${e.classIds.length} classes, ${e.split.length} splits, ${e.data.length} values of dim ${e.dim}`
    )
  }
  if (n === 0) throw new ConflictError(`run ${runId}'s dataset has no images to map`)
}
