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
  /** The run's test Recall@1 (0–1), null when it has none. */
  testRecall1: number | null
  /** A plain note when the model is weak or flags much of the dataset (auditCaution), else null. */
  caution: string | null
}

/** Below this test R@1 a run's neighbours are too often wrong for its candidates to mean much. */
export const AUDIT_WEAK_R1 = 0.5
/** Candidates above this share of the audited images are more likely the model's errors. */
export const AUDIT_LARGE_SHARE = 0.1

/**
 * The note shown with an audit (Audit tab and `hist audit`) when the list says more about the
 * model than the labels: its test R@1 is low, or it flags a large share of the images. Scores
 * are unchanged; this only says how far to trust them.
 */
export function auditCaution(p: {
  testRecall1: number | null
  candidates: number
  images: number
}): string | null {
  const weak = p.testRecall1 !== null && p.testRecall1 < AUDIT_WEAK_R1
  const share = p.images > 0 ? p.candidates / p.images : 0
  const many = share > AUDIT_LARGE_SHARE
  if (!weak && !many) return null
  const why: string[] = []
  if (weak) why.push(`its test R@1 is ${(p.testRecall1! * 100).toFixed(1)} %`)
  if (many)
    why.push(
      `it flags ${p.candidates.toLocaleString('en-US')} of ${p.images.toLocaleString('en-US')} images (${(share * 100).toFixed(0)} %)`
    )
  return (
    `This list is only as good as the model: ${why.join(' and ')}. A candidate is an image the ` +
    "model places among another class's images, so where the model mixes classes it flags " +
    'correctly labelled images too. Train the model further (or audit a stronger run) before ' +
    'relabelling on its word.'
  )
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
