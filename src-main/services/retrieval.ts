/**
 * The retrieval browser's and comparison's backend: nearest-neighbour queries over a run's test
 * split, train split or whole dataset (a gallery image or an external image embedded with the
 * run's model; optionally only some classes, ranked as in the whole gallery), the worst
 * queries, per-class Recall@1, run comparison, queries that flip between two runs, and the 2-D
 * embedding map. The heavy parts live in src-main/retrieval; this file wires them to the contract.
 */
import type {
  ClassRecall,
  Comparison,
  EmbeddingMap,
  FlippedQueries,
  GalleryScope,
  Neighbour,
  QueryResult,
  RetrievalService,
  WorstQuery
} from '../../src-preload/contract/retrieval'
import type { ImageRef } from '../../src-preload/contract/common'
import { compareRuns } from '../retrieval/compare'
import { loadQueryImage } from '../retrieval/decode'
import { invalidField, InvalidError, UnavailableError } from '../../src-preload/contract/errors'
import { GalleryStore, type GalleryMeta, type LoadedGallery } from '../retrieval/galleries'
import {
  classCounts,
  DatasetGalleryStore,
  rowInGallery,
  SCOPE_WORDS
} from '../retrieval/datasetGalleries'
import {
  loadDatasetEmbeddings,
  type DatasetEmbeddingsOptions
} from '../retrieval/datasetEmbeddings'
import { EmbeddingMaps, type DatasetEmbeddingsLoader } from '../retrieval/mapService'
import { ModelCache, type RunModel } from '../retrieval/models'
import { RetrievalRepo, type QueryRecord, type RunInfo } from '../retrieval/repo'
import type { AppContext } from '../app/context'
import { releaseEngineCaches } from '../ml/eval'

/** Options of createRetrievalService (tests inject a model loader). */
export interface RetrievalOptions {
  /** Loads a run's selected model for external queries; defaults to runs/inference. */
  loadRunModel?: (ctx: AppContext, runId: number) => Promise<RunModel>
  /** Most run models kept loaded for external queries. */
  maxModels?: number
  /** Loads a run's model to embed its train images (train/whole galleries); defaults to runs/inference. */
  loadDatasetModel?: DatasetEmbeddingsOptions['loadModel']
  /** Embeds a run's whole dataset for the dataset-wide map; defaults to retrieval/datasetEmbeddings. */
  loadDatasetEmbeddings?: DatasetEmbeddingsLoader
  /** Largest UMAP fit of a map before it samples (tests make it small). */
  umapFitLimit?: number
}

/** The retrieval service plus a dispose for shutdown (frees cached galleries and models). */
export type RetrievalServiceImpl = RetrievalService & {
  dispose(): void
  /** Run ids whose gallery embeddings are in memory, least recently used first. */
  loadedGalleries(): number[]
  /** Run ids whose train/whole-dataset galleries are in memory. */
  loadedDatasetGalleries(): number[]
}

async function defaultLoadRunModel(ctx: AppContext, runId: number): Promise<RunModel> {
  const mod = await import('../runs/inference')
  return mod.loadRunModel(ctx, runId)
}

