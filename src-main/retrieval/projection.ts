/**
 * 2-D projections of a gallery's embeddings for the embedding map: PCA (exact, deterministic)
 * and UMAP (umap-js with a seeded random source). Pure functions over a row-major Float32Array;
 * projectionJob.ts picks one (and samples for large UMAP maps) inside the projection worker.
 */
import { UMAP } from 'umap-js'
import { l2NormalizeRows } from '../ml/eval/engine'
import { knn } from '../ml/eval/knn'
import { mulberry32 } from '../ml/util/rng'

/** Projection methods the embedding map offers. */
export type ProjectionMethod = 'pca' | 'umap'

/** Options of `pca2`. */
export interface PcaOptions {
  /** Force the d×d covariance or the n×n Gram matrix; by default the smaller one is used. */
  path?: 'covariance' | 'gram'
  /** Most subspace iterations. */
  maxIter?: number
  /** Relative residual ‖Mv − λv‖ / λ₁ under which the top two eigenpairs count as converged. */
  tol?: number
}

/** The result of `pca2`: interleaved (x, y) scores per row, the two axes and their variances. */
export interface PcaResult {
  coords: Float64Array
  /** Principal axes in input space (length d each), unit length, sign fixed. */
  axes: [Float64Array, Float64Array]
  /** Variance along each axis (eigenvalues of the covariance, divided by n). */
  variances: [number, number]
}

/**
 * Eigen-decomposition of a small symmetric p×p matrix (row-major) by cyclic Jacobi rotations.
 * Returns eigenvalues in descending order and the matching eigenvectors as columns of `vectors`.
 */
export function jacobiEigen(
  a: Float64Array,
  p: number
): { values: Float64Array; vectors: Float64Array } {
  const A = Float64Array.from(a)
  const V = new Float64Array(p * p)
  for (let i = 0; i < p; i++) V[i * p + i] = 1
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0
    let diag = 0
    for (let i = 0; i < p; i++) {
      diag += A[i * p + i] * A[i * p + i]
      for (let j = i + 1; j < p; j++) off += A[i * p + j] * A[i * p + j]
    }
    if (off <= 1e-30 * Math.max(diag, 1e-300)) break
    for (let i = 0; i < p; i++) {
      for (let j = i + 1; j < p; j++) {
        const aij = A[i * p + j]
        if (aij === 0) continue
        const theta = (A[j * p + j] - A[i * p + i]) / (2 * aij)
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1))
        const c = 1 / Math.sqrt(t * t + 1)
        const s = t * c
        for (let k = 0; k < p; k++) {
          const aki = A[k * p + i]
          const akj = A[k * p + j]
          A[k * p + i] = c * aki - s * akj
          A[k * p + j] = s * aki + c * akj
        }
        for (let k = 0; k < p; k++) {
          const aik = A[i * p + k]
          const ajk = A[j * p + k]
          A[i * p + k] = c * aik - s * ajk
          A[j * p + k] = s * aik + c * ajk
        }
        for (let k = 0; k < p; k++) {
          const vki = V[k * p + i]
          const vkj = V[k * p + j]
          V[k * p + i] = c * vki - s * vkj
          V[k * p + j] = s * vki + c * vkj
        }
      }
    }
  }
  const order = Array.from({ length: p }, (_, i) => i).sort(
    (x, y) => A[y * p + y] - A[x * p + x] || x - y
  )
  const values = new Float64Array(p)
  const vectors = new Float64Array(p * p)
  order.forEach((src, dst) => {
    values[dst] = A[src * p + src]
    for (let k = 0; k < p; k++) vectors[k * p + dst] = V[k * p + src]
  })
  return { values, vectors }
}

/** Orthonormalises the p columns of Q (m×p, column-major), replacing collapsed columns. */
function orthonormalise(Q: Float64Array, m: number, p: number): void {
  for (let j = 0; j < p; j++) {
    const col = Q.subarray(j * m, (j + 1) * m)
    for (let attempt = 0; attempt < 3; attempt++) {
      // Two passes of modified Gram-Schmidt keep the basis orthogonal to machine precision.
      for (let pass = 0; pass < 2; pass++) {
        for (let k = 0; k < j; k++) {
          const prev = Q.subarray(k * m, (k + 1) * m)
          let dot = 0
          for (let i = 0; i < m; i++) dot += col[i] * prev[i]
          for (let i = 0; i < m; i++) col[i] -= dot * prev[i]
        }
      }
      let norm = 0
      for (let i = 0; i < m; i++) norm += col[i] * col[i]
      norm = Math.sqrt(norm)
      if (norm > 1e-200) {
        for (let i = 0; i < m; i++) col[i] /= norm
        break
      }
      // The column collapsed (rank-deficient matrix): restart it from a unit vector.
      col.fill(0)
      col[(j + attempt) % m] = 1
    }
  }
}

