/** RetrievalIndex.rankWithin against a loop-by-loop ranking of every item. */
import { describe, expect, it } from 'vitest'
import { mulberry32 } from '../util/rng'
import { RetrievalIndex } from './retrievalIndex'

const n = 60
const d = 5
function data(seed: number): { emb: Float32Array; labels: Int32Array } {
  const r = mulberry32(seed)
  const emb = new Float32Array(n * d)
  // Quantised values, so that many similarities tie exactly and the tie rule matters.
  for (let i = 0; i < emb.length; i++) emb[i] = Math.round(r() * 4) - 2
  for (let i = 0; i < n; i++)
    if (emb.subarray(i * d, (i + 1) * d).every((v) => v === 0)) emb[i * d] = 1
  const labels = Int32Array.from({ length: n }, (_, i) => i % 4)
  return { emb, labels }
}

/** Every item but `self`, best first, ties by the lower index, with the index's similarity. */
function naiveOrder(index: RetrievalIndex, q: Float32Array, self: number): number[] {
  const sims: { j: number; s: number }[] = []
  for (let j = 0; j < index.n; j++) {
    if (j === self) continue
    // The index's own similarities (float32 engine), so that exact ties are judged alike.
    sims.push({ j, s: index.search(q, index.n).find((h) => h.index === j)!.similarity })
  }
  return sims.sort((a, b) => b.s - a.s || a.j - b.j).map((x) => x.j)
}

describe('RetrievalIndex.rankWithin', () => {
  const { emb, labels } = data(5)
  const index = new RetrievalIndex(emb, n, d, { labels })

  it('gives the top k of the kept items with their ranks in the whole ranking', () => {
    for (const q of [0, 7, 33]) {
      const keep = Uint8Array.from({ length: n }, (_, j) =>
        labels[j] === 2 || j % 7 === 0 ? 1 : 0
      )
      const hits = index.rankWithin(q, 5, keep)
      const det = index.detail(q, n)
      const order = det.neighbours.map((h) => h.index)
      const expected = order.filter((j) => keep[j] === 1).slice(0, 5)
      expect(hits.map((h) => h.index)).toEqual(expected)
      for (const h of hits) {
        expect(h.rank).toBe(order.indexOf(h.index))
        expect(h.correct).toBe(labels[h.index] === labels[q])
      }
    }
  })

  it('keeps everything: ranks are 0..k-1 and the hits equal detail', () => {
    const keep = new Uint8Array(n).fill(1)
    const hits = index.rankWithin(4, 8, keep)
    expect(hits.map((h) => h.rank)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    expect(hits.map((h) => h.index)).toEqual(index.detail(4, 8).neighbours.map((h) => h.index))
  })

  it('ranks an external vector among all items (no self to skip)', () => {
    const v = Float32Array.from([1, -1, 0.5, 2, 0])
    const keep = Uint8Array.from({ length: n }, (_, j) => (j % 3 === 0 ? 1 : 0))
    const hits = index.rankWithin(v, 4, keep)
    const order = naiveOrder(index, v, -1)
    expect(hits.map((h) => h.index)).toEqual(order.filter((j) => j % 3 === 0).slice(0, 4))
    for (const h of hits) {
      expect(h.rank).toBe(order.indexOf(h.index))
      expect(h.correct).toBe(false)
    }
  })

  it('refuses a keep array of the wrong length and a bad query', () => {
    expect(() => index.rankWithin(0, 3, new Uint8Array(3))).toThrow(/keep has 3 entries/)
    expect(() => index.rankWithin(n, 3, new Uint8Array(n))).toThrow(/not a gallery position/)
    expect(() => index.rankWithin([1, 2], 3, new Uint8Array(n))).toThrow(/dimension 2/)
  })

  it('returns nothing when no item is kept', () => {
    expect(index.rankWithin(1, 3, new Uint8Array(n))).toEqual([])
  })
})
