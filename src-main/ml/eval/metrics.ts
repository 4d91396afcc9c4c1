/**
 * Retrieval metrics on L2-normalised embeddings with cosine similarity, the query left out of its
 * own neighbours: Recall@K (any K), R-precision and MAP@R (R = number of other items of the
 * query's class, as the official HIST utils.evaluate_Rstat), plain AP, per-class Recall@1 and
 * k-means NMI.
 *
 * How it stays exact without sorting rows or keeping K-long lists: for one query, only the ranks
 * of its positives matter. The positives are sorted (similarity desc, gallery index asc), then
 * one scan over the similarity row counts, for each negative that beats the weakest positive,
 * which positive it lands in front of (binary search). The rank of positive k is then k plus the
 * negatives in front of it, and every metric follows from those ranks:
 *   Recall@K: rank of the first positive < K;   R-precision: #{k : rank_k < R} / R;
 *   AP@R = Σ_{rank_k < R} (k+1)/(rank_k+1) / R;  AP = Σ_k (k+1)/(rank_k+1) / P.
 * Ties are ordered by the lower gallery index (the official code leaves them to torch.topk).
 *
 * The official code stores each query's R-precision as a float32 (np.mean of a float32 array)
 * before averaging; we round it the same way, which is what makes the oracle values match to
 * 1e-9 (a float64 R-precision differs from them by ~5e-9).
 */
import type { Metrics } from '../../../src-preload/contract/common'
import {
  allocSims,
  assertFinite,
  getEngine,
  l2NormalizeRows,
  l2NormalizeRows64,
  releaseEngineCaches,
  type EngineChoice,
  type FArray,
  type Precision,
  threadCount,
  type SimEngine
} from './engine'
import { kmeans, type KMeansOptions } from './kmeans'
import { loadNativeKernel, type NativeKernel } from './native'
import { blockRows, selectRow, TopK } from './knn'
import { normalizedMutualInfo } from './nmi'
import {
  BlockRanker,
  countCols,
  countRow,
  countsToRanks,
  positionsByLabel,
  queryTerms,
  sortPositives,
  toLabels
} from './rank'

/** Recall@K presets of the HIST protocol (CUB, Cars, Omniglot). */
export const RECALL_KS = [1, 2, 4, 8, 16, 32]
/** Recall@K presets for Stanford Online Products. */
export const RECALL_KS_SOP = [1, 10, 100, 1000]

/** Options of `evaluate`. */
export interface EvalOptions {
  /** Recall@K cut-offs; default RECALL_KS. */
  ks?: number[]
  /** Also compute NMI of k-means (k = number of classes); default false. */
  nmi?: boolean
  /** Seed of k-means; default 0. */
  seed?: number
  /** Query/gallery mode (In-Shop style): indices of the query items. */
  queryIdx?: Int32Array | number[]
  /** Query/gallery mode: indices of the gallery items (default: all items). */
  galleryIdx?: Int32Array | number[]
  /** Keep per-query results (AP, AP@R, correct@1, rank of the first positive). */
  perQuery?: boolean
  /** Called about every 125 ms and at the end with processed / total queries. */
  onProgress?(done: number, total: number): void
  /** 'auto' (default): float64 for small problems (≤ 2.5e8 multiply-adds), else float32. */
  precision?: 'auto' | Precision
  /** Similarity engine for float32: auto (native, else tfjs on a fast backend, else js). */
  engine?: EngineChoice
  /** The embeddings are already L2-normalised (skips a copy). */
  normalized?: boolean
  /** Extra k-means options (restarts, iterations, budget). */
  kmeans?: Partial<Omit<KMeansOptions, 'k' | 'seed'>>
  /** Stops the evaluation between blocks. */
  signal?: AbortSignal
  /** Use the symmetric half-matrix pass in the every-item mode (default true; tests turn it off). */
  symmetric?: boolean
  /** Memory budget of one similarity block in bytes; default 64 MB. */
  blockBytes?: number
}

/** Per-class Recall@1. */
export interface ClassRecallAt1 {
  label: number
  recallAt1: number
  /** Queries of this class that were evaluated. */
  count: number
}

/** Per-query results, in query order; excluded queries have NaN AP and rank -1. */
export interface PerQueryResults {
  /** Item index of each query. */
  index: Int32Array
  /** AP over all positives of the query (plain average precision). */
  ap: Float64Array
  /** AP@R, the per-query term of MAP@R. */
  apAtR: Float64Array
  /** 1 if the nearest neighbour has the query's class. */
  correctAt1: Uint8Array
  /** 0-based rank of the first positive (-1 for an excluded query). */
  firstPositiveRank: Int32Array
}

