/**
 * Seeded k-means (Lloyd) with k-means++ initialisation and restarts, for the NMI metric. Distances
 * come from the same block similarity engine as the evaluation (‖x‖² + ‖c‖² − 2x·c), so the cost
 * of one pass is one n×k×d matrix product.
 *
 * At SOP scale (k ≈ 11k clusters, n ≈ 60k) one pass is 3.5e11 multiply-adds, so the work is
 * bounded by `budget`: first the restarts drop to 1, then the fit uses a random subsample and
 * fewer iterations; every such cut is described in `notes`. All points are always assigned to
 * the final centres.
 */
import {
  allocSims,
  getEngine,
  releaseEngineCaches,
  type EngineChoice,
  type SimEngine
} from './engine'
import { mulberry32 } from '../util/rng'

/** Options of `kmeans`. */
export interface KMeansOptions {
  /** Number of clusters. */
  k: number
  /** PRNG seed; the same seed and input give the same clustering. */
  seed?: number
  /** Restarts (best inertia wins); default 3. */
  nInit?: number
  /** Lloyd iterations per restart; default 100. */
  maxIter?: number
  /** Stop when the centre shift² ≤ tol × mean feature variance (scikit-learn's rule); default 1e-4. */
  tol?: number
  /** Multiply-add budget of the whole fit; default 2e12 with the native kernel, 2e10 in pure JS. */
  budget?: number
  /** Similarity engine (float32). */
  engine?: EngineChoice | SimEngine
}

/** Result of `kmeans`. */
export interface KMeansResult {
  /** Cluster of each of the n points. */
  labels: Int32Array
  /** k×d centres of the best restart. */
  centers: Float32Array
  /** Sum of squared distances of all points to their centre. */
  inertia: number
  /** Lloyd iterations of the best restart. */
  iterations: number
  /** Restarts actually run. */
  restarts: number
  /** Points used to fit the centres (n unless subsampled). */
  fitPoints: number
  /** Iteration cap actually used. */
  maxIter: number
  /** Human-readable notes about budget cuts (empty when none). */
  notes: string[]
}

function rowNorms(x: Float32Array, n: number, d: number): Float64Array {
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    let s = 0
    const o = i * d
    for (let k = 0; k < d; k++) s += x[o + k] * x[o + k]
    out[i] = s
  }
  return out
}

/** Assigns every row of x to its nearest centre; returns the inertia. */
function assign(
  engine: SimEngine,
  x: Float32Array,
  xx: Float64Array,
  n: number,
  d: number,
  c: Float32Array,
  k: number,
  labels: Int32Array,
  dist: Float64Array
): number {
  const cc = rowNorms(c, k, d)
  const rows = Math.max(1, Math.min(256, Math.floor((32 << 20) / (4 * k))))
  const s = allocSims(engine, rows * k)
  let inertia = 0
  for (let i0 = 0; i0 < n; i0 += rows) {
    const i1 = Math.min(n, i0 + rows)
    engine.sims(x.subarray(i0 * d, i1 * d), i1 - i0, c, k, d, s)
    for (let i = i0; i < i1; i++) {
      const o = (i - i0) * k
      let best = 0
      let bd = Infinity
      for (let j = 0; j < k; j++) {
        const dj = cc[j] - 2 * s[o + j]
        if (dj < bd) {
          bd = dj
          best = j
        }
      }
      const dd = Math.max(0, xx[i] + bd)
      labels[i] = best
      dist[i] = dd
      inertia += dd
    }
  }
  // The centres change in place between calls (see SimEngine.sims).
  releaseEngineCaches()
  return inertia
}

/**
 * k-means++ (D² sampling) on the rows of x. With `batch` > 1, `batch` centres are drawn (without
 * replacement, ∝ D²) before D² is updated with one matrix product: the exact method is k
 * memory-bound matrix-vector passes, which at SOP scale (k ≈ 11k) takes minutes; batches of 32
 * run at matrix-product speed and seed nearly as well when k is that large.
 */
