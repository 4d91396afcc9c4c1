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
  type SimEngine
} from './engine'
import { kmeans, type KMeansOptions } from './kmeans'
import { blockRows } from './knn'
import { normalizedMutualInfo } from './nmi'
import { Accumulator, type EvalReport, type PerQueryResults } from './report'
import {
  BlockRanker,
  countCols,
  countRow,
  countsToRanks,
  positionsByLabel,
  sortPositives,
  toLabels
} from './rank'

/** Recall@K presets (the contract's one list): HIST protocol and Stanford Online Products. */
export { RECALL_KS, RECALL_KS_SOP }

/** Options of `evaluate`. */
export interface EvalOptions {
  /** Recall@K cut-offs; default RECALL_KS. */
  ks?: readonly number[]
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

export {
  toMetrics,
  worstQueries,
  type ClassRecallAt1,
  type EvalReport,
  type PerQueryResults
} from './report'
export {
  queryDetail,
  RetrievalIndex,
  type MissedPositive,
  type NeighbourHit,
  type QueryDetail,
  type RankedHit,
  type RetrievalIndexOptions
} from './retrievalIndex'
import { RECALL_KS, RECALL_KS_SOP } from '../../../src-preload/contract/common'
