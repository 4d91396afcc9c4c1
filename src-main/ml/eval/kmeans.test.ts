import { describe, expect, it } from 'vitest'
import { mulberry32 } from '../util/rng'
import { kmeans } from './kmeans'
import { normalizedMutualInfo } from './nmi'

function blobs(n: number, d: number, k: number, spread: number, seed: number) {
  const rand = mulberry32(seed)
  const g = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
  const centres = Array.from({ length: k }, () => Array.from({ length: d }, () => g() * 5))
  const labels = Int32Array.from({ length: n }, (_, i) => i % k)
  const x = new Float32Array(n * d)
  for (let i = 0; i < n; i++)
    for (let f = 0; f < d; f++) x[i * d + f] = centres[labels[i]][f] + spread * g()
  return { x, labels }
}

/** NMI straight from the definition, for comparison. */
function naiveNmi(a: number[], b: number[]): number {
  const n = a.length
  const H = (l: number[]) => {
    const c = new Map<number, number>()
    l.forEach((v) => c.set(v, (c.get(v) ?? 0) + 1))
    return -[...c.values()].reduce((s, v) => s + (v / n) * Math.log(v / n), 0)
  }
  const joint = new Map<string, number>()
  a.forEach((v, i) => joint.set(`${v},${b[i]}`, (joint.get(`${v},${b[i]}`) ?? 0) + 1))
  const pa = new Map<number, number>()
  const pb = new Map<number, number>()
  a.forEach((v) => pa.set(v, (pa.get(v) ?? 0) + 1))
  b.forEach((v) => pb.set(v, (pb.get(v) ?? 0) + 1))
  let mi = 0
  for (const [key, c] of joint) {
    const [u, v] = key.split(',').map(Number)
    mi += (c / n) * Math.log((c * n) / (pa.get(u)! * pb.get(v)!))
  }
  return mi / Math.sqrt(H(a) * H(b))
}

describe('normalizedMutualInfo', () => {
  it('matches the definition and scikit-learn special cases', () => {
    expect(normalizedMutualInfo([0, 0, 1, 1], [0, 0, 1, 1])).toBeCloseTo(1, 15)
    expect(normalizedMutualInfo([0, 0, 1, 1], [5, 5, 3, 3])).toBeCloseTo(1, 15)
    expect(normalizedMutualInfo([0, 0, 0, 0], [0, 1, 2, 3])).toBe(0)
    expect(normalizedMutualInfo([2, 2, 2], [7, 7, 7])).toBe(1)
    const rand = mulberry32(9)
    const a = Array.from({ length: 300 }, () => Math.floor(rand() * 7))
    const b = a.map((v) => (rand() < 0.6 ? v : Math.floor(rand() * 9)))
    expect(normalizedMutualInfo(a, b)).toBeCloseTo(naiveNmi(a, b), 12)
    expect(normalizedMutualInfo(a, b, 'arithmetic')).toBeLessThanOrEqual(
      normalizedMutualInfo(a, b, 'min') + 1e-12
    )
    expect(() => normalizedMutualInfo([1, 2], [1])).toThrow(/length/)
  })
})

describe('kmeans', () => {
  it('recovers well-separated clusters (NMI 1)', () => {
    const { x, labels } = blobs(300, 8, 6, 0.3, 1)
    const r = kmeans(x, 300, 8, { k: 6, seed: 3, engine: 'js' })
    expect(normalizedMutualInfo(labels, r.labels)).toBeCloseTo(1, 12)
    expect(r.notes).toEqual([])
    expect(r.restarts).toBe(3)
  })

  it('is deterministic for a seed, with every engine', () => {
    const { x } = blobs(400, 6, 10, 3, 2)
    const a = kmeans(x, 400, 6, { k: 10, seed: 11, engine: 'js' })
    const b = kmeans(x, 400, 6, { k: 10, seed: 11, engine: 'js' })
    expect(Array.from(a.labels)).toEqual(Array.from(b.labels))
    expect(a.inertia).toBe(b.inertia)
    const c = kmeans(x, 400, 6, { k: 10, seed: 11 })
    const c2 = kmeans(x, 400, 6, { k: 10, seed: 11 })
    expect(Array.from(c.labels)).toEqual(Array.from(c2.labels))
    const other = kmeans(x, 400, 6, { k: 10, seed: 12, engine: 'js' })
    expect(Array.from(other.labels)).not.toEqual(Array.from(a.labels))
  })

  it('cuts restarts, iterations and fit points to the budget and says so', () => {
    const { x, labels } = blobs(2000, 8, 50, 0.5, 3)
    const r = kmeans(x, 2000, 8, { k: 50, seed: 1, budget: 4e6, engine: 'js' })
    expect(r.restarts).toBe(1)
    expect(r.fitPoints).toBeLessThan(2000)
    expect(r.labels).toHaveLength(2000)
    expect(r.notes.join(' ')).toMatch(/restarts cut.*subsample of \d+ of 2000/s)
    expect(normalizedMutualInfo(labels, r.labels)).toBeGreaterThan(0.8)
  })

  it('handles duplicate points and k = n', () => {
    const x = new Float32Array([1, 1, 1, 1, 1, 1, 0, 0])
    const r = kmeans(x, 4, 2, { k: 4, seed: 0, engine: 'js' })
    expect(new Set(r.labels).size).toBeGreaterThanOrEqual(2)
    expect(() => kmeans(x, 4, 2, { k: 5 })).toThrow(/k must be/)
  })
})
