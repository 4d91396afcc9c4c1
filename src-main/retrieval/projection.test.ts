import { describe, expect, it } from 'vitest'
import { mulberry32 } from '../ml/util/rng'
import { jacobiEigen, pca2, umap2 } from './projection'

/** Rows = 10·a·u + 3·b·w + 0.1·noise, plus an offset: u is the dominant direction, w the second. */
function synthetic(n: number, d: number, seed = 7) {
  const r = mulberry32(seed)
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())
  const u = new Float64Array(d)
  const w = new Float64Array(d)
  for (let f = 0; f < d; f++) u[f] = gauss()
  for (let f = 0; f < d; f++) w[f] = gauss()
  const norm = (v: Float64Array) => {
    const s = Math.hypot(...v)
    for (let f = 0; f < d; f++) v[f] /= s
  }
  norm(u)
  let dot = 0
  for (let f = 0; f < d; f++) dot += u[f] * w[f]
  for (let f = 0; f < d; f++) w[f] -= dot * u[f]
  norm(w)
  const data = new Float32Array(n * d)
  for (let i = 0; i < n; i++) {
    const a = gauss()
    const b = gauss()
    for (let f = 0; f < d; f++) data[i * d + f] = 5 + 10 * a * u[f] + 3 * b * w[f] + 0.1 * gauss()
  }
  return { data, u, w }
}

const cos = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < a.length; i++) {
    s += a[i] * b[i]
    na += a[i] * a[i]
    nb += b[i] * b[i]
  }
  return s / Math.sqrt(na * nb)
}

describe('jacobiEigen', () => {
  it('diagonalises a symmetric matrix (A v = λ v), eigenvalues descending', () => {
    const A = Float64Array.from([4, 1, 2, 1, 3, 0.5, 2, 0.5, 1])
    const { values, vectors } = jacobiEigen(A, 3)
    expect(values[0]).toBeGreaterThanOrEqual(values[1])
    expect(values[1]).toBeGreaterThanOrEqual(values[2])
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < 3; i++) {
        let av = 0
        for (let k = 0; k < 3; k++) av += A[i * 3 + k] * vectors[k * 3 + c]
        expect(av).toBeCloseTo(values[c] * vectors[i * 3 + c], 10)
      }
    }
  })
})

