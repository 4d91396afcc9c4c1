import { z } from 'zod'
import { Id, type ImageRef, type MetricsSplit } from './common'
import type { ServiceOf } from './define'

/**
 * The images a query is ranked against: the run's test split (the evaluation's gallery, the
 * default), its train split, or the whole dataset (both).
 */
export const GalleryScope = z.enum(['test', 'train', 'all'])
export type GalleryScope = z.infer<typeof GalleryScope>

export interface Neighbour {
  /** 1-based rank in the whole gallery ranking (also when a class filter hides others). */
  rank: number
  image: ImageRef
  similarity: number
  /** Same class as the query. */
  correct: boolean
}

export interface QueryResult {
  query: ImageRef | null
  neighbours: Neighbour[]
  /** Ground-truth images of the query's class that are not in the top K, best first. */
  missed: MissedImage[]
  /** Average precision of this query over its class (null for an external image). */
  ap: number | null
}

/** A ground-truth image outside the top K and where the ranking put it. */
export interface MissedImage {
  image: ImageRef
  /** 1-based rank in the gallery ranking (the query excluded). */
  rank: number
  similarity: number
}

/** A class of a gallery and how many of its images are in it. */
export interface GalleryClass {
  classId: number
  className: string
  count: number
}

export interface WorstQuery {
  image: ImageRef
  ap: number
  recallAt1: boolean
}

export interface FlippedQueries {
  /** Right (R@1) in run A and wrong in run B. */
  onlyA: ImageRef[]
  onlyB: ImageRef[]
}

export interface ClassRecall {
  classId: number
  className: string
  recallAt1: number
  count: number
}

export interface ConfigDiffRow {
  key: string
  values: unknown[]
  differs: boolean
}

/** A confidence interval of a mean (bootstrap percentile interval). */
export interface Interval {
  lo: number
  hi: number
}

/** A mean ± sample standard deviation over the runs of a seed group. */
export interface MeanSd {
  mean: number
  sd: number
}

export interface Comparison {
  runIds: number[]
  configRows: ConfigDiffRow[]
  /** Best metrics per run, keyed as in Metrics, in runIds order. */
  best: {
    runId: number
    epoch: number | null
    recall: Record<string, number>
    mapAtR: number | null
    rPrecision: number | null
    /**
     * The split of these metrics: 'test' (the final model or a stopped run's evaluated best
     * checkpoint) or 'validation' (a run without test metrics); never show validation figures
     * under a test label. null: the run has no metrics at all.
     */
    split: MetricsSplit | null
    testFrom: 'final' | 'best-checkpoint' | null
    seed: number | null
    /** Bootstrap intervals over the run's test queries; null without per-query results. */
    ci: { queries: number; r1: Interval; mapAtR: Interval } | null
  }[]
  /**
   * Paired bootstrap of the test R@1 and MAP@R differences (a − b) of every two runs tested on
   * the same queries; `significant` when the interval excludes 0.
   */
  differences: {
    runA: number
    runB: number
    metric: 'r1' | 'mapAtR'
    diff: number
    lo: number
    hi: number
    significant: boolean
  }[]
  /** Reference rows on the runs' test splits: the untrained model and the raw backbone features. */
  references: {
    kind: 'untrained' | 'raw'
    /** The run whose baseline this is (the first of the runs sharing it). */
    runId: number
    label: string
    r1: number | null
    mapAtR: number | null
    split: 'test'
  }[]
  /** Runs with the same config except the seed (and name): mean ± sd of their test metrics. */
  seedGroups: { runIds: number[]; seeds: number[]; r1: MeanSd; mapAtR: MeanSd }[]
  /** How the intervals were computed. */
  bootstrap: { resamples: number; level: number; seed: number }
}

/** Which images an embedding map shows: the run's test gallery or every image of its dataset. */
export type MapScope = 'test' | 'dataset'

/**
 * A run's embedding map as columns (one entry per point, same order in every column): compact on
 * the wire at 20k points, where an array of objects would repeat every key 20k times.
 */
