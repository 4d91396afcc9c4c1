/**
 * Ranks of a query's positives without sorting its similarity row.
 *
 * For one query only the ranks of its positives matter. They are sorted (similarity desc,
 * gallery position asc: the tie rule of the whole folder), then every negative at or above the
 * weakest positive is placed by binary search in front of the first positive it beats. The rank
 * of positive k is k plus the negatives counted in front of positives 0..k. Counts add up, so a
 * query's row may be scanned in pieces (row pass and column pass of the symmetric evaluation).
 * The native kernel (native/simkernel.cc) has the same loops.
 */
import type { FArray, Precision, SimEngine } from './engine'

/**
 * Row pass for one query: row[off + jj] is its similarity to gallery item colStart + jj. Its
 * positives (similarity `ps`, position `pp`) are sorted best first at [base, base+P); counts are
 * added to `cnt` there.
 */
export function countRow(
  row: FArray,
  off: number,
  w: number,
  colStart: number,
  gLabels: Int32Array,
  qLabel: number,
  ps: FArray,
  pp: Int32Array,
  base: number,
  P: number,
  cnt: Int32Array
): void {
  const lowS = ps[base + P - 1]
  const lowP = pp[base + P - 1]
  for (let jj = 0; jj < w; jj++) {
    const v = row[off + jj]
    const j = colStart + jj
    if (v < lowS || (v === lowS && j > lowP)) continue
    if (gLabels[j] === qLabel) continue // positives and the query itself
    let lo = 0
    let hi = P - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      const s = ps[base + mid]
      if (v > s || (v === s && j < pp[base + mid])) hi = mid
      else lo = mid + 1
    }
    cnt[base + lo]++
  }
}

/**
 * Column pass of the symmetric evaluation: block column jj ≥ firstCol is query colStart + jj,
 * block row r is gallery item rowStart + r; posOff is indexed by the global query index.
 */
export function countCols(
  block: FArray,
  nrows: number,
  w: number,
  rowStart: number,
  colStart: number,
  firstCol: number,
  labels: Int32Array,
  posOff: Int32Array,
  ps: FArray,
  pp: Int32Array,
  cnt: Int32Array
): void {
  for (let jj = firstCol; jj < w; jj++) {
    const q = colStart + jj
    const base = posOff[q]
    const P = posOff[q + 1] - base
    if (P === 0) continue
    const lowS = ps[base + P - 1]
    const lowP = pp[base + P - 1]
    const ql = labels[q]
    for (let r = 0; r < nrows; r++) {
      const v = block[r * w + jj]
      const i = rowStart + r
      if (v < lowS || (v === lowS && i > lowP)) continue
      if (labels[i] === ql) continue
      let lo = 0
      let hi = P - 1
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        const s = ps[base + mid]
        if (v > s || (v === s && i < pp[base + mid])) hi = mid
        else lo = mid + 1
      }
      cnt[base + lo]++
    }
  }
}

/** Sorts the segment [base, base+P) of (sim, pos) pairs by similarity desc, position asc. */
export function sortPositives(
  sim: FArray,
  pos: Int32Array,
  base: number,
  P: number,
  ord: number[] = []
): void {
  if (P <= 32) {
    // Insertion sort: classes are small in retrieval benchmarks.
    for (let a = base + 1; a < base + P; a++) {
      const s = sim[a]
      const p = pos[a]
      let b = a - 1
      while (b >= base && (sim[b] < s || (sim[b] === s && pos[b] > p))) {
        sim[b + 1] = sim[b]
        pos[b + 1] = pos[b]
        b--
      }
      sim[b + 1] = s
      pos[b + 1] = p
    }
    return
  }
  ord.length = P
  for (let t = 0; t < P; t++) ord[t] = base + t
  ord.sort((a, b) => sim[b] - sim[a] || pos[a] - pos[b])
  const s2 = Float64Array.from(ord, (t) => sim[t])
  const p2 = Int32Array.from(ord, (t) => pos[t])
  sim.set(s2, base)
  pos.set(p2, base)
}

/** Turns counts into ranks for the segment [base, base+P). */
export function countsToRanks(cnt: Int32Array, rank: Int32Array, base: number, P: number): void {
  let acc = 0
  for (let k = 0; k < P; k++) {
    acc += cnt[base + k]
    rank[base + k] = k + acc
  }
}

/** Per-query metric terms from the ranks of its P positives at [base, base+P). */
export function queryTerms(
  rank: Int32Array,
  base: number,
  P: number
): { first: number; hits: number; apAtR: number; ap: number } {
  let hits = 0
  let apR = 0
  let ap = 0
  for (let k = 0; k < P; k++) {
    const rk = rank[base + k]
    const prec = (k + 1) / (rk + 1)
    ap += prec
    if (rk < P) {
      hits++
      apR += prec
    }
  }
  return { first: rank[base], hits, apAtR: apR / P, ap: ap / P }
}

