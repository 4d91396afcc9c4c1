import { describe, expect, it } from 'vitest'
import { l2NormalizeRows } from './engine'
import { mulberry32 } from '../util/rng'
import { evaluate, queryDetail, RetrievalIndex, toMetrics, worstQueries } from './metrics'
import { naiveMetrics, normalize64, rankedGallery } from './naive.testutil'

/** Small integer-valued embeddings: many exactly tied similarities. */
function tiedData(
  n: number,
  d: number,
  classes: number,
  seed: number
): { emb: Float32Array; labels: Int32Array } {
  const rand = mulberry32(seed)
  const emb = new Float32Array(n * d).map(() => Math.round((rand() - 0.5) * 3))
  const labels = Int32Array.from({ length: n }, () => Math.floor(rand() * classes))
  return { emb, labels }
}

function gaussData(
  n: number,
  d: number,
  classes: number,
  seed: number,
  spread = 0.5
): { emb: Float32Array; labels: Int32Array } {
  const rand = mulberry32(seed)
  const g = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
  const centres = Array.from({ length: classes }, () => Array.from({ length: d }, g))
  const labels = Int32Array.from({ length: n }, (_, i) => i % classes)
  const emb = new Float32Array(n * d)
  for (let i = 0; i < n; i++)
    for (let k = 0; k < d; k++) emb[i * d + k] = centres[labels[i]][k] + spread * g()
  return { emb, labels }
}

const KS = [1, 2, 4, 8, 16, 32, 1000]

function expectClose(
  report: {
    recall: Record<string, number>
    rPrecision: number
    mapAtR: number
    map: number
    excludedQueries: number
  },
  ref: ReturnType<typeof naiveMetrics>
): void {
  for (const k of Object.keys(ref.recall)) expect(report.recall[k]).toBeCloseTo(ref.recall[k], 12)
  expect(report.rPrecision).toBeCloseTo(ref.rPrecision, 12)
  expect(report.mapAtR).toBeCloseTo(ref.mapAtR, 12)
  expect(report.map).toBeCloseTo(ref.map, 12)
  expect(report.excludedQueries).toBe(ref.excluded)
}

