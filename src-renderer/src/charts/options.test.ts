import { describe, expect, it } from 'vitest'
import type { StepRecord } from '../../../src-preload/contract'
import { lossOption, perClassOption, recallKeys, sizeBins, MAX_POINTS } from './options'

type S = { name: string; data: [number, number | null][] }

describe('chart options', () => {
  const steps: StepRecord[] = Array.from({ length: 5000 }, (_, i) => ({
    step: i,
    epoch: 1 + Math.floor(i / 100),
    loss: 2 + (i % 2),
    lds: null,
    ce: null,
    lr: 1e-4
  }))

  it('draws a smoothed and a raw loss curve, skipping absent parts, thinned to MAX_POINTS', () => {
    const opt = lossOption(steps, 0.9) as { series: S[] }
    expect(opt.series.map((s) => s.name)).toEqual(['total loss', 'total loss'])
    expect(opt.series[0].data.length).toBeLessThanOrEqual(MAX_POINTS + 1)
    expect(opt.series[0].data.at(-1)![0]).toBe(4999)
    const raw = lossOption(steps, 0) as { series: S[] }
    expect(raw.series).toHaveLength(1)
  })

  it('sorts recall keys numerically', () => {
    expect(recallKeys([{ metrics: { recall: { '10': 1, '1': 1, '100': 1, '2': 1 } } }])).toEqual([
      '1',
      '2',
      '10',
      '100'
    ])
  })

  it('bins class sizes so that every class is counted once', () => {
    const bins = sizeBins([1, 2, 2, 50, 100], 10)
    expect(bins.reduce((a, b) => a + b.n, 0)).toBe(5)
    expect(bins[0].from).toBe(1)
    expect(bins.at(-1)!.to).toBeGreaterThanOrEqual(100)
  })

  it('orders per-class bars by the change between the first two runs', () => {
    const a = [
      { classId: 1, className: 'same', recallAt1: 0.5, count: 3 },
      { classId: 2, className: 'changed', recallAt1: 0.9, count: 3 }
    ]
    const b = [
      { classId: 1, className: 'same', recallAt1: 0.5, count: 3 },
      { classId: 2, className: 'changed', recallAt1: 0.1, count: 3 }
    ]
    const { option, shown } = perClassOption([
      { name: 'A', rows: a },
      { name: 'B', rows: b }
    ])
    expect(shown).toBe(2)
    // reversed for a horizontal bar chart: the biggest change is drawn at the top (last)
    expect((option as { yAxis: { data: string[] } }).yAxis.data).toEqual(['same', 'changed'])
  })
})

describe('percent axis', () => {
  it('stays within 0–100 % and leaves a margin around the data', async () => {
    const { percentAxis } = await import('./options')
    expect(percentAxis.max({ min: 100, max: 100 })).toBe(100)
    expect(percentAxis.min({ min: 100, max: 100 })).toBe(95)
    expect(percentAxis.min({ min: 0.5, max: 3 })).toBe(0)
    const lo = percentAxis.min({ min: 50, max: 60 })
    const hi = percentAxis.max({ min: 50, max: 60 })
    expect(lo).toBeLessThan(50)
    expect(hi).toBeGreaterThan(60)
    expect(hi).toBeLessThanOrEqual(100)
  })
})
