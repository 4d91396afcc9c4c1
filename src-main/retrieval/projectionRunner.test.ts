import { describe, expect, it } from 'vitest'
import { mulberry32 } from '../ml/util/rng'
import { pca2 } from './projection'
import * as runner from './projectionRunner'

describe('runProjection', () => {
  it('runs PCA in a worker thread and returns what the in-thread code returns', async () => {
    const n = 50
    const d = 6
    const r = mulberry32(9)
    const data = new Float32Array(n * d).map(() => r())
    const before = data.slice()
    const coords = await runner.runProjection('pca', data, n, d)
    expect(runner.lastProjectionMode).toBe('worker')
    expect(Array.from(coords)).toEqual(Array.from(pca2(data, n, d).coords))
    // The caller's buffer is not detached or changed by the transfer.
    expect(Array.from(data)).toEqual(Array.from(before))
  })

  it('falls back to in-thread for a small gallery when the worker entry is broken', async () => {
    runner.setProjectionWorkerPath('/nonexistent/projectionWorker.js')
    try {
      const data = new Float32Array([0, 0, 1, 1, 2, 2, 3, 3])
      const coords = await runner.runProjection('pca', data, 4, 2)
      expect(runner.lastProjectionMode).toBe('in-thread')
      expect(coords.length).toBe(8)
    } finally {
      runner.setProjectionWorkerPath(null)
    }
  })
})
