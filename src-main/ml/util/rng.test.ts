import { describe, expect, it } from 'vitest'
import { createRng, normalArray } from './rng'

describe('createRng', () => {
  it('gives the same stream for the same seed and a different one otherwise', () => {
    const a = createRng(7)
    const b = createRng(7)
    const c = createRng(8)
    const xa = Array.from({ length: 20 }, () => a.next())
    expect(Array.from({ length: 20 }, () => b.next())).toEqual(xa)
    expect(Array.from({ length: 20 }, () => c.next())).not.toEqual(xa)
  })

  it('next is uniform in [0,1) and int in [0,n)', () => {
    const r = createRng(1)
    const counts = new Array(10).fill(0)
    for (let i = 0; i < 20000; i++) {
      const v = r.next()
      expect(v).toBeGreaterThanOrEqual(0)
      expect(v).toBeLessThan(1)
      const k = r.int(10)
      expect(Number.isInteger(k) && k >= 0 && k < 10).toBe(true)
      counts[k]++
    }
    for (const c of counts) expect(Math.abs(c - 2000)).toBeLessThan(200)
    expect(() => r.int(0)).toThrow()
  })

  it('normal has mean 0 and variance 1', () => {
    const x = normalArray(createRng(3), 50000)
    const mean = x.reduce((a, b) => a + b, 0) / x.length
    const v = x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length
    expect(Math.abs(mean)).toBeLessThan(0.02)
    expect(Math.abs(v - 1)).toBeLessThan(0.03)
    expect(
      Math.abs(normalArray(createRng(3), 5000, 0.1).reduce((a, b) => a + b * b, 0) / 5000 - 0.01)
    ).toBeLessThan(0.002)
  })

  it('shuffle returns a permutation in place, reproducibly', () => {
    const a = Array.from({ length: 50 }, (_, i) => i)
    const s = createRng(5).shuffle(a)
    expect(s).toBe(a)
    expect([...s].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i))
    expect(createRng(5).shuffle(Array.from({ length: 50 }, (_, i) => i))).toEqual(s)
    expect(s).not.toEqual(Array.from({ length: 50 }, (_, i) => i))
  })
})