describe('evaluate (every item is a query)', () => {
  it('matches a naive full-sort implementation on data with many ties, symmetric and row passes', async () => {
    const n = 240
    const d = 6
    const { emb, labels } = tiedData(n, d, 30, 1)
    const ref = naiveMetrics(normalize64(emb, n, d), n, d, labels, KS)
    for (const symmetric of [true, false]) {
      for (const engine of ['js', 'auto'] as const) {
        const r = await evaluate(emb, n, d, labels, {
          ks: KS,
          precision: 'float64',
          engine,
          symmetric,
          perQuery: true,
          blockBytes: 4000
        })
        expectClose(r, ref)
        for (let q = 0; q < n; q++) {
          expect(r.perQuery!.ap[q]).toBeCloseTo(ref.ap[q], 12)
          expect(r.perQuery!.apAtR[q]).toBeCloseTo(ref.apAtR[q], 12)
        }
      }
    }
  })

  it('float32 engines give the float64 ranking on tie-free data', async () => {
    const n = 300
    const d = 16
    const { emb, labels } = gaussData(n, d, 40, 2)
    const ref = naiveMetrics(normalize64(emb, n, d), n, d, labels, KS)
    for (const engine of ['js', 'auto'] as const) {
      const r = await evaluate(emb, n, d, labels, { ks: KS, precision: 'float32', engine })
      expectClose(r, ref)
    }
  })

  it('excludes queries whose class has no other member, and counts them', async () => {
    const n = 60
    const d = 5
    const { emb, labels } = tiedData(n, d, 10, 3)
    labels[7] = 1000
    labels[19] = 1001
    labels[33] = 1002
    const r = await evaluate(emb, n, d, labels, { ks: [1, 5], perQuery: true })
    const ref = naiveMetrics(normalize64(emb, n, d), n, d, labels, [1, 5])
    expect(r.excludedQueries).toBe(3)
    expect(r.evaluatedQueries).toBe(57)
    expectClose(r, ref)
    expect(Number.isNaN(r.perQuery!.apAtR[19])).toBe(true)
    expect(r.perQuery!.firstPositiveRank[19]).toBe(-1)
    expect(r.perClassRecallAt1.find((c) => c.label === 1001)).toBeUndefined()
    expect(r.notes.join(' ')).toMatch(/3 queries excluded/)
  })

  it('reports per-class Recall@1 and per-query results consistent with the summary', async () => {
    const n = 200
    const d = 8
    const { emb, labels } = gaussData(n, d, 12, 4, 1.2)
    const r = await evaluate(emb, n, d, labels, { ks: [1, 10], perQuery: true })
    const pq = r.perQuery!
    const mean = (xs: ArrayLike<number>) => Array.from(xs).reduce((a, b) => a + b, 0) / xs.length
    expect(mean(pq.apAtR)).toBeCloseTo(r.mapAtR, 12)
    expect(mean(pq.correctAt1)).toBeCloseTo(r.recall['1'], 12)
    expect(r.perClassRecallAt1.reduce((a, c) => a + c.count, 0)).toBe(n)
    for (const c of r.perClassRecallAt1) {
      const qs = Array.from(labels.keys()).filter((i) => labels[i] === c.label)
      expect(c.recallAt1).toBeCloseTo(
        qs.filter((i) => pq.correctAt1[i] === 1).length / qs.length,
        12
      )
    }
    const worst = worstQueries(r, 5)
    expect(worst).toHaveLength(5)
    for (let t = 1; t < worst.length; t++)
      expect(worst[t].apAtR).toBeGreaterThanOrEqual(worst[t - 1].apAtR)
    expect(toMetrics(r)).toEqual({
      recall: r.recall,
      rPrecision: r.rPrecision,
      mapAtR: r.mapAtR,
      excludedQueries: 0
    })
  })

  it('calls onProgress up to the total and stops when cancelled', async () => {
    const n = 500
    const d = 4
    const { emb, labels } = gaussData(n, d, 50, 5)
    const seen: [number, number][] = []
    await evaluate(emb, n, d, labels, {
      onProgress: (a, b) => seen.push([a, b]),
      blockBytes: 4 * n * 16
    })
    expect(seen.at(-1)).toEqual([n, n])
    const ctl = new AbortController()
    ctl.abort()
    await expect(evaluate(emb, n, d, labels, { signal: ctl.signal })).rejects.toThrow(/cancelled/)
  })

  it('rejects malformed input with a clear message', async () => {
    const emb = new Float32Array(12)
    await expect(evaluate(emb, 3, 5, [0, 0, 1])).rejects.toThrow(/expected 3×5/)
    const bad = new Float32Array(6).fill(1)
    bad[4] = NaN
    await expect(evaluate(bad, 3, 2, [0, 0, 1])).rejects.toThrow(/non-finite/)
    await expect(evaluate(new Float32Array(6), 3, 2, [0, 0])).rejects.toThrow(/labels/)
    await expect(
      evaluate(new Float32Array(6), 3, 2, [0, 0, 1], { galleryIdx: [0, 0] })
    ).rejects.toThrow(/twice/)
    await expect(evaluate(new Float32Array(6), 3, 2, [0, 0, 1], { ks: [0] })).rejects.toThrow(
      /positive integer/
    )
  })
})

