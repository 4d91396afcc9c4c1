import { describe, expect, it } from 'vitest'
import { createRng } from '../util/rng'
import {
  bootstrapInterval,
  bootstrapMeans,
  pairedDifference,
  percentileInterval,
  quantile
} from './bootstrap'

/** The bootstrap written out directly: draw indices, average, sort, interpolate. */
function direct(values: number[], resamples: number, seed: number, level: number) {
  const rng = createRng(seed)
  const n = values.length
  const means: number[] = []
  for (let b = 0; b < resamples; b++) {
    const idx: number[] = []
    for (let t = 0; t < n; t++) idx.push(Math.floor(rng.next() * n))
    means.push(idx.reduce((s, i) => s + values[i], 0) / n)
  }
  means.sort((x, y) => x - y)
  const at = (q: number): number => {
    const h = (means.length - 1) * q
    const lo = Math.floor(h)
    const hi = Math.min(means.length - 1, lo + 1)
    return means[lo] + (h - lo) * (means[hi] - means[lo])
  }
  return { lo: at((1 - level) / 2), hi: at(1 - (1 - level) / 2), means }
}

const rngValues = (n: number, p: number, seed: number): number[] => {
  const r = createRng(seed)
  return Array.from({ length: n }, () => (r.next() < p ? 1 : 0))
}

describe('bootstrap over queries', () => {
  it('matches a direct computation of the percentile interval (R@1-like 0/1 scores)', () => {
    const v = rngValues(393, 0.6, 3)
    const want = direct(v, 1000, 11, 0.95)
    const got = bootstrapInterval(v, { resamples: 1000, seed: 11 })
    expect(got.lo).toBeCloseTo(want.lo, 12)
    expect(got.hi).toBeCloseTo(want.hi, 12)
    const means = bootstrapMeans([v], { resamples: 1000, seed: 11 })[0]
    expect(Array.from(means).sort((a, b) => a - b)).toEqual(want.means.map((m) => expect.closeTo(m, 12)))
  })

  it('matches a direct computation for continuous scores (AP@R) and another level', () => {
    const r = createRng(5)
    const v = Array.from({ length: 120 }, () => r.next() ** 2)
    const want = direct(v, 500, 2, 0.9)
    const got = bootstrapInterval(v, { resamples: 500, seed: 2, level: 0.9 })
    expect(got.lo).toBeCloseTo(want.lo, 12)
    expect(got.hi).toBeCloseTo(want.hi, 12)
  })

  it('has the width the normal approximation predicts, and contains the mean', () => {
    const v = rngValues(400, 0.5, 9)
    const mean = v.reduce((a, b) => a + b, 0) / v.length
    const { lo, hi } = bootstrapInterval(v, { resamples: 2000, seed: 1 })
    expect(lo).toBeLessThan(mean)
    expect(hi).toBeGreaterThan(mean)
    const se = Math.sqrt((mean * (1 - mean)) / v.length)
    expect(hi - lo).toBeGreaterThan(2 * 1.96 * se * 0.8)
    expect(hi - lo).toBeLessThan(2 * 1.96 * se * 1.2)
  })

  it('is deterministic for a seed and differs between seeds', () => {
    const v = rngValues(200, 0.3, 4)
    expect(bootstrapInterval(v, { seed: 5 })).toEqual(bootstrapInterval(v, { seed: 5 }))
    expect(bootstrapInterval(v, { seed: 5 })).not.toEqual(bootstrapInterval(v, { seed: 6 }))
  })

  it('pairs differences on the same queries: a 1-point gap on 393 queries is noise, a 15-point one is not', () => {
    const a = rngValues(393, 0.6, 1)
    const b = a.map((x, i) => (i % 100 === 0 ? 1 - x : x)) // 4 flipped queries ≈ 1 point
    const small = pairedDifference(a, b, { seed: 1 })
    expect(Math.abs(small.diff)).toBeLessThan(0.02)
    expect(small.significant).toBe(false)
    expect(small.lo).toBeLessThanOrEqual(0)
    expect(small.hi).toBeGreaterThanOrEqual(0)
    const c = a.map((x, i) => (i % 7 === 0 ? 1 : x))
    const big = pairedDifference(c, a, { seed: 1 })
    expect(big.diff).toBeGreaterThan(0.04)
    expect(big.significant).toBe(true)
    expect(big.lo).toBeGreaterThan(0)
    // Direct: the paired interval is the interval of the per-query differences.
    const d = c.map((x, i) => x - a[i])
    const want = direct(d, 1000, 1, 0.95)
    expect(big.lo).toBeCloseTo(want.lo, 12)
    expect(big.hi).toBeCloseTo(want.hi, 12)
  })

  it('handles edge cases: quantiles, empty and mismatched series', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5)
    expect(quantile([7], 0.025)).toBe(7)
    expect(percentileInterval(Float64Array.from([3, 1, 2]), 1)).toEqual({ lo: 1, hi: 3 })
    expect(Number.isNaN(bootstrapInterval([]).lo)).toBe(true)
    expect(() => bootstrapMeans([[1, 2], [1]])).toThrow(/same number of queries/)
  })
})
