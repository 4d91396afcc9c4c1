import { describe, expect, it } from 'vitest'
import { l2NormalizeRows, nativeSimEngine } from '../ml/eval/engine'
import { mulberry32 } from '../ml/util/rng'
import {
  auditEmbeddings,
  centredRows,
  duplicatePairs,
  mislabelCandidates,
  scanNeighbours,
  SPLIT_TEST,
  SPLIT_TRAIN
} from './index'

/** `perClass` noisy points around each of `classes` orthogonal centres, labelled by centre. */
function clusters(classes: number, perClass: number, d: number, noise: number, seed: number) {
  const r = mulberry32(seed)
  const n = classes * perClass
  const raw = new Float32Array(n * d)
  const labels = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    labels[i] = Math.floor(i / perClass)
    for (let t = 0; t < d; t++) raw[i * d + t] = (t === labels[i] ? 1 : 0) + noise * (r() - 0.5)
  }
  return { data: l2NormalizeRows(raw, n, d), n, d, labels }
}

/** Brute force over the same rows in float64: neighbours by similarity, ties by lower row. */
function naive(data: Float32Array, n: number, d: number, k: number, threshold: number) {
  const dot = (i: number, j: number) => {
    let s = 0
    for (let t = 0; t < d; t++) s += data[i * d + t] * data[j * d + t]
    return s
  }
  const nbrs: number[][] = []
  const pairs: [number, number][] = []
  for (let i = 0; i < n; i++) {
    const all = [...Array(n).keys()].filter((j) => j !== i)
    all.sort((a, b) => dot(i, b) - dot(i, a) || a - b)
    nbrs.push(all.slice(0, k))
    for (let j = i + 1; j < n; j++) if (dot(i, j) >= threshold) pairs.push([i, j])
  }
  return { nbrs, pairs }
}

const engines = nativeSimEngine() ? (['js', 'auto'] as const) : (['js'] as const)

describe('scanNeighbours', () => {
  for (const engine of engines)
    it(`matches brute force over several blocks (${engine} engine)`, async () => {
      const { data, n, d } = clusters(6, 15, 8, 0.6, 3)
      const progress: number[] = []
      const r = await scanNeighbours(
        { data, n, d },
        {
          k: 5,
          threshold: 0.9,
          engine,
          blockBytes: 7 * n * 4,
          onProgress: (done) => progress.push(done)
        }
      )
      const ref = naive(data, n, d, 5, 0.9)
      expect(progress.length).toBeGreaterThan(5)
      expect(progress.at(-1)).toBe(n)
      for (let i = 0; i < n; i++)
        expect(Array.from(r.knn.indices.subarray(i * 5, i * 5 + 5))).toEqual(ref.nbrs[i])
      // Pairs away from the threshold by more than float roundoff agree exactly.
      const got = new Set(Array.from(r.pairs.a, (a, t) => `${a},${r.pairs.b[t]}`))
      expect(ref.pairs.length).toBeGreaterThan(10)
      for (const [a, b] of ref.pairs) expect(got.has(`${a},${b}`)).toBe(true)
      expect(r.pairsTotal).toBe(got.size)
      expect(Array.from(r.pairs.sim)).toEqual([...r.pairs.sim].sort((x, y) => y - x))
      for (let t = 0; t < r.pairs.a.length; t++) expect(r.pairs.a[t]).toBeLessThan(r.pairs.b[t])
    })

  it('keeps the most similar pairs when there are more than maxPairs, and counts them all', async () => {
    const { data, n, d } = clusters(3, 20, 4, 0.3, 5)
    const all = await scanNeighbours({ data, n, d }, { k: 3, threshold: 0.5, engine: 'js' })
    const few = await scanNeighbours(
      { data, n, d },
      { k: 3, threshold: 0.5, engine: 'js', maxPairs: 7 }
    )
    expect(all.pairsTotal).toBeGreaterThan(30)
    expect(few.pairsTotal).toBe(all.pairsTotal)
    expect(Array.from(few.pairs.sim)).toEqual(Array.from(all.pairs.sim.subarray(0, 7)))
  })

  it('finds an exact copy at threshold 1 despite float roundoff', async () => {
    const { data, n, d } = clusters(3, 5, 16, 0.8, 9)
    data.set(data.subarray(2 * d, 3 * d), 11 * d)
    const r = await scanNeighbours({ data, n, d }, { k: 2, threshold: 1 })
    expect(Array.from(r.pairs.a)).toEqual([2])
    expect(Array.from(r.pairs.b)).toEqual([11])
  })

  it('handles tiny inputs and refuses bad ones', async () => {
    const one = await scanNeighbours(
      { data: new Float32Array([1, 0]), n: 1, d: 2 },
      { k: 3, threshold: 0.9 }
    )
    expect(one.knn.k).toBe(0)
    expect(one.pairsTotal).toBe(0)
    await expect(
      scanNeighbours({ data: new Float32Array(5), n: 2, d: 3 }, { k: 1, threshold: 0.9 })
    ).rejects.toThrow(/expected 2×3/)
    await expect(
      scanNeighbours({ data: new Float32Array(6), n: 2, d: 3 }, { k: 0, threshold: 0.9 })
    ).rejects.toThrow(/k must be/)
    await expect(
      scanNeighbours({ data: new Float32Array(6), n: 2, d: 3 }, { k: 1, threshold: 2 })
    ).rejects.toThrow(/threshold/)
  })

  it('stops between blocks when aborted', async () => {
    const { data, n, d } = clusters(4, 10, 4, 0.3, 1)
    const ac = new AbortController()
    const p = scanNeighbours(
      { data, n, d },
      {
        k: 2,
        threshold: 0.9,
        blockBytes: n * 4,
        signal: ac.signal,
        onProgress: (done) => done >= 3 && ac.abort(new Error('stop'))
      }
    )
    await expect(p).rejects.toThrow('stop')
  })
})

