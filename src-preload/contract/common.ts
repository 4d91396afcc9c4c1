/**
 * Shared primitives of the API contract. This folder is imported by main, preload and renderer:
 * it may import only `zod` and itself, never node, electron or DOM code (`contractRule` in
 * eslint.config.js enforces it; src-main/layers.test.ts shows it).
 */
import { z } from 'zod'

/** Positive integer id of a database row. */
export const Id = z.number().int().positive()

/** Payload of a method that takes no argument. */
export const NoInput = z.object({}).strict().optional()

/** A reference to one image, enough for the renderer to show it. */
export interface ImageRef {
  id: number
  datasetId: number
  classId: number
  className: string
  relPath: string
}

/** Progress of a long job, as sent in events and returned by status calls. */
export interface JobProgress {
  jobId: string
  kind: 'import' | 'validate' | 'train' | 'eval' | 'embed' | 'export' | 'probe' | 'audit'
  /** What the job is doing now, in words for a user. */
  message: string
  done: number
  total: number
  status: 'running' | 'completed' | 'failed' | 'cancelled'
  error?: string
  /** Id of the entity the job produced or works on (dataset id, run id). */
  targetId?: number
}

/** Recall@K cut-offs of the HIST protocol (CUB, Cars, Omniglot…): the one list, used everywhere. */
export const RECALL_KS: readonly number[] = [1, 2, 4, 8, 16, 32]
/** Recall@K cut-offs for Stanford Online Products (large-scale formats). */
export const RECALL_KS_SOP: readonly number[] = [1, 10, 100, 1000]
/** The Recall@K columns of the paper's tables (a prefix of RECALL_KS). */
export const RECALL_KS_TABLE: readonly number[] = RECALL_KS.slice(0, 4)

/** The split a metrics object was measured on. */
const MetricsSplitSchema = z.enum(['test', 'validation'])

/**
 * Recall@K and friends for one evaluation. Keys of `recall` are K as strings ("1", "2", ...).
 * The schema is what the trainer process's messages are validated with; the type follows it.
 */
export const MetricsSchema = z.object({
  recall: z.record(z.string(), z.number()),
  rPrecision: z.number(),
  mapAtR: z.number(),
  nmi: z.number().optional(),
  /** Queries left out because their class had no other member. */
  excludedQueries: z.number().optional(),
  /**
   * The split these metrics were measured on: 'test' (the held-out test classes) or
   * 'validation' (classes carved from training for model selection). Set on every metrics
   * object the API returns.
   */
  split: MetricsSplitSchema.optional()
})

/** Recall@K and friends for one evaluation (see MetricsSchema). */
export type Metrics = z.infer<typeof MetricsSchema>

/** The split a metrics object was measured on. */
export type MetricsSplit = z.infer<typeof MetricsSplitSchema>
