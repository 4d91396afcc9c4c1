/**
 * A gallery held in memory for interactive search (the retrieval browser): normalised once,
 * queried by vector or by gallery position, with the same float32 engine and tie rule as
 * `evaluate` (metrics.ts), so a gallery item's detail agrees with its evaluation results.
 */
import {
  assertFinite,
  getEngine,
  l2NormalizeRows,
  threadCount,
  type EngineChoice,
  type SimEngine
} from './engine'
import { loadNativeKernel, type NativeKernel } from './native'
import { selectRow, TopK } from './knn'
import { BlockRanker, positionsByLabel, queryTerms, toLabels } from './rank'

/** One neighbour in a query's result list. */
export interface NeighbourHit {
  /** Gallery position. */
  index: number
  similarity: number
  /** Same class as the query. */
  correct: boolean
}

/** A neighbour with its place in the whole ranking. */
export interface RankedHit extends NeighbourHit {
  /** 0-based rank among all gallery items (the query itself excluded). */
  rank: number
}

/** A positive that is not in the top K. */
export interface MissedPositive {
  index: number
  similarity: number
  /** Its 0-based rank among all gallery items. */
  rank: number
}

/** One query's neighbours, missed ground truth and AP, as shown by the retrieval browser. */
export interface QueryDetail {
  neighbours: NeighbourHit[]
  /** Positives outside the top K, best first; empty when labels are unknown. */
  missed: MissedPositive[]
  /** Number of other gallery items of the query's class (R). */
  positives: number
  /** Plain AP over all positives; null without labels or positives. */
  ap: number | null
  /** AP@R (the MAP@R term); null without labels or positives. */
  apAtR: number | null
  /** 0-based rank of the first positive; -1 when there is none. */
  firstPositiveRank: number
}

/** Options of `RetrievalIndex`. */
export interface RetrievalIndexOptions {
  /** Class of each gallery item; enables correct flags, missed positives and AP in `detail`. */
  labels?: ArrayLike<number>
  /** The rows are already L2-normalised (the array is then used as is, not copied). */
  normalized?: boolean
  /** Similarity engine (float32); default auto. */
  engine?: EngineChoice
  /**
   * Speed up `search` with a half-precision prefilter (native kernel only; default true). The
   * result stays exact: see `RetrievalIndex.search`.
   */
  prefilter?: boolean
}

/** Unit roundoff of float32 and the classic γ_d bound of a d-term dot product. */
const U32 = 2 ** -24
const gammaD = (d: number) => (d * U32) / (1 - d * U32)

/**
 * A gallery held in memory for interactive search: normalised once, queried by vector or by
 * gallery position. Uses the same float32 engine and tie rule as `evaluate`, so a gallery item's
 * detail agrees with its per-query evaluation results.
 */
export class RetrievalIndex {
  readonly n: number
  readonly d: number
  /** Normalised rows. */
  readonly data: Float32Array
  private readonly labels: Int32Array | null
  private readonly byLabel: Map<number, Int32Array> | null
  private readonly engine: SimEngine
  private readonly row: Float32Array
  private readonly ranker = new BlockRanker(1, 'float32')
  /** Half-precision rows and per-row error bounds of the search prefilter (null: no prefilter). */
  /** Items scored exactly by the last `search` (n without the prefilter); for benchmarks. */
  lastSearchScored = 0
  private readonly half: {
    h: Uint16Array
    slack: Float64Array
    kernel: NativeKernel
    threads: number
  } | null = null

  constructor(gallery: Float32Array, n: number, d: number, opts: RetrievalIndexOptions = {}) {
    if (gallery.length !== n * d)
      throw new RangeError(`gallery: expected ${n}×${d} values, got ${gallery.length}`)
    this.n = n
    this.d = d
    this.data = opts.normalized ? gallery : l2NormalizeRows(gallery, n, d)
    this.labels = opts.labels ? toLabels(opts.labels, n) : null
    this.byLabel = this.labels ? positionsByLabel(this.labels) : null
    this.engine = getEngine('float32', opts.engine ?? 'auto')
    this.row = new Float32Array(n)
    const kernel = loadNativeKernel().kernel
    if (opts.prefilter !== false && kernel && this.engine.name.startsWith('native') && n >= 1024) {
      const h = new Uint16Array(n * d)
      const err = new Float32Array(n)
      if (kernel.toHalf(this.data, n, d, h, err)) {
        // |approx_j − exact_j| ≤ ‖q‖·(e_j + γ_d(‖g_j‖ + ‖ĝ_j‖)) with ‖ĝ_j‖ ≤ ‖g_j‖ + e_j: the half
        // rounding plus the float32 rounding of both dot products.
        const g = gammaD(d)
        const slack = new Float64Array(n)
        for (let j = 0; j < n; j++) {
          let ss = 0
          for (let k = 0; k < d; k++) ss += this.data[j * d + k] ** 2
          const gn = Math.sqrt(ss)
          slack[j] = (err[j] + g * (2 * gn + err[j])) * (1 + 1e-6) + 1e-12
        }
        this.half = { h, slack, kernel, threads: threadCount() }
      }
    }
  }