/** Everything `evaluate` measures. The summary part is a `Metrics` (see `toMetrics`). */
export interface EvalReport {
  /** Recall@K keyed by K as a string. */
  recall: Record<string, number>
  rPrecision: number
  mapAtR: number
  /** Mean plain AP over evaluated queries. */
  map: number
  nmi?: number
  /** Queries left out because their class had no other member in the gallery. */
  excludedQueries: number
  /** Queries that were evaluated. */
  evaluatedQueries: number
  perClassRecallAt1: ClassRecallAt1[]
  perQuery?: PerQueryResults
  /** Engine used for similarities, e.g. "native:avx2+fma" or "js-f64". */
  engine: string
  /** Notes for the user (budget cuts of k-means, ...). */
  notes: string[]
  /** Wall time of the evaluation in seconds. */
  seconds: number
}

/** The summary part of a report, as stored in the database and sent to the UI. */
export function toMetrics(r: EvalReport): Metrics {
  const m: Metrics = {
    recall: { ...r.recall },
    rPrecision: r.rPrecision,
    mapAtR: r.mapAtR,
    excludedQueries: r.excludedQueries
  }
  if (r.nmi !== undefined) m.nmi = r.nmi
  return m
}

/** Worst queries first (lowest AP@R, then lowest AP), for the UI. */
export function worstQueries(
  r: EvalReport,
  limit = 20
): { index: number; ap: number; apAtR: number; correctAt1: boolean }[] {
  const pq = r.perQuery
  if (!pq) throw new Error('worstQueries needs a report computed with perQuery: true')
  const order: number[] = []
  for (let t = 0; t < pq.index.length; t++) if (!Number.isNaN(pq.apAtR[t])) order.push(t)
  order.sort(
    (a, b) => pq.apAtR[a] - pq.apAtR[b] || pq.ap[a] - pq.ap[b] || pq.index[a] - pq.index[b]
  )
  return order.slice(0, limit).map((t) => ({
    index: pq.index[t],
    ap: pq.ap[t],
    apAtR: pq.apAtR[t],
    correctAt1: pq.correctAt1[t] === 1
  }))
}

function checkIndices(
  idx: ArrayLike<number>,
  n: number,
  what: string,
  unique: boolean
): Int32Array {
  const out = Int32Array.from(idx as ArrayLike<number>)
  const seen = unique ? new Uint8Array(n) : null
  for (let t = 0; t < out.length; t++) {
    const v = out[t]
    if (!Number.isInteger(idx[t]) || v < 0 || v >= n)
      throw new RangeError(`${what}[${t}] = ${idx[t]} is not an item index in 0..${n - 1}`)
    if (seen) {
      if (seen[v]) throw new RangeError(`${what} lists item ${v} twice`)
      seen[v] = 1
    }
  }
  return out
}

function gatherRows(x: FArray, idx: Int32Array, d: number): FArray {
  const out =
    x instanceof Float64Array ? new Float64Array(idx.length * d) : new Float32Array(idx.length * d)
  for (let t = 0; t < idx.length; t++) out.set(x.subarray(idx[t] * d, (idx[t] + 1) * d), t * d)
  return out
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve))

/** Above this many (query, positive) pairs the symmetric pass would hold too much state. */
const SYMMETRIC_MAX_PAIRS = 1e7

/** Sums the per-query terms into the report. */
class Accumulator {
  private readonly hitsAt: Float64Array
  private rpSum = 0
  private apRSum = 0
  private apSum = 0
  evaluated = 0
  excluded = 0
  private readonly perClass = new Map<number, { hit: number; count: number }>()

  constructor(
    private readonly ks: number[],
    readonly pq: PerQueryResults | undefined
  ) {
    this.hitsAt = new Float64Array(ks.length)
  }

