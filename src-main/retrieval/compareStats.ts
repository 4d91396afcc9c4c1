/**
 * The statistics of a comparison: bootstrap intervals of each run's test R@1 and MAP@R over its
 * test queries, paired bootstrap differences of runs tested on the same queries, reference rows
 * (the untrained model, the raw backbone features) and seed groups (mean ± sd).
 */
import type { Comparison, MeanSd } from '../../src-preload/contract/retrieval'
import { bootstrapMeans, percentileInterval } from '../ml/eval/bootstrap'
import type { QueryRecord, RunInfo } from './repo'

/** Resamples, level and seed of every interval of a comparison. */
export const BOOTSTRAP = { resamples: 1000, level: 0.95, seed: 1 } as const

/** Per-query scores of a run, in image-id order: correct at 1 (0/1) and AP@R. */
interface Scores {
  ids: number[]
  r1: Float64Array
  ap: Float64Array
}

function scoresOf(records: QueryRecord[]): Scores {
  const sorted = [...records].sort((a, b) => a.imageId - b.imageId)
  return {
    ids: sorted.map((q) => q.imageId),
    r1: Float64Array.from(sorted, (q) => (q.correctAt1 ? 1 : 0)),
    ap: Float64Array.from(sorted, (q) => q.ap)
  }
}

/** Bootstrap intervals of a run's test R@1 and MAP@R (null without per-query results). */
export function runIntervals(records: QueryRecord[] | undefined): Comparison['best'][number]['ci'] {
  if (!records?.length) return null
  const s = scoresOf(records)
  const [r1, ap] = bootstrapMeans([s.r1, s.ap], BOOTSTRAP)
  return {
    queries: s.ids.length,
    r1: percentileInterval(r1, BOOTSTRAP.level),
    mapAtR: percentileInterval(ap, BOOTSTRAP.level)
  }
}

const sameIds = (a: number[], b: number[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i])

/** Paired differences of every two runs with per-query results on the same test queries. */
export function pairedDifferences(
  runIds: number[],
  queries: Map<number, QueryRecord[]>
): Comparison['differences'] {
  const scores = new Map(
    runIds.filter((id) => queries.get(id)?.length).map((id) => [id, scoresOf(queries.get(id)!)])
  )
  const out: Comparison['differences'] = []
  const ids = [...scores.keys()]
  for (let i = 0; i < ids.length; i++) {
    for (let j = i + 1; j < ids.length; j++) {
      const a = scores.get(ids[i])!
      const b = scores.get(ids[j])!
      if (!sameIds(a.ids, b.ids)) continue
      const n = a.ids.length
      const d1 = Float64Array.from({ length: n }, (_, t) => a.r1[t] - b.r1[t])
      const dap = Float64Array.from({ length: n }, (_, t) => a.ap[t] - b.ap[t])
      const [m1, map] = bootstrapMeans([d1, dap], BOOTSTRAP)
      for (const [metric, d, m] of [
        ['r1', d1, m1],
        ['mapAtR', dap, map]
      ] as const) {
        const { lo, hi } = percentileInterval(m, BOOTSTRAP.level)
        const diff = d.reduce((s, x) => s + x, 0) / n
        out.push({ runA: ids[i], runB: ids[j], metric, diff, lo, hi, significant: lo > 0 || hi < 0 })
      }
    }
  }
  return out
}

const testKey = (r: RunInfo): string =>
  JSON.stringify([r.datasetId, r.config.split ?? null])

/**
 * Reference rows: the raw backbone features (one per test split and backbone) and the untrained
 * model (one per distinct result), each labelled with the run it comes from.
 */
export function referenceRows(runs: RunInfo[]): Comparison['references'] {
  const out: Comparison['references'] = []
  const seen = new Set<string>()
  const pct = (m: RunInfo['rawMetrics']) => ({
    r1: m?.recall['1'] ?? null,
    mapAtR: m && Number.isFinite(m.mapAtR) ? m.mapAtR : null
  })
  for (const r of runs) {
    const backbone = JSON.stringify(r.config.backbone ?? null)
    if (r.rawMetrics) {
      const key = `raw|${testKey(r)}|${backbone}`
      if (!seen.has(key)) {
        seen.add(key)
        out.push({
          kind: 'raw',
          runId: r.id,
          label: `Raw backbone features (${(r.config.backbone as { kind?: string } | undefined)?.kind ?? 'backbone'}, as run #${r.id})`,
          ...pct(r.rawMetrics),
          split: 'test'
        })
      }
    }
    if (r.baselineMetrics) {
      const key = `untrained|${testKey(r)}|${JSON.stringify(r.baselineMetrics.recall)}|${r.baselineMetrics.mapAtR}`
      if (!seen.has(key)) {
        seen.add(key)
        out.push({
          kind: 'untrained',
          runId: r.id,
          label: `Untrained model (as run #${r.id})`,
          ...pct(r.baselineMetrics),
          split: 'test'
        })
      }
    }
  }
  return out
}

function meanSd(xs: number[]): MeanSd {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length
  const v = xs.length > 1 ? xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1) : 0
  return { mean, sd: Math.sqrt(v) }
}

/** Runs with test metrics whose configs are equal but for seed and name, two or more a group. */
export function seedGroups(runs: RunInfo[]): Comparison['seedGroups'] {
  const groups = new Map<string, RunInfo[]>()
  for (const r of runs) {
    if (!r.testMetrics) continue
    const rest: Record<string, unknown> = { ...r.config }
    delete rest.seed
    delete rest.name
    const key = JSON.stringify(Object.entries(rest).sort(([a], [b]) => a.localeCompare(b)))
    groups.set(key, [...(groups.get(key) ?? []), r])
  }
  return [...groups.values()]
    .filter((g) => g.length >= 2)
    .map((g) => ({
      runIds: g.map((r) => r.id),
      seeds: g.map((r) => Number(r.config.seed)),
      r1: meanSd(g.map((r) => r.testMetrics!.recall['1'] ?? 0)),
      mapAtR: meanSd(g.map((r) => r.testMetrics!.mapAtR))
    }))
}
