/**
 * Auditing a dataset through a run's embeddings: label-mistake candidates (images whose
 * neighbours mostly carry another label) and near-duplicate pairs (flagging train/test leaks).
 * Pure functions over an embedding matrix, labels and splits; the audit service feeds them the
 * run's embeddings of the whole dataset.
 *
 *   const r = await auditEmbeddings({ data, n, d, labels, split }, { k: 10, threshold: 0.95 })
 *   r.mislabels[0].row, .score, .dominantLabel, .neighbours;  r.duplicates[0].leak
 */
import { l2NormalizeRows } from '../ml/eval/engine'
import { duplicatePairs, type DuplicatePair } from './duplicates'
import { mislabelCandidates, type MislabelCandidate } from './mislabels'
import { scanNeighbours, type ScanOptions } from './scan'

export { duplicatePairs, SPLIT_TEST, SPLIT_TRAIN, type DuplicatePair } from './duplicates'
export { mislabelCandidates, type AuditNeighbour, type MislabelCandidate } from './mislabels'
export { scanNeighbours, SIM_EPS, type EmbeddingMatrix, type ScanResult } from './scan'

/** The embeddings of a dataset: rows × d, a label and a split (0 train, 1 test) per row. */
export interface AuditInput {
  data: Float32Array
  n: number
  d: number
  labels: ArrayLike<number>
  split: ArrayLike<number>
}

/** Options of `auditEmbeddings`. */
export interface AuditOptions extends Omit<ScanOptions, 'k' | 'threshold'> {
  /** Neighbours per image for the label check. */
  k: number
  /** Cosine similarity from which two images count as near duplicates. */
  threshold: number
  /** Minimum disagreeing share for a mislabel candidate (default 0.5). */
  minScore?: number
}

/** Both lists, complete (callers cut them for display). */
export interface AuditResult {
  mislabels: MislabelCandidate[]
  duplicates: DuplicatePair[]
  /** Pairs at or above the threshold, including those beyond `maxPairs`. */
  pairsTotal: number
}

/**
 * Rows L2-normalised, centred on their mean, and normalised again. Embeddings of a briefly
 * trained model often share one dominant direction (every cosine 0.99 or more), which hides
 * both neighbourhoods and duplicates; removing the mean keeps the ranking a retrieval model is
 * judged on for well-spread embeddings and restores contrast for the others. Exact copies stay
 * at similarity 1.
 */
export function centredRows(data: Float32Array, n: number, d: number): Float32Array {
  const unit = l2NormalizeRows(data, n, d)
  const mean = new Float64Array(d)
  for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) mean[t] += unit[i * d + t]
  for (let t = 0; t < d; t++) mean[t] /= Math.max(1, n)
  for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) unit[i * d + t] -= mean[t]
  return l2NormalizeRows(unit, n, d, unit)
}

/**
 * Mislabel candidates and near duplicates of one embedding matrix, by cosine similarity of the
 * centred rows (`centredRows`).
 */
export async function auditEmbeddings(input: AuditInput, opts: AuditOptions): Promise<AuditResult> {
  const { n, d } = input
  if (input.labels.length !== n || input.split.length !== n)
    throw new RangeError(
      `expected ${n} labels and splits, got ${input.labels.length} and ${input.split.length}`
    )
  if (input.data.length !== n * d)
    throw new RangeError(`expected ${n}×${d} values, got ${input.data.length}`)
  for (let i = 0; i < input.data.length; i++)
    if (!Number.isFinite(input.data[i]))
      throw new RangeError(`embedding row ${Math.floor(i / d)} is not finite`)
  const data = centredRows(input.data, n, d)
  const scan = await scanNeighbours({ data, n, d }, { ...opts, labels: input.labels })
  return {
    mislabels: mislabelCandidates(scan.knn, input.labels, {
      minScore: opts.minScore,
      sameLabelBest: scan.sameLabelBest
    }),
    duplicates: duplicatePairs(scan.pairs, input.labels, input.split),
    pairsTotal: scan.pairsTotal
  }
}
