import { describe, expect, it } from 'vitest'
import { ema, thinIndices } from './smoothing'

describe('ema', () => {
  it('returns the raw values for weight 0', () => {
    expect(ema([3, 1, 2], 0)).toEqual([3, 1, 2])
  })

  it('is debiased: a constant series stays constant', () => {
    const out = ema([5, 5, 5, 5], 0.9)
    for (const v of out) expect(v).toBeCloseTo(5, 10)
  })

  it('matches a loop-by-loop debiased EMA', () => {
    const xs = [1, 4, 2, 8, 5]
    const w = 0.6
    let m = 0
    const want = xs.map((x, i) => {
      m = w * m + (1 - w) * x
      return m / (1 - w ** (i + 1))
    })
    const got = ema(xs, w)
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 12))
  })

  it('passes NaN and null through without poisoning later points', () => {
    const out = ema([2, NaN, null, 2], 0.5)
    expect(out[1]).toBeNaN()
    expect(out[2]).toBeNull()
    expect(out[3]).toBeCloseTo(2, 12)
  })

  it('smooths a noisy series: variance drops', () => {
    const xs = Array.from({ length: 200 }, (_, i) => (i % 2 ? 1 : -1))
    const sm = ema(xs, 0.9).slice(50) as number[]
    expect(Math.max(...sm.map(Math.abs))).toBeLessThan(0.2)
  })
})

describe('thinIndices', () => {
  it('keeps everything under the limit', () => {
    expect(thinIndices(3, 10)).toEqual([0, 1, 2])
  })
  it('keeps at most about max points and always the last', () => {
    const idx = thinIndices(1001, 100)
    expect(idx.length).toBeLessThanOrEqual(102)
    expect(idx[0]).toBe(0)
    expect(idx[idx.length - 1]).toBe(1000)
  })
})
