/**
 * Galleries beyond the test split: a run's train split or its whole dataset, searched with the
 * evaluation's engine (RetrievalIndex) over the run's dataset embeddings. The first use embeds
 * the train images as a background job ('embed', progress in `job` events, cancellable); the
 * embeddings are then cached in the run folder (datasetEmbeddings.ts) and the last two runs'
 * galleries in memory.
 */
import { statSync } from 'node:fs'
import type { ImageRef } from '../../src-preload/contract/common'
import type { GalleryClass, GalleryScope } from '../../src-preload/contract/retrieval'
import { NotFoundError, UnavailableError } from '../../src-preload/contract/errors'
import type { AppContext } from '../app/context'
import { CancelledError } from '../app/jobs'
import { RetrievalIndex } from '../ml/eval'
import {
  datasetEmbeddingRows,
  datasetEmbeddingsCached,
  loadDatasetEmbeddings,
  TRAIN,
  type DatasetEmbeddings,
  type DatasetEmbeddingsOptions
} from './datasetEmbeddings'
import type { GalleryMeta, LoadedGallery } from './galleries'
import { galleryFileOf } from './galleryIo'
import type { RetrievalRepo, RunInfo } from './repo'
import { Lru } from './lru'

/** A gallery other than the test split. */
export type DatasetScope = Exclude<GalleryScope, 'test'>

/** Words for a gallery scope, in messages. */
export const SCOPE_WORDS: Record<GalleryScope, string> = {
  test: 'the test split',
  train: 'the train split',
  all: 'the whole dataset'
}

interface Entry {
  key: string
  emb: DatasetEmbeddings
  refs: ImageRef[]
  views: Partial<Record<DatasetScope, LoadedGallery>>
}

/** One row list with the ImageRef and class ordinal of each row. */
interface RowRefs {
  imageIds: Int32Array
  split: Uint8Array
  refs: ImageRef[]
  ordinals: number[]
}

/** Loads, caches and prepares the train-split and whole-dataset galleries of runs. */
export class DatasetGalleryStore {
  private entries = new Lru<number, Entry>(2)
  /** The row lists of recent runs (SQL only), so that paging and searching the list is cheap. */
  private rowLists = new Lru<number, { key: string; rows: RowRefs }>(4)
  private inflight = new Map<number, { key: string; jobId: string; promise: Promise<Entry> }>()

  constructor(
    private ctx: AppContext,
    private repo: RetrievalRepo,
    private loadModel?: DatasetEmbeddingsOptions['loadModel']
  ) {}

  /**
   * What changes when the run is evaluated again or its dataset gains or loses images (the file
   * cache checks the rows themselves).
   */
  private key(run: RunInfo): string {
    let stamp = 'missing'
    try {
      const st = statSync(galleryFileOf(this.ctx, run.id))
      stamp = `${st.size}:${st.mtimeMs}`
    } catch {
      // The dataset embeddings loader reports the missing gallery file.
    }
    const images = run.datasetId === null ? '' : this.repo.imageCount(run.datasetId)
    return `${run.finishedAt ?? ''}|${stamp}|${images}`
  }

  private hit(run: RunInfo): Entry | null {
    const e = this.entries.get(run.id)
    return e && e.key === this.key(run) ? e : null
  }

  private async load(run: RunInfo, opts: DatasetEmbeddingsOptions): Promise<Entry> {
    const key = this.key(run)
    const emb = await loadDatasetEmbeddings(this.ctx, run.id, {
      ...opts,
      loadModel: this.loadModel
    })
    const refs = this.rowRefs(run, emb).refs
    const entry: Entry = { key, emb, refs, views: {} }
    this.entries.set(run.id, entry)
    return entry
  }

