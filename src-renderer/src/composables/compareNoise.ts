/**
 * Which differences in a comparison are measurable: the best test value of a metric is bold
 * only when the paired bootstrap interval of its gap to every other run excludes 0; runs whose
 * gap to the best is inside the interval are marked 'tie' (shown greyed, not bold). Pure, so the
 * rule is unit-tested.
 */
import type { Comparison } from '../../../src-preload/contract'

/** How a metric cell is shown: bold best, greyed tie (within noise of the best), or plain. */
export type CellMark = 'top' | 'tie' | 'none'

/** The metrics that have intervals. */
export type NoiseMetric = 'r1' | 'mapAtR'

type Row = Comparison['best'][number]

export function valueOf(row: Row, metric: NoiseMetric): number | null {
  const v = metric === 'r1' ? row.recall['1'] : row.mapAtR
  return v === undefined || v === null || !Number.isFinite(v) ? null : v
}

const overlap = (a: Row, b: Row, metric: NoiseMetric): boolean => {
  const x = a.ci?.[metric]
  const y = b.ci?.[metric]
  if (!x || !y) return true // no intervals: nothing says the gap is real
  return x.lo <= y.hi && y.lo <= x.hi
}

/** Whether the gap between two runs' test values of a metric is measurable. */
export function isSignificant(c: Comparison, a: Row, b: Row, metric: NoiseMetric): boolean {
  const d = c.differences.find(
    (e) =>
      e.metric === metric &&
      ((e.runA === a.runId && e.runB === b.runId) || (e.runA === b.runId && e.runB === a.runId))
  )
  // Paired (same test queries) when possible; otherwise non-overlapping intervals.
  return d ? d.significant : !overlap(a, b, metric)
}

/** The mark of every run's test cell of a metric (validation-only rows get 'none'). */
export function metricMarks(c: Comparison, metric: NoiseMetric): Map<number, CellMark> {
  const marks = new Map<number, CellMark>(c.best.map((b) => [b.runId, 'none']))
  const rows = c.best.filter((b) => b.split === 'test' && valueOf(b, metric) !== null)
  if (rows.length < 2) return marks
  const top = rows.reduce((m, b) => (valueOf(b, metric)! > valueOf(m, metric)! ? b : m))
  let ties = 0
  for (const b of rows) {
    if (b === top) continue
    if (!isSignificant(c, top, b, metric)) {
      marks.set(b.runId, 'tie')
      ties++
    }
  }
  marks.set(top.runId, ties ? 'tie' : 'top')
  return marks
}

/** "58.5–62.3" for an interval (percent, one decimal). */
export function formatInterval(i: { lo: number; hi: number } | undefined | null): string {
  if (!i || !Number.isFinite(i.lo) || !Number.isFinite(i.hi)) return ''
  return `${(i.lo * 100).toFixed(1)}–${(i.hi * 100).toFixed(1)}`
}

/** Parses "1,2, 3" into distinct integer seeds; throws a sentence for bad input. */
export function parseSeeds(text: string): number[] {
  const parts = text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean)
  if (!parts.length) throw new Error('Give one or more seeds, e.g. 2, 3, 4.')
  const seeds = parts.map((p) => {
    const n = Number(p)
    if (!Number.isInteger(n)) throw new Error(`"${p}" is not a whole number.`)
    return n
  })
  if (seeds.length > 20) throw new Error('At most 20 seeds at a time.')
  return [...new Set(seeds)]
}