function kmeansPlusPlus(
  engine: SimEngine,
  x: Float32Array,
  xx: Float64Array,
  n: number,
  d: number,
  k: number,
  rand: () => number,
  batch: number
): Float32Array {
  const centers = new Float32Array(k * d)
  const d2 = new Float64Array(n).fill(Infinity)
  const s = allocSims(engine, Math.min(batch, k) * n)
  const chosen = new Uint8Array(n)
  const picks: number[] = []
  let c = 0
  while (c < k) {
    const b = c === 0 ? 1 : Math.min(batch, k - c)
    picks.length = 0
    let total = 0
    for (let i = 0; i < n; i++) if (!chosen[i]) total += d2[i]
    for (let t = 0; t < b; t++) {
      let pick = -1
      if (c > 0 && total > 0 && Number.isFinite(total)) {
        let r = rand() * total
        for (let i = 0; i < n; i++) {
          if (chosen[i]) continue
          r -= d2[i]
          if (r < 0) {
            pick = i
            break
          }
        }
      }
      // The first centre, rounding, or only duplicates left: a uniformly random free point.
      if (pick < 0) {
        const free: number[] = []
        for (let i = 0; i < n; i++) if (!chosen[i]) free.push(i)
        pick = free.length > 0 ? free[Math.floor(rand() * free.length)] : Math.floor(rand() * n)
      }
      chosen[pick] = 1
      total -= d2[pick]
      picks.push(pick)
      centers.set(x.subarray(pick * d, (pick + 1) * d), (c + t) * d)
    }
    c += b
    if (c === k) break
    const cb = centers.subarray((c - b) * d, c * d)
    engine.sims(cb, b, x, n, d, s)
    for (let t = 0; t < b; t++) {
      const cc = xx[picks[t]]
      const o = t * n
      for (let i = 0; i < n; i++) {
        const di = Math.max(0, xx[i] + cc - 2 * s[o + i])
        if (di < d2[i]) d2[i] = di
      }
    }
  }
  releaseEngineCaches()
  return centers
}

function lloyd(
  engine: SimEngine,
  x: Float32Array,
  xx: Float64Array,
  n: number,
  d: number,
  k: number,
  centers: Float32Array,
  maxIter: number,
  tolAbs: number
): { iterations: number } {
  const labels = new Int32Array(n)
  const dist = new Float64Array(n)
  const sums = new Float64Array(k * d)
  const counts = new Int32Array(k)
  let iterations = 0
  for (let it = 0; it < maxIter; it++) {
    assign(engine, x, xx, n, d, centers, k, labels, dist)
    sums.fill(0)
    counts.fill(0)
    for (let i = 0; i < n; i++) {
      const c = labels[i]
      counts[c]++
      const o = i * d
      const co = c * d
      for (let f = 0; f < d; f++) sums[co + f] += x[o + f]
    }
    // Empty clusters take the points farthest from their centres (as scikit-learn does).
    const empty: number[] = []
    for (let c = 0; c < k; c++) if (counts[c] === 0) empty.push(c)
    if (empty.length > 0) {
      const far = Array.from({ length: n }, (_, i) => i).sort((a, b) => dist[b] - dist[a] || a - b)
      empty.forEach((c, t) => {
        const i = far[t]
        const old = labels[i]
        counts[old]--
        for (let f = 0; f < d; f++) {
          sums[old * d + f] -= x[i * d + f]
          sums[c * d + f] = x[i * d + f]
        }
        counts[c] = 1
        labels[i] = c
      })
    }
    let shift = 0
    for (let c = 0; c < k; c++) {
      if (counts[c] === 0) continue
      for (let f = 0; f < d; f++) {
        const v = Math.fround(sums[c * d + f] / counts[c])
        const delta = v - centers[c * d + f]
        shift += delta * delta
        centers[c * d + f] = v
      }
    }
    iterations = it + 1
    if (shift <= tolAbs) break
  }
  return { iterations }
}

function meanVariance(x: Float32Array, n: number, d: number): number {
  let total = 0
  for (let f = 0; f < d; f++) {
    let m = 0
    for (let i = 0; i < n; i++) m += x[i * d + f]
    m /= n
    let v = 0
    for (let i = 0; i < n; i++) {
      const t = x[i * d + f] - m
      v += t * t
    }
    total += v / n
  }
  return total / d
}

