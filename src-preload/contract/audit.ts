/**
 * Auditing a dataset through a run's embeddings: images whose nearest neighbours mostly carry
 * another label (label-mistake candidates) and near-duplicate pairs, flagging pairs that cross
 * the train/test split (leaks into evaluation).
 */
import { z } from 'zod'
import { Id, type ImageRef } from './common'
import type { ServiceOf } from './define'

/** An image of the audited dataset with the split it belongs to. */
export interface AuditImage extends ImageRef {
  split: 'train' | 'test'
}

/** A neighbour of a candidate. */
export interface AuditNeighbourDto {
  image: AuditImage
  similarity: number
}

/** An image whose label its neighbourhood disputes. */
export interface MislabelCandidateDto {
  image: AuditImage
  /** Similarity-weighted share of the judged neighbours whose class differs (0..1). */
  score: number
  /** The class most of the disagreeing neighbours carry. */
  dominantClassId: number
  dominantClassName: string
  /** Its similarity-weighted share of the judged neighbours (0..1). */
  dominantShare: number
  /** Neighbours judged: min(k, the image's class size − 1). */
  judged: number
  /** The k nearest neighbours, best first. */
  neighbours: AuditNeighbourDto[]
}

/** Two images with (almost) the same embedding. */
export interface DuplicatePairDto {
  a: AuditImage
  b: AuditImage
  similarity: number
  /** One image is in the training split, the other in the test split. */
  leak: boolean
  sameClass: boolean
}

/** The audit of one run's dataset. */
export interface AuditReport {
  runId: number
  datasetId: number
  /** Images audited (train and test) and the embedding size. */
  images: number
  dim: number
  k: number
  threshold: number
  minScore: number
  /** Candidates with a score ≥ minScore (all of them), and the first `limit`. */
  mislabelTotal: number
  mislabels: MislabelCandidateDto[]
  /** Pairs with similarity ≥ threshold, how many cross train/test, and the first `limit` (leaks first). */
  duplicateTotal: number
  leakTotal: number
  duplicates: DuplicatePairDto[]
  /** More pairs reach the threshold than are kept (raise it); leakTotal counts the kept ones. */
  duplicatesTruncated: boolean
  /** Seconds for loading the embeddings and for the neighbour scan. */
  loadSeconds: number
  scanSeconds: number
}

export const AUDIT_DEFAULTS = { k: 10, threshold: 0.95, minScore: 0.5, limit: 50 } as const

export const auditSchemas = {
  report: z.object({
    runId: Id,
    /** Neighbours per image for the label check. */
    k: z.number().int().min(1).max(50).default(AUDIT_DEFAULTS.k),
    /** Cosine similarity (of the centred embeddings) from which two images are near duplicates. */
    threshold: z.number().min(0.5).max(1).default(AUDIT_DEFAULTS.threshold),
    /** Minimum disagreeing share of a mislabel candidate. */
    minScore: z.number().min(0).max(1).default(AUDIT_DEFAULTS.minScore),
    /** Entries returned per list. */
    limit: z.number().int().min(1).max(1000).default(AUDIT_DEFAULTS.limit)
  })
} as const

/** The payload of `audit.report` (defaults optional). */
export type AuditReportRequest = z.input<(typeof auditSchemas)['report']>

/** The audit service: payloads from `auditSchemas`, results named here (see define.ts). */
export type AuditService = ServiceOf<typeof auditSchemas, { report: AuditReport }>