describe('mislabelCandidates', () => {
  it('scores by similarity-weighted disagreement and names the dominant other class', () => {
    // Row 0 (label 0): neighbours 1 (label 1, sim .9), 2 (label 2, sim .5), 3 (label 0, sim .1).
    const labels = [0, 1, 2, 0, 1, 2]
    const knn = {
      k: 3,
      // prettier-ignore
      indices: Int32Array.from([1, 2, 3,  3, 4, 5,  0, 1, 2,  4, 5, 0,  1, 2, 3,  5, 0, 1]),
      sims: Float32Array.from([0.9, 0.5, 0.1, ...Array<number>(15).fill(0.2)])
    }
    const c = mislabelCandidates(knn, labels, { minScore: 0 })
    const row0 = c.find((x) => x.row === 0)!
    // Class sizes are 2: only the first neighbour is judged.
    expect(row0.judged).toBe(1)
    expect(row0.score).toBeCloseTo(1)
    expect(row0.dominantLabel).toBe(1)
    expect(row0.neighbours.map((x) => x.row)).toEqual([1, 2, 3])
    const big = mislabelCandidates(knn, [0, 1, 2, 0, 0, 0], { minScore: 0 }).find(
      (x) => x.row === 0
    )!
    expect(big.judged).toBe(3)
    expect(big.score).toBeCloseTo(1.4 / 1.5, 5)
    expect(big.dominantShare).toBeCloseTo(0.9 / 1.5, 5)
    expect(big.dominantLabel).toBe(1)
  })

  it('puts planted mislabels first and skips images of one-image classes', () => {
    const { data, n, d, labels } = clusters(5, 20, 8, 0.5, 11)
    const planted = [3, 27, 64]
    labels[3] = 4
    labels[27] = 0
    labels[64] = 1
    const lone = n - 1
    labels[lone] = 9 // a class of one image: nothing to compare it with
    const knnRows = naive(data, n, d, 8, 2).nbrs
    const knn = {
      k: 8,
      indices: Int32Array.from(knnRows.flat()),
      sims: new Float32Array(n * 8).fill(0.5)
    }
    const c = mislabelCandidates(knn, labels)
    expect(
      c
        .slice(0, 3)
        .map((x) => x.row)
        .sort((a, b) => a - b)
    ).toEqual(planted)
    expect(c.find((x) => x.row === 27)!.dominantLabel).toBe(1)
    expect(c.some((x) => x.row === lone)).toBe(false)
    for (const x of c) expect(x.score).toBeGreaterThanOrEqual(0.5)
  })

  it('refuses labels that do not match the neighbour lists', () => {
    expect(() =>
      mislabelCandidates({ k: 2, indices: new Int32Array(4), sims: new Float32Array(4) }, [0, 1, 2])
    ).toThrow(/rows/)
  })
})

