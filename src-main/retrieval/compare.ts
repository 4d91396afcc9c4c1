/** Side-by-side comparison of runs: config differences and best metrics. */
import type { Comparison, ConfigDiffRow } from '../../src-preload/contract/retrieval'
import {
  BOOTSTRAP,
  pairedDifferences,
  referenceRows,
  runIntervals,
  seedGroups
} from './compareStats'
import type { QueryRecord, RunInfo } from './repo'

/**
 * Flattens nested plain objects to dotted keys (`backbone.kind`); arrays and other values are
 * leaves. Keys keep their first-seen order, so the TrainConfig's own order shows through.
 */
export function flattenConfig(
  obj: unknown,
  prefix = '',
  out: Record<string, unknown> = {}
): Record<string, unknown> {
  if (obj !== null && typeof obj === 'object' && !Array.isArray(obj)) {
    const entries = Object.entries(obj as Record<string, unknown>)
    if (entries.length === 0 && prefix) out[prefix] = {}
    for (const [k, v] of entries) flattenConfig(v, prefix ? `${prefix}.${k}` : k, out)
  } else if (prefix) {
    out[prefix] = obj
  }
  return out
}

/** Stable text form used to decide whether two values differ (arrays and objects by content). */
const same = (a: unknown, b: unknown): boolean =>
  JSON.stringify(a ?? null) === JSON.stringify(b ?? null)

/**
 * One row per key of any run's flattened config, in first-seen order. A key missing from a run
 * (an older snapshot) shows as null; `differs` is true when not all values are equal.
 */
export function configRows(configs: Record<string, unknown>[]): ConfigDiffRow[] {
  const flat = configs.map((c) => flattenConfig(c))
  const keys: string[] = []
  const seen = new Set<string>()
  for (const f of flat) {
    for (const k of Object.keys(f)) {
      if (!seen.has(k)) {
        seen.add(k)
        keys.push(k)
      }
    }
  }
  return keys.map((key) => {
    const values = flat.map((f) => (Object.hasOwn(f, key) ? (f[key] ?? null) : null))
    return { key, values, differs: values.some((v) => !same(v, values[0])) }
  })
}

/**
 * The best metrics of a run: its test metrics when it has them (the final model's, or a stopped
 * run's evaluated best checkpoint), else the best model-selection metrics seen so far, labelled
 * with their split; epoch is the selected epoch. `ci` comes from the run's per-query results.
 */
export function bestOf(run: RunInfo, queries?: QueryRecord[]): Comparison['best'][number] {
  const m = run.testMetrics ?? run.bestMetrics
  const selectionSplit =
    run.bestMetrics?.split ?? (run.config.modelSelection === 'test' ? 'test' : 'validation')
  return {
    runId: run.id,
    epoch: run.bestEpoch,
    recall: m ? { ...m.recall } : {},
    mapAtR: m && Number.isFinite(m.mapAtR) ? m.mapAtR : null,
    rPrecision: m && Number.isFinite(m.rPrecision) ? m.rPrecision : null,
    split: run.testMetrics ? 'test' : m ? selectionSplit : null,
    testFrom: run.testFrom,
    seed: typeof run.config.seed === 'number' ? run.config.seed : null,
    ci: run.testMetrics ? runIntervals(queries) : null
  }
}

/**
 * The comparison of the given runs, in the given order. `queries` holds the per-query test
 * results of the runs that have them (for intervals and paired differences).
 */
export function compareRuns(
  runs: RunInfo[],
  queries: Map<number, QueryRecord[]> = new Map()
): Comparison {
  const tested = new Map([...queries].filter(([id]) => runs.find((r) => r.id === id)?.testMetrics))
  return {
    runIds: runs.map((r) => r.id),
    configRows: configRows(runs.map((r) => r.config)),
    best: runs.map((r) => bestOf(r, queries.get(r.id))),
    differences: pairedDifferences(
      runs.map((r) => r.id),
      tested
    ),
    references: referenceRows(runs),
    seedGroups: seedGroups(runs),
    bootstrap: { ...BOOTSTRAP }
  }
}
