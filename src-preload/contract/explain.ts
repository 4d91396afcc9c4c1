/**
 * Where the model looks: the cosine similarity of a query and a retrieved image decomposed over
 * the spatial positions of each image's backbone feature map (Zhu et al., "Visual Explanation
 * for Deep Metric Learning"), exactly, through the run's head; and one image's activation map.
 */
import { z } from 'zod'
import { Id } from './common'
import type { ServiceOf } from './define'

/** Contributions per position of an h×w grid (row-major), over the image as the model saw it. */
export interface PositionMapDto {
  h: number
  w: number
  values: number[]
}

export interface PairExplanation {
  runId: number
  queryImageId: number
  resultImageId: number
  /** Cosine similarity of the two embeddings; each map sums to it. */
  similarity: number
  query: PositionMapDto
  result: PositionMapDto
  /** Seconds the worker took (features + decomposition; the first call also loads the model). */
  seconds: number
}

export interface ActivationMap {
  runId: number
  imageId: number
  /** Contributions to the image's own embedding direction; sums to 1. */
  map: PositionMapDto
  seconds: number
}

export const explainSchemas = {
  pair: z.object({ runId: Id, queryImageId: Id, resultImageId: Id }),
  single: z.object({ runId: Id, imageId: Id })
} as const

/** The explain service: payloads from `explainSchemas`, results named here (see define.ts). */
export type ExplainService = ServiceOf<
  typeof explainSchemas,
  {
    pair: PairExplanation
    single: ActivationMap
  }
>
