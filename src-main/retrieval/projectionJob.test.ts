import { describe, expect, it } from 'vitest'
import { centroidAccuracy, clusteredRows } from './mapTestData.testutil'
import { pca2 } from './projection'
import { projectRows, sampleIndices, umapSampled } from './projectionJob'

describe('sampleIndices', () => {
  it('draws distinct sorted indices, the same for the same seed', () => {
    const a = sampleIndices(1000, 100, 7)
    expect(a.length).toBe(100)
    expect(new Set(a).size).toBe(100)
    expect([...a].every((v, i) => v >= 0 && v < 1000 && (i === 0 || v > a[i - 1]))).toBe(true)
    expect([...sampleIndices(1000, 100, 7)]).toEqual([...a])
    expect([...sampleIndices(1000, 100, 8)]).not.toEqual([...a])
  })
})

describe('projectRows', () => {
  it('PCA is pca2, with no sampling', () => {
    const { data } = clusteredRows(200, 8, 4)
    const res = projectRows('pca', data, 200, 8)
    expect(res.fitted).toBeNull()
    expect([...res.coords]).toEqual([...pca2(data, 200, 8).coords])
  })

  it('UMAP above the fit limit fits a sample and places the rest among its neighbours', () => {
    const n = 600
    const { data, labels } = clusteredRows(n, 12, 4)
    const progress: number[] = []
    const res = projectRows('umap', data, n, 12, {
      fitLimit: 150,
      seed: 3,
      onProgress: (done, total) => progress.push(done / total)
    })
    expect(res.fitted).toBe(150)
    expect(res.coords.length).toBe(2 * n)
    expect(res.coords.every(Number.isFinite)).toBe(true)
    expect(progress.length).toBeGreaterThan(1)
    expect(progress.at(-1)).toBe(1)
    // The placed rows land in their own cluster, as the fitted ones do.
    expect(centroidAccuracy(res.coords, labels, 4)).toBeGreaterThan(0.95)
    // Same seed, same map.
    const again = umapSampled(data, n, 12, 150, { seed: 3 })
    expect([...again.coords]).toEqual([...res.coords])
  })

  it('refuses data shorter than n × d', () => {
    expect(() => projectRows('pca', new Float32Array(5), 2, 3)).toThrow(/expected 2×3/)
  })
})
