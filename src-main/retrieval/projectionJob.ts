/**
 * One projection job as the worker (or the in-thread fallback) runs it: PCA, UMAP, or — for more
 * rows than UMAP fits in reasonable time — UMAP fitted on a seeded sample with every other row
 * placed among its nearest sampled neighbours.
 */
import { l2NormalizeRows } from '../ml/eval/engine'
import { knn } from '../ml/eval/knn'
import { createRng } from '../ml/util/rng'
import { pca2, umap2, type ProjectionMethod } from './projection'

/** Most rows UMAP is fitted on; larger maps fit a sample of this many (20k rows: ~4× faster). */
export const UMAP_FIT_LIMIT = 5000
/** Sampled neighbours a row outside the UMAP sample is placed among. */
export const PLACE_NEIGHBOURS = 5

/** A projection's coordinates and how many rows UMAP was fitted on (null: all of them). */
export interface ProjectionResult {
  /** Interleaved (x, y) per row. */
  coords: Float64Array
  fitted: number | null
}

/** Options of `projectRows`. */
export interface ProjectOptions {
  seed?: number
  /** Largest UMAP fit; default UMAP_FIT_LIMIT. */
  fitLimit?: number
  /** Called with (done, total) while UMAP optimises. */
  onProgress?: (done: number, total: number) => void
}

/** `count` distinct indices of [0, n), seeded, in increasing order. */
export function sampleIndices(n: number, count: number, seed: number): Int32Array {
  const rng = createRng(seed)
  const all = Int32Array.from({ length: n }, (_, i) => i)
  // A partial Fisher–Yates: the first `count` slots end up a uniform sample.
  for (let i = 0; i < count; i++) {
    const j = i + rng.int(n - i)
    const t = all[i]
    all[i] = all[j]
    all[j] = t
  }
  return all.subarray(0, count).sort()
}

/**
 * UMAP fitted on `fitLimit` sampled rows; every other row is placed at the similarity-weighted
 * mean of its PLACE_NEIGHBOURS nearest sampled rows (cosine), the usual cheap out-of-sample step.
 */
export function umapSampled(
  data: Float32Array,
  n: number,
  d: number,
  fitLimit: number,
  opts: ProjectOptions = {}
): ProjectionResult {
  const sample = sampleIndices(n, fitLimit, opts.seed ?? 42)
  const inSample = new Uint8Array(n)
  const fitRows = new Float32Array(fitLimit * d)
  sample.forEach((row, s) => {
    inSample[row] = 1
    fitRows.set(data.subarray(row * d, (row + 1) * d), s * d)
  })
  const fit = umap2(fitRows, fitLimit, d, { seed: opts.seed, onProgress: opts.onProgress })
  const coords = new Float64Array(n * 2)
  sample.forEach((row, s) => {
    coords[2 * row] = fit[2 * s]
    coords[2 * row + 1] = fit[2 * s + 1]
  })
  const rest: number[] = []
  for (let i = 0; i < n; i++) if (!inSample[i]) rest.push(i)
  if (rest.length === 0) return { coords, fitted: fitLimit }
  const restRows = new Float32Array(rest.length * d)
  rest.forEach((row, r) => restRows.set(data.subarray(row * d, (row + 1) * d), r * d))
  const k = Math.min(PLACE_NEIGHBOURS, fitLimit)
  const nn = knn(
    l2NormalizeRows(restRows, rest.length, d),
    rest.length,
    l2NormalizeRows(fitRows, fitLimit, d),
    fitLimit,
    d,
    k
  )
  rest.forEach((row, r) => {
    let x = 0
    let y = 0
    let wsum = 0
    for (let j = 0; j < nn.k; j++) {
      const s = nn.indices[r * nn.k + j]
      if (s < 0) continue
      // Closer neighbours weigh more; a small floor keeps opposite-facing rows defined.
      const w = Math.max(nn.sims[r * nn.k + j], 0) + 1e-3
      x += w * fit[2 * s]
      y += w * fit[2 * s + 1]
      wsum += w
    }
    coords[2 * row] = wsum > 0 ? x / wsum : 0
    coords[2 * row + 1] = wsum > 0 ? y / wsum : 0
  })
  return { coords, fitted: fitLimit }
}

/** Runs the chosen projection; the single entry point of the worker and of the in-thread path. */
export function projectRows(
  method: ProjectionMethod,
  data: Float32Array,
  n: number,
  d: number,
  opts: ProjectOptions = {}
): ProjectionResult {
  if (data.length < n * d)
    throw new Error(`projection: data has ${data.length} values, expected ${n}×${d}`)
  const rows = data.length === n * d ? data : data.subarray(0, n * d)
  if (method === 'pca') return { coords: pca2(rows, n, d).coords, fitted: null }
  const limit = opts.fitLimit ?? UMAP_FIT_LIMIT
  if (n > limit) return umapSampled(rows, n, d, limit, opts)
  return {
    coords: umap2(rows, n, d, { seed: opts.seed, onProgress: opts.onProgress }),
    fitted: null
  }
}
