/**
 * Per-run gallery state, loaded once and cached: the row → image mapping from run_gallery (small,
 * kept for a few runs) and the embeddings file (large, at most two runs in memory). Entries are
 * keyed by what changes when a run is evaluated again (finish time, row count, file mtime/size),
 * so a re-evaluated run is reloaded instead of served stale.
 */
import { statSync } from 'node:fs'
import type { ImageRef } from '../../src-preload/contract/common'
import type { AppContext } from '../app/context'
import { NotFoundError, UnavailableError } from '../../src-preload/contract/errors'
import { galleryFileOf, readGalleryFile } from './galleryIo'
import { Lru } from './lru'
import type { QueryRecord, RetrievalRepo, RunInfo } from './repo'
import { evaluate, RetrievalIndex } from '../ml/eval'

/** The image side of a run's gallery (no embeddings). */
export interface GalleryMeta {
  runId: number
  /** Image id per gallery row. */
  imageIds: Int32Array
  /** Class id per gallery row. */
  classIds: Int32Array
  /** ImageRef per gallery row. */
  refs: ImageRef[]
  /** Gallery row of each image id. */
  rowOf: Map<number, number>
}

/** A run's gallery with its embeddings in memory. */
export interface LoadedGallery {
  meta: GalleryMeta
  /**
   * The eval module's search index over the L2-normalised rows, labelled by class id: the same
   * float32 engine and tie rule as the evaluation, so a query's detail agrees with its metrics.
   */
  index: RetrievalIndex
  /** The embeddings file and the stat values it was read with (the cache key). */
  file: string
  fileKey: string
  /** Per-query results computed from the embeddings (only for runs without run_queries rows). */
  computedQueries?: QueryRecord[]
}

/** Most galleries (embedding matrices) held in memory at once. */
export const MAX_GALLERIES = 2
/** Most gallery metadata entries (row → image maps) held at once. */
export const MAX_METAS = 8

/** Why a run has no gallery yet, in words for a user. */
function noGalleryMessage(run: RunInfo): string {
  const what = `run ${run.id} ("${run.name}")`
  switch (run.status) {
    case 'queued':
      return `${what} has not finished its test evaluation: it has not started yet`
    case 'running':
    case 'paused':
      return `${what} has not finished its test evaluation: it is still ${run.status}`
    case 'failed':
    case 'cancelled':
      return `${what} has not finished its test evaluation: it ${run.status === 'failed' ? 'failed' : 'was cancelled'} before it`
    default:
      return `${what} has not finished its test evaluation (no gallery embeddings recorded)`
  }
}

/** Loads and caches galleries for the retrieval service. */
export class GalleryStore {
  private metas = new Lru<number, { key: string; meta: GalleryMeta }>(MAX_METAS)
  private galleries = new Lru<number, LoadedGallery>(MAX_GALLERIES)

  constructor(
    private ctx: AppContext,
    private repo: RetrievalRepo
  ) {}

  /** Throws the "no test evaluation yet" error unless the run has gallery rows. */
  requireGallery(run: RunInfo): number {
    const n = this.repo.galleryCount(run.id)
    if (n === 0) throw new UnavailableError(noGalleryMessage(run))
    return n
  }

  /** The run's row → image mapping, from cache when the run did not change. */
  meta(run: RunInfo): GalleryMeta {
    const count = this.requireGallery(run)
    const key = `${run.finishedAt ?? ''}|${count}`
    const hit = this.metas.get(run.id)
    if (hit && hit.key === key) return hit.meta
    const { imageIds, refs } = this.repo.galleryRefs(run.id)
    const missing = refs.filter((r) => r === null).length
    if (missing > 0) {
      throw new UnavailableError(
        `${missing} of the ${refs.length} test images of run ${run.id} are no longer in the database ` +
          `(was the dataset "${run.datasetName}" removed or re-imported?)`
      )
    }
    const okRefs = refs as ImageRef[]
    const classIds = Int32Array.from(okRefs, (r) => r.classId)
    const meta: GalleryMeta = {
      runId: run.id,
      imageIds: Int32Array.from(imageIds),
      classIds,
      refs: okRefs,
      rowOf: new Map(imageIds.map((id, row) => [id, row]))
    }
    this.metas.set(run.id, { key, meta })
    return meta
  }

  /** The run's gallery with embeddings, loading the file at most once per change. */
  gallery(run: RunInfo): LoadedGallery {
    const meta = this.meta(run)
    const file = galleryFileOf(this.ctx, run.id)
    let st
    try {
      st = statSync(file)
    } catch {
      throw new UnavailableError(
        `the gallery embeddings of run ${run.id} are missing (expected ${file})`
      )
    }
    const fileKey = `${st.size}|${st.mtimeMs}`
    const hit = this.galleries.get(run.id)
    if (hit && hit.fileKey === fileKey && hit.meta === meta) return hit
    let read
    try {
      read = readGalleryFile(file)
    } catch (err) {
      throw new UnavailableError(
        `the gallery embeddings of run ${run.id} cannot be read: ${err instanceof Error ? err.message : String(err)}`
      )
    }
    if (read.n !== meta.imageIds.length) {
      throw new UnavailableError(
        `the gallery file of run ${run.id} has ${read.n} rows but the run lists ${meta.imageIds.length} test images`
      )
    }
    let index: RetrievalIndex
    try {
      // Normalised again on load (cheap): older or imported files need not be.
      index = new RetrievalIndex(read.data, read.n, read.d, { labels: meta.classIds })
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err)
      throw new UnavailableError(`the gallery embeddings of run ${run.id} are unusable: ${why}`)
    }
    const loaded: LoadedGallery = { meta, index, file, fileKey }
    this.galleries.set(run.id, loaded)
    return loaded
  }

  /** The gallery row of an image, or a not-found error saying the image is not in the run. */
  rowOf(meta: GalleryMeta, imageId: number): number {
    const row = meta.rowOf.get(imageId)
    if (row === undefined) {
      throw new NotFoundError(`image ${imageId} is not in the test gallery of run ${meta.runId}`)
    }
    return row
  }

  /**
   * Per-query results of the run: the stored run_queries rows, or (when a run has a gallery but
   * none were stored) computed once from the embeddings with the eval module (ap = AP@R) and
   * cached with the gallery. Queries whose class has no other member are left out.
   */
  async queryRecords(run: RunInfo): Promise<QueryRecord[]> {
    this.requireGallery(run)
    const stored = this.repo.queries(run.id)
    if (stored.length > 0) return stored
    const g = this.gallery(run)
    if (!g.computedQueries) {
      const { index, meta } = g
      const report = await evaluate(index.data, index.n, index.d, meta.classIds, {
        ks: [1],
        perQuery: true,
        normalized: true,
        precision: 'float32'
      })
      const pq = report.perQuery!
      const out: QueryRecord[] = []
      for (let t = 0; t < pq.index.length; t++) {
        if (Number.isNaN(pq.apAtR[t])) continue
        const imageId = meta.imageIds[pq.index[t]]
        out.push({ imageId, ap: pq.apAtR[t], correctAt1: pq.correctAt1[t] === 1 })
      }
      g.computedQueries = out
    }
    return g.computedQueries
  }

  /** Run ids whose embeddings are in memory, least recently used first (for tests). */
  loadedRuns(): number[] {
    return this.galleries.keys()
  }

  /** Drops every cached entry. */
  clear(): void {
    this.metas.clear()
    this.galleries.clear()
  }
}
