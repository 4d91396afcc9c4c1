import { describe, expect, it } from 'vitest'
import type { Metrics } from '../../src-preload/contract/common'
import { compareRuns } from './compare'
import type { QueryRecord, RunInfo } from './repo'

const metrics = (r1: number, map: number): Metrics => ({
  recall: { '1': r1 },
  rPrecision: 0,
  mapAtR: map
})

function run(id: number, over: Partial<RunInfo> = {}, config: Record<string, unknown> = {}): RunInfo {
  return {
    id,
    name: `run ${id}`,
    status: 'completed',
    datasetId: 1,
    datasetName: 'd',
    config: { datasetId: 1, loss: 'hist', seed: id, split: { kind: 'preset' }, backbone: { kind: 'mobilenetv2' }, ...config },
    dir: null,
    finishedAt: null,
    bestEpoch: 3,
    bestMetrics: metrics(0.9, 0.5),
    testMetrics: metrics(0.6, 0.3),
    baselineMetrics: metrics(0.4, 0.2),
    rawMetrics: metrics(0.45, 0.22),
    testFrom: 'final',
    ...over
  }
}

/** n queries, the first `right` of them correct at 1, AP = correct ? 0.8 : 0.1. */
const queries = (n: number, right: (i: number) => boolean): QueryRecord[] =>
  Array.from({ length: n }, (_, i) => ({ imageId: 100 + i, correctAt1: right(i), ap: right(i) ? 0.8 : 0.1 }))

describe('comparison statistics', () => {
  it('gives each tested run bootstrap intervals around its per-query means', () => {
    const q = queries(393, (i) => i % 5 < 3) // R@1 0.6
    const c = compareRuns([run(1), run(2, { testMetrics: null })], new Map([[1, q]]))
    const ci = c.best[0].ci!
    expect(ci.queries).toBe(393)
    expect(ci.r1.lo).toBeLessThan(0.6)
    expect(ci.r1.hi).toBeGreaterThan(0.6)
    expect(ci.r1.hi - ci.r1.lo).toBeGreaterThan(0.07) // ± about 5 points on 393 queries
    expect(ci.r1.hi - ci.r1.lo).toBeLessThan(0.12)
    expect(c.best[1].ci).toBeNull()
    expect(c.best[1].split).toBe('validation')
    expect(c.bootstrap).toEqual({ resamples: 1000, level: 0.95, seed: 1 })
  })

  it('marks a 1-point gap on 393 queries as noise and a large one as significant (paired)', () => {
    const a = queries(393, (i) => i % 5 < 3)
    // 20 queries flip right → wrong and 16 wrong → right: a net gap of 4 (about 1 point).
    const up = new Set(a.filter((_, i) => i % 25 === 3).slice(0, 16).map((q) => q.imageId))
    const b = a.map((x, i) =>
      i % 20 === 0 || up.has(x.imageId) ? { ...x, correctAt1: !x.correctAt1 } : x
    )
    expect(b.filter((x) => x.correctAt1).length - a.filter((x) => x.correctAt1).length).toBe(-4)
    const c = queries(393, (i) => i % 5 < 4)
    const cmp = compareRuns([run(1), run(2), run(3)], new Map([[1, a], [2, b], [3, c]]))
    const d = (x: number, y: number, m: 'r1' | 'mapAtR') =>
      cmp.differences.find((e) => e.runA === x && e.runB === y && e.metric === m)!
    expect(d(1, 2, 'r1').significant).toBe(false)
    expect(d(1, 3, 'r1').significant).toBe(true)
    expect(d(1, 3, 'r1').diff).toBeCloseTo(-0.2, 2)
    expect(d(1, 3, 'mapAtR').significant).toBe(true)
  })

  it('does not pair runs tested on different queries', () => {
    const cmp = compareRuns(
      [run(1), run(2)],
      new Map([[1, queries(50, () => true)], [2, queries(60, () => true)]])
    )
    expect(cmp.differences).toEqual([])
  })

  it('adds the untrained model and the raw features as reference rows, once each', () => {
    const cmp = compareRuns([run(1), run(2)])
    expect(cmp.references.map((r) => [r.kind, r.r1])).toEqual([
      ['raw', 0.45],
      ['untrained', 0.4]
    ])
    expect(cmp.references.every((r) => r.split === 'test')).toBe(true)
  })

  it('groups runs that differ only by seed: mean ± sample sd', () => {
    const cmp = compareRuns([
      run(1, { testMetrics: metrics(0.5, 0.3) }),
      run(2, { testMetrics: metrics(0.7, 0.5) }),
      run(3, { testMetrics: metrics(0.9, 0.1) }, { loss: 'triplet' })
    ])
    expect(cmp.seedGroups).toHaveLength(1)
    const g = cmp.seedGroups[0]
    expect(g.runIds).toEqual([1, 2])
    expect(g.seeds).toEqual([1, 2])
    expect(g.r1.mean).toBeCloseTo(0.6, 12)
    expect(g.r1.sd).toBeCloseTo(Math.SQRT2 * 0.1, 12)
  })
})
