/**
 * Normalised mutual information between two labelings, computed as scikit-learn's
 * normalized_mutual_info_score (natural logs, sparse contingency table, |mi| < eps → 0).
 */

/** How the two entropies are averaged into the normaliser. */
export type NmiAverage = 'geometric' | 'arithmetic' | 'min' | 'max'

function compact(labels: ArrayLike<number>): { idx: Int32Array; count: number } {
  const map = new Map<number, number>()
  const idx = new Int32Array(labels.length)
  for (let i = 0; i < labels.length; i++) {
    let v = map.get(labels[i])
    if (v === undefined) {
      v = map.size
      map.set(labels[i], v)
    }
    idx[i] = v
  }
  return { idx, count: map.size }
}

function entropy(counts: Float64Array, total: number): number {
  let nz = 0
  for (const c of counts) if (c > 0) nz++
  // scikit-learn returns 1.0 for a single cluster (its normaliser then never makes NMI 0/0).
  if (nz === 1) return 1
  let h = 0
  const lt = Math.log(total)
  for (const c of counts) if (c > 0) h -= (c / total) * (Math.log(c) - lt)
  return h
}

/** NMI(labelsTrue, labelsPred) in [0, 1]; `average` defaults to 'geometric' as in the HIST protocol. */
export function normalizedMutualInfo(
  labelsTrue: ArrayLike<number>,
  labelsPred: ArrayLike<number>,
  average: NmiAverage = 'geometric'
): number {
  const n = labelsTrue.length
  if (labelsPred.length !== n)
    throw new RangeError(`labelings differ in length: ${n} vs ${labelsPred.length}`)
  const a = compact(labelsTrue)
  const b = compact(labelsPred)
  if ((a.count === 1 && b.count === 1) || (a.count === 0 && b.count === 0)) return 1
  // Sparse contingency table keyed by (class, cluster).
  const cells = new Map<number, number>()
  const pi = new Float64Array(a.count)
  const pj = new Float64Array(b.count)
  for (let i = 0; i < n; i++) {
    const key = a.idx[i] * b.count + b.idx[i]
    cells.set(key, (cells.get(key) ?? 0) + 1)
    pi[a.idx[i]]++
    pj[b.idx[i]]++
  }
  let mi = 0
  if (a.count > 1 && b.count > 1) {
    const logN = Math.log(n)
    for (const [key, nij] of cells) {
      const i = Math.floor(key / b.count)
      const j = key - i * b.count
      const pnm = nij / n
      const term = pnm * (Math.log(nij) - logN) + pnm * (-Math.log(pi[i] * pj[j]) + logN + logN)
      mi += Math.abs(term) < Number.EPSILON ? 0 : term
    }
    if (mi < 0) mi = 0
  }
  if (mi === 0) return 0
  const hTrue = entropy(pi, n)
  const hPred = entropy(pj, n)
  let norm: number
  if (average === 'geometric') norm = Math.sqrt(hTrue * hPred)
  else if (average === 'arithmetic') norm = (hTrue + hPred) / 2
  else if (average === 'min') norm = Math.min(hTrue, hPred)
  else norm = Math.max(hTrue, hPred)
  return mi / norm
}
