/**
 * What an evaluation reports: the summary `Metrics`, per-class Recall@1 and per-query results,
 * and the accumulator that sums the per-query terms (ranks of the positives) into them.
 */
import type { Metrics } from '../../../src-preload/contract/common'
import { queryTerms } from './rank'

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

/** Sums the per-query terms into the report. */
export class Accumulator {
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