describe('evaluate (query/gallery mode)', () => {
  it('matches the naive implementation, leaving an item out of its own neighbours', async () => {
    const n = 180
    const d = 5
    const { emb, labels } = tiedData(n, d, 15, 6)
    const queries = Array.from({ length: 70 }, (_, i) => i * 2)
    const gallery = Array.from({ length: 120 }, (_, i) => i + 50) // overlaps the queries 50..138
    const ref = naiveMetrics(normalize64(emb, n, d), n, d, labels, KS, queries, gallery)
    const r = await evaluate(emb, n, d, labels, {
      ks: KS,
      precision: 'float64',
      queryIdx: Int32Array.from(queries),
      galleryIdx: Int32Array.from(gallery),
      perQuery: true,
      blockBytes: 3000
    })
    expectClose(r, ref)
    expect(Array.from(r.perQuery!.index)).toEqual(queries)
    queries.forEach((_, t) => {
      if (Number.isNaN(ref.apAtR[t])) expect(Number.isNaN(r.perQuery!.apAtR[t])).toBe(true)
      else expect(r.perQuery!.apAtR[t]).toBeCloseTo(ref.apAtR[t], 12)
    })
  })
})

describe('queryDetail / RetrievalIndex', () => {
  it('agrees with the evaluation and lists the missed positives', async () => {
    const n = 150
    const d = 6
    const { emb, labels } = tiedData(n, d, 12, 7)
    const r = await evaluate(emb, n, d, labels, { precision: 'float32', perQuery: true, ks: [1] })
    const x = l2NormalizeRows(emb, n, d)
    const index = new RetrievalIndex(x, n, d, { labels, normalized: true })
    const xs = normalize64(emb, n, d)
    for (const q of [0, 17, 88, 149]) {
      const k = 5
      const det = index.detail(q, k)
      expect(det.apAtR).toBe(r.perQuery!.apAtR[q])
      expect(det.ap).toBe(r.perQuery!.ap[q])
      expect(det.firstPositiveRank).toBe(r.perQuery!.firstPositiveRank[q])
      expect(det.neighbours).toHaveLength(k)
      expect(det.neighbours.some((h) => h.index === q)).toBe(false)
      for (let t = 1; t < k; t++) {
        const a = det.neighbours[t - 1]
        const b = det.neighbours[t]
        expect(
          a.similarity > b.similarity || (a.similarity === b.similarity && a.index < b.index)
        ).toBe(true)
      }
      for (const h of det.neighbours) expect(h.correct).toBe(labels[h.index] === labels[q])
      const positives = Array.from(labels.keys()).filter((i) => i !== q && labels[i] === labels[q])
      const shown = new Set(det.neighbours.map((h) => h.index))
      expect(det.missed.map((m) => m.index).sort((a, b) => a - b)).toEqual(
        positives.filter((p) => !shown.has(p))
      )
      expect(det.positives).toBe(positives.length)
      // The same top K as a float64 full sort when the float32 rounding does not reorder.
      const ref = rankedGallery(
        xs,
        d,
        q,
        Array.from({ length: n }, (_, i) => i)
      ).slice(0, k)
      expect(det.neighbours.map((h) => h.similarity)).toEqual(
        ref.map((e) => Math.fround(e.sim)).map((s) => expect.closeTo(s, 6))
      )
    }
    const wrapped = queryDetail(emb, n, d, labels, 17, 5)
    expect(wrapped.apAtR).toBe(index.detail(17, 5).apAtR)
  })

  it('searches an external vector and honours excluded ids', () => {
    const n = 50
    const d = 4
    const { emb, labels } = gaussData(n, d, 5, 8)
    const index = new RetrievalIndex(emb, n, d, { labels })
    const v = emb.slice(3 * d, 4 * d)
    const hits = index.search(v, 3)
    expect(hits[0].index).toBe(3)
    expect(hits[0].similarity).toBeCloseTo(1, 5)
    const hits2 = index.search(v, 3, [3])
    expect(hits2.map((h) => h.index)).toEqual(
      hits
        .slice(1)
        .map((h) => h.index)
        .concat(hits2[2].index)
    )
    expect(index.search(v, 500)).toHaveLength(n)
    expect(() => index.search(new Float32Array(3), 2)).toThrow(/dimension/)
  })
})
