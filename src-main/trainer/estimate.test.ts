import { describe, expect, it } from 'vitest'
import { estimateRun, keepTiming, median, type MeasuredRates, type RunShape } from './estimate'

const rates: MeasuredRates = {
  startupSec: 3,
  stepSec: 0.4,
  embedSecPerItem: 0.003,
  decodeSecPerImage: 0.002,
  featureSecPerImage: 0.0015,
  selectionMetricsSec: 0.5,
  testMetricsSec: 1.5,
  baselineMetricsSec: 0.6,
  rawMetricsSec: 0
}
const fineTune: RunShape = {
  frozen: false,
  featuresCached: false,
  epochs: 8,
  batchesPerEpoch: 28,
  refitBatchesPerEpoch: 0,
  selectionItems: 600,
  testItems: 1500,
  allItems: 3000,
  workers: 2,
  cores: 2
}

describe('estimateRun', () => {
  it('multiplies the measured loop step by every training batch of every epoch', () => {
    const e = estimateRun(rates, fineTune)
    expect(e.trainSec).toBeCloseTo(8 * 28 * 0.4)
    const slower = estimateRun({ ...rates, stepSec: 0.9 }, fineTune)
    expect(slower.trainSec).toBeCloseTo(8 * 28 * 0.9)
  })

  it('adds up start-up, baseline, training, per-epoch evaluation and the final test', () => {
    const e = estimateRun(rates, fineTune)
    expect(e.evalSec).toBeCloseTo(8 * (600 * 0.003 + 0.5) + (1500 * 0.003 + 1.5))
    expect(e.baselineSec).toBeCloseTo(1500 * 0.003 + 0.6)
    expect(e.featuresSec).toBe(0)
    expect(e.refitSec).toBe(0)
    expect(e.startupSec).toBe(3)
    expect(e.totalSec).toBeCloseTo(3 + e.baselineSec + e.trainSec + e.evalSec)
    expect(e.secondsPerEpoch).toBeCloseTo(28 * 0.4 + 600 * 0.003 + 0.5)
    // The demo at these (idle-machine) rates: about two minutes, as measured.
    expect(e.totalSec).toBeGreaterThan(100)
    expect(e.totalSec).toBeLessThan(130)
  })

  it('counts the refit at the configured epochs over all training classes', () => {
    const e = estimateRun(rates, { ...fineTune, refitBatchesPerEpoch: 46 })
    expect(e.refitSec).toBeCloseTo(8 * 46 * 0.4)
    expect(e.totalSec).toBeCloseTo(
      e.startupSec + e.baselineSec + e.trainSec + e.evalSec + e.refitSec
    )
  })

  it('frozen: features only when not cached, the raw features in the baseline', () => {
    const frozen: RunShape = { ...fineTune, frozen: true, allItems: 1000 }
    const r = {
      ...rates,
      stepSec: 0.01,
      embedSecPerItem: 0.0001,
      featureSecPerImage: 0.04,
      rawMetricsSec: 0.7
    }
    const cached = estimateRun(r, { ...frozen, featuresCached: true })
    expect(cached.featuresSec).toBe(0)
    expect(cached.trainSec).toBeCloseTo(8 * 28 * 0.01)
    expect(cached.baselineSec).toBeCloseTo(1500 * 0.0001 + 0.6 + 0.7)
    const uncached = estimateRun(r, frozen)
    // Two workers on two cores, decode's CPU time included, plus each worker's start-up.
    const perImage = 0.04 + 0.002 * 2
    expect(uncached.featuresSec).toBeCloseTo((1000 * perImage) / (2 * 0.85) + 3)
    expect(uncached.totalSec - cached.totalSec).toBeCloseTo(uncached.featuresSec)
    // One worker (a GPU, or few images): decode then forward in the one process.
    const one = estimateRun(r, { ...frozen, workers: 1 })
    expect(one.featuresSec).toBeCloseTo(1000 * (0.04 + 0.002))
  })
})

describe('probe timing helpers', () => {
  it('takes the median, so a slow first step or a hiccup does not count', () => {
    expect(median([0.6, 0.4, 0.38, 0.41, 1.2])).toBe(0.41)
    expect(median([1, 3])).toBe(2)
    expect(() => median([])).toThrow(/no timings/)
  })

  it('times at least min steps, more while the budget lasts, never more than max', () => {
    const o = { min: 2, max: 4, budgetSec: 1 }
    expect(keepTiming([], o)).toBe(true)
    expect(keepTiming([5], o)).toBe(true)
    expect(keepTiming([5, 5], o)).toBe(false) // slow steps: the minimum only
    expect(keepTiming([0.1, 0.1], o)).toBe(true)
    expect(keepTiming([0.1, 0.1, 0.1, 0.1], o)).toBe(false)
  })
})