/** Builds the retrieval service over the app context. */
export function createRetrievalService(
  ctx: AppContext,
  opts: RetrievalOptions = {}
): RetrievalServiceImpl {
  const repo = new RetrievalRepo(ctx.db)
  const store = new GalleryStore(ctx, repo)
  const datasetStore = new DatasetGalleryStore(ctx, repo, opts.loadDatasetModel)
  const load = opts.loadRunModel ?? defaultLoadRunModel
  // Keyed by run and finish time: a run trained or evaluated again gets its new model.
  const models = new ModelCache(async (key) => {
    const runId = Number(key.split('|')[0])
    try {
      return await load(ctx, runId)
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err)
      throw new UnavailableError(
        `the model of run ${runId} cannot be loaded for an image query: ${why}`
      )
    }
  }, opts.maxModels ?? 2)

  const maps = new EmbeddingMaps(ctx, repo, store, {
    loadDatasetEmbeddings: opts.loadDatasetEmbeddings ?? loadDatasetEmbeddings,
    umapFitLimit: opts.umapFitLimit
  })

  const refAt = (meta: GalleryMeta, row: number): ImageRef => meta.refs[row]

  /** The run's gallery of a scope (the train and whole-dataset ones may embed first, as a job). */
  const galleryOf = async (run: RunInfo, scope: GalleryScope): Promise<LoadedGallery> => {
    if (scope === 'test') return store.gallery(run)
    store.requireGallery(run)
    return datasetStore.gallery(run, scope)
  }

  /** keep[row] = 1 for rows of the chosen classes; a class not in the gallery is a 400. */
  const classMask = (g: LoadedGallery, classIds: number[], scope: GalleryScope): Uint8Array => {
    const want = new Set(classIds)
    const keep = new Uint8Array(g.meta.classIds.length)
    const seen = new Set<number>()
    g.meta.classIds.forEach((c, r) => {
      if (want.has(c)) {
        keep[r] = 1
        seen.add(c)
      }
    })
    const unknown = classIds.filter((c) => !seen.has(c))
    if (unknown.length) {
      throw invalidField(
        'classIds',
        `class${unknown.length > 1 ? 'es' : ''} ${unknown.join(', ')} ha${unknown.length > 1 ? 've' : 's'} no images in ${SCOPE_WORDS[scope]} of run ${g.meta.runId}`
      )
    }
    return keep
  }

  /** Query records indexed by image id. */
  const byImage = (records: QueryRecord[]): Map<number, QueryRecord> =>
    new Map(records.map((r) => [r.imageId, r]))

  return {
    /**
     * Top-K neighbours of a gallery image (itself excluded) by cosine similarity, and the images
     * of its class outside the top K (closest first). `ap` is the query's AP@R, the per-query
     * term of MAP@R (R = number of other gallery images of its class), computed from the gallery
     * with the evaluation's own engine so that it matches the run's MAP@R; null when R = 0.
     */
    async query(p) {
      const { runId, imageId, k, gallery, classIds } = p
      const run = repo.run(runId)
      const g = await galleryOf(run, gallery)
      const { meta, index } = g
      const row =
        gallery === 'test' ? store.rowOf(meta, imageId) : rowInGallery(meta, imageId, gallery)
      const keep = classIds ? classMask(g, classIds, gallery) : null
      const det = index.detail(row, k)
      // With a class filter: the top K of those classes, ranked as in the whole gallery.
      const hits = keep
        ? index.rankWithin(row, k, keep)
        : det.neighbours.map((h, i) => ({ ...h, rank: i }))
      return {
        query: refAt(meta, row),
        neighbours: hits.map((h) => ({
          rank: h.rank + 1,
          image: refAt(meta, h.index),
          similarity: h.similarity,
          correct: h.correct
        })),
        missed: det.missed.map((m) => ({
          image: refAt(meta, m.index),
          rank: m.rank + 1,
          similarity: m.similarity
        })),
        ap: det.apAtR
      } satisfies QueryResult
    },

    /**
     * Top-K gallery images for an external image (a file path or base64 bytes) embedded with the
     * run's selected model. No class is known, so `correct` is false, `missed` empty, `ap` null.
     */
    async queryExternal(p) {
      const input = p
      const run = repo.run(input.runId)
      const g = await galleryOf(run, input.gallery)
      const keep = input.classIds ? classMask(g, input.classIds, input.gallery) : null
      const image = await loadQueryImage({ path: input.path, dataBase64: input.dataBase64 })
      const key = `${run.id}|${run.finishedAt ?? ''}`
      const vec = await models.use(key, async (m) => {
        const out = await m.embed([image.bytes])
        if (out.length !== m.dim) {
          throw new Error(
            `the model of run ${run.id} returned ${out.length} values for one image, expected ${m.dim}`
          )
        }
        return out
      })
      if (vec.length !== g.index.d) {
        throw new UnavailableError(
          `the model of run ${run.id} gives ${vec.length}-d embeddings but its gallery has ${g.index.d}-d rows; evaluate the run again`
        )
      }
      if (!vec.every(Number.isFinite))
        throw new Error(`the model of run ${run.id} produced a non-finite embedding`)
      const hits = keep
        ? g.index.rankWithin(vec, input.k, keep)
        : g.index.search(vec, input.k).map((h, i) => ({ ...h, rank: i }))
      return {
        query: null,
        neighbours: hits.map((h): Neighbour => ({
          rank: h.rank + 1,
          image: refAt(g.meta, h.index),
          similarity: h.similarity,
          correct: false
        })),
        missed: [],
        ap: null
      } satisfies QueryResult
    },

    /**
     * The queries with the lowest AP (ties by image id), with their Recall@1 outcome. AP is the
     * run's stored per-query value (run_queries.ap, as the trainer recorded it), or AP@R when a
     * run has no stored rows and they are computed here.
     */
    async worst(p) {
      const { runId, limit } = p
      const run = repo.run(runId)
      const meta = store.meta(run)
      const records = (await store.queryRecords(run)).filter((r) => meta.rowOf.has(r.imageId))
      records.sort((a, b) => a.ap - b.ap || a.imageId - b.imageId)
      return records.slice(0, limit).map((r): WorstQuery => ({
        image: refAt(meta, meta.rowOf.get(r.imageId) as number),
        ap: r.ap,
        recallAt1: r.correctAt1
      }))
    },

    /**
     * A page of a gallery's images (default the test split) in class order, filtered by class
     * name or file path (case-insensitive). Needs no embeddings, so the list shows at once.
     */
    async testImages(p) {
      const { runId, gallery, search, offset, limit } = p
      const run = repo.run(runId)
      store.requireGallery(run)
      if (gallery !== 'test') return datasetStore.images(run, gallery, search, offset, limit)
      return repo.testImages(runId, search, offset, limit)
    },

    /** The classes of a gallery with their image counts, in class order. */
    async galleryClasses(p) {
      const { runId, gallery } = p
      const run = repo.run(runId)
      store.requireGallery(run)
      if (gallery !== 'test') return datasetStore.classes(run, gallery)
      const meta = store.meta(run)
      const ordinals = run.datasetId === null ? null : repo.classOrdinals(run.datasetId)
      return classCounts(
        meta.refs,
        meta.refs.map((r) => ordinals?.get(r.classId) ?? 0)
      )
    },

    /**
     * Makes a gallery ready: null when it is, else the id of the job embedding the run's dataset
     * (progress in `job` events; datasets.cancelJob stops it).
     */
    async prepareGallery(p) {
      const { runId, gallery } = p
      const run = repo.run(runId)
      store.requireGallery(run)
      if (gallery === 'test') return { jobId: null }
      return { jobId: await datasetStore.prepare(run) }
    },

    /** Recall@1 per test class over the run's queries, worst class first (ties by name). */
    async perClass(p) {
      const { runId } = p
      const run = repo.run(runId)
      const meta = store.meta(run)
      const acc = new Map<number, { name: string; hits: number; count: number }>()
      for (const r of await store.queryRecords(run)) {
        const row = meta.rowOf.get(r.imageId)
        if (row === undefined) continue
        const ref = meta.refs[row]
        const a = acc.get(ref.classId) ?? { name: ref.className, hits: 0, count: 0 }
        a.count++
        if (r.correctAt1) a.hits++
        acc.set(ref.classId, a)
      }
      const out: ClassRecall[] = [...acc].map(([classId, a]) => ({
        classId,
        className: a.name,
        recallAt1: a.hits / a.count,
        count: a.count
      }))
      return out.sort(
        (a, b) =>
          a.recallAt1 - b.recallAt1 ||
          a.className.localeCompare(b.className) ||
          a.classId - b.classId
      )
    },

    /** Config differences (flattened TrainConfig keys) and best metrics of 2–8 runs, in order. */
    async compare(p) {
      const { runIds } = p
      const runs = runIds.map((id) => repo.run(id))
      // Per-query results of the runs that have a test evaluation (intervals, paired gaps).
      const queries = new Map(
        runs.filter((r) => r.testMetrics).map((r) => [r.id, repo.queries(r.id)] as const)
      )
      return compareRuns(runs, queries) satisfies Comparison
    },

    /**
     * Queries right at R@1 in run A and wrong in run B, and the reverse. Both runs must have been
     * evaluated on the same test split (same dataset, same gallery images).
     */
    async flipped(p) {
      const { runA, runB } = p
      const a = repo.run(runA)
      const b = repo.run(runB)
      const metaA = store.meta(a)
      const metaB = store.meta(b)
      checkSameSplit(a, b, metaA, metaB)
      const recB = byImage(await store.queryRecords(b))
      const onlyA: ImageRef[] = []
      const onlyB: ImageRef[] = []
      const recA = [...(await store.queryRecords(a))].sort((x, y) => x.imageId - y.imageId)
      for (const ra of recA) {
        const rb = recB.get(ra.imageId)
        const row = metaA.rowOf.get(ra.imageId)
        if (!rb || row === undefined || ra.correctAt1 === rb.correctAt1) continue
        ;(ra.correctAt1 ? onlyA : onlyB).push(refAt(metaA, row))
      }
      return { onlyA, onlyB } satisfies FlippedQueries
    },

    /**
     * A 2-D map of the run's test gallery or whole dataset: PCA (exact, deterministic) or UMAP
     * (seeded), computed in a worker thread and cached in the run folder (retrieval/mapService.ts).
     */
    async embeddingMap(p): Promise<EmbeddingMap> {
      return maps.get(p.runId, p.method, p.scope)
    },

    loadedGalleries: () => store.loadedRuns(),
    loadedDatasetGalleries: () => datasetStore.loadedRuns(),

    dispose() {
      store.clear()
      datasetStore.clear()
      models.clear()
      // The tfjs similarity engine keeps the last searched gallery on the backend.
      releaseEngineCaches()
    }
  }
}

/** Throws a clear error unless two runs share a dataset and the same set of gallery images. */
function checkSameSplit(a: RunInfo, b: RunInfo, metaA: GalleryMeta, metaB: GalleryMeta): void {
  const why = `runs ${a.id} and ${b.id} cannot be compared query by query`
  if (a.datasetId === null || b.datasetId === null || a.datasetId !== b.datasetId) {
    throw new InvalidError(
      `${why}: run ${a.id} was evaluated on "${a.datasetName}" and run ${b.id} on "${b.datasetName}"`
    )
  }
  let onlyInA = 0
  for (const id of metaA.imageIds) if (!metaB.rowOf.has(id)) onlyInA++
  let onlyInB = 0
  for (const id of metaB.imageIds) if (!metaA.rowOf.has(id)) onlyInB++
  if (onlyInA > 0 || onlyInB > 0) {
    throw new InvalidError(
      `${why}: their test splits differ (${onlyInA} test images only in run ${a.id}, ${onlyInB} only in run ${b.id}); ` +
        'were they trained with different split settings?'
    )
  }
}
