/** Synthetic embeddings for map tests: `classes` well-separated clusters on the unit sphere. */
import { createRng } from '../ml/util/rng'

/** n rows of dimension d in `classes` clusters (row i in class i % classes), L2-normalised. */
export function clusteredRows(
  n: number,
  d: number,
  classes: number,
  seed = 5,
  noise = 0.15
): { data: Float32Array; labels: Int32Array } {
  const rng = createRng(seed)
  const centres = Array.from({ length: classes }, () =>
    Float64Array.from({ length: d }, () => rng.normal())
  )
  const data = new Float32Array(n * d)
  const labels = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    const c = i % classes
    labels[i] = c
    let norm = 0
    for (let f = 0; f < d; f++) {
      const v = centres[c][f] + noise * Math.sqrt(d) * rng.normal() * 0.1
      data[i * d + f] = v
      norm += v * v
    }
    norm = Math.sqrt(norm)
    for (let f = 0; f < d; f++) data[i * d + f] /= norm
  }
  return { data, labels }
}

/**
 * Share of points whose nearest class centroid in 2-D is their own class: near 1 when the map
 * keeps the clusters apart, near 1/classes for a random layout.
 */
export function centroidAccuracy(
  coords: Float64Array,
  labels: Int32Array,
  classes: number
): number {
  const n = labels.length
  const cx = new Float64Array(classes)
  const cy = new Float64Array(classes)
  const count = new Float64Array(classes)
  for (let i = 0; i < n; i++) {
    cx[labels[i]] += coords[2 * i]
    cy[labels[i]] += coords[2 * i + 1]
    count[labels[i]]++
  }
  for (let c = 0; c < classes; c++) {
    cx[c] /= Math.max(count[c], 1)
    cy[c] /= Math.max(count[c], 1)
  }
  let right = 0
  for (let i = 0; i < n; i++) {
    let best = 0
    let bestD = Infinity
    for (let c = 0; c < classes; c++) {
      const dd = (coords[2 * i] - cx[c]) ** 2 + (coords[2 * i + 1] - cy[c]) ** 2
      if (dd < bestD) {
        bestD = dd
        best = c
      }
    }
    if (best === labels[i]) right++
  }
  return right / n
}