export interface EmbeddingMap {
  runId: number
  method: 'pca' | 'umap'
  scope: MapScope
  imageIds: number[]
  classIds: number[]
  /** Coordinates scaled to integers 0..MAP_GRID (the projection's axes carry no meaning). */
  x: number[]
  y: number[]
  /** 0 = train split, 1 = test split. */
  split: number[]
  /** The point's own R@1 outcome as a test query: 1 hit, 0 miss, -1 not a query (train). */
  hit: number[]
  /** File paths, compacted: `dirs[dir[i]]` + '/' + `base[i]` ('' dir: no folder). */
  dirs: string[]
  dir: number[]
  base: string[]
  /**
   * UMAP over more rows than it can fit quickly is fitted on a seeded sample of `fitted` rows;
   * the others are placed among their nearest sampled neighbours. null: every row was fitted.
   */
  fitted: number | null
}

/** Resolution of the map's integer coordinates. */
export const MAP_GRID = 10_000

/** The file path of point i of a map (its folder and base name joined). */
export function mapPathAt(map: Pick<EmbeddingMap, 'dirs' | 'dir' | 'base'>, i: number): string {
  const folder = map.dirs[map.dir[i]]
  return folder ? `${folder}/${map.base[i]}` : map.base[i]
}

/** Only neighbours of these classes (the ranks stay those of the whole gallery). */
const ClassIds = z.array(Id).min(1).max(1000).optional()

export const retrievalSchemas = {
  query: z.object({
    runId: Id,
    imageId: Id,
    k: z.number().int().min(1).max(200).default(16),
    gallery: GalleryScope.default('test'),
    classIds: ClassIds
  }),
  /** Embeds an image from disk (path) or dropped bytes (base64) with the run's model. */
  queryExternal: z
    .object({
      runId: Id,
      path: z.string().min(1).optional(),
      dataBase64: z.string().min(1).max(30_000_000).optional(),
      k: z.number().int().min(1).max(200).default(16),
      gallery: GalleryScope.default('test'),
      classIds: ClassIds
    })
    .refine((v) => v.path !== undefined || v.dataBase64 !== undefined, {
      message: 'give either path or dataBase64',
      path: ['path']
    }),
  worst: z.object({ runId: Id, limit: z.number().int().min(1).max(500).default(20) }),
  /** A page of the images of a gallery (default the test split), the query candidates. */
  testImages: z.object({
    runId: Id,
    gallery: GalleryScope.default('test'),
    search: z.string().max(200).optional(),
    offset: z.number().int().min(0).default(0),
    limit: z.number().int().min(1).max(2000).default(200)
  }),
  perClass: z.object({ runId: Id }),
  /** The classes of a gallery with their image counts, in class order (the class filter). */
  galleryClasses: z.object({ runId: Id, gallery: GalleryScope.default('test') }),
  /**
   * Makes a gallery ready to query: the test split always is; the train split and the whole
   * dataset need every image embedded once (cached in the run folder). Starts that as a job
   * ('embed', progress in `job` events, cancel with datasets.cancelJob) and returns its id, or
   * null when the gallery is ready.
   */
  prepareGallery: z.object({ runId: Id, gallery: GalleryScope.default('test') }),
  compare: z.object({ runIds: z.array(Id).min(2).max(8) }),
  flipped: z.object({ runA: Id, runB: Id }),
  embeddingMap: z.strictObject({
    runId: Id,
    method: z.enum(['pca', 'umap']).default('pca'),
    scope: z.enum(['test', 'dataset']).default('test')
  })
} as const

/** The retrieval service: payloads from `retrievalSchemas`, results named here (see define.ts). */
export type RetrievalService = ServiceOf<
  typeof retrievalSchemas,
  {
    query: QueryResult
    queryExternal: QueryResult
    worst: WorstQuery[]
    testImages: { total: number; images: ImageRef[] }
    perClass: ClassRecall[]
    galleryClasses: GalleryClass[]
    prepareGallery: { jobId: string | null }
    compare: Comparison
    flipped: FlippedQueries
    embeddingMap: EmbeddingMap
  }
>