/** Z = M·Q for a symmetric m×m M and p column-major vectors: one pass over M per call. */
function multiplyBlock(
  M: Float64Array,
  m: number,
  Q: Float64Array,
  p: number,
  Z: Float64Array
): void {
  const acc = new Float64Array(p)
  for (let a = 0; a < m; a++) {
    acc.fill(0)
    const base = a * m
    for (let b = 0; b < m; b++) {
      const v = M[base + b]
      if (v === 0) continue
      for (let j = 0; j < p; j++) acc[j] += v * Q[j * m + b]
    }
    for (let j = 0; j < p; j++) Z[j * m + a] = acc[j]
  }
}

/**
 * Top-2 eigenvectors of a symmetric PSD m×m matrix by block subspace iteration with a
 * Rayleigh-Ritz step each iteration. A fixed start and iteration cap keep the result
 * deterministic even when λ2 ≈ λ3 (then any axis in that plane is as good).
 */
function topEigen(
  M: Float64Array,
  m: number,
  maxIter: number,
  tol: number
): { values: number[]; vectors: Float64Array[] } {
  // Oversampling (8 vectors for the top 2) makes the convergence rate λ9/λ2 instead of λ3/λ2.
  const p = Math.min(m, 8)
  const rand = mulberry32(0x5eed)
  let Q = new Float64Array(m * p)
  for (let i = 0; i < Q.length; i++) Q[i] = rand() - 0.5
  orthonormalise(Q, m, p)
  const Z = new Float64Array(m * p)
  let values: Float64Array = new Float64Array(p)
  let ritz = new Float64Array(m * p)
  for (let it = 0; it < maxIter; it++) {
    multiplyBlock(M, m, Q, p, Z)
    const T = new Float64Array(p * p)
    for (let a = 0; a < p; a++) {
      for (let b = a; b < p; b++) {
        let s = 0
        for (let i = 0; i < m; i++) s += Q[a * m + i] * Z[b * m + i]
        T[a * p + b] = s
        T[b * p + a] = s
      }
    }
    const eig = jacobiEigen(T, p)
    values = eig.values
    // Ritz vectors Q·W and their images Z·W.
    ritz = new Float64Array(m * p)
    const zr = new Float64Array(m * p)
    for (let c = 0; c < p; c++) {
      for (let k = 0; k < p; k++) {
        const w = eig.vectors[k * p + c]
        if (w === 0) continue
        for (let i = 0; i < m; i++) {
          ritz[c * m + i] += w * Q[k * m + i]
          zr[c * m + i] += w * Z[k * m + i]
        }
      }
    }
    let worst = 0
    for (let c = 0; c < Math.min(2, p); c++) {
      let r = 0
      for (let i = 0; i < m; i++) {
        const e = zr[c * m + i] - values[c] * ritz[c * m + i]
        r += e * e
      }
      worst = Math.max(worst, Math.sqrt(r))
    }
    const scale = Math.max(Math.abs(values[0]), 1e-300)
    if (worst <= tol * scale || values[0] <= 1e-300) break
    Q = zr
    orthonormalise(Q, m, p)
  }
  const vectors: Float64Array[] = []
  for (let c = 0; c < 2; c++)
    vectors.push(c < p ? ritz.slice(c * m, (c + 1) * m) : new Float64Array(m))
  return { values: [values[0] ?? 0, p > 1 ? values[1] : 0], vectors }
}

/**
 * R·Rᵀ for a row-major r×c Float64 matrix R (r×r, symmetric), four dot products at a time over
 * contiguous rows. With R = Xcᵀ this is the d×d scatter matrix, with R = Xc the n×n Gram matrix.
 */
