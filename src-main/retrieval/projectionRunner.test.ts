import { describe, expect, it } from 'vitest'
import { mulberry32 } from '../ml/util/rng'
import { centroidAccuracy, clusteredRows } from './mapTestData.testutil'
import { pca2 } from './projection'
import * as runner from './projectionRunner'

describe('runProjection', () => {
  it('runs PCA in a worker thread and returns what the in-thread code returns', async () => {
    const n = 50
    const d = 6
    const r = mulberry32(9)
    const data = new Float32Array(n * d).map(() => r())
    const before = data.slice()
    const { coords, fitted } = await runner.runProjection('pca', data, n, d)
    expect(runner.lastProjectionMode).toBe('worker')
    expect(fitted).toBeNull()
    expect(Array.from(coords)).toEqual(Array.from(pca2(data, n, d).coords))
    // The caller's buffer is not detached or changed by the transfer.
    expect(Array.from(data)).toEqual(Array.from(before))
  })

  it('falls back to in-thread for a small gallery when the worker entry is broken', async () => {
    runner.setProjectionWorkerPath('/nonexistent/projectionWorker.js')
    try {
      const data = new Float32Array([0, 0, 1, 1, 2, 2, 3, 3])
      const { coords } = await runner.runProjection('pca', data, 4, 2)
      expect(runner.lastProjectionMode).toBe('in-thread')
      expect(coords.length).toBe(8)
    } finally {
      runner.setProjectionWorkerPath(null)
    }
  })
})

describe('runProjection at 20k points', () => {
  const n = 20_000
  const d = 32
  const classes = 10
  const { data, labels } = clusteredRows(n, d, classes, 11)

  it('PCA in the worker: every point finite, as in-thread PCA computes it', async () => {
    const { coords, fitted } = await runner.runProjection('pca', data, n, d)
    expect(runner.lastProjectionMode).toBe('worker')
    expect(fitted).toBeNull()
    expect(coords.length).toBe(2 * n)
    const ref = pca2(data, n, d).coords
    let worst = 0
    for (let i = 0; i < 2 * n; i++) worst = Math.max(worst, Math.abs(coords[i] - ref[i]))
    expect(worst).toBe(0)
  }, 60_000)

  it('UMAP in the worker fits a sample, reports progress and keeps the clusters apart', async () => {
    const progress: [number, number][] = []
    const { coords, fitted } = await runner.runProjection('umap', data, n, d, {
      fitLimit: 1000,
      onProgress: (done, total) => progress.push([done, total])
    })
    expect(runner.lastProjectionMode).toBe('worker')
    expect(fitted).toBe(1000)
    expect(coords.length).toBe(2 * n)
    expect(coords.every(Number.isFinite)).toBe(true)
    expect(progress.length).toBeGreaterThan(2)
    expect(progress.at(-1)![0]).toBe(progress.at(-1)![1])
    expect(centroidAccuracy(coords, labels, classes)).toBeGreaterThan(0.95)
  }, 120_000)
})