/**
 * Ranks the positives of a block of query rows against the whole gallery: gathers and sorts
 * each row's positives from the row itself, counts negatives (natively when the engine can) and
 * turns the counts into ranks.
 */
export class BlockRanker {
  /** Row r's positives live at [off[r], off[r+1]). */
  off: Int32Array
  /** Positives' similarities, best first within a row. */
  sim: FArray
  /** Positives' gallery positions. */
  pos: Int32Array
  /** 0-based rank of each positive among the row's eligible gallery items. */
  rank: Int32Array
  private cnt: Int32Array
  private qLabels: Int32Array
  private ord: number[] = []
  private readonly f64: boolean

  constructor(rows: number, precision: Precision) {
    this.f64 = precision === 'float64'
    this.off = new Int32Array(rows + 1)
    this.qLabels = new Int32Array(rows)
    this.sim = this.f64 ? new Float64Array(64) : new Float32Array(64)
    this.pos = new Int32Array(64)
    this.rank = new Int32Array(64)
    this.cnt = new Int32Array(64)
  }

  private ensure(total: number): void {
    if (this.pos.length >= total) return
    const cap = Math.max(total, this.pos.length * 2)
    const sim = this.f64 ? new Float64Array(cap) : new Float32Array(cap)
    sim.set(this.sim)
    const pos = new Int32Array(cap)
    pos.set(this.pos)
    this.sim = sim
    this.pos = pos
    this.rank = new Int32Array(cap)
    this.cnt = new Int32Array(cap)
  }

  /**
   * Ranks rows [0, nrows) of `block` (row r = a query, columns = the ng gallery items).
   * `positives(r)` gives the gallery positions of row r's class and `self(r)` the query's own
   * gallery position (-1 when it is not in the gallery).
   */
  rankBlock(
    block: FArray,
    nrows: number,
    ng: number,
    gLabels: Int32Array,
    qLabel: (r: number) => number,
    positives: (r: number) => Int32Array,
    self: (r: number) => number,
    engine: SimEngine | null
  ): void {
    const off = this.off
    off[0] = 0
    for (let r = 0; r < nrows; r++) {
      const list = positives(r)
      const me = self(r)
      const base = off[r]
      this.ensure(base + list.length)
      let P = 0
      for (let t = 0; t < list.length; t++) {
        const p = list[t]
        if (p === me) continue
        this.pos[base + P] = p
        this.sim[base + P] = block[r * ng + p]
        P++
      }
      if (P > 1) sortPositives(this.sim, this.pos, base, P, this.ord)
      off[r + 1] = base + P
      this.qLabels[r] = qLabel(r)
    }
    const cnt = this.cnt
    cnt.fill(0, 0, off[nrows])
    if (engine?.countBlock && block instanceof Float32Array && this.sim instanceof Float32Array) {
      engine.countBlock(block, nrows, ng, 0, gLabels, this.qLabels, off, this.sim, this.pos, cnt)
    } else {
      for (let r = 0; r < nrows; r++) {
        const P = off[r + 1] - off[r]
        if (P > 0)
          countRow(
            block,
            r * ng,
            ng,
            0,
            gLabels,
            this.qLabels[r],
            this.sim,
            this.pos,
            off[r],
            P,
            cnt
          )
      }
    }
    for (let r = 0; r < nrows; r++) countsToRanks(cnt, this.rank, off[r], off[r + 1] - off[r])
  }
}

/** Labels as Int32Array, checked to be 32-bit integers. */
export function toLabels(labels: ArrayLike<number>, n: number): Int32Array {
  if (labels.length !== n) throw new RangeError(`expected ${n} labels, got ${labels.length}`)
  const out = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    const v = labels[i]
    if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647)
      throw new RangeError(`label ${i} is not a 32-bit integer: ${v}`)
    out[i] = v
  }
  return out
}

/** Gallery positions of each label, in increasing position order. */
export function positionsByLabel(galleryLabels: Int32Array): Map<number, Int32Array> {
  const counts = new Map<number, number>()
  for (const l of galleryLabels) counts.set(l, (counts.get(l) ?? 0) + 1)
  const out = new Map<number, Int32Array>()
  const fill = new Map<number, number>()
  for (const [l, c] of counts) {
    out.set(l, new Int32Array(c))
    fill.set(l, 0)
  }
  for (let p = 0; p < galleryLabels.length; p++) {
    const l = galleryLabels[p]
    const f = fill.get(l)!
    out.get(l)![f] = p
    fill.set(l, f + 1)
  }
  return out
}
