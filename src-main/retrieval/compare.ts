/** Side-by-side comparison of runs: config differences and best metrics. */
import type { Comparison, ConfigDiffRow } from '../../src-preload/contract/retrieval'
import type { RunInfo } from './repo'

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
 * The best metrics of a run: its final test metrics when it has them (those of the selected
 * model), else the best model-selection metrics seen so far; epoch is the selected epoch.
 */
export function bestOf(run: RunInfo): Comparison['best'][number] {
  const m = run.testMetrics ?? run.bestMetrics
  return {
    runId: run.id,
    epoch: run.bestEpoch,
    recall: m ? { ...m.recall } : {},
    mapAtR: m && Number.isFinite(m.mapAtR) ? m.mapAtR : null,
    rPrecision: m && Number.isFinite(m.rPrecision) ? m.rPrecision : null
  }
}

/** The comparison of the given runs, in the given order. */
export function compareRuns(runs: RunInfo[]): Comparison {
  return {
    runIds: runs.map((r) => r.id),
    configRows: configRows(runs.map((r) => r.config)),
    best: runs.map(bestOf)
  }
}