  /** Starts embedding the run's dataset as a job (or joins the running one). */
  private start(run: RunInfo): { jobId: string; promise: Promise<Entry> } {
    const key = this.key(run)
    const running = this.inflight.get(run.id)
    if (running && running.key === key) return running
    let settle!: { ok: (e: Entry) => void; fail: (err: unknown) => void }
    const promise = new Promise<Entry>((ok, fail) => (settle = { ok, fail }))
    // A prepare call alone never awaits it: a failure is reported by the job, not as unhandled.
    promise.catch(() => {})
    const message = `Embedding the dataset of run ${run.id} ("${run.name}") with its model`
    const jobId = this.ctx.jobs.start('embed', message, async (job) => {
      try {
        const entry = await this.load(run, {
          signal: job.signal,
          onProgress: (done, total) =>
            job.progress(done, total, `${message}: ${done} of ${total} images`)
        })
        settle.ok(entry)
        return { targetId: run.id }
      } catch (err) {
        settle.fail(err)
        throw err
      } finally {
        if (this.inflight.get(run.id)?.promise === promise) this.inflight.delete(run.id)
      }
    })
    const started = { key, jobId, promise }
    this.inflight.set(run.id, started)
    return started
  }

  /**
   * Makes the run's train/whole galleries ready: null when they are (in memory, or the cache
   * file is valid and now read), else the id of the embedding job.
   */
  async prepare(run: RunInfo): Promise<string | null> {
    if (this.hit(run)) return null
    const running = this.inflight.get(run.id)
    if (running && running.key === this.key(run)) return running.jobId
    if (datasetEmbeddingsCached(this.ctx, run.id)) {
      await this.load(run, {})
      return null
    }
    return this.start(run).jobId
  }

  /** The run's gallery for `scope`, embedding the dataset first when needed (as a job). */
  async gallery(run: RunInfo, scope: DatasetScope): Promise<LoadedGallery> {
    let entry = this.hit(run)
    if (!entry) {
      try {
        entry = datasetEmbeddingsCached(this.ctx, run.id)
          ? await this.load(run, {})
          : await this.start(run).promise
      } catch (err) {
        if (err instanceof CancelledError)
          throw new UnavailableError(
            `embedding the dataset of run ${run.id} was cancelled; search ${SCOPE_WORDS[scope]} again to restart it`
          )
        throw err
      }
    }
    return this.view(run, entry, scope)
  }

  private view(run: RunInfo, entry: Entry, scope: DatasetScope): LoadedGallery {
    const cached = entry.views[scope]
    if (cached) return cached
    const { emb } = entry
    const rows: number[] = []
    for (let r = 0; r < emb.imageIds.length; r++)
      if (scope === 'all' || emb.split[r] === TRAIN) rows.push(r)
    if (rows.length === 0)
      throw new UnavailableError(`${SCOPE_WORDS[scope]} of run ${run.id} has no images`)
    const d = emb.dim
    let data: Float32Array
    if (rows.length === emb.imageIds.length) data = emb.data
    else {
      data = new Float32Array(rows.length * d)
      rows.forEach((r, t) => data.set(emb.data.subarray(r * d, (r + 1) * d), t * d))
    }
    const imageIds = Int32Array.from(rows, (r) => emb.imageIds[r])
    const classIds = Int32Array.from(rows, (r) => emb.classIds[r])
    const meta: GalleryMeta = {
      runId: run.id,
      imageIds,
      classIds,
      refs: rows.map((r) => entry.refs[r]),
      rowOf: new Map([...imageIds].map((id, t) => [id, t]))
    }
    const index = new RetrievalIndex(data, rows.length, d, { labels: classIds, normalized: true })
    const loaded: LoadedGallery = { meta, index, file: '', fileKey: entry.key }
    entry.views[scope] = loaded
    return loaded
  }

  /** The ImageRef of each row of the run's dataset rows (rows from SQL; no embedding needed). */
  private rowRefs(run: RunInfo, rows: Pick<DatasetEmbeddings, 'imageIds' | 'split'>): RowRefs {
    if (run.datasetId === null)
      throw new UnavailableError(`the dataset of run ${run.id} ("${run.datasetName}") was removed`)
    const byId = this.repo.datasetRefs(run.datasetId)
    const refs: ImageRef[] = []
    const ordinals: number[] = []
    for (const id of rows.imageIds) {
      const hit = byId.get(id)
      if (!hit)
        throw new UnavailableError(`image ${id} of run ${run.id} is no longer in the database`)
      refs.push(hit.ref)
      ordinals.push(hit.ordinal)
    }
    return { imageIds: rows.imageIds, split: rows.split, refs, ordinals }
  }