describe('pca2', () => {
  it('finds the known dominant and second directions, with their variances', () => {
    const n = 400
    const d = 24
    const { data, u, w } = synthetic(n, d)
    const res = pca2(data, n, d)
    expect(Math.abs(cos(res.axes[0], u))).toBeGreaterThan(0.9999)
    expect(Math.abs(cos(res.axes[1], w))).toBeGreaterThan(0.999)
    // The scores' variances are the eigenvalues; roughly 100 and 9 by construction.
    expect(res.variances[0]).toBeGreaterThan(60)
    expect(res.variances[0]).toBeLessThan(140)
    expect(res.variances[1]).toBeGreaterThan(5)
    expect(res.variances[1]).toBeLessThan(14)
    let vx = 0
    let mx = 0
    for (let i = 0; i < n; i++) mx += res.coords[2 * i] / n
    for (let i = 0; i < n; i++) vx += (res.coords[2 * i] - mx) ** 2 / n
    expect(mx).toBeCloseTo(0, 6)
    expect(vx).toBeCloseTo(res.variances[0], 6)
  })

  it('matches a naive full eigen-decomposition of the covariance', () => {
    const n = 60
    const d = 6
    const r = mulberry32(3)
    const data = new Float32Array(n * d).map((_, i) => r() * (1 + (i % d)))
    const mean = new Float64Array(d)
    for (let i = 0; i < n; i++) for (let f = 0; f < d; f++) mean[f] += data[i * d + f] / n
    const C = new Float64Array(d * d)
    for (let i = 0; i < n; i++)
      for (let a = 0; a < d; a++)
        for (let b = 0; b < d; b++)
          C[a * d + b] += ((data[i * d + a] - mean[a]) * (data[i * d + b] - mean[b])) / n
    const ref = jacobiEigen(C, d)
    const res = pca2(data, n, d)
    expect(res.variances[0]).toBeCloseTo(ref.values[0], 8)
    expect(res.variances[1]).toBeCloseTo(ref.values[1], 8)
    for (let c = 0; c < 2; c++) {
      const refCol = Array.from({ length: d }, (_, k) => ref.vectors[k * d + c])
      expect(Math.abs(cos(res.axes[c], refCol))).toBeGreaterThan(1 - 1e-9)
    }
  })

  it('gives the same axes through the Gram and covariance paths (n < d case)', () => {
    const n = 30
    const d = 50
    const { data } = synthetic(n, d, 11)
    const a = pca2(data, n, d, { path: 'covariance' })
    const b = pca2(data, n, d, { path: 'gram' })
    for (let i = 0; i < n * 2; i++) expect(b.coords[i]).toBeCloseTo(a.coords[i], 6)
  })

  it('is deterministic and independent of row order (sign fixed)', () => {
    const n = 100
    const d = 10
    const { data } = synthetic(n, d, 5)
    const perm = Array.from({ length: n }, (_, i) => (i * 37) % n)
    const shuffled = new Float32Array(n * d)
    perm.forEach((src, dst) => shuffled.set(data.subarray(src * d, (src + 1) * d), dst * d))
    const a = pca2(data, n, d)
    const b = pca2(shuffled, n, d)
    perm.forEach((src, dst) => {
      expect(b.coords[2 * dst]).toBeCloseTo(a.coords[2 * src], 8)
      expect(b.coords[2 * dst + 1]).toBeCloseTo(a.coords[2 * src + 1], 8)
    })
    // Negating the data flips the scores' sign relation to the data but not the axes' convention.
    for (const axis of a.axes) {
      let best = 0
      for (let f = 1; f < d; f++) if (Math.abs(axis[f]) > Math.abs(axis[best])) best = f
      expect(axis[best]).toBeGreaterThan(0)
    }
  })

  it('handles degenerate inputs (one row, constant rows)', () => {
    expect(Array.from(pca2(new Float32Array([1, 2, 3]), 1, 3).coords)).toEqual([0, 0])
    const flat = pca2(new Float32Array(12).fill(2), 4, 3)
    expect(Array.from(flat.coords).every((v) => v === 0)).toBe(true)
  })
})

describe('umap2', () => {
  it('returns n finite 2-D points, reproducibly for a seed, and separates clusters', () => {
    const n = 90
    const d = 8
    const r = mulberry32(1)
    const data = new Float32Array(n * d)
    for (let i = 0; i < n; i++)
      for (let f = 0; f < d; f++) data[i * d + f] = (f === i % 3 ? 10 : 0) + r()
    const a = umap2(data, n, d, { seed: 4, nEpochs: 100 })
    const b = umap2(data, n, d, { seed: 4, nEpochs: 100 })
    expect(a.length).toBe(n * 2)
    expect(Array.from(a).every(Number.isFinite)).toBe(true)
    expect(Array.from(b)).toEqual(Array.from(a))
    // Each point's nearest map neighbour belongs to its own cluster.
    let same = 0
    for (let i = 0; i < n; i++) {
      let best = -1
      let bestD = Infinity
      for (let j = 0; j < n; j++) {
        if (j === i) continue
        const dd = (a[2 * i] - a[2 * j]) ** 2 + (a[2 * i + 1] - a[2 * j + 1]) ** 2
        if (dd < bestD) [best, bestD] = [j, dd]
      }
      if (best % 3 === i % 3) same++
    }
    expect(same / n).toBeGreaterThan(0.95)
  })

  it('falls back to PCA for too few rows', () => {
    const data = new Float32Array([0, 0, 1, 1, 2, 2])
    expect(Array.from(umap2(data, 3, 2))).toEqual(Array.from(pca2(data, 3, 2).coords))
  })
})
