/**
 * One blockwise pass over an embedding matrix against itself: every row's k nearest neighbours
 * (by cosine similarity, itself left out) and every pair whose similarity reaches a threshold.
 * Uses the evaluation engine (ml/eval: the same float32 similarity kernels and the same top-k
 * selection and tie rule as `knn`), and holds only one block of rows × n similarities at a time,
 * so 20k images cost about 64 MB of similarities, never an n×n matrix. (`knn` itself is not
 * called because its similarity blocks are internal: the pairs and the same-label best come from
 * the same blocks, so one pass does all three.)
 */
import {
  allocSims,
  releaseEngineCaches,
  type EngineChoice,
  type SimEngine
} from '../ml/eval/engine'
import { blockRows, resolveEngine, selectRow, TopK, type KnnResult } from '../ml/eval/knn'

/** Float32 roundoff allowance so that identical images (similarity 1 up to roundoff) pass 1.0. */
export const SIM_EPS = 1e-5

/** Rows of an L2-normalised embedding matrix, row-major. */
export interface EmbeddingMatrix {
  data: Float32Array
  n: number
  d: number
}

/** Options of `scanNeighbours`. */
export interface ScanOptions {
  /** Neighbours kept per row. */
  k: number
  /** Pairs with cosine similarity ≥ threshold (within SIM_EPS) are collected. */
  threshold: number
  /** At most this many pairs are kept (the most similar ones); `pairsTotal` counts them all. */
  maxPairs?: number
  /** Similarity engine; default auto (native kernel when it loads). */
  engine?: EngineChoice | SimEngine
  /** Byte budget of one block of similarities (default 64 MB). */
  blockBytes?: number
  /** Called after each block with rows done and the total. */
  onProgress?: (done: number, total: number) => void
  /** Stops between blocks (throws the signal's reason). */
  signal?: AbortSignal
  /** Labels per row: the scan then also finds each row's most similar same-label row. */
  labels?: ArrayLike<number>
}

/** Similar pairs (a < b), most similar first. */
export interface SimilarPairs {
  a: Int32Array
  b: Int32Array
  sim: Float32Array
}

/** What `scanNeighbours` finds. */
export interface ScanResult {
  /** Row i's neighbours at [i*k, (i+1)*k), best first; -1 / NaN pad when n − 1 < k. */
  knn: KnnResult
  pairs: SimilarPairs
  /** Pairs at or above the threshold, including any dropped by `maxPairs`. */
  pairsTotal: number
  /** With labels: each row's highest similarity to another row of its label (−∞: none). */
  sameLabelBest: Float32Array | null
}

/** Checks the matrix shape and that each row is finite. */
function checkMatrix(m: EmbeddingMatrix): void {
  if (!Number.isInteger(m.n) || m.n < 0 || !Number.isInteger(m.d) || m.d < 1)
    throw new RangeError(`embedding matrix: bad shape ${m.n}×${m.d}`)
  if (m.data.length !== m.n * m.d)
    throw new RangeError(`embedding matrix: expected ${m.n}×${m.d} values, got ${m.data.length}`)
}

/** Keeps the `max` most similar pairs seen, in a growable buffer pruned when it doubles. */
class PairBuffer {
  a: number[] = []
  b: number[] = []
  s: number[] = []
  total = 0
  /** Similarity a pair must reach to be worth keeping once the buffer has been pruned. */
  floor = -Infinity

  constructor(private readonly max: number) {}

  push(a: number, b: number, s: number): void {
    this.total++
    if (s < this.floor) return
    this.a.push(a)
    this.b.push(b)
    this.s.push(s)
    if (this.s.length >= 2 * this.max) this.prune()
  }

  /** Most similar first, ties by (a, b). */
  private order(): number[] {
    const { a, b, s } = this
    return s.map((_, i) => i).sort((x, y) => s[y] - s[x] || a[x] - a[y] || b[x] - b[y])
  }