function selfGram(R: Float64Array, r: number, c: number): Float64Array {
  const G = new Float64Array(r * r)
  for (let a = 0; a < r; a++) {
    const ao = a * c
    let b = a
    for (; b + 4 <= r; b += 4) {
      const b0 = b * c
      const b1 = b0 + c
      const b2 = b1 + c
      const b3 = b2 + c
      let s0 = 0
      let s1 = 0
      let s2 = 0
      let s3 = 0
      for (let i = 0; i < c; i++) {
        const x = R[ao + i]
        s0 += x * R[b0 + i]
        s1 += x * R[b1 + i]
        s2 += x * R[b2 + i]
        s3 += x * R[b3 + i]
      }
      G[a * r + b] = G[b * r + a] = s0
      G[a * r + b + 1] = G[(b + 1) * r + a] = s1
      G[a * r + b + 2] = G[(b + 2) * r + a] = s2
      G[a * r + b + 3] = G[(b + 3) * r + a] = s3
    }
    for (; b < r; b++) {
      const bo = b * c
      let s0 = 0
      for (let i = 0; i < c; i++) s0 += R[ao + i] * R[bo + i]
      G[a * r + b] = G[b * r + a] = s0
    }
  }
  return G
}

/** Flips `v` so that its largest-magnitude entry (the first such) is positive. */
function fixSign(v: Float64Array): void {
  let best = 0
  for (let i = 1; i < v.length; i++) if (Math.abs(v[i]) > Math.abs(v[best]) + 1e-12) best = i
  if (v[best] < 0) for (let i = 0; i < v.length; i++) v[i] = -v[i]
}

/**
 * PCA to two dimensions in Float64. The eigenproblem is solved on the d×d covariance or on the
 * n×n Gram matrix of the centred rows, whichever is smaller; both give the same axes. Each axis's
 * sign is fixed (largest-magnitude loading positive), so the result is deterministic and does
 * not depend on the row order.
 */
export function pca2(data: Float32Array, n: number, d: number, opts: PcaOptions = {}): PcaResult {
  if (data.length !== n * d)
    throw new Error(`pca2: data has ${data.length} values, expected ${n}×${d}`)
  const maxIter = opts.maxIter ?? 300
  const tol = opts.tol ?? 1e-9
  const mean = new Float64Array(d)
  for (let i = 0; i < n; i++) for (let f = 0; f < d; f++) mean[f] += data[i * d + f]
  for (let f = 0; f < d; f++) mean[f] /= Math.max(n, 1)
  const row = new Float64Array(d)
  const centred = (i: number, out: Float64Array): Float64Array => {
    const o = i * d
    for (let f = 0; f < d; f++) out[f] = data[o + f] - mean[f]
    return out
  }
  if (n < 2 || d < 1) {
    return {
      coords: new Float64Array(n * 2),
      axes: [new Float64Array(d), new Float64Array(d)],
      variances: [0, 0]
    }
  }
  const path = opts.path ?? (d <= n ? 'covariance' : 'gram')
  let axes: Float64Array[]
  let values: number[]
  if (path === 'covariance') {
    // Centred data transposed (d×n), so that each scatter entry is a contiguous dot product.
    const T = new Float64Array(d * n)
    for (let i = 0; i < n; i++) for (let f = 0; f < d; f++) T[f * n + i] = data[i * d + f] - mean[f]
    const res = topEigen(selfGram(T, d, n), d, maxIter, tol)
    axes = res.vectors
    values = res.values
  } else {
    const X = new Float64Array(n * d)
    for (let i = 0; i < n; i++) for (let f = 0; f < d; f++) X[i * d + f] = data[i * d + f] - mean[f]
    const res = topEigen(selfGram(X, n, d), n, maxIter, tol)
    // Axis v = Xcᵀu / ‖Xcᵀu‖ turns a Gram eigenvector into the covariance one.
    axes = res.vectors.map((u) => {
      const v = new Float64Array(d)
      for (let i = 0; i < n; i++) {
        if (u[i] === 0) continue
        for (let f = 0; f < d; f++) v[f] += u[i] * X[i * d + f]
      }
      let norm = 0
      for (let f = 0; f < d; f++) norm += v[f] * v[f]
      norm = Math.sqrt(norm)
      if (norm > 1e-200) for (let f = 0; f < d; f++) v[f] /= norm
      else v.fill(0)
      return v
    })
    values = res.values
  }
  for (const v of axes) fixSign(v)
  const coords = new Float64Array(n * 2)
  for (let i = 0; i < n; i++) {
    centred(i, row)
    let x = 0
    let y = 0
    for (let f = 0; f < d; f++) {
      x += row[f] * axes[0][f]
      y += row[f] * axes[1][f]
    }
    coords[2 * i] = x
    coords[2 * i + 1] = y
  }
  return {
    coords,
    axes: [axes[0], axes[1]],
    variances: [Math.max(values[0], 0) / n, Math.max(values[1], 0) / n]
  }
}

