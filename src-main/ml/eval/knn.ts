/**
 * Exact k-nearest-neighbour search by cosine similarity (dot products of L2-normalised rows).
 * Queries are processed in blocks sized to a memory budget, so no query × gallery matrix larger
 * than the block is ever held, and each row's top k is found with a bounded heap (O(n log k)),
 * not by sorting the row. Ties are broken by the lower gallery index, everywhere in this folder.
 */
import {
  allocSims,
  getEngine,
  releaseEngineCaches,
  type EngineChoice,
  type FArray,
  type SimEngine
} from './engine'

/** Options of `knn`. */
export interface KnnOptions {
  /** Query i is gallery item i and is left out of its own neighbours. */
  excludeSelf?: boolean
  /** Gallery indices left out of every query's neighbours. */
  excludeIds?: Int32Array | number[]
  /** Which similarity engine to use (float32); default auto (native when available). */
  engine?: EngineChoice | SimEngine
  /** Memory budget for one block of similarities, in bytes (default 64 MB). */
  blockBytes?: number
}

/** Result of `knn`: row q holds its neighbours at [q*k, (q+1)*k), best first. */
export interface KnnResult {
  /** Gallery indices; -1 pads a row that has fewer than k eligible items. */
  indices: Int32Array
  /** Similarities; NaN pads. */
  sims: Float32Array
  /** Neighbours per row (min(k, gallery size)). */
  k: number
}

/**
 * Bounded min-heap of the best k (similarity, index) pairs seen so far. The root is the worst
 * kept pair; with indices arriving in increasing order, an equal similarity never displaces it,
 * which is exactly the "lower index wins a tie" rule.
 */
export class TopK {
  readonly k: number
  private readonly hs: Float64Array
  private readonly hi: Int32Array
  size = 0

  constructor(k: number) {
    this.k = k
    this.hs = new Float64Array(Math.max(1, k))
    this.hi = new Int32Array(Math.max(1, k))
  }

  /** Empties the heap for reuse. */
  clear(): void {
    this.size = 0
  }

  /** Similarity a new item must beat to enter (−∞ until the heap is full). */
  threshold(): number {
    return this.size < this.k ? -Infinity : this.hs[0]
  }

  /** Offers (s, idx); idx must be larger than every index offered before since the last clear. */
  push(s: number, idx: number): void {
    const hs = this.hs
    const hi = this.hi
    if (this.size < this.k) {
      // Sift up: worse = lower similarity, or equal similarity and higher index.
      let c = this.size++
      while (c > 0) {
        const p = (c - 1) >> 1
        if (hs[p] < s || (hs[p] === s && hi[p] > idx)) break
        hs[c] = hs[p]
        hi[c] = hi[p]
        c = p
      }
      hs[c] = s
      hi[c] = idx
      return
    }
    if (!(s > hs[0])) return
    const n = this.size
    let c = 0
    for (;;) {
      const l = 2 * c + 1
      if (l >= n) break
      const r = l + 1
      let m = l
      if (r < n && (hs[r] < hs[l] || (hs[r] === hs[l] && hi[r] > hi[l]))) m = r
      if (hs[m] > s || (hs[m] === s && hi[m] < idx)) break
      hs[c] = hs[m]
      hi[c] = hi[m]
      c = m
    }
    hs[c] = s
    hi[c] = idx
  }

  /** Writes the kept pairs best first into (idxOut, simOut) at `offset`; returns how many. */
  drain(idxOut: Int32Array, simOut: FArray, offset: number): number {
    const n = this.size
    const order = Array.from({ length: n }, (_, i) => i)
    const hs = this.hs
    const hi = this.hi
    order.sort((a, b) => hs[b] - hs[a] || hi[a] - hi[b])
    for (let t = 0; t < n; t++) {
      idxOut[offset + t] = hi[order[t]]
      simOut[offset + t] = hs[order[t]]
    }
    this.size = 0
    return n
  }
}