  /** Adds query t (label ql) whose P positives have ranks rank[base..base+P). */
  add(t: number, ql: number, rank: Int32Array, base: number, P: number): void {
    if (P === 0) {
      this.excluded++
      return
    }
    const terms = queryTerms(rank, base, P)
    this.evaluated++
    for (let z = 0; z < this.ks.length; z++) if (terms.first < this.ks[z]) this.hitsAt[z]++
    // The official code averages float32 per-query R-precisions (in float64).
    this.rpSum += Math.fround(terms.hits / P)
    this.apRSum += terms.apAtR
    this.apSum += terms.ap
    const c = this.perClass.get(ql) ?? { hit: 0, count: 0 }
    c.count++
    if (terms.first === 0) c.hit++
    this.perClass.set(ql, c)
    const pq = this.pq
    if (pq) {
      pq.ap[t] = terms.ap
      pq.apAtR[t] = terms.apAtR
      pq.correctAt1[t] = terms.first === 0 ? 1 : 0
      pq.firstPositiveRank[t] = terms.first
    }
  }

  report(engine: string): EvalReport {
    const ev = this.evaluated
    const recall: Record<string, number> = {}
    this.ks.forEach((k, z) => (recall[String(k)] = ev > 0 ? this.hitsAt[z] / ev : 0))
    const r: EvalReport = {
      recall,
      rPrecision: ev > 0 ? this.rpSum / ev : 0,
      mapAtR: ev > 0 ? this.apRSum / ev : 0,
      map: ev > 0 ? this.apSum / ev : 0,
      excludedQueries: this.excluded,
      evaluatedQueries: ev,
      perClassRecallAt1: [...this.perClass.entries()]
        .map(([label, c]) => ({ label, recallAt1: c.hit / c.count, count: c.count }))
        .sort((p, q) => p.label - q.label),
      engine,
      notes: [],
      seconds: 0
    }
    if (this.pq) r.perQuery = this.pq
    if (this.excluded > 0)
      r.notes.push(
        `${this.excluded} queries excluded: their class has no other member in the gallery`
      )
    return r
  }
}

/** Shared state of one evaluation run. */
interface Run {
  x: FArray
  n: number
  d: number
  lab: Int32Array
  engine: SimEngine
  acc: Accumulator
  opts: EvalOptions
  blockBytes: number
}

function progress(opts: EvalOptions, state: { last: number }, done: number, total: number): void {
  const now = performance.now()
  if (opts.onProgress && (now - state.last >= 125 || done === total)) {
    state.last = now
    opts.onProgress(done, total)
  }
}

/**
 * Every item queries all the others. Similarities are symmetric, so only the blocks on and above
 * the diagonal are computed (half the multiply-adds): block (I, I..n) serves the rows of I (row
 * pass) and, read by columns, the later items' rows (column pass). The positives' similarities
 * must then be known beforehand; they come from the same engine, which computes an element
 * identically whatever the block shape, so they equal the bulk values bit for bit.
 */
async function evaluateSymmetric(run: Run): Promise<void> {
  const { x, n, d, lab, engine, opts } = run
  const byLabel = positionsByLabel(lab)
  const off = new Int32Array(n + 1)
  for (let i = 0; i < n; i++) off[i + 1] = off[i] + byLabel.get(lab[i])!.length - 1
  const total = off[n]
  const ps = engine.precision === 'float64' ? new Float64Array(total) : new Float32Array(total)
  const pp = new Int32Array(total)
  const cnt = new Int32Array(total)
  const ord: number[] = []
  for (const members of byLabel.values()) {
    const m = members.length
    if (m < 2) continue
    const xm = engine.precision === 'float64' ? new Float64Array(m * d) : new Float32Array(m * d)
    members.forEach((it, t) => xm.set(x.subarray(it * d, (it + 1) * d), t * d))
    const sm = allocSims(engine, m * m)
    engine.sims(xm, m, xm, m, d, sm)
    for (let a = 0; a < m; a++) {
      const base = off[members[a]]
      let P = 0
      for (let b = 0; b < m; b++) {
        if (b === a) continue
        ps[base + P] = sm[a * m + b]
        pp[base + P] = members[b]
        P++
      }
      sortPositives(ps, pp, base, P, ord)
    }
  }
  const rows = blockRows(n, engine.precision === 'float64' ? 8 : 4, run.blockBytes)
  const block = allocSims(engine, rows * n)
  const native =
    engine.countBlock &&
    engine.countBlockT &&
    block instanceof Float32Array &&
    ps instanceof Float32Array
  const pairsTotal = (n * (n + 1)) / 2
  let pairsDone = 0
  const state = { last: performance.now() }
  for (let i0 = 0; i0 < n; i0 += rows) {
    if (opts.signal?.aborted) throw new Error('evaluation cancelled')
    const i1 = Math.min(n, i0 + rows)
    const nr = i1 - i0
    const w = n - i0
    engine.sims(x.subarray(i0 * d, i1 * d), nr, x.subarray(i0 * d), w, d, block)
    if (native) {
      engine.countBlock!(
        block as Float32Array,
        nr,
        w,
        i0,
        lab,
        lab.subarray(i0, i1),
        off.subarray(i0, i1 + 1),
        ps as Float32Array,
        pp,
        cnt
      )
      engine.countBlockT!(
        block as Float32Array,
        nr,
        w,
        i0,
        i0,
        nr,
        lab,
        off,
        ps as Float32Array,
        pp,
        cnt
      )
    } else {
      for (let r = 0; r < nr; r++) {
        const q = i0 + r
        const P = off[q + 1] - off[q]
        if (P > 0) countRow(block, r * w, w, i0, lab, lab[q], ps, pp, off[q], P, cnt)
      }
      countCols(block, nr, w, i0, i0, nr, lab, off, ps, pp, cnt)
    }
    pairsDone += nr * w - (nr * (nr - 1)) / 2
    progress(opts, state, Math.round((n * pairsDone) / pairsTotal), n)
    if (i1 < n) await yieldToLoop()
  }
  const rank = new Int32Array(total)
  for (let q = 0; q < n; q++) {
    const P = off[q + 1] - off[q]
    countsToRanks(cnt, rank, off[q], P)
    run.acc.add(q, lab[q], rank, off[q], P)
  }
}