describe('duplicatePairs', () => {
  it('flags pairs across train/test and puts them first', () => {
    const pairs = {
      a: Int32Array.from([0, 1, 0]),
      b: Int32Array.from([2, 3, 1]),
      sim: Float32Array.from([0.99, 0.97, 0.96])
    }
    const split = [SPLIT_TRAIN, SPLIT_TRAIN, SPLIT_TRAIN, SPLIT_TEST]
    const out = duplicatePairs(pairs, [5, 5, 5, 6], split)
    expect(out.map((p) => [p.a, p.b, p.leak, p.sameLabel])).toEqual([
      [1, 3, true, false],
      [0, 2, false, true],
      [0, 1, false, true]
    ])
    expect(() => duplicatePairs(pairs, [1, 2], [0])).toThrow(/differ/)
  })
})

describe('auditEmbeddings', () => {
  it('finds planted mislabels and a planted train/test copy, normalising raw rows', async () => {
    const { data, n, d, labels } = clusters(6, 30, 12, 0.7, 21)
    const split = Array.from(labels, (l) => (l < 3 ? SPLIT_TRAIN : SPLIT_TEST))
    labels[5] = 2 // a class-0 image filed under class 2
    labels[100] = 4 // a class-3 image filed under class 4
    // Row 170 (test, class 5) becomes a copy of row 40 (train, class 1), scaled: not normalised.
    for (let t = 0; t < d; t++) data[170 * d + t] = 3 * data[40 * d + t]
    const r = await auditEmbeddings({ data, n, d, labels, split }, { k: 10, threshold: 0.999 })
    const top = r.mislabels.slice(0, 3).map((c) => c.row)
    expect(top).toEqual(expect.arrayContaining([5, 100, 170]))
    expect(r.duplicates[0]).toMatchObject({ a: 40, b: 170, leak: true, sameLabel: false })
    expect(r.duplicates[0].similarity).toBeGreaterThan(0.9999)
    await expect(
      auditEmbeddings({ data, n, d, labels: labels.subarray(1), split }, { k: 3, threshold: 0.9 })
    ).rejects.toThrow(/labels/)
  })

  it('sees through a direction every embedding shares (raw cosines all ≥ 0.99)', async () => {
    const { data, n, d, labels } = clusters(4, 20, 9, 0.6, 8)
    // A large shared component on the last axis: raw cosine of any two rows ≥ 0.99.
    const shifted = new Float32Array(data)
    for (let i = 0; i < n; i++) shifted[i * d + d - 1] += 12
    const unit = l2NormalizeRows(shifted, n, d)
    let minSim = 1
    for (let j = 1; j < n; j++) {
      let s = 0
      for (let t = 0; t < d; t++) s += unit[t] * unit[j * d + t]
      minSim = Math.min(minSim, s)
    }
    expect(minSim).toBeGreaterThan(0.99)
    labels[30] = 3 // a class-1 image filed under class 3
    const split = Array.from(labels, () => SPLIT_TEST)
    const r = await auditEmbeddings(
      { data: shifted, n, d, labels, split },
      { k: 6, threshold: 0.99 }
    )
    expect(r.mislabels[0]).toMatchObject({ row: 30, dominantLabel: 1, score: 1 })
    // Only genuinely close pairs pass 0.99 once the shared direction is gone.
    expect(r.pairsTotal).toBeLessThan(10)
    const c = centredRows(shifted, n, d)
    let norm = 0
    for (let t = 0; t < d; t++) norm += c[t] ** 2
    expect(norm).toBeCloseTo(1, 5)
  })
})