/**
 * Top k of one similarity row, skipping `skip` (−1 for none) and masked indices. Writes best
 * first at `offset` and pads with -1 / NaN up to k.
 */
export function selectRow(
  row: FArray,
  rowOffset: number,
  ng: number,
  heap: TopK,
  skip: number,
  mask: Uint8Array | null,
  idxOut: Int32Array,
  simOut: FArray,
  offset: number
): void {
  heap.clear()
  const k = heap.k
  let j = 0
  // Fill phase, then the cheap threshold test rejects almost everything.
  for (; j < ng && heap.size < k; j++) {
    if (j === skip || (mask !== null && mask[j] === 1)) continue
    heap.push(row[rowOffset + j], j)
  }
  let thr = heap.threshold()
  for (; j < ng; j++) {
    const v = row[rowOffset + j]
    if (!(v > thr)) continue
    if (j === skip || (mask !== null && mask[j] === 1)) continue
    heap.push(v, j)
    thr = heap.threshold()
  }
  const got = heap.drain(idxOut, simOut, offset)
  for (let t = got; t < k; t++) {
    idxOut[offset + t] = -1
    simOut[offset + t] = NaN
  }
}

/** Resolves an engine option to a float32 engine. */
export function resolveEngine(engine: EngineChoice | SimEngine | undefined): SimEngine {
  if (engine && typeof engine === 'object') return engine
  return getEngine('float32', engine ?? 'auto')
}

/** Rows per block so that one block of similarities fits the byte budget. */
export function blockRows(ng: number, bytesPerSim: number, blockBytes: number, cap = 256): number {
  return Math.max(1, Math.min(cap, Math.floor(blockBytes / Math.max(1, ng * bytesPerSim))))
}

/**
 * Exact top-k gallery neighbours of each query by dot product (cosine similarity for
 * L2-normalised rows — normalise with `l2NormalizeRows` first). Rows are best first, ties broken
 * by the lower gallery index.
 */
export function knn(
  queries: Float32Array,
  nq: number,
  gallery: Float32Array,
  ng: number,
  d: number,
  k: number,
  opts: KnnOptions = {}
): KnnResult {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`)
  if (queries.length < nq * d)
    throw new RangeError(`queries: expected ${nq}×${d} values, got ${queries.length}`)
  if (gallery.length < ng * d)
    throw new RangeError(`gallery: expected ${ng}×${d} values, got ${gallery.length}`)
  if (opts.excludeSelf && nq > ng)
    throw new RangeError('excludeSelf needs query i to be gallery item i (nq ≤ ng)')
  const engine = resolveEngine(opts.engine)
  const kk = Math.min(k, ng)
  const indices = new Int32Array(nq * kk)
  const sims = new Float32Array(nq * kk)
  if (kk === 0 || nq === 0) return { indices, sims, k: kk }
  let mask: Uint8Array | null = null
  if (opts.excludeIds && opts.excludeIds.length > 0) {
    mask = new Uint8Array(ng)
    for (const id of opts.excludeIds) if (id >= 0 && id < ng) mask[id] = 1
  }
  const rows = blockRows(ng, 4, opts.blockBytes ?? 64 * 1024 * 1024)
  const block = allocSims(engine, rows * ng)
  const heap = new TopK(kk)
  for (let q0 = 0; q0 < nq; q0 += rows) {
    const q1 = Math.min(nq, q0 + rows)
    engine.sims(queries.subarray(q0 * d, q1 * d), q1 - q0, gallery, ng, d, block)
    for (let q = q0; q < q1; q++) {
      selectRow(
        block,
        (q - q0) * ng,
        ng,
        heap,
        opts.excludeSelf ? q : -1,
        mask,
        indices,
        sims,
        q * kk
      )
    }
  }
  releaseEngineCaches()
  return { indices, sims, k: kk }
}