/** Query blocks against the whole gallery (query/gallery mode, or very large classes). */
async function evaluateRows(
  run: Run,
  qi: Int32Array | null,
  gi: Int32Array | null,
  gallery: FArray,
  gLabels: Int32Array
): Promise<void> {
  const { x, n, d, lab, engine, opts } = run
  const nq = qi ? qi.length : n
  const ng = gi ? gi.length : n
  const selfPos = new Int32Array(n).fill(-1)
  if (gi) gi.forEach((item, p) => (selfPos[item] = p))
  else for (let i = 0; i < n; i++) selfPos[i] = i
  const byLabel = positionsByLabel(gLabels)
  const empty = new Int32Array(0)
  const rows = blockRows(ng, engine.precision === 'float64' ? 8 : 4, run.blockBytes)
  const block = allocSims(engine, rows * ng)
  const qbuf = qi
    ? x instanceof Float64Array
      ? new Float64Array(rows * d)
      : new Float32Array(rows * d)
    : null
  const ranker = new BlockRanker(rows, engine.precision)
  const itemOf = (t: number) => (qi ? qi[t] : t)
  const state = { last: performance.now() }
  for (let q0 = 0; q0 < nq; q0 += rows) {
    if (opts.signal?.aborted) throw new Error('evaluation cancelled')
    const q1 = Math.min(nq, q0 + rows)
    let a: FArray
    if (qi && qbuf) {
      for (let t = q0; t < q1; t++) qbuf.set(x.subarray(qi[t] * d, (qi[t] + 1) * d), (t - q0) * d)
      a = qbuf.subarray(0, (q1 - q0) * d)
    } else {
      a = x.subarray(q0 * d, q1 * d)
    }
    engine.sims(a, q1 - q0, gallery, ng, d, block)
    ranker.rankBlock(
      block,
      q1 - q0,
      ng,
      gLabels,
      (r) => lab[itemOf(q0 + r)],
      (r) => byLabel.get(lab[itemOf(q0 + r)]) ?? empty,
      (r) => selfPos[itemOf(q0 + r)],
      engine
    )
    for (let t = q0; t < q1; t++) {
      const base = ranker.off[t - q0]
      run.acc.add(t, lab[itemOf(t)], ranker.rank, base, ranker.off[t - q0 + 1] - base)
    }
    progress(opts, state, q1, nq)
    if (q1 < nq) await yieldToLoop()
  }
}

/**
 * Evaluates retrieval on n×d embeddings (any scale; normalised here unless `normalized`).
 * Every item queries all others by default; with queryIdx/galleryIdx, queries search the gallery
 * (an item in both is left out of its own neighbours). Queries whose class has no other gallery
 * member are excluded and counted.
 */
