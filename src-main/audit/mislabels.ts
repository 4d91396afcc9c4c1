/**
 * Label-mistake candidates: images whose nearest neighbours mostly carry another label. An image
 * filed under the wrong class usually sits among images of its true class, so the share of its
 * neighbours (weighted by similarity) that disagree with its label ranks it near the top.
 */
import type { KnnResult } from '../ml/eval/knn'

/** One neighbour of a candidate (a row of the matrix). */
export interface AuditNeighbour {
  row: number
  similarity: number
}

/** An image whose label its neighbourhood disputes. */
export interface MislabelCandidate {
  row: number
  /** Similarity-weighted share of the judged neighbours whose label differs (0..1). */
  score: number
  /** The most weighted other label among the judged neighbours. */
  dominantLabel: number
  /** Its similarity-weighted share (0..1). */
  dominantShare: number
  /** How many neighbours were judged: min(k, size of the image's class − 1). */
  judged: number
  /**
   * Mean similarity of the judged neighbours of the dominant class minus the image's highest
   * similarity to any image of its own label: > 0 when that class is closer than all of its
   * own (null without `sameLabelBest`). Orders candidates of equal score.
   */
  margin: number | null
  /** All k neighbours, best first. */
  neighbours: AuditNeighbour[]
}

/** Options of `mislabelCandidates`. */
export interface MislabelOptions {
  /** Candidates need a score of at least this (default 0.5: most of the neighbourhood). */
  minScore?: number
  /** Each row's highest similarity to another row of its label (from `scanNeighbours`). */
  sameLabelBest?: Float32Array | null
}

/**
 * Ranks the rows whose neighbours disagree with their label. A row is judged on its first
 * min(k, m − 1) neighbours, m being its class size, since a class of 3 cannot give an image more
 * than 2 agreeing neighbours; a class of one image cannot be judged and is skipped. Neighbours
 * weigh max(similarity, 0) (equal weights when all are ≤ 0). Ordered by score, then margin,
 * then the dominant class's share, then row.
 */
export function mislabelCandidates(
  knn: KnnResult,
  labels: ArrayLike<number>,
  opts: MislabelOptions = {}
): MislabelCandidate[] {
  const n = labels.length
  const { k, indices, sims } = knn
  if (indices.length !== n * k)
    throw new RangeError(`knn has ${indices.length / Math.max(1, k)} rows, labels ${n}`)
  const minScore = opts.minScore ?? 0.5
  const classSize = new Map<number, number>()
  for (let i = 0; i < n; i++) classSize.set(labels[i], (classSize.get(labels[i]) ?? 0) + 1)
  const out: MislabelCandidate[] = []
  const weightOf = new Map<number, number>()
  for (let i = 0; i < n; i++) {
    const judged = Math.min(k, (classSize.get(labels[i]) ?? 1) - 1)
    if (judged < 1) continue
    let total = 0
    let positive = 0
    for (let t = 0; t < judged; t++) positive += Math.max(0, sims[i * k + t] || 0)
    weightOf.clear()
    let got = 0
    for (let t = 0; t < judged; t++) {
      const j = indices[i * k + t]
      if (j < 0) break
      got++
      const w = positive > 0 ? Math.max(0, sims[i * k + t]) : 1
      total += w
      if (labels[j] !== labels[i]) weightOf.set(labels[j], (weightOf.get(labels[j]) ?? 0) + w)
    }
    if (got === 0 || total <= 0) continue
    let other = 0
    let dominantLabel = -1
    let dominant = -1
    for (const [label, w] of weightOf) {
      other += w
      if (w > dominant || (w === dominant && label < dominantLabel)) {
        dominant = w
        dominantLabel = label
      }
    }
    const score = other / total
    if (weightOf.size === 0 || score < minScore) continue
    let margin: number | null = null
    const own = opts.sameLabelBest?.[i]
    if (own !== undefined && Number.isFinite(own)) {
      let sum = 0
      let count = 0
      for (let t = 0; t < got; t++)
        if (labels[indices[i * k + t]] === dominantLabel) {
          sum += sims[i * k + t]
          count++
        }
      margin = sum / count - own
    }
    const neighbours: AuditNeighbour[] = []
    for (let t = 0; t < k; t++) {
      const j = indices[i * k + t]
      if (j >= 0) neighbours.push({ row: j, similarity: sims[i * k + t] })
    }
    out.push({
      row: i,
      score,
      dominantLabel,
      dominantShare: dominant / total,
      judged: got,
      margin,
      neighbours
    })
  }
  return out.sort(
    (a, b) =>
      b.score - a.score ||
      (b.margin ?? 0) - (a.margin ?? 0) ||
      b.dominantShare - a.dominantShare ||
      a.row - b.row
  )
}