  private prune(): void {
    const keep = this.order().slice(0, this.max)
    this.a = keep.map((i) => this.a[i])
    this.b = keep.map((i) => this.b[i])
    this.s = keep.map((i) => this.s[i])
    if (this.s.length === this.max) this.floor = this.s[this.s.length - 1]
  }

  result(): SimilarPairs {
    const keep = this.order().slice(0, this.max)
    return {
      a: Int32Array.from(keep, (i) => this.a[i]),
      b: Int32Array.from(keep, (i) => this.b[i]),
      sim: Float32Array.from(keep, (i) => this.s[i])
    }
  }
}

/** Rows of each label. */
function rowsByLabel(labels: ArrayLike<number>): Map<number, number[]> {
  const m = new Map<number, number[]>()
  for (let i = 0; i < labels.length; i++) {
    const xs = m.get(labels[i])
    if (xs) xs.push(i)
    else m.set(labels[i], [i])
  }
  return m
}

const nextTick = (): Promise<void> => new Promise((r) => setImmediate(r))

/**
 * k nearest neighbours of every row (itself excluded) and the pairs with similarity ≥ threshold,
 * in one blockwise pass; yields to the event loop between blocks. Rows must be L2-normalised.
 */
export async function scanNeighbours(m: EmbeddingMatrix, opts: ScanOptions): Promise<ScanResult> {
  checkMatrix(m)
  const { n, d, data } = m
  if (!Number.isInteger(opts.k) || opts.k < 1)
    throw new RangeError(`k must be a positive integer, got ${opts.k}`)
  if (!(opts.threshold >= -1 && opts.threshold <= 1))
    throw new RangeError(`threshold must be in [-1, 1], got ${opts.threshold}`)
  const maxPairs = opts.maxPairs ?? 100_000
  const engine = resolveEngine(opts.engine)
  const kk = Math.min(opts.k, Math.max(0, n - 1))
  const indices = new Int32Array(n * kk)
  const sims = new Float32Array(n * kk)
  const pairs = new PairBuffer(maxPairs)
  const cut = opts.threshold - SIM_EPS
  const labels = opts.labels ?? null
  if (labels && labels.length !== n)
    throw new RangeError(`labels: expected ${n}, got ${labels.length}`)
  const best = labels ? new Float32Array(n).fill(-Infinity) : null
  const byLabel = labels ? rowsByLabel(labels) : null
  if (n === 0 || kk === 0) {
    opts.onProgress?.(n, n)
    const knn = { indices, sims, k: kk }
    return { knn, pairs: pairs.result(), pairsTotal: 0, sameLabelBest: best }
  }
  const rows = blockRows(n, 4, opts.blockBytes ?? 64 * 1024 * 1024)
  const block = allocSims(engine, rows * n)
  const heap = new TopK(kk)
  try {
    for (let q0 = 0; q0 < n; q0 += rows) {
      opts.signal?.throwIfAborted()
      const q1 = Math.min(n, q0 + rows)
      engine.sims(data.subarray(q0 * d, q1 * d), q1 - q0, data, n, d, block)
      for (let q = q0; q < q1; q++) {
        const off = (q - q0) * n
        selectRow(block, off, n, heap, q, null, indices, sims, q * kk)
        for (let j = q + 1; j < n; j++) if (block[off + j] >= cut) pairs.push(q, j, block[off + j])
        if (labels && best && byLabel) {
          let b = -Infinity
          for (const j of byLabel.get(labels[q])!)
            if (j !== q && block[off + j] > b) b = block[off + j]
          best[q] = b
        }
      }
      opts.onProgress?.(q1, n)
      if (q1 < n) await nextTick()
    }
  } finally {
    releaseEngineCaches()
  }
  const knn = { indices, sims, k: kk }
  return { knn, pairs: pairs.result(), pairsTotal: pairs.total, sameLabelBest: best }
}