export async function evaluate(
  emb: ArrayLike<number>,
  n: number,
  d: number,
  labels: ArrayLike<number>,
  opts: EvalOptions = {}
): Promise<EvalReport> {
  const t0 = performance.now()
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(d) || d < 1)
    throw new RangeError(`bad embedding shape ${n}×${d}`)
  if (emb.length !== n * d)
    throw new RangeError(`embeddings: expected ${n}×${d} = ${n * d} values, got ${emb.length}`)
  assertFinite(emb, 'embeddings')
  const lab = toLabels(labels, n)
  const ks = [...new Set(opts.ks ?? RECALL_KS)].sort((a, b) => a - b)
  for (const k of ks)
    if (!Number.isInteger(k) || k < 1)
      throw new RangeError(`Recall@K needs positive integer K, got ${k}`)
  const qi = opts.queryIdx ? checkIndices(opts.queryIdx, n, 'queryIdx', false) : null
  const gi = opts.galleryIdx ? checkIndices(opts.galleryIdx, n, 'galleryIdx', true) : null
  const nq = qi ? qi.length : n
  const ng = gi ? gi.length : n
  const precision: Precision =
    opts.precision && opts.precision !== 'auto'
      ? opts.precision
      : nq * ng * d <= 2.5e8
        ? 'float64'
        : 'float32'
  const engine: SimEngine = getEngine(precision, opts.engine ?? 'auto')
  let x: FArray
  if (precision === 'float64') x = l2NormalizeRows64(emb, n, d)
  else if (opts.normalized && emb instanceof Float32Array) x = emb
  else x = opts.normalized ? Float32Array.from(emb) : l2NormalizeRows(emb, n, d)

  const pq: PerQueryResults | undefined = opts.perQuery
    ? {
        index: qi ? Int32Array.from(qi) : Int32Array.from({ length: n }, (_, i) => i),
        ap: new Float64Array(nq).fill(NaN),
        apAtR: new Float64Array(nq).fill(NaN),
        correctAt1: new Uint8Array(nq),
        firstPositiveRank: new Int32Array(nq).fill(-1)
      }
    : undefined
  const run: Run = {
    x,
    n,
    d,
    lab,
    engine,
    acc: new Accumulator(ks, pq),
    opts,
    blockBytes: opts.blockBytes ?? 64 * 1024 * 1024
  }
  const gallery = gi ? gatherRows(x, gi, d) : x
  const gLabels = gi ? Int32Array.from(gi, (i) => lab[i]) : lab
  let pairs = 0
  if (!qi && !gi) for (const m of positionsByLabel(lab).values()) pairs += m.length * (m.length - 1)
  const symmetric =
    !qi && !gi && opts.symmetric !== false && engine.shapeInvariant && pairs <= SYMMETRIC_MAX_PAIRS
  if (symmetric) await evaluateSymmetric(run)
  else await evaluateRows(run, qi, gi, gallery, gLabels)
  const report = run.acc.report(engine.name)

  if (opts.nmi) {
    // Cluster the gallery items (all items in the default mode) into as many clusters as classes.
    const pts = gallery instanceof Float32Array ? gallery : Float32Array.from(gallery)
    const k = new Set(gLabels).size
    if (k >= 2 && k <= ng) {
      const fe =
        engine.precision === 'float32' ? engine : getEngine('float32', opts.engine ?? 'auto')
      const km = kmeans(pts, ng, d, { ...opts.kmeans, k, seed: opts.seed ?? 0, engine: fe })
      report.nmi = normalizedMutualInfo(gLabels, km.labels, 'geometric')
      report.notes.push(...km.notes)
    } else {
      report.nmi = k === 1 ? 1 : 0
    }
  }
  releaseEngineCaches()
  report.seconds = (performance.now() - t0) / 1000
  return report
}

/** One neighbour in a query's result list. */
export interface NeighbourHit {
  /** Gallery position. */
  index: number
  similarity: number
  /** Same class as the query. */
  correct: boolean
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
    if (!this.half) return this.topFromRow(q, k, -1, excludeIds, null)
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
    if (cand.length > n / 8) return this.topFromRow(q, k, -1, excludeIds, null)
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
    const neighbours = this.topFromRow(vec, k, q, undefined, label)
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
    excludeIds: ArrayLike<number> | undefined,
    label: number | null
  ): NeighbourHit[] {
    if (!Number.isInteger(k) || k < 1)
      throw new RangeError(`k must be a positive integer, got ${k}`)
    this.lastSearchScored = this.n
    this.engine.sims(vec, 1, this.data, this.n, this.d, this.row)
    const kk = Math.min(k, this.n)
    const idx = new Int32Array(kk)
    const sims = new Float32Array(kk)
    selectRow(this.row, 0, this.n, new TopK(kk), self, this.mask(excludeIds), idx, sims, 0)
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