/** Options of `umap2`. */
export interface UmapOptions {
  /** Seed of the random source; the same seed gives the same map. */
  seed?: number
  /** Neighbours of the fuzzy graph (capped at n − 1). */
  nNeighbors?: number
  /** Optimisation epochs; `umapEpochs(n)` when omitted. */
  nEpochs?: number
  /** Called with (epoch, total) during optimisation. */
  onProgress?: (epoch: number, total: number) => void
}

/**
 * Optimisation epochs by size: umap-learn's 500 for small sets, fewer for larger ones, where the
 * layout settles early and each epoch costs O(n·k) JavaScript work (2,500 points: about 8 s at 500).
 */
export function umapEpochs(n: number): number {
  return n <= 1000 ? 500 : n <= 10_000 ? 200 : 100
}

/** Fewest rows UMAP is run on; below this the map falls back to PCA. */
export const UMAP_MIN_ROWS = 5

/**
 * UMAP to two dimensions with umap-js over the cosine kNN graph, seeded (mulberry32) so that it
 * is reproducible. Below UMAP_MIN_ROWS rows the neighbour graph is meaningless and PCA is
 * returned instead.
 */
export function umap2(
  data: Float32Array,
  n: number,
  d: number,
  opts: UmapOptions = {}
): Float64Array {
  if (data.length !== n * d)
    throw new Error(`umap2: data has ${data.length} values, expected ${n}×${d}`)
  if (n < UMAP_MIN_ROWS) return pca2(data, n, d).coords
  const k = Math.max(2, Math.min(opts.nNeighbors ?? 15, n - 1))
  // The neighbour graph comes from the eval module's exact cosine kNN (the point itself first,
  // at distance 0, as umap-js's own search returns it): exact and much faster than umap-js's
  // NN-descent over number[][] rows, and it uses the metric retrieval ranks by.
  const unit = l2NormalizeRows(data, n, d)
  const nn = knn(unit, n, unit, n, d, k)
  const knnIndices: number[][] = new Array(n)
  const knnDistances: number[][] = new Array(n)
  for (let i = 0; i < n; i++) {
    const idx = Array.from(nn.indices.subarray(i * k, (i + 1) * k))
    const dist = Array.from(nn.sims.subarray(i * k, (i + 1) * k), (sim) => Math.max(0, 1 - sim))
    // Ties can put a duplicate image before the point itself; umap-js expects itself first.
    const self = idx.indexOf(i)
    if (self > 0) {
      idx.splice(self, 1)
      dist.splice(self, 1)
      idx.unshift(i)
      dist.unshift(0)
    } else if (self < 0) {
      idx.pop()
      dist.pop()
      idx.unshift(i)
      dist.unshift(0)
    } else {
      dist[0] = 0
    }
    knnIndices[i] = idx
    knnDistances[i] = dist
  }
  // With the kNN given, umap-js reads the rows only for their count.
  const rows: number[][] = Array.from({ length: n }, () => [])
  const umap = new UMAP({
    nComponents: 2,
    nNeighbors: k,
    nEpochs: opts.nEpochs ?? umapEpochs(n),
    random: mulberry32(opts.seed ?? 42)
  })
  umap.setPrecomputedKNN(knnIndices, knnDistances)
  const total = umap.initializeFit(rows)
  for (let e = 0; e < total; e++) {
    umap.step()
    if (opts.onProgress && (e % 25 === 0 || e === total - 1)) opts.onProgress(e + 1, total)
  }
  const emb = umap.getEmbedding()
  const coords = new Float64Array(n * 2)
  for (let i = 0; i < n; i++) {
    coords[2 * i] = Number.isFinite(emb[i][0]) ? emb[i][0] : 0
    coords[2 * i + 1] = Number.isFinite(emb[i][1]) ? emb[i][1] : 0
  }
  return coords
}
