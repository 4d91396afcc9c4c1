import { z } from 'zod'
import { Id, type ImageRef } from './common'
import type { ServiceOf } from './define'

export interface Neighbour {
  rank: number
  image: ImageRef
  similarity: number
  /** Same class as the query. */
  correct: boolean
}

export interface QueryResult {
  query: ImageRef | null
  neighbours: Neighbour[]
  /** Ground-truth images of the query's class that are not in the top K. */
  missed: ImageRef[]
  /** Average precision of this query over its class (null for an external image). */
  ap: number | null
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
  }[]
}

export interface MapPoint {
  imageId: number
  classId: number
  x: number
  y: number
}

export const retrievalSchemas = {
  query: z.object({ runId: Id, imageId: Id, k: z.number().int().min(1).max(200).default(16) }),
  /** Embeds an image from disk (path) or dropped bytes (base64) with the run's model. */
  queryExternal: z
    .object({
      runId: Id,
      path: z.string().min(1).optional(),
      dataBase64: z.string().min(1).max(30_000_000).optional(),
      k: z.number().int().min(1).max(200).default(16)
    })
    .refine((v) => v.path !== undefined || v.dataBase64 !== undefined, {
      message: 'give either path or dataBase64',
      path: ['path']
    }),
  worst: z.object({ runId: Id, limit: z.number().int().min(1).max(500).default(20) }),
  testImages: z.object({
    runId: Id,
    search: z.string().max(200).optional(),
    offset: z.number().int().min(0).default(0),
    limit: z.number().int().min(1).max(2000).default(200)
  }),
  perClass: z.object({ runId: Id }),
  compare: z.object({ runIds: z.array(Id).min(2).max(8) }),
  flipped: z.object({ runA: Id, runB: Id }),
  embeddingMap: z.object({ runId: Id, method: z.enum(['pca', 'umap']).default('pca') })
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
    compare: Comparison
    flipped: FlippedQueries
    embeddingMap: MapPoint[]
  }
>