/** Clusters the n rows of `data` (n×d float32) into k clusters; deterministic for a seed. */
export function kmeans(
  data: Float32Array,
  n: number,
  d: number,
  opts: KMeansOptions
): KMeansResult {
  const k = opts.k
  if (!Number.isInteger(k) || k < 1 || k > n) throw new RangeError(`k must be in 1..${n}, got ${k}`)
  const engine =
    typeof opts.engine === 'object' ? opts.engine : getEngine('float32', opts.engine ?? 'auto')
  const budget = opts.budget ?? (engine.name.startsWith('native') ? 2e12 : 2e10)
  let nInit = Math.max(1, opts.nInit ?? 3)
  let maxIter = Math.max(1, opts.maxIter ?? 100)
  const notes: string[] = []
  // Exact k-means++ is k memory-bound matrix-vector passes (~20× slower per multiply-add than a
  // Lloyd pass, measured); when that alone would exceed the budget the seeding is batched.
  const batch = 20 * n * k * d > budget ? 32 : 1
  const INIT = batch > 1 ? 2 : 20
  const cost = (m: number, inits: number, iters: number) =>
    inits * m * k * d * (iters + INIT) + n * k * d
  let m = n
  if (batch > 1)
    notes.push(`k-means++ seeding draws ${batch} centres per distance update (speed at large k)`)
  if (cost(n, nInit, maxIter) > budget && nInit > 1) {
    notes.push(
      `k-means restarts cut from ${nInit} to 1 (budget ${budget.toExponential(1)} multiply-adds)`
    )
    nInit = 1
  }
  if (cost(n, 1, maxIter) > budget) {
    m = Math.min(n, Math.max(2 * k, Math.floor(budget / (k * d * (maxIter + INIT)))))
    const iters = Math.max(1, Math.min(maxIter, Math.floor(budget / (m * k * d)) - INIT))
    if (m < n)
      notes.push(
        `k-means fitted on a random subsample of ${m} of ${n} points; every point assigned to the final centres`
      )
    if (iters < maxIter) notes.push(`k-means iterations capped at ${iters} (of ${maxIter})`)
    maxIter = iters
  }
  const seed = opts.seed ?? 0
  const sampleRand = mulberry32(seed ^ 0x5bd1e995)
  let fit = data
  if (m < n) {
    // Partial Fisher–Yates: a seeded sample of m distinct rows.
    const perm = Int32Array.from({ length: n }, (_, i) => i)
    for (let i = 0; i < m; i++) {
      const j = i + Math.floor(sampleRand() * (n - i))
      const t = perm[i]
      perm[i] = perm[j]
      perm[j] = t
    }
    const rows = perm.subarray(0, m).sort()
    fit = new Float32Array(m * d)
    rows.forEach((r, t) => fit.set(data.subarray(r * d, (r + 1) * d), t * d))
  }
  const xx = rowNorms(fit, m, d)
  const tolAbs = (opts.tol ?? 1e-4) * meanVariance(fit, m, d)
  let best: { centers: Float32Array; inertia: number; iterations: number } | null = null
  for (let r = 0; r < nInit; r++) {
    const rand = mulberry32((seed + 0x9e3779b9 * (r + 1)) >>> 0)
    const centers = kmeansPlusPlus(engine, fit, xx, m, d, k, rand, batch)
    const { iterations } = lloyd(engine, fit, xx, m, d, k, centers, maxIter, tolAbs)
    const labels = new Int32Array(m)
    const dist = new Float64Array(m)
    const inertia = assign(engine, fit, xx, m, d, centers, k, labels, dist)
    if (!best || inertia < best.inertia) best = { centers, inertia, iterations }
  }
  const labels = new Int32Array(n)
  const dist = new Float64Array(n)
  const inertia = assign(engine, data, rowNorms(data, n, d), n, d, best!.centers, k, labels, dist)
  return {
    labels,
    centers: best!.centers,
    inertia,
    iterations: best!.iterations,
    restarts: nInit,
    fitPoints: m,
    maxIter,
    notes
  }
}
