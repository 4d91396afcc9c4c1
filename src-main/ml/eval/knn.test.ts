import { describe, expect, it } from 'vitest'
import { getEngine, l2NormalizeRows, nativeSimEngine } from './engine'
import { mulberry32 } from '../util/rng'
import { knn, TopK } from './knn'

function data(n: number, d: number, seed: number, levels: number): Float32Array {
  const rand = mulberry32(seed)
  // Few distinct values → many exactly tied dot products.
  const raw = new Float32Array(n * d).map(() => Math.round((rand() - 0.5) * levels))
  return l2NormalizeRows(raw, n, d)
}

/** Brute force: sims from the same engine, full sort, ties by lower index. */
function brute(
  q: Float32Array,
  nq: number,
  g: Float32Array,
  ng: number,
  d: number,
  k: number,
  excludeSelf: boolean,
  exclude: Set<number>,
  engineName: 'js' | 'auto'
) {
  const s = new Float32Array(nq * ng)
  getEngine('float32', engineName).sims(q, nq, g, ng, d, s)
  const rows: { idx: number[]; sim: number[] }[] = []
  for (let i = 0; i < nq; i++) {
    const list = Array.from({ length: ng }, (_, j) => j).filter(
      (j) => !(excludeSelf && j === i) && !exclude.has(j)
    )
    list.sort((a, b) => s[i * ng + b] - s[i * ng + a] || a - b)
    const top = list.slice(0, k)
    rows.push({ idx: top, sim: top.map((j) => s[i * ng + j]) })
  }
  return rows
}

const engines: ('js' | 'auto')[] = nativeSimEngine() ? ['js', 'auto'] : ['js']

describe('knn', () => {
  for (const engine of engines) {
    it(`matches brute force with ties, excludeSelf, excludeIds and several blocks (${engine})`, () => {
      const d = 5
      const ng = 137
      const g = data(ng, d, 1, 3)
      for (const [k, excludeSelf, excl] of [
        [1, false, []],
        [7, true, []],
        [10, true, [3, 5, 100, 999]],
        [136, true, []]
      ] as [number, boolean, number[]][]) {
        const nq = excludeSelf ? 60 : 40
        const q = excludeSelf ? g.subarray(0, nq * d) : data(nq, d, 2, 3)
        const res = knn(q, nq, g, ng, d, k, {
          excludeSelf,
          excludeIds: Int32Array.from(excl),
          blockBytes: 4 * ng * 7,
          engine
        })
        const ref = brute(q, nq, g, ng, d, k, excludeSelf, new Set(excl), engine)
        expect(res.k).toBe(k)
        for (let i = 0; i < nq; i++) {
          expect(Array.from(res.indices.subarray(i * k, i * k + ref[i].idx.length))).toEqual(
            ref[i].idx
          )
          expect(Array.from(res.sims.subarray(i * k, i * k + ref[i].idx.length))).toEqual(
            ref[i].sim
          )
        }
      }
    })
  }

  it('pads rows when k exceeds the eligible gallery', () => {
    const d = 3
    const g = data(4, d, 3, 5)
    const res = knn(g, 4, g, 4, d, 10, { excludeSelf: true, engine: 'js' })
    expect(res.k).toBe(4)
    for (let i = 0; i < 4; i++) {
      const row = Array.from(res.indices.subarray(i * 4, i * 4 + 4))
      expect(row.slice(0, 3).sort()).toEqual([0, 1, 2, 3].filter((j) => j !== i))
      expect(row[3]).toBe(-1)
      expect(Number.isNaN(res.sims[i * 4 + 3])).toBe(true)
    }
  })

  it('rejects bad arguments', () => {
    const g = new Float32Array(6)
    expect(() => knn(g, 2, g, 2, 3, 0)).toThrow(/positive integer/)
    expect(() => knn(g, 3, g, 2, 3, 1)).toThrow(/queries/)
    expect(() => knn(g, 2, g.subarray(0, 3), 1, 3, 1, { excludeSelf: true })).toThrow(/excludeSelf/)
  })
})

describe('TopK', () => {
  it('keeps the best k with lower indices winning ties', () => {
    const h = new TopK(3)
    const sims = [0.5, 0.9, 0.5, 0.9, 0.1, 0.5, 0.9]
    sims.forEach((s, i) => h.push(s, i))
    const idx = new Int32Array(3)
    const s = new Float32Array(3)
    expect(h.drain(idx, s, 0)).toBe(3)
    expect(Array.from(idx)).toEqual([1, 3, 6])
  })
})
