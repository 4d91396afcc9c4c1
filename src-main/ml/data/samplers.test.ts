import { describe, expect, it } from 'vitest'
import { createRng } from '../util/rng'
import { balancedBatches, randomBatches } from './samplers'

describe('randomBatches', () => {
  it('covers each index at most once and drops the last short batch', () => {
    const labels = new Int32Array(103)
    const b = randomBatches(labels, 10, createRng(1))
    expect(b.length).toBe(10)
    const all = b.flat()
    expect(new Set(all).size).toBe(100)
    expect(b.every((x) => x.length === 10)).toBe(true)
    expect(randomBatches(labels, 10, createRng(1), false).flat().length).toBe(103)
    expect(randomBatches(labels, 10, createRng(1))).toEqual(b)
    expect(randomBatches(labels, 10, createRng(2))).not.toEqual(b)
  })
})

describe('balancedBatches', () => {
  // Class 0: 10 images, 1: 3 images, 2: 1 image (skipped), 3..6: 5 images.
  const labels = new Int32Array([
    ...Array(10).fill(0),
    ...Array(3).fill(1),
    2,
    ...[3, 4, 5, 6].flatMap((c) => Array(5).fill(c))
  ])

  it('takes batchSize/ipc classes with ipc images each and skips single-image classes', () => {
    const batches = balancedBatches(labels, 8, 4, createRng(1))
    expect(batches.length).toBe(Math.floor(labels.length / 8))
    for (const b of batches) {
      expect(b.length).toBe(8)
      const cls = b.map((i) => labels[i])
      const counts = new Map<number, number>()
      for (const c of cls) counts.set(c, (counts.get(c) ?? 0) + 1)
      expect(counts.size).toBe(2)
      for (const n of counts.values()) expect(n).toBe(4)
      expect(cls.includes(2)).toBe(false)
    }
  })

  it('samples with replacement from a class smaller than ipc', () => {
    let sawSmall = false
    for (const b of balancedBatches(labels, 8, 4, createRng(3)).concat(
      balancedBatches(labels, 8, 4, createRng(4))
    )) {
      const ones = b.filter((i) => labels[i] === 1)
      if (ones.length) {
        sawSmall = true
        expect(ones.length).toBe(4)
        expect(new Set(ones).size).toBeLessThanOrEqual(3)
      }
    }
    expect(sawSmall).toBe(true)
  })

  it('rejects a batch size that is not a multiple of ipc, or too few classes', () => {
    expect(() => balancedBatches(labels, 10, 4, createRng(1))).toThrow(/multiple/)
    expect(() => balancedBatches(labels, 64, 4, createRng(1))).toThrow(/classes/)
  })
})