  /** Engine name, for logs. */
  get engineName(): string {
    return this.half ? `${this.engine.name}+f16-prefilter` : this.engine.name
  }

  /**
   * Top k by cosine similarity for an external vector (normalised here), best first, ties by
   * the lower gallery index. With the prefilter, approximate similarities over the half-precision
   * rows give each item an interval certain to hold its exact similarity; only items whose upper
   * end reaches the k-th best lower end are scored exactly, so the answer equals the full scan.
   */
  search(vector: ArrayLike<number>, k: number, excludeIds?: ArrayLike<number>): NeighbourHit[] {
    if (vector.length !== this.d)
      throw new RangeError(`query has dimension ${vector.length}, gallery ${this.d}`)
    if (!Number.isInteger(k) || k < 1)
      throw new RangeError(`k must be a positive integer, got ${k}`)
    assertFinite(vector, 'query')
    const q = l2NormalizeRows(vector, 1, this.d)
    if (!this.half) return this.topFromRow(q, k, -1, this.mask(excludeIds), null)
    const { n, d } = this
    const mask = this.mask(excludeIds)
    const approx = this.row
    this.half.kernel.simsHalf(q, d, this.half.h, n, approx, this.half.threads)
    let qn = 0
    for (let t = 0; t < d; t++) qn += q[t] * q[t]
    qn = Math.sqrt(qn)
    const slack = this.half.slack
    const kk = Math.min(k, n)
    const lower = new TopK(kk)
    for (let j = 0; j < n; j++) {
      if (mask !== null && mask[j] === 1) continue
      const lb = approx[j] - qn * slack[j]
      if (lb > lower.threshold()) lower.push(lb, j)
    }
    const bound = lower.size < kk ? -Infinity : lower.threshold()
    const cand: number[] = []
    for (let j = 0; j < n; j++) {
      if (mask !== null && mask[j] === 1) continue
      if (approx[j] + qn * slack[j] >= bound) cand.push(j)
    }
    // A poorly separating query: the full exact scan is cheaper than gathering rows.
    if (cand.length > n / 8) return this.topFromRow(q, k, -1, mask, null)
    const m = cand.length
    this.lastSearchScored = m
    const buf = new Float32Array(m * d)
    cand.forEach((j, t) => buf.set(this.data.subarray(j * d, (j + 1) * d), t * d))
    const exact = new Float32Array(m)
    this.engine.sims(q, 1, buf, m, d, exact)
    const top = new TopK(kk)
    for (let t = 0; t < m; t++) top.push(exact[t], cand[t])
    const idx = new Int32Array(kk)
    const sims = new Float32Array(kk)
    const got = top.drain(idx, sims, 0)
    const out: NeighbourHit[] = []
    for (let t = 0; t < got; t++) out.push({ index: idx[t], similarity: sims[t], correct: false })
    return out
  }

  /** Neighbours, missed positives and AP of gallery item `q` querying all the others. */
  detail(q: number, k: number): QueryDetail {
    if (!Number.isInteger(q) || q < 0 || q >= this.n)
      throw new RangeError(`query ${q} is not a gallery position`)
    const vec = this.data.subarray(q * this.d, (q + 1) * this.d)
    const label = this.labels ? this.labels[q] : null
    const neighbours = this.topFromRow(vec, k, q, null, label)
    const out: QueryDetail = {
      neighbours,
      missed: [],
      positives: 0,
      ap: null,
      apAtR: null,
      firstPositiveRank: -1
    }
    if (!this.labels || !this.byLabel || label === null) return out
    const byLabel = this.byLabel
    this.ranker.rankBlock(
      this.row,
      1,
      this.n,
      this.labels,
      () => label,
      () => byLabel.get(label)!,
      () => q,
      this.engine
    )
    const P = this.ranker.off[1]
    out.positives = P
    if (P === 0) return out
    const t = queryTerms(this.ranker.rank, 0, P)
    out.ap = t.ap
    out.apAtR = t.apAtR
    out.firstPositiveRank = t.first
    const kk = Math.min(k, this.n - 1)
    for (let i = 0; i < P; i++) {
      const r = this.ranker.rank[i]
      if (r >= kk)
        out.missed.push({ index: this.ranker.pos[i], similarity: this.ranker.sim[i], rank: r })
    }
    return out
  }

