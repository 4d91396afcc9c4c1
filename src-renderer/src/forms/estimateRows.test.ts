import { describe, expect, it } from 'vitest'
import { estimateRows, type EstimateBreakdown } from './estimateRows'

const e: EstimateBreakdown = {
  startupSec: 3,
  featuresSec: 90,
  featuresCached: false,
  baselineSec: 4,
  trainSec: 20,
  evalSec: 6,
  refitSec: 0,
  totalSec: 123
}

describe('estimate rows', () => {
  it('shows feature extraction in the whole-run figure, and 0 when the features are cached', () => {
    const rows = Object.fromEntries(estimateRows(e, true))
    expect(rows['Backbone features']).toBe('≈ 1 min 30 s')
    expect(rows['Whole run']).toBe('≈ 2 min 03 s')
    const cached = Object.fromEntries(
      estimateRows({ ...e, featuresCached: true, featuresSec: 0 }, true)
    )
    expect(cached['Backbone features']).toBe('cached (0 s)')
  })

  it('leaves out what a run does not do: features when fine-tuning, a refit of 0 s', () => {
    const rows = Object.fromEntries(estimateRows(e, false))
    expect(rows['Backbone features']).toBeUndefined()
    expect(rows['Refit on all classes']).toBeUndefined()
    expect(
      Object.fromEntries(estimateRows({ ...e, refitSec: 40 }, true))['Refit on all classes']
    ).toBe('≤ 40 s')
  })
})
