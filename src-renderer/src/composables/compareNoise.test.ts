import { describe, expect, it } from 'vitest'
import type { Comparison } from '../../../src-preload/contract'
import { formatInterval, metricMarks, parseSeeds } from './compareNoise'

function row(runId: number, r1: number, lo: number, hi: number, split: 'test' | 'validation' = 'test') {
  return {
    runId,
    epoch: 1,
    recall: { '1': r1 },
    mapAtR: r1 / 2,
    rPrecision: 0,
    split,
    testFrom: split === 'test' ? ('final' as const) : null,
    seed: 1,
    ci: split === 'test' ? { queries: 393, r1: { lo, hi }, mapAtR: { lo: lo / 2, hi: hi / 2 } } : null
  }
}

function comparison(best: Comparison['best'], differences: Comparison['differences'] = []): Comparison {
  return {
    runIds: best.map((b) => b.runId),
    configRows: [],
    best,
    differences,
    references: [],
    seedGroups: [],
    bootstrap: { resamples: 1000, level: 0.95, seed: 1 }
  }
}

const diff = (a: number, b: number, significant: boolean) => ({
  runA: a,
  runB: b,
  metric: 'r1' as const,
  diff: 0.01,
  lo: significant ? 0.005 : -0.02,
  hi: 0.04,
  significant
})

describe('compare noise marks', () => {
  it('does not bold a 1-point gap inside the paired interval: both runs are a tie', () => {
    const c = comparison([row(1, 0.61, 0.56, 0.66), row(2, 0.6, 0.55, 0.65)], [diff(1, 2, false)])
    const m = metricMarks(c, 'r1')
    expect(m.get(1)).toBe('tie')
    expect(m.get(2)).toBe('tie')
  })

  it('bolds the best only when its gap to every other run is measurable', () => {
    const c = comparison(
      [row(1, 0.7, 0.66, 0.74), row(2, 0.6, 0.55, 0.65), row(3, 0.69, 0.65, 0.73)],
      [diff(1, 2, true), diff(1, 3, false)]
    )
    const m = metricMarks(c, 'r1')
    expect(m.get(1)).toBe('tie')
    expect(m.get(3)).toBe('tie')
    expect(m.get(2)).toBe('none')
    const clear = comparison([row(1, 0.7, 0.66, 0.74), row(2, 0.6, 0.55, 0.65)], [diff(1, 2, true)])
    expect(metricMarks(clear, 'r1').get(1)).toBe('top')
  })

  it('falls back to interval overlap for runs on different test queries', () => {
    const apart = comparison([row(1, 0.8, 0.76, 0.84), row(2, 0.6, 0.55, 0.65)])
    expect(metricMarks(apart, 'r1').get(1)).toBe('top')
    const close = comparison([row(1, 0.62, 0.57, 0.67), row(2, 0.6, 0.55, 0.65)])
    expect(metricMarks(close, 'r1').get(1)).toBe('tie')
  })

  it('never ranks a validation figure among test figures', () => {
    const c = comparison([row(1, 0.6, 0.55, 0.65), row(2, 0.95, 0, 0, 'validation')])
    const m = metricMarks(c, 'r1')
    expect(m.get(2)).toBe('none')
    expect(m.get(1)).toBe('none') // one test row: nothing to compare
  })

  it('formats intervals and parses seed lists', () => {
    expect(formatInterval({ lo: 0.5551, hi: 0.6049 })).toBe('55.5–60.5')
    expect(formatInterval(null)).toBe('')
    expect(parseSeeds('2, 3 4,3')).toEqual([2, 3, 4])
    expect(() => parseSeeds('2, x')).toThrow(/"x" is not a whole number/)
    expect(() => parseSeeds(' ')).toThrow(/one or more seeds/)
  })
})