  /**
   * Top k of the items that `keep` marks (keep[j] = 1), for gallery item `query` (itself
   * excluded) or an external vector, each with its rank among all the items: a filtered view of
   * the very ranking `detail` and `search` give (exact full scan, same tie rule).
   */
  rankWithin(query: number | ArrayLike<number>, k: number, keep: ArrayLike<number>): RankedHit[] {
    if (keep.length !== this.n)
      throw new RangeError(`keep has ${keep.length} entries, the gallery ${this.n} items`)
    let vec: Float32Array
    let self = -1
    let label: number | null = null
    if (typeof query === 'number') {
      if (!Number.isInteger(query) || query < 0 || query >= this.n)
        throw new RangeError(`query ${query} is not a gallery position`)
      vec = this.data.subarray(query * this.d, (query + 1) * this.d)
      self = query
      label = this.labels ? this.labels[query] : null
    } else {
      if (query.length !== this.d)
        throw new RangeError(`query has dimension ${query.length}, gallery ${this.d}`)
      assertFinite(query, 'query')
      vec = l2NormalizeRows(query, 1, this.d)
    }
    const mask = new Uint8Array(this.n)
    for (let j = 0; j < this.n; j++) mask[j] = keep[j] ? 0 : 1
    const hits = this.topFromRow(vec, k, self, mask, label)
    // this.row now holds every similarity. Hits are in ranking order, and "item j comes before
    // hit t" holds from some t on, so one binary search per item counts what precedes each hit.
    const m = hits.length
    const starts = new Int32Array(m + 1)
    const row = this.row
    for (let j = 0; j < this.n; j++) {
      if (j === self) continue
      const v = row[j]
      let lo = 0
      let hi = m
      while (lo < hi) {
        const t = (lo + hi) >> 1
        const h = hits[t]
        if (v > h.similarity || (v === h.similarity && j < h.index)) hi = t
        else lo = t + 1
      }
      starts[lo]++
    }
    const out: RankedHit[] = []
    let before = 0
    for (let t = 0; t < m; t++) {
      before += starts[t]
      out.push({ ...hits[t], rank: before })
    }
    return out
  }

  private mask(excludeIds: ArrayLike<number> | undefined): Uint8Array | null {
    if (!excludeIds || excludeIds.length === 0) return null
    const mask = new Uint8Array(this.n)
    for (let t = 0; t < excludeIds.length; t++)
      if (excludeIds[t] >= 0 && excludeIds[t] < this.n) mask[excludeIds[t]] = 1
    return mask
  }

  private topFromRow(
    vec: Float32Array,
    k: number,
    self: number,
    mask: Uint8Array | null,
    label: number | null
  ): NeighbourHit[] {
    if (!Number.isInteger(k) || k < 1)
      throw new RangeError(`k must be a positive integer, got ${k}`)
    this.lastSearchScored = this.n
    this.engine.sims(vec, 1, this.data, this.n, this.d, this.row)
    const kk = Math.min(k, this.n)
    const idx = new Int32Array(kk)
    const sims = new Float32Array(kk)
    selectRow(this.row, 0, this.n, new TopK(kk), self, mask, idx, sims, 0)
    const out: NeighbourHit[] = []
    for (let t = 0; t < kk; t++) {
      if (idx[t] < 0) break
      out.push({
        index: idx[t],
        similarity: sims[t],
        correct: label !== null && this.labels !== null && this.labels[idx[t]] === label
      })
    }
    return out
  }
}

/** One query's detail over n×d embeddings (convenience wrapper that builds a RetrievalIndex). */
export function queryDetail(
  emb: Float32Array,
  n: number,
  d: number,
  labels: ArrayLike<number>,
  q: number,
  k: number,
  opts: { normalized?: boolean; engine?: EngineChoice } = {}
): QueryDetail {
  return new RetrievalIndex(emb, n, d, { labels, ...opts }).detail(q, k)
}