  /** The rows of a scope with their refs, without embeddings (for lists and class counts). */
  private scopeRows(run: RunInfo, scope: DatasetScope): { refs: ImageRef[]; ordinals: number[] } {
    // Valid while the run's evaluation and its dataset's image count stay the same.
    const key = this.key(run)
    let all = this.rowLists.get(run.id)?.key === key ? this.rowLists.get(run.id)!.rows : null
    if (!all) {
      all = this.rowRefs(run, datasetEmbeddingRows(this.ctx, run.id))
      this.rowLists.set(run.id, { key, rows: all })
    }
    const refs: ImageRef[] = []
    const ordinals: number[] = []
    all.refs.forEach((ref, r) => {
      if (scope === 'all' || all.split[r] === TRAIN) {
        refs.push(ref)
        ordinals.push(all.ordinals[r])
      }
    })
    return { refs, ordinals }
  }

  /** A page of a scope's images in class order, filtered like the test list (class or path). */
  images(
    run: RunInfo,
    scope: DatasetScope,
    search: string | undefined,
    offset: number,
    limit: number
  ): { total: number; images: ImageRef[] } {
    const { refs, ordinals } = this.scopeRows(run, scope)
    const needle = search?.trim().toLowerCase() ?? ''
    const order = refs
      .map((ref, t) => ({ ref, ordinal: ordinals[t] }))
      .filter(
        ({ ref }) =>
          !needle ||
          ref.className.toLowerCase().includes(needle) ||
          ref.relPath.toLowerCase().includes(needle)
      )
      .sort(
        (a, b) =>
          a.ordinal - b.ordinal ||
          cmp(a.ref.className, b.ref.className) ||
          cmp(a.ref.relPath, b.ref.relPath) ||
          a.ref.id - b.ref.id
      )
    return { total: order.length, images: order.slice(offset, offset + limit).map((o) => o.ref) }
  }

  /** The classes of a scope with their image counts, in class order. */
  classes(run: RunInfo, scope: DatasetScope): GalleryClass[] {
    const { refs, ordinals } = this.scopeRows(run, scope)
    return classCounts(refs, ordinals)
  }

  /** Run ids whose dataset galleries are in memory (for tests). */
  loadedRuns(): number[] {
    return this.entries.keys()
  }

  /** Drops every cached gallery; running jobs go on and cache their result on disk. */
  clear(): void {
    this.entries.clear()
    this.rowLists.clear()
  }
}

/** Byte order, as SQLite compares text (the test list's ORDER BY). */
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** Image counts per class in class order (ordinal, then name). */
export function classCounts(refs: ImageRef[], ordinals: number[]): GalleryClass[] {
  const acc = new Map<number, GalleryClass & { ordinal: number }>()
  refs.forEach((ref, t) => {
    const a = acc.get(ref.classId)
    if (a) a.count++
    else
      acc.set(ref.classId, {
        classId: ref.classId,
        className: ref.className,
        count: 1,
        ordinal: ordinals[t]
      })
  })
  return [...acc.values()]
    .sort((a, b) => a.ordinal - b.ordinal || cmp(a.className, b.className) || a.classId - b.classId)
    .map(({ classId, className, count }) => ({ classId, className, count }))
}

/** The gallery row of an image, or a not-found error naming the gallery and the run. */
export function rowInGallery(meta: GalleryMeta, imageId: number, scope: GalleryScope): number {
  const row = meta.rowOf.get(imageId)
  if (row === undefined) {
    throw new NotFoundError(
      `image ${imageId} is not in ${SCOPE_WORDS[scope]} of run ${meta.runId}` +
        (scope === 'all' ? '' : '; search the whole dataset to rank any of its images')
    )
  }
  return row
}
